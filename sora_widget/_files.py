"""Small file helpers every layer shares (the emulator included): they import nothing
of ours.

Files named by a notebook or a folder someone sent us are untrusted: a record's path
may climb out of the project (`../../etc/passwd`), name a device (`/dev/zero`) or a
FIFO (whose open never returns), or a planted symlink may stand where we write. So
reads of such files open regular files only (never blocking on a FIFO, bounded in
size), paths are checked to lie inside the folders they may come from, and writes
replace a file through a temporary file of our own — never through a symlink.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1 << 20


class FileRefused(OSError):
    """A file we will not read or write as asked: not a regular file, a symlink where we
    write, outside the folders it may come from, or larger than the limit. Its message
    says which (an OSError, so callers that report unreadable files report it too)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{os.fspath(path)} {reason}")
        self.path = os.fspath(path)  # not `filename`: OSError's str() would then hide the reason
        self.reason = reason


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def open_regular(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> int:
    """A read-only descriptor of `path` if it is a regular file; else `FileRefused`.

    Opened non-blocking, so a FIFO cannot hang us before we see what it is; with
    `follow_symlinks=False` a symlink in the last component is refused too."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if not follow_symlinks and os.path.islink(path):
            raise FileRefused(path, "is a symlink; it is not followed") from error
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, "is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (`FileRefused` otherwise)."""
    fd = open_regular(path, follow_symlinks=follow_symlinks)
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(path, f"is larger than {limit} bytes")
    return data


def sha256_bounded(path: str | os.PathLike[str], limit: int) -> tuple[str, int]:
    """`file_sha256` of a regular file, reading at most `limit` bytes (`FileRefused` for
    anything else, or for a larger file); a symlink in the last component is refused."""
    fd = open_regular(path, follow_symlinks=False)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "rb") as file:
        while chunk := file.read(min(CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                raise FileRefused(path, f"is larger than {limit} bytes")
            digest.update(chunk)
    return digest.hexdigest(), size


def contained(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]) -> Path | None:
    """`path`, resolved (symlinks followed, `..` gone), if it lies inside one of `roots`
    (each resolved too); None when it lies outside all of them."""
    resolved = Path(path).resolve()
    for root in roots:
        if resolved.is_relative_to(Path(root).resolve()):
            return resolved
    return None


def write_replacing(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the regular file at `path` with `data`, atomically, keeping its mode.

    Written to a temporary file of our own made in the same folder (created exclusively,
    so a planted name cannot redirect it), synced, then renamed over `path`. A symlink
    (or anything but a regular file) at `path` is refused: it is never written through,
    and never silently replaced by a file either."""
    target = Path(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    else:
        if stat.S_ISLNK(info.st_mode):
            raise FileRefused(target, "is a symlink; it is not written through")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(target, "is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fchmod(file.fileno(), mode)
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Why files cannot be created in `folder` (or in the nearest folder above it that
    exists, where it would be created), or None when they can."""
    path = Path(folder).expanduser().absolute()
    probe = path
    while not probe.exists():
        if probe.is_symlink():
            return f"{probe} is a dangling symlink"
        if probe.parent == probe:
            return f"{path} cannot be created"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    try:
        # root ignores permission bits: ask the filesystem itself (read-only mounts, /proc)
        fd, temp = tempfile.mkstemp(dir=probe, prefix=".sora-widget-probe-")
    except OSError as error:
        return f"{probe} is not writable ({error.strerror or error})"
    os.close(fd)
    os.unlink(temp)
    return None


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for a moment, for
    every thread); 0o022 where the system does not say."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022
