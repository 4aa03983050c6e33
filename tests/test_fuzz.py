"""Fuzzing the edges with Hypothesis: random bytes as image files, random PNG headers, random
arrays into Matter.predict. Only the documented errors may come out (InputError for files,
ValueError/TypeError for arrays), every answer is a finite alpha in [0, 1], nothing hangs."""

import struct
import tempfile
import zlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from wildmatte.data.imageio import load_image, read_alpha, read_rgb
from wildmatte.errors import InputError

FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=10),  # a hang or a huge allocation fails, load does not
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _read_all(path: Path) -> None:
    for reader in (load_image, read_rgb, read_alpha):
        try:
            out = reader(path, max_pixels=1_000_000)  # larger headers: refused unread
        except InputError as err:
            assert str(path) in str(err) and "\n" not in str(err)
            continue
        assert out.size > 0 and np.isfinite(out).all()


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".png", ".jpg", ".bmp", ".tif"]))
def test_random_bytes_as_image_files(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x{suffix}"
        path.write_bytes(data)
        _read_all(path)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@FUZZ
@given(
    width=st.integers(0, 2**31 - 1),
    height=st.integers(0, 2**31 - 1),
    depth=st.sampled_from([1, 2, 4, 8, 16, 3]),
    colour=st.sampled_from([0, 2, 3, 4, 6, 5]),
    interlace=st.integers(0, 2),
    pixels=st.binary(max_size=512),
    compress=st.booleans(),
)
def test_random_png_headers(width, height, depth, colour, interlace, pixels, compress):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    idat = zlib.compress(pixels) if compress else pixels
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.png"
        path.write_bytes(png + _chunk(b"IEND", b""))
        _read_all(path)


@pytest.fixture(scope="module")
def matter():
    from wildmatte import Matter

    return Matter.from_pretrained(init="random", model="prn-tiny", device="cpu")


DTYPES = st.sampled_from(
    [np.uint8, np.uint16, np.float32, np.float64, np.float16, np.int32, np.bool_]
)


def _arrays(draw_shape):
    return DTYPES.flatmap(
        lambda dt: hnp.arrays(
            dt, draw_shape, elements={"allow_nan": True} if np.dtype(dt).kind == "f" else None
        )
    )


IMAGE_SHAPES = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12),
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=0, max_side=12),
    hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
)


@FUZZ
@given(image=_arrays(IMAGE_SHAPES), mask=_arrays(IMAGE_SHAPES), clip=st.booleans())
def test_random_arrays_into_predict(matter, image, mask, clip):
    try:
        alpha = matter.predict(image, mask, clip=clip)
    except (ValueError, TypeError) as err:
        assert str(err) and "\n" not in str(err)
        return
    assert alpha.shape == image.shape[:2]
    assert np.isfinite(alpha).all() and 0 <= alpha.min() and alpha.max() <= 1
