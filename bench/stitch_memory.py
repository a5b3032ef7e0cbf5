"""Peak memory growth while stitching two 12 s 1792x1024 clips (sora-2-pro's size, 30 fps,
with sound, laid out as Sora's files are) with a 0.5 s crossfade: our streamed re-encode
against the one-list approach it replaced (every decoded frame of a clip in a Python
list, reimplemented here only as the comparison), plus the streamed copy of the same
clips without a crossfade.

Each contender runs in a fresh process that has imported PyAV and numpy, so its peak
resident size (`VmHWM`; not `ru_maxrss`, which a spawned child inherits from the parent's
peak) minus its resident size before the stitch is the stitch's own growth.
Goal: under 300 MB for ours.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from .common import Row

CLIP_S = 12
SIZE = "1792x1024"
FPS = 30
CROSSFADE = 0.5
GOAL = "< 300 MB"


def make_clips(folder: Path) -> list[Path]:
    """Two clips from the emulator's renderer, as Sora 2 Pro writes them (sound, 30 fps,
    B-frames, moov at the end)."""
    from sora_widget.emulator.render import EncoderSettings, render_video
    from sora_widget.emulator.scene import Reference
    from sora_widget.params import GenerationParams

    clips = []
    for number, prompt in enumerate(("a paper boat on a rainy street", "a red kite over the dunes")):
        path = folder / f"clip{number}.mp4"
        params = GenerationParams(prompt, duration=CLIP_S, size=SIZE)
        render_video(params, Reference(), path, encoder=EncoderSettings(fps=FPS, layout="camera"))
        clips.append(path)
    return clips


def run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = make_clips(folder)
        what = f"peak RSS growth, 2 × {CLIP_S} s {SIZE} + {CROSSFADE} s crossfade"
        for contender, label, goal in (
            ("streamed", "sora-widget (streamed re-encode)", GOAL),
            ("one-list", "one list of frames per clip (before)", ""),
        ):
            growth, seconds = _measure(contender, clips, folder / f"{contender}.mp4", CROSSFADE)
            rows.append(Row("stitch", label, what, growth, "MB", goal, {"seconds": seconds}))
        growth, seconds = _measure("streamed", clips, folder / "copy.mp4", 0.0)
        rows.append(
            Row(
                "stitch",
                "sora-widget (streamed copy)",
                f"peak RSS growth, 2 × {CLIP_S} s {SIZE}, no crossfade",
                growth,
                "MB",
                GOAL,
                {"seconds": seconds},
            )
        )
    return rows


def _measure(contender: str, clips: list[Path], dest: Path, crossfade: float) -> tuple[float, float]:
    command = [sys.executable, "-m", "bench.stitch_memory", "--one", contender, "--crossfade", str(crossfade)]
    done = subprocess.run(
        [*command, str(dest), *map(str, clips)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["growth_mb"]), float(result["seconds"])


def _one(contender: str, dest: Path, clips: list[Path], crossfade: float) -> dict[str, float]:
    import av  # noqa: F401  (loaded before the baseline: libraries are not the stitch's growth)
    import numpy  # noqa: F401
    import psutil

    from sora_widget import _film, video  # noqa: F401

    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    if contender == "streamed":
        video.stitch(clips, dest, crossfade=crossfade)
    else:
        _one_list(clips, dest, crossfade)
    seconds = time.perf_counter() - started
    peak = _peak_rss()
    return {"growth_mb": (peak - baseline) / 1e6, "seconds": round(seconds, 2)}


def _peak_rss() -> int:
    """This process's peak resident size in bytes."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def _one_list(paths: list[Path], dest: Path, crossfade: float) -> None:
    """The re-encode as it was: each clip's frames decoded into one list, pictures only."""
    import av
    import numpy as np

    with av.open(os.fspath(paths[0])) as first:
        source: Any = first.streams.video[0]
        width, height = source.codec_context.width, source.codec_context.height
        rate = source.average_rate or Fraction(24)
    fade_frames = max(0, round(crossfade * float(rate)))
    with av.open(os.fspath(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream: Any = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        tail: list[Any] = []
        index = 0

        def emit(image: Any) -> None:
            nonlocal index
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            index += 1
            for packet in stream.encode(frame):
                out.mux(packet)

        for number, path in enumerate(paths):
            with av.open(os.fspath(path)) as container:
                frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
            if number > 0 and tail:
                overlap = min(len(tail), len(frames))
                for k in range(overlap):
                    weight = (k + 1) / (overlap + 1)
                    emit((tail[k] * (1 - weight) + frames[k] * weight).astype(np.uint8))
                frames = frames[overlap:]
            keep = fade_frames if number < len(paths) - 1 else 0
            body, tail = (frames[:-keep], frames[-keep:]) if keep and len(frames) > keep else (frames, [])
            for image in body:
                emit(image)
        for image in tail:
            emit(image)
        for packet in stream.encode(None):
            out.mux(packet)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", choices=("streamed", "one-list"))
    parser.add_argument("--crossfade", type=float, default=CROSSFADE)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.one:
        dest, *clips = (Path(p) for p in args.paths)
        print(json.dumps(_one(args.one, dest, clips, args.crossfade)))
    else:
        from .common import print_table

        print_table(run())
