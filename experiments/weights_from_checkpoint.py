"""Weights (safetensors + JSON) from a training checkpoint, to evaluate a run stopped early.

Usage: python experiments/weights_from_checkpoint.py RUN_DIR OUT_PREFIX [--model prn-light]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wildmatte.model import PRN, get_config, save_model
from wildmatte.training.checkpoint import load_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="prn-light")
    args = parser.parse_args()
    state = load_checkpoint(args.run / "checkpoint.safetensors")
    model = PRN(get_config(args.model))
    model.load_state_dict(state["model"])
    meta = {"step": state["step"], "config": args.run.name, "from": "checkpoint"}
    print(save_model(model, args.out, meta=meta), "step", state["step"])


if __name__ == "__main__":
    main()
