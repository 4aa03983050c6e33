"""PRN shapes, ranges, configs, progressive fusion on hand-made tensors, weight files."""

import json

import pytest
import torch

from wildmatte.errors import InputError
from wildmatte.model import (
    PRN,
    fuse_progressive,
    get_config,
    load_model,
    save_model,
    uncertain_band,
)


def test_prn_outputs_three_heads_and_fused_alpha_in_unit_range():
    torch.manual_seed(0)
    model = PRN("prn-tiny").eval()
    image, guidance = torch.rand(2, 3, 64, 96), (torch.rand(2, 1, 64, 96) > 0.5).float()
    with torch.no_grad():
        out = model(image, guidance)
    assert set(out) == {"alpha_os8", "alpha_os4", "alpha_os1", "alpha"}
    for value in out.values():
        assert value.shape == (2, 1, 64, 96)
        assert float(value.min()) >= 0.0 and float(value.max()) <= 1.0


def test_full_and_light_configs_differ_in_size():
    full = sum(p.numel() for p in PRN("prn").parameters())
    light = sum(p.numel() for p in PRN("prn-light").parameters())
    assert full > 20e6  # ResNet-34-style encoder
    assert light < full / 4
    assert get_config("prn").depths == (3, 4, 6, 3)


def test_partial_config_dict_starts_from_named_config():
    cfg = get_config({"name": "prn-tiny", "seg_head": True})
    assert cfg.stem == get_config("prn-tiny").stem and cfg.seg_head
    out = PRN(cfg).eval()(torch.rand(1, 3, 32, 32), torch.ones(1, 1, 32, 32))
    assert out["seg_logits"].shape == (1, 1, 32, 32)


def test_uncertain_band_marks_soft_pixels_and_dilates_by_radius():
    alpha = torch.zeros(1, 1, 21, 21)
    alpha[0, 0, 10, 10] = 0.5
    alpha[0, 0, 0, 0] = 1.0  # certain: not in the band
    band = uncertain_band(alpha, 3)[0, 0]
    assert band.sum() == 49  # a 7×7 square around the soft pixel
    assert band[10, 13] and not band[10, 14] and not band[0, 0]
    assert uncertain_band(alpha, 0)[0, 0].sum() == 1


def test_fusion_takes_finer_heads_only_inside_their_bands():
    os8 = torch.zeros(1, 1, 40, 40)
    os8[..., :, 20:] = 1.0
    os8[..., 10, 19] = 0.5  # one uncertain pixel
    os4 = torch.full_like(os8, 0.25)
    os1 = torch.full_like(os8, 0.75)
    fused = fuse_progressive(os8, os4, os1, radius_os4=2, radius_os1=1)[0, 0]
    # Far from the uncertain pixel the 1/8 alpha is kept.
    assert fused[30, 5] == 0.0 and fused[30, 35] == 1.0
    # Inside the 1/4 band (radius 2), everything became 0.25, which is uncertain itself,
    # so the 1/1 band is that 5×5 square dilated by 1: 7×7 of 0.75.
    assert fused[10, 19] == 0.75 and fused[7, 16] == 0.75
    assert (fused == 0.75).sum() == 49
    assert (fused == 0.25).sum() == 0


def test_fusion_with_all_certain_coarse_alpha_returns_it():
    os8 = (torch.rand(1, 1, 16, 16) > 0.5).float()
    fused = fuse_progressive(os8, torch.rand_like(os8), torch.rand_like(os8))
    assert torch.equal(fused, os8)


def test_weights_round_trip_and_refuse_pickles(tmp_path):
    model = PRN("prn-tiny").eval()
    path = save_model(model, tmp_path / "w", meta={"note": "test"})
    assert path.name == "w.safetensors" and (tmp_path / "w.json").is_file()
    assert json.loads((tmp_path / "w.json").read_text())["config"]["name"] == "prn-tiny"
    loaded = load_model(tmp_path / "w.json")
    x, g = torch.rand(1, 3, 32, 32), torch.ones(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x, g)["alpha"], loaded(x, g)["alpha"])
    torch.save(model.state_dict(), tmp_path / "w.pt")
    with pytest.raises(InputError, match="safetensors"):
        load_model(tmp_path / "w.pt")
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "missing.safetensors")


def test_weights_of_another_config_are_refused(tmp_path):
    save_model(PRN("prn-tiny"), tmp_path / "w")
    doc = json.loads((tmp_path / "w.json").read_text())
    doc["config"]["stem"] = 16
    (tmp_path / "w.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="does not match w.json"):
        load_model(tmp_path / "w.safetensors")
