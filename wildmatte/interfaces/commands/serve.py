"""`wildmatte serve`: the web demo, a page to upload a photo, mark the object and cut it out."""

from __future__ import annotations

import argparse
import sys

from wildmatte.errors import WildmatteError
from wildmatte.inference.engines import ENGINES, Engine

# Two requests at once keep two cores busy: a request's GrabCut, decoding and PNG encoding run on
# one thread, and the model's threads spin less with two calls in flight (benchmarks/serve_load.py
# measured 0.59 against 0.72 CPU-seconds a request at 640×448).
WORKERS = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="web demo: upload a photo, mark the object, download the matte",
        description="Serve the web demo (FastAPI + Uvicorn; needs pip install 'wildmatte[serve]'). "
        "Uploads stay in memory and are never written to disk.",
    )
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        help="the page's preselected engine (default: the one `predict` runs)",
    )
    p.add_argument("--weights", help="for prn/onnx: a .safetensors or .onnx file")
    p.add_argument("--device", help="cpu, cuda … (default: cuda if available)")
    p.add_argument(
        "--max-upload-mb",
        type=float,
        default=25.0,
        help="per request: photo, mask and background together (default 25)",
    )
    p.add_argument("--max-megapixels", type=float, default=12.0, help="per image (default 12)")
    p.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help=f"requests matted at once (default {WORKERS}: one runs the model while another "
        "does its GrabCut and encoding)",
    )
    p.add_argument(
        "--queue", type=int, default=16, help="requests that may wait; more get 503 (default 16)"
    )
    p.set_defaults(func=run)


def default_engine(args) -> Engine | None:
    """The engine `predict` and `Matter.from_pretrained()` run, or None when --engine names one.
    Bad weights fail here, in one line, before the server listens."""
    if args.engine is not None:
        return None
    from wildmatte.inference.matter import Matter

    return Matter.from_pretrained(
        args.weights, args.device, threads=call_threads(args.workers)
    ).engine


def call_threads(workers: int) -> int:
    """onnxruntime threads per call: the cores shared by the calls that run side by side
    (2 workers × 2 threads on 2 cores spin against each other: 504 against 285 ms a call)."""
    import os

    return max(1, (os.cpu_count() or 1) // workers)


def run(args) -> int:
    try:
        import uvicorn

        from wildmatte.interfaces.web import Settings, create_app
        from wildmatte.interfaces.web.app import warm_up
    except ImportError as err:
        raise WildmatteError(
            f"the web demo needs {err.name}: pip install 'wildmatte[serve]'"
        ) from None
    if args.workers < 1 or args.queue < 0:
        raise WildmatteError("--workers must be at least 1 and --queue at least 0")
    print(f"loading the {args.engine or 'default'} engine…", file=sys.stderr)
    loaded = default_engine(args)
    engine = args.engine or loaded.name
    settings = Settings(
        engine=engine,
        weights=args.weights,
        device=args.device,
        max_upload_mb=args.max_upload_mb,
        max_megapixels=args.max_megapixels,
        workers=args.workers,
        queue=args.queue,
    )
    app = create_app(settings)
    if loaded is not None:
        app.state.engines.put(engine, loaded)
    warm_up(app.state.engines.get(engine))  # fail now, not on the first visitor's request
    print(
        f"wildmatte demo ({engine}) on http://{args.host}:{args.port}/  (Ctrl-C stops it)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
