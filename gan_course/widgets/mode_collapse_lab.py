"""The live Mode Collapse Lab (lesson 10): controls over ``gan_course.training.lab.ModeCollapseLab`` and its views.

Live fields (``lab.LIVE_FIELDS``) act on the next step; any other change waits behind a badge until Reset. Play runs
one asyncio task that trains for ``burst_seconds``, redraws and yields; the picture is drawn by
``lab_views.LabCanvas``, with a PNG of the same frame for viewers without widgets.
"""

from __future__ import annotations

import asyncio
import html
import math
import time
from collections import deque
from pathlib import Path

import ipywidgets as widgets

from gan_course.training import lab as lab_engine
from gan_course.training import losses
from gan_course.widgets import lab_views

CUSTOM_PRESET = "(custom)"


def _tooltips(text: str) -> dict[str, str]:
    """``{field: tooltip}`` from lines ``field: tooltip``."""
    return dict(line.strip().split(": ", 1) for line in text.strip().splitlines())


HELP = _tooltips("""
    target: the data: 8 sharp Gaussians on a ring, 25 on a grid, shapes without modes, or your own ('custom')
    loss: the GAN loss: non-saturating (standard), minimax, LSGAN (least squares), WGAN, WGAN-GP, hinge
    g_optimizer: G's optimizer
    d_optimizer: D's optimizer
    g_lr: G's learning rate (log scale): how far G moves its points per step
    d_lr: D's learning rate (log scale): how fast D redraws its real/fake surface
    beta1: Adam's momentum β₁, betas[0] (0.5 is the GAN default)
    beta2: Adam's β₂, betas[1]
    d_steps: D updates before each G update
    g_width: units per hidden layer of G
    g_depth: hidden layers of G
    d_width: units per hidden layer of D
    d_depth: hidden layers of D
    latent_dim: size of G's Gaussian noise z
    latent_components: K > 0: a one-hot code of K components before z
    batch_size: real and generated points per step
    label_smoothing: one-sided: D's real target is 1 − s
    label_flip: fraction of swapped real/fake labels
    instance_noise: std of the noise added to every input of D
    noise_anneal_steps: steps to anneal it to 0
    pack: PacGAN: D judges this many samples jointly (sees a collapsed batch)
    minibatch_std: D sees the batch's spread (a collapsed batch has none)
    spectral_norm: normalise D's layers: a smoother D
    fourier_features: sin/cos features: a D that sees σ = 0.01
    fourier_scale: highest Fourier frequency
    fourier_anneal_steps: steps to open the frequencies coarse-to-fine
    energy_weight: weight of an energy-distance term in G's loss: moves mass from full modes to empty ones
    gan_weight: weight of the adversarial part of G's loss; 0 = energy only (D is neither trained nor asked)
    gp_weight: λ of WGAN-GP's gradient penalty
    unrolled_steps: D steps G looks ahead for each G update
    unrolled_mode: lookahead: first-order, D's updates held fixed; full: G's gradient through D's updates (Metz)
    decay_start: step where the learning rates start to decay
    decay_steps: length of the linear decay
    decay_floor: learning-rate multiplier at the end of the decay
    ema: moving average of G's weights (samples come from the average)
    eval_every: steps between recorded mode metrics
    seed: the random seed of weights and data
""")  # what each field means, shown as its control's tooltip
TOP = ("target", "loss", "g_lr", "d_lr", "d_steps", "batch_size")
GROUPS = {
    "networks": ("g_width", "g_depth", "d_width", "d_depth", "latent_dim", "latent_components", "fourier_features",
                 "fourier_scale"),
    "optimizers": ("g_optimizer", "d_optimizer", "beta1", "beta2"),
    "tricks": ("label_smoothing", "label_flip", "instance_noise", "pack", "minibatch_std", "spectral_norm",
               "energy_weight", "gan_weight", "gp_weight", "unrolled_steps", "unrolled_mode", "ema"),
    "schedule": ("decay_start", "decay_steps", "decay_floor", "noise_anneal_steps", "fourier_anneal_steps"),
    "evaluation": ("eval_every", "seed"),
}
TOGGLES = {  # the main tricks, one click each: field, value when on, tooltip
    "pack 4": ("pack", 4, "PacGAN: D judges 4 samples at once, so a collapsed batch looks fake"),
    "minibatch std": ("minibatch_std", True, HELP["minibatch_std"]),
    "spectral norm": ("spectral_norm", True, HELP["spectral_norm"]),
    "noise 0.1": ("instance_noise", 0.1, "instance noise of std 0.1 on D's inputs"),
    "unrolled 5": ("unrolled_steps", 5, "G steps against a D that looked 5 steps ahead (first-order look-ahead "
                                        "unless unrolled_mode is full)"),
    "EMA": ("ema", 0.999, "samples from a moving average of G's weights"),
    "energy 100": ("energy_weight", 100.0, HELP["energy_weight"]),
}
CHOICES = {"target": list(lab_engine.TARGETS), "loss": list(losses.GAN_LOSSES),
           "g_optimizer": list(lab_engine.OPTIMIZERS), "d_optimizer": list(lab_engine.OPTIMIZERS),
           "unrolled_mode": list(lab_engine.UNROLLED_MODES)}
