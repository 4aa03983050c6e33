"""Small objects at the scale the models were trained on: crop around the guidance, upscale,
matte, and scale the alpha back.

The training composites place objects with a long side of half to twice the crop (192-768 px
in a 384² crop, `data.dataset.OBJECT_SCALE`), so a far smaller object is outside what the
model learned: an 80 px blob in a 320×240 video frame came out at IoU 0.73 with its true mask
as guidance, and at 0.95 with the frame upscaled 2× (docs/video.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Engine = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ZoomOptions:
    # Chosen on the tuning clips (experiments/video_zoom_sweep.py, seeds 1, 2; true masks as
    # guidance): mean IoU 0.894 unzoomed, 0.962 at 192 px, 0.975 at 256, 0.979 at 320, 0.981 at
    # 448 (0.255 s a frame at 320 against 0.078), margin 0.5 over 0.25 (0.979 against 0.973).
    min_object: int = 320  # px, long side of the guidance's box below which it zooms in
    max_zoom: float = 4.0  # a few pixels of guidance are not blown up into a full image
    margin: float = 0.5  # context kept around the box, as a share of its long side


def zoom_factor(guidance: np.ndarray, options: ZoomOptions = ZoomOptions()) -> float:
    """How much to upscale so that the guidance's box reaches `min_object` (1: not at all)."""
    ys, xs = np.nonzero(guidance >= 0.5)
    if ys.size == 0:
        return 1.0
    side = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    return float(np.clip(options.min_object / side, 1.0, options.max_zoom))


def zoom_box(guidance: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the guidance's box grown by `margin` × its long side,
    inside the image."""
    ys, xs = np.nonzero(guidance >= 0.5)
    grow = int(np.ceil(margin * (max(ys.max() - ys.min(), xs.max() - xs.min()) + 1)))
    h, w = guidance.shape
    return (
        max(0, ys.min() - grow),
        min(h, ys.max() + 1 + grow),
        max(0, xs.min() - grow),
        min(w, xs.max() + 1 + grow),
    )


class ZoomEngine:
    """Wraps an engine: an object whose guidance is smaller than `min_object` is matted on an
    upscaled crop around it (outside the crop, alpha 0); larger ones go straight through."""

    def __init__(self, base: Engine, options: ZoomOptions | None = None) -> None:
        self.base = base
        self.name = getattr(base, "name", "engine")
        self.options = options or ZoomOptions()

    def __call__(self, image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        s = zoom_factor(guidance, self.options)
        if s <= 1.0:
            return self.base(image, guidance)
        top, bottom, left, right = zoom_box(guidance, self.options.margin)
        h, w = bottom - top, right - left
        size = (max(1, round(w * s)), max(1, round(h * s)))
        crop = cv2.resize(image[top:bottom, left:right], size, interpolation=cv2.INTER_CUBIC)
        guide = cv2.resize(guidance[top:bottom, left:right], size, interpolation=cv2.INTER_NEAREST)
        alpha = self.base(np.clip(crop, 0.0, 1.0), guide)
        out = np.zeros(guidance.shape, np.float32)
        out[top:bottom, left:right] = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)
        return out
