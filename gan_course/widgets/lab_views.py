"""What the Mode Collapse Lab shows, computed once and drawn twice: in the browser (``LabCanvas``) and by matplotlib.

``LabFrames.frame(lab)`` turns the engine's state into plain arrays (D's probability of "real" on a grid on a fixed
[0, 1] scale, points with trails, gradient arrows, the latent warp, per-mode mass, losses, metrics);
``LabCanvas`` draws a frame in the browser and ``render(frame)`` as a matplotlib ``Figure`` (used by ``export``).
"""

from __future__ import annotations

import io
import math
import shutil
from collections import deque
from pathlib import Path

import anywidget
import matplotlib
import numpy as np
import PIL.Image
import torch
import traitlets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gan_course.training import lab as lab_engine
from gan_course.training import losses
from gan_course.widgets.lab_canvas import ESM

POINTS = 384  # generated points drawn per frame (fixed noise, so trails follow the same points)
TRAIL = 6  # positions kept per point for its trail
ARROWS = 48  # points with a gradient arrow
HEAT = 48  # heat-map resolution per side (the canvas smooths it)
GRID_LINES, GRID_POINTS, GRID_SPAN = 13, 33, 2.5  # latent grid: lines per axis, points per line, |z| range
CURVE_POINTS = 400  # at most this many points per loss / metric curve
HEAT_COLOURS = matplotlib.colormaps["RdBu"].resampled(10)  # ten bands: read off the colour bar, small GIFs
CROSS_ENTROPY = {name for name, family in losses.GAN_LOSSES.items() if family.soft_labels} - {"lsgan"}


def probability(lab: lab_engine.ModeCollapseLab, values: torch.Tensor) -> tuple[torch.Tensor, str]:
    """D's raw outputs mapped onto the fixed scale [0, 1] ("how real D thinks a point is") and the scale's name."""
    loss = lab.config.loss
    if loss in CROSS_ENTROPY:
        return torch.sigmoid(values), "D(x) = P(real)"
    if loss == "lsgan":
        return values.clamp(0, 1), "D(x), LSGAN target 1 = real"
    generator = torch.Generator().manual_seed(7)
    real = lab.judge(lab.distribution.sample(256, generator)).mean()
    fake = lab.judge(lab.samples(256, seed=7)).mean()
    spread = (real - fake).abs().clamp_min(1e-6) * torch.sign(real - fake + 1e-12)
    return ((values - fake) / spread).clamp(0, 1), "critic score, 0 = G's mean, 1 = real mean"


