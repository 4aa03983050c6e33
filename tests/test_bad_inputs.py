"""Every bad input and fault we know of, one parametrised case each (docs/bad-inputs.md).

A case builds its inputs under `in/`, runs the CLI (in-process) or the API, and checks the exit
code or exception type, a fragment of the one-line message, that no traceback is printed, and
that no input file changed (hashes before and after). The table in docs/bad-inputs.md is made
from the same list: `python tests/test_bad_inputs.py > docs/bad-inputs.md`.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

H, W = 24, 32
TINY_RANDOM = ["--init", "random", "--model", "prn-tiny"]


# -- inputs ----------------------------------------------------------------------------------


def photo(path: Path, size=(H, W), channels: int = 3, dtype=np.uint8) -> Path:
    rng = np.random.default_rng(0)
    top = 65535 if dtype == np.uint16 else 255
    shape = size if channels == 1 else (*size, channels)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rng.integers(0, top, shape).astype(dtype))
    return path


def mask(path: Path, size=(H, W), value: int = 255) -> Path:
    m = np.zeros(size, np.uint8)
    m[size[0] // 4 : 3 * size[0] // 4, size[1] // 4 : 3 * size[1] // 4] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), m)
    return path


def raw(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    return raw(path, data[: len(data) // 2])


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge size (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def exif_photo(path: Path, orientation: int, stored=(H, W)) -> Path:
    """A JPEG stored as `stored` (H, W) with an EXIF orientation tag, as phones write them."""
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 255, (*stored, 3)).astype(np.uint8))
    exif = image.getexif()
    exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, exif=exif.tobytes(), quality=95)
    return path


def weights(folder: Path, name: str = "w", edit: Callable[[dict], object] | None = None) -> Path:
    """Tiny saved weights; `edit` changes the JSON config beside them."""
    from wildmatte.model import PRN, save_model

    st = save_model(PRN("prn-tiny"), folder / name)
    if edit is not None:
        doc = json.loads((folder / f"{name}.json").read_text())
        doc = edit(doc) or doc
        (folder / f"{name}.json").write_text(json.dumps(doc))
    return st


def pair(d: Path, **kw) -> tuple[Path, Path]:
    return photo(d / "p.png", **kw), mask(d / "m.png")


def predict(d: Path, *extra, image=None, mask_path=None, out=None, engine=("--engine", "guidance")):
    """`predict IMAGE --mask MASK -o OUT` with a good pair unless given."""
    if image is None or mask_path is None:
        p, m = pair(d)
        image, mask_path = image or p, mask_path or m
    out = out or d.parent / "out" / "a.png"
    return ["predict", image, "--mask", mask_path, "-o", out, *engine, *extra]


def folders(d: Path, stems=("a", "b"), suffix=".png") -> tuple[Path, Path]:
    for s in stems:
        photo(d / "images" / f"{s}{suffix}")
        mask(d / "masks" / f"{s}.png")
    return d / "images", d / "masks"


def batch(d: Path, *extra, out=None, stems=("a", "b"), suffix=".png"):
    images, masks = folders(d, stems, suffix)
    out = out or d.parent / "out"
    return [
        "predict",
        "--images",
        images,
        "--masks",
        masks,
        "--out",
        out,
        "--engine",
        "guidance",
        *extra,
    ]


def config(d: Path, **changes) -> Path:
    """A tiny training config on tiny data in `d`."""
    from conftest import make_bg_folder, make_rgba_folder

    cfg = {
        "name": "tiny",
        "model": "prn-tiny",
        "data": {
            "fg": [{"root": str(make_rgba_folder(d / "fg", n=3)), "val_fraction": 0.34}],
            "bg": {"root": str(make_bg_folder(d / "bg", n=2)), "val_fraction": 0.5},
            "crop_size": 64,
        },
        "train": {"steps": 2, "batch_size": 2, "workers": 0, "val_every": 0, "device": "cpu"},
    }
    for key, value in changes.items():
        cfg[key] = value
    path = d / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def train(d: Path, *extra, cfg=None):
    return ["train", "--config", cfg or config(d), "--out", d.parent / "run", *extra]


def checkpoint(d: Path, corrupt: Callable[[bytes], bytes] | None = None, model="prn-tiny") -> Path:
    """A checkpoint under run/ (the train cases' --out), optionally corrupted."""
    import torch

    from wildmatte.model import PRN
    from wildmatte.training.checkpoint import save_checkpoint

    run = d.parent / "run"
    state = {"model": PRN(model).state_dict(), "step": 1, "rng": torch.get_rng_state()}
    save_checkpoint(run / "checkpoint.safetensors", state)
    if corrupt is not None:
        path = run / "checkpoint.safetensors"
        path.write_bytes(corrupt(path.read_bytes()))
    return run


def flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


# -- the cases -------------------------------------------------------------------------------

# What a case returns: argv for `wildmatte` (run in-process), or a callable for the API.
Make = Callable[[Path], "list | Callable[[], object]"]


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # the input, in words (the docs table's first column)
    make: Make
    expect: int | type[BaseException]  # exit code, or the exception the API raises
    says: str  # a fragment of the message


def _cli(id, what, make, code, says):
    return Case(id, what, make, code, says)


def _trunc_png(d):
    return truncated(d / "t.png", photo(d / "src" / "full.png", size=(64, 64)))


def _trunc_jpg(d):
    return truncated(d / "t.jpg", photo(d / "src" / "full.jpg", size=(64, 64)))


IMAGE_CASES = [
    _cli(
        "image-missing",
        "photo file does not exist",
        lambda d: predict(d, image=d / "nope.png", mask_path=mask(d / "m.png")),
        1,
        "file not found",
    ),
    _cli(
        "image-empty",
        "photo is an empty file",
        lambda d: predict(d, image=raw(d / "e.png", b""), mask_path=mask(d / "m.png")),
        1,
        "not a readable image",
    ),
    _cli(
        "image-garbage",
        "photo is random bytes named .png",
        lambda d: predict(d, image=raw(d / "g.png", os.urandom(300)), mask_path=mask(d / "m.png")),
        1,
        "not a readable image",
    ),
    _cli(
        "image-text",
        "photo is a text file named .jpg",
        lambda d: predict(d, image=raw(d / "t.jpg", b"hello"), mask_path=mask(d / "m.png")),
        1,
        "not a readable image",
    ),
    _cli(
        "image-truncated-png",
        "photo is a truncated PNG",
        lambda d: predict(d, image=_trunc_png(d), mask_path=mask(d / "m.png")),
        1,
        "truncated",
    ),
    _cli(
        "image-truncated-jpg",
        "photo is a truncated JPEG",
        lambda d: predict(d, image=_trunc_jpg(d), mask_path=mask(d / "m.png")),
        1,
        "truncated",
    ),
    _cli(
        "image-bomb",
        "69-byte PNG declaring 30000×30000",
        lambda d: predict(
            d, image=raw(d / "b.png", png_header(30000, 30000)), mask_path=mask(d / "m.png")
        ),
        1,
        "pixel limit",
    ),
    _cli(
        "image-over-limit",
        "photo larger than --max-megapixels",
        lambda d: predict(d, "--max-megapixels", "0.0005"),
        1,
        "over the 0.0005 MP pixel limit",
    ),
    _cli(
        "image-12k-header",
        "PNG header declaring 12000×12000 (144 MP)",
        lambda d: predict(
            d, image=raw(d / "b.png", png_header(12000, 12000)), mask_path=mask(d / "m.png")
        ),
        1,
        "12000×12000 (144 MP), over the 100 MP",
    ),
    _cli(
        "image-folder",
        "photo path is a folder",
        lambda d: predict(
            d, image=(d / "dir.png").mkdir() or d / "dir.png", mask_path=mask(d / "m.png")
        ),
        1,
        "file not found",
    ),
    _cli(
        "exif-rotated-photo",
        "photo with EXIF orientation 6 and a mask drawn as displayed",
        lambda d: predict(
            d, image=exif_photo(d / "r.jpg", 6), mask_path=mask(d / "m.png", size=(W, H))
        ),
        0,
        "wrote",
    ),
    _cli(
        "image-exif-stored-mask",
        "EXIF-rotated photo with a mask in stored orientation",
        lambda d: predict(d, image=exif_photo(d / "r.jpg", 6), mask_path=mask(d / "m.png")),
        1,
        "use --resize-mask",
    ),
    _cli(
        "image-16bit",
        "16-bit colour photo",
        lambda d: predict(
            d, image=photo(d / "p.png", dtype=np.uint16), mask_path=mask(d / "m.png")
        ),
        0,
        "wrote",
    ),
    _cli(
        "image-grey",
        "grey photo",
        lambda d: predict(d, image=photo(d / "p.png", channels=1), mask_path=mask(d / "m.png")),
        0,
        "wrote",
    ),
    _cli(
        "image-rgba",
        "RGBA photo",
        lambda d: predict(d, image=photo(d / "p.png", channels=4), mask_path=mask(d / "m.png")),
        0,
        "wrote",
    ),
]

MASK_CASES = [
    _cli(
        "mask-missing",
        "mask file does not exist",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=d / "nope.png"),
        1,
        "file not found",
    ),
    _cli(
        "mask-garbage",
        "mask is random bytes",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=raw(d / "m.png", os.urandom(200))),
        1,
        "not a readable image",
    ),
    _cli(
        "mask-empty-image",
        "mask is all black",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=mask(d / "m.png", value=0)),
        1,
        "mask is empty",
    ),
    _cli(
        "mask-faint",
        "mask values all below --threshold",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=mask(d / "m.png", value=100)),
        1,
        "no pixel >= 128",
    ),
    _cli(
        "mask-size",
        "mask of another size",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=mask(d / "m.png", size=(10, 10))),
        1,
        "use --resize-mask",
    ),
    _cli(
        "mask-truncated",
        "mask is a truncated PNG",
        lambda d: predict(d, image=photo(d / "p.png"), mask_path=_trunc_png(d)),
        1,
        "truncated",
    ),
    _cli(
        "mask-bomb",
        "mask declares 30000×30000",
        lambda d: predict(
            d, image=photo(d / "p.png"), mask_path=raw(d / "m.png", png_header(30000, 30000))
        ),
        1,
        "pixel limit",
    ),
]

