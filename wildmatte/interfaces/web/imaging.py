"""Bytes in, arrays out, and back: the web demo's image handling, all in memory.

Every problem with an upload raises `RequestError` with the HTTP status and a one-line message
that the page shows as is.
"""

from __future__ import annotations

import base64
import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from wildmatte.inference import prompts
from wildmatte.inference.io import to_uint

MIN_SIDE = 8  # px: the smallest photo, mask or background the demo takes


class RequestError(Exception):
    """A bad request: `status` is the HTTP code, the message is for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _open(data: bytes, field: str, max_pixels: int) -> Image.Image:
    """Open an upload and check its pixel count from the header, before decoding the pixels."""
    if not data:
        raise RequestError(400, f"{field}: the file is empty")
    try:
        with warnings.catch_warnings():
            # Our own limit is far below PIL's bomb threshold; its warning would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise RequestError(
            413, f"{field}: far over this server's {_mp(max_pixels)} megapixels"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise RequestError(400, f"{field}: not a readable image (PNG, JPEG, WebP, ...)") from None
    w, h = image.size
    if min(w, h) < MIN_SIDE:  # nothing to matte, and the foreground estimate needs a few pixels
        raise RequestError(
            400, f"{field}: {w}×{h} is too small; at least {MIN_SIDE}×{MIN_SIDE} pixels"
        )
    if w * h > max_pixels:
        raise RequestError(
            413,
            f"{field}: {w}×{h} is {_mp(w * h)} megapixels; "
            f"this server accepts at most {_mp(max_pixels)}",
        )
    return image


def _mp(pixels: int) -> str:
    return f"{round(pixels / 1e6, 2):g}"


def _upright(image: Image.Image, field: str, mode: str | None = None) -> Image.Image:
    """Decode the pixels upright (EXIF orientation applied, as browsers show them)."""
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        return image.convert(mode) if mode else image
    except (OSError, ValueError, SyntaxError):
        raise RequestError(400, f"{field}: the image data is damaged or truncated") from None


def decode_image(data: bytes, field: str, max_pixels: int) -> np.ndarray:
    """H×W×3 float32 RGB in [0, 1] from an uploaded file's bytes."""
    image = _upright(_open(data, field, max_pixels), field, "RGB")
    return np.asarray(image, dtype=np.float32) / 255.0


def decode_mask(data: bytes, shape: tuple[int, int], max_pixels: int) -> np.ndarray:
    """Binary H×W float32 guidance, resized to the photo's `shape` when it differs (bilinear,
    then thresholded at 128). A file with transparency (a cutout, say) gives its alpha; any
    other file its grey levels."""
    image = _upright(_open(data, "mask", max_pixels), "mask")
    mask = np.asarray(_mask_channel(image), np.float32) / 255.0
    if mask.shape != tuple(shape):
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    binary = (mask >= 0.5).astype(np.float32)
    if not binary.any():
        raise RequestError(400, "mask: it is empty (no white pixel); nothing to matte")
    return binary


def _mask_channel(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] < 255:
            return alpha
    return image.convert("L")


def parse_box(text: str, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """'x0,y0,x1,y1' in image pixels, clipped to the image: the CLI's parser and checks."""
    try:
        return prompts.check_box(prompts.parse_box(text), shape)
    except ValueError as err:
        raise RequestError(400, str(err)) from None


def png_data_url(image: np.ndarray) -> str:
    """A [0, 1] grey, RGB or RGBA float image as a `data:image/png;base64,...` URL."""
    buf = io.BytesIO()
    # Fast compression: the page gets the result sooner; the files are a little larger.
    Image.fromarray(to_uint(image)).save(buf, "PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
