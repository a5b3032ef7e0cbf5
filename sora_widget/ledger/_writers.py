"""Who wrote a row: a process, named so that another process can tell whether it is
still alive. A row left SUBMITTING by a process that is gone was cut off mid-POST (its
outcome is UNKNOWN); one whose process lives may still get its answer.

A writer is `host:pid:start`, where `start` is the process's start time (so a reused pid
is not mistaken for the original process).
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache

#: ids of the generations whose submit this process has under way (the client adds and
#: removes them around each POST)
SUBMITS_UNDER_WAY: set[str] = set()


def this_writer() -> str:
    return _writer(os.getpid())


@lru_cache(maxsize=4)
def _writer(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else "" (unknown)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat(5), counted after the command's ")"
    except (OSError, IndexError):
        return ""


def submit_may_still_answer(writer: str | None, generation_id: str) -> bool:
    """Could the submit of `generation_id`, written by `writer`, still get its answer?
    True while its process lives (on another host: we cannot tell, so yes)."""
    if not writer:
        return False
    host, _, rest = writer.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return generation_id in SUBMITS_UNDER_WAY
    if start and _start_time(pid) != start:
        return False  # that process is gone (its pid may have been reused)
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process of this id runs on this machine (whoever's it is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    except (OverflowError, ValueError):
        return False
    return True
