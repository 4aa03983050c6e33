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
    meta = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())["meta"]
    assert meta["sha256"] == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert meta["tag"].startswith("prn-light.") and meta["licence"]
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
    """A regression guard, as pymatting tests its solvers against a reference matte."""
    image = read_image(ASSETS / "example.jpg")
    mask = read_mask(ASSETS / "example_mask.png")
    truth = read_alpha(ASSETS / "example_alpha.png")
    alpha = Matter.from_pretrained(device="cpu").predict(image, mask)
    # Measured 2026-12-02 on CPU (torch 2.14.1): prn-light.r9 SAD 0.609 (/1000), r8 0.578;
    # closed-form on the same mask 6.30 with its tuned 45-px erosion (1.47 with 15 px), the mask
    # itself 11.36. The bound leaves ~7% for other machines.
    assert sad(alpha, truth) < 0.65