class LabFrames:
    """Frames of one lab run; it keeps each point's trail between frames."""

    def __init__(self):
        self.trails: deque = deque(maxlen=TRAIL)
        self.key = None

    def scene(self, lab: lab_engine.ModeCollapseLab) -> dict:
        """What changes only with the data: extent, real points, mode centres and σ."""
        extent = 1.5 * lab.data_scale
        real = lab.distribution.sample(1500, torch.Generator().manual_seed(0))
        modes = lab.distribution.modes
        return {"extent": extent, "real": real.numpy().astype(np.float32),
                "modes": None if modes is None else modes.numpy().astype(np.float32),
                "sigma": float(lab.distribution.sigma or 0.0)}

    def frame(self, lab: lab_engine.ModeCollapseLab, counts: torch.Tensor | None = None) -> dict:
        """The lab now, as arrays (data units). ``counts``: this step's per-mode histogram, if already measured."""
        key = (id(lab), lab.config.target, lab.config.seed)
        if key != self.key or (lab.step_count == 0 and lab.pending_d is None):
            self.trails.clear()
            self.key = key
        frame = {"step": lab.step_count, "phase": "", **self.scene(lab), "loss": lab.config.loss,
                 "title": lab.config.target}
        broken = bool(lab.paused_reason) and not torch.isfinite(lab.samples(8, seed=0)).all()
        fake = np.zeros((POINTS, 2), np.float32) if broken else lab.samples(POINTS, seed=0).numpy()
        if not self.trails or not np.array_equal(self.trails[-1], fake):
            self.trails.append(fake.astype(np.float32))
        frame["fake"] = self.trails[-1]
        frame["trails"] = np.stack(list(self.trails), axis=1)  # (POINTS, T, 2), oldest first
        if broken:
            frame.update(heat=np.full((HEAT, HEAT), 0.5, np.float32), heat_label="D is broken (NaN)",
                         arrows=np.zeros((0, 4), np.float32), warp=np.zeros((0, GRID_POINTS, 2), np.float32))
        else:
            _, _, values = lab.discriminator_grid(resolution=HEAT)
            heat, label = probability(lab, values)
            points, gradients = lab.generator_gradients(ARROWS - ARROWS % lab.config.pack)
            push = -gradients
            push = push / push.norm(dim=1).max().clamp_min(1e-12) * 0.15 * frame["extent"]
            frame.update(heat=np.nan_to_num(heat.numpy().astype(np.float32), nan=0.5), heat_label=label,
                         arrows=torch.cat([points, push], dim=1).numpy().astype(np.float32),
                         warp=self.warp(lab))
        if lab.has_modes:
            if counts is None:
                counts = lab.mode_report()[1]
            total = max(int(counts.sum()), 1)
            frame["mass"] = (counts.double() / total).numpy().astype(np.float32)
        else:
            frame["mass"] = None
        steps = lab.history["losses"]["step"]
        stride = max(1, math.ceil(len(steps) / CURVE_POINTS))
        frame["losses"] = np.array([steps[::stride], lab.history["losses"]["d_loss"][::stride],
                                    lab.history["losses"]["g_loss"][::stride]], np.float32).reshape(3, -1)
        rows = [r for r in lab.history["metrics"] if r["modes"] is not None]
        stride = max(1, math.ceil(len(rows) / CURVE_POINTS))
        k = len(lab.distribution.modes) if lab.has_modes else 1
        frame["metrics"] = np.array(
            [[r["step"], r["modes"] / k, r["high_quality"] / 100,
              min(1.0, r["reverse_kl"] / math.log(k)) if k > 1 else 0.0] for r in rows[::stride]],
            np.float32).reshape(-1, 4)
        frame["collapse"] = lab.collapse_step
        frame["paused"] = lab.paused_reason or ""
        return frame

    @staticmethod
    def warp(lab: lab_engine.ModeCollapseLab) -> np.ndarray:
        """G applied to the lines of a grid in z: (2·GRID_LINES, GRID_POINTS, 2) points in data units."""
        G = lab.sampler
        axis = torch.linspace(-GRID_SPAN, GRID_SPAN, GRID_POINTS)
        levels = torch.linspace(-GRID_SPAN, GRID_SPAN, GRID_LINES)
        horizontal = torch.stack(torch.broadcast_tensors(axis[None, :], levels[:, None]), dim=-1)  # (L, P, 2)
        lines = torch.cat([horizontal, horizontal.flip(-1)])  # (2L, P, 2): rows, then columns
        z = torch.zeros(lines.shape[0] * GRID_POINTS, G.input_dim)
        start = G.components  # with a mixture prior: component 0's code, then the first two noise dimensions
        if G.components:
            z[:, 0] = 1.0
        z[:, start:start + min(2, G.latent_dim)] = lines.reshape(-1, 2)[:, :min(2, G.latent_dim)]
        with torch.no_grad():
            points = G(z) * lab.data_scale  # (2L·P, K + Z) -> (2L·P, 2)
        return points.reshape(lines.shape).numpy().astype(np.float32)


# ---- the browser view --------------------------------------------------------------------------------------------
def nice_scale(values: np.ndarray) -> float:
    """The smallest of 0.001, 0.002, 0.005, 0.01, … 0.5 that covers max |values| (a colour scale for changes)."""
    top = float(np.abs(values).max()) if values.size else 0.0
    for scale in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5):
        if top <= scale:
            return scale
    return 1.0


def to_wire(frame: dict) -> dict:
    """A frame as the widget sends it: arrays as float32 bytes with their shapes, the rest as JSON."""
    wire = {}
    for name, value in frame.items():
        if isinstance(value, np.ndarray):
            value = np.ascontiguousarray(value, np.float32)
            wire[name] = {"shape": list(value.shape), "data": value.tobytes()}
        else:
            wire[name] = value
    return wire


