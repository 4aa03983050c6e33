"""`wildmatte train --config NAME|PATH.yaml [--resume] [--until STEP] [--out DIR] [--set key=value ...]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wildmatte.errors import TRAIN_EXTRA, Interrupted, MissingExtraError
from wildmatte.training.config import available_configs, load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a PRN model from a YAML config",
        description="Train a model. Several GPUs or machines: torchrun --nproc_per_node N -m wildmatte train ...",
    )
    p.add_argument(
        "--config",
        required=True,
        help=f"a package config ({', '.join(available_configs())}) or any YAML file, e.g. "
        "experiments/configs/NAME.yaml (its base: resolves beside it, else in the package)",
    )
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/<config name>)")
    p.add_argument(
        "--resume", action="store_true", help="continue from the run folder's last checkpoint"
    )
    p.add_argument(
        "--until",
        type=int,
        default=None,
        metavar="STEP",
        help="pause after this step with the checkpoint written (continue later with --resume)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.steps=20 (repeatable)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from wildmatte.training import schema  # noqa: F401  (load_config's, needs pydantic)
        from wildmatte.training.trainer import train
    except ModuleNotFoundError as err:
        if err.name not in TRAIN_EXTRA:
            raise
        raise MissingExtraError("wildmatte train", err.name, "train") from None

    cfg = load_config(args.config, args.overrides)
    out = args.out or Path("runs") / str(cfg.get("name", Path(args.config).stem))
    try:
        final = train(cfg, out, resume=args.resume, until=args.until)
    except Interrupted as stop:
        print(f"wildmatte: {stop}", file=sys.stderr)
        return stop.exit_code
    if final is None:
        ckpt = out / "checkpoint.safetensors"
        print(f"paused (--until {args.until}): {ckpt} written; continue with --resume")
        return 0
    print(f"weights written to {final}")
    return 0
