// wildmatte demo page: the photo, the marks drawn on it, one request, four results.
"use strict";

const $ = (sel) => document.querySelector(sel);
const photoView = $("#photoView");
const overlay = $("#overlay");
const view = overlay.getContext("2d");
// The marks, at the photo's own resolution: `mask` is what the server gets (white on black),
// `tint` is how the page shows it (pink on transparent); `uploaded` shows an uploaded mask.
const mask = document.createElement("canvas");
const tint = document.createElement("canvas");
const uploaded = document.createElement("canvas");
const MARK = "#ff3d7f";

const state = {
  mode: "box",    // box | paint | upload
  photo: null,    // File
  box: null,      // {x0, y0, x1, y1} in photo pixels
  painted: false,
  maskFile: null,
  drag: null,     // the pointer's last photo position while a button is down
  urls: [],       // object URLs of the current results, freed on the next run
};

function setStatus(text, kind = "") {
  const el = $("#status");
  el.textContent = text;
  el.className = kind;
}

function hasGuidance() {
  return { box: !!state.box, paint: state.painted, upload: !!state.maskFile }[state.mode];
}

function refresh() {
  $("#run").disabled = !(state.photo && hasGuidance());
  view.clearRect(0, 0, overlay.width, overlay.height);
  if (state.mode !== "box") {
    view.globalAlpha = 0.5;
    view.drawImage(state.mode === "paint" ? tint : uploaded, 0, 0);
    view.globalAlpha = 1;
  } else if (state.box) {
    const { x0, y0, x1, y1 } = state.box;
    view.fillStyle = "rgba(10, 14, 25, 0.45)";
    view.fillRect(0, 0, overlay.width, overlay.height);
    view.clearRect(x0, y0, x1 - x0, y1 - y0);
    view.strokeStyle = MARK;
    view.lineWidth = 2 * screenToPhoto();
    view.strokeRect(x0, y0, x1 - x0, y1 - y0);
  }
}

// Photo pixels per screen pixel: the photo is shown scaled to fit.
function screenToPhoto() {
  const r = overlay.getBoundingClientRect();
  return r.width ? overlay.width / r.width : 1;
}

function photoPoint(ev) {
  const r = overlay.getBoundingClientRect();
  const x = ((ev.clientX - r.left) * overlay.width) / r.width;
  const y = ((ev.clientY - r.top) * overlay.height) / r.height;
  return { x: Math.max(0, Math.min(overlay.width, x)), y: Math.max(0, Math.min(overlay.height, y)) };
}

function clearDrawn() {
  state.box = null;
  state.painted = false;
  tint.getContext("2d").clearRect(0, 0, tint.width, tint.height);
  const m = mask.getContext("2d");
  m.fillStyle = "#000";
  m.fillRect(0, 0, mask.width, mask.height);
  refresh();
}

function clearMarks() {
  state.maskFile = null;
  $("#maskFile").value = "";
  uploaded.getContext("2d").clearRect(0, 0, uploaded.width, uploaded.height);
  clearDrawn();
}

function stroke(from, to) {
  const erase = $("#erase").checked;
  const width = Number($("#brush").value) * screenToPhoto();
  for (const [canvas, colour] of [[mask, erase ? "#000" : "#fff"], [tint, MARK]]) {
    const c = canvas.getContext("2d");
    c.globalCompositeOperation = canvas === tint && erase ? "destination-out" : "source-over";
    c.strokeStyle = colour;
    c.lineWidth = width;
    c.lineCap = c.lineJoin = "round";
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
  }
  if (!erase) state.painted = true;
  refresh();
}

overlay.addEventListener("pointerdown", (ev) => {
  if (!state.photo || state.mode === "upload") return;
  overlay.setPointerCapture(ev.pointerId);
  const p = photoPoint(ev);
  state.drag = { start: p, last: p };
  if (state.mode === "paint") stroke(p, p);
});

overlay.addEventListener("pointermove", (ev) => {
  if (!state.drag) return;
  const p = photoPoint(ev);
  if (state.mode === "paint") {
    stroke(state.drag.last, p);
  } else {
    const s = state.drag.start;
    state.box = {
      x0: Math.min(s.x, p.x), y0: Math.min(s.y, p.y),
      x1: Math.max(s.x, p.x), y1: Math.max(s.y, p.y),
    };
    refresh();
  }
  state.drag.last = p;
});

function endDrag() {
  if (!state.drag) return;
  state.drag = null;
  const b = state.box;
  if (state.mode === "box" && b && (b.x1 - b.x0 < 3 || b.y1 - b.y0 < 3)) state.box = null;
  refresh();
  if (hasGuidance()) setStatus("Ready: press “Cut out”.");
}
overlay.addEventListener("pointerup", endDrag);
overlay.addEventListener("pointercancel", endDrag);

