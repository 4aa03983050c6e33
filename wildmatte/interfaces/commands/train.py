"""`wildmatte train` (placeholder until implemented)."""

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="not implemented yet")
    p.set_defaults(func=lambda args: print("not implemented yet") or 1)
