"""The Mode Collapse Lab engine (lesson 10): a toy 2-D GAN you step, measure, probe, save and reset.

``ModeCollapseLab(config, data=None)`` trains in bursts (``step(n)``) through ``gan.discriminator_step`` /
``generator_step`` and records the PacGAN mode metrics every ``eval_every`` steps; ``save``/``load`` restore a run
exactly. Tricks beyond ``gan.Tricks``: annealed instance noise, a look-ahead or fully unrolled D (Metz et al., 2017),
an EMA generator (Yazıcı et al., 2019), annealed Fourier features for D, a mixture prior, and an energy-distance term
in G's loss (Li et al., 2017; Bellemare et al., 2017), alone with ``gan_weight=0`` (GMMN: Li, Swersky & Zemel, 2015).
The data is divided by ``data_scale``; ``samples()`` and every probe answer in data units.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor
from torch.func import functional_call

from gan_course.core import checkpoints, runtime
from gan_course.training import gan, losses
from gan_course.evaluation import divergences, mode_metrics
from gan_course.data import toy2d
from gan_course.models import toy_gan

TARGETS = tuple(toy2d.TOY_DISTRIBUTIONS) + (toy2d.CUSTOM,)  # custom: the data passed to ModeCollapseLab
OPTIMIZERS = gan.OPTIMIZERS  # adam (fused where the device has it: ~20 % faster in the lab), rmsprop, sgd
SAVE_FORMAT = 2  # 2: weights, optimizer state, random stream, full history and timeline (1 held only the config)
MAX_WIDTH, MAX_DEPTH = 4096, 8  # larger MLPs do not fit a laptop's memory or a live lab's time
COLLAPSE_WARMUP = 250  # G steps before a drop in mode count can count as the moment of collapse
# Fields the running lab can take on the fly (read at every step); any other change rebuilds the networks.
LIVE_FIELDS = frozenset({"loss", "g_lr", "d_lr", "d_steps", "batch_size", "label_smoothing", "label_flip",
                         "instance_noise", "noise_anneal_steps", "gp_weight", "unrolled_steps", "decay_start",
                         "decay_steps", "decay_floor", "eval_every", "fourier_anneal_steps", "energy_weight",
                         "gan_weight", "unrolled_mode"})
UNROLLED_MODES = ("lookahead", "full")  # first-order look-ahead D, or the full unrolled gradient (Metz et al., 2017)
# Why a field needs a restart (the widget's badge says it).
RESTART_REASONS = {
    "target": "new data", "seed": "a new random stream and new initial weights",
    "g_optimizer": "G's optimizer is rebuilt", "d_optimizer": "D's optimizer is rebuilt",
    "betas": "the optimizers are rebuilt",
    "g_width": "G is rebuilt", "g_depth": "G is rebuilt", "latent_dim": "G's input size changes",
    "latent_components": "G's input size changes", "d_width": "D is rebuilt", "d_depth": "D is rebuilt",
    "pack": "D's input size changes", "minibatch_std": "D's layers change", "spectral_norm": "D's layers change",
    "fourier_features": "D's input features change", "fourier_scale": "D's input features change",
    "ema": "the weight average starts over",
}


@dataclass(frozen=True)
class LabConfig(gan.GANConfig):
    """One lab run's settings: ``gan.GANConfig``'s fields (lab defaults below) and the lab's own; fp32, no warm-up."""
    g_lr: float = 1e-3
    d_lr: float | None = 1e-3
    target: str = "ring-8"
    g_width: int = 128
    g_depth: int = 2
    d_width: int = 128
    d_depth: int = 2
    latent_dim: int = 2
    latent_components: int = 0  # K > 0: a one-hot code of K components in front of the Gaussian noise
    noise_anneal_steps: int = 0  # 0: constant instance noise; else linear decay to 0 over this many G steps
    pack: int = 1  # PacGAN: D judges `pack` samples jointly
    minibatch_std: bool = False
    spectral_norm: bool = False
    fourier_features: int = 0  # F > 0: D also sees sin/cos of each point at F random frequencies (toy_gan)
    fourier_scale: float = 40.0  # highest frequency scale, radians per unit of the scaled data
    fourier_anneal_steps: int = 0  # 0: all frequencies from the start; else opened coarse-to-fine over these steps
    energy_weight: float = 0.0  # λ of the energy distance between G's batch and a real batch, added to G's loss
    gan_weight: float = 1.0  # weight of the adversarial part of G's loss; 0 = energy only (D not trained or consulted)
    unrolled_steps: int = 0  # D steps G looks ahead for its update (0 = off)
    unrolled_mode: str = "lookahead"  # "lookahead": first-order (D's updates treated as fixed); "full": Metz et al.
    eval_every: int = 250  # G steps between recorded mode metrics

    unused: ClassVar[tuple[str, ...]] = ("steps", "warmup_steps", "precision")

    def __post_init__(self):
        super().__post_init__()
        runtime.lookup(TARGETS, self.target, "target")
        runtime.lookup(UNROLLED_MODES, self.unrolled_mode, "unrolled_mode")
        runtime.check_positive(g_width=self.g_width, g_depth=self.g_depth, d_width=self.d_width,
                               d_depth=self.d_depth, latent_dim=self.latent_dim, pack=self.pack,
                               eval_every=self.eval_every)
        for name, most in (("g_width", MAX_WIDTH), ("d_width", MAX_WIDTH), ("g_depth", MAX_DEPTH),
                           ("d_depth", MAX_DEPTH)):
            if getattr(self, name) > most:
                raise ValueError(f"{name} must be at most {most}, got {getattr(self, name)!r}")
        runtime.check_number("energy_weight", self.energy_weight)  # 0 = off
        runtime.check_number("gan_weight", self.gan_weight)
        if self.gan_weight == 0 and self.energy_weight == 0:
            raise ValueError("gan_weight=0 (energy only) needs energy_weight > 0: otherwise G has no loss at all")
        for name in ("latent_components", "fourier_features", "fourier_anneal_steps", "noise_anneal_steps",
                     "unrolled_steps"):
            runtime.check_int(name, getattr(self, name), minimum=0)
        if self.latent_components == 1:
            raise ValueError("latent_components must be 0 (plain Gaussian noise) or >= 2, got 1")
        runtime.check_number("fourier_scale", self.fourier_scale, minimum=1)
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size {self.batch_size} must be a multiple of pack={self.pack}")
        if self.label_smoothing and not losses.GAN_LOSSES[self.loss].soft_labels:
            allowed = [name for name, family in losses.GAN_LOSSES.items() if family.soft_labels]
            raise ValueError(f"label smoothing needs one of the losses {allowed}, not {self.loss!r}")


