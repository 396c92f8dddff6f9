"""The live Mode Collapse Lab (lesson 10): ipywidgets controls over ``gan_course.lab.ModeCollapseLab``.

Every ``LabConfig`` field has a control (dropdowns fed by ``lab.TARGETS``, ``losses.GAN_LOSSES``,
``lab.OPTIMIZERS`` and ``lab.PRESETS``). Play starts an asyncio task in the kernel's event loop that alternates
a burst of training steps with a redraw and ``await asyncio.sleep(...)``, so the kernel handles Pause clicks between
bursts. The figure is a plain matplotlib ``Figure`` on an Agg canvas; each redraw updates its artists
(``set_offsets``, ``set_data``, ``set_UVC``) and sends the PNG to an ``ipywidgets.Image`` — no ipympl needed.
Invalid settings show the engine's ``ValueError`` message in the status line, not a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import math

import ipywidgets as widgets
import numpy as np
import PIL.Image
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_course import lab as lab_engine
from gan_course import losses

CHOICES = {"target": list(lab_engine.TARGETS), "loss": list(losses.GAN_LOSSES),
           "g_optimizer": list(lab_engine.OPTIMIZERS), "d_optimizer": list(lab_engine.OPTIMIZERS)}
ARROWS = 64  # generated points that carry a gradient arrow
POINTS = 512  # generated points drawn per redraw


def _control(field: dataclasses.Field, value) -> widgets.Widget:
    layout = widgets.Layout(width="230px")
    style = {"description_width": "120px"}
    if field.name in CHOICES:
        return widgets.Dropdown(options=CHOICES[field.name], value=value, description=field.name, layout=layout,
                                style=style)
    if isinstance(value, bool):
        return widgets.Checkbox(value=value, description=field.name, indent=False, layout=layout)
    if isinstance(value, int):
        return widgets.IntText(value=value, description=field.name, layout=layout, style=style)
    return widgets.FloatText(value=value, description=field.name, layout=layout, style=style)


class LabView:
    """The figure: D heat map with real and generated points, gradient arrows, losses, mode count over time."""

    def __init__(self, lab: lab_engine.ModeCollapseLab, dpi: int = 60):
        self.figure = Figure(figsize=(10.0, 7.0), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        (self.ax_points, self.ax_arrows), (self.ax_losses, self.ax_modes) = self.figure.subplots(2, 2)
        self.heat = self.ax_points.imshow(np.zeros((2, 2)), origin="lower", cmap="RdBu", alpha=0.6)
        self.real = self.ax_points.scatter([], [], s=3, color="0.3", label="real")
        self.fake = self.ax_points.scatter([], [], s=3, color="tab:orange", label="generated")
        self.ax_points.legend(loc="upper right", fontsize=8, markerscale=3)
        self.ax_points.set_title("D's output (blue: real) and samples")
        self.arrow_points = self.ax_arrows.scatter([], [], s=6, color="tab:orange")
        spread = np.linspace(-1.0, 1.0, ARROWS)  # distinct start points: quiver cannot autoscale coincident ones
        self.arrows = self.ax_arrows.quiver(spread, spread, np.zeros(ARROWS), np.zeros(ARROWS), color="tab:red",
                                            angles="xy")
        self.arrow_real = self.ax_arrows.scatter([], [], s=12, marker="x", color="0.3")
        self.ax_arrows.set_title("−∂(G loss)/∂x: where G pushes its points")
        (self.d_line,) = self.ax_losses.plot([], [], label="D loss")
        (self.g_line,) = self.ax_losses.plot([], [], label="G loss")
        self.ax_losses.legend(loc="upper right", fontsize=8)
        self.ax_losses.set(title="losses", xlabel="G step")
        (self.modes_line,) = self.ax_modes.plot([], [], marker="o", markersize=3, label="modes covered")
        self.collapse_line = self.ax_modes.axvline(0.0, color="tab:red", linestyle="--", label="collapse")
        self.collapse_line.set_visible(False)
        self.ax_modes.legend(loc="lower right", fontsize=8)
        self.ax_modes.set(title="mode coverage", xlabel="G step")
        self.figure.tight_layout()
        self.moving = [self.heat, self.real, self.fake, self.arrow_points, self.arrows, self.arrow_real,
                       self.d_line, self.g_line, self.modes_line, self.collapse_line]
        for artist in self.moving:
            artist.set_animated(True)  # left out of full draws; drawn on top of the cached background
        self.target, self.background, self._drawn_limits = None, None, None
        self.loss_range = (0.0, 1.5)

    def _set_target(self, lab: lab_engine.ModeCollapseLab) -> None:
        extent = 1.5 * lab.data_scale
        for ax in (self.ax_points, self.ax_arrows):
            ax.set(xlim=(-extent, extent), ylim=(-extent, extent), aspect="equal")
        self.heat.set_extent((-extent, extent, -extent, extent))
        real = lab.distribution.sample(1000, torch.Generator().manual_seed(0)).numpy()
        self.real.set_offsets(real)
        self.arrow_real.set_offsets(lab.distribution.modes.numpy())
        self.ax_modes.set_ylim(-0.5, len(lab.distribution.modes) + 0.5)
        self.target, self._drawn_limits, self.loss_range = lab.config.target, None, (0.0, 1.5)

    def _limits(self, lab: lab_engine.ModeCollapseLab, losses_seen: np.ndarray) -> tuple:
        """Axis limits that change rarely (x doubles, y widens), so most redraws reuse the drawn background."""
        x_max = 2 ** max(7, math.ceil(math.log2(max(lab.step_count, 1))))
        low, high = self.loss_range
        if losses_seen.size:
            seen_low, seen_high = float(losses_seen.min()), float(losses_seen.max())
            if seen_low < low or seen_high > high:
                pad = 0.25 * max(seen_high - seen_low, 0.1)
                low, high = min(low, seen_low - pad), max(high, seen_high + pad)
        self.loss_range = (low, high)
        return lab.config.target, x_max, low, high

    def update(self, lab: lab_engine.ModeCollapseLab) -> bytes:
        """Move every artist to the lab's current state and return the figure as PNG bytes.

        The axes, ticks and titles are drawn once into a cached background; a redraw restores it and draws only
        the moving artists (blitting), unless an axis limit had to change.
        """
        if self.target != lab.config.target:
            self._set_target(lab)
        if not lab.paused_reason:
            _, _, values = lab.discriminator_grid(resolution=48)
            values = values.numpy()
            if np.isfinite(values).all():
                self.heat.set_data(values)
                low, high = float(values.min()), float(values.max())
                self.heat.set_clim(low, high if high > low else low + 1e-6)
            samples = lab.samples(POINTS, seed=0).numpy()
            if np.isfinite(samples).all():
                self.fake.set_offsets(samples)
            points, gradients = lab.generator_gradients(ARROWS - ARROWS % lab.config.pack)
            points, gradients = points.numpy(), -gradients.numpy()
            if np.isfinite(gradients).all() and len(points) == ARROWS:
                scale = np.abs(gradients).max() or 1.0
                self.arrow_points.set_offsets(points)
                self.arrows.set_offsets(points)
                self.arrows.set_UVC(gradients[:, 0] / scale, gradients[:, 1] / scale)
        loss_history = lab.history["losses"]
        steps = np.asarray(loss_history["step"])
        stride = max(1, len(steps) // 500)  # at most ~500 points per curve keeps redraws fast
        d_losses = np.asarray(loss_history["d_loss"])[::stride]
        g_losses = np.asarray(loss_history["g_loss"])[::stride]
        self.d_line.set_data(steps[::stride], d_losses)
        self.g_line.set_data(steps[::stride], g_losses)
        rows = lab.history["metrics"]
        self.modes_line.set_data([r["step"] for r in rows], [r["modes"] for r in rows])
        collapse = lab.collapse_step
        self.collapse_line.set_visible(collapse is not None)
        if collapse is not None:
            self.collapse_line.set_xdata([collapse, collapse])
        limits = self._limits(lab, np.concatenate([d_losses, g_losses]))
        if limits != self._drawn_limits:
            _, x_max, low, high = limits
            self.ax_losses.set(xlim=(0, x_max), ylim=(low, high))
            self.ax_modes.set_xlim(0, x_max)
            self.canvas.draw()  # full draw without the animated (moving) artists
            self.background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._drawn_limits = limits
        else:
            self.canvas.restore_region(self.background)
        for artist in self.moving:
            artist.axes.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def metrics_text(lab: lab_engine.ModeCollapseLab, current: dict) -> str:
    """One line of live numbers: step, modes covered, % high quality, reverse KL, moment of collapse."""
    total = len(lab.distribution.modes)
    rkl = "∞" if math.isinf(current["reverse_kl"]) else f"{current['reverse_kl']:.3f}"
    collapse = lab.collapse_step
    text = (f"step {lab.step_count} · modes covered {current['modes']}/{total} · high quality "
            f"{current['high_quality']:.1f} % · reverse KL {rkl} · "
            + (f"collapse at step {collapse}" if collapse is not None else "no collapse detected"))
    return text


class ModeCollapseLabWidget:
    """Controls, buttons and the live view over one ``ModeCollapseLab``; display ``.widget``."""

    def __init__(self, config: lab_engine.LabConfig | None = None, burst: int = 25, pause_seconds: float = 0.01):
        self.lab = lab_engine.ModeCollapseLab(config or lab_engine.preset("collapse"))
        self.burst, self.pause_seconds = burst, pause_seconds
        self.task: asyncio.Task | None = None
        self.playing = False
        values = self.lab.config.to_dict()
        self.controls = {f.name: _control(f, values[f.name]) for f in dataclasses.fields(lab_engine.LabConfig)}
        for control in self.controls.values():
            control.observe(self.on_setting_change, names="value")
        self.preset = widgets.Dropdown(options=["(custom)"] + list(lab_engine.PRESETS), value="(custom)",
                                       description="preset")
        self.preset.observe(self.on_preset, names="value")
        self.buttons = {name: widgets.Button(description=name, layout=widgets.Layout(width="80px"))
                        for name in ("Play", "Pause", "Step", "Reset", "Save", "Load")}
        for name, button in self.buttons.items():
            button.on_click(getattr(self, f"on_{name.lower()}"))
        self.path = widgets.Text(value="mode_collapse_lab.json", description="file",
                                 layout=widgets.Layout(width="320px"))
        self.metrics_label = widgets.HTML()
        self.status = widgets.HTML()
        self.view = LabView(self.lab)
        self.image = widgets.Image(format="png")
        grid = widgets.GridBox(list(self.controls.values()),
                               layout=widgets.Layout(grid_template_columns="repeat(4, 240px)"))
        settings = widgets.Accordion([grid], titles=("settings",))
        self.widget = widgets.VBox([
            widgets.HBox([self.preset] + list(self.buttons.values())[:4]),
            widgets.HBox([self.path, self.buttons["Save"], self.buttons["Load"]]),
            settings, self.metrics_label, self.status, self.image])
        self.widget.add_class("mode-collapse-lab")
        self.redraw()

    # ---- drawing ---------------------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Update the figure's artists, the PNG image and the live metrics text."""
        current = self.lab.record_metrics()  # the live curve gets a point per redraw, not only every eval_every
        self.metrics_label.value = f"<b class='lab-metrics'>{html.escape(metrics_text(self.lab, current))}</b>"
        self.image.value = self.view.update(self.lab)
        if self.lab.paused_reason:
            self._say(self.lab.paused_reason, error=True)

    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#333"
        self.status.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    # ---- settings --------------------------------------------------------------------------------------------
    def _set_controls(self, config: lab_engine.LabConfig) -> None:
        self._syncing = True
        try:
            for name, value in config.to_dict().items():
                self.controls[name].value = value
        finally:
            self._syncing = False

    def on_setting_change(self, change=None) -> None:
        """Build a config from every control; apply it (live or by reset) or show why it is refused."""
        if getattr(self, "_syncing", False):
            return
        try:
            config = lab_engine.LabConfig(**{name: c.value for name, c in self.controls.items()})
        except ValueError as err:
            self._say(f"not applied: {err}", error=True)
            return
        restarted = self.lab.configure(config)
        self._say("settings changed: restarted from step 0" if restarted else "settings applied live")
        self.redraw()

    def on_preset(self, change=None) -> None:
        if self.preset.value == "(custom)":
            return
        self.load_config(lab_engine.PRESETS[self.preset.value])

    def load_config(self, config: lab_engine.LabConfig) -> None:
        """Show ``config`` in the controls and restart the lab with it."""
        self._set_controls(config)
        self.on_setting_change()

    # ---- running ---------------------------------------------------------------------------------------------
    def train_burst(self) -> None:
        """One burst: ``burst`` G steps, then a redraw (what Play repeats and Step does once)."""
        self.lab.step(self.burst)
        self.redraw()

    async def _play_loop(self) -> None:
        try:
            while self.playing and not self.lab.paused_reason:
                self.train_burst()
                await asyncio.sleep(self.pause_seconds)  # the kernel handles widget messages (Pause) here
        finally:
            self.playing = False

    def on_play(self, button=None) -> None:
        if self.playing:
            return
        self.playing = True
        self._say("playing")
        self.task = asyncio.ensure_future(self._play_loop())

    def on_pause(self, button=None) -> None:
        self.playing = False
        self._say(f"paused at step {self.lab.step_count}")

    def on_step(self, button=None) -> None:
        self.train_burst()

    def on_reset(self, button=None) -> None:
        self.playing = False
        self.lab.reset()
        self._say("reset to step 0")
        self.redraw()

    def on_save(self, button=None) -> None:
        try:
            path = self.lab.save(self.path.value)
        except (OSError, ValueError) as err:
            self._say(f"could not save: {err}", error=True)
            return
        self._say(f"saved config and metric history to {path}")

    def on_load(self, button=None) -> None:
        self.playing = False
        try:
            loaded = lab_engine.ModeCollapseLab.load(self.path.value)
        except (OSError, ValueError) as err:
            self._say(f"could not load: {err}", error=True)
            return
        self.lab = loaded
        self._set_controls(loaded.config)
        self._say(f"loaded {self.path.value}: replayed {loaded.step_count} steps")
        self.redraw()


def mode_collapse_lab(preset: str = "collapse", **changes) -> widgets.Widget:
    """The lab widget started from a named preset (``**changes`` override fields); display the result."""
    return ModeCollapseLabWidget(lab_engine.preset(preset, **changes)).widget
