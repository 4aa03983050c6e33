"""Load test of `wildmatte serve` on loopback: C concurrent clients send N requests in all.

Starts `wildmatte serve` as a subprocess on a free 127.0.0.1 port (its default engine unless
--engine), waits for GET / to answer, sends the bundled example photo (resized to --size on its
long side; 640 gives 640×427) with a box around the object, and prints the answers by status,
requests/s, client latency p50/p95, the server's own time and CPU time per request (the CPU
time tells what idle cores would give when other jobs share the machine), its memory, and the
load average before and after. With --oversize K it then sends K concurrent uploads of
--oversize-mb each (over the server's limit) and reports the server's memory before and after.
The server is stopped at the end; the whole run stops by itself after --deadline seconds.
Exit status 1 when any request was not answered 200. Traffic goes to 127.0.0.1 only.

    python benchmarks/serve_load.py                        # 8 clients × 50 requests, 640 px
    python benchmarks/serve_load.py --workers 1 --oversize 8
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


def start_server(args, port: int) -> tuple[subprocess.Popen, object]:
    cmd = [sys.executable, "-m", "wildmatte", "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--queue", str(args.queue)]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.engine:
        cmd += ["--engine", args.engine]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the server
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log), log


def wait_ready(url: str, server: subprocess.Popen, log, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            sys.exit(f"the server exited: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.5)
    sys.exit("the server did not answer GET / before the deadline")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_request(url: str, photo: bytes, box: str, timeout: float):
    """(HTTP status or the error's name, client latency s, server's own seconds, engine)."""
    start = time.perf_counter()
    try:
        r = httpx.post(
            f"{url}api/matte",
            files={"image": ("photo.jpg", photo, "image/jpeg")},
            data={"box": box},
            timeout=timeout,
        )
        body = r.json() if r.status_code == 200 else {}
        return r.status_code, time.perf_counter() - start, body.get("seconds"), body.get("engine")
    except httpx.HTTPError as err:
        return type(err).__name__, time.perf_counter() - start, None, None


def oversize(url: str, count: int, megabytes: float, timeout: float) -> Counter:
    """`count` concurrent uploads of `megabytes` each; their statuses."""
    blob = b"\0" * int(megabytes * 1e6)

    def send(_):
        try:
            r = httpx.post(f"{url}api/matte", files={"image": ("big.png", blob)}, timeout=timeout)
            return r.status_code
        except httpx.HTTPError as err:  # a server that refuses early may close the socket
            return type(err).__name__

    with ThreadPoolExecutor(count) as pool:
        return Counter(pool.map(send, range(count)))


def stats(values: list[float]) -> str:
    p50, p95 = np.percentile(values, [50, 95])
    return f"p50 {p50:.2f} s  p95 {p95:.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description="Load test of wildmatte serve on loopback.")
    parser.add_argument("--requests", type=int, default=50, help="in all (default 50)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engine", help="the server's --engine (default: its default engine)")
    parser.add_argument("--size", type=int, default=640, help="photo's long side in px")
    parser.add_argument("--workers", type=int, help="the server's --workers (default: its own)")
    parser.add_argument("--queue", type=int, default=16, help="the server's --queue")
    parser.add_argument("--oversize", type=int, default=0, help="then K uploads over the limit")
    parser.add_argument("--oversize-mb", type=float, default=60.0)
    parser.add_argument("--deadline", type=float, default=900, help="seconds for the whole run")
    args = parser.parse_args()
    if not 1 <= args.requests <= 1000 or not 1 <= args.clients <= 64 or args.oversize > 64:
        sys.exit("--requests must be 1-1000, --clients 1-64 and --oversize at most 64")

    deadline = time.monotonic() + args.deadline
    port = free_port()
    url = f"http://{HOST}:{port}/"
    photo, box = photo_and_box(args.size)
    before = load_average()
    server, log = start_server(args, port)
    try:
        wait_ready(url, server, log, deadline)
        idle_rss, idle_cpu = rss_mb(server.pid), cpu_seconds(server.pid)
        # Each request may take the rest of the time left; none outlives the deadline.
        timeout = max(1.0, deadline - time.monotonic())
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            futures = [
                pool.submit(one_request, url, photo, box, timeout) for _ in range(args.requests)
            ]
            results = [f.result() for f in futures]
        wall = time.perf_counter() - start
        after = load_average()
        busy_rss, cpu = rss_mb(server.pid), cpu_seconds(server.pid) - idle_cpu
        if args.oversize:
            refused = oversize(url, args.oversize, args.oversize_mb, 60)
            big_rss = rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()

    statuses = Counter(status for status, *_ in results)
    ok = [latency for status, latency, *_ in results if status == 200]
    served = [s for status, _, s, _ in results if status == 200 and s is not None]
    engines = sorted({e for *_, e in results if e})
    w, h = Image.open(io.BytesIO(photo)).size
    print(f"{args.requests} requests from {args.clients} clients, {w}×{h} photo, box guidance")
    print(f"server: engine {', '.join(engines) or '?'}, --workers {args.workers or 'default'}")
    print(f"{os.cpu_count()} CPUs; load average (1/5/15 min) before {before}, after {after}")
    print(f"answered: {dict(statuses)}")
    if ok:
        print(f"wall {wall:.1f} s, {len(ok) / wall:.2f} requests/s")
        print(f"client latency:  {stats(ok)}")
        print(f"server time/req: {stats(served)}")
        # Robust to other load: on C idle cores the server can answer at most C / this.
        print(f"server CPU/req:  {cpu / len(ok):.3f} s (all its threads)")
    print(f"server memory: {idle_rss:.0f} MB ready, {busy_rss:.0f} MB after the load")
    if args.oversize:
        print(
            f"{args.oversize} × {args.oversize_mb:g} MB uploads: {dict(refused)}; "
            f"server memory {busy_rss:.0f} → {big_rss:.0f} MB"
        )
    return 0 if statuses == Counter({200: args.requests}) else 1


if __name__ == "__main__":
    sys.exit(main())
