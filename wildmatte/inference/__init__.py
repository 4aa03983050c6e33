"""Inference: engines, file I/O, foreground colours and the `Matter` entry point."""

from wildmatte.inference.engines import ENGINES, get_engine
from wildmatte.inference.matter import Matter

__all__ = ["ENGINES", "Matter", "get_engine"]
