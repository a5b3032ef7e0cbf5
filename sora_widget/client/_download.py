"""Saving a finished video: streamed, checksummed, resumed after a break, checked to be a
video, renamed atomically.

Results expire an hour after completion, so the clip must reach the disk intact the
first time. Memory stays at one chunk whatever the file size; a broken transfer
continues with a Range request; the file appears under its final name only once it
is complete, its length checked against what the server announced and its content
checked to be an MP4 with a video track (an error page or junk is never recorded as the
clip). Redirects are followed here, hop by hop, the key decided afresh for each origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from .. import video
from ..errors import DownloadError
from ..ledger import pid_alive
from ._errors import error_from_response, error_from_transport
from ._policy import decide_retry, parse_retry_after
from ._requests import Requester, classify

CHUNK_SIZE = 1 << 20
MAX_REDIRECTS = 5
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


@dataclass(frozen=True)
class SavedFile:
    path: Path
    sha256: str
    bytes: int
    seconds: float
    attempts: int
    synthetic: bool
    #: what the file is (`video.facts`): read once, to refuse a file that is no video
    facts: dict[str, Any]


class _Broken(Exception):
    """The transfer stopped short; resume it."""


async def download(
    requester: Requester,
    url: str,
    dest: Path,
    *,
    request_id: str | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SavedFile:
    """Stream `url` into `dest` (created atomically); retry and resume per the retry policy.
    Failing to write it (a full disk) is a `DownloadError` saying so."""
    try:
        return await _download(requester, url, dest, request_id=request_id, chunk_size=chunk_size)
    except OSError as exc:  # the network's errors arrive as httpx's: this is our own disk
        raise _disk_error(exc, dest, request_id) from exc


async def _download(
    requester: Requester, url: str, dest: Path, *, request_id: str | None, chunk_size: int
) -> SavedFile:
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A temp file of our own, created exclusively (never through a planted symlink; two
    # downloads of one clip — two runs of a batch — never share it), renamed into place.
    # Its name carries our pid, so a partial left by a process that died can be told apart.
    fd, temp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.{os.getpid()}-", suffix=".part")
    part = Path(temp)
    clock = requester.clock
    start = clock.now()
    hasher = hashlib.sha256()
    received = 0
    etag: str | None = None
    synthetic = False
    attempt = 0
    during = "downloading the video"
    # Plain file writes: a 1 MiB write to the page cache costs less than a thread hop.
    with os.fdopen(fd, "wb") as sink:
        try:
            while True:
                attempt += 1
                try:
                    stream = _open_stream(requester, url, received, etag)
                    async with requester.download_slot(), stream as response:
                        if response.status_code not in (200, 206):
                            retry_after = parse_retry_after(response.headers.get("retry-after"))
                            decision = decide_retry(
                                requester.retry,
                                "read",
                                response.status_code,
                                attempt=attempt,
                                elapsed=clock.now() - start,
                                retry_after=retry_after,
                                jitter=clock.random(),
                            )
                            if not decision.retry:
                                await response.aread()
                                raise error_from_response(
                                    requester.scrub(response),
                                    during=during,
                                    request_id=request_id,
                                    attempts=attempt,
                                )
                            await clock.sleep(decision.delay)
                            continue
                        _check_is_video(response, request_id)
                        synthetic = synthetic or "x-sora-emulator" in response.headers
                        etag = response.headers.get("etag") or etag
                        total = _expected_total(response, received)
                        if response.status_code == 200 and received:
                            # The server ignored our Range: start over from byte 0.
                            sink.seek(0)
                            sink.truncate()
                            hasher = hashlib.sha256()
                            received = 0
                        async for chunk in response.aiter_bytes(chunk_size):
                            sink.write(chunk)
                            hasher.update(chunk)
                            received += len(chunk)
                        if total is not None and received != total:
                            raise _Broken(f"received {received} of {total} bytes")
                        if total is None and received == 0:
                            raise _Broken("empty response")
                        break
                except (httpx.HTTPError, _Broken) as exc:
                    outcome = classify(exc) if isinstance(exc, httpx.HTTPError) else "transport"
                    if outcome is None:
                        raise _transport_error(exc, url, request_id, attempt) from exc
                    decision = decide_retry(
                        requester.retry,
                        "read",
                        outcome,
                        attempt=attempt,
                        elapsed=clock.now() - start,
                        jitter=clock.random(),
                    )
                    if not decision.retry:
                        raise _transport_error(exc, url, request_id, attempt) from exc
                    await clock.sleep(decision.delay)
            await asyncio.to_thread(_flush_and_sync, sink)
            facts = await asyncio.to_thread(video.facts, part)
            if facts is None:
                raise _not_a_video(received, request_id)
        except BaseException:
            _discard(sink, part)
            raise
    os.replace(part, dest)
    # a directory listing: off the (kernel's) loop, which a folder of many clips would stall
    await asyncio.to_thread(_sweep_orphans, dest)
    return SavedFile(
        path=dest,
        sha256=hasher.hexdigest(),
        bytes=received,
        seconds=round(clock.now() - start, 3),
        attempts=attempt,
        synthetic=synthetic,
        facts=facts,
    )


class _open_stream:
    """GET with our own redirect handling, so the key is re-decided at every hop."""

    def __init__(self, requester: Requester, url: str, offset: int, etag: str | None) -> None:
        self.requester = requester
        self.url = url
        self.offset = offset
        self.etag = etag
        self.response: httpx.Response | None = None

    async def __aenter__(self) -> httpx.Response:
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            headers = self.requester.headers_for(url)
            if self.offset:
                headers["range"] = f"bytes={self.offset}-"
                if self.etag:
                    headers["if-range"] = self.etag
            self.requester.sent["download"] = self.requester.sent.get("download", 0) + 1
            request = self.requester.download_http.build_request("GET", url, headers=headers)
            # never httpx's redirects (it would carry x-api-key across origins): ours, above
            response = await self.requester.download_http.send(request, stream=True, follow_redirects=False)
            if response.is_redirect and "location" in response.headers:
                await response.aclose()
                url = str(response.url.join(response.headers["location"]))
                continue
            self.response = response
            return response
        raise DownloadError(f"more than {MAX_REDIRECTS} redirects while downloading the video")

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            await self.response.aclose()


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if not match or int(match.group(1)) != offset:
            raise _Broken("the server answered a different range than asked")
        return None if match.group(3) == "*" else int(match.group(3)) - offset
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


def _check_is_video(response: httpx.Response, request_id: str | None) -> None:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith("text/") or kind in ("application/json", "application/xml"):
        raise DownloadError(
            f"expected a video but the output URL answered with {kind}",
            request_id=request_id,
            http_status=response.status_code,
        )


def _not_a_video(received: int, request_id: str | None) -> DownloadError:
    """What the output URL served is not an MP4 with a video track (an error page served
    as a video, a truncated or junk file): it is not saved, and not recorded as the clip."""
    error = DownloadError(
        f"the output URL did not serve an MP4 video ({received} bytes without a readable video track)",
        request_id=request_id,
    )
    error.hint = (
        "Nothing was saved. Download it again within the hour (sw.resume()); if it fails the same "
        "way, the server is not serving the clip."
    )
    return error


def _transport_error(exc: Exception, url: str, request_id: str | None, attempts: int) -> Exception:
    if isinstance(exc, httpx.HTTPError):
        return error_from_transport(
            exc, during="downloading the video", url=url, request_id=request_id, attempts=attempts
        )
    return DownloadError(
        f"the video transfer kept breaking ({exc}), after {attempts} attempts", request_id=request_id
    )


def _sweep_orphans(dest: Path) -> None:
    """Remove partial files of `dest` left by processes that died mid-download (a killed
    kernel): the clip is saved now, so they only take space. A partial whose process lives —
    another notebook on this folder downloading the same clip — is left alone."""
    prefix = f".{dest.name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest.parent):
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(".part")):
                continue
            pid_text = name[len(prefix) :].partition("-")[0]
            if not pid_text.isdigit() or int(pid_text) == os.getpid() or pid_alive(int(pid_text)):
                continue
            if entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _discard(sink: IO[bytes], part: Path) -> None:
    """Remove the partial file, which also gives back the space it took."""
    with contextlib.suppress(OSError):
        sink.close()  # flushes what is buffered: fails again on a full disk
    part.unlink(missing_ok=True)


def _disk_error(exc: OSError, dest: Path, request_id: str | None) -> DownloadError:
    """Writing the clip failed on our side (a full disk, a quota, a read-only folder): say
    so plainly. The job is finished on the server and the download can be repeated."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = f"no space for the file ({reason})"
    else:
        what = f"the file could not be written ({reason})"
    error = DownloadError(f"could not save the video to {dest.parent}: {what}", request_id=request_id)
    error.detail = f"errno {exc.errno}: {reason}"
    error.hint = (
        "Free some space (or choose another output dir), then download it again within the hour: "
        "sw.resume() or the same call again. The job is finished and paid for; the ledger keeps it."
    )
    return error


def _flush_and_sync(sink: IO[bytes]) -> None:
    sink.flush()
    os.fsync(sink.fileno())
