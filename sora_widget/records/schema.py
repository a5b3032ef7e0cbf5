"""Facts of the record schema that every reader and writer of records shares."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

SCHEMA_VERSION = 1
#: the record's JSON Schema, shipped in the package for anyone reading saved notebooks
SCHEMA_FILE = Path(__file__).parent / f"generation-v{SCHEMA_VERSION}.schema.json"

#: what the server reports, plus local states: SUBMITTING (before the request id is
#: known), UNKNOWN (the submit may or may not have been accepted), EXPIRED (the server
#: forgot a request id before we saved its result) and NOT_SUBMITTED (a submit whose
#: answer was lost, which the account's request history certainly does not hold: nothing
#: was billed, and it may be submitted again).
RecordStatus = Literal[
    "SUBMITTING",
    "QUEUED",
    "PROCESSING",
    "COMPLETED",
    "FAILED",
    "UNKNOWN",
    "EXPIRED",
    "NOT_SUBMITTED",
]
#: the one list of a record's statuses (the view's Status and the JSON schema are made from it)
STATUSES: tuple[str, ...] = get_args(RecordStatus)
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "EXPIRED", "NOT_SUBMITTED"})

#: the mimetype of a record output in a notebook
MIMETYPE = "application/vnd.sora-widget.generation+json"
