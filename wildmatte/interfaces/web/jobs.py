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


class Ticket:
    """A place in the queue, taken before a request's body is read and given back once."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._lock = threading.Lock()
        self._held = True
        self.submitted = False  # a job owns it now: the job's end gives it back

    def release(self, _: Future | None = None) -> None:
        with self._lock:
            held, self._held = self._held, False
        if held:
            self._release()


class JobQueue:
    """Runs blocking jobs on `workers` threads with at most `waiting` more queued behind them.

    A request takes its place (`admit`) before its body is read, so a full server refuses at
    once instead of reading uploads it cannot serve. A job holds its place until its thread
    finishes it, even when the client has gone away, so the count always matches the work the
    machine really has to do.
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
        """Places taken: requests being read, waiting or running."""
        return self._pending

    def admit(self) -> Ticket:
        """A place, or Busy at once when `capacity` places are already taken."""
        with self._lock:
            if self._pending >= self.capacity:
                raise Busy(f"the server is busy ({self._pending} requests in hand); try again")
            self._pending += 1
        return Ticket(self._release)

    async def run(self, job: Callable[..., Any], *args: Any, ticket: Ticket | None = None) -> Any:
        """The job's result, run in the place `ticket` holds (one is taken when None)."""
        ticket = ticket or self.admit()
        try:
            future = self._executor.submit(job, *args)
        except BaseException:
            ticket.release()
            raise
        ticket.submitted = True
        future.add_done_callback(ticket.release)
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
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

    def put(self, name: str, engine: Engine) -> None:
        """Keep an engine loaded elsewhere (the server's default, loaded before it listens)."""
        with self._lock:
            self._engines[name] = engine

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._engines:
                self._engines[name] = self._load(name)
            return self._engines[name]
