"""Load test of `wildmatte serve` on loopback: N requests from C concurrent clients.

Starts the server as a subprocess on a free 127.0.0.1 port, waits for GET / to answer, sends
the bundled example photo (resized to --size on its long side) with a box around the object,
and prints how many were answered, by status, with latency percentiles. The server is stopped
at the end; the whole run stops by itself after --deadline seconds. Exit status 1 when any
request was not answered 200.

    python benchmarks/load_serve.py --requests 50 --clients 8 --engine prn --size 512
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "wildmatte" / "assets"
HOST = "127.0.0.1"  # loopback only: this script never sends load anywhere else


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def photo_and_box(size: int) -> tuple[bytes, str]:
    """The example photo as JPEG, long side `size`, and a box around its object's mask."""
    image = Image.open(ASSETS / "example.jpg").convert("RGB")
    scale = size / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    mask = np.asarray(Image.open(ASSETS / "example_mask.png").convert("L")) > 127
    ys, xs = np.nonzero(mask)
    sx, sy = image.width / mask.shape[1], image.height / mask.shape[0]
    box = (xs.min() * sx, ys.min() * sy, (xs.max() + 1) * sx, (ys.max() + 1) * sy)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    return buf.getvalue(), ",".join(str(round(v)) for v in box)


def start_server(args, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "wildmatte", "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--engine", args.engine, "--workers", str(args.workers), "--queue", str(args.queue)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the server
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)


def wait_ready(url: str, server: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            server.stderr.seek(0)
            sys.exit(f"the server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    sys.exit("the server did not answer GET / before the deadline")


def one_request(url: str, photo: bytes, box: str, engine: str, timeout: float):
    """(HTTP status or the error's name, client latency s, server's own seconds or None)."""
    start = time.perf_counter()
    try:
        r = httpx.post(
            f"{url}api/matte",
            files={"image": ("photo.jpg", photo, "image/jpeg")},
            data={"box": box, "engine": engine},
            timeout=timeout,
        )
        seconds = r.json().get("seconds") if r.status_code == 200 else None
        return r.status_code, time.perf_counter() - start, seconds
    except httpx.HTTPError as err:
        return type(err).__name__, time.perf_counter() - start, None


def percentiles(values: list[float]) -> str:
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return f"p50 {p50:.2f} s  p90 {p90:.2f} s  p99 {p99:.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description="Load test of wildmatte serve on loopback.")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engine", default="prn")
    parser.add_argument("--size", type=int, default=512, help="photo's long side in px")
    parser.add_argument("--workers", type=int, default=1, help="the server's --workers")
    parser.add_argument("--queue", type=int, default=16, help="the server's --queue")
    parser.add_argument("--deadline", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    if not 1 <= args.requests <= 1000 or not 1 <= args.clients <= 64:
        sys.exit("--requests must be 1-1000 and --clients 1-64")

    deadline = time.monotonic() + args.deadline
    port = free_port()
    url = f"http://{HOST}:{port}/"
    photo, box = photo_and_box(args.size)
    server = start_server(args, port)
    try:
        wait_ready(url, server, deadline)
        # Each request may take the rest of the time left; none outlives the deadline.
        timeout = max(1.0, deadline - time.monotonic())
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            futures = [
                pool.submit(one_request, url, photo, box, args.engine, timeout)
                for _ in range(args.requests)
            ]
            results = [f.result() for f in futures]
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    statuses = Counter(status for status, _, _ in results)
    ok = [latency for status, latency, _ in results if status == 200]
    served = [s for status, _, s in results if status == 200 and s is not None]
    w, h = Image.open(io.BytesIO(photo)).size
    print(f"{args.requests} requests, {args.clients} clients, engine {args.engine}, {w}×{h} photo,")
    print(f"server --workers {args.workers} --queue {args.queue}; {os.cpu_count()} CPUs here")
    lost = sum(n for status, n in statuses.items() if not isinstance(status, int))
    print(f"answered: {dict(statuses)}; lost (no HTTP answer): {lost}")
    print(f"wall {wall:.1f} s, {len(ok) / wall:.2f} requests/s")
    if ok:
        print(f"client latency:  {percentiles(ok)}")
        print(f"server time/req: {percentiles(served)}")
    return 0 if statuses == Counter({200: args.requests}) else 1


if __name__ == "__main__":
    sys.exit(main())
