"""The ES module of ``lab_views.LabCanvas``: draws one lab frame on a HiDPI canvas and takes mouse-drawn points.

Kept as a Python string so the package needs no data files and JupyterLab no build step (anywidget loads it).
"""

ESM = r"""
const W = 980, H = 470, S = 400, X0 = 48, Y0 = 34;            // CSS pixels; the canvas holds W·dpr × H·dpr
const PANELS = [[560, 34, 180, 160], [790, 34, 180, 160], [560, 270, 180, 160], [790, 270, 180, 160]];

function arr(o) {
  if (!o || !o.data) return null;
  const dv = o.data, bytes = dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength);
  const a = new Float32Array(bytes); a.shape = o.shape; return a;
}
function lerp(a, b, t) { return a + (b - a) * t; }
function rdbu(v) {  // 0 -> red (like G's samples), 0.5 -> white, 1 -> blue (like real data)
  const t = Math.min(1, Math.max(0, v));
  return t < 0.5 ? [lerp(178, 247, t * 2), lerp(24, 247, t * 2), lerp(43, 247, t * 2)]
                 : [lerp(247, 33, (t - .5) * 2), lerp(247, 102, (t - .5) * 2), lerp(247, 172, (t - .5) * 2)];
}
function piyg(v) {  // -0.5 -> magenta (less real), 0 -> white, +0.5 -> green (more real)
  const t = Math.min(1, Math.max(0, v + 0.5));
  return t < 0.5 ? [lerp(197, 247, t * 2), lerp(27, 247, t * 2), lerp(125, 247, t * 2)]
                 : [lerp(247, 77, (t - .5) * 2), lerp(247, 146, (t - .5) * 2), lerp(247, 33, (t - .5) * 2)];
}

function draw(ctx, f, drawn, drawMode) {
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  if (!f || f.extent === undefined) return;
  const e = f.extent;
  const px = x => X0 + (x + e) / (2 * e) * S, py = y => Y0 + (e - y) / (2 * e) * S;
  ctx.font = "12px sans-serif"; ctx.fillStyle = "#222";
  ctx.fillText(`${f.title} · ${f.loss} · step ${f.step}` + (f.phase ? ` · after the ${f.phase.toUpperCase()} step` : ""), X0, 20);
  // heat map on a fixed scale
  const delta = arr(f.delta), heat = delta || arr(f.heat), ds = f.delta_scale || 0.5;
  if (heat) {
    const R = heat.shape[0], off = document.createElement("canvas"); off.width = R; off.height = R;
    const o = off.getContext("2d"), img = o.createImageData(R, R);
    for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) {
      const c = delta ? piyg(0.5 * heat[i * R + j] / ds) : rdbu(heat[i * R + j]), k = ((R - 1 - i) * R + j) * 4;
      img.data[k] = c[0]; img.data[k + 1] = c[1]; img.data[k + 2] = c[2]; img.data[k + 3] = delta ? 255 : 190;
    }
    o.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true; ctx.drawImage(off, X0, Y0, S, S);
    // colour bar
    const bx = X0 + S + 10;
    for (let y = 0; y < S; y++) {
      const v = 1 - y / S, c = delta ? piyg(v - 0.5) : rdbu(v);
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`; ctx.fillRect(bx, Y0 + y, 12, 1);
    }
    ctx.strokeStyle = "#444"; ctx.strokeRect(bx, Y0, 12, S); ctx.fillStyle = "#222"; ctx.font = "11px sans-serif";
    const labels = delta ? ["+" + ds, "0", "−" + ds] : ["1", "0.5", "0"];
    labels.forEach((t, n) => ctx.fillText(t, bx + 16, Y0 + 4 + n * S / 2));
    ctx.save(); ctx.translate(bx + 46, Y0 + S / 2); ctx.rotate(Math.PI / 2); ctx.textAlign = "center";
    ctx.fillText(delta ? "change of D(x) in this D step" : f.heat_label, 0, 0); ctx.restore();
  }
  ctx.save(); ctx.beginPath(); ctx.rect(X0, Y0, S, S); ctx.clip();
  const real = arr(f.real), fake = arr(f.fake), trails = arr(f.trails), arrows = arr(f.arrows);
  ctx.fillStyle = "rgba(40,40,40,0.55)";
  for (let i = 0; i < real.length; i += 2) ctx.fillRect(px(real[i]) - 0.75, py(real[i + 1]) - 0.75, 1.5, 1.5);
  if (f.modes) {  // 3σ circles: the protocol's "high quality" region of each mode
    const m = arr(f.modes), r = 3 * f.sigma / (2 * e) * S;
    ctx.strokeStyle = "rgba(0,0,0,0.5)"; ctx.lineWidth = 0.75;
    for (let i = 0; i < m.length; i += 2) { ctx.beginPath(); ctx.arc(px(m[i]), py(m[i + 1]), Math.max(r, 1.5), 0, 2 * Math.PI); ctx.stroke(); }
  }
  if (trails) {
    const [P, T] = trails.shape; ctx.lineWidth = 1;
    for (let t = 0; t < T - 1; t++) {
      ctx.strokeStyle = `rgba(230,120,20,${0.12 + 0.45 * t / T})`; ctx.beginPath();
      for (let p = 0; p < P; p++) {
        const a = (p * T + t) * 2, b = a + 2;
        ctx.moveTo(px(trails[a]), py(trails[a + 1])); ctx.lineTo(px(trails[b]), py(trails[b + 1]));
      }
      ctx.stroke();
    }
  }
  ctx.fillStyle = "rgb(240,110,0)";
  for (let i = 0; i < fake.length; i += 2) { ctx.beginPath(); ctx.arc(px(fake[i]), py(fake[i + 1]), 1.8, 0, 2 * Math.PI); ctx.fill(); }
  if (arrows && arrows.length) {
    ctx.strokeStyle = "rgba(200,0,0,0.85)"; ctx.lineWidth = 1.2;
    for (let i = 0; i < arrows.length; i += 4) {
      const x = px(arrows[i]), y = py(arrows[i + 1]), x2 = px(arrows[i] + arrows[i + 2]), y2 = py(arrows[i + 1] + arrows[i + 3]);
      const a = Math.atan2(y2 - y, x2 - x);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x2, y2);
      ctx.lineTo(x2 - 5 * Math.cos(a - 0.4), y2 - 5 * Math.sin(a - 0.4)); ctx.moveTo(x2, y2);
      ctx.lineTo(x2 - 5 * Math.cos(a + 0.4), y2 - 5 * Math.sin(a + 0.4)); ctx.stroke();
    }
  }
  ctx.fillStyle = "rgb(0,140,60)";
  for (const [x, y] of drawn) { ctx.beginPath(); ctx.arc(px(x), py(y), 4, 0, 2 * Math.PI); ctx.fill(); }
  ctx.restore();
  ctx.strokeStyle = drawMode ? "rgb(0,140,60)" : "#444"; ctx.lineWidth = drawMode ? 3 : 1; ctx.strokeRect(X0, Y0, S, S);
  axisTicks(ctx, X0, Y0, S, S, -e, e, -e, e);
  if (f.paused) { ctx.fillStyle = "rgba(176,0,32,0.9)"; ctx.font = "bold 12px sans-serif"; ctx.fillText("paused: press Reset", X0 + 6, Y0 + S - 8); }
  zoom(ctx, f, real, fake);
  // small panels: warp, mass, losses, metrics
  const [wx, wy, ww, wh] = PANELS[0];
  panel(ctx, PANELS[0], "G's latent grid, warped");
  const warp = arr(f.warp);
  if (warp && warp.length) {
    const [L, Pn] = warp.shape, s = Math.min(ww, wh) / (2 * e), cx = wx + ww / 2, cy = wy + wh / 2;
    ctx.save(); ctx.beginPath(); ctx.rect(wx, wy, ww, wh); ctx.clip();
    ctx.fillStyle = "rgba(120,120,120,0.5)";
    for (let i = 0; i < Math.min(real.length, 800); i += 2) ctx.fillRect(cx + real[i] * s - 0.5, cy - real[i + 1] * s - 0.5, 1, 1);
    ctx.strokeStyle = "rgba(110,50,160,0.8)"; ctx.lineWidth = 0.8;
    for (let l = 0; l < L; l++) {
      ctx.beginPath();
      for (let p = 0; p < Pn; p++) { const k = (l * Pn + p) * 2, x = cx + warp[k] * s, y = cy - warp[k + 1] * s; p ? ctx.lineTo(x, y) : ctx.moveTo(x, y); }
      ctx.stroke();
    }
    ctx.restore();
  }
  const [mx, my, mw, mh] = PANELS[1];
  panel(ctx, PANELS[1], "mass per mode (— uniform)");
  const mass = arr(f.mass);
  if (mass) {
    const K = mass.length, top = Math.max(4 / K, ...mass) * 1.05, bw = mw / K;
    ctx.fillStyle = "rgb(240,110,0)";
    for (let k = 0; k < K; k++) { const h = mass[k] / top * mh; ctx.fillRect(mx + k * bw + bw * 0.1, my + mh - h, bw * 0.8, h); }
    const u = my + mh - (1 / K) / top * mh; ctx.strokeStyle = "#000"; ctx.setLineDash([5, 3]);
    ctx.beginPath(); ctx.moveTo(mx, u); ctx.lineTo(mx + mw, u); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = "#222"; ctx.font = "10px sans-serif"; ctx.fillText(top.toFixed(2), mx - 26, my + 8); ctx.fillText("0", mx - 10, my + mh);
  } else { ctx.fillStyle = "#666"; ctx.fillText("a point cloud has no modes", mx + 10, my + mh / 2); }
  const losses = arr(f.losses), steps = Math.max(1, f.step);
  panel(ctx, PANELS[2], "losses (blue D, orange G)");
  if (losses && losses.shape[1] > 1) {
    const n = losses.shape[1], d = losses.subarray(n, 2 * n), g = losses.subarray(2 * n, 3 * n);
    let lo = Infinity, hi = -Infinity;
    for (const v of [...d, ...g]) if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (hi <= lo) hi = lo + 1;
    curve(ctx, PANELS[2], losses.subarray(0, n), d, steps, lo, hi, "rgb(31,119,180)");
    curve(ctx, PANELS[2], losses.subarray(0, n), g, steps, lo, hi, "rgb(255,127,14)");
    axisTicks(ctx, ...PANELS[2], 0, steps, lo, hi);
  }
  const rows = arr(f.metrics);
  panel(ctx, PANELS[3], "metrics (0–1)");
  if (rows && rows.length >= 8) {
    const n = rows.length / 4, col = c => Float32Array.from({length: n}, (_, i) => rows[i * 4 + c]);
    const s = col(0);
    [["rgb(31,119,180)", 1], ["rgb(44,160,44)", 2], ["rgb(148,103,189)", 3]].forEach(([c, k]) => curve(ctx, PANELS[3], s, col(k), steps, 0, 1, c));
    axisTicks(ctx, ...PANELS[3], 0, steps, 0, 1);
  }
  const [qx, qy, qw, qh] = PANELS[3];
  if (f.collapse !== null && f.collapse !== undefined) {
    const x = qx + f.collapse / steps * qw; ctx.strokeStyle = "rgb(214,39,40)"; ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(x, qy); ctx.lineTo(x, qy + qh); ctx.stroke(); ctx.setLineDash([]);
  }
  ctx.font = "10px sans-serif";
  [["modes/K", "rgb(31,119,180)"], ["high quality", "rgb(44,160,44)"], ["rKL/log K", "rgb(148,103,189)"], ["collapse", "rgb(214,39,40)"]]
    .forEach(([t, c], n) => { ctx.fillStyle = c; ctx.fillText(t, qx - 30 + n * 62, qy + qh + 30); });
}

function zoom(ctx, f, real, fake) {  // inset: the fullest mode at ±6σ, where σ = 0.01 is 10 px wide
  if (!f.modes || !f.mass || !f.sigma) return;
  const m = arr(f.modes), mass = arr(f.mass);
  let k = 0; for (let i = 1; i < mass.length; i++) if (mass[i] > mass[k]) k = i;
  const cx = m[2 * k], cy = m[2 * k + 1], r = 6 * f.sigma, Z = 120, x0 = X0 + 4, y0 = Y0 + 4;
  const zx = x => x0 + (x - cx + r) / (2 * r) * Z, zy = y => y0 + (cy + r - y) / (2 * r) * Z;
  ctx.save(); ctx.fillStyle = "rgba(255,255,255,0.92)"; ctx.fillRect(x0, y0, Z, Z);
  ctx.beginPath(); ctx.rect(x0, y0, Z, Z); ctx.clip();
  ctx.fillStyle = "rgba(40,40,40,0.6)";
  for (let i = 0; i < real.length; i += 2) if (Math.abs(real[i] - cx) < r && Math.abs(real[i + 1] - cy) < r) ctx.fillRect(zx(real[i]) - 1, zy(real[i + 1]) - 1, 2, 2);
  ctx.fillStyle = "rgb(240,110,0)";
  for (let i = 0; i < fake.length; i += 2) if (Math.abs(fake[i] - cx) < r && Math.abs(fake[i + 1] - cy) < r) { ctx.beginPath(); ctx.arc(zx(fake[i]), zy(fake[i + 1]), 2, 0, 2 * Math.PI); ctx.fill(); }
  ctx.strokeStyle = "rgba(0,0,0,0.6)"; ctx.beginPath(); ctx.arc(zx(cx), zy(cy), 3 * f.sigma / (2 * r) * Z, 0, 2 * Math.PI); ctx.stroke();
  ctx.restore(); ctx.strokeStyle = "#444"; ctx.lineWidth = 1; ctx.strokeRect(x0, y0, Z, Z);
  ctx.fillStyle = "#222"; ctx.font = "10px sans-serif"; ctx.fillText(`zoom: mode ${k}, ±6σ, circle 3σ`, x0 + 2, y0 + Z + 12);
}
function panel(ctx, [x, y, w, h], title) {
  ctx.strokeStyle = "#444"; ctx.lineWidth = 1; ctx.strokeRect(x, y, w, h);
  ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.fillText(title, x, y - 6);
}
function curve(ctx, [x, y, w, h], xs, ys, xmax, lo, hi, colour) {
  ctx.save(); ctx.beginPath(); ctx.rect(x, y, w, h); ctx.clip();
  ctx.strokeStyle = colour; ctx.lineWidth = 1.2; ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const X = x + xs[i] / xmax * w, Y = y + h - (ys[i] - lo) / (hi - lo) * h;
    i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
  }
  ctx.stroke(); ctx.restore();
}
function axisTicks(ctx, x, y, w, h, x0, x1, y0, y1) {
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  const fmt = v => Math.abs(v) >= 1000 ? v.toFixed(0) : (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1));
  ctx.textAlign = "center"; [0, 0.5, 1].forEach(t => ctx.fillText(fmt(lerp(x0, x1, t)), x + t * w, y + h + 12));
  ctx.textAlign = "right"; [0, 0.5, 1].forEach(t => ctx.fillText(fmt(lerp(y0, y1, t)), x - 3, y + h - t * h + 3));
  ctx.textAlign = "left";
}

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.className = "lab-canvas";
  canvas.style.width = "100%"; canvas.style.maxWidth = W + "px"; canvas.style.display = "block";
  el.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  function repaint() {
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== W * dpr) { canvas.width = W * dpr; canvas.height = H * dpr; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw(ctx, model.get("frame"), model.get("drawn"), model.get("draw_mode"));
    canvas.dataset.step = String((model.get("frame") || {}).step);
    canvas.style.cursor = model.get("draw_mode") ? "crosshair" : "default";
  }
  canvas.addEventListener("click", (event) => {
    const f = model.get("frame");
    if (!model.get("draw_mode") || !f || f.extent === undefined) return;
    const box = canvas.getBoundingClientRect(), k = W / box.width;
    const x = (event.clientX - box.left) * k, y = (event.clientY - box.top) * k;
    if (x < X0 || x > X0 + S || y < Y0 || y > Y0 + S) return;
    const e = f.extent, point = [(x - X0) / S * 2 * e - e, e - (y - Y0) / S * 2 * e];
    model.set("drawn", [...model.get("drawn"), point.map(v => Math.round(v * 1000) / 1000)]);
    model.save_changes();
  });
  model.on("change:frame", repaint); model.on("change:drawn", repaint); model.on("change:draw_mode", repaint);
  repaint();
}
export default { render };
"""