class LabCanvas(anywidget.AnyWidget):
    """The lab's live picture, drawn in the browser; ``drawn`` holds the points clicked in draw mode."""
    _esm = ESM
    frame = traitlets.Dict({}).tag(sync=True)
    draw_mode = traitlets.Bool(False).tag(sync=True)
    drawn = traitlets.List([]).tag(sync=True)
    compact = traitlets.Bool(False).tag(sync=True)

    def show(self, frame: dict) -> None:
        self.frame = to_wire(frame)


# ---- the same frame in matplotlib ------------------------------------------------------------------------------
def render(frame: dict, size: tuple = (11.0, 5.2), dpi: int = 90) -> Figure:
    """The frame as a Figure: the main panel (D's probability, points, trails, arrows), latent warp, mode mass,
    losses and metrics."""
    figure = Figure(figsize=size, dpi=dpi)
    # the main panel and its colour bar get their own column, set apart from the small panels so that the colour
    # bar's label never runs into the y-tick labels of the losses panel
    outer = figure.add_gridspec(1, 2, width_ratios=[2.3, 2.3], wspace=0.28, left=0.05, right=0.98, top=0.9,
                                bottom=0.1)
    small = outer[0, 1].subgridspec(2, 2, wspace=0.35, hspace=0.55)
    main = figure.add_subplot(outer[0, 0])
    ax_warp, ax_mass = figure.add_subplot(small[0, 0]), figure.add_subplot(small[0, 1])
    ax_loss, ax_metrics = figure.add_subplot(small[1, 0]), figure.add_subplot(small[1, 1])
    bar = dict(ax=main, fraction=0.046, pad=0.03)
    e = frame["extent"]
    delta = frame.get("delta")
    if delta is not None:
        scale = frame.get("delta_scale", 0.5)
        image = main.imshow(delta, origin="lower", extent=(-e, e, -e, e), cmap="PiYG", vmin=-scale, vmax=scale)
        figure.colorbar(image, **bar, label="change of D(x) in this D step")
    else:
        image = main.imshow(frame["heat"], origin="lower", extent=(-e, e, -e, e), cmap=HEAT_COLOURS, vmin=0, vmax=1,
                            alpha=0.75)
        figure.colorbar(image, **bar, label=frame["heat_label"])
    main.scatter(*frame["real"].T, s=1.5, color="0.25", label="real", linewidths=0)
    trails = frame["trails"]
    for t in range(trails.shape[1] - 1):  # one collection per trail segment age, older = fainter
        main.add_collection(LineCollection(trails[:, t:t + 2], colors="tab:orange", linewidths=0.6,
                                           alpha=0.15 + 0.5 * t / max(1, trails.shape[1])))
    main.scatter(*frame["fake"].T, s=3, color="tab:orange", label="generated", linewidths=0)
    if len(frame["arrows"]):
        a = frame["arrows"]
        main.quiver(a[:, 0], a[:, 1], a[:, 2], a[:, 3], color="tab:red", angles="xy", scale_units="xy", scale=1,
                    width=0.003)
    if frame["modes"] is not None:
        for x, y in frame["modes"]:
            main.add_patch(_circle((x, y), 3 * frame["sigma"]))
    main.set(xlim=(-e, e), ylim=(-e, e), aspect="equal",
             title=f"{frame['title']} · {frame['loss']} · step {frame['step']}" + (
                 f" · {frame['phase']} step" if frame.get("phase") else ""))
    main.legend(loc="upper right", fontsize=7, markerscale=3)
    for line in frame["warp"]:
        ax_warp.plot(line[:, 0], line[:, 1], lw=0.6, color="tab:purple")
    ax_warp.scatter(*frame["real"][:300].T, s=1, color="0.6")
    ax_warp.set(xlim=(-e, e), ylim=(-e, e), aspect="equal", title="G's latent grid, warped")
    if frame["mass"] is not None:
        mass = frame["mass"]
        ax_mass.bar(np.arange(len(mass)), mass, color="tab:orange")
        ax_mass.axhline(1 / len(mass), color="k", ls="--", lw=1, label="uniform")
        ax_mass.set(ylim=(0, 1), title="mass per mode", xlabel="mode")
        ax_mass.xaxis.set_major_locator(MaxNLocator(integer=True))  # modes are numbered 0 … K − 1
        ax_mass.legend(fontsize=7)
    else:
        ax_mass.set(title="no modes: a point cloud")
    steps, d_loss, g_loss = frame["losses"]
    ax_loss.plot(steps, d_loss, lw=0.8, label="D")
    ax_loss.plot(steps, g_loss, lw=0.8, label="G")
    ax_loss.set(title="losses", xlabel="G step")
    ax_loss.legend(fontsize=7)
    rows = frame["metrics"]
    for column, name in ((1, "modes / K"), (2, "high quality"), (3, "reverse KL / log K")):
        ax_metrics.plot(rows[:, 0], rows[:, column], lw=1, label=name)
    if frame["collapse"] is not None:
        ax_metrics.axvline(frame["collapse"], color="tab:red", ls="--", lw=1, label="collapse")
    ax_metrics.set(ylim=(-0.05, 1.05), title="metrics", xlabel="G step")
    ax_metrics.legend(fontsize=6, loc="best")
    for ax in (ax_loss, ax_metrics):
        ax.set_xlim(0, max(1, frame["step"]))
    return figure


