"""The web demo: one static page and one JSON endpoint that mattes a photo held in memory.

POST /api/matte (multipart form) takes `image`, the guidance as `mask` (a file) or `box`
('x0,y0,x1,y1' in image pixels; GrabCut turns it into a coarse mask), `engine`, and the
composite's `background` colour or `background_image` file. It answers JSON with the alpha,
the RGBA cutout, the composite and the guidance used, as PNG data URLs. Errors answer
{"detail": "one line"} with 400 (bad input), 413 (too large), 503 (queue full) or 500.
Nothing in a request names a file on disk: uploads are read from memory, outputs sent back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from PIL import ImageColor
from starlette.formparsers import MultiPartParser

from wildmatte.errors import first_line
from wildmatte.inference import engines as engines_mod
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import Engine
from wildmatte.inference.prompts import mask_from_box
from wildmatte.interfaces.web.imaging import (
    RequestError,
    decode_image,
    decode_mask,
    parse_box,
    png_data_url,
)
from wildmatte.interfaces.web.jobs import Busy, EngineCache, JobQueue

log = logging.getLogger("wildmatte.serve")
MB = 1_000_000
STATIC = {  # the page's files: fixed names, never a path taken from the request
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


@dataclass(frozen=True)
class Settings:
    """What `wildmatte serve` can change."""

    engine: str = "prn"  # the page's default engine
    weights: str | None = None  # for prn/onnx: a weights file (None: bundled)
    device: str | None = None
    max_upload_mb: float = 25.0  # per uploaded file
    max_megapixels: float = 12.0  # per image; the model's memory grows with the pixel count
    workers: int = 1  # requests matted at once
    queue: int = 16  # requests waiting behind them before the server answers 503
    engines: tuple[str, ...] = field(default_factory=lambda: tuple(engines_mod.ENGINES))

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1e6)

    @property
    def max_body_bytes(self) -> int:
        """A whole request: up to three files (photo, mask, background) and the form fields."""
        return 3 * self.max_upload_bytes + MB


@dataclass
class Job:
    """One request's inputs, as bytes and text: decoded on the worker thread."""

    image: bytes
    engine: str
    mask: bytes | None = None
    box: str | None = None
    background: str = "#ffffff"
    background_image: bytes | None = None


def load_engine_for(settings: Settings) -> Callable[[str], Engine]:
    """Engines by name, with the server's weights for the model engines (`prn`, `onnx`)."""

    def load(name: str) -> Engine:
        weights = settings.weights if name in ("prn", "onnx") else None
        return engines_mod.get_engine(name, weights, settings.device)

    return load


def warm_up(engine: Engine) -> None:
    """Run every step once on a small image, so that the first visitor does not wait for
    one-time costs (pymatting's compiled kernels, PyTorch's first pass)."""
    image = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    guidance = mask_from_box(image, (16, 16, 48, 48))
    fgmod.estimate_foreground(image, engine(image, guidance))


def run_job(job: Job, engine: Engine, max_pixels: int) -> dict:
    """Decode, matte, composite and encode; every output has the photo's size."""
    start = time.perf_counter()
    image = decode_image(job.image, "image", max_pixels)
    shape = image.shape[:2]
    if job.mask is not None:
        guidance, kind = decode_mask(job.mask, shape, max_pixels), "mask"
    else:
        guidance, kind = mask_from_box(image, parse_box(job.box or "", shape)), "box"
    background = _background(job, shape, max_pixels)
    alpha = engine(image, guidance)
    fg = fgmod.estimate_foreground(image, alpha)
    return {
        "width": shape[1],
        "height": shape[0],
        "engine": engine.name,
        "guidance_kind": kind,
        "seconds": round(time.perf_counter() - start, 3),
        "alpha": png_data_url(alpha),
        "cutout": png_data_url(fgmod.cutout(fg, alpha)),
        "composite": png_data_url(fgmod.composite(fg, alpha, background)),
        "guidance": png_data_url(guidance),
    }


def _background(job: Job, shape: tuple[int, int], max_pixels: int) -> np.ndarray:
    """The uploaded image (resized to cover, centre-cropped) or a colour; never a path."""
    if job.background_image is not None:
        return fgmod.fit_background(
            decode_image(job.background_image, "background", max_pixels), shape
        )
    try:
        rgb = ImageColor.getrgb(job.background.strip())
    except ValueError:
        raise RequestError(400, f"background: {job.background!r} is not a colour") from None
    return np.broadcast_to(np.array(rgb[:3], np.float32) / 255.0, (*shape, 3)).copy()


