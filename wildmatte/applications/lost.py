"""Watching for a lost object: the matte shrank to a scrap, or went empty, while the object did
not leave the frame.

The collapse test (video.py `collapsed`) compares the alpha with the guidance, so it misses a
loss where the guidance goes with the alpha: on a real shot (bikes.mp4, a man walking), the
feature-affinity label shrank over five frames to a patch at the frame's top while the man was
in full view, then went empty, and the run exited 0. So the alpha's area is also compared with
the object's area over the last frames; a fall under SHRUNK of it is a loss unless the object is
going out of view (its pixels move towards a frame edge that they touch).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from wildmatte.inference.io import to_uint

# Under this share of the largest alpha of the last HISTORY kept frames, the object is lost. An
# object turning about its vertical axis keeps 0.35 of its width (benchmarks/video_clips.py's
# `turning`), so the share sits below that.
SHRUNK = 0.2
HISTORY = 10
# Consecutive lost frames after which the run stops: more would matte something else.
LOST_RUN = 5
# Motion towards an edge (px a frame, at the frame's scale) that counts as going out of view.
OUTWARD = 0.5
EDGE = 2  # px: a mask this close to the frame's border touches it


def area(alpha: np.ndarray) -> int:
    return int((alpha >= 0.5).sum())


def motion(prev_frame: np.ndarray, frame: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Median (dx, dy) of the mask's pixels from `prev_frame` to `frame` (DIS flow on a copy at
    most 320 px wide: only the direction matters here)."""
    s = min(1.0, 320 / frame.shape[1])
    small = [
        cv2.cvtColor(cv2.resize(to_uint(f), None, fx=s, fy=s), cv2.COLOR_RGB2GRAY)
        for f in (prev_frame, frame)
    ]
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST).calc(*small, None)
    inside = cv2.resize(mask.astype(np.uint8), small[0].shape[::-1], cv2.INTER_NEAREST) > 0
    if not inside.any():
        return 0.0, 0.0
    dx, dy = np.median(flow[inside], axis=0) / s
    return float(dx), float(dy)


def centroid_shift(earlier: np.ndarray, later: np.ndarray) -> tuple[float, float]:
    """(dx, dy) of the masks' centroids from `earlier` to `later`; (0, 0) if either is empty."""
    if not earlier.any() or not later.any():
        return 0.0, 0.0
    (y0, x0), (y1, x1) = (np.argwhere(m).mean(axis=0) for m in (earlier, later))
    return float(x1 - x0), float(y1 - y0)


def going_out(
    prev_frame: np.ndarray,
    frame: np.ndarray,
    prev_alpha: np.ndarray,
    earlier_alpha: np.ndarray | None = None,
) -> bool:
    """The last alpha touches a frame edge and its pixels move towards that edge: by the flow
    into this frame, or by the last two alphas' centroids (`earlier_alpha`: the one before
    `prev_alpha`). The centroids are needed where the object left between the two frames:
    its pixels are gone, and the flow there measures the background (the benchmark's
    `leaves` clip)."""
    mask = prev_alpha >= 0.5
    edges = {
        "left": mask[:, :EDGE].any(),
        "right": mask[:, -EDGE:].any(),
        "top": mask[:EDGE].any(),
        "bottom": mask[-EDGE:].any(),
    }
    if not any(edges.values()):
        return False

    def outward(shift: tuple[float, float]) -> bool:
        dx, dy = shift
        towards = {"left": -dx, "right": dx, "top": -dy, "bottom": dy}
        return any(edges[e] and towards[e] >= OUTWARD for e in edges)

    # The centroids first: they cost nothing, the flow a DIS pass.
    if earlier_alpha is not None and outward(centroid_shift(earlier_alpha >= 0.5, mask)):
        return True
    return outward(motion(prev_frame, frame, mask))


class LostWatch:
    """Per propagated frame, whether the object is lost (collapsed, shrunk to a scrap or gone
    while in view), and when LOST_RUN frames in a row are."""

    def __init__(self) -> None:
        self.areas: deque[int] = deque(maxlen=HISTORY)
        self.run: list[int] = []  # the current run of lost frames
        self.earlier: np.ndarray | None = None  # the alpha before the last one

    def start(self, alpha: np.ndarray) -> None:
        """A frame matted from a given mask (the first, a keyframe): the object as it is."""
        self.areas.clear()
        self.areas.append(area(alpha))
        self.run = []
        self.earlier = None

    def lost(
        self,
        i: int,
        prev_frame: np.ndarray,
        frame: np.ndarray,
        prev_alpha: np.ndarray,
        alpha: np.ndarray,
        collapsed: bool,
    ) -> bool:
        """Whether frame `i` lost the object; its area joins the history when it did not."""
        now, before = area(alpha), max(self.areas, default=0)
        watched = area(prev_alpha) > 0 or bool(self.run)  # gone earlier, legitimately: no
        shrunk = watched and now < SHRUNK * before
        earlier, self.earlier = self.earlier, prev_alpha
        if shrunk and self.run == [] and going_out(prev_frame, frame, prev_alpha, earlier):
            shrunk = False
        if collapsed or shrunk:
            self.run.append(i)
            return True
        self.run = []
        self.areas.append(now)
        return False

    @property
    def gone(self) -> bool:
        """LOST_RUN frames in a row lost: matting on would matte something else."""
        return len(self.run) >= LOST_RUN
