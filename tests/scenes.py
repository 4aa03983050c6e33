"""Tiny synthetic scenes for the tests: a clip with a moving cutout passing in front of a still
one, and a layered still scene, each with its ground-truth alphas; a flat disc and its mask."""

from __future__ import annotations

import cv2
import numpy as np


def _texture(rng: np.random.Generator, shape: tuple[int, int], base) -> np.ndarray:
    noise = rng.uniform(-0.25, 0.25, (*shape, 3)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
    return np.clip(np.asarray(base, np.float32) + noise, 0, 1)


def _ellipse_alpha(shape, centre, axes, blur: float = 1.2) -> np.ndarray:
    alpha = np.zeros(shape, np.float32)
    cv2.ellipse(alpha, centre, axes, 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(alpha, (0, 0), blur)


def background(shape=(96, 128), seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bg = rng.uniform(0, 1, (*shape, 3)).astype(np.float32)
    return cv2.GaussianBlur(bg, (0, 0), 4) * 0.6 + 0.2


def moving_clip(frames: int = 8, shape=(96, 128), step: int = 5, seed: int = 0):
    """(frames T×H×W×3, gt alphas of the moving object T×H×W, the still object's alpha).

    The moving object (a reddish textured ellipse) slides right by `step` px a frame and passes
    in front of a still bluish one; its texture moves with it, as a real object's would.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    bg = background(shape, seed + 1)
    still_alpha = _ellipse_alpha(shape, (w - 48, h // 2 + 6), (20, 26))
    still_fg = _texture(rng, shape, (0.15, 0.3, 0.8))
    sprite_size = (40, 48)
    sprite_alpha = _ellipse_alpha(sprite_size, (24, 20), (17, 14))
    sprite_fg = _texture(rng, sprite_size, (0.9, 0.35, 0.2))
    clip, alphas = [], []
    for t in range(frames):
        x0, y0 = 4 + step * t, h // 2 - 20
        alpha = np.zeros(shape, np.float32)
        fg = np.zeros((*shape, 3), np.float32)
        ys, xs = slice(y0, y0 + sprite_size[0]), slice(x0, x0 + sprite_size[1])
        rows, cols = alpha[ys, xs].shape  # the sprite may leave the frame on the right
        alpha[ys, xs] = sprite_alpha[:rows, :cols]
        fg[ys, xs] = sprite_fg[:rows, :cols]
        image = still_alpha[..., None] * still_fg + (1 - still_alpha[..., None]) * bg
        image = alpha[..., None] * fg + (1 - alpha[..., None]) * image
        clip.append(image.astype(np.float32))
        alphas.append(alpha)
    return np.stack(clip), np.stack(alphas), still_alpha


def layered_scene(shape=(96, 128), seed: int = 3):
    """(image, [alpha of each layer, back to front], labels): two textured ellipses over a
    background; labels 0 = background, 1 and 2 the layers where their alpha >= 0.5 and on top."""
    rng = np.random.default_rng(seed)
    h, w = shape
    image = background(shape, seed)
    layers = [
        (_ellipse_alpha(shape, (40, 50), (24, 30), 1.5), (0.9, 0.8, 0.2)),
        (_ellipse_alpha(shape, (82, 44), (22, 18), 1.5), (0.2, 0.7, 0.3)),
    ]
    alphas = []
    for alpha, base in layers:
        fg = _texture(rng, shape, base)
        image = alpha[..., None] * fg + (1 - alpha[..., None]) * image
        alphas.append(alpha)
    # Visible alpha of each layer: its alpha times what the layers in front let through.
    visible_alphas = []
    for i, alpha in enumerate(alphas):
        front = np.ones(shape, np.float32)
        for other in alphas[i + 1 :]:
            front *= 1 - other
        visible_alphas.append(alpha * front)
    bg_alpha = 1 - np.sum(visible_alphas, axis=0)
    labels = np.argmax(np.stack([bg_alpha, *visible_alphas]), axis=0).astype(np.uint8)
    return image.astype(np.float32), [bg_alpha, *visible_alphas], labels


def flat_disc(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A flat disc on a flat background and its mask dilated by 8 px: the model is sure of all
    but a thin band around the edge."""
    image = np.full((h, w, 3), (0.2, 0.5, 0.3), np.float32)
    cv2.circle(image, (w // 2, h // 2), h // 6, (0.9, 0.8, 0.2), -1)
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (w // 2, h // 2), h // 6 + 8, 1, -1)
    return image, mask.astype(np.float32)


def walker_clip(frames: int = 10, shape=(144, 192), swing: float = 35.0, seed: int = 2):
    """(frames T×H×W×3, gt alphas T×H×W): a textured body on two legs, walking right 4 px a
    frame over a textured background, its legs turned about the hips by ±`swing` degrees in
    opposite phase (one stride over the clip): a piecewise-rigid object no single motion fits."""
    rng = np.random.default_rng(seed)
    h, w = shape
    bg = background(shape, seed + 1)
    body_fg = _texture(rng, shape, (0.85, 0.3, 0.2))
    leg_fg = _texture(rng, shape, (0.2, 0.3, 0.85))
    clip, alphas = [], []
    for t in range(frames):
        x, top = 40 + 4 * t, 20
        body = np.zeros(shape, np.float32)
        cv2.rectangle(body, (x - 16, top), (x + 16, top + 54), 1.0, -1)
        legs = np.zeros(shape, np.float32)
        angle = swing * np.sin(2 * np.pi * t / frames)
        for sign, hx in ((1, x - 9), (-1, x + 9)):
            leg = np.zeros(shape, np.float32)
            cv2.rectangle(leg, (hx - 6, top + 50), (hx + 6, top + 110), 1.0, -1)
            m = cv2.getRotationMatrix2D((hx, top + 52), sign * angle, 1.0)
            legs = np.maximum(legs, cv2.warpAffine(leg, m, (w, h)))
        legs, body = cv2.GaussianBlur(legs, (0, 0), 0.8), cv2.GaussianBlur(body, (0, 0), 0.8)
        alpha = np.maximum(body, legs)
        image = legs[..., None] * leg_fg + (1 - legs[..., None]) * bg
        image = body[..., None] * body_fg + (1 - body[..., None]) * image
        clip.append(image.astype(np.float32))
        alphas.append(alpha)
    return np.stack(clip), np.stack(alphas)
