"""`wildmatte` command line: one sub-command per module in wildmatte.interfaces.commands."""

from __future__ import annotations

import argparse
import importlib
import sys

from wildmatte.errors import WildmatteError

# Each module defines `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
COMMANDS = ("predict", "train", "bench", "data", "export", "serve", "video", "panoptic")


def version_text() -> str:
    """wildmatte's version and the bundled default weights' release fields."""
    from wildmatte import __version__
    from wildmatte.inference.engines import DEFAULT_WEIGHTS
    from wildmatte.model import weights_info

    if not DEFAULT_WEIGHTS.is_file():
        return f"wildmatte {__version__} (no bundled weights)"
    info = weights_info(DEFAULT_WEIGHTS)
    fields = ", ".join(f"{k} {info[k]}" for k in ("sha256", "recipe", "licence") if k in info)
    return f"wildmatte {__version__}\ndefault weights: {info.get('tag', '?')} ({fields})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wildmatte",
        description="Mask-guided matting in the wild.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # --version keeps its two lines
    )
    parser.add_argument("--version", action="version", version=version_text())
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