OUTPUT_CASES = [
    _cli(
        "out-is-image",
        "-o is the photo itself",
        lambda d: predict(
            d, image=photo(d / "p.png"), mask_path=mask(d / "m.png"), out=d / "p.png"
        ),
        2,
        "is an input",
    ),
    _cli(
        "out-is-mask",
        "-o is the mask",
        lambda d: predict(
            d, image=photo(d / "p.png"), mask_path=mask(d / "m.png"), out=d / "m.png"
        ),
        2,
        "is an input",
    ),
    _cli(
        "out-symlink-to-image",
        "-o is a symlink to the photo",
        lambda d: predict(
            d,
            image=photo(d / "p.png"),
            mask_path=mask(d / "m.png"),
            out=_link(d / "p.png", d.parent / "link.png"),
        ),
        2,
        "is an input",
    ),
    _cli(
        "out-dotdot-image",
        "-o reaches the photo through ../",
        lambda d: predict(
            d,
            image=photo(d / "p.png"),
            mask_path=mask(d / "m.png"),
            out=Path(str(d / "x" / ".." / "p.png")),
        ),
        2,
        "is an input",
    ),
    _cli(
        "out-cutout-jpg",
        "--cutout c.jpg (JPEG has no alpha)",
        lambda d: predict(d, "--cutout", d.parent / "out" / "c.jpg"),
        2,
        ".png",
    ),
    _cli(
        "out-composite-jpg",
        "--composite c.jpg",
        lambda d: predict(d, "--composite", d.parent / "out" / "c.jpg"),
        2,
        ".png",
    ),
    _cli(
        "out-alpha-jpg",
        "-o alpha.jpg",
        lambda d: predict(d, out=d.parent / "out" / "a.jpg"),
        2,
        ".png",
    ),
    _cli(
        "out-is-folder",
        "-o names an existing folder",
        lambda d: predict(d, out=_mkdir(d.parent / "out" / "x.png")),
        2,
        "is a folder",
    ),
    _cli(
        "out-under-file",
        "-o inside a path whose parent is a file",
        lambda d: predict(d, out=raw(d.parent / "f", b"x") / "a.png"),
        2,
        "is a file, not a folder",
    ),
    _cli(
        "out-cutout-same",
        "--cutout is the same file as -o",
        lambda d: predict(d, "--cutout", d.parent / "out" / "a.png"),
        2,
        "given for two outputs",
    ),
    _cli(
        "out-composite-same",
        "--composite is the same file as --cutout",
        lambda d: predict(
            d, "--cutout", d.parent / "out" / "c.png", "--composite", d.parent / "out" / "c.png"
        ),
        2,
        "given for two outputs",
    ),
    _cli(
        "out-is-background",
        "-o is the --background image",
        lambda d: predict(d, "--composite", "--background", photo(d / "bg.png"), out=d / "bg.png"),
        2,
        "is an input",
    ),
    _cli(
        "background-unknown",
        "--background neither a colour nor a file",
        lambda d: predict(d, "--composite", "--background", "notacolour"),
        2,
        "neither a colour",
    ),
    _cli(
        "background-garbage",
        "--background is a corrupt image",
        lambda d: predict(d, "--composite", "--background", raw(d / "bg.png", b"xx")),
        2,
        "not a readable image",
    ),
    _cli(
        "out-equals-images",
        "--out is the --images folder (PNG photos)",
        lambda d: batch(d, out=d / "images"),
        2,
        "is an input",
    ),
    _cli(
        "out-equals-masks",
        "--out is the --masks folder",
        lambda d: batch(d, out=d / "masks"),
        2,
        "is an input",
    ),
    _cli(
        "out-equals-images-jpg",
        "--out is the --images folder of JPEGs (nothing overwritten)",
        lambda d: batch(d, out=d / "images", suffix=".jpg"),
        0,
        "2 of 2 images matted",
    ),
    _cli(
        "out-inside-images",
        "--out is a folder inside --images",
        lambda d: batch(d, out=d / "images" / "mattes"),
        0,
        "2 of 2 images matted",
    ),
    _cli(
        "stem-collision",
        "photos cat.jpg and cat.png (one output name)",
        lambda d: [
            *batch(d, stems=("a",)),
            *_also(
                photo(d / "images" / "cat.jpg"),
                photo(d / "images" / "cat.png"),
                mask(d / "masks" / "cat.png"),
            ),
        ],
        1,
        "share the stem 'cat'",
    ),
    _cli(
        "mask-stem-collision",
        "masks cat.png and cat.jpg for one photo",
        lambda d: [*batch(d, stems=("cat",)), *_also(mask(d / "masks" / "cat.jpg"))],
        1,
        "several masks match it",
    ),
    _cli(
        "batch-missing-mask",
        "one photo without a mask in a batch",
        lambda d: [*batch(d), *_also(photo(d / "images" / "lonely.png"))],
        1,
        "lonely.png: file not found",
    ),
    _cli(
        "batch-truncated",
        "one truncated photo in a batch",
        lambda d: [
            *batch(d),
            *_also(
                truncated(d / "images" / "t.png", photo(d / "src" / "f.png", size=(64, 64))),
                mask(d / "masks" / "t.png"),
            ),
        ],
        1,
        "truncated",
    ),
    _cli(
        "images-not-folder",
        "--images is a file",
        lambda d: [
            "predict",
            "--images",
            photo(d / "p.png"),
            "--masks",
            d,
            "--out",
            d.parent / "out",
        ],
        2,
        "not a folder",
    ),
    _cli(
        "images-empty",
        "--images folder has no images",
        lambda d: [
            "predict",
            "--images",
            _mkdir(d / "e"),
            "--masks",
            _mkdir(d / "m"),
            "--out",
            d.parent / "out",
        ],
        2,
        "no image files found",
    ),
    _cli(
        "masks-missing",
        "--images without --masks",
        lambda d: ["predict", "--images", folders(d)[0], "--out", d.parent / "out"],
        2,
        "--masks",
    ),
    _cli(
        "out-is-file",
        "--out is an existing file",
        lambda d: batch(d, out=raw(d.parent / "out.png", b"x")),
        2,
        "is a file, not a folder",
    ),
    _cli(
        "images-no-out",
        "--images without --out",
        lambda d: ["predict", "--images", folders(d)[0], "--masks", d / "masks"],
        2,
        "--out",
    ),
    _cli(
        "both-modes",
        "IMAGE and --images together",
        lambda d: [*predict(d), "--images", d],
        2,
        "give either",
    ),
    _cli("no-input", "neither IMAGE nor --images", lambda d: ["predict"], 2, "give either"),
    _cli(
        "no-mask",
        "IMAGE without --mask",
        lambda d: ["predict", photo(d / "p.png"), "-o", d.parent / "out" / "a.png"],
        2,
        "give --mask",
    ),
]


