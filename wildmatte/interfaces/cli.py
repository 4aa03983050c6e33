"""`wildmatte` command line: one sub-command per module in wildmatte.interfaces.commands."""

from __future__ import annotations

import argparse
import importlib
import sys

from wildmatte.errors import WildmatteError

# Each module defines `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
COMMANDS = ("predict", "train", "bench", "data", "export", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wildmatte", description="Mask-guided matting in the wild."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"wildmatte.interfaces.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WildmatteError as err:
        print(f"wildmatte: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wildmatte: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
