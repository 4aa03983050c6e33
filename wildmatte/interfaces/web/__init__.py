"""The web demo behind `wildmatte serve` (needs the `serve` extra: FastAPI, Uvicorn)."""

from wildmatte.interfaces.web.app import Settings, create_app

__all__ = ["Settings", "create_app"]
