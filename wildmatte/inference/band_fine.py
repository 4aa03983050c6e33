"""PRN's 1/1 head, run only where the fusion uses it.

The finest head replaces the fused coarser alpha only inside that alpha's uncertain band
(model.fusion); everywhere else its work is thrown away. Its layers (the 1/1 and 1/2 shortcuts
and decoder stages) are a third of the network's operations at 1024², and onnxruntime spends
about half its time at full and half resolution (docs/deploy.md). So it runs on windows around the
band's cells: a cell plus a halo wider than the head's reach (about 14 px), so every cell pixel
comes out as it would from the whole image, up to float rounding (tests/test_band_fine.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Full-resolution px, multiples of 4 so that crops align on the 1/2 and 1/4 feature maps.
CELL, HALO = 64, 16
# Above this share of the image in windows, one pass over the whole image is cheaper.
MAX_SHARE = 0.6

Fine = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def windows(
    band: np.ndarray, cell: int = CELL, halo: int = HALO
) -> list[tuple[int, int, int, int]]:
    """(cell_y, cell_x, window_y, window_x) for each cell holding a band pixel. Windows are
    (cell + 2·halo)² and moved inside the image, where the true border stands in for the halo.
    `band`'s sides must be at least a window long."""
    h, w = band.shape
    size = cell + 2 * halo
    padded = np.pad(band, ((0, -h % cell), (0, -w % cell)))
    cells = padded.reshape(-1, cell, padded.shape[1] // cell, cell).any(axis=(1, 3))
    ys, xs = np.nonzero(cells)
    cy, cx = ys * cell, xs * cell
    wy, wx = np.clip(cy - halo, 0, h - size), np.clip(cx - halo, 0, w - size)
    return [tuple(int(v) for v in t) for t in zip(cy, cx, wy, wx)]


def fine_in_band(
    fine: Fine,
    x: np.ndarray,
    stem: np.ndarray,
    d4: np.ndarray,
    band: np.ndarray,
    cell: int = CELL,
    halo: int = HALO,
    batch: int = 16,
) -> np.ndarray:
    """The 1/1 head's alpha (H×W) wherever `band` (H×W bool) is set; elsewhere undefined (0).

    fine(x, stem, d4) -> N×1×h×w alpha, on N crops of the input x (N×4×h×w), the stem's output
    (at 1/2) and the 1/4 decoder features, as PRN.fine; the arrays here have N = 1."""
    h, w = band.shape
    size = cell + 2 * halo
    if h < size or w < size:
        return fine(x, stem, d4)[0, 0]
    cells = windows(band, cell, halo)
    if len(cells) * size * size > MAX_SHARE * h * w:
        return fine(x, stem, d4)[0, 0]
    out = np.zeros((h, w), np.float32)
    for i in range(0, len(cells), batch):
        chunk = cells[i : i + batch]
        alpha = fine(
            np.concatenate([_crop(x, wy, wx, size, 1) for _, _, wy, wx in chunk]),
            np.concatenate([_crop(stem, wy, wx, size, 2) for _, _, wy, wx in chunk]),
            np.concatenate([_crop(d4, wy, wx, size, 4) for _, _, wy, wx in chunk]),
        )
        for (cy, cx, wy, wx), a in zip(chunk, alpha[:, 0]):
            oy, ox = cy - wy, cx - wx
            out[cy : cy + cell, cx : cx + cell] = a[oy : oy + cell, ox : ox + cell]
    return out


def _crop(features: np.ndarray, y: int, x: int, size: int, stride: int) -> np.ndarray:
    """The window (y, x, size² at full resolution) of a 1×C×(H/stride)×(W/stride) map."""
    y, x, s = y // stride, x // stride, size // stride
    return features[:, :, y : y + s, x : x + s]
