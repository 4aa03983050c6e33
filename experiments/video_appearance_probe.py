"""Would appearance tell "matting something else" from an object that turns? (issue 33, probe)

The lost-object watch (wildmatte/applications/lost.py) counts a frame lost by the alpha's area,
so a matte that regrows to the object's size on something else is not caught. Here, offline on
runs already written: each frame's matted region is described by the ImageNet features of
wildmatte/applications/affinity.py (the alpha-weighted mean of its cells' features,
L2-normalised), and its cosine similarity to the first frame's is printed per frame.

Usage: python experiments/video_appearance_probe.py FRAMES_DIR ALPHA_DIR [FRAMES_DIR ALPHA_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from wildmatte.applications.affinity import Features, cells


def describe(features: Features, frame: np.ndarray, alpha: np.ndarray) -> torch.Tensor | None:
    f = features(frame)
    weight = cells(alpha, tuple(f.shape[1:])).reshape(-1)
    if weight.sum() < 1e-3:
        return None
    return F.normalize((f.reshape(f.shape[0], -1) * weight).sum(1), dim=0)


def similarities(features: Features, frames: Path, alphas: Path) -> list[float]:
    first, out = None, []
    for path in sorted(frames.glob("*.png")):
        if not (alphas / path.name).is_file():
            break  # the run stopped here
        frame = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
        alpha = cv2.imread(str(alphas / path.name), cv2.IMREAD_GRAYSCALE) / np.float32(255)
        d = describe(features, frame, alpha)
        first = d if first is None else first
        out.append(float(d @ first) if d is not None else float("nan"))
    return out


def main() -> None:
    torch.set_num_threads(1)  # beside a training run, more threads only wait on each other
    features = Features()
    for frames, alphas in zip(sys.argv[1::2], sys.argv[2::2]):
        s = similarities(features, Path(frames), Path(alphas))
        each = " ".join(f"{x:.2f}" for x in s)
        print(f"{alphas}: least {np.nanmin(s[1:]):.3f}; {each}", flush=True)


if __name__ == "__main__":
    main()
