"""Alpha compositing of foreground layers over a background (paper Eq. 1 and Eq. 2).

Images are float32 H×W×3 in [0, 1], alphas float32 H×W in [0, 1]. Layer lists are ordered
front to back: the first layer occludes all the others. Channels-first arrays work too: pass
3×H×W images with 1×H×W alphas (any alpha with 3 dimensions is used as it is, broadcasting).
"""

import cv2
import numpy as np

# Below this background weight the colour behind the target has no effect on the image.
_OPAQUE_EPS = 1e-4


def _a(alpha: np.ndarray) -> np.ndarray:
    """Alpha shaped to multiply an image.

    An H×W alpha is repeated to H×W×3 (faster than broadcasting over the last axis); a 1×H×W
    one already broadcasts over a channels-first image.
    """
    if alpha.ndim == 3:
        return alpha
    alpha = np.ascontiguousarray(alpha, dtype=np.float32)
    return cv2.merge([alpha, alpha, alpha])


def _f32(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def composite(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Eq. 1: I = αF + (1 − α)B."""
    a = _a(alpha)
    image = a * _f32(fg)
    image += (1.0 - a) * _f32(bg)
    return image


def recalibrate(alphas: list[np.ndarray]) -> list[np.ndarray]:
    """Eq. 2: visible alpha of each layer, ᾱk = αk · Π_{j<k} (1 − αj).

    Together with the background weight Π(1 − αk) the results sum to one at every pixel.
    """
    front = np.asarray(alphas[0])
    out = [front.astype(np.float32)]  # ᾱ1 = α1: nothing in front of it
    transmitted = 1.0 - front
    for alpha in alphas[1:]:
        out.append((alpha * transmitted).astype(np.float32))
        transmitted = transmitted * (1.0 - alpha)
    return out


def layer(
    fgs: list[np.ndarray], alphas: list[np.ndarray], bg: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Composite several layers over bg: I = Σ ᾱk Fk + (1 − Σ ᾱk) B.

    Returns the image and the re-calibrated alphas ᾱk.
    """
    bars = recalibrate(alphas)
    image = _a(1.0 - sum(bars)) * _f32(bg)
    term = np.empty_like(image)  # one scratch buffer: fresh large arrays cost page faults
    for fg, bar in zip(fgs, bars, strict=True):
        image += np.multiply(_a(bar), _f32(fg), out=term)
    return image, bars


def effective_background(image: np.ndarray, fg: np.ndarray, alpha_bar: np.ndarray) -> np.ndarray:
    """The colour behind the target, so that image == ᾱF + (1 − ᾱ)·bg_eff.

    It mixes the real background with the other layers in their true colours and alphas, which
    is what the composition loss needs. Where the target is opaque the background weight is zero
    and any finite value would do: fg is used there.
    """
    fg = _f32(fg)
    rest = 1.0 - alpha_bar.astype(np.float32)
    opaque = rest < _OPAQUE_EPS
    inverse = 1.0 / np.maximum(rest, _OPAQUE_EPS)
    inverse[opaque] = 0.0
    bg = _a(alpha_bar) * fg
    np.subtract(_f32(image), bg, out=bg)
    bg *= _a(inverse)
    if opaque.any():
        np.copyto(bg, fg, where=opaque if opaque.ndim == 3 else opaque[..., None])
    return np.clip(bg, 0.0, 1.0, out=bg)


def merge_alphas(alphas: list[np.ndarray]) -> np.ndarray:
    """MGMatting instance merging: the union matte 1 − Π(1 − αk)."""
    transmitted = np.ones_like(alphas[0], dtype=np.float32)
    for alpha in alphas:
        transmitted = transmitted * (1.0 - alpha)
    return (1.0 - transmitted).astype(np.float32)


def merge_foregrounds(fgs: list[np.ndarray], alpha_bars: list[np.ndarray]) -> np.ndarray:
    """Colour of the merged layer: (Σ ᾱk Fk) / Σ ᾱk, and the front layer where nothing is visible.

    With α = Σ ᾱk = merge_alphas(...) this gives image == α·fg + (1 − α)·B.
    """
    total = sum(alpha_bars)
    empty = total <= 0
    inverse = 1.0 / np.maximum(total, 1e-12)
    inverse[empty] = 0.0
    merged = _a(alpha_bars[0]) * _f32(fgs[0])
    term = np.empty_like(merged)
    for fg, bar in zip(fgs[1:], alpha_bars[1:], strict=True):
        merged += np.multiply(_a(bar), _f32(fg), out=term)
    merged *= _a(inverse)
    if empty.any():
        np.copyto(merged, _f32(fgs[0]), where=empty if empty.ndim == 3 else empty[..., None])
    return np.clip(merged, 0.0, 1.0, out=merged)
