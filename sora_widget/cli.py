"""`sora-widget` command line: one subcommand per job, each in the module that owns it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from .emulator import cli as emulator_cli

    parser = argparse.ArgumentParser(prog="sora-widget", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    emulator_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
