"""Video matting from one first-frame mask (or a mask per frame), streamed frame by frame.

Frames are read, matted and written one at a time, so memory does not grow with the clip's
length. Outputs: DIR/alpha/000000.png … (8-bit), optionally DIR/rgba/… and a composite video.
Every file is written atomically, so `resume=True` can trust any frame file that exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from wildmatte.applications.cuts import Signature, is_cut
from wildmatte.applications.frames import (
    VideoSink,
    check_composite,
    is_video_file,
    looped,
    open_clip,
    remove_stale_sink,
)
from wildmatte.applications.keyframes import frame_mask, keyframe_masks
from wildmatte.applications.lost import LostWatch, area
from wildmatte.applications.propagate import FlowPropagator, Propagator, guidance_kernel
from wildmatte.data.imageio import read_alpha
from wildmatte.errors import InputError
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import Engine
from wildmatte.inference.io import read_mask, write_png

# The model lost the object when its alpha keeps under this share of both the carried mask and
# the previous frame's alpha (an object does not halve in one frame; leaving the frame shrinks
# the carried mask too, so that is not counted).
COLLAPSE = 0.5


@dataclass
class VideoRun:
    """What a run did: frames matted now, the frames where the object was lost, the frame
    where a scene cut without a mask stopped it, and the last frame written before the run
    stopped because the object stayed lost for LOST_RUN frames (None: it did not stop)."""

    matted: int
    lost: list[int]
    cut: int | None = None
    stopped: int | None = None


@dataclass
class VideoOutputs:
    """Where to write: DIR/alpha/ always; DIR/rgba/ and a composite video when asked."""

    out: Path
    rgba: bool = False
    composite: Path | None = None
    background: str = "white"

    def alpha(self, i: int) -> Path:
        return self.out / "alpha" / f"{i:06d}.png"

    def rgba_frame(self, i: int) -> Path:
        return self.out / "rgba" / f"{i:06d}.png"

    def complete(self, i: int) -> bool:
        return self.alpha(i).is_file() and (not self.rgba or self.rgba_frame(i).is_file())


def matte_clip(
    engine: Engine,
    frames: Iterable[np.ndarray],
    first_mask: np.ndarray,
    propagator: Propagator | None = None,
) -> Iterator[np.ndarray]:
    """Alphas of a clip (in memory, one at a time) from the first frame's binary mask."""
    propagator = propagator or FlowPropagator()
    start(propagator, first_mask)
    prev: tuple[np.ndarray, np.ndarray] | None = None
    guide = None
    for frame in frames:
        if prev is None:
            alpha = matte(engine, frame, first_mask)
        else:
            last, guide = guide, propagator.next_mask(prev[0], frame, prev[1])
            alpha = matte_carried(engine, frame, guide, prev[1], prev_guide=last)[0]
        prev = (frame, alpha)
        yield alpha


def collapsed(
    alpha: np.ndarray,
    carried: np.ndarray,
    prev_alpha: np.ndarray,
    still_lost: bool = False,
    prev_carried: np.ndarray | None = None,
) -> bool:
    """The object's area fell sharply in one frame: under COLLAPSE of the carried mask (the
    guidance less its dilation) and of the previous alpha (of the carried mask alone while the
    object is `still_lost` from the frame before)."""
    before = area(carried) if still_lost else min(area(carried), area(prev_alpha))
    limit = COLLAPSE * before
    return limit > 0 and area(alpha) < limit and not leaving(carried, prev_alpha, prev_carried)


def leaving(
    carried: np.ndarray, prev_alpha: np.ndarray, prev_carried: np.ndarray | None = None
) -> bool:
    """The carried mask is at the frame's edge and smaller than the last alpha or the last
    carried mask: the object is going out of view, and a model that returns less of it is
    right. (The last alpha alone was not enough: where the model had already returned a sliver
    of the object at the edge, its vanishing in the next frame counted as a collapse.)"""
    mask = carried >= 0.5
    edge = mask[:2].any() or mask[-2:].any() or mask[:, :2].any() or mask[:, -2:].any()
    smaller = area(carried) < area(prev_alpha)
    smaller |= prev_carried is not None and area(carried) < area(prev_carried)
    return bool(edge) and smaller


