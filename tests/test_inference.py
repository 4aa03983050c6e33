import numpy as np
import pytest
import torch
from PIL import Image

from wildmatte import Matter
from wildmatte.errors import InputError
from wildmatte.inference.engines import ClassicEngine, get_engine, pad_to_multiple, trimap_from_mask
from wildmatte.inference.foreground import composite, cutout, parse_background
from wildmatte.inference.io import read_mask, to_uint, write_png
from wildmatte.model import PRN, save_model


def _scene(h: int = 96, w: int = 128):
    """A red rectangle (alpha 1) with a soft 1-px edge on a blue background, and its mask."""
    alpha = np.zeros((h, w), np.float32)
    alpha[24:72, 32:96] = 1.0
    alpha[23, 32:96] = alpha[72, 32:96] = 0.5
    fg = np.zeros((h, w, 3), np.float32)
    fg[..., 0] = 1.0
    bg = np.zeros((h, w, 3), np.float32)
    bg[..., 2] = 1.0
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    mask = np.zeros((h, w), np.float32)
    mask[18:78, 26:102] = 1.0
    return image, mask, alpha


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (32, 32), (33, 70)])
def test_padding_to_multiple_of_32_and_back(size):
    x = torch.rand(1, 4, *size)
    padded, (h, w) = pad_to_multiple(x)
    assert padded.shape[2] % 32 == 0 and padded.shape[3] % 32 == 0
    assert torch.equal(padded[:, :, :h, :w], x)


@pytest.mark.parametrize("size", [(1, 1), (37, 50)])
def test_prn_engine_returns_alpha_of_the_image_size(size):
    engine = get_engine("prn", None, "cpu", init="random", model="prn-tiny")
    image = np.random.default_rng(0).random((*size, 3), dtype=np.float32)
    alpha = engine(image, np.ones(size, np.float32))
    assert alpha.shape == size and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0


def test_prn_engine_loads_saved_weights(tmp_path):
    torch.manual_seed(0)
    model = PRN("prn-tiny").eval()
    save_model(model, tmp_path / "w")
    image, mask, _ = _scene()
    a = get_engine("prn", tmp_path / "w.safetensors", "cpu")(image, mask)
    with torch.no_grad():
        ref = model(
            torch.from_numpy(image.transpose(2, 0, 1))[None], torch.from_numpy(mask)[None, None]
        )
    np.testing.assert_allclose(a, ref["alpha"][0, 0].numpy(), atol=1e-6)


def test_from_pretrained_refuses_pickles(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"not allowed")
    with pytest.raises(InputError, match="safetensors"):
        Matter.from_pretrained(tmp_path / "model.pt")


def test_trimap_keeps_the_mask_as_unknown_and_the_eroded_mask_as_foreground():
    mask = np.zeros((40, 40), np.float32)
    mask[5:35, 5:35] = 1
    trimap = trimap_from_mask(mask, erode=4)
    assert set(np.unique(trimap)) == {0.0, 0.5, 1.0}
    assert (trimap[mask == 0] == 0).all()
    assert trimap[20, 20] == 1 and trimap[5, 20] == 0.5 and trimap[9, 20] == 1


@pytest.mark.parametrize("name", ["classic", "classic-knn", "classic-lkm"])
def test_classic_engines_recover_a_clean_composite(name):
    image, mask, alpha = _scene()
    engine = get_engine(name)
    pred = engine(image, mask)
    assert engine.name == name and pred.dtype == np.float32
    assert np.abs(pred - alpha).mean() < 0.02


def test_classic_engine_names_its_methods():
    with pytest.raises(ValueError, match="unknown classic method 'nope'"):
        ClassicEngine("nope")


def test_classic_engine_handles_masks_whose_erosion_leaves_no_foreground():
    image, _, _ = _scene()
    thin = np.zeros(image.shape[:2], np.float32)
    thin[20:22, 5:60] = 1  # a 2-px line: any erosion removes it
    pred = ClassicEngine(erode=5)(image, thin)
    assert pred.shape == thin.shape and np.isfinite(pred).all()
    assert pred[thin == 0].max() <= 1.0


def test_classic_engine_all_ones_mask_is_all_foreground():
    image, _, _ = _scene()
    assert (ClassicEngine()(image, np.ones(image.shape[:2], np.float32)) == 1).all()


