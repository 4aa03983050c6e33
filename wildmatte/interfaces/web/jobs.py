"""A bounded queue in front of the worker threads, and the engines they share."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from wildmatte.inference.engines import Engine


class Busy(Exception):
    """The queue is full: the request is refused rather than left to wait without bound."""


class JobQueue:
    """Runs blocking jobs on `workers` threads with at most `waiting` more queued behind them.

    A job holds its place until its thread finishes it, even when the client has gone away, so
    the count always matches the work the machine really has to do.
    """

    def __init__(self, workers: int = 1, waiting: int = 16) -> None:
        if workers < 1 or waiting < 0:
            raise ValueError("need at least one worker and a non-negative queue length")
        self.capacity = workers + waiting
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="wildmatte-serve")
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs running or waiting."""
        return self._pending

    async def run(self, job: Callable[..., Any], *args: Any) -> Any:
        """The job's result; raises Busy at once when `capacity` jobs are already pending."""
        with self._lock:
            if self._pending >= self.capacity:
                raise Busy(f"the server is busy ({self._pending} requests in hand); try again")
            self._pending += 1
        try:
            future = self._executor.submit(job, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _: Future | None = None) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class EngineCache:
    """Engines loaded on first use, then kept: loading the model is slower than using it."""

    def __init__(self, load: Callable[[str], Engine]) -> None:
        self._load = load
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._engines:
                self._engines[name] = self._load(name)
            return self._engines[name]
