"""The qualitative grid: for the worst and best cases of an engine, one row each of
image with the guidance overlaid, prediction, ground truth and error map |pred − GT|."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wildmatte.data.imageio import read_alpha
from wildmatte.evaluation.layouts import Case, read_inputs
from wildmatte.inference.io import to_uint, write_png

COLUMNS = ("image + guidance", "prediction", "ground truth", "error |pred - GT|")
_CAPTION = 22  # px of caption strip above each row


def overlay(image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
    """The image with the guidance tinted green and its outline drawn."""
    out = to_uint(image).copy()
    mask = guidance > 0.5
    green = np.array([40, 220, 60], np.float32)
    out[mask] = (0.55 * out[mask] + 0.45 * green).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (40, 255, 60), 1)
    return out


def error_map(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """|pred − GT| in the inferno colour map (black: no error, yellow: error of 1)."""
    bgr = cv2.applyColorMap(to_uint(np.abs(pred - gt)), cv2.COLORMAP_INFERNO)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _grey(alpha: np.ndarray) -> np.ndarray:
    return np.repeat(to_uint(alpha)[..., None], 3, axis=2)


def _fit(tile: np.ndarray, height: int) -> np.ndarray:
    h, w = tile.shape[:2]
    return cv2.resize(tile, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def _caption(texts: list[tuple[int, str]], width: int) -> np.ndarray:
    """A white strip with each (x, text) written at x."""
    strip = np.full((_CAPTION, width, 3), 255, np.uint8)
    for x, text in texts:
        cv2.putText(
            strip, text, (x + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
    return strip


def grid_row(
    case: Case, pred: np.ndarray, mode: str, caption: str, height: int, kernel: int = 25
) -> tuple[np.ndarray, list[int]]:
    """(the captioned row, the x where each column starts)."""
    inputs = read_inputs(case, mode, kernel)
    tiles = [
        overlay(inputs.image, inputs.guidance),
        _grey(pred),
        _grey(inputs.gt),
        error_map(pred, inputs.gt),
    ]
    tiles = [_fit(t, height) for t in tiles]
    starts = np.cumsum([0] + [t.shape[1] + 4 for t in tiles[:-1]]).tolist()
    gap = np.full((height, 4, 3), 255, np.uint8)
    row = np.concatenate([x for t in tiles for x in (t, gap)][:-1], axis=1)
    return np.concatenate([_caption([(0, caption)], row.shape[1]), row], axis=0), starts


def pick_cases(sad: dict[str, float], n: int) -> list[tuple[str, str]]:
    """(label, case name) for the n worst, then the n best cases by SAD, without repeats."""
    ranked = sorted(sad, key=sad.get, reverse=True)
    worst = ranked[:n]
    best = [c for c in reversed(ranked) if c not in worst][:n]
    return [("worst", c) for c in worst] + [("best", c) for c in best]


def make_grid(
    cases: list[Case],
    pred_dir: Path,
    sad: dict[str, float],
    mode: str,
    out: Path,
    title: str,
    n: int = 2,
    height: int = 200,
    kernel: int = 25,
) -> Path | None:
    """Write the grid PNG for one engine; None when no case was scored."""
    by_name = {c.name: c for c in cases}
    rows, starts = [], []
    for kind, name in pick_cases(sad, n):
        pred = read_alpha(pred_dir / f"{name}.png")
        caption = f"{title} | {kind}: {name}  SAD {sad[name]:.2f}"
        row, starts = grid_row(by_name[name], pred, mode, caption, height, kernel)
        rows.append(row)
    if not rows:
        return None
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    header = _caption(list(zip(starts, COLUMNS)), width)
    return write_png(out, np.concatenate([header, *rows], axis=0))
