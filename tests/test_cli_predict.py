"""`wildmatte predict` on good and bad input: one-line errors, batches go on, no partial files."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from wildmatte.interfaces.cli import main

H, W = 40, 56


def _photo(path: Path, channels: int = 3, dtype=np.uint8, size=(H, W)) -> Path:
    rng = np.random.default_rng(0)
    top = 65535 if dtype == np.uint16 else 255
    shape = size if channels == 1 else (*size, channels)
    cv2.imwrite(str(path), rng.integers(0, top, shape).astype(dtype))
    return path


def _mask(path: Path, size=(H, W), value: int = 255, fill: str = "box") -> Path:
    mask = np.zeros(size, np.uint8)
    if fill == "box":
        mask[size[0] // 4 : 3 * size[0] // 4, size[1] // 4 : 3 * size[1] // 4] = value
    elif fill == "all":
        mask[:] = value
    cv2.imwrite(str(path), mask)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["predict", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _predict(capsys, img: Path, mask: Path, out: Path, engine: str, *extra) -> tuple[int, str, str]:
    """`predict IMAGE --mask MASK -o OUT --engine ENGINE`; prn runs the tiny random model."""
    weights = ("--init", "random", "--model", "prn-tiny") if engine == "prn" else ()
    return _run(capsys, img, "--mask", mask, "-o", out, "--engine", engine, *weights, *extra)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_single_image_writes_alpha_cutout_and_composite(tmp_path, capsys):
    img, mask = _photo(tmp_path / "a.jpg"), _mask(tmp_path / "m.png")
    out = tmp_path / "out" / "alpha.png"
    code, stdout, _ = _run(
        capsys,
        img,
        "--mask",
        mask,
        "-o",
        out,
        "--engine",
        "prn",
        "--init",
        "random",
        "--model",
        "prn-tiny",
        "--cutout",
        "--composite",
        "--background",
        "red",
    )
    assert code == 0
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).shape == (H, W)
    assert cv2.imread(str(tmp_path / "out" / "alpha_cutout.png"), cv2.IMREAD_UNCHANGED).shape == (
        H,
        W,
        4,
    )
    assert cv2.imread(str(tmp_path / "out" / "alpha_composite.png")).shape == (H, W, 3)
    assert str(out) in stdout


def test_sixteen_bit_output(tmp_path, capsys):
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png")
    code, _, _ = _run(
        capsys,
        img,
        "--mask",
        mask,
        "-o",
        tmp_path / "o.png",
        "--engine",
        "guidance",
        "--bits",
        "16",
    )
    assert code == 0
    alpha = cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED)
    assert alpha.dtype == np.uint16 and set(np.unique(alpha)) == {0, 65535}


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda d: d / "missing.jpg", "file not found"),
        (lambda d: _write(d / "bad.jpg", b"\xff\xd8 not a jpeg"), "not a readable image"),
        (lambda d: _write(d / "empty.png", b""), "not a readable image"),
    ],
)
def test_bad_image_file_is_one_line_naming_the_file(tmp_path, capsys, make, problem):
    img = make(tmp_path)
    out = tmp_path / "o.png"
    code, _, err = _run(
        capsys, img, "--mask", _mask(tmp_path / "m.png"), "-o", out, "--engine", "classic"
    )
    line = _one_error_line(err)
    assert code != 0 and str(img) in line and problem in line
    assert not out.exists() and not _leftovers(tmp_path)


def test_mask_of_another_size_needs_resize_mask(tmp_path, capsys):
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png", size=(20, 28))
    out = tmp_path / "o.png"
    code, _, err = _run(capsys, img, "--mask", mask, "-o", out, "--engine", "guidance")
    line = _one_error_line(err)
    assert code != 0 and str(mask) in line and "--resize-mask" in line and not out.exists()
    code, _, _ = _run(
        capsys, img, "--mask", mask, "-o", out, "--engine", "guidance", "--resize-mask"
    )
    assert code == 0 and cv2.imread(str(out), 0).shape == (H, W)


def test_empty_mask_is_an_error(tmp_path, capsys):
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png", fill="none")
    code, _, err = _run(
        capsys, img, "--mask", mask, "-o", tmp_path / "o.png", "--engine", "classic"
    )
    line = _one_error_line(err)
    assert code != 0 and str(mask) in line and "empty" in line
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("engine", ["classic", "prn"])
def test_all_ones_mask_is_matted(tmp_path, capsys, engine):
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png", fill="all")
    code, _, _ = _predict(capsys, img, mask, tmp_path / "o.png", engine)
    alpha = cv2.imread(str(tmp_path / "o.png"), 0)
    assert code == 0 and alpha.shape == (H, W)
    if engine == "classic":
        assert (alpha == 255).all()  # nothing outside the mask to separate it from


@pytest.mark.parametrize(
    "name, channels, dtype",
    [("rgba.png", 4, np.uint8), ("deep.png", 3, np.uint16), ("grey.png", 1, np.uint8)],
)
def test_rgba_16bit_and_grey_photos_are_accepted(tmp_path, capsys, name, channels, dtype):
    img = _photo(tmp_path / name, channels, dtype)
    code, _, err = _predict(capsys, img, _mask(tmp_path / "m.png"), tmp_path / "o.png", "prn")
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "o.png"), 0).shape == (H, W)


def test_mask_values_other_than_0_and_255_are_binarised_at_128(tmp_path, capsys):
    img = _photo(tmp_path / "a.png")
    mask = np.tile(np.arange(W, dtype=np.uint8) * 4, (H, 1))  # 0 … 220
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    code, _, _ = _run(
        capsys, img, "--mask", tmp_path / "m.png", "-o", tmp_path / "o.png", "--engine", "guidance"
    )
    assert code == 0
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / "o.png"), 0), np.where(mask >= 128, 255, 0)
    )


@pytest.mark.parametrize("engine", ["classic", "prn"])
def test_one_pixel_image(tmp_path, capsys, engine):
    img = _photo(tmp_path / "a.png", size=(1, 1))
    mask = _mask(tmp_path / "m.png", size=(1, 1), fill="all")
    code, _, err = _predict(capsys, img, mask, tmp_path / "o.png", engine)
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "o.png"), 0).shape == (1, 1)


def test_folder_with_bad_files_goes_on_and_exits_non_zero(tmp_path, capsys):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir(), masks.mkdir()
    for stem in ("good1", "good2", "corrupt", "nomask", "wrongsize"):
        _photo(images / f"{stem}.png")
    (images / "corrupt.png").write_bytes(b"garbage")
    for stem in ("good1", "good2", "corrupt"):
        _mask(masks / f"{stem}.png")
    _mask(masks / "wrongsize.png", size=(10, 10))
    code, stdout, err = _run(
        capsys,
        "--images",
        images,
        "--masks",
        masks,
        "--out",
        out,
        "--engine",
        "classic",
        "--cutout",
    )
    assert code == 1
    assert sorted(p.name for p in out.glob("*.png")) == ["good1.png", "good2.png"]
    assert sorted(p.name for p in (out / "cutout").glob("*.png")) == ["good1.png", "good2.png"]
    errors = [line for line in err.splitlines() if line.startswith("wildmatte: error:")]
    assert len(errors) == 3 and "Traceback" not in err
    assert any("corrupt.png" in e for e in errors)
    assert any("nomask.png" in e and "file not found" in e for e in errors)
    assert any("wrongsize.png" in e and "resize-mask" in e for e in errors)
    assert "2 of 5 images matted" in stdout and "3 failed" in stdout
    assert not _leftovers(out)


def test_usage_errors_are_one_line(capsys):
    code, _, err = _run(capsys)
    assert code == 2 and "give either IMAGE" in _one_error_line(err)


def test_command_line_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "wildmatte",
            "predict",
            str(tmp_path / "nope.jpg"),
            "--mask",
            str(tmp_path / "m.png"),
            "-o",
            str(tmp_path / "o.png"),
            "--engine",
            "classic",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"wildmatte: error: {tmp_path / 'nope.jpg'}: file not found"


def test_trimap_preset_reaches_the_classic_engine(tmp_path, capsys):
    """The noisy preset's band outside the mask lets closed-form put alpha there; paper's cannot."""
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png")
    outside = cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE) == 0
    alphas = {}
    for preset in ("paper", "noisy"):
        out = tmp_path / f"{preset}.png"
        code, _, _ = _predict(capsys, img, mask, out, "classic", "--trimap", preset)
        assert code == 0
        alphas[preset] = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert alphas["paper"][outside].max() == 0
    assert alphas["noisy"][outside].max() > 0
    code = main(["predict", str(img), "--trimap", "loose", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and "'loose' is neither a preset (paper, noisy) nor a file" in err


# --- --trimap FILE (pymatting's users) and `-` for stdin/stdout (rembg's) ---------------------


def _disc_scene(folder: Path) -> tuple[Path, Path, np.ndarray]:
    """A soft-edged orange disc on blue; its trimap file (0 / 128 / 255) and the trimap."""
    yy, xx = np.mgrid[:H, :W]
    alpha = np.clip(13.0 - np.hypot(yy - H / 2, xx - W / 2), 0, 1)[..., None]
    image = alpha * np.array([40, 160, 240]) + (1 - alpha) * np.array([170, 80, 30])  # BGR
    cv2.imwrite(str(folder / "disc.png"), np.rint(image).astype(np.uint8))
    trimap = np.zeros((H, W), np.uint8)
    cv2.circle(trimap, (W // 2, H // 2), 17, 128, -1)
    cv2.circle(trimap, (W // 2, H // 2), 9, 255, -1)
    cv2.imwrite(str(folder / "trimap.png"), trimap)
    return folder / "disc.png", folder / "trimap.png", trimap


def test_a_trimap_file_is_solved_as_it_is_by_a_classic_engine(tmp_path, capsys):
    import pymatting

    img, tri, trimap = _disc_scene(tmp_path)
    code, _, err = _run(
        capsys, img, "--trimap", tri, "--engine", "classic", "-o", tmp_path / "a.png"
    )
    assert code == 0, err
    alpha = cv2.imread(str(tmp_path / "a.png"), cv2.IMREAD_UNCHANGED)
    image = cv2.cvtColor(cv2.imread(str(img)), cv2.COLOR_BGR2RGB).astype(np.float64) / 255
    expected = pymatting.estimate_alpha_cf(image, trimap / 255.0)
    assert np.abs(alpha / 255.0 - np.clip(expected, 0, 1)).max() <= 1 / 255 + 1e-6
    assert (alpha[trimap == 255] == 255).all() and (alpha[trimap == 0] == 0).all()
    assert 0 < alpha[trimap == 128].mean() < 255


def test_a_learned_engine_takes_a_trimap_as_guidance_and_keeps_its_sure_regions(tmp_path, capsys):
    from wildmatte.inference.trimap import TrimapEngine, read_trimap

    img, tri, trimap = _disc_scene(tmp_path)
    code, _, err = _predict_trimap(capsys, img, tri, tmp_path / "a.png")
    assert code == 0, err
    alpha = cv2.imread(str(tmp_path / "a.png"), cv2.IMREAD_UNCHANGED)
    assert (alpha[trimap == 255] == 255).all() and (alpha[trimap == 0] == 0).all()
    seen = []

    def model(image, guidance):
        seen.append(guidance)
        return np.full(guidance.shape, 0.5, np.float32)

    model.name = "model"
    out = TrimapEngine(model, read_trimap(tri))(np.zeros((H, W, 3), np.float32), None)
    assert np.array_equal(seen[0] > 0, trimap > 0)  # unknown and foreground: the mask
    assert np.array_equal(out, np.select([trimap == 255, trimap == 128], [1.0, 0.5], 0.0))


def _predict_trimap(capsys, img, tri, out, *extra):
    weights = ("--engine", "prn", "--init", "random", "--model", "prn-tiny")
    return _run(capsys, img, "--trimap", tri, "-o", out, *weights, *extra)


def test_bad_trimap_use_is_one_line(tmp_path, capsys):
    img, tri, _ = _disc_scene(tmp_path)
    out = tmp_path / "a.png"
    cases = [
        (("--trimap", tmp_path / "nope.png"), "is neither a preset (paper, noisy) nor a file"),
        (("--trimap", tri, "--mask", tri), "give --mask MASK, --box X0,Y0,X1,Y1 or --trimap FILE"),
    ]
    for extra, words in cases:
        code, _, err = _run(capsys, img, *extra, "-o", out, "--engine", "guidance")
        assert code == 2 and words in _one_error_line(err)
    cv2.imwrite(str(tmp_path / "black.png"), np.zeros((H, W), np.uint8))
    code, _, err = _run(capsys, img, "--trimap", tmp_path / "black.png", "-o", out)
    assert code == 2 and "black.png: trimap is all background (0)" in _one_error_line(err)
    code, _, err = _run(capsys, "--images", tmp_path, "--out", tmp_path / "o", "--trimap", tri)
    assert code == 2 and "a trimap FILE is for one IMAGE" in _one_error_line(err)
    assert not out.exists()


def _stdio(monkeypatch, data: bytes):
    """Standard input holding `data`, and a standard output whose bytes can be read back."""
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    stdout = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr(sys, "stdout", stdout)
    return stdout.buffer


def test_dash_reads_the_image_from_stdin_and_writes_the_alpha_to_stdout(tmp_path, monkeypatch):
    img, mask = _photo(tmp_path / "a.png"), _mask(tmp_path / "m.png")
    assert main(["predict", str(img), "--mask", str(mask), "-o", str(tmp_path / "file.png")]) == 0
    out = _stdio(monkeypatch, img.read_bytes())
    assert main(["predict", "-", "--mask", str(mask), "-o", "-"]) == 0
    assert out.getvalue() == (tmp_path / "file.png").read_bytes()  # the same PNG, on stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "file.png", "m.png"]


def test_dash_errors_are_one_line_naming_dash(tmp_path, monkeypatch, capsys):
    mask = _mask(tmp_path / "m.png")
    for data, words in ((b"", "-: no image on standard input"), (b"junk", "-: not a readable")):
        out = _stdio(monkeypatch, data)
        code = main(["predict", "-", "--mask", str(mask), "-o", "-"])
        line = _one_error_line(capsys.readouterr().err)
        assert code in (1, 2) and words in line and "/tmp" not in line and not out.getvalue()
    _stdio(monkeypatch, _photo(tmp_path / "a.png").read_bytes())
    code = main(["predict", "-", "--mask", str(mask), "-o", "-", "--cutout"])
    assert code == 2 and "--cutout: with -o - (stdout) give its file" in capsys.readouterr().err
