"""Frames in and out, one at a time: a video file or a folder of images; an mp4 writer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.imageio import list_images, read_rgb
from wildmatte.errors import InputError
from wildmatte.files import clean_stale_tmp
from wildmatte.inference.io import to_uint

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
FOLDER_FPS = 25.0  # a folder of frames has no rate of its own
# What the composite can be: OpenCV "writes" other names too (.gif, .png: as an image sequence
# of hidden files, one frame in the named file), so only these are accepted.
COMPOSITE_SUFFIXES = (".mp4", ".avi")


@dataclass
class Clip:
    """A readable clip: its frames come from `frames()`, decoded one at a time."""

    path: Path
    fps: float
    size: tuple[int, int]  # (H, W) of the first frame
    count: int | None  # frames, when known up front (folders; most containers)

    def frames(self) -> Iterator[np.ndarray]:
        """H×W×3 RGB float32 frames in [0, 1]."""
        if self.path.is_dir():
            for name in list_images(self.path):
                yield read_rgb(self.path / name)
            return
        cap = cv2.VideoCapture(str(self.path))
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield _rgb(bgr)
        finally:
            cap.release()


def _rgb(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def is_video_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def open_clip(path: str | os.PathLike) -> Clip:
    """The clip at `path` (video file or folder of frames); InputError when unreadable."""
    path = Path(path)
    if path.is_dir():
        names = list_images(path)
        first = read_rgb(path / names[0])
        return Clip(path, FOLDER_FPS, first.shape[:2], len(names))
    if not path.is_file():
        raise InputError(path, "file not found")
    cap = cv2.VideoCapture(str(path))
    try:
        ok, bgr = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            raise InputError(path, "not a readable video (OpenCV could not decode a frame)")
        fps = cap.get(cv2.CAP_PROP_FPS)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    fps = fps if fps and np.isfinite(fps) and fps > 0 else FOLDER_FPS
    return Clip(path, float(fps), bgr.shape[:2], count if count > 0 else None)


def looped(clip: Clip) -> Iterator[np.ndarray]:
    """The clip's frames over and over (a background video shorter than the foreground)."""
    while True:
        empty = True
        for frame in clip.frames():
            empty = False
            yield frame
        if empty:
            raise InputError(clip.path, "no frames")


def check_composite(path: str | os.PathLike) -> None:
    """InputError unless `path` names an .mp4 or .avi that could be made (checked before any
    work; `VideoSink` makes its folder)."""
    path = Path(path)
    if path.suffix.lower() not in COMPOSITE_SUFFIXES:
        raise InputError(path, "the composite must be an .mp4 or .avi video")
    if path.is_dir():
        raise InputError(path, "the composite is a folder: name a video file")
    above = next(p for p in path.absolute().parents if p.exists())
    if not above.is_dir():
        raise InputError(path, f"{above} is not a folder")
    if not os.access(above, os.W_OK):
        raise InputError(path, f"{above} is not writable")


def _tmp_pattern(path: Path) -> tuple[str, str]:
    return f".{path.name}.", f".tmp{path.suffix}"  # OpenCV picks the container by the suffix


def remove_stale_sink(path: str | os.PathLike) -> list[Path]:
    """The temp files of `path` that a killed run left (older than this process)."""
    path = Path(path)
    return clean_stale_tmp(path, _tmp_pattern(path)[1])


class VideoSink:
    """An mp4 (or avi) written frame by frame to a temp file, moved into place on `close()`;
    `discard()` removes it, so a failed run leaves no half-written video."""

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        check_composite(self.path)
        prefix, suffix = _tmp_pattern(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=prefix, suffix=suffix)
        except OSError as err:
            raise InputError(self.path, f"cannot write here: {err.strerror or err}") from None
        os.close(fd)
        self.tmp = Path(tmp)
        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
        self.writer = cv2.VideoWriter(str(self.tmp), fourcc, fps, (size[1], size[0]))
        if not self.writer.isOpened():
            self.discard()
            raise InputError(self.path, "OpenCV cannot write this video format (use .mp4 or .avi)")

    def write(self, rgb: np.ndarray) -> None:
        self.writer.write(cv2.cvtColor(to_uint(rgb), cv2.COLOR_RGB2BGR))

    def close(self) -> Path:
        self.writer.release()
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.path)
        return self.path

    def discard(self) -> None:
        if hasattr(self, "writer"):
            self.writer.release()
        self.tmp.unlink(missing_ok=True)