def _link(target: Path, link: Path) -> Path:
    link.symlink_to(target)
    return link


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _also(*_made) -> list:
    """Extra files made for a case; adds nothing to argv."""
    return []


OPTION_CASES = [
    _cli(
        "threshold-0",
        "--threshold 0",
        lambda d: predict(d, "--threshold", "0"),
        2,
        "--threshold: 0 is out of range",
    ),
    _cli(
        "threshold-256",
        "--threshold 256",
        lambda d: predict(d, "--threshold", "256"),
        2,
        "out of range",
    ),
    _cli(
        "threshold-negative",
        "--threshold -1",
        lambda d: predict(d, "--threshold=-1"),
        2,
        "out of range",
    ),
    _cli(
        "threshold-text",
        "--threshold abc",
        lambda d: predict(d, "--threshold", "abc"),
        2,
        "invalid int value",
    ),
    _cli(
        "max-mp-zero",
        "--max-megapixels 0",
        lambda d: predict(d, "--max-megapixels", "0"),
        2,
        "--max-megapixels",
    ),
    _cli(
        "max-mp-negative",
        "--max-megapixels -5",
        lambda d: predict(d, "--max-megapixels=-5"),
        2,
        "--max-megapixels",
    ),
    _cli("bits-12", "--bits 12", lambda d: predict(d, "--bits", "12"), 2, "invalid choice"),
    _cli(
        "device-tpu", "--device tpu", lambda d: predict(d, "--device", "tpu"), 2, "available: cpu"
    ),
    _cli(
        "device-cuda-99",
        "--device cuda:99",
        lambda d: predict(d, "--device", "cuda:99"),
        2,
        "'cuda:99' is not available",
    ),
    _cli(
        "device-garbage",
        "--device cpu:x",
        lambda d: predict(d, "--device", "cpu:x"),
        2,
        "not available",
    ),
    _cli(
        "engine-unknown",
        "--engine nope",
        lambda d: predict(d, engine=("--engine", "nope")),
        2,
        "invalid choice",
    ),
    _cli(
        "engine-classic-weights",
        "--engine classic with --weights",
        lambda d: predict(d, "--weights", "w.safetensors", engine=("--engine", "classic")),
        2,
        "takes no --weights",
    ),
    _cli("box-inf", "--box 0,0,inf,300", lambda d: boxed(d, "0,0,inf,300"), 2, "finite numbers"),
    _cli("box-1e400", "--box 0,0,1e400,300", lambda d: boxed(d, "0,0,1e400,300"), 2, "finite"),
    _cli("box-inverted", "--box 40,30,10,5", lambda d: boxed(d, "40,30,10,5"), 2, "is inverted"),
    _cli(
        "trimap-missing",
        "--trimap FILE that does not exist",
        lambda d: trimapped(d, d / "nope.png"),
        2,
        "is neither a preset (paper, noisy) nor a file",
    ),
    _cli(
        "trimap-black",
        "--trimap FILE all background",
        lambda d: trimapped(d, mask(d / "t.png", value=0)),
        2,
        "trimap is all background",
    ),
    _cli(
        "panoptic-batch-0",
        "panoptic --batch 0",
        lambda d: panoptic(d, photo(d / "l.png", channels=1), "--batch", "0"),
        2,
        "--batch: 0 must be at least 1",
    ),
    _cli(
        "panoptic-colour-labels",
        "panoptic: colour label map without --coco-json",
        lambda d: panoptic(d, photo(d / "l.png")),
        2,
        "a colour label map (its channels differ)",
    ),
]


