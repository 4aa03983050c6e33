"""Faults beyond one bad input: signals during training, a killed write, rotated photos, bit depth."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image, ImageOps
from safetensors import safe_open
from test_bad_inputs import exif_photo

from wildmatte.data.imageio import load_image
from wildmatte.files import write_bytes
from wildmatte.interfaces.cli import main


def _tiny_config(tiny_data, path: Path, steps: int) -> Path:
    cfg = {
        "name": "tiny",
        "model": "prn-tiny",
        "data": {
            "fg": [{"root": str(tiny_data["fg"]), "val_fraction": 0.34}],
            "bg": {"root": str(tiny_data["bg"]), "val_fraction": 0.25},
            "crop_size": 64,
        },
        "train": {
            "steps": steps,
            "batch_size": 2,
            "workers": 0,
            "val_every": 0,
            "ckpt_every": 1000,
            "log_every": 1,
            "device": "cpu",
        },
    }
    path.write_text(yaml.safe_dump(cfg))
    return path


def _train(*args: str) -> list[str]:
    return [sys.executable, "-m", "wildmatte", "train", *args]


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def _steps_logged(metrics: Path) -> int:
    return max(0, len(metrics.read_text().splitlines()) - 1) if metrics.is_file() else 0


def _step(ckpt: Path) -> int:
    import json

    with safe_open(str(ckpt), framework="pt") as f:
        return json.loads(f.metadata()["wildmatte_checkpoint"])["step"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_checkpoints_and_exits_128_plus_it_without_final_weights(
    tiny_data, tmp_path, signum
):
    cfg = _tiny_config(tiny_data, tmp_path / "cfg.yaml", steps=100_000)
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _train("--config", str(cfg), "--out", str(out)),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 180
    while time.time() < deadline and _steps_logged(out / "metrics.csv") < 3:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert "continue with --resume" in err.splitlines()[-1]
    assert _step(out / "checkpoint.safetensors") >= 3
    assert not (out / "model.safetensors").exists()  # unfinished: no final weights
    assert not list(out.glob(".*.tmp"))

    if signum == signal.SIGTERM:  # and the checkpoint resumes to a finished run
        stopped = _step(out / "checkpoint.safetensors")
        done = subprocess.run(
            _train("--config", str(cfg), "--out", str(out), "--resume")
            + ["--set", f"train.steps={stopped + 2}"],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        assert f"at step {stopped}" in done.stdout
        assert (out / "model.safetensors").is_file()


def test_a_temp_file_left_by_a_killed_write_goes_with_the_next_write(tmp_path):
    out = tmp_path / "alpha.png"
    stale = tmp_path / ".alpha.png.abc123.tmp"  # what atomic_write leaves on SIGKILL
    stale.write_bytes(b"half a file")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    other = tmp_path / ".other.png.xyz.tmp"  # another output's: not ours to remove
    other.write_bytes(b"x")
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    write_bytes(out, b"done")
    assert out.read_bytes() == b"done" and not stale.exists() and other.exists()


def test_a_sigkilled_write_leaves_no_temp_file_after_the_next_run(tmp_path):
    """A real kill mid-write: the next run of the same command leaves no temp file."""
    code = (
        "import os, signal, sys\n"
        "from wildmatte.files import atomic_write\n"
        "def write(tmp):\n"
        "    open(tmp, 'wb').write(b'half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic_write(sys.argv[1], write)\n"
    )
    out = tmp_path / "a.png"
    killed = subprocess.run([sys.executable, "-c", code, str(out)], env=_env())
    assert killed.returncode == -signal.SIGKILL
    assert len(list(tmp_path.glob(".a.png.*.tmp"))) == 1 and not out.exists()
    time.sleep(0.05)  # the next process starts after the temp file was written
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from wildmatte.files import write_bytes; write_bytes(sys.argv[1], b'ok')",
            str(out),
        ],
        env=_env(),
        check=True,
    )
    assert out.read_bytes() == b"ok" and not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    path = exif_photo(tmp_path / "r.jpg", orientation, stored=(20, 30))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(load_image(path), expected)


def test_a_mask_drawn_on_a_rotated_phone_photo_fits_and_the_output_is_upright(tmp_path, capsys):
    photo = exif_photo(tmp_path / "phone.jpg", 6, stored=(24, 32))  # displayed 24 wide, 32 high
    mask = np.zeros((32, 24), np.uint8)
    mask[4:20, 6:18] = 255
    cv2.imwrite(str(tmp_path / "m.png"), mask)
    out = tmp_path / "a.png"
    code = main(
        ["predict", str(photo), "--mask", str(tmp_path / "m.png"), "-o", str(out)]
        + ["--engine", "guidance"]
    )
    assert code == 0, capsys.readouterr().err
    alpha = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert alpha.shape == (32, 24)
    inter = np.logical_and(alpha > 127, mask > 127).sum()
    union = np.logical_or(alpha > 127, mask > 127).sum()
    assert inter / union == 1.0


def test_pil_i16_and_uint16_keep_their_16_bits():
    from wildmatte.validate import image_array

    grey = np.array([[0, 1000, 40000, 65535]], np.uint16)
    for given in (Image.fromarray(grey), grey):
        got = image_array(given)[..., 0]
        np.testing.assert_allclose(got, grey / 65535.0, rtol=1e-6)


def test_a_16_bit_colour_png_reads_at_16_bits(tmp_path):
    rgb = np.array([[[1, 2, 60000], [65535, 0, 257]]], np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), rgb[..., ::-1])
    np.testing.assert_array_equal(load_image(tmp_path / "deep.png"), rgb)
