"""`make demo`: generate one clip end to end, on the real API when SEGMIND_API_KEY is
set, otherwise on the embedded emulator (offline, free, synthetic)."""

from __future__ import annotations

import os
import sys

from . import cli

PROMPT = "A paper boat drifting down a rainy city street at dusk, reflections on wet asphalt"


def main() -> int:
    args = ["generate", "-d", "4", "-s", "landscape", PROMPT]
    if not os.environ.get("SEGMIND_API_KEY"):
        print("SEGMIND_API_KEY is not set: using the embedded emulator (synthetic clips, no cost).")
        args.insert(1, "--emulator")
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
