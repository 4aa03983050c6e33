"""Feature-affinity propagation (wildmatte/applications/affinity.py): labels follow what the
cells look like, so the parts of an object that bend and swing are kept."""

import numpy as np
import torch
from scenes import walker_clip

from wildmatte.applications.affinity import AffinityPropagator, propagate_labels
from wildmatte.applications.video import matte_clip


def _patch_features(h: int, w: int, box: tuple[int, int, int, int]) -> torch.Tensor:
    """2×h×w unit features: (1, 0) inside the box (y0, x0, y1, x1), (0, 1) elsewhere."""
    inside = torch.zeros(h, w)
    inside[box[0] : box[2], box[1] : box[3]] = 1
    return torch.stack([inside, 1 - inside])


def test_labels_go_where_the_features_went_within_the_window():
    before = _patch_features(20, 30, (5, 5, 9, 9))
    label = before[0].clone()  # the object: the patch
    moved = _patch_features(20, 30, (5, 11, 9, 15))  # 6 cells to the right
    out = propagate_labels(moved, [(before, label)], radius=8, k=4, tau=0.07)
    assert out[5:9, 11:15].min() > 0.99 and out.sum() == out[5:9, 11:15].sum()
    # Farther than the window reaches, nothing looks like the object: no label.
    far = _patch_features(20, 30, (5, 20, 9, 24))
    out = propagate_labels(far, [(before, label)], radius=8, k=4, tau=0.07)
    assert out.max() < 0.01


class _Oracle:
    """Mattes exactly the object, inside the guidance only: what the guidance misses is lost."""

    name = "oracle"

    def __init__(self, frames: np.ndarray, gt: np.ndarray) -> None:
        self.frames, self.gt = frames, gt

    def __call__(self, image: np.ndarray, guide: np.ndarray) -> np.ndarray:
        i = next(k for k, f in enumerate(self.frames) if np.array_equal(f, image))
        return self.gt[i] * (guide >= 0.5)


def _guides(propagator, frames: np.ndarray, gt: np.ndarray) -> list[np.ndarray]:
    guides, carry = [], propagator.next_mask

    def record(*args):
        guides.append(carry(*args))
        return guides[-1]

    propagator.next_mask = record
    first = (gt[0] >= 0.5).astype(np.float32)
    list(matte_clip(_Oracle(frames, gt), frames, first, propagator))
    return guides


def test_a_walker_whose_legs_swing_is_followed():
    """Measured (10 frames, 144×192, legs ±35°): the guidance covers 0.993-1.000 of the walker
    in every frame, at 1.10-1.17× its area (the dilation). The flow and shape carry, which
    moves the object as one similarity, keeps 0.89 0.63 0.54 … 0.06 of it."""
    frames, gt = walker_clip()
    guides = _guides(AffinityPropagator(), frames, gt)
    cover = [g[t >= 0.5].mean() for g, t in zip(guides, gt[1:])]
    size = [g.sum() / (t >= 0.5).sum() for g, t in zip(guides, gt[1:])]
    assert min(cover) >= 0.98 and max(size) <= 1.5, (cover, size)


def test_a_start_empties_the_memory():
    frames, gt = walker_clip(frames=3)
    prop = AffinityPropagator()
    prop.start(gt[0])
    prop.next_mask(frames[0], frames[1], gt[0])
    prop.next_mask(frames[1], frames[2], gt[1])
    assert prop.first is not None and len(prop.last) == 1
    prop.start(np.zeros_like(gt[0]))  # a keyframe where the object is absent
    assert prop.first is None and prop.last == []
    assert not prop.next_mask(frames[1], frames[2], gt[1]).any()


def test_the_video_command_propagates_by_affinity_when_asked(tmp_path, capsys):
    import cv2

    from wildmatte.interfaces.cli import main

    frames, gt = walker_clip(frames=4)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.rint(f[..., ::-1] * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), ((gt[0] >= 0.5) * 255).astype(np.uint8))
    args = ["video", str(folder), "--mask", str(tmp_path / "m.png"), "--out", str(tmp_path / "o")]
    assert main([*args, "--engine", "guidance", "--propagate", "affinity"]) == 0
    alphas = [cv2.imread(str(p), 0) / 255 for p in sorted((tmp_path / "o" / "alpha").iterdir())]
    assert len(alphas) == 4 and all((a[t >= 0.5] >= 0.5).mean() >= 0.95 for a, t in zip(alphas, gt))


def test_joint_guidance_holds_both_carries():
    from wildmatte.applications.affinity import JointPropagator, major_parts
    from wildmatte.applications.propagate import FlowPropagator

    frames, gt = walker_clip(frames=4)
    flow, aff = FlowPropagator(), AffinityPropagator()
    joint = JointPropagator(FlowPropagator(), AffinityPropagator(features=aff.features))
    for p in (flow, aff, joint):
        p.start(gt[0])
    for i in (1, 2, 3):
        f, a, j = (p.next_mask(frames[i - 1], frames[i], gt[i - 1]) for p in (flow, aff, joint))
        np.testing.assert_array_equal(j, major_parts(np.maximum(f, a)))
        assert (j[gt[i] >= 0.5] == 1).mean() >= 0.98  # the walker is all in it


def test_major_parts_drops_a_scrap_left_behind_and_keeps_halves():
    from wildmatte.applications.affinity import major_parts

    mask = np.zeros((60, 80), np.float32)
    mask[10:50, 10:30] = 1  # the object's left half (800 px)
    mask[10:50, 34:50] = 1  # its right half, split by an occluder (640 px)
    mask[5:15, 65:75] = 1  # a scrap left behind (100 px: 1/8 of the largest)
    kept = major_parts(mask)
    assert kept[10:50, 10:30].all() and kept[10:50, 34:50].all() and not kept[5:15, 65:75].any()


def test_the_default_propagation_is_both_from_the_shipped_features(tmp_path):
    """`wildmatte video` joins flow and affinity unless told otherwise, and the features come
    from the file in the package (no optional package, nothing downloaded)."""
    from wildmatte.applications.affinity import FEATURES_FILE, JointPropagator
    from wildmatte.interfaces.cli import build_parser
    from wildmatte.interfaces.commands.video import _propagator

    args = build_parser().parse_args(["video", "c.mp4", "--mask", "m.png", "--out", "o"])
    assert isinstance(_propagator(args), JointPropagator)
    assert FEATURES_FILE.is_file() and FEATURES_FILE.stat().st_size < 4_000_000


def test_a_broken_feature_file_is_one_clear_error(tmp_path):
    import pytest
    from safetensors.torch import save_file

    from wildmatte.applications.affinity import load_features_net

    with pytest.raises(FileNotFoundError, match="missing"):
        load_features_net(tmp_path / "none.safetensors")
    save_file({"stem.0.weight": torch.zeros(32, 3, 3, 3)}, str(tmp_path / "cut.safetensors"))
    with pytest.raises(KeyError, match="missing"):
        load_features_net(tmp_path / "cut.safetensors")