FRAMES_KEPT = 240  # frames kept for Export


def control_values(config: lab_engine.LabConfig) -> dict:
    """``{control name: value}`` for ``config``: its fields, less ``unused``, with ``betas`` split in two."""
    values = {name: value for name, value in config.to_dict().items() if name not in config.unused}
    values["beta1"], values["beta2"] = values.pop("betas")
    return values


def config_from(values: dict) -> lab_engine.LabConfig:
    """The ``LabConfig`` the controls' ``values`` describe (checked: ``ValueError`` names a bad one)."""
    values = dict(values)
    values["betas"] = (values.pop("beta1"), values.pop("beta2"))
    return lab_engine.LabConfig(**values)


def _control(name: str, value) -> widgets.Widget:
    style, layout, tip = {"description_width": "110px"}, widgets.Layout(width="250px"), HELP[name]
    if name in CHOICES:
        return widgets.Dropdown(options=CHOICES[name], value=value, description=name, tooltip=tip, style=style,
                                layout=layout)
    if name in ("g_lr", "d_lr"):
        return widgets.FloatLogSlider(value=value, base=10, min=-5, max=-1, step=0.05, description=name,
                                      readout_format=".1e", tooltip=tip, style={"description_width": "50px"},
                                      layout=widgets.Layout(width="290px"), continuous_update=False)
    if name == "d_steps":
        return widgets.IntSlider(value=value, min=1, max=10, description=name, tooltip=tip,
                                 style={"description_width": "60px"}, layout=widgets.Layout(width="230px"),
                                 continuous_update=False)
    if name == "batch_size":
        options = sorted({32, 64, 128, 256, 512, 1024, value})
        return widgets.Dropdown(options=options, value=value, description="batch", tooltip=tip,
                                style={"description_width": "40px"}, layout=widgets.Layout(width="130px"))
    if isinstance(value, bool):
        return widgets.Checkbox(value=value, description=name, tooltip=tip, indent=False, layout=layout)
    if isinstance(value, int):
        return widgets.IntText(value=value, description=name, tooltip=tip, style=style, layout=layout)
    return widgets.FloatText(value=value, description=name, tooltip=tip, style=style, layout=layout)


def metrics_text(lab: lab_engine.ModeCollapseLab, current: dict) -> str:
    """One line of live numbers: step, modes covered, % high quality, reverse KL, moment of collapse."""
    if current["modes"] is None:
        return f"step {lab.step_count} · a point cloud: no mode metrics (give a mixture spec for them)"
    total = len(lab.distribution.modes)
    rkl = "∞" if math.isinf(current["reverse_kl"]) else f"{current['reverse_kl']:.3f}"
    collapse = lab.collapse_step
    return (f"step {lab.step_count} · modes covered {current['modes']}/{total} · high quality "
            f"{current['high_quality']:.1f} % · reverse KL {rkl} · "
            + (f"collapse at step {collapse}" if collapse is not None else "no collapse detected"))