# "collapse" and "cure" differ in one setting: the loss (LSGAN). The rest are the benchmark's recipes
# (``gan_course.evaluation.mode_coverage``).
PRESETS: dict[str, LabConfig] = {
    "collapse": LabConfig(g_lr=2e-4, d_lr=2e-4),
    "cure": LabConfig(g_lr=2e-4, d_lr=2e-4, loss="lsgan"),
    "pacgan-ema": LabConfig(pack=4, batch_size=512, g_depth=3, ema=0.999, decay_start=3000, decay_steps=5000,
                            decay_floor=0.0, eval_every=500),
    # pacgan-ema + an annealed Fourier-feature D + an energy-distance term in G's loss (not a pure GAN)
    "hybrid": LabConfig(pack=4, batch_size=512, g_depth=3, ema=0.999, fourier_features=32, fourier_scale=40.0,
                        fourier_anneal_steps=20000, energy_weight=100.0, decay_start=10000, decay_steps=10000,
                        decay_floor=0.0, eval_every=500),
    # the best pure GAN found: the hybrid without its energy term, with LSGAN and minibatch std in D
    "adversarial-best": LabConfig(pack=4, batch_size=512, g_depth=3, ema=0.999, fourier_features=32,
                                  fourier_scale=40.0, fourier_anneal_steps=20000, loss="lsgan", minibatch_std=True,
                                  decay_start=10000, decay_steps=10000, decay_floor=0.0, eval_every=500),
}


