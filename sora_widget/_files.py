"""Small file helpers every layer shares (the emulator included): they import nothing
of ours.

Files named by a notebook or a folder someone sent us are untrusted: a record's path
may climb out of the project (`../../etc/passwd`), name a device (`/dev/zero`) or a
FIFO (whose open never returns), or a planted symlink may stand where we write. So
reads of such files open regular files only (never blocking on a FIFO, bounded in
size), paths are checked to lie inside the folders they may come from, and writes
replace a file through a temporary file of our own — never through a symlink.

Every file a record names (its clip, read, hashed, streamed, uploaded, returned or
linked) goes through one rule, `open_record_file` (`record_path` is its first half, by
the text alone): see its docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

CHUNK = 1 << 20
#: the largest clip a record may name that is read, hashed or sent (Sora's clips are tens
#: of megabytes; a film of many of them, hundreds)
MAX_CLIP_BYTES = 4 * 1024 * 1024 * 1024


class FileRefused(OSError):
    """A file we will not read or write as asked: not a regular file, a symlink where we
    write, outside the folders it may come from, or larger than the limit. Its message
    says which (an OSError, so callers that report unreadable files report it too)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{os.fspath(path)} {reason}")
        self.path = os.fspath(path)  # not `filename`: OSError's str() would then hide the reason
        self.reason = reason


class RecordFileMissing(FileRefused):
    """A file a record names is not there (nor is a folder on its way)."""


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


# -- the files a record names ------------------------------------------------------------------

#: why a file a record names is refused when it lies outside the folders it may be read from
OUTSIDE = "is outside the notebook's folder and the output dir; not read"
_DRIVE = re.compile(r"^[A-Za-z]:")


def path_text_problem(text: str) -> str | None:
    r"""Why `text` is not a relative path below its folder, by its text alone, the same on
    every system and before anything touches the filesystem; None when it is one.

    Refused: an empty path, a control character, `..` anywhere (it climbs out), an
    absolute path, a UNC or device path (`\\host\share`, `//host`, `\\?\`: on Windows
    merely resolving one opens an SMB connection that sends your password hash) and a
    drive (`C:\x`, `C:x`). A backslash counts as a separator, as on Windows and in
    browsers."""
    unsafe = _unsafe_text(text)
    if unsafe is not None:
        return unsafe
    if text != text.strip():  # browsers trim a link's spaces: "  //host" would name a host
        return "begins or ends with a space; not read"
    unified = text.replace("\\", "/")
    if unified.startswith("//"):
        return "names another machine (a UNC path); not read"
    if _DRIVE.match(text):
        return "names a drive; not read"
    if unified.startswith("/"):
        return "is absolute; not read"
    return None


def _unsafe_text(text: str) -> str | None:
    """What no path a record names may be, relative or absolute."""
    if not text:
        return "is empty"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "holds a control character; not read"
    if ".." in text.replace("\\", "/").split("/"):
        return "climbs out of its folder (..); not read"
    return None


def record_path(text: str, *, base: Path, roots: Sequence[Path]) -> tuple[Path, Path]:
    r"""(the root it lies in, the path) of the file a record names as `text`, decided by
    its text alone (no filesystem call), else `FileRefused`.

    A relative path (`path_text_problem`) is taken from `base`. An absolute one — a
    record of your own whose output dir lies outside the notebook's folder — only when
    it is absolute on this system and its text already lies inside one of the roots:
    `\\host\share\x.mp4` or `/etc/hostname` are refused before anything resolves,
    opens or even looks at them. Either way it must lie inside one of `roots` (resolved
    folders: the notebook's, the output dir); the deepest that holds it is returned."""
    problem = _unsafe_text(text)
    if problem is not None:
        raise FileRefused(text, problem)
    native = PurePath(text)
    if native.is_absolute():
        path = Path(os.path.normpath(native))
    else:
        problem = path_text_problem(text)
        if problem is not None:
            raise FileRefused(text, problem)
        path = Path(os.path.normpath(base / PurePath(text.replace("\\", "/"))))
    inside = [root for root in roots if path.is_relative_to(root) and path != root]
    if not inside:
        raise FileRefused(text, OUTSIDE)
    return max(inside, key=lambda root: len(root.parts)), path


