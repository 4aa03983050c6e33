"""The web demo's HTTP API through FastAPI's TestClient: results, limits, bad input, the queue."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web demo needs the serve extra")
from fastapi.testclient import TestClient  # noqa: E402

from wildmatte.inference.engines import ENGINES, default_engine_name  # noqa: E402
from wildmatte.inference.prompts import mask_from_box  # noqa: E402
from wildmatte.interfaces.web import Settings, create_app  # noqa: E402
from wildmatte.interfaces.web.jobs import Busy, JobQueue  # noqa: E402

W, H = 96, 64
BOX = (24, 12, 72, 52)  # x0, y0, x1, y1 around the object


def scene() -> tuple[np.ndarray, np.ndarray]:
    """A warm ellipse on a cool textured background, and its true mask (uint8 RGB, bool)."""
    rng = np.random.default_rng(0)
    image = np.empty((H, W, 3), np.uint8)
    image[:] = (40, 90, 160)
    image = np.clip(image + rng.integers(-12, 12, image.shape), 0, 255).astype(np.uint8)
    obj = np.zeros((H, W), np.uint8)
    cv2.ellipse(obj, (48, 32), (18, 14), 0, 0, 360, 1, -1)
    image[obj > 0] = (230, 160, 40)
    return image, obj > 0


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def decode(data_url: str) -> np.ndarray:
    head, body = data_url.split(",", 1)
    assert head == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(body))))


def client(**settings) -> TestClient:
    return TestClient(create_app(Settings(**{"engine": "guidance", **settings})))


def matte(c: TestClient, image: bytes | None = None, **fields):
    files = {"image": ("photo.png", image if image is not None else png(scene()[0]))}
    for name in ("mask", "background_image"):
        if name in fields:
            files[name] = (f"{name}.png", fields.pop(name))
    return c.post("/api/matte", files=files, data=fields)


def test_the_page_and_its_files_are_served():
    c = client()
    page = c.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="overlay"' in page.text and "/app.js" in page.text
    assert 'fetch("/api/matte"' in c.get("/app.js").text
    assert c.get("/style.css").status_code == 200
    info = c.get("/api/info").json()
    assert info["engines"] == list(ENGINES) and info["default_engine"] == "guidance"
    assert info["max_upload_mb"] == 25 and info["max_megapixels"] == 12


def test_a_box_gives_alpha_cutout_and_composite_at_the_photos_size():
    r = matte(client(), box=",".join(map(str, BOX)), background="#00ff00")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["width"], out["height"], out["guidance_kind"]) == (W, H, "box")
    alpha, cutout, comp = (decode(out[k]) for k in ("alpha", "cutout", "composite"))
    assert alpha.shape == (H, W) and cutout.shape == (H, W, 4) and comp.shape == (H, W, 3)
    truth = scene()[1]
    found = alpha > 127  # the guidance engine returns GrabCut's mask itself
    assert (found & truth).sum() / (found | truth).sum() > 0.8
    assert np.array_equal(cutout[..., 3], alpha)
    assert (comp[~found] == (0, 255, 0)).all()  # the chosen colour wherever alpha is 0


def test_mask_from_box_stays_inside_the_box_and_falls_back_to_it():
    image = scene()[0].astype(np.float32) / 255
    mask = mask_from_box(image, BOX)
    assert mask[: BOX[1]].sum() == 0 and mask[:, : BOX[0]].sum() == 0
    flat = np.full((H, W, 3), 0.5, np.float32)  # nothing to tell apart: the box itself
    assert mask_from_box(flat, (0, 0, W, H)).sum() == W * H


def test_an_uploaded_mask_of_another_size_is_resized_and_transparency_is_read():
    truth = scene()[1]
    big = cv2.resize(truth.astype(np.uint8) * 255, (2 * W, 2 * H), interpolation=cv2.INTER_NEAREST)
    r = matte(client(), mask=png(big))
    assert r.status_code == 200, r.text
    assert np.mean((decode(r.json()["alpha"]) > 127) == truth) > 0.98
    rgba = np.zeros((H, W, 4), np.uint8)  # a cutout: black colour, the object opaque
    rgba[..., 3] = truth * 255
    r = matte(client(), mask=png(rgba))
    assert np.array_equal(decode(r.json()["alpha"]) > 127, truth)


def test_a_background_image_is_fitted_to_the_photo():
    bg = np.zeros((10, 30, 3), np.uint8)
    bg[:] = (255, 0, 0)
    r = matte(client(), box=",".join(map(str, BOX)), background_image=png(bg))
    out = r.json()
    comp, alpha = decode(out["composite"]), decode(out["alpha"])
    assert comp.shape == (H, W, 3) and (comp[alpha == 0] == (255, 0, 0)).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_name_is_accepted(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("WILDMATTE_CACHE", str(tmp_path))  # the onnx engine's export goes here
    r = matte(client(), mask=png(scene()[1].astype(np.uint8) * 255), engine=engine)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["engine"] == engine and decode(out["alpha"]).shape == (H, W)


def test_an_unknown_engine_is_refused_naming_the_choices():
    r = matte(client(), box="1,1,50,50", engine="magic")
    assert r.status_code == 400
    assert "magic" in r.json()["detail"] and "classic" in r.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({}, 400, "draw a box, paint a mask or upload one"),
        ({"box": "1,1,50,50", "mask": png(np.full((H, W), 255, np.uint8))}, 400, "not both"),
        ({"box": "1,2,3"}, 400, "four numbers"),
        ({"box": "5,5,6,6"}, 400, "too small"),
        ({"box": "0,0,inf,30"}, 400, "box '0,0,inf,30' must be four finite numbers"),
        ({"box": "0,0,1e400,30"}, 400, "must be four finite numbers"),
        ({"box": "0,0,nan,30"}, 400, "must be four finite numbers"),
        ({"box": "50,40,10,10"}, 400, "is inverted"),  # the CLI refuses it too
        ({"box": "200,10,300,40"}, 400, "outside the 96×64 image"),
        ({"mask": png(np.zeros((H, W), np.uint8))}, 400, "empty"),
        ({"mask": b"not an image"}, 400, "mask: not a readable image"),
        ({"box": "1,1,50,50", "background": "/etc/passwd"}, 400, "not a colour"),
    ],
)
def test_bad_guidance_and_options_get_one_clear_line(fields, status, words):
    r = matte(client(), **fields)
    detail = r.json()["detail"]
    assert r.status_code == status and words in detail and "\n" not in detail


def test_the_server_and_the_cli_share_one_box_validator():
    from wildmatte.inference.prompts import check_box, parse_box
    from wildmatte.interfaces.web.imaging import RequestError
    from wildmatte.interfaces.web.imaging import parse_box as web_box

    for text in ("50,40,10,10", "0,0,inf,30", "5,5,6,6", "-20,-20,-5,-5"):
        with pytest.raises(ValueError) as cli_err:
            check_box(parse_box(text), (H, W))
        with pytest.raises(RequestError) as web_err:
            web_box(text, (H, W))
        assert web_err.value.message == str(cli_err.value)
    assert web_box("-5,10,200,50", (H, W)) == check_box((-5, 10, 200, 50), (H, W)) == (0, 10, W, 50)


@pytest.mark.parametrize("engine", ["guidance", "classic"])
def test_a_tiny_photo_is_refused_in_one_line_and_the_smallest_one_taken_is_matted(engine):
    one = png(np.zeros((1, 1, 3), np.uint8))
    r = matte(client(), image=one, mask=png(np.full((1, 1), 255, np.uint8)), engine=engine)
    assert r.status_code == 400
    assert r.json()["detail"] == "image: 1×1 is too small; at least 8×8 pixels"
    small = np.zeros((8, 8, 3), np.uint8)
    small[2:6, 2:6] = 255
    r = matte(client(), image=png(small), box="1,1,7,7", engine=engine)
    assert r.status_code == 200, r.text
    assert decode(r.json()["alpha"]).shape == (8, 8)


def test_a_malformed_form_is_one_line_not_a_list():
    r = client().post("/api/matte", data={"image": "not a file", "box": "1,1,50,50"})
    assert r.status_code == 422 and r.json() == {"detail": "image: expected a file upload"}


def test_bad_images_are_refused():
    c = client()
    r = matte(c, image=b"\x89PNG not really", box="1,1,50,50")
    assert r.status_code == 400 and r.json()["detail"].startswith("image: not a readable image")
    jpeg = cv2.imencode(".jpg", scene()[0])[1].tobytes()
    r = matte(c, image=jpeg[: len(jpeg) // 3], box="1,1,50,50")
    assert r.status_code == 400 and "damaged or truncated" in r.json()["detail"]
    r = c.post("/api/matte", data={"box": "1,1,50,50"})
    assert r.status_code == 400 and "no photo" in r.json()["detail"]


def test_uploads_over_the_size_limit_are_refused():
    noisy = np.random.default_rng(1).integers(0, 256, (200, 200, 3), np.uint8)
    photo = png(noisy)  # about 120 kB
    # The limit is per request (photo, mask and background together), on the declared length.
    r = matte(client(max_upload_mb=0.05), image=photo, box="1,1,50,50")
    assert r.status_code == 413
    assert (
        r.json()["detail"]
        == "the upload is 0.1 MB; this server accepts at most 0.05 MB per request"
    )
    small = png(noisy[:40, :40])
    assert matte(client(max_upload_mb=0.05), image=small, box="1,1,30,30").status_code == 200
    r = matte(client(max_upload_mb=0.05), image=small, box="1,1,30,30", background_image=photo)
    assert r.status_code == 413  # each file under the limit, the request over it
    # Without a declared length (chunked), the body is cut off as it streams in.
    chunks = (b"x" * 100_000 for _ in range(40))
    r = client(max_upload_mb=0.01).post(
        "/api/matte", content=chunks, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 413


@pytest.fixture
def live_server():
    """`serve(app)` runs the app under Uvicorn on a free loopback port; its (host, port)."""
    import socket

    import uvicorn

    started = []

    def serve(app):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread, sock))
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "the server did not start"
        return sock.getsockname()

    yield serve
    for server, thread, sock in started:
        server.should_exit = True
        thread.join(10)
        sock.close()


def headers_only(address, length: int) -> tuple[str, str]:
    """Send a POST's headers declaring `length` bytes of body, and none of the body: the
    answer can only come from a server that decides before reading it. (status line, body)"""
    import socket

    head = (
        f"POST /api/matte HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    )
    with socket.create_connection(address, timeout=10) as conn:
        conn.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    status, _, rest = answer.decode().partition("\r\n")
    return status, rest.split("\r\n\r\n", 1)[-1]


def test_an_upload_over_the_limit_is_refused_before_its_body_is_sent(live_server):
    address = live_server(create_app(Settings(engine="guidance", max_upload_mb=25)))
    status, body = headers_only(address, 60_000_000)  # 60 MB declared, not one byte sent
    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert (
        body == '{"detail":"the upload is 60.0 MB; this server accepts at most 25 MB per request"}'
    )


def test_a_full_queue_refuses_before_reading_the_body(live_server):
    gate = Gate()
    app = create_app(Settings(engine="guidance", workers=1, queue=0), load_engine=lambda _: gate)
    address = live_server(app)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(matte, TestClient(app), box="1,1,50,50")
        assert gate.entered.wait(30)
        status, body = headers_only(address, 1_000_000)  # under the limit, body never sent
        gate.release.set()
        assert first.result(30).status_code == 200
    assert status == "HTTP/1.1 503 Service Unavailable" and "busy" in body
    assert app.state.queue.pending == 0


def test_images_over_the_pixel_limit_are_refused_from_their_header():
    # Only the header is intact: the check must not need the pixels.
    header = cv2.imencode(".png", np.zeros((3000, 4000), np.uint8))[1].tobytes()[:200]
    r = matte(client(max_megapixels=10), image=header, box="1,1,50,50")
    assert r.status_code == 413
    assert r.json()["detail"] == "image: 4000×3000 is 12 megapixels; this server accepts at most 10"
    one = cv2.imencode(".png", np.zeros((1, 1), np.uint8))[1].tobytes()
    ihdr = b"IHDR" + (20000).to_bytes(4, "big") * 2 + one[24:29]  # 20000×20000
    huge = one[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + one[33:]
    r = matte(client(), image=huge, box="1,1,50,50")
    assert r.status_code == 413 and "far over this server's 12 megapixels" in r.json()["detail"]


class Gate:
    """An engine that holds its worker until released, to fill the queue on purpose."""

    name = "gate"

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, image, guidance):
        self.entered.set()
        assert self.release.wait(30)
        return guidance


def test_a_full_queue_answers_503_and_frees_its_places():
    gate = Gate()
    app = create_app(Settings(engine="guidance", workers=1, queue=0), load_engine=lambda _: gate)
    c = TestClient(app)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(matte, c, box="1,1,50,50")
        assert gate.entered.wait(30)
        busy = matte(c, box="1,1,50,50")
        assert busy.status_code == 503 and "busy" in busy.json()["detail"]
        assert busy.headers["retry-after"] == "5"
        gate.release.set()
        assert first.result(30).status_code == 200
    assert app.state.queue.pending == 0
    assert matte(c, box="1,1,50,50").status_code == 200


def test_job_queue_admits_workers_plus_waiting_then_refuses():
    async def scenario() -> list[str]:
        queue, gate = JobQueue(workers=1, waiting=1), threading.Event()
        held = [asyncio.ensure_future(queue.run(gate.wait, 30)) for _ in range(2)]
        await asyncio.sleep(0.05)
        outcome = []
        try:
            await queue.run(time.sleep, 0)
        except Busy:
            outcome.append("busy")
        gate.set()
        await asyncio.gather(*held)
        outcome.append(f"pending {queue.pending}")
        queue.shutdown()
        return outcome

    assert asyncio.run(scenario()) == ["busy", "pending 0"]


def test_an_engine_that_cannot_load_is_reported_not_crashed():
    def broken(name):
        raise FileNotFoundError("model.onnx not found")

    c = TestClient(create_app(Settings(engine="guidance"), load_engine=broken))
    r = matte(c, box="1,1,50,50")
    assert r.status_code == 500
    assert r.json()["detail"] == "engine 'guidance' is unavailable: model.onnx not found"


def test_serve_command_bad_options_are_one_line(capsys):
    from wildmatte.interfaces.cli import main

    assert main(["serve", "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "wildmatte: error: --workers must be at least 1 and --queue at least 0\n"


def test_serve_runs_the_one_default_engine(monkeypatch):
    """Without --engine, serve loads what Matter.from_pretrained() loads (predict's default)."""
    from wildmatte.inference.matter import Matter
    from wildmatte.interfaces.cli import build_parser
    from wildmatte.interfaces.commands import serve

    calls = []

    def from_pretrained(*args, **kwargs):
        calls.append((args, kwargs))
        return Matter(Gate())

    monkeypatch.setattr(Matter, "from_pretrained", from_pretrained)
    args = build_parser().parse_args(["serve", "--weights", "w.safetensors"])
    assert serve.default_engine(args).name == "gate"
    assert calls == [(("w.safetensors", None), {"threads": serve.call_threads(args.workers)})]
    named = build_parser().parse_args(["serve", "--engine", "classic"])
    assert serve.default_engine(named) is None and len(calls) == 1
    app = create_app(Settings(weights=None))
    assert app.state.settings.engine == default_engine_name()