def boxed(d: Path, box: str) -> list:
    out = d.parent / "out" / "a.png"
    return ["predict", photo(d / "p.png"), "--box", box, "-o", out, "--engine", "guidance"]


def trimapped(d: Path, trimap: Path) -> list:
    out = d.parent / "out" / "a.png"
    return ["predict", photo(d / "p.png"), "--trimap", trimap, "-o", out, "--engine", "guidance"]


def panoptic(d: Path, labels: Path, *extra) -> list:
    out = d.parent / "out"
    engine = ("--engine", "guidance")
    return ["panoptic", photo(d / "p.png"), "--segments", labels, "--out", out, *engine, *extra]


def _device_cuda_case() -> Case:
    import torch

    ok = torch.cuda.is_available()
    return _cli(
        "device-cuda",
        "--device cuda (this machine: " + ("GPU)" if ok else "no GPU)"),
        lambda d: predict(d, "--device", "cuda"),
        0 if ok else 2,
        "wrote" if ok else "available: cpu",
    )


PRN = ("--engine", "prn")


def _edit(key, value):
    def edit(doc):
        doc["config"][key] = value

    return edit


def _huge(doc):
    doc["config"].update(widths=[4096] * 4, depths=[64] * 4)


WEIGHT_CASES = [
    _cli(
        "weights-config-name",
        "--weights prn-light (a config name)",
        lambda d: predict(d, "--weights", "prn-light", engine=PRN),
        2,
        "--init random",
    ),
    _cli(
        "weights-missing",
        "--weights file does not exist",
        lambda d: predict(d, "--weights", d / "no.safetensors", engine=PRN),
        2,
        "weights file not found",
    ),
    _cli(
        "weights-pickle",
        "--weights model.pt",
        lambda d: predict(d, "--weights", raw(d / "model.pt", b"x"), engine=PRN),
        2,
        "must be .safetensors",
    ),
    _cli(
        "weights-truncated",
        "truncated .safetensors",
        lambda d: predict(
            d, "--weights", _corrupt(weights(d), lambda b: b[: len(b) // 2]), engine=PRN
        ),
        2,
        "not a readable weights file",
    ),
    _cli(
        "weights-garbage",
        "random bytes as .safetensors",
        lambda d: predict(
            d, "--weights", _corrupt(weights(d), lambda b: os.urandom(len(b))), engine=PRN
        ),
        2,
        "not a readable weights file",
    ),
    _cli(
        "weights-json-garbage",
        "weights JSON is not JSON",
        lambda d: predict(
            d, "--weights", _corrupt(weights(d).with_suffix(".json"), lambda b: b"{bad"), engine=PRN
        ),
        2,
        "not valid JSON",
    ),
    _cli(
        "weights-json-list",
        "weights JSON is a list",
        lambda d: predict(
            d, "--weights", _corrupt(weights(d).with_suffix(".json"), lambda b: b"[]"), engine=PRN
        ),
        2,
        "no 'config' entry",
    ),
    _cli(
        "weights-width-1e7",
        "weights JSON with a width of 10⁷",
        lambda d: predict(
            d, "--weights", weights(d, edit=_edit("widths", [10**7] * 4)), engine=PRN
        ),
        2,
        "out of range 1-4096",
    ),
    _cli(
        "weights-too-big",
        "weights JSON in bounds but 77 G parameters",
        lambda d: predict(d, "--weights", weights(d, edit=_huge), engine=PRN),
        2,
        "M limit",
    ),
    _cli(
        "weights-unknown-key",
        "weights JSON with an unknown key",
        lambda d: predict(d, "--weights", weights(d, edit=_edit("stemm", 8)), engine=PRN),
        2,
        "unknown key(s) 'stemm'",
    ),
    _cli(
        "weights-wrong-type",
        "weights JSON with stem 'abc'",
        lambda d: predict(d, "--weights", weights(d, edit=_edit("stem", "abc")), engine=PRN),
        2,
        "expected integers",
    ),
    _cli(
        "weights-short-list",
        "weights JSON with 2 depths",
        lambda d: predict(d, "--weights", weights(d, edit=_edit("depths", [1, 1])), engine=PRN),
        2,
        "expected 4 entries",
    ),
    _cli(
        "weights-other-config",
        "weights whose JSON names another size",
        lambda d: predict(d, "--weights", weights(d, edit=_edit("stem", 16)), engine=PRN),
        2,
        "does not match w.json",
    ),
    _cli(
        "weights-no-json",
        "weights without the JSON beside them",
        lambda d: predict(
            d,
            "--weights",
            _unlink(weights(d).with_suffix(".json")).with_suffix(".safetensors"),
            engine=PRN,
        ),
        2,
        "weights file not found",
    ),
    _cli(
        "init-random",
        "--init random --model prn-tiny (says so)",
        lambda d: predict(d, *TINY_RANDOM, engine=PRN),
        0,
        "untrained prn-tiny model",
    ),
    _cli(
        "init-random-weights",
        "--init random with --weights",
        lambda d: predict(d, *TINY_RANDOM, "--weights", "x.safetensors", engine=PRN),
        2,
        "takes no --weights",
    ),
    _cli(
        "init-random-model",
        "--init random --model prn-huge",
        lambda d: predict(d, "--init", "random", "--model", "prn-huge", engine=PRN),
        2,
        "unknown config 'prn-huge'",
    ),
    _cli(
        "init-unknown",
        "--init zeros",
        lambda d: predict(d, "--init", "zeros", engine=PRN),
        2,
        "invalid choice",
    ),
]


def _corrupt(path: Path, change: Callable[[bytes], bytes]) -> Path:
    path.write_bytes(change(path.read_bytes()))
    return path


def _unlink(path: Path) -> Path:
    path.unlink()
    return path


def _yaml(d: Path, text: str) -> Path:
    return raw(d / "bad.yaml", text.encode())


TRAIN_CASES = [
    _cli(
        "set-typo",
        "--set train.stpes=2 (a typo)",
        lambda d: train(d, "--set", "train.stpes=2"),
        2,
        "train.stpes: unknown key",
    ),
    _cli(
        "set-negative-lr",
        "--set train.lr=-1",
        lambda d: train(d, "--set", "train.lr=-1"),
        2,
        "train.lr: Input should be greater than 0",
    ),
    _cli(
        "set-text-steps",
        "--set train.steps=abc",
        lambda d: train(d, "--set", "train.steps=abc"),
        2,
        "train.steps: Input should be a valid integer",
    ),
    _cli(
        "set-float-steps",
        "--set train.steps=2.5",
        lambda d: train(d, "--set", "train.steps=2.5"),
        2,
        "train.steps",
    ),
    _cli(
        "set-device-tpu",
        "--set train.device=tpu",
        lambda d: train(d, "--set", "train.device=tpu"),
        2,
        "train.device",
    ),
    _cli(
        "set-model-unknown",
        "--set model=prn-huge",
        lambda d: train(d, "--set", "model=prn-huge"),
        2,
        "unknown model config 'prn-huge'",
    ),
    _cli(
        "set-model-width",
        "--set model={name: prn-tiny, stem: 10000000}",
        lambda d: train(d, "--set", "model={name: prn-tiny, stem: 10000000}"),
        2,
        "out of range",
    ),
    _cli(
        "set-top-unknown",
        "--set foo=1",
        lambda d: train(d, "--set", "foo=1"),
        2,
        "foo: unknown key",
    ),
    _cli(
        "set-no-equals",
        "--set train.steps",
        lambda d: train(d, "--set", "train.steps"),
        2,
        "override must look like",
    ),
    _cli(
        "set-minutes-zero",
        "--set train.minutes=0",
        lambda d: train(d, "--set", "train.minutes=0"),
        2,
        "train.minutes",
    ),
    _cli(
        "set-bands-reversed",
        "--set train.band_radius_os4=[30,1]",
        lambda d: train(d, "--set", "train.band_radius_os4=[30,1]"),
        2,
        "low 30 is above high 1",
    ),
    _cli(
        "set-crop-tiny",
        "--set data.crop_size=3",
        lambda d: train(d, "--set", "data.crop_size=3"),
        2,
        "data.crop_size",
    ),
    _cli(
        "set-fraction",
        "--set data.procedural_ratio=2",
        lambda d: train(d, "--set", "data.procedural_ratio=2"),
        2,
        "data.procedural_ratio",
    ),
    _cli(
        "set-loss-unknown",
        "--set train.loss.l2=1",
        lambda d: train(d, "--set", "train.loss.l2=1"),
        2,
        "train.loss.l2: unknown key",
    ),
    _cli(
        "config-missing",
        "--config no.yaml",
        lambda d: ["train", "--config", d / "no.yaml"],
        2,
        "not found",
    ),
    _cli(
        "config-unknown-name",
        "--config no-such-config",
        lambda d: ["train", "--config", "no-such-config"],
        2,
        "unknown config",
    ),
    _cli(
        "config-bad-yaml",
        "config with a YAML syntax error",
        lambda d: train(d, cfg=_yaml(d, "train: [1, 2\n")),
        2,
        "invalid YAML",
    ),
    _cli(
        "config-list",
        "config that is a list",
        lambda d: train(d, cfg=_yaml(d, "- 1\n- 2\n")),
        2,
        "valid dictionary",
    ),
    _cli(
        "config-no-data",
        "config without a data section",
        lambda d: train(d, cfg=_yaml(d, "name: x\n")),
        2,
        "data: Field required",
    ),
    _cli(
        "train-device-cuda-99",
        "--set train.device=cuda:99",
        lambda d: train(d, "--set", "train.device=cuda:99"),
        2,
        "available: cpu",
    ),
    _cli(
        "resume-bit-flip",
        "--resume from a bit-flipped checkpoint",
        lambda d: [*train(d, "--resume"), *_also(checkpoint(d, flip_last_bit))],
        2,
        "checksum mismatch",
    ),
    _cli(
        "resume-truncated",
        "--resume from a truncated checkpoint",
        lambda d: [*train(d, "--resume"), *_also(checkpoint(d, lambda b: b[: len(b) // 2]))],
        2,
        "not a readable checkpoint",
    ),
    _cli(
        "resume-garbage",
        "--resume from random bytes",
        lambda d: [*train(d, "--resume"), *_also(checkpoint(d, lambda b: os.urandom(len(b))))],
        2,
        "not a readable checkpoint",
    ),
    _cli(
        "resume-other-model",
        "--resume from another model's checkpoint",
        lambda d: [*train(d, "--resume"), *_also(checkpoint(d, model="prn-light"))],
        2,
        "does not fit this config's model",
    ),
]


def _matter(engine="guidance"):
    from wildmatte import Matter

    return Matter.from_pretrained(engine=engine)


def _api(id, what, call, exc, says):
    return Case(id, what, lambda d: call, exc, says)


RNG = np.random.default_rng(3)
IMG = RNG.random((H, W, 3), dtype=np.float32)
MASK = np.zeros((H, W), np.uint8)
MASK[6:18, 8:24] = 255


def _with_nan(a: np.ndarray, n: int = 3) -> np.ndarray:
    a = a.copy()
    a.reshape(-1)[:n] = np.nan
    return a


API_CASES = [
    _api(
        "api-float-255",
        "float image in 0-255",
        lambda: _matter().predict(IMG * 255, MASK),
        ValueError,
        "divide by 255",
    ),
    _api(
        "api-float-negative",
        "float image below 0",
        lambda: _matter().predict(IMG - 0.5, MASK),
        ValueError,
        "must lie in [0, 1]",
    ),
    _api(
        "api-nan",
        "float image with 3 NaN pixels",
        lambda: _matter().predict(_with_nan(IMG), MASK),
        ValueError,
        "3 NaN or infinite",
    ),
    _api(
        "api-inf",
        "float image with infinity",
        lambda: _matter().predict(np.where(IMG > 0.5, np.inf, IMG), MASK),
        ValueError,
        "infinite",
    ),
    _api(
        "api-int64",
        "int64 image",
        lambda: _matter().predict((IMG * 255).astype(np.int64), MASK),
        TypeError,
        "uint8 or uint16",
    ),
    _api(
        "api-path",
        "a file path instead of an array",
        lambda: _matter().predict("photo.jpg", MASK),
        TypeError,
        "got str",
    ),
    _api(
        "api-none",
        "None as the image",
        lambda: _matter().predict(None, MASK),
        TypeError,
        "got NoneType",
    ),
    _api(
        "api-complex",
        "complex array",
        lambda: _matter().predict(IMG.astype(np.complex64), MASK),
        TypeError,
        "numeric array",
    ),
    _api(
        "api-ragged",
        "ragged nested list",
        lambda: _matter().predict([[1, 2], [3]], MASK),
        TypeError,
        "not an array",
    ),
    _api(
        "api-4d",
        "N×H×W×3 batch",
        lambda: _matter().predict(IMG[None], MASK),
        ValueError,
        "got shape (1, 24, 32, 3)",
    ),
    _api(
        "api-2-channels",
        "H×W×2 array",
        lambda: _matter().predict(IMG[..., :2], MASK),
        ValueError,
        "H×W×3",
    ),
    _api(
        "api-empty",
        "0×0 image",
        lambda: _matter().predict(np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), np.uint8)),
        ValueError,
        "image is empty",
    ),
    _api(
        "api-mask-shape",
        "mask of another shape",
        lambda: _matter().predict(IMG, MASK[:10]),
        ValueError,
        "differs from the image's",
    ),
    _api(
        "api-mask-empty",
        "all-zero mask",
        lambda: _matter().predict(IMG, np.zeros_like(MASK)),
        ValueError,
        "mask is empty",
    ),
    _api(
        "api-mask-float-255",
        "float mask in 0-255",
        lambda: _matter().predict(IMG, MASK.astype(np.float32)),
        ValueError,
        "mask: float values must lie in [0, 1]",
    ),
    _api(
        "api-mask-nan",
        "mask with NaN",
        lambda: _matter().predict(IMG, _with_nan(MASK / 255.0)),
        ValueError,
        "mask: 3 NaN",
    ),
    _api(
        "api-alpha-shape",
        "cutout with an alpha of another shape",
        lambda: _matter().cutout(IMG, alpha=np.ones((5, 5))),
        ValueError,
        "alpha: shape",
    ),
    _api(
        "api-alpha-range",
        "cutout with alpha in 0-255",
        lambda: _matter().cutout(IMG, alpha=MASK.astype(np.float64)),
        ValueError,
        "alpha: float values",
    ),
    _api(
        "api-clip",
        "0-255 floats with clip=True (clipped, as asked)",
        lambda: _matter().predict(IMG * 255, MASK, clip=True),
        None,
        "",
    ),
    _api(
        "api-nan-clip",
        "NaN pixels with clip=True (read as 0)",
        lambda: _matter().predict(_with_nan(IMG), MASK, clip=True),
        None,
        "",
    ),
    _api(
        "api-pil-i16",
        "PIL image in mode I;16",
        lambda: _matter().predict(Image.fromarray((IMG[..., 0] * 65535).astype(np.uint16)), MASK),
        None,
        "",
    ),
    _api(
        "api-uint16",
        "uint16 array",
        lambda: _matter().predict((IMG * 65535).astype(np.uint16), MASK),
        None,
        "",
    ),
    _api(
        "api-config-name",
        "from_pretrained('prn-light')",
        lambda: _matter_from("prn-light"),
        ValueError,
        "init='random'",
    ),
    _api(
        "api-device-tpu",
        "from_pretrained(device='tpu')",
        lambda: _matter_from(None, device="tpu"),
        ValueError,
        "available: cpu",
    ),
    _api(
        "api-engine-unknown",
        "from_pretrained(engine='nope')",
        lambda: _matter_from(None, engine="nope"),
        ValueError,
        "unknown engine",
    ),
]


def _matter_from(weights, **kw):
    from wildmatte import Matter

    return Matter.from_pretrained(weights, **kw)


CASES = [
    *IMAGE_CASES,
    *MASK_CASES,
    *OUTPUT_CASES,
    *OPTION_CASES,
    _device_cuda_case(),
    *WEIGHT_CASES,
    *TRAIN_CASES,
    *API_CASES,
]


# -- running them ----------------------------------------------------------------------------


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _run_cli(argv: list, capsys) -> tuple[int, str, str]:
    from wildmatte.interfaces.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse: usage line + error line, exit 2
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _check_cli(case: Case, argv: list, capsys) -> None:
    code, out, err = _run_cli(argv, capsys)
    assert "Traceback" not in err, err
    assert code == case.expect, (code, out, err)
    assert case.says in out + err, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    one_image = "--images" not in map(str, argv)
    if code != 0 and one_image and not err.startswith("usage:"):
        assert len(lines) == 1, err  # one clean line


def _check_api(case: Case, call: Callable[[], object], arrays: list) -> None:
    before = [a.tobytes() for a in arrays]
    if case.expect is None:
        alpha = call()
        assert np.isfinite(alpha).all() and 0 <= alpha.min() and alpha.max() <= 1
    else:
        with pytest.raises(case.expect) as info:
            call()
        assert case.says in str(info.value)
        assert "\n" not in str(info.value)
    assert [a.tobytes() for a in arrays] == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "in"
    inputs.mkdir()
    monkeypatch.chdir(tmp_path)
    made = case.make(inputs)
    before = _hashes(inputs)
    if callable(made):
        _check_api(case, made, [IMG, MASK])
    else:
        _check_cli(case, made, capsys)
    after = _hashes(inputs)
    assert {k: after.get(k) for k in before} == before, "an input file changed or went"
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert not leftovers, leftovers


def test_there_are_at_least_80_cases_with_unique_ids():
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


# -- the docs table --------------------------------------------------------------------------


def _outcome(case: Case) -> str:
    if isinstance(case.expect, int):
        return {
            0: "works, exit 0",
            1: "error line, exit 1 (a batch goes on)",
            2: "refused, exit 2",
        }[case.expect]
    return "works" if case.expect is None else f"`{case.expect.__name__}`"


def table() -> str:
    rows = [f"| {c.what} | {_outcome(c)} | {c.says.replace('|', '/') or '—'} |" for c in CASES]
    return "\n".join(["| Input | What happens | Message (fragment) |", "|---|---|---|", *rows])


def test_docs_table_is_current():
    doc = (Path(__file__).parents[1] / "docs" / "bad-inputs.md").read_text()
    assert table() in doc, "regenerate: python tests/test_bad_inputs.py --table"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print(table())
