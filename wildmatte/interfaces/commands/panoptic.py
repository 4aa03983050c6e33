"""`wildmatte panoptic`: matte every segment of a label map into a soft partition."""

from __future__ import annotations

import argparse
from pathlib import Path

from wildmatte.applications.panoptic import run_panoptic
from wildmatte.errors import InputError
from wildmatte.inference.engines import ENGINES, get_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "panoptic",
        help="soft alpha per segment of a label map (panoptic matting)",
        description="Matte every segment of a label map (things and stuff) with its own mask, "
        "then combine the alphas into a soft partition (non-negative, summing to 1). Writes "
        "OUT/<id>.png per segment, OUT/segments.json and OUT/visual.png.",
    )
    p.add_argument("image", type=Path, help="the photo")
    p.add_argument("--segments", type=Path, required=True, help="label map PNG (8/16-bit, or COCO)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--coco-json", type=Path, help="COCO panoptic JSON: the PNG is COCO-encoded")
    p.add_argument("--ignore", type=int, action="append", help="label to leave out (repeatable)")
    p.add_argument("--batch", type=int, default=8, help="segments per forward pass (default 8)")
    p.add_argument("--engine", choices=ENGINES, default="prn", help="default: prn")
    p.add_argument("--weights", help=".safetensors file (its .json beside it)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda if available)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.batch < 1:
        raise InputError("--batch", f"{args.batch} must be at least 1 (segments per pass)")
    engine = get_engine(args.engine, args.weights, args.device)
    result = run_panoptic(
        engine, args.image, args.segments, args.out, args.coco_json, args.ignore, args.batch
    )
    print(f"{len(result.segments)} segments matted with {engine.name}; outputs in {args.out}")
    return 0
