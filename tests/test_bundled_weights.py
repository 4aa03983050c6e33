"""The bundled default weights: their release fields, and their score on the bundled example."""

import hashlib
import json
from pathlib import Path

import pytest

from wildmatte import Matter, __version__
from wildmatte.data.imageio import read_alpha
from wildmatte.evaluation.metrics import sad
from wildmatte.inference.engines import DEFAULT_WEIGHTS
from wildmatte.inference.io import read_image, read_mask
from wildmatte.interfaces.cli import main
from wildmatte.training.config import available_configs

ASSETS = Path(__file__).resolve().parents[1] / "wildmatte" / "assets"


def test_release_fields_match_the_file():
    card = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    meta = card["meta"]
    assert meta["sha256"] == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    # The tag names the architecture the file holds (prn-light.r9, prn-effl0.…).
    assert meta["tag"].startswith(card["config"]["name"] + ".") and meta["licence"]
    assert meta["recipe"] in available_configs()


def test_info_and_version_name_the_weights(capsys):
    info = Matter.from_pretrained().info()
    meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())["meta"]
    assert info["version"] == __version__ and info["weights"] == str(DEFAULT_WEIGHTS)
    assert {k: info[k] for k in ("tag", "sha256", "recipe", "licence")} == {
        k: meta[k] for k in ("tag", "sha256", "recipe", "licence")
    }
    assert Matter.from_pretrained(engine="classic").info() == {
        "version": __version__,
        "engine": "classic",
    }
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and __version__ in out
    assert meta["tag"] in out and meta["sha256"] in out and meta["licence"] in out


def test_bundled_weights_score_on_the_bundled_example():
    """A regression guard on a photo no training run saw (scikit-image's `coffee`, CC0): the
    bundled weights must agree with the example's reference alpha (closed-form matting on a
    tight trimap, scripts/make_example.py) about as well as when they shipped."""
    image = read_image(ASSETS / "example.jpg")
    mask = read_mask(ASSETS / "example_mask.png")
    reference = read_alpha(ASSETS / "example_alpha.png")
    alpha = Matter.from_pretrained(device="cpu").predict(image, mask)
    # Measured 2026-12-07 on CPU (torch 2.14.1, the default onnx engine), SAD /1000 against the
    # reference: prn-light.r9 4.86, r8 3.36; the mask itself 24.1, the mask blurred 24.2,
    # all zeros 112.8. The bound leaves ~13% for other machines and stays far below the mask's.
    bound = 5.5
    assert sad(alpha, reference) < bound
    assert sad(mask.astype("float32"), reference) > 4 * bound  # the bound tells a matte from none
