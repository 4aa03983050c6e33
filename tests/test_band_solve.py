"""The band solve: closed-form inside the network's band of doubt, averaged with the network."""

import cv2
import numpy as np

from wildmatte.inference.band_solve import (
    BandOptions,
    BandSolveEngine,
    refine,
    solve_band,
    uncertain_band,
)
from wildmatte.inference.engines import get_engine
from wildmatte.interfaces.cli import main


def _scene(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A soft-edged orange disc over a blue background, and its true alpha."""
    alpha = np.zeros((size, size), np.float32)
    cv2.circle(alpha, (size // 2, size // 2), size // 4, 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2.0)
    fg, bg = np.array([0.9, 0.5, 0.1], np.float32), np.array([0.1, 0.2, 0.8], np.float32)
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return image.astype(np.float32), alpha


def _too_soft(alpha: np.ndarray) -> np.ndarray:
    """What an unsure network gives: the true edge blurred much wider."""
    return np.clip(cv2.GaussianBlur(alpha, (0, 0), 5.0), 0, 1)


def test_band_is_where_alpha_is_unsure_widened_by_grow():
    alpha = np.zeros((40, 40), np.float32)
    alpha[:, 20:] = 1.0
    alpha[:, 20] = 0.5
    tight = uncertain_band(alpha, BandOptions(grow=0))
    assert tight.sum() == 40 and tight[:, 20].all()
    wide = uncertain_band(alpha, BandOptions(grow=3))
    assert wide[:, 17:24].all() and not wide[:, :16].any() and not wide[:, 25:].any()


def test_refine_moves_a_blurred_edge_towards_the_image():
    image, truth = _scene()
    net = _too_soft(truth)
    solved = refine(image, net, BandOptions(mix=1.0))
    mean = refine(image, net)
    err = {k: np.abs(a - truth).sum() for k, a in {"net": net, "cf": solved, "mean": mean}.items()}
    assert err["cf"] < 0.3 * err["net"], err  # two flat colours: closed-form is near exact
    assert err["cf"] < err["mean"] < err["net"], err
    assert mean.dtype == np.float32 and mean.min() >= 0 and mean.max() <= 1


def test_refine_leaves_sure_pixels_alone():
    image, truth = _scene()
    net = _too_soft(truth)
    band = uncertain_band(net)
    out = refine(image, net)
    assert np.array_equal(out[~band], net[~band])
    assert not np.array_equal(out[band], net[band])


def test_nothing_to_solve_or_nothing_to_anchor_on_returns_the_alpha():
    image, _ = _scene()
    binary = np.zeros(image.shape[:2], np.float32)
    binary[30:60, 30:60] = 1.0
    assert np.array_equal(refine(image, binary), binary)  # no band
    see_through = np.full(image.shape[:2], 0.4, np.float32)  # band everywhere: no sure pixels
    everywhere = np.ones(image.shape[:2], bool)
    assert np.array_equal(solve_band(image, see_through, everywhere), see_through)


def test_engine_wraps_any_engine_and_keeps_its_name():
    image, truth = _scene()

    class Soft:
        name = "soft"

        def __call__(self, img, guidance):
            return _too_soft(truth)

    engine = BandSolveEngine(Soft())
    assert engine.name == "soft"
    guidance = (truth > 0.5).astype(np.float32)
    assert np.abs(engine(image, guidance) - truth).sum() < np.abs(_too_soft(truth) - truth).sum()


def test_get_engine_wraps_learned_engines_only():
    learned = get_engine("prn", init="random", model="prn-tiny", band_solve=True)
    assert isinstance(learned, BandSolveEngine)
    assert not isinstance(get_engine("classic", band_solve=True), BandSolveEngine)


def test_cli_band_solve_refuses_classic_engines_in_one_line(tmp_path, capsys):
    image, truth = _scene(64)
    cv2.imwrite(str(tmp_path / "p.png"), (image[..., ::-1] * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "m.png"), ((truth > 0.5) * 255).astype(np.uint8))
    args = [tmp_path / "p.png", "--mask", tmp_path / "m.png", "-o", tmp_path / "a.png"]
    code = main(["predict", *map(str, args), "--engine", "classic", "--band-solve"])
    err = capsys.readouterr().err
    assert code == 2 and "--band-solve" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "a.png").exists()
    extra = ["--engine", "prn", "--init", "random", "--model", "prn-tiny", "--band-solve"]
    assert main(["predict", *map(str, args), *extra]) == 0
    assert cv2.imread(str(tmp_path / "a.png"), cv2.IMREAD_GRAYSCALE).shape == (64, 64)
