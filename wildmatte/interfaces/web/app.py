"""The web demo: one static page and one JSON endpoint that mattes a photo held in memory.

POST /api/matte (multipart form) takes `image`, the guidance as `mask` (a file) or `box`
('x0,y0,x1,y1' in image pixels; GrabCut turns it into a coarse mask), `engine`, and the
composite's `background` colour or `background_image` file. It answers JSON with the alpha,
the RGBA cutout, the composite and the guidance used, as PNG data URLs. Errors answer
{"detail": "one line"} with 400 (bad input), 413 (too large), 422 (a malformed form), 503
(queue full) or 500. A request's size (Content-Length) and a place in the queue are checked
before its body is read. Nothing in a request names a file on disk: uploads are read from
memory, outputs sent back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from PIL import ImageColor
from starlette.formparsers import MultiPartParser

from wildmatte.errors import first_line
from wildmatte.inference import engines as engines_mod
from wildmatte.inference import foreground as fgmod
from wildmatte.inference.engines import Engine
from wildmatte.inference.matter import Matter
from wildmatte.inference.prompts import mask_from_box
from wildmatte.interfaces.web.imaging import (
    RequestError,
    decode_image,
    decode_mask,
    parse_box,
    png_data_url,
)
from wildmatte.interfaces.web.jobs import Busy, EngineCache, JobQueue, Ticket

log = logging.getLogger("wildmatte.serve")
MB = 1_000_000
FORM_OVERHEAD = 64_000  # bytes of multipart headers and short fields allowed beyond the files
GRABCUT_SIDE = 320  # px: a box's GrabCut runs on a copy this long (the model refines the edge)
LEARNED = ("prn", "onnx")
STATIC = {  # the page's files: fixed names, never a path taken from the request
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


@dataclass(frozen=True)
class Settings:
    """What `wildmatte serve` can change."""

    engine: str | None = None  # the page's default engine (None: the one `predict` runs)
    weights: str | None = None  # for prn/onnx: a weights file (None: bundled)
    device: str | None = None
    max_upload_mb: float = 25.0  # per request: photo, mask and background together
    max_megapixels: float = 12.0  # per image; the model's memory grows with the pixel count
    workers: int = 2  # requests matted at once (see commands/serve.py's WORKERS)
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
        """A whole request: its files and the form's few fields and part headers."""
        return self.max_upload_bytes + FORM_OVERHEAD


@dataclass
class Job:
    """One request's inputs, as bytes and text: decoded on the worker thread."""

    image: bytes
    engine: str
    mask: bytes | None = None
    box: str | None = None
    background: str = "#ffffff"
    background_image: bytes | None = None


def default_engine(settings: Settings) -> str:
    """The engine the page preselects: the one asked for, else the one `predict` runs."""
    return settings.engine or engines_mod.default_engine_name(settings.weights, settings.device)


def load_engine_for(settings: Settings) -> Callable[[str], Engine]:
    """Engines by name; the model engines as `Matter.from_pretrained` makes them (the server's
    weights; big photos coarse to fine), so the demo runs what the API and `predict` run."""

    def load(name: str) -> Engine:
        if name in LEARNED:
            return Matter.from_pretrained(settings.weights, settings.device, engine=name).engine
        return engines_mod.get_engine(name)

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
        box = parse_box(job.box or "", shape)
        guidance, kind = mask_from_box(image, box, max_side=GRABCUT_SIDE), "box"
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


async def _read(upload: UploadFile | None) -> bytes | None:
    return None if upload is None else await upload.read()


def create_app(
    settings: Settings | None = None, load_engine: Callable[[str], Engine] | None = None
) -> FastAPI:
    """The app; `load_engine(name) -> Engine` replaces wildmatte's engines (tests)."""
    settings = settings or Settings()
    settings = replace(settings, engine=default_engine(settings))
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

    app.add_middleware(Admission, settings=settings, queue=queue)

    @app.exception_handler(RequestValidationError)
    async def malformed(_: Request, err: RequestValidationError) -> JSONResponse:
        return _error(422, validation_line(err.errors()))

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
        request: Request,
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
        job = Job(
            image=await _read(image),
            engine=engine,
            mask=await _read(mask),
            box=box,
            background=background,
            background_image=await _read(background_image),
        )
        ticket = getattr(request.state, "ticket", None)  # taken by Admission
        return await queue.run(_work, job, engines, settings.max_pixels, ticket=ticket)

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


class Admission:
    """ASGI middleware in front of POST /api/matte: refuses a request over the size limit
    (its declared Content-Length) or one the queue has no place for, before any of its body
    is read; otherwise takes the request's place, handed to its job or given back at the end.
    (A body sent without a length is cut off by the route's `max_body_size`.)"""

    def __init__(self, app, settings: Settings, queue: JobQueue) -> None:
        self.app, self.settings, self.queue = app, settings, queue

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/matte" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            limit = self.settings.max_upload_mb
            message = f"the upload is {int(length) / MB:.1f} MB; this server accepts at most "
            await _error(413, message + f"{limit:g} MB per request")(scope, receive, send)
            return
        try:
            ticket: Ticket = self.queue.admit()
        except Busy as err:
            await _error(503, str(err), {"Retry-After": "5"})(scope, receive, send)
            return
        scope.setdefault("state", {})["ticket"] = ticket
        try:
            await self.app(scope, receive, send)
        finally:
            if not ticket.submitted:
                ticket.release()


def validation_line(errors: Sequence[dict]) -> str:
    """FastAPI's list of form errors as one line: 'image: expected a file upload; ...'."""
    parts = []
    for e in errors:
        field_name = str(e.get("loc", ("form",))[-1])
        text = first_line(Exception(e.get("msg", "invalid")))
        if "UploadFile" in text:
            text = "expected a file upload"
        parts.append(f"{field_name}: {text}")
    return "; ".join(parts) or "the form could not be read"


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def _static(body: bytes, media_type: str):
    async def serve() -> Response:
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    return serve