PRESET_ALIASES = {"course-best": "hybrid"}  # old name -> preset (not listed in PRESETS, so the widget shows one name)


def preset(name: str, **changes) -> LabConfig:
    """A named recipe, optionally with some fields changed (``preset("cure", seed=3)``)."""
    return runtime.lookup(PRESETS, PRESET_ALIASES.get(name, name), "preset").replace(**changes)


def preset_name(config: LabConfig) -> str | None:
    """The preset ``config`` equals, or None."""
    return next((name for name, recipe in PRESETS.items() if recipe == config), None)


def restart_fields(old: LabConfig, new: LabConfig) -> dict[str, str]:
    """Fields changed from ``old`` to ``new`` that need a restart, each with why (``RESTART_REASONS``)."""
    a, b = old.to_dict(), new.to_dict()
    return {name: RESTART_REASONS.get(name, "the run is rebuilt") for name in a
            if a[name] != b[name] and name not in LIVE_FIELDS}


def unrolled_parameters(generator: torch.nn.Module, discriminator: torch.nn.Module,
                        d_optimizer: torch.optim.Optimizer, batches, loss: str = "non-saturating",
                        tricks: gan.Tricks | None = None, rng: torch.Generator | None = None,
                        second_order: bool = True) -> dict[str, Tensor]:
    """D's parameters after one differentiable D update per ``(real, z)`` pair in ``batches`` (Metz et al., 2017).

    Each update is ``gan.discriminator_step``'s loss, then ``d_optimizer``'s rule written out for autograd; the
    result depends on G's parameters (the second-order term). ``second_order=False``: the first-order look-ahead.
    """
    family, tricks = losses.get_loss(loss), tricks or gan.Tricks()
    if tricks.label_smoothing and not family.soft_labels:
        raise ValueError(f"label smoothing needs a loss with soft labels, not {loss!r}")
    named = dict(discriminator.named_parameters())
    params = {name: value.detach().requires_grad_(True) for name, value in named.items()}
    group = d_optimizer.param_groups[0]
    if len(d_optimizer.param_groups) != 1:
        raise ValueError("the unrolled update supports an optimizer with one parameter group")
    state = {}
    for name, value in named.items():  # the optimizer's running averages, as constants at the start
        saved = d_optimizer.state.get(value, {})
        state[name] = {key: (item.detach().clone() if torch.is_tensor(item) else item) for key, item in saved.items()}
    for real, z in batches:
        if second_order:
            fake = generator(z)  # (B, 2), with G's graph
        else:
            with torch.no_grad():
                fake = generator(z)
        d_loss = _functional_d_loss(discriminator, params, real, fake, family, tricks, rng)
        grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=second_order, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params.values(), grads)]
        params = _differentiable_update(d_optimizer, group, params, grads, state)
        if family.weight_clip is not None:
            params = {name: value.clamp(-family.weight_clip, family.weight_clip) for name, value in params.items()}
        if not second_order:
            params = {name: value.detach().requires_grad_(True) for name, value in params.items()}
    return params


