"""The generation record (schema v1): what produced a clip, what became of it, and how a
notebook shows it. `_model` holds the record, `view` its record output, `schema` the
facts both share."""

from ._model import Generation, format_time, merge, new_id, parse_time, utcnow
from .schema import (
    MIMETYPE,
    SCHEMA_FILE,
    SCHEMA_VERSION,
    STATUSES,
    TERMINAL_STATUSES,
    RecordStatus,
)
from .view import record_bundle, record_html, record_text, relative_link, reproduce_code

__all__ = [
    "MIMETYPE",
    "SCHEMA_FILE",
    "SCHEMA_VERSION",
    "STATUSES",
    "TERMINAL_STATUSES",
    "Generation",
    "RecordStatus",
    "format_time",
    "merge",
    "new_id",
    "parse_time",
    "record_bundle",
    "record_html",
    "record_text",
    "relative_link",
    "reproduce_code",
    "utcnow",
]