def test_matter_accepts_numpy_and_pil_and_returns_float_alpha():
    image, mask, _ = _scene()
    m = Matter.from_pretrained(engine="guidance")
    a_np = m.predict((image * 255).astype(np.uint8), (mask * 255).astype(np.uint8))
    a_pil = m.predict(
        Image.fromarray((image * 255).astype(np.uint8)),
        Image.fromarray((mask * 255).astype(np.uint8)),
    )
    assert a_np.dtype == np.float32 and a_np.shape == mask.shape
    np.testing.assert_array_equal(a_np, mask)
    np.testing.assert_array_equal(a_pil, mask)
    with pytest.raises(ValueError, match="empty"):
        m.predict(image, np.zeros_like(mask))


def test_matter_cutout_and_composite_reproduce_the_scene():
    image, mask, alpha = _scene()
    m = Matter.from_pretrained(engine="classic")
    rgba = m.cutout(image, alpha=alpha)
    assert rgba.shape == (*alpha.shape, 4)
    np.testing.assert_allclose(rgba[..., 3], alpha)
    inside = alpha > 0.99
    np.testing.assert_allclose(rgba[inside, :3], image[inside], atol=1e-3)
    back = m.composite(image, "blue", alpha=alpha)
    np.testing.assert_allclose(back, image, atol=0.02)
    assert m.predict(image, mask).shape == alpha.shape


def test_composite_formula_and_backgrounds(tmp_path):
    fg = np.ones((2, 2, 3), np.float32)
    alpha = np.array([[0, 0.25], [0.5, 1]], np.float32)
    out = composite(fg, alpha, np.zeros((2, 2, 3), np.float32))
    np.testing.assert_allclose(out[..., 0], alpha)
    assert cutout(fg, alpha).shape == (2, 2, 4)
    np.testing.assert_allclose(parse_background("#ff0000", (2, 3))[1, 2], [1, 0, 0])
    np.testing.assert_allclose(parse_background("0,255,0", (1, 1))[0, 0], [0, 1, 0])
    write_png(tmp_path / "bg.png", np.full((4, 8, 3), 0.5, np.float32))
    assert parse_background(tmp_path / "bg.png", (6, 6)).shape == (6, 6, 3)
    with pytest.raises(InputError, match="neither a colour"):
        parse_background(tmp_path / "nope.png", (2, 2))


def test_alpha_is_rounded_not_truncated():
    x = np.array([0.0, 0.4 / 255, 0.6 / 255, 254.5 / 255, 1.0])
    assert to_uint(x).tolist() == [0, 0, 1, 254 if np.rint(254.5) == 254 else 255, 255]
    assert to_uint(np.array([0.5]), 16).tolist() == [32768]


def test_read_mask_binarises_at_128_and_checks_size(tmp_path):
    values = np.array([[0, 127, 128, 255]], np.uint8)
    Image.fromarray(values).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), [[0, 0, 1, 1]])
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png", threshold=10), [[0, 1, 1, 1]])
    with pytest.raises(InputError, match="resize-mask"):
        read_mask(tmp_path / "m.png", shape=(2, 8))
    assert read_mask(tmp_path / "m.png", shape=(2, 8), resize=True).shape == (2, 8)


def test_trimap_spec_erodes_by_a_share_of_the_box_and_reaches_outside_the_mask():
    from wildmatte.inference.engines import Trimap

    mask = np.zeros((100, 100), np.float32)
    mask[20:80, 20:80] = 1  # a 60-px square
    trimap = trimap_from_mask(mask, spec=Trimap(erode_px=5, erode_frac=0.2, dilate_px=4))
    assert trimap[50, 50] == 1 and trimap[50, 31] == 0.5 and trimap[50, 33] == 1  # 12-px erosion
    assert trimap[50, 17] == 0.5 and trimap[50, 15] == 0  # a 4-px band outside the mask


def test_classic_engine_takes_a_preset_by_guidance_kind():
    from wildmatte.inference.engines import TRIMAPS

    assert ClassicEngine(trimap="noisy").trimap == TRIMAPS["noisy"]
    with pytest.raises(ValueError, match="unknown trimap preset"):
        ClassicEngine(trimap="loose")