async def _read(upload: UploadFile | None, field_name: str, limit_mb: float) -> bytes | None:
    if upload is None:
        return None
    data = await upload.read()
    if len(data) > limit_mb * MB:
        raise RequestError(
            413,
            f"{field_name}: {len(data) / MB:.2g} MB is over this server's {limit_mb:g} MB limit",
        )
    return data


def create_app(
    settings: Settings | None = None, load_engine: Callable[[str], Engine] | None = None
) -> FastAPI:
    """The app; `load_engine(name) -> Engine` replaces wildmatte's engines (tests)."""
    settings = settings or Settings()
    if settings.engine not in settings.engines:
        raise ValueError(f"unknown engine {settings.engine!r}: expected one of {settings.engines}")
    # Keep multipart uploads in memory (Starlette spools files over 1 MB to a temp file); the
    # body limit below bounds what that can hold.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, settings.max_body_bytes)
    queue = JobQueue(settings.workers, settings.queue)
    engines = EngineCache(load_engine or load_engine_for(settings))
    page = {
        route: resources.files(__package__).joinpath("static", name).read_bytes()
        for route, (name, _) in STATIC.items()
    }

    app = FastAPI(title="wildmatte", docs_url=None, redoc_url=None)
    app.state.settings, app.state.queue, app.state.engines = settings, queue, engines

    @app.middleware("http")
    async def refuse_large_bodies(request: Request, call_next):
        # Checked on the declared length, before any of the body is read, to answer with a
        # clear line; the route's max_body_size stops a body sent without a length.
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            return _error(
                413,
                f"the upload is {int(length) / MB:.1f} MB; this server accepts "
                f"at most {settings.max_upload_mb:g} MB per file",
            )
        return await call_next(request)

    @app.exception_handler(RequestError)
    async def request_error(_: Request, err: RequestError) -> JSONResponse:
        return _error(err.status, err.message)

    @app.exception_handler(Busy)
    async def busy(_: Request, err: Busy) -> JSONResponse:
        return _error(503, str(err), headers={"Retry-After": "5"})

    for route, (_, media_type) in STATIC.items():
        app.add_api_route(
            route, _static(page[route], media_type), methods=["GET"], include_in_schema=False
        )

    @app.get("/api/info")
    async def info() -> dict:
        return {
            "engines": list(settings.engines),
            "default_engine": settings.engine,
            "max_upload_mb": settings.max_upload_mb,
            "max_megapixels": settings.max_megapixels,
        }

    @app.post("/api/matte", max_body_size=settings.max_body_bytes)
    async def matte(
        image: Annotated[UploadFile | None, File()] = None,
        mask: Annotated[UploadFile | None, File()] = None,
        box: Annotated[str | None, Form()] = None,
        engine: Annotated[str, Form()] = settings.engine,
        background: Annotated[str, Form()] = "#ffffff",
        background_image: Annotated[UploadFile | None, File()] = None,
    ) -> dict:
        if image is None:
            raise RequestError(400, "image: no photo uploaded")
        if mask is None and box is None:
            raise RequestError(400, "guidance: draw a box, paint a mask or upload one")
        if mask is not None and box is not None:
            raise RequestError(400, "guidance: give a box or a mask, not both")
        if engine not in settings.engines:
            raise RequestError(
                400, f"engine: unknown {engine!r}; expected one of {', '.join(settings.engines)}"
            )
        limit = settings.max_upload_mb
        job = Job(
            image=await _read(image, "image", limit),
            engine=engine,
            mask=await _read(mask, "mask", limit),
            box=box,
            background=background,
            background_image=await _read(background_image, "background", limit),
        )
        return await queue.run(_work, job, engines, settings.max_pixels)

    return app


def _work(job: Job, engines: EngineCache, max_pixels: int) -> dict:
    """The worker thread's part: load the engine (once) and run the job, with one-line errors."""
    try:
        engine = engines.get(job.engine)
    except Exception as err:  # a missing model file, say: the server's problem, told plainly
        log.exception("engine %s failed to load", job.engine)
        raise RequestError(
            500, f"engine {job.engine!r} is unavailable: {first_line(err)}"
        ) from None
    try:
        return run_job(job, engine, max_pixels)
    except RequestError:
        raise
    except Exception as err:
        log.exception("matting failed")
        raise RequestError(
            500, f"matting failed: {type(err).__name__}: {first_line(err)}"
        ) from None


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def _static(body: bytes, media_type: str):
    async def serve() -> Response:
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return serve