def _circle(centre, radius):
    from matplotlib.patches import Circle
    return Circle(centre, radius, fill=False, lw=0.5, color="0.2")


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes (Agg)."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def stack_png(pictures: list[bytes]) -> bytes:
    """PNG pictures stacked top to bottom into one PNG (Compare's static picture)."""
    images = [PIL.Image.open(io.BytesIO(picture)).convert("RGB") for picture in pictures]
    stacked = PIL.Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), "white")
    top = 0
    for image in images:
        stacked.paste(image, (0, top))
        top += image.height
    buffer = io.BytesIO()
    stacked.save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _image(frame: dict, size, dpi) -> PIL.Image.Image:
    figure = render(frame, size=size, dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return PIL.Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
                                ).convert("RGB")


def export(frames: list[dict], path: str | Path, fps: int = 6, size: tuple = (9.0, 4.3), dpi: int = 60,
           png_frames: bool = False, colors: int = 64) -> Path:
    """Write ``frames`` as an animated GIF (``.gif``) or MP4 (``.mp4``, needs ffmpeg); ``png_frames`` also writes
    ``<stem>_frames/frame_NNN.png``. Returns the path."""
    path = Path(path)
    if not frames:
        raise ValueError("no frames to export: run the lab first")
    if path.suffix not in (".gif", ".mp4"):
        raise ValueError(f"export writes .gif or .mp4, got {path.suffix!r}")
    if path.suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise ValueError("MP4 needs ffmpeg, which is not installed here; export a .gif instead")
    images = [_image(frame, size, dpi) for frame in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    if png_frames:
        folder = path.with_name(path.stem + "_frames")
        folder.mkdir(exist_ok=True)
        for index, image in enumerate(images):
            image.save(folder / f"frame_{index:03d}.png")
    if path.suffix == ".gif":
        palette = images[-1].quantize(colors=colors)
        quantized = [image.quantize(palette=palette, dither=PIL.Image.Dither.NONE) for image in images]
        quantized[0].save(path, save_all=True, append_images=quantized[1:], duration=int(1000 / fps), loop=0,
                          optimize=True)
    else:
        import matplotlib.animation as animation
        figure = Figure(figsize=size, dpi=dpi)
        ax = figure.add_axes([0, 0, 1, 1])
        ax.axis("off")
        shown = ax.imshow(images[0])
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(figure, str(path), dpi):
            for image in images:
                shown.set_data(image)
                writer.grab_frame()
    return path


def animate(lab: lab_engine.ModeCollapseLab, steps: int, every: int, path: str | Path, trails: bool = False,
            **export_kwargs) -> Path:
    """Train ``lab`` for ``steps`` G steps and export a frame every ``every`` steps (and at step 0)."""
    frames, views = [], LabFrames()
    for _ in range(steps // every + 1):
        current, counts = lab.mode_report()
        lab.record_metrics(current)
        frame = views.frame(lab, counts)
        if not trails:
            frame["trails"] = frame["fake"][:, None, :]  # (POINTS, 1, 2): no segments to draw
        frames.append(frame)
        if lab.step_count < steps:
            lab.step(every)
    return export(frames, path, **export_kwargs)
