"""The masks a `--masks` folder gives: one per frame, or keyframes numbered by their frame.

One mask per frame is taken in name order (the i-th for the i-th frame), as any segmenter's
output folder is. Fewer masks than frames are keyframes: each name holds its frame's number
(0-based, the last run of digits: `000010.png`, `shot2_frame40.png`), and the frames between
are propagated from the keyframe before them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from wildmatte.applications.frames import Clip
from wildmatte.data.imageio import list_images, read_alpha
from wildmatte.errors import InputError


def keyframe_masks(folder: Path, clip: Clip) -> dict[int, Path]:
    """Frame number → mask file. Frame 0 must have one (nothing to propagate from before it)."""
    files = [folder / name for name in list_images(folder)]
    if clip.count is not None and len(files) == clip.count:
        return dict(enumerate(files))
    keys: dict[int, Path] = {}
    for path in files:
        digits = re.findall(r"\d+", path.stem)
        if not digits:
            raise InputError(
                path, "no frame number in the name: name keyframe masks by frame (000010.png)"
            )
        i = int(digits[-1])
        if i in keys:
            raise InputError(path, f"a second mask for frame {i} (the first: {keys[i].name})")
        if clip.count is not None and i >= clip.count:
            raise InputError(path, f"frame {i} is past the clip's end ({clip.count} frames)")
        keys[i] = path
    if 0 not in keys:
        raise InputError(folder, "no mask for frame 0 (name the first frame's mask 000000.png)")
    return keys


def frame_mask(path: Path, shape: tuple[int, int], threshold: int) -> np.ndarray:
    """A frame's mask as it is, binarised (an empty one means the object is absent)."""
    mask = read_alpha(path)
    if mask.shape != tuple(shape):
        raise InputError(
            path,
            f"mask is {mask.shape[1]}×{mask.shape[0]} but the frames are {shape[1]}×{shape[0]}",
        )
    return (mask >= threshold / 255.0).astype(np.float32)
