"""HTTP Range requests on a file of known size: one `bytes=` range, as resumable
downloads use. Anything else we do not serve partially is answered whole, as RFC 9110
allows a server to ignore a Range header it does not support."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """The range lies outside the file: answer 416 with `bytes */SIZE`."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a file of {size} bytes")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    #: inclusive, as in the header
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range asked for, clamped to the file; None means "send it all"."""
    if header is None:
        return None
    match = _SPEC.match(header)
    if match is None:
        return None  # several ranges, other units, or garbage: ignore the header
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # "bytes=-N": the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # an invalid range-spec makes the whole header ignorable
    if start >= size:
        raise Unsatisfiable(size)
    return ByteRange(start, min(end, size - 1))
