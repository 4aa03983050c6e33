"""Loss values on hand-made cases."""

import torch
import torch.nn.functional as F

from wildmatte.training.checkpoint import load_checkpoint, save_checkpoint
from wildmatte.training.losses import (
    _blur,
    background_loss,
    composition_loss,
    l1_loss,
    laplacian_loss,
    laplacian_pyramid,
    matting_loss,
    missed_loss,
)


def test_l1_with_and_without_region():
    pred = torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]])
    gt = torch.tensor([[[[0.0, 0.0], [1.0, 0.5]]]])
    assert torch.isclose(l1_loss(pred, gt), torch.tensor(1.5 / 4))
    region = torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]])
    assert torch.isclose(l1_loss(pred, gt, region), torch.tensor(1.0))


def test_background_loss_counts_alpha_only_where_the_target_is_absent():
    gt = torch.tensor([[[[0.0, 0.0], [1.0, 0.5]]]])
    pred = torch.tensor([[[[0.25, 1.0], [0.0, 1.0]]]])  # errors on the target are not its job
    assert torch.isclose(background_loss(pred, gt), torch.tensor(1.25 / 4))
    region = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]]])
    assert torch.isclose(background_loss(pred, gt, region), torch.tensor(0.25 / 3))
    # In matting_loss only when weighted: a perfect prediction still costs nothing.
    alpha = (torch.rand(1, 1, 32, 32) > 0.5).float()
    perfect = {h: alpha.clone() for h in ("alpha_os8", "alpha_os4", "alpha_os1")}
    total, logs = matting_loss(perfect, _batch(alpha), terms={"l1": 1.0, "bg": 2.0})
    assert float(total) < 1e-6 and logs["bg_os1"] == 0.0
    _, logs = matting_loss(perfect, _batch(alpha))
    assert "bg_os1" not in logs


def test_missed_loss_counts_target_left_out_only_where_the_guidance_missed_it():
    gt = torch.tensor([[[[1.0, 1.0], [0.5, 0.0]]]])
    guidance = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    pred = torch.tensor([[[[0.0, 0.25], [1.0, 1.0]]]])  # inside the mask, or too much: not its job
    assert torch.isclose(missed_loss(pred, gt, guidance), torch.tensor(0.75 / 4))
    region = torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]])
    assert torch.isclose(missed_loss(pred, gt, guidance, region), torch.tensor(0.75 / 3))
    alpha = (torch.rand(1, 1, 32, 32) > 0.5).float()
    batch = {**_batch(alpha), "guidance": torch.zeros_like(alpha)}
    dropped = {h: torch.zeros_like(alpha) for h in ("alpha_os8", "alpha_os4", "alpha_os1")}
    _, logs = matting_loss(dropped, batch, terms={"l1": 1.0, "missed": 4.0})
    assert abs(logs["missed_os1"] - float(alpha.mean())) < 1e-6
    _, logs = matting_loss(dropped, batch)
    assert "missed_os1" not in logs


def test_composition_loss_is_zero_for_true_alpha_and_measures_colour_error():
    fg = torch.ones(1, 3, 2, 2)
    bg = torch.zeros(1, 3, 2, 2)
    alpha = torch.full((1, 1, 2, 2), 0.25)
    image = alpha * fg + (1 - alpha) * bg
    assert composition_loss(alpha, fg, bg, image) == 0
    # Predicting 0.75 everywhere re-composes to 0.75: error 0.5 per channel and pixel.
    assert torch.isclose(composition_loss(alpha + 0.5, fg, bg, image), torch.tensor(0.5))


def test_laplacian_pyramid_reconstructs_constant_and_loss_is_zero_when_equal():
    flat = torch.full((1, 1, 32, 32), 0.3)
    bands = laplacian_pyramid(flat, 5)
    assert len(bands) == 5 and bands[-1].shape[-1] == 2
    for band in bands[:-1]:
        assert band.abs().max() < 1e-6  # a constant image has no detail
    x = torch.rand(1, 1, 32, 32)
    assert laplacian_loss(x, x) == 0
    assert laplacian_loss(x, 1 - x) > 0


def test_laplacian_loss_weights_coarse_levels_more():
    # A uniform offset lives only in the coarsest (residual) band, weighted 2^4.
    x = torch.zeros(1, 1, 32, 32)
    assert torch.isclose(laplacian_loss(x + 0.1, x, levels=5), torch.tensor(16 * 0.1), atol=1e-5)


def _batch(alpha):
    fg, bg = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    return {"alpha": alpha, "fg": fg, "bg": bg, "image": alpha * fg + (1 - alpha) * bg}


def test_matting_loss_zero_for_perfect_heads_and_weights_heads_1_1_2():
    alpha = torch.rand(1, 1, 32, 32)
    batch = _batch(alpha)
    perfect = {h: alpha.clone() for h in ("alpha_os8", "alpha_os4", "alpha_os1")}
    total, logs = matting_loss(perfect, batch)
    assert float(total) < 1e-6 and logs["l1_os1"] < 1e-6
    only_l1 = {"l1": 1.0}
    wrong_fine = {**perfect, "alpha_os1": (alpha + 0.1).clamp(0, 1)}
    wrong_coarse = {**perfect, "alpha_os8": (alpha + 0.1).clamp(0, 1)}
    fine, _ = matting_loss(wrong_fine, batch, terms=only_l1)
    coarse, _ = matting_loss(wrong_coarse, batch, terms=only_l1)
    assert torch.isclose(fine, 2 * coarse)


def test_band_regions_restrict_finer_heads():
    alpha = torch.rand(1, 1, 32, 32)
    batch = _batch(alpha)
    out = {h: alpha.clone() for h in ("alpha_os8", "alpha_os4")}
    out["alpha_os1"] = torch.zeros_like(alpha)
    empty = torch.zeros_like(alpha)
    total, _ = matting_loss(out, batch, terms={"l1": 1.0}, bands=(empty, empty))
    assert float(total) < 1e-6  # the wrong 1/1 head lies outside its (empty) band


def test_checkpoint_round_trip_keeps_nesting_and_tensors(tmp_path):
    state = {"model": {"w": torch.arange(4.0)}, "step": 7, "opt": [[0, {"m": torch.ones(2)}]]}
    save_checkpoint(tmp_path / "c.safetensors", state)
    loaded = load_checkpoint(tmp_path / "c.safetensors")
    assert loaded["step"] == 7 and torch.equal(loaded["model"]["w"], torch.arange(4.0))
    assert torch.equal(loaded["opt"][0][1]["m"], torch.ones(2))
    assert not list(tmp_path.glob("*.tmp"))


def test_blur_is_the_binomial_5x5_convolution_with_reflected_borders():
    x = torch.rand(2, 1, 23, 17)
    k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    kernel = (torch.outer(k, k) / 256).view(1, 1, 5, 5)
    expected = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel)
    assert torch.allclose(_blur(x), expected, atol=1e-6)
    assert torch.allclose(_blur(x, step=2), expected[..., ::2, ::2], atol=1e-6)