@dataclass
class RecordFile:
    """A file a record names, open for reading (`file`), checked by `open_record_file`.
    Close it, or use it as a context manager."""

    path: Path
    size: int
    file: BinaryIO

    def __enter__(self) -> RecordFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.file.close()

    def sha256(self) -> str:
        """The hex digest of its bytes (at most `size` of them are read)."""
        digest = hashlib.sha256()
        left = self.size
        while left > 0 and (chunk := self.file.read(min(CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
        return digest.hexdigest()


def open_record_file(text: str, *, base: Path, roots: Sequence[Path], max_bytes: int) -> RecordFile:
    """The one rule for every file a record names (it may come from someone else):

    1. its text: relative (to `base`: the notebook's folder, or the kernel's) or absolute,
       never `..`, a UNC path or a drive, and inside one of `roots` (`record_path`) —
       decided before any filesystem call;
    2. opened from that root down, one component at a time, never following a symlink
       (`O_NOFOLLOW` on every component below the root; the roots themselves are yours,
       resolved);
    3. a regular file — looked at before it is opened, so a FIFO is never opened (its
       open would block) and a device never touched — of at most `max_bytes`.

    Returns it open; else `FileRefused` (`RecordFileMissing` when it is not there), whose
    `reason` says why, fit to follow the path in a message. Blocking: from a coroutine,
    use `aopen_record_file`."""
    root, path = record_path(text, base=base, roots=roots)
    below = path.relative_to(root).parts
    if os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW"):
        fd = _open_below(text, root, below)
    else:  # Windows: no dir_fd; each component is looked at first
        fd = _open_checking_each(text, root, below)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise FileRefused(text, f"is larger than {max_bytes} bytes; not read")
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return RecordFile(path, size, file)


def check_record_file(text: str, *, base: Path, roots: Sequence[Path], max_bytes: int) -> Path:
    """`open_record_file`, closed again: the checked path (for what opens it by name,
    such as PyAV, or a link to it)."""
    with open_record_file(text, base=base, roots=roots, max_bytes=max_bytes) as found:
        return found.path


async def aopen_record_file(text: str, *, base: Path, roots: Sequence[Path], max_bytes: int) -> RecordFile:
    """`open_record_file` off the event loop (a slow disk or network share never stalls
    it). Reading the file is blocking too: do it with `asyncio.to_thread` as well."""
    return await asyncio.to_thread(open_record_file, text, base=base, roots=roots, max_bytes=max_bytes)


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK


def _open_below(text: str, root: Path, below: tuple[str, ...]) -> int:
    """Open root/below… with each component looked at, then opened, relative to its
    folder's descriptor and without following a symlink."""
    try:
        folder = os.open(root, _DIR_FLAGS)
    except OSError as error:
        raise _refusal(text, error, root.name) from error
    try:
        for index, name in enumerate(below):
            last = index == len(below) - 1
            try:
                info = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except OSError as error:
                raise _refusal(text, error, name) from error
            _refuse_kind(text, info.st_mode, name, last=last)
            flags = (_FILE_FLAGS if last else _DIR_FLAGS) | os.O_NOFOLLOW
            try:
                fd = os.open(name, flags, dir_fd=folder)
            except OSError as error:
                raise _refusal(text, error, name) from error
            os.close(folder)
            folder = fd
            if last and not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced meanwhile
                raise FileRefused(text, "is not a regular file; not read")
        return folder
    except BaseException:
        os.close(folder)
        raise


def _open_checking_each(text: str, root: Path, below: tuple[str, ...]) -> int:
    path = root
    for index, name in enumerate(below):
        path = path / name
        try:
            info = os.lstat(path)
        except OSError as error:
            raise _refusal(text, error, name) from error
        _refuse_kind(text, info.st_mode, name, last=index == len(below) - 1)
    return open_regular(path, follow_symlinks=False)


def _refuse_kind(text: str, mode: int, name: str, *, last: bool) -> None:
    if stat.S_ISLNK(mode):
        raise FileRefused(
            text, "is a symlink; not followed" if last else f"passes through a symlink ({name}); not followed"
        )
    if last and not stat.S_ISREG(mode):
        raise FileRefused(text, "is not a regular file; not read")
    if not last and not stat.S_ISDIR(mode):
        raise RecordFileMissing(text, "is missing")


def _refusal(text: str, error: OSError, name: str) -> FileRefused:
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return RecordFileMissing(text, "is missing")
    if error.errno == errno.ELOOP:
        return FileRefused(text, f"passes through a symlink ({name}); not followed")
    return FileRefused(text, f"cannot be read ({error.strerror or type(error).__name__})")


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
