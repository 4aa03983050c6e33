"""`wildmatte data build-weak --fg DIR --bg DIR --out DIR [--n N] [--seed K] [--split train]`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build training data")
    tasks = p.add_subparsers(dest="task", required=True)
    weak = tasks.add_parser(
        "build-weak",
        help="a COCO-format weak-supervision set (stage 2) from cutouts and backgrounds",
        description="Blend cutouts into backgrounds with non-linear blends (Poisson cloning, "
        "multi-band, linear light) and write their polygons as COCO instances. With COCO "
        "train2017 at hand, point selftrain.data at it instead.",
    )
    weak.add_argument("--fg", required=True, help="folder of RGBA cutouts ({data} allowed)")
    weak.add_argument("--bg", required=True, help="folder of background images")
    weak.add_argument("--out", required=True, type=Path, help="output folder")
    weak.add_argument("--n", type=int, default=500, help="number of images (default 500)")
    weak.add_argument("--seed", type=int, default=0)
    weak.add_argument(
        "--split",
        choices=("train", "all"),
        default="train",
        help="which part of --fg/--bg to use: train (default; never the validation part) or "
        "all (only for folders that hold no validation objects)",
    )
    weak.add_argument("--size", type=int, default=320, help="short side of the images (px)")
    weak.add_argument(
        "--objects", type=int, nargs=2, default=(2, 4), metavar=("MIN", "MAX"), help="per image"
    )
    weak.set_defaults(func=run_build_weak)


def run_build_weak(args: argparse.Namespace) -> int:
    from wildmatte.errors import TRAIN_EXTRA, InputError, MissingExtraError

    try:
        from wildmatte.data.weak_build import build_weak_set
    except ModuleNotFoundError as err:
        if err.name not in TRAIN_EXTRA:
            raise
        raise MissingExtraError("wildmatte data build-weak", err.name, "train") from None

    if args.n < 1 or args.size < 32 or not 1 <= args.objects[0] <= args.objects[1]:
        raise InputError("arguments", "need --n ≥ 1, --size ≥ 32 and 1 ≤ MIN ≤ MAX objects")
    path = build_weak_set(
        args.fg,
        args.bg,
        args.out,
        n=args.n,
        seed=args.seed,
        split=args.split,
        size=args.size,
        objects=tuple(args.objects),
    )
    print(f"wrote {path}")
    return 0