def _functional_d_loss(discriminator, params, real, fake, family, tricks, rng) -> Tensor:
    """``gan.discriminator_step``'s loss with D's parameters ``params``; ``fake`` keeps its graph."""
    def critic(x):
        return functional_call(discriminator, params, (x,))

    d_loss = gan._flipped_d_loss(lambda x: gan._judge(critic, x, None, tricks, rng).float(), real, fake, family,
                                 tricks, rng)[0]
    if family.gradient_penalty:  # as losses.gradient_penalty, but the interpolates keep the fakes' graph
        eps = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), generator=rng).to(real.device, real.dtype)
        mixed = eps * real + (1 - eps) * fake
        if not mixed.requires_grad:
            mixed.requires_grad_(True)
        (slopes,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        d_loss = d_loss + tricks.gp_weight * ((slopes.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()
    return d_loss


def _differentiable_update(optimizer, group, params: dict, grads: list, state: dict) -> dict:
    """One step of ``optimizer``'s rule as differentiable tensor maths; ``state`` (per name) advances in place."""
    lr = group["lr"]
    if group.get("weight_decay", 0) or group.get("maximize", False) or group.get("momentum", 0) \
            or group.get("amsgrad", False) or group.get("centered", False) or group.get("nesterov", False):
        raise ValueError("the unrolled update supports Adam, RMSprop and SGD with their default options only")
    updated = {}
    for (name, value), grad in zip(params.items(), grads):
        slot = state[name]
        if isinstance(optimizer, torch.optim.Adam):
            beta1, beta2 = group["betas"]
            step = float(slot.get("step", 0)) + 1
            exp_avg = torch.lerp(slot.get("exp_avg", torch.zeros_like(value)), grad, 1 - beta1)
            exp_avg_sq = slot.get("exp_avg_sq", torch.zeros_like(value)) * beta2 + (1 - beta2) * grad * grad
            slot.update(step=step, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
            # sqrt has an infinite slope at 0 (a weight that never got a gradient): clamp keeps it finite
            denom = exp_avg_sq.clamp_min(1e-30).sqrt() / (1 - beta2 ** step) ** 0.5 + group["eps"]
            updated[name] = value - (lr / (1 - beta1 ** step)) * exp_avg / denom
        elif isinstance(optimizer, torch.optim.RMSprop):
            alpha = group["alpha"]
            square_avg = slot.get("square_avg", torch.zeros_like(value)) * alpha + (1 - alpha) * grad * grad
            slot["square_avg"] = square_avg
            updated[name] = value - lr * grad / (square_avg.clamp_min(1e-30).sqrt() + group["eps"])
        elif isinstance(optimizer, torch.optim.SGD):
            updated[name] = value - lr * grad
        else:
            raise ValueError(f"no differentiable update for {type(optimizer).__name__}; use Adam, RMSprop or SGD")
    return updated


class ModeCollapseLab:
    """A live toy GAN: ``step(n)``, ``metrics()``, ``history``, ``collapse_step``, probes, ``save``/``load``."""

    def __init__(self, config: LabConfig | None = None, data=None):
        config = config or LabConfig()
        if data is not None and config.target != toy2d.CUSTOM:
            config = config.replace(target=toy2d.CUSTOM)
        self.custom_data = None if data is None else toy2d.as_distribution(data)
        self.config = config
        self._adopt(self._build(config))

    # ---- construction -------------------------------------------------------------------------------------
    def _distribution(self, config: LabConfig) -> toy2d.ToyDistribution:
        return self.custom_data if config.target == toy2d.CUSTOM else toy2d.get(config.target)

    def _build(self, c: LabConfig) -> dict:
        """Fresh data, networks, optimizers and random stream for ``c``; nothing of ``self`` changes here."""
        if c.target == toy2d.CUSTOM and self.custom_data is None:
            raise ValueError("target 'custom' needs data=: an (N, 2) point cloud, a mixture spec or a CSV file")
        distribution = self._distribution(c)
        if distribution.modes is not None:
            data_scale = float(distribution.modes.abs().max()) or 1.0
        else:  # a cloud: its largest coordinate among a fixed sample
            data_scale = float(distribution.sample(4096, torch.Generator().manual_seed(0)).abs().max()) or 1.0
        try:
            with torch.random.fork_rng(devices=[]):  # the global random state stays untouched
                torch.manual_seed(c.seed)
                generator = toy_gan.MLPGenerator(c.latent_dim, 2, c.g_width, c.g_depth,
                                                 components=c.latent_components)
                discriminator = toy_gan.MLPDiscriminator(2, c.d_width, c.d_depth, c.spectral_norm, c.pack,
                                                         c.minibatch_std, fourier_features=c.fourier_features,
                                                         fourier_scale=c.fourier_scale)
        except (RuntimeError, MemoryError) as err:  # e.g. not enough memory for the weights
            raise ValueError(f"could not build the networks for this config ({type(err).__name__}: {err})") from err
        g_optimizer, d_optimizer = c.optimizers(generator, discriminator)
        return {"distribution": distribution, "data_scale": data_scale, "generator": generator,
                "discriminator": discriminator,
                "ema_generator": copy.deepcopy(generator).requires_grad_(False) if c.ema > 0 else None,
                "g_optimizer": g_optimizer, "d_optimizer": d_optimizer,
                "rng": torch.Generator().manual_seed(c.seed)}

    def _adopt(self, parts: dict) -> None:
        for name, value in parts.items():
            setattr(self, name, value)
        self.step_count = 0
        self.seconds = 0.0
        self.paused_reason: str | None = None
        self.pending_d: dict | None = None  # slow motion: D's half of the current step is done, G's is not
        self.history: dict = {"losses": {"step": [], "d_loss": [], "g_loss": []}, "metrics": [],
                              "timeline": [{"step": 0, "changes": self.config.to_dict()}]}

    def reset(self) -> None:
        """Fresh networks, optimizers, random stream and history from the config's seed."""
        self._adopt(self._build(self.config))

    def configure(self, config: LabConfig) -> bool:
        """Adopt ``config``: only ``LIVE_FIELDS`` changed → training goes on (the change is added to the timeline);
        else the run is rebuilt first and adopted only if that worked. Returns True when it restarted."""
        if not isinstance(config, LabConfig):
            raise TypeError(f"configure needs a LabConfig, got {type(config).__name__}")
        old, new = self.config.to_dict(), config.to_dict()
        changed = {name: new[name] for name in new if new[name] != old[name]}
        if set(changed) - LIVE_FIELDS:
            parts = self._build(config)  # raises before anything changes
            self.config = config
            self._adopt(parts)
            return True
        self.config = config
        if changed:
            self.history["timeline"].append({"step": self.step_count, "changes": changed})
        return False

    # ---- training -----------------------------------------------------------------------------------------
    def _tricks(self) -> gan.Tricks:
        c, tricks = self.config, self.config.tricks
        if c.noise_anneal_steps:
            tricks.instance_noise *= max(0.0, 1.0 - self.step_count / c.noise_anneal_steps)
        return tricks

    def _real_batch(self) -> Tensor:
        return self.distribution.sample(self.config.batch_size, self.rng) / self.data_scale  # (B, 2)

    def _d_phase(self, tricks) -> dict:
        """D's half of a G step: the learning rates for this step, then ``d_steps`` D updates."""
        c, step = self.config, self.step_count
        c.set_learning_rates(self.g_optimizer, self.d_optimizer, step)
        D = self.discriminator
        if c.gan_weight == 0:  # energy only: D is neither trained nor consulted
            return {"d_loss": math.nan}
        if D.fourier is not None:
            D.fourier.set_progress(min(1.0, step / c.fourier_anneal_steps) if c.fourier_anneal_steps else 1.0)
        return gan.discriminator_steps(self.generator, D, self.d_optimizer, self._real_batch, c.d_steps, c.loss,
                                       tricks, rng=self.rng, step=step)

    def _g_phase(self, tricks) -> dict:
        """G's half: one G update (energy only, against the full unrolled D, or against D or its look-ahead), then
        the weight average."""
        c, G, D, step = self.config, self.generator, self.discriminator, self.step_count
        if c.gan_weight == 0:
            g_stats = self._energy_only_step()
        elif c.unrolled_steps and c.unrolled_mode == "full":
            g_stats = self._full_unrolled_step(tricks)
        else:
            lookahead = c.unrolled_steps > 0
            if lookahead:  # first-order: real D steps, the G step against the result, D restored
                saved_d = {k: v.clone() for k, v in D.state_dict().items()}
                saved_optimizer = copy.deepcopy(self.d_optimizer.state_dict())
                gan.discriminator_steps(G, D, self.d_optimizer, self._real_batch, c.unrolled_steps, c.loss,
                                        tricks, rng=self.rng, step=step)
            g_stats = gan.generator_step(G, D, self.g_optimizer, c.batch_size, c.loss, tricks, rng=self.rng,
                                         step=step, penalty=self._energy_term(), adversarial_weight=c.gan_weight)
            if lookahead:
                D.load_state_dict(saved_d)
                self.d_optimizer.load_state_dict(saved_optimizer)
        if self.ema_generator is not None:
            gan.update_average(self.ema_generator, G, c.ema)
        return g_stats

    def _energy_only_step(self) -> dict:
        """One G update on ``energy_weight`` × energy distance alone (``gan_weight=0``); ``g_loss`` is that term."""
        G, optimizer = self.generator, self.g_optimizer
        fake = G(gan.sample_latent(G, self.config.batch_size, self.rng))  # (B, 2), with G's graph
        energy = self._energy_term()(fake)
        stats = gan.check_finite({"g_loss": energy.item(), "g_penalty": energy.item()}, self.step_count)
        gan.descend(optimizer, energy)
        return stats

    def _full_unrolled_step(self, tricks) -> dict:
        """One G update against D unrolled ``unrolled_steps`` differentiable steps (``unrolled_parameters``)."""
        c, G, D = self.config, self.generator, self.discriminator
        saved_buffers = {name: value.clone() for name, value in D.named_buffers()}  # spectral norm's u, v
        batches = ((self._real_batch(), gan.sample_latent(G, c.batch_size, self.rng))
                   for _ in range(c.unrolled_steps))  # drawn lazily: real, noise, then the step's own draws
        params = unrolled_parameters(G, D, self.d_optimizer, batches, c.loss, tricks, rng=self.rng)
        fake = G(gan.sample_latent(G, c.batch_size, self.rng))  # (B, 2)
        logits = gan._judge(lambda x: functional_call(D, params, (x,)), fake, None, tricks, self.rng)
        g_loss = losses.get_loss(c.loss).generator_loss(None, logits.float())
        total, stats = gan._generator_objective(g_loss, fake, self._energy_term(), c.gan_weight, self.step_count)
        gan.descend(self.g_optimizer, total, inputs=list(G.parameters()))
        with torch.no_grad():
            for name, value in D.named_buffers():
                value.copy_(saved_buffers[name])
        return stats

    def _energy_term(self):
        """The G-loss term λ·energy_distance(fake, fresh real batch), or None when ``energy_weight`` is 0."""
        weight = self.config.energy_weight
        if not weight:
            return None
        return lambda fake: weight * divergences.energy_distance(fake, self._real_batch())

    def _pause(self, err: Exception) -> None:
        self.paused_reason = (f"paused at step {self.step_count}: {err} The weights may be broken now: press Reset "
                              "(a lower learning rate cannot resume this run).")

    def half_step(self) -> str:
        """Slow motion: D's half of the next step ("d"), or G's ("g"); twice is ``step(1)`` ("" when paused)."""
        if self.paused_reason:
            return ""
        tricks = self._tricks()
        try:
            if self.pending_d is None:
                self.pending_d = self._d_phase(tricks)
                return "d"
            g_stats = self._g_phase(tricks)
        except gan.NaNLossError as err:
            self._pause(err)
            return ""
        self._finish_step({**self.pending_d, **g_stats})
        return "g"

    def _finish_step(self, stats: dict) -> None:
        self.pending_d = None
        self.step_count += 1
        losses_history = self.history["losses"]
        losses_history["step"].append(self.step_count)
        losses_history["d_loss"].append(stats["d_loss"])
        losses_history["g_loss"].append(stats["g_loss"])
        if self.step_count % self.config.eval_every == 0:
            self.record_metrics()

    def step(self, n: int = 1) -> dict:
        """Run ``n`` G updates; return the last step's stats. A NaN/inf loss pauses the run (``paused_reason``)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"number of steps must be a non-negative int, got {n!r}")
        start, last = time.perf_counter(), {}

        def one_step(i: int) -> dict:
            if self.paused_reason:
                raise StopIteration
            tricks = self._tricks()
            try:
                d_stats = self.pending_d if self.pending_d is not None else self._d_phase(tricks)
                stats = {**d_stats, **self._g_phase(tricks)}
            except gan.NaNLossError as err:
                self._pause(err)
                raise StopIteration from err
            self._finish_step(stats)
            last.clear()
            last.update(stats)
            return stats

        gan.fit(one_step, n)
        self.seconds += time.perf_counter() - start
        return {**last, "step": self.step_count, "paused_reason": self.paused_reason}

    # ---- measuring and probing ----------------------------------------------------------------------------
    @property
    def sampler(self):
        """The generator that samples are drawn from: the weight average when ``ema > 0``."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    @property
    def has_modes(self) -> bool:
        return self.distribution.modes is not None

    def samples(self, n: int = mode_metrics.SAMPLE_COUNT, seed: int | None = None) -> Tensor:
        """``n`` generated points in data units, shape (n, 2); ``seed`` fixes the noise (default: from the step)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        seed = self.config.seed * 1_000_003 + self.step_count if seed is None else seed
        z = self.generator.sample_latent(n, torch.Generator().manual_seed(seed))  # (n, K + Z)
        with torch.no_grad():
            return self.sampler(z) * self.data_scale  # (n, Z) -> (n, 2)

    def mode_report(self, n: int = mode_metrics.SAMPLE_COUNT) -> tuple[dict, Tensor | None]:
        """``metrics()`` and the per-mode counts of high-quality samples (K,) from the same ``n`` samples (``None``
        for data without modes)."""
        points = self.samples(n)
        if not torch.isfinite(points).all():
            self.paused_reason = self.paused_reason or (
                f"paused at step {self.step_count}: the generator outputs NaN/inf; press Reset and lower the "
                "learning rates")
            empty = None if not self.has_modes else torch.zeros(len(self.distribution.modes), dtype=torch.long)
            return {"modes": 0 if self.has_modes else None, "high_quality": 0.0 if self.has_modes else None,
                    "reverse_kl": math.inf if self.has_modes else None}, empty
        if not self.has_modes:
            return {"modes": None, "high_quality": None, "reverse_kl": None}, None
        return mode_metrics.mode_report(points, self.distribution)

    def metrics(self, n: int = mode_metrics.SAMPLE_COUNT) -> dict:
        """Mode metrics of ``n`` fresh samples: modes captured, % high quality, reverse KL (``mode_metrics.py``)."""
        return self.mode_report(n)[0]

    def record_metrics(self, row: dict | None = None) -> dict:
        """Append ``{"step", "modes", "high_quality", "reverse_kl"}`` (measured now, or ``row``) to the history."""
        history = self.history["metrics"]
        if history and history[-1]["step"] == self.step_count:
            return history[-1]
        row = {"step": self.step_count, **(row if row is not None else self.metrics())}
        history.append(row)
        return row

    @property
    def collapse_step(self) -> int | None:
        """The first recorded step, after a warm-up of ``COLLAPSE_WARMUP`` G steps, where the mode count fell to
        half its running best or less (best ≥ 2); ``None`` while that has not happened or the data has no modes."""
        best = 0
        for row in self.history["metrics"]:
            if row["modes"] is None:
                continue
            if row["step"] >= COLLAPSE_WARMUP and best >= 2 and row["modes"] <= best / 2:
                return row["step"]
            best = max(best, row["modes"])
        return None

    def discriminator_grid(self, extent: float | None = None, resolution: int = 64) -> tuple:
        """D's raw output on a ``resolution``² grid over [−extent, extent]²: ``(xs, ys, values)``, values[i, j] at
        (xs[j], ys[i])."""
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
            raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
        extent = extent or 1.5 * self.data_scale
        axis = torch.linspace(-extent, extent, resolution)
        grid = torch.cartesian_prod(axis, axis).flip(1) / self.data_scale  # (R*R, 2), x varies fastest
        return axis, axis, self.judge(grid, scaled=True).reshape(resolution, resolution)

    def judge(self, points: Tensor, scaled: bool = False) -> Tensor:
        """D's raw output at each point (N, 2) -> (N,), each judged as a pack of ``pack`` identical copies."""
        points = points if scaled else points / self.data_scale
        packed = points.repeat_interleave(self.config.pack, dim=0)  # (N, 2) -> (N*pack, 2)
        with torch.no_grad():
            return self.discriminator(packed)  # (N*pack, 2) -> (N,)

    def generator_gradients(self, n: int = 128, seed: int = 12345) -> tuple[Tensor, Tensor]:
        """Generated points (n, 2) and ∂(G loss)/∂x at each of them (n, 2), both in data units."""
        if not isinstance(n, int) or n < self.config.pack or n % self.config.pack:
            raise ValueError(f"n must be a positive multiple of pack={self.config.pack}, got {n!r}")
        z = self.generator.sample_latent(n, torch.Generator().manual_seed(seed))  # (n, K + Z)
        with torch.no_grad():
            points = self.generator(z)  # (n, Z) -> (n, 2), scaled units
        points.requires_grad_(True)
        family = losses.get_loss(self.config.loss)
        g_loss = family.generator_loss(None, self.discriminator(points)) * (n // self.config.pack)
        (gradient,) = torch.autograd.grad(g_loss, points)  # per-point gradient, independent of n
        return points.detach() * self.data_scale, gradient / self.data_scale

    # ---- saving --------------------------------------------------------------------------------------------
    def state(self) -> dict:
        """What ``save`` writes: config, data (for custom), weights, optimizer state, random stream, history."""
        return {"format": SAVE_FORMAT, "config": self.config.to_dict(), "step": self.step_count,
                "seconds": self.seconds, "paused_reason": self.paused_reason, "pending_d": self.pending_d,
                "data": None if self.custom_data is None else toy2d.spec(self.custom_data),
                "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "ema_generator": None if self.ema_generator is None else self.ema_generator.state_dict(),
                "g_optimizer": self.g_optimizer.state_dict(), "d_optimizer": self.d_optimizer.state_dict(),
                "rng": self.rng.get_state(), "history": copy.deepcopy(self.history)}

    def save(self, path: str | Path) -> Path:
        """Write ``state()`` with ``torch.save``, atomically (``checkpoints.save``); ``load`` brings it back."""
        return checkpoints.save(self.state(), path)

    @classmethod
    def load(cls, path: str | Path) -> "ModeCollapseLab":
        """The lab saved at ``path``, exactly as it was; a file that is not one raises ``ValueError`` saying why."""
        try:
            state = checkpoints.load(path)
        except checkpoints.CheckpointError as err:
            raise ValueError(f"{path} is not a saved Mode Collapse Lab: {err}") from err
        return cls.from_state(state, where=str(path))

    @classmethod
    def from_state(cls, state: dict, where: str = "state") -> "ModeCollapseLab":
        """The lab ``state()`` describes, after checking its format, step and history."""
        def bad(why: str) -> ValueError:
            return ValueError(f"{where} is not a saved Mode Collapse Lab: {why}")

        version = state.get("format")
        if version != SAVE_FORMAT or isinstance(version, bool):
            raise bad(f"format {version!r}, expected {SAVE_FORMAT} (files from older versions held no weights)")
        missing = sorted({"config", "step", "history", "generator", "discriminator", "g_optimizer", "d_optimizer",
                          "rng"} - set(state))
        if missing:
            raise bad(f"missing {missing}")
        step, history = state["step"], state["history"]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise bad(f"step must be a non-negative int, got {step!r}")
        try:
            recorded = len(history["losses"]["step"])
            rows = history["metrics"]
            timeline = history["timeline"]
        except (KeyError, TypeError) as err:
            raise bad(f"history is incomplete ({type(err).__name__}: {err})") from err
        if recorded != step or not isinstance(rows, list) or not isinstance(timeline, list):
            raise bad(f"step {step!r} does not match the {recorded} recorded loss values")
        try:
            config = LabConfig.from_dict(state["config"])
            lab = cls(config, data=state.get("data"))
            for name in ("generator", "discriminator", "ema_generator", "g_optimizer", "d_optimizer"):
                if getattr(lab, name) is not None:
                    getattr(lab, name).load_state_dict(state[name])
            lab.rng.set_state(state["rng"])
        except (ValueError, KeyError, TypeError, RuntimeError, AttributeError) as err:
            raise bad(f"{type(err).__name__}: {err}") from err
        lab.step_count, lab.history = step, copy.deepcopy(history)
        lab.seconds = float(state.get("seconds") or 0.0)
        lab.paused_reason, lab.pending_d = state.get("paused_reason"), state.get("pending_d")
        return lab