class LabPanel:
    """One lab with its canvas, metrics line and frame history (the unit that Compare shows twice)."""

    def __init__(self, lab: lab_engine.ModeCollapseLab):
        self.lab, self.frames = lab, lab_views.LabFrames()
        self.canvas = lab_views.LabCanvas()
        self.metrics_label = widgets.HTML()
        self.recorded: deque = deque(maxlen=FRAMES_KEPT)
        self.last_frame: dict | None = None

    def redraw(self, **extra) -> dict:
        """Record a metrics row for this step, compute the frame, show it; returns the frame."""
        current, counts = self.lab.mode_report()
        self.lab.record_metrics(current)  # the live curve gets a row per redraw, not only every eval_every
        self.metrics_label.value = (f"<b class='lab-metrics'>"
                                    f"{html.escape(metrics_text(self.lab, current))}</b>")
        frame = {**self.frames.frame(self.lab, counts), **extra}
        self.canvas.show(frame)
        self.last_frame = frame
        self.recorded.append(frame)
        return frame

    def png(self) -> bytes:
        return lab_views.png(lab_views.render(self.last_frame or self.frames.frame(self.lab)))


class _Runner:
    """Play / Pause over one asyncio task that calls ``burst()`` until paused; never two tasks at once."""

    burst_seconds = 0.05

    def _init_runner(self, status: widgets.HTML):
        self.task: asyncio.Task | None = None
        self.playing = False
        self.status = status

    def _say(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "#333"
        self.status.value = f"<span class='lab-status' style='color:{color}'>{html.escape(text)}</span>"

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def on_play(self, button=None) -> None:
        reason = self._paused_reason()
        if reason:
            self.playing = False
            self._say(f"cannot play: {reason}", error=True)
            return
        self.playing = True
        if not self.running:  # a loop still finishing its burst after Pause simply goes on
            self.task = asyncio.ensure_future(self._play_loop())
            self.task.add_done_callback(self._task_done)
        self._say("playing")

    def on_pause(self, button=None) -> None:
        self.playing = False
        self._say(f"paused at step {self._step()}")

    async def _play_loop(self) -> None:
        try:
            while self.playing and not self._paused_reason():
                self.burst()
                await asyncio.sleep(0.001)  # the kernel handles widget messages (Pause) here
        finally:
            self.playing = False
        reason = self._paused_reason()
        if reason:
            self._say(reason, error=True)

    def _task_done(self, task: asyncio.Task) -> None:
        self.playing = False
        if task.cancelled():
            self._say(f"stopped at step {self._step()} (the training task was cancelled)", error=True)
        elif task.exception() is not None:
            err = task.exception()
            self._say(f"stopped at step {self._step()}: {type(err).__name__}: {err}", error=True)


class ModeCollapseLabWidget(_Runner):
    """Top bar, grouped settings, buttons and the live view over one ``ModeCollapseLab``; display the object (or
    ``.widget``)."""

    def __init__(self, config: lab_engine.LabConfig | None = None, burst: int = 25, data=None):
        self.burst_steps = burst
        lab = lab_engine.ModeCollapseLab(config or lab_engine.preset("collapse"), data=data)
        self.panel = LabPanel(lab)
        self.pending: lab_engine.LabConfig | None = None
        self._syncing = False
        self._init_runner(widgets.HTML())
        self.controls = {name: _control(name, value) for name, value in control_values(lab.config).items()}
        for control in self.controls.values():
            control.observe(self.on_setting_change, names="value")
        self.preset = widgets.Dropdown(options=[CUSTOM_PRESET] + list(lab_engine.PRESETS),
                                       value=lab_engine.preset_name(lab.config) or CUSTOM_PRESET,
                                       description="preset", tooltip="a ready recipe; choosing one restarts the lab",
                                       style={"description_width": "45px"}, layout=widgets.Layout(width="190px"))
        self.preset.observe(self.on_preset, names="value")
        self.toggles = {}
        for label, (_, _, tip) in TOGGLES.items():
            toggle = widgets.ToggleButton(description=label, tooltip=tip, layout=widgets.Layout(width="auto"))
            toggle.observe(lambda change, label=label: self.on_toggle(label), names="value")
            self.toggles[label] = toggle
        self.badge = widgets.HTML()
        self.buttons = {}
        tips = {"Play": "train continuously", "Pause": "stop after this burst", "Step": f"{burst} G steps",
                "Slow step": "one D step, then one G step: see what each changes",
                "Reset": "restart from step 0 (applies settings that need a restart)",
                "Save": "save the whole run (weights, history) to the file", "Load": "load a saved run",
                "Export GIF": "write the recorded frames as an animated GIF (and PNG frames)",
                "Draw": "click in the main panel to place modes of your own data", "Use drawn": "train on them",
                "Clear": "forget the drawn points", "Load CSV": "train on x,y (point cloud) or x,y,sigma (mixture)"}
        for name, tip in tips.items():
            button = widgets.Button(description=name, tooltip=tip, layout=widgets.Layout(width="auto"))
            button.on_click(getattr(self, "on_" + name.lower().replace(" ", "_")))
            self.buttons[name] = button
        self.buttons["Draw"] = widgets.ToggleButton(description="Draw", tooltip=tips["Draw"],
                                                    layout=widgets.Layout(width="auto"))
        self.buttons["Draw"].observe(self.on_draw, names="value")
        self.path = widgets.Text(value="mode_collapse_lab.pt", description="file", tooltip="file for Save / Load",
                                 style={"description_width": "30px"}, layout=widgets.Layout(width="260px"))
        self.data_path = widgets.Text(value="my_points.csv", description="data", tooltip="CSV for Load CSV",
                                      style={"description_width": "35px"}, layout=widgets.Layout(width="220px"))
        self.draw_sigma = widgets.FloatText(value=0.05, description="σ", tooltip="σ of each drawn mode",
                                            style={"description_width": "15px"}, layout=widgets.Layout(width="90px"))
        groups = widgets.Accordion(
            [widgets.GridBox([self.controls[n] for n in names],
                             layout=widgets.Layout(grid_template_columns="repeat(3, 260px)"))
             for names in GROUPS.values()], titles=tuple(GROUPS))
        b = self.buttons
        top = widgets.HBox([self.preset] + [self.controls[n] for n in TOP],
                           layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([
            top, widgets.HBox(list(self.toggles.values()), layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([b["Play"], b["Pause"], b["Step"], b["Slow step"], b["Reset"], self.badge],
                         layout=widgets.Layout(flex_flow="row wrap")),
            groups, self.panel.metrics_label, self.status, self.panel.canvas,
            widgets.HBox([b["Draw"], self.draw_sigma, b["Use drawn"], b["Clear"], self.data_path, b["Load CSV"]],
                         layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.path, b["Save"], b["Load"], b["Export GIF"]], layout=widgets.Layout(flex_flow="row wrap")),
        ])
        self.widget.add_class("mode-collapse-lab")
        self._sync_toggles()
        self.redraw()
        self._say(f"ready: {self.preset.value if self.preset.value != CUSTOM_PRESET else 'custom settings'} at step 0")

    # ---- the engine and what the runner needs --------------------------------------------------------------------
    @property
    def lab(self) -> lab_engine.ModeCollapseLab:
        return self.panel.lab

    @property
    def image(self) -> lab_views.LabCanvas:
        return self.panel.canvas

    @property
    def metrics_label(self) -> widgets.HTML:
        return self.panel.metrics_label

    def _paused_reason(self):
        return self.lab.paused_reason

    def _step(self) -> int:
        return self.lab.step_count

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, and a PNG of the current frame for viewers without widgets (GitHub, nbviewer)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["image/png"] = self.panel.png()
        return bundle

    # ---- drawing -------------------------------------------------------------------------------------------------
    def redraw(self, **extra) -> None:
        self.panel.redraw(**extra)
        if self.lab.paused_reason:
            self._say(self.lab.paused_reason, error=True)

    # ---- settings ------------------------------------------------------------------------------------------------
    def _set_controls(self, config: lab_engine.LabConfig) -> None:
        self._syncing = True
        try:
            for name, value in control_values(config).items():
                control = self.controls[name]
                if isinstance(control, widgets.Dropdown) and value not in control.options:
                    control.options = sorted(set(control.options) | {value})
                if isinstance(control, widgets.FloatLogSlider):  # widen the range rather than clip the value
                    control.min = min(control.min, math.floor(math.log10(value)))
                    control.max = max(control.max, math.ceil(math.log10(value)))
                control.value = value
            self._sync_toggles()
        finally:
            self._syncing = False

    def _sync_toggles(self) -> None:
        syncing, self._syncing = self._syncing, True
        try:
            shown = self.pending or self.lab.config
            for label, (name, on, _) in TOGGLES.items():
                self.toggles[label].value = getattr(shown, name) == on
        finally:
            self._syncing = syncing

    def on_toggle(self, label: str) -> None:
        if self._syncing:
            return
        name, on, _ = TOGGLES[label]
        off = getattr(lab_engine.LabConfig(), name)
        self.controls[name].value = on if self.toggles[label].value else off

    def on_setting_change(self, change=None) -> None:
        """Check the controls as one config; apply live fields now, keep the rest pending behind the badge."""
        if self._syncing:
            return
        try:
            wanted = config_from({name: c.value for name, c in self.controls.items()})
        except ValueError as err:
            self._say(f"not applied: {err}", error=True)
            return
        restart = lab_engine.restart_fields(self.lab.config, wanted)
        live = {name: getattr(wanted, name) for name in lab_engine.LIVE_FIELDS}
        try:
            self.lab.configure(self.lab.config.replace(**live))
            applied = True
        except ValueError:  # valid only together with the pending changes (e.g. batch size and pack)
            applied = False
        self.pending = wanted if restart or not applied else None
        self._show_badge(restart)
        self._sync_toggles()
        if lab_engine.preset_name(wanted) != self.preset.value:
            self._syncing = True
            self.preset.value = lab_engine.preset_name(wanted) or CUSTOM_PRESET
            self._syncing = False
        self._say("applied live: acts on the next step" if applied else "waits for Reset")
        if not self.running:
            self.redraw()

    def _show_badge(self, restart: dict) -> None:
        if not restart and self.pending is None:
            self.badge.value = ""
            return
        reasons = "; ".join(f"{name} changed ({why})" for name, why in restart.items()) or "settings changed"
        self.badge.value = (f"<span class='lab-badge' style='background:#fff3cd;border:1px solid #d39e00;"
                            f"padding:2px 6px;border-radius:4px'>⟳ needs a restart: {html.escape(reasons)}; press Reset to apply"
                            "</span>")

    def on_preset(self, change=None) -> None:
        if self._syncing or self.preset.value == CUSTOM_PRESET:
            return
        self.load_config(lab_engine.PRESETS[self.preset.value])

    def load_config(self, config: lab_engine.LabConfig) -> None:
        """Show ``config`` in the controls and restart the lab with it."""
        self._set_controls(config)
        self.pending = config
        self.on_reset()

    # ---- running -------------------------------------------------------------------------------------------------
    def burst(self) -> None:
        """Train for ``burst_seconds`` (in chunks of a few steps), then redraw: what Play repeats."""
        start = time.perf_counter()
        while time.perf_counter() - start < self.burst_seconds and not self.lab.paused_reason:
            self.lab.step(5)
        self.redraw()

    def train_burst(self) -> None:
        """``burst`` G steps, then a redraw (the Step button)."""
        self.lab.step(self.burst_steps)
        self.redraw()

    def on_step(self, button=None) -> None:
        if self.lab.paused_reason:
            self._say(f"cannot step: {self.lab.paused_reason}", error=True)
            return
        self.train_burst()

    def on_slow_step(self, button=None) -> None:
        """Slow motion: D's half of a step (the view shows how D's surface changed), then G's (the points move)."""
        lab = self.lab
        if lab.pending_d is None:
            _, _, before = lab.discriminator_grid(resolution=lab_views.HEAT)
            before = lab_views.probability(lab, before)[0]
            half = lab.half_step()
            if half != "d":
                return self.redraw()
            _, _, after = lab.discriminator_grid(resolution=lab_views.HEAT)
            delta = (lab_views.probability(lab, after)[0] - before).numpy()
            self.buttons["Slow step"].description = "Slow step: G"
            self.redraw(phase="d", delta=delta, delta_scale=lab_views.nice_scale(delta))
            self._say(f"D step done: the surface changed by up to {abs(delta).max():.3f} in D(x); next: G step")
        else:
            lab.half_step()
            self.buttons["Slow step"].description = "Slow step"
            self.redraw(phase="g")
            self._say(f"G step done (step {lab.step_count}): the points moved along the red arrows; trails show "
                      "where they came from")

    def on_reset(self, button=None) -> None:
        self.playing = False
        try:
            if self.pending is not None:
                self.lab.configure(self.pending)
            self.lab.reset()
        except ValueError as err:
            self._say(f"not applied: {err}", error=True)
            return
        self.pending = None
        self._show_badge({})
        self._sync_toggles()
        self.buttons["Slow step"].description = "Slow step"
        self.panel.recorded.clear()
        self.redraw()
        self._say("reset to step 0")

    def on_save(self, button=None) -> None:
        try:
            path = self.lab.save(self.path.value)
        except (OSError, ValueError, RuntimeError) as err:
            self._say(f"could not save: {err}", error=True)
            return
        self._say(f"saved the run (weights, optimizers, history) to {path}")

    def on_load(self, button=None) -> None:
        self.playing = False
        try:
            loaded = lab_engine.ModeCollapseLab.load(self.path.value)
        except (OSError, ValueError) as err:
            self._say(f"could not load: {err}", error=True)
            return
        self.use_lab(loaded)
        self._say(f"loaded {self.path.value} at step {loaded.step_count}")

    def use_lab(self, lab: lab_engine.ModeCollapseLab) -> None:
        """Show and drive ``lab`` (a loaded run, or one on your own data)."""
        self.playing = False
        self.panel.lab = lab
        self.pending = None
        self._show_badge({})
        self._set_controls(lab.config)
        self._syncing = True
        self.preset.value = lab_engine.preset_name(lab.config) or CUSTOM_PRESET
        self._syncing = False
        self.panel.recorded.clear()
        self.redraw()

    # ---- your own data -------------------------------------------------------------------------------------------
    def use_data(self, data) -> None:
        """Restart on your own data: an (N, 2) cloud, a mixture spec ``{"centres", "sigma"}`` or a CSV path."""
        self.use_lab(lab_engine.ModeCollapseLab(self.lab.config, data=data))
        self._say(f"training on your data: {self.lab.distribution.description}")

    def on_draw(self, change=None) -> None:
        self.panel.canvas.draw_mode = self.buttons["Draw"].value
        self._say("draw mode: click in the main panel to place modes" if self.buttons["Draw"].value else "")

    def on_use_drawn(self, button=None) -> None:
        points = self.panel.canvas.drawn
        if not points:
            self._say("draw some points first (Draw, then click in the main panel)", error=True)
            return
        try:
            self.use_data({"centres": points, "sigma": self.draw_sigma.value})
        except ValueError as err:
            self._say(f"not applied: {err}", error=True)
            return
        self.buttons["Draw"].value = False
        self.panel.canvas.drawn = []

    def on_clear(self, button=None) -> None:
        self.panel.canvas.drawn = []

    def on_load_csv(self, button=None) -> None:
        try:
            self.use_data(Path(self.data_path.value))
        except (OSError, ValueError) as err:
            self._say(f"could not load data: {err}", error=True)

    # ---- export --------------------------------------------------------------------------------------------------
    def export(self, path: str | Path, png_frames: bool = True, **kwargs) -> Path:
        """The recorded frames (one per redraw, the last ``FRAMES_KEPT``) as a GIF (+ PNG frames)."""
        return lab_views.export(list(self.panel.recorded), path, png_frames=png_frames, **kwargs)

    def on_export_gif(self, button=None) -> None:
        path = Path(self.path.value).with_suffix(".gif")
        try:
            written = self.export(path)
        except (OSError, ValueError) as err:
            self._say(f"could not export: {err}", error=True)
            return
        self._say(f"wrote {written} and its PNG frames ({len(self.panel.recorded)} frames)")


class CompareWidget(_Runner):
    """Two labs side by side on the same seed and data, stepping in lockstep, each with its metrics."""

    def __init__(self, left: lab_engine.LabConfig, right: lab_engine.LabConfig, burst: int = 25, data=None):
        if right.seed != left.seed:
            right = right.replace(seed=left.seed)
        if right.target != left.target:
            right = right.replace(target=left.target)
        self.burst_steps = burst
        self.panels = [LabPanel(lab_engine.ModeCollapseLab(c, data=data)) for c in (left, right)]
        self._init_runner(widgets.HTML())
        self.buttons = {}
        for name in ("Play", "Pause", "Step", "Reset"):
            button = widgets.Button(description=name, layout=widgets.Layout(width="auto"))
            button.on_click(getattr(self, "on_" + name.lower()))
            self.buttons[name] = button
        columns = []
        for panel, config in zip(self.panels, (left, right)):
            name = lab_engine.preset_name(config) or "custom"
            others = {k: v for k, v in config.to_dict().items() if v != (left if config is right else right
                                                                          ).to_dict()[k]}
            title = widgets.HTML(f"<b>{html.escape(name)}</b> · differs in {html.escape(str(others))}")
            columns.append(widgets.VBox([title, panel.metrics_label, panel.canvas],
                                        layout=widgets.Layout(width="50%")))
        self.widget = widgets.VBox([widgets.HBox(list(self.buttons.values())), self.status, widgets.HBox(columns)])
        self.widget.add_class("mode-collapse-compare")
        self.redraw()
        self._say("ready: both labs at step 0, same seed and data")

    def _paused_reason(self):
        reasons = [p.lab.paused_reason for p in self.panels if p.lab.paused_reason]
        return reasons[0] if reasons else None

    def _step(self) -> int:
        return self.panels[0].lab.step_count

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["image/png"] = lab_views.stack_png([panel.png() for panel in self.panels])
        return bundle

    def redraw(self) -> None:
        for panel in self.panels:
            panel.redraw()

    def burst(self) -> None:
        """The same number of steps for both labs (lockstep), then a redraw of both."""
        start = time.perf_counter()
        while time.perf_counter() - start < self.burst_seconds and not self._paused_reason():
            for panel in self.panels:
                panel.lab.step(5)
        self.redraw()

    def on_step(self, button=None) -> None:
        for panel in self.panels:
            panel.lab.step(self.burst_steps)
        self.redraw()

    def on_reset(self, button=None) -> None:
        self.playing = False
        for panel in self.panels:
            panel.lab.reset()
        self.redraw()
        self._say("reset to step 0")


def mode_collapse_lab(preset: str = "collapse", data=None, **changes) -> ModeCollapseLabWidget:
    """The lab started from a named preset (``**changes`` override fields; ``data`` for your own); display it."""
    return ModeCollapseLabWidget(lab_engine.preset(preset, **changes), data=data)


def compare(left: str = "collapse", right: str = "cure", data=None, **changes) -> CompareWidget:
    """Two presets side by side on the same seed and data (``**changes`` apply to both); display the result."""
    return CompareWidget(lab_engine.preset(left, **changes), lab_engine.preset(right, **changes), data=data)