def matte_carried(
    engine: Engine,
    frame: np.ndarray,
    guide: np.ndarray,
    prev_alpha: np.ndarray,
    still_lost: bool = False,
    prev_guide: np.ndarray | None = None,
) -> tuple[np.ndarray, bool]:
    """The alpha for propagated guidance, and whether the object was lost. On a collapse it
    mattes again with the guidance less its dilation (a tighter hint sometimes holds) and keeps
    the larger alpha. `prev_guide`: the last frame's propagated guidance, if any."""
    alpha = matte(engine, frame, guide)
    kernel = np.ones((guidance_kernel(frame.shape[:2]),) * 2, np.uint8)
    carried = cv2.erode(guide, kernel)
    before = None if prev_guide is None else cv2.erode(prev_guide, kernel)
    if not collapsed(alpha, carried, prev_alpha, still_lost, before):
        return alpha, False
    retry = matte(engine, frame, carried)
    alpha = retry if area(retry) > area(alpha) else alpha
    return alpha, collapsed(alpha, carried, prev_alpha, still_lost, before)


def start(propagator: Propagator, mask: np.ndarray) -> None:
    """Tell a propagator that keeps state (the object's shape) where the object starts."""
    if hasattr(propagator, "start"):
        propagator.start(mask)


def matte(engine: Engine, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The engine's alpha; an empty mask (the object has left the frame) gives an empty alpha."""
    if not mask.any():
        return np.zeros(mask.shape, np.float32)
    return engine(frame, mask)


def completed_frames(outputs: VideoOutputs) -> int:
    """How many frames, from the first, already have all their files (for resuming)."""
    n = 0
    while outputs.complete(n):
        n += 1
    return n


def check_paths(
    clip: Path, outputs: VideoOutputs, masks: Path | None, mask: Path | None = None
) -> None:
    """No output may be an input: the output folder (or its alpha/ or rgba/) must not be the
    frames or masks folder, and the composite must not be the input video or the mask."""
    inputs = {p.resolve() for p in (clip, masks, mask) if p is not None}
    folders = (outputs.out, outputs.out / "alpha", outputs.out / "rgba")
    for folder in folders:
        if folder.resolve() in inputs:
            raise InputError(folder, "output folder is an input folder: choose another --out")
    if outputs.out.exists() and not outputs.out.is_dir():
        raise InputError(outputs.out, "output exists and is not a folder")
    bg = Path(outputs.background)
    if outputs.composite is not None:
        if outputs.composite.resolve() in inputs | {bg.resolve()}:
            raise InputError(outputs.composite, "composite output would overwrite an input")
        check_composite(outputs.composite)


class _Background:
    """The composite's background per frame: a colour, an image, or a (looped) video."""

    def __init__(self, spec: str, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.frames = looped(open_clip(spec)) if is_video_file(spec) else None
        self.still = None if self.frames is not None else fgmod.parse_background(spec, shape)

    def next(self) -> np.ndarray:
        if self.still is not None:
            return self.still
        return fgmod.fit_background(next(self.frames), self.shape)


def matte_video(
    engine: Engine,
    clip_path: str | os.PathLike,
    outputs: VideoOutputs,
    mask: str | os.PathLike | None = None,
    masks: str | os.PathLike | None = None,
    propagator: Propagator | None = None,
    resume: bool = False,
    threshold: int = 128,
    progress: bool = True,
) -> VideoRun:
    """Matte every frame of a video file or frames folder; returns the frames matted now and
    the frames where the propagated object collapsed (see `collapsed`) and did not come back
    on a second try (their alpha is written as the model gave it).

    Give the first frame's `mask` (later frames by `propagator`, optical flow by default) or a
    folder of `masks`: one per frame, used as they are, or keyframes (see `keyframe_masks`),
    each matted from its mask and propagated on to the next. At a scene cut (`is_cut`) the
    carried mask means nothing: the run goes on only if the cut's frame has a mask, and
    otherwise stops there (`VideoRun.cut`). An object lost (`LostWatch`) for LOST_RUN frames
    in a row stops the run after them (`VideoRun.stopped`). With `resume`, frames whose files
    exist are kept and matting continues after the last of them.
    """
    if (mask is None) == (masks is None):
        raise InputError(clip_path, "give either the first frame's mask or a masks folder")
    clip = open_clip(clip_path)
    masks_dir = Path(masks) if masks is not None else None
    check_paths(clip.path, outputs, masks_dir, Path(mask) if mask is not None else None)
    keys = keyframe_masks(masks_dir, clip) if masks_dir is not None else {}
    if keys:
        frame_mask(keys[min(keys)], clip.size, threshold)  # fail early on a size mismatch
    first = read_mask(mask, clip.size, threshold) if mask is not None else None
    background = _Background(outputs.background, clip.size) if outputs.composite else None
    propagator = propagator or FlowPropagator()
    start_at = completed_frames(outputs) if resume else 0
    _remove_stale_temps(outputs)
    sink = VideoSink(outputs.composite, clip.fps, clip.size) if outputs.composite else None
    done, lost, cut, stopped = 0, [], None, None
    watch = LostWatch()
    prev: tuple[np.ndarray, np.ndarray] | None = None
    guide = None  # the last propagated guidance
    look = None  # the last frame's Signature (for cuts)
    bar = tqdm(total=clip.count, unit="frame", desc=f"video ({engine.name})", disable=not progress)
    try:
        for i, frame in enumerate(clip.frames()):
            fg = None
            if frame.shape[:2] != clip.size:
                raise InputError(
                    clip.path,
                    f"frame {i} is {frame.shape[1]}×{frame.shape[0]}, "
                    f"frame 0 is {clip.size[1]}×{clip.size[0]}",
                )
            seen, look = look, Signature(frame)
            given = first if i == 0 and first is not None else None
            if i in keys:
                given = frame_mask(keys[i], clip.size, threshold)
            if i < start_at:
                alpha = read_alpha(outputs.alpha(i)) if sink or i == start_at - 1 else None
            elif given is None and seen is not None and is_cut(seen, look):
                cut = i  # the carried mask is of the shot before: stop, nothing guessed
                break
            else:
                if given is not None:
                    alpha = matte(engine, frame, given)
                    watch.start(alpha)
                else:
                    last, guide = guide, propagator.next_mask(prev[0], frame, prev[1])
                    still = bool(lost) and lost[-1] == i - 1
                    alpha, fell = matte_carried(engine, frame, guide, prev[1], still, last)
                    lost += [i] if watch.lost(i, prev[0], frame, prev[1], alpha, fell) else []
                fg = _write_frame(outputs, i, frame, alpha)
                done += 1
            if sink is not None:
                fg = fg if fg is not None else fgmod.estimate_foreground(frame, alpha)
                sink.write(fgmod.composite(fg, alpha, background.next()))
            if given is not None and i >= start_at - 1:
                start(propagator, given)  # a new start: the mask given here
                guide = None
            elif i == start_at - 1:
                start(propagator, alpha)
                watch.start(alpha)
            prev = (frame, alpha) if alpha is not None else None
            bar.update(1)
            if watch.gone:
                stopped = i  # LOST_RUN frames lost in a row: matting on would matte something else
                break
    except BaseException:
        if sink is not None:
            sink.discard()
        raise
    finally:
        bar.close()
    if sink is not None:
        sink.close()  # the frames up to a cut are complete: kept, as their alphas are
    return VideoRun(done, lost, cut, stopped)


def _write_frame(
    outputs: VideoOutputs, i: int, frame: np.ndarray, alpha: np.ndarray
) -> np.ndarray | None:
    """Write the frame's files; the foreground when rgba/ needed it (the composite reuses it)."""
    write_png(outputs.alpha(i), alpha)
    if not outputs.rgba:
        return None
    fg = fgmod.estimate_foreground(frame, alpha)
    write_png(outputs.rgba_frame(i), fgmod.cutout(fg, alpha))
    return fg


def _remove_stale_temps(outputs: VideoOutputs) -> None:
    """Temp files of a killed run (a crash mid-write leaves `.NAME.png.XXXX.tmp`; a killed
    composite `.NAME.mp4.XXXX.tmp.mp4`)."""
    for sub in ("alpha", "rgba"):
        folder = outputs.out / sub
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
    if outputs.composite is not None:
        remove_stale_sink(outputs.composite)
