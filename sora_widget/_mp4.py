"""Facts about an MP4 file (size, duration, codec, frame rate) read from its boxes.

A pure-Python reader of the few ISO-BMFF boxes we need, so that records can state
what a saved clip is without a media library. Only the `moov` box is read into memory.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def video_facts(path: str | Path) -> dict[str, Any] | None:
    """{width, height, duration_s, codec, fps, frames, faststart} of the first video track,
    or None when the file is not an MP4 we can read."""
    try:
        with open(path, "rb") as f:
            moov, moov_first = _find_moov(f)
    except OSError:
        return None
    if moov is None:
        return None
    for trak in _children(moov, b"trak"):
        facts = _video_track(trak)
        if facts is not None:
            facts["faststart"] = moov_first
            return facts
    return None


def _find_moov(f: BinaryIO) -> tuple[bytes | None, bool]:
    """The moov payload, and whether it comes before the media data (`mdat`)."""
    seen_mdat = False
    while True:
        header = f.read(8)
        if len(header) < 8:
            return None, False
        size, kind = struct.unpack(">I4s", header)
        offset = 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            offset = 16
        elif size == 0:  # box runs to the end of the file
            size = -1
        if kind == b"moov":
            payload = f.read(size - offset) if size > 0 else f.read()
            return payload, not seen_mdat
        if kind == b"mdat":
            seen_mdat = True
        if size < 0 or size < offset:
            return None, False
        f.seek(size - offset, 1)


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    boxes = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            break
        boxes.append((kind, data[pos + header : pos + size]))
        pos += size
    return boxes


def _children(data: bytes, kind: bytes) -> list[bytes]:
    return [payload for k, payload in _boxes(data) if k == kind]


def _child(data: bytes, *path: bytes) -> bytes | None:
    for kind in path:
        found = _children(data, kind)
        if not found:
            return None
        data = found[0]
    return data


def _video_track(trak: bytes) -> dict[str, Any] | None:
    hdlr = _child(trak, b"mdia", b"hdlr")
    if hdlr is None or hdlr[8:12] != b"vide":
        return None
    tkhd = _child(trak, b"tkhd")
    mdhd = _child(trak, b"mdia", b"mdhd")
    stbl = _child(trak, b"mdia", b"minf", b"stbl")
    if tkhd is None or mdhd is None or stbl is None:
        return None
    # tkhd: width and height are 16.16 fixed point in its last 8 bytes
    width, height = (v >> 16 for v in struct.unpack(">II", tkhd[-8:]))
    if mdhd[0] == 1:
        timescale, duration = struct.unpack(">IQ", mdhd[20:32])
    else:
        timescale, duration = struct.unpack(">II", mdhd[12:20])
    stsd = _child(stbl, b"stsd")
    codec = stsd[12:16].decode("latin-1") if stsd is not None and len(stsd) >= 16 else "unknown"
    frames = 0
    stts = _child(stbl, b"stts")
    if stts is not None:
        (entries,) = struct.unpack(">I", stts[4:8])
        for i in range(entries):
            count, _delta = struct.unpack(">II", stts[8 + 8 * i : 16 + 8 * i])
            frames += count
    duration_s = duration / timescale if timescale else 0.0
    return {
        "width": int(width),
        "height": int(height),
        "duration_s": round(duration_s, 3),
        "codec": {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc"}.get(codec, codec),
        "frames": frames,
        "fps": round(frames / duration_s, 3) if duration_s else None,
    }