function setMode(mode) {
  state.mode = mode;
  document.querySelectorAll(".tabs button").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.mode === mode));
  });
  document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== mode; });
  refresh();
}
document.querySelectorAll(".tabs button").forEach((b) => {
  b.addEventListener("click", () => setMode(b.dataset.mode));
});
$("#clear").addEventListener("click", clearMarks);

$("#photo").addEventListener("change", () => {
  const file = $("#photo").files[0];
  if (!file) return;
  const url = URL.createObjectURL(file);
  photoView.onload = () => {
    for (const c of [overlay, mask, tint, uploaded]) {
      c.width = photoView.naturalWidth;
      c.height = photoView.naturalHeight;
    }
    state.photo = file;
    $("#stage").classList.remove("empty");
    clearDrawn();
    if (state.maskFile) showMaskFile(state.maskFile);
    setStatus(`${photoView.naturalWidth}×${photoView.naturalHeight}. Now mark the object.`);
  };
  photoView.onerror = () => setStatus(`${file.name}: the browser cannot show this image.`, "error");
  photoView.src = url;
});

// An uploaded mask is shown tinted over the photo (white or opaque parts marked).
function showMaskFile(file) {
  const img = new Image();
  img.onload = () => {
    const c = uploaded.getContext("2d");
    c.clearRect(0, 0, uploaded.width, uploaded.height);
    c.drawImage(img, 0, 0, uploaded.width, uploaded.height);
    const data = c.getImageData(0, 0, uploaded.width, uploaded.height);
    const px = data.data;
    // As the server reads it: the alpha channel if the file has transparency, else grey.
    let transparent = false;
    for (let i = 3; i < px.length && !transparent; i += 4) transparent = px[i] < 255;
    for (let i = 0; i < px.length; i += 4) {
      const on = transparent ? px[i + 3] >= 128 : px[i] + px[i + 1] + px[i + 2] >= 3 * 128;
      px[i] = 255; px[i + 1] = 61; px[i + 2] = 127; px[i + 3] = on ? 255 : 0;
    }
    c.putImageData(data, 0, 0);
    URL.revokeObjectURL(img.src);
    refresh();
  };
  img.src = URL.createObjectURL(file);
}

$("#maskFile").addEventListener("change", () => {
  state.maskFile = $("#maskFile").files[0] || null;
  if (state.maskFile && state.photo) showMaskFile(state.maskFile);
  refresh();
});

function guidanceFields(form) {
  if (state.mode === "box") {
    const { x0, y0, x1, y1 } = state.box;
    form.append("box", [x0, y0, x1, y1].map(Math.round).join(","));
    return Promise.resolve(form);
  }
  if (state.mode === "upload") {
    form.append("mask", state.maskFile);
    return Promise.resolve(form);
  }
  return new Promise((resolve) => mask.toBlob((blob) => {
    form.append("mask", blob, "painted.png");
    resolve(form);
  }, "image/png"));
}

async function readError(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    return JSON.stringify(body.detail);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

async function showResults(result) {
  state.urls.forEach((u) => URL.revokeObjectURL(u));
  state.urls = [];
  for (const key of ["alpha", "cutout", "composite", "guidance"]) {
    const blob = await (await fetch(result[key])).blob();
    const url = URL.createObjectURL(blob);
    state.urls.push(url);
    $(`#${key}Img`).src = url;
    $(`#${key}Link`).href = url;
  }
  $("#results").hidden = false;
}

$("#run").addEventListener("click", async () => {
  const form = new FormData();
  form.append("image", state.photo);
  form.append("engine", $("#engine").value);
  form.append("background", $("#bgColour").value);
  const bg = $("#bgFile").files[0];
  if (bg) form.append("background_image", bg);
  await guidanceFields(form);
  $("#run").disabled = true;
  setStatus(`Matting with ${$("#engine").value}…`, "busy");
  try {
    const response = await fetch("/api/matte", { method: "POST", body: form });
    if (!response.ok) {
      setStatus(await readError(response), "error");
      return;
    }
    const result = await response.json();
    await showResults(result);
    setStatus(`Done: ${result.width}×${result.height} by ${result.engine} in ${result.seconds.toFixed(2)} s.`);
  } catch (err) {
    setStatus(`The request failed: ${err.message}`, "error");
  } finally {
    refresh();
  }
});

async function loadInfo() {
  const info = await (await fetch("/api/info")).json();
  const select = $("#engine");
  for (const name of info.engines) {
    const option = new Option(name, name, false, name === info.default_engine);
    select.add(option);
  }
  $("#limits").textContent =
    `Up to ${info.max_upload_mb} MB per request and ${info.max_megapixels} megapixels per image. Stays in memory; nothing is stored.`;
}

loadInfo().catch(() => setStatus("Cannot reach the server.", "error"));
