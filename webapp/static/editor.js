// PixelPainter region editor: upload a sketch, then recolor any region with a tap.
//
// The server sends, once per sketch, the color layer, the line art and the region map
// (see webapp/editor.py). Everything after that runs here: the picture is
// layer × lines / 255, and recoloring a region rewrites its layer pixels and recomposes them,
// with no request per tap. With a model that takes color hints (the document says so), "Hint
// dots" places colored dots on the picture and "Apply hints" asks the server once for a new
// coloring that follows them. Plain script, no build step, no network besides this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    file: $("sketch"),
    drop: $("drop"),
    style: $("style"),
    status: $("status"),
    editor: $("editor"),
    result: $("result"),
    overlay: $("overlay"),
    color: $("region-color"),
    label: $("region-label"),
    undo: $("undo"),
    reset: $("reset"),
    downloadImage: $("download-image"),
    downloadLayer: $("download-layer"),
    send: $("send"),
    hintTools: $("hint-tools"),
    hintMode: $("hint-mode"),
    hintColor: $("hint-color"),
    hintSwatches: $("hint-swatches"),
    applyHints: $("apply-hints"),
    clearHints: $("clear-hints"),
    hintDots: $("hint-dots"),
  };
  const telegram = telegramContext();
  const link = new URLSearchParams(location.search);

  let doc = null; // the sketch being edited, see showDocument
  let selected = 0; // region id, 0 = none
  let history = []; // undo entries: {id, before: Uint8ClampedArray of the region's RGB}
  let editing = null; // the undo entry of the color change in progress
  let lastFile = null;
  let sketchSize = null; // the uploaded sketch's own {w, h}: hints go to the server in its pixels
  let dots = []; // color hints {x, y, color} in the picture's pixels (the document's size)
  let placing = false; // "Hint dots" is on: a tap on the picture places a dot
  let applied = ""; // the hints (JSON) of the coloring shown: a style change keeps them

  // ---- Telegram (optional: the page works in any browser) ----
  function telegramContext() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const webApp = window.Telegram && window.Telegram.WebApp;
    const initData = (webApp && webApp.initData) || hash.get("tgWebAppData") || "";
    if (initData && !webApp) {
      // Only inside Telegram (which is online anyway): its script themes and sizes the view.
      const script = document.createElement("script");
      script.src = "https://telegram.org/js/telegram-web-app.js";
      script.onload = () => {
        window.Telegram.WebApp.ready();
        window.Telegram.WebApp.expand();
      };
      document.head.appendChild(script);
    }
    return { initData };
  }

  function setStatus(text, state = "ok") {
    ui.status.textContent = text;
    ui.status.dataset.state = state;
  }

  // ---- loading a sketch ----
  async function openFile(file) {
    if (!file) return;
    if (file !== lastFile) {
      setDots([]);
      applied = "";
      sketchSize = await imageSize(file);
    }
    lastFile = file;
    await loadDocument(sketchForm());
  }

  async function openChatSketch() {
    await loadDocument(sketchForm());
  }

  // The form for the sketch being edited: the uploaded file, or the chat sketch of the link,
  // with the hints of the coloring shown (or ``hints``, a JSON list, when applying new ones).
  function sketchForm(hints = applied) {
    const form = new FormData();
    if (lastFile) {
      form.append("sketch", lastFile);
      // Inside the bot every request is a Telegram user's (the plain web app ignores it).
      if (telegram.initData) form.append("init_data", telegram.initData);
    } else {
      form.append("init_data", telegram.initData);
      form.append("sketch_id", link.get("sketch"));
      form.append("sig", link.get("sig") || "");
    }
    if (ui.style.value) form.append("style", ui.style.value);
    if (hints) form.append("hints", hints);
    return form;
  }

  async function imageSize(file) {
    try {
      const bitmap = await createImageBitmap(file);
      const size = { w: bitmap.width, h: bitmap.height };
      bitmap.close();
      return size;
    } catch (err) {
      return null; // a format this browser cannot decode: the server's picture size is used
    }
  }

  async function loadDocument(form, done = "Done. Tap an area of the picture to change its color.") {
    setStatus("Coloring your sketch…", "busy");
    let response;
    try {
      response = await fetch("api/editor", { method: "POST", body: form });
    } catch (err) {
      setStatus("Cannot reach the server. Check the connection and try again.", "error");
      return false;
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (!response.ok || !body) {
      const reason = body && body.error ? body.error : `The server answered ${response.status}.`;
      setStatus(reason, "error");
      return false;
    }
    try {
      await showDocument(body);
    } catch (err) {
      setStatus("This browser could not read the result. Please try another browser.", "error");
      return false;
    }
    setStatus(done);
    return true;
  }

  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("image did not load"));
      img.src = url;
    });
  }

  function pixelsOf(img, width, height) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, 0, width, height).data;
  }

  async function showDocument(d) {
    const [layerImg, linesImg, mapImg] = await Promise.all(
      [d.layer, d.lines, d.region_map].map(loadImage),
    );
    const w = d.width;
    const h = d.height;
    const n = w * h;
    const layer = new Uint8ClampedArray(pixelsOf(layerImg, w, h));
    const linesRGBA = pixelsOf(linesImg, w, h);
    const mapRGBA = pixelsOf(mapImg, w, h);
    const lines = new Uint8Array(n);
    const regions = new Int32Array(n);
    let maxId = 0;
    for (let i = 0; i < n; i++) {
      lines[i] = linesRGBA[4 * i];
      const id = mapRGBA[4 * i] | (mapRGBA[4 * i + 1] << 8) | (mapRGBA[4 * i + 2] << 16);
      regions[i] = id;
      if (id > maxId) maxId = id;
    }
    doc = {
      w, h, layer, lines, regions,
      takesHints: d.hints === true,
      original: new Uint8ClampedArray(layer),
      members: indexRegions(regions, maxId),
      picture: new ImageData(w, h),
    };
    selected = 0;
    history = [];
    editing = null;
    for (const canvas of [ui.result, ui.overlay]) {
      canvas.width = w;
      canvas.height = h;
    }
    ui.overlay.getContext("2d").clearRect(0, 0, w, h);
    composeAll();
    ui.editor.hidden = false;
    ui.color.disabled = true;
    ui.label.textContent = "Tap an area";
    delete ui.result.dataset.region;
    ui.hintTools.hidden = !doc.takesHints;
    if (!doc.takesHints) setPlacing(false);
    renderDots();
    updateButtons();
    ui.result.dataset.ready = "1";
  }

  // Pixels of each region, grouped: members.order[members.start[id] .. members.start[id + 1]).
  function indexRegions(regions, maxId) {
    const start = new Int32Array(maxId + 2);
    for (let i = 0; i < regions.length; i++) start[regions[i] + 1]++;
    for (let id = 0; id <= maxId; id++) start[id + 1] += start[id];
    const fill = start.slice(0, maxId + 1);
    const order = new Int32Array(regions.length);
    for (let i = 0; i < regions.length; i++) order[fill[regions[i]]++] = i;
    return { start, order };
  }

  function pixelsIn(id) {
    return doc.members.order.subarray(doc.members.start[id], doc.members.start[id + 1]);
  }

  // ---- composing: picture = layer × lines / 255 ----
  function composePixel(i) {
    const out = doc.picture.data;
    const line = doc.lines[i];
    out[4 * i] = Math.round((doc.layer[4 * i] * line) / 255);
    out[4 * i + 1] = Math.round((doc.layer[4 * i + 1] * line) / 255);
    out[4 * i + 2] = Math.round((doc.layer[4 * i + 2] * line) / 255);
    out[4 * i + 3] = 255;
  }

  function composeAll() {
    for (let i = 0; i < doc.w * doc.h; i++) composePixel(i);
    ui.result.getContext("2d").putImageData(doc.picture, 0, 0);
  }

  function composeRegion(id) {
    const pixels = pixelsIn(id);
    for (const i of pixels) composePixel(i);
    paintRows(pixels);
  }

  function paintRows(pixels) {
    // Only the rows the pixels span go to the canvas (region members are in row-major order).
    if (!pixels.length) return;
    const top = Math.floor(pixels[0] / doc.w);
    const rows = Math.floor(pixels[pixels.length - 1] / doc.w) - top + 1;
    ui.result.getContext("2d").putImageData(doc.picture, 0, 0, 0, top, doc.w, rows);
  }

  // ---- selecting ----
  function regionAt(x, y) {
    // Line pixels already belong to their nearest region; 0 only where there is none nearby.
    for (let r = 0; r <= 6; r++) {
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          if (Math.max(Math.abs(dx), Math.abs(dy)) !== r) continue;
          const px = x + dx;
          const py = y + dy;
          if (px < 0 || py < 0 || px >= doc.w || py >= doc.h) continue;
          const id = doc.regions[py * doc.w + px];
          if (id > 0) return id;
        }
      }
    }
    return 0;
  }

  function select(id) {
    selected = id;
    editing = null;
    ui.result.dataset.region = String(id);
    const pixels = pixelsIn(id);
    let r = 0;
    let g = 0;
    let b = 0;
    for (const i of pixels) {
      r += doc.layer[4 * i];
      g += doc.layer[4 * i + 1];
      b += doc.layer[4 * i + 2];
    }
    const k = Math.max(1, pixels.length);
    ui.color.value = toHex(r / k, g / k, b / k);
    ui.color.disabled = false;
    ui.label.textContent = `Area ${id} · ${pixels.length} px`;
    highlight(id);
  }

  function highlight(id) {
    const ctx = ui.overlay.getContext("2d");
    const mark = ctx.createImageData(doc.w, doc.h);
    for (const i of pixelsIn(id)) {
      const x = i % doc.w;
      const y = (i - x) / doc.w;
      const stripe = ((x + y) >> 2) & 1;
      mark.data[4 * i] = 255;
      mark.data[4 * i + 1] = 255;
      mark.data[4 * i + 2] = 255;
      // Faded on the lines, which belong to the region too: they stay crisp and dark.
      mark.data[4 * i + 3] = ((stripe ? 90 : 25) * doc.lines[i]) / 255;
    }
    ctx.putImageData(mark, 0, 0);
  }

  function toHex(r, g, b) {
    return "#" + [r, g, b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  }

  function fromHex(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  // ---- recoloring, undo, reset ----
  function recolor(hex) {
    if (!doc || !selected) return;
    const pixels = pixelsIn(selected);
    if (!editing) {
      const before = new Uint8ClampedArray(pixels.length * 3);
      pixels.forEach((i, k) => before.set(doc.layer.subarray(4 * i, 4 * i + 3), 3 * k));
      editing = { id: selected, before };
      history.push(editing);
    }
    const [r, g, b] = fromHex(hex);
    // One color over the whole region: its product with every line level, computed once.
    const shade = new Uint8ClampedArray(256 * 3);
    for (let line = 0; line < 256; line++) {
      shade[3 * line] = Math.round((r * line) / 255);
      shade[3 * line + 1] = Math.round((g * line) / 255);
      shade[3 * line + 2] = Math.round((b * line) / 255);
    }
    const out = doc.picture.data;
    for (let k = 0; k < pixels.length; k++) {
      const i = pixels[k];
      doc.layer[4 * i] = r;
      doc.layer[4 * i + 1] = g;
      doc.layer[4 * i + 2] = b;
      const line = 3 * doc.lines[i];
      out[4 * i] = shade[line];
      out[4 * i + 1] = shade[line + 1];
      out[4 * i + 2] = shade[line + 2];
    }
    paintRows(pixels);
    updateButtons();
  }

  function undo() {
    const entry = history.pop();
    if (!entry) return;
    editing = null;
    pixelsIn(entry.id).forEach((i, k) => doc.layer.set(entry.before.subarray(3 * k, 3 * k + 3), 4 * i));
    composeRegion(entry.id);
    if (entry.id === selected) select(selected);
    updateButtons();
  }

  function reset() {
    doc.layer.set(doc.original);
    history = [];
    editing = null;
    composeAll();
    if (selected) select(selected);
    updateButtons();
  }

  function updateButtons() {
    ui.undo.disabled = history.length === 0;
    ui.reset.disabled = history.length === 0;
    ui.send.hidden = !telegram.initData || !doc;
    ui.applyHints.disabled = !dots.length;
    ui.clearHints.disabled = !dots.length;
  }

  // ---- color hints ----
  // One tap picks a hint color. Skin tones first: line art carries none, and a dot on the face
  // settles what the model can only guess; then common hair and clothes colors.
  const SWATCHES = [
    ["#fbe3d0", "Fair skin"],
    ["#f2d3b1", "Light skin"],
    ["#d49a6a", "Medium skin"],
    ["#9e5622", "Brown skin"],
    ["#5a2e17", "Dark skin"],
    ["#f2f2f2", "White"],
    ["#1f1f24", "Black"],
    ["#6a3f1f", "Brown"],
    ["#f3d36b", "Blonde"],
    ["#d03030", "Red"],
    ["#2b3f8f", "Blue"],
    ["#6a3fa0", "Purple"],
  ];

  function renderSwatches() {
    for (const [color, name] of SWATCHES) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "swatch";
      button.dataset.color = color;
      button.style.background = color; // CSSOM, allowed by the page's style-src 'self'
      button.title = `${name} (${color}): tap the picture to place a dot`;
      button.setAttribute("aria-label", `${name} hint color`);
      button.addEventListener("click", () => {
        ui.hintColor.value = color;
        markSwatch();
        setPlacing(true);
      });
      ui.hintSwatches.appendChild(button);
    }
    markSwatch();
  }

  function markSwatch() {
    for (const button of ui.hintSwatches.children) {
      button.setAttribute("aria-pressed", String(button.dataset.color === ui.hintColor.value));
    }
  }

  function setPlacing(on) {
    placing = on;
    ui.hintMode.setAttribute("aria-pressed", String(on));
  }

  function setDots(list) {
    dots = list;
    renderDots();
    updateButtons();
  }

  function hintsInSketchPixels() {
    const sw = sketchSize ? sketchSize.w : doc.w;
    const sh = sketchSize ? sketchSize.h : doc.h;
    return dots.map((dot) => ({
      x: Math.min(sw - 1, Math.floor(((dot.x + 0.5) * sw) / doc.w)),
      y: Math.min(sh - 1, Math.floor(((dot.y + 0.5) * sh) / doc.h)),
      color: dot.color,
    }));
  }

  function renderDots() {
    ui.hintDots.replaceChildren();
    if (!doc) return;
    dots.forEach((dot, index) => {
      const el = document.createElement("span");
      el.className = "hint-dot";
      el.dataset.index = String(index);
      el.style.left = `${((dot.x + 0.5) * 100) / doc.w}%`;
      el.style.top = `${((dot.y + 0.5) * 100) / doc.h}%`;
      el.style.background = dot.color;
      el.title = `${dot.color}: drag to move, tap to remove`;
      el.addEventListener("pointerdown", (ev) => dragDot(ev, el, index));
      ui.hintDots.appendChild(el);
    });
  }

  // A dot follows the pointer while dragged; a tap without moving removes it.
  function dragDot(ev, el, index) {
    ev.preventDefault();
    ev.stopPropagation();
    el.setPointerCapture(ev.pointerId);
    const start = { x: ev.clientX, y: ev.clientY };
    let moved = false;
    const move = (e) => {
      if (!moved && Math.hypot(e.clientX - start.x, e.clientY - start.y) < 5) return;
      moved = true;
      el.classList.add("dragging");
      const [x, y] = picturePixel(e);
      dots[index] = { ...dots[index], x, y };
      el.style.left = `${((x + 0.5) * 100) / doc.w}%`;
      el.style.top = `${((y + 0.5) * 100) / doc.h}%`;
    };
    const up = () => {
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", up);
      el.removeEventListener("pointercancel", up);
      if (moved) renderDots();
      else setDots(dots.filter((_, i) => i !== index));
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
    el.addEventListener("pointercancel", up);
  }

  function picturePixel(ev) {
    const box = ui.result.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - box.left) * doc.w) / box.width);
    const y = Math.floor(((ev.clientY - box.top) * doc.h) / box.height);
    return [Math.max(0, Math.min(doc.w - 1, x)), Math.max(0, Math.min(doc.h - 1, y))];
  }

  async function applyHints() {
    if (!doc || !dots.length) return;
    ui.applyHints.disabled = true;
    const hints = JSON.stringify(hintsInSketchPixels());
    try {
      if (await loadDocument(sketchForm(hints), "Hints applied. Move or add dots and apply again.")) {
        applied = hints;
      }
    } finally {
      updateButtons();
    }
  }

  // ---- downloads and sending ----
  function layerCanvas() {
    const canvas = document.createElement("canvas");
    canvas.width = doc.w;
    canvas.height = doc.h;
    canvas.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(doc.layer), doc.w, doc.h), 0, 0);
    return canvas;
  }

  function pngOf(canvas) {
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  async function download(canvas, name) {
    const blob = await pngOf(canvas);
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function sendToChat() {
    ui.send.disabled = true;
    setStatus("Sending to your chat…", "busy");
    try {
      const form = new FormData();
      form.append("init_data", telegram.initData);
      form.append("image", await pngOf(ui.result), "colored.png");
      const response = await fetch("api/send", { method: "POST", body: form });
      const body = await response.json().catch(() => ({}));
      if (response.ok) setStatus("Sent! You'll find it in the chat.");
      else setStatus(body.error || `The server answered ${response.status}.`, "error");
    } catch (err) {
      setStatus("Cannot reach the server. Check the connection and try again.", "error");
    } finally {
      ui.send.disabled = false;
    }
  }

  // ---- wiring ----
  ui.file.addEventListener("change", () => openFile(ui.file.files[0]));
  ui.hintMode.addEventListener("click", () => setPlacing(!placing));
  ui.hintColor.addEventListener("input", markSwatch);
  renderSwatches();
  ui.applyHints.addEventListener("click", applyHints);
  ui.clearHints.addEventListener("click", () => setDots([]));
  ui.style.addEventListener("change", () => {
    if (lastFile) openFile(lastFile);
    else if (link.get("sketch") && telegram.initData) openChatSketch();
  });
  for (const type of ["dragenter", "dragover"]) {
    ui.drop.addEventListener(type, (ev) => {
      ev.preventDefault();
      ui.drop.classList.add("over");
    });
  }
  ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
  ui.drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    ui.drop.classList.remove("over");
    openFile(ev.dataTransfer.files[0]);
  });
  ui.result.addEventListener("click", (ev) => {
    if (!doc) return;
    const [x, y] = picturePixel(ev);
    if (placing) {
      setDots([...dots, { x, y, color: ui.hintColor.value }]);
      setStatus(`${dots.length} hint dot${dots.length === 1 ? "" : "s"}. Tap "Apply hints" to color with them.`);
      return;
    }
    const id = regionAt(x, y);
    if (id) select(id);
    else setStatus("That's a line. Tap inside an area to pick it.");
  });
  ui.color.addEventListener("input", () => recolor(ui.color.value));
  ui.color.addEventListener("change", () => {
    recolor(ui.color.value);
    editing = null; // the next change is a new undo step
  });
  ui.undo.addEventListener("click", undo);
  ui.reset.addEventListener("click", reset);
  ui.downloadImage.addEventListener("click", (ev) => {
    ev.preventDefault();
    if (doc) download(ui.result, "colored.png");
  });
  ui.downloadLayer.addEventListener("click", (ev) => {
    ev.preventDefault();
    if (doc) download(layerCanvas(), "color-layer.png");
  });
  ui.send.addEventListener("click", sendToChat);

  if (link.get("sketch")) {
    if (telegram.initData) openChatSketch();
    else setStatus("Open this link from the bot in Telegram, or pick a sketch here.");
  }
})();
