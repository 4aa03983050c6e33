"""A contact sheet of a wild set (`wildmatte bench build-wild`): one row per sample.

Columns: the image; a 2× zoom where the front target's alpha is fractional (strands, blur, the
edge of a see-through object); the front target's alpha over its paper guidance (white: alpha,
grey: guidance); the same for the occluded target with its noisy guidance. Rows are chosen to
show every effect (strands, dandelion, uniform, ramp, motion, ring) where the set has it.

    python scripts/wildset_sheet.py /work/data-bench/tune docs/wildset-samples.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from wildmatte.inference.io import write_png

TILE = (168, 224)  # height, width
EFFECTS = ("strands", "dandelion", "uniform", "ramp", "motion", "ring")


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return image.astype(np.float32) / (65535.0 if image.dtype == np.uint16 else 255.0)


def _tile(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    tile = cv2.resize(image, TILE[::-1], interpolation=cv2.INTER_AREA)
    return np.round(np.clip(tile, 0, 1) * 255).astype(np.uint8)


def _zoom(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """A TILE-sized 2× crop around the median fractional-alpha pixel of the target."""
    ys, xs = np.nonzero((alpha > 0.1) & (alpha < 0.9))
    if not len(ys):
        ys, xs = np.nonzero(alpha > 0)
    order = np.argsort(ys * alpha.shape[1] + xs)
    y, x = ys[order[len(order) // 2]], xs[order[len(order) // 2]]
    h, w = TILE[0] // 2, TILE[1] // 2
    y0 = int(np.clip(y - h // 2, 0, image.shape[0] - h))
    x0 = int(np.clip(x - w // 2, 0, image.shape[1] - w))
    crop = image[y0 : y0 + h, x0 : x0 + w]
    big = cv2.resize(crop, TILE[::-1], interpolation=cv2.INTER_NEAREST)
    return np.round(big * 255).astype(np.uint8)


def _with_guidance(alpha: np.ndarray, guidance: np.ndarray) -> np.ndarray:
    return np.maximum(alpha, 0.4 * (guidance > 0.5))


def _caption(text: str, width: int) -> np.ndarray:
    strip = np.full((20, width, 3), 255, np.uint8)
    cv2.putText(strip, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def pick_samples(manifest: dict, count: int) -> list[dict]:
    """Samples whose targets show each effect in turn, then the first others."""
    chosen: list[dict] = []
    for effect in EFFECTS:
        for sample in manifest["samples"]:
            kinds = [sample["objects"][t["object"]]["effect"]["kind"] for t in sample["targets"]]
            if effect in kinds and sample not in chosen:
                chosen.append(sample)
                break
    chosen += [s for s in manifest["samples"] if s not in chosen]
    return chosen[:count]


def sample_row(root: Path, sample: dict) -> np.ndarray:
    image = _read(root / sample["image"])
    front, back = sample["targets"]
    alpha_f, alpha_b = _read(root / front["alpha"]), _read(root / back["alpha"])
    tiles = [
        _tile(image),
        _zoom(image, alpha_f),
        _tile(_with_guidance(alpha_f, _read(root / front["guidance"]["paper"]))),
        _tile(_with_guidance(alpha_b, _read(root / back["guidance"]["noisy"]))),
    ]
    row = np.hstack(tiles)

    def describe(target: dict) -> str:
        effect = sample["objects"][target["object"]]["effect"]["kind"]
        return f"{effect} [{', '.join(target['categories'])}]"

    text = (
        f"{sample['name']}  front: {describe(front)} (paper guidance)   "
        f"occluded: {describe(back)} (noisy guidance)"
    )
    return np.vstack([_caption(text, row.shape[1]), row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a wild set folder (manifest.json)")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--rows", type=int, default=6)
    args = parser.parse_args()
    manifest = json.loads((args.data / "manifest.json").read_text())
    rows = [sample_row(args.data, s) for s in pick_samples(manifest, args.rows)]
    head = _caption(
        "image | 2x zoom on the front target's soft edge | front alpha (white) over paper "
        "guidance (grey) | occluded alpha over noisy guidance",
        rows[0].shape[1],
    )
    write_png(args.out, np.vstack([head, *rows]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
