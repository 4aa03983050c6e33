"""Stage-2 data: COCO/plain weak sets, the two views, the guidance kernel, build-weak."""

import json

import cv2
import numpy as np
import pytest
from conftest import make_bg_folder, make_rgba_folder
from pycocotools import mask as mask_utils

from wildmatte.data.split import train_val_split
from wildmatte.data.views import (
    ViewOptions,
    guidance_kernel,
    linear_perturb,
    make_views,
    perturb_guidance,
)
from wildmatte.data.weak import (
    CocoInstances,
    MaskFolder,
    WeakDataset,
    build_weak_dataset,
    expand_placeholders,
)
from wildmatte.data.weak_build import build_weak_set
from wildmatte.errors import InputError
from wildmatte.interfaces.cli import main

H, W = 40, 50


def _rect(x0, y0, x1, y1) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE: run lengths of the column-major pixels, zeros first."""
    flat = mask.flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    return {"size": [H, W], "counts": ([0] if flat[0] else []) + runs}


def _compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def _coco(tmp_path):
    """An image with a polygon, an uncompressed and a compressed RLE, a crowd and a tiny one."""
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), np.full((H, W, 3), 128, np.uint8))
    masks = {1: _rect(5, 5, 20, 25), 2: _rect(22, 10, 40, 30), 3: _rect(0, 30, 50, 40)}
    anns = [
        {"id": 1, "segmentation": [[5, 5, 20, 5, 20, 25, 5, 25]], "iscrowd": 0},
        {"id": 2, "segmentation": _uncompressed_rle(masks[2]), "iscrowd": 0},
        {"id": 3, "segmentation": _compressed_rle(masks[3]), "iscrowd": 0},
        {"id": 4, "segmentation": _uncompressed_rle(_rect(0, 0, 50, 40)), "iscrowd": 1},
        {"id": 5, "segmentation": [[1, 1, 3, 1, 3, 3, 1, 3]], "iscrowd": 0},  # 4 px: too small
    ]
    for a in anns:
        a["image_id"] = 7
    doc = {"images": [{"id": 7, "file_name": "a.jpg", "height": H, "width": W}]}
    doc["annotations"] = anns
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(doc))
    return path, masks


def test_coco_polygons_and_rle_load_with_the_right_masks(tmp_path):
    path, masks = _coco(tmp_path)
    coco = CocoInstances(path, tmp_path / "images", min_area=0.01, max_area=0.9)
    assert [e.ann_id for e in coco.items] == [1, 2, 3]  # crowd and tiny filtered out
    for k, ann_id in enumerate([1, 2, 3]):
        rgb, mask = coco[k]
        assert rgb.shape == (H, W, 3)
        want = masks[ann_id]
        # Polygons are rasterised on pixel corners: allow their one-pixel rim.
        tolerance = 0 if ann_id != 1 else 2 * (15 + 20) + 1
        assert np.abs(mask.astype(int) - want).sum() <= tolerance
    with_crowd = CocoInstances(path, tmp_path / "images", min_area=0.0, max_area=1.0, crowd=True)
    assert len(with_crowd) == 5


def test_bad_coco_inputs_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="bad.json: not valid JSON"):
        CocoInstances(bad, tmp_path)
    bad.write_text(json.dumps({"images": []}))
    with pytest.raises(InputError, match="not a COCO instances file"):
        CocoInstances(bad, tmp_path)
    with pytest.raises(InputError, match="annotation file not found"):
        CocoInstances(tmp_path / "missing.json", tmp_path)
    path, _ = _coco(tmp_path)
    doc = json.loads(path.read_text())
    doc["annotations"][1]["segmentation"]["counts"] = [1, 2]  # does not cover the image
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="bad.json: annotation 2: .*RLE counts"):
        CocoInstances(bad, tmp_path / "images", min_area=0.01)  # no area: decoded to filter
    doc["annotations"][1]["area"] = 360
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="bad.json: annotation 2: .*RLE counts"):
        CocoInstances(bad, tmp_path / "images", min_area=0.01)[1]  # decoded when drawn
    (tmp_path / "images" / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match="a.jpg"):
        CocoInstances(path, tmp_path / "images")[0]


def test_plain_folder_layout(tmp_path):
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "cat.jpg"), np.zeros((H, W, 3), np.uint8))
    (tmp_path / "masks" / "cat").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "masks" / "cat" / "0.png"), _rect(5, 5, 20, 25) * 255)
    cv2.imwrite(str(tmp_path / "masks" / "cat" / "1.png"), _rect(0, 0, 2, 2) * 255)  # tiny
    folder = MaskFolder(tmp_path, min_area=0.01)
    assert len(folder) == 1
    assert np.array_equal(folder[0][1], _rect(5, 5, 20, 25))


def _object_image(size=120):
    """A textured picture whose object is exactly the mask: white disc on dark noise."""
    rng = np.random.default_rng(3)
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, (60, 55), (30, 18), 20, 0, 360, 1, -1)
    image = rng.uniform(0.0, 0.3, (size, size, 3)).astype(np.float32)
    image[mask > 0] = 0.9
    return image, mask


def test_weak_and_strong_views_share_one_geometry():
    image, mask = _object_image()
    plain = ViewOptions(pixel=False, guidance=False)
    a = make_views(image, mask, np.random.default_rng(5), 64, plain)
    b = make_views(image, mask, np.random.default_rng(5), 64, ViewOptions())
    # Geometry is drawn first: the same seed gives the same weak view whatever the perturbations.
    assert np.array_equal(a["image_weak"], b["image_weak"])
    assert np.array_equal(a["guidance_weak"], b["guidance_weak"])
    assert np.array_equal(a["image_strong"], a["image_weak"])  # nothing switched on
    # The un-perturbed strong image lines up with the guidance: the object is where the mask is.
    bright = a["image_strong"].mean(axis=0) > 0.6
    guide = a["guidance_weak"][0] > 0.5
    assert guide.sum() > 100 and (bright & guide).sum() / (bright | guide).sum() > 0.9
    assert np.array_equal(b["mask"], b["guidance_weak"])
    # The perturbed strong view is a linear function of the weak one plus noise.
    x, y = b["image_weak"].ravel(), b["image_strong"].ravel()
    assert abs(np.corrcoef(x, y)[0, 1]) > 0.9


def test_linear_perturbation_keeps_pixel_mixtures():
    image, _ = _object_image()
    opts = ViewOptions(noise=(0.0, 0.0))
    out = linear_perturb(image * 0.5 + 0.25, np.random.default_rng(0), opts)
    slope, icpt = np.polyfit((image * 0.5 + 0.25).ravel(), out.ravel(), 1)
    assert np.allclose(out, slope * (image * 0.5 + 0.25) + icpt, atol=1e-5)


def test_guidance_kernel_scales_with_the_box():
    small = np.zeros((200, 200), np.uint8)
    small[50:70, 40:100] = 1  # short side 20
    big = np.zeros((200, 200), np.uint8)
    big[40:80, 20:140] = 1  # short side 40
    assert guidance_kernel(small, 0.2) == 4 and guidance_kernel(big, 0.2) == 8
    assert guidance_kernel(big, 0.5) == 20

    def reach(mask):
        """Farthest any changed pixel lies from the original boundary, over several draws."""
        inside = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
        outside = cv2.distanceTransform(1 - mask, cv2.DIST_L2, 5)
        far = 0.0
        for seed in range(8):
            changed = perturb_guidance(mask, np.random.default_rng(seed), 0.5) != mask
            far = max(far, float(np.maximum(inside, outside)[changed].max(initial=0)))
        return far

    r_small, r_big = reach(small), reach(big)
    assert 0 < r_small <= guidance_kernel(small, 0.5)
    assert 1.6 < r_big / r_small < 2.4


def test_build_weak_writes_a_valid_coco_set_from_train_objects(tmp_path):
    fg = make_rgba_folder(tmp_path / "fg", n=8)
    bg = make_bg_folder(tmp_path / "bg", n=4)
    path = build_weak_set(fg, bg, tmp_path / "weak", n=4, seed=1, size=96, progress=False)
    doc = json.loads(path.read_text())
    assert len(doc["images"]) == 4 and doc["annotations"]
    train, val = train_val_split(sorted(p.name for p in fg.iterdir()), 0.12)
    assert val and {a["source"] for a in doc["annotations"]} <= set(train)
    for a in doc["annotations"]:
        assert a["iscrowd"] == 0 and isinstance(a["segmentation"], list)
        assert all(len(p) >= 6 and len(p) % 2 == 0 for p in a["segmentation"])
    for im in doc["images"]:
        assert cv2.imread(str(tmp_path / "weak" / "images" / im["file_name"])).shape[:2] == (
            im["height"],
            im["width"],
        )
    coco = CocoInstances(path, tmp_path / "weak" / "images", min_area=0.0, max_area=1.0)
    assert len(coco) == len(doc["annotations"]) and all(coco[k][1].any() for k in range(len(coco)))
    assert not list((tmp_path / "weak").rglob("*.tmp"))


def test_data_command_and_its_one_line_errors(tmp_path, capsys):
    fg = make_rgba_folder(tmp_path / "fg", n=4)
    bg = make_bg_folder(tmp_path / "bg", n=3)
    args = ["data", "build-weak", "--fg", str(fg), "--bg", str(bg), "--out", str(tmp_path / "o")]
    assert main([*args, "--n", "2", "--size", "64"]) == 0
    assert (tmp_path / "o" / "instances.json").is_file()
    capsys.readouterr()
    assert main([*args[:3], str(tmp_path / "nope"), *args[4:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope: not a folder" in err[0]


def test_weak_dataset_items_are_deterministic_tensors(tmp_path):
    path, _ = _coco(tmp_path)
    st = {
        "data": {"type": "coco", "annotations": str(path), "images": str(tmp_path / "images")},
        "views": {"beta": 0.3},
    }
    st["data"].update(crop_size=32, length=10)
    data = build_weak_dataset(st, seed=3)
    item = data[4]
    assert set(item) == {"image_weak", "image_strong", "guidance_weak", "guidance_strong", "mask"}
    assert item["image_weak"].shape == (3, 32, 32) and item["mask"].shape == (1, 32, 32)
    assert all(np.array_equal(item[k], data[4][k]) for k in item)
    assert isinstance(data, WeakDataset)
    with pytest.raises(InputError, match="unknown option"):
        build_weak_dataset({**st, "views": {"betta": 1}})


def test_placeholders_expand(monkeypatch, tmp_path):
    monkeypatch.setenv("WILDMATTE_DATA", str(tmp_path))
    assert expand_placeholders("{data}/x") == tmp_path / "x"
    default = expand_placeholders("{default}")
    assert default.name == "default.safetensors" and default.parent.name == "weights"
