"""GAN training as two step functions and a small loop around them (lessons 09–14, the Mode Collapse Lab).

``discriminator_step`` updates only D on detached fakes; ``generator_step`` updates only G with D frozen;
``train_step`` chains them on one generated batch. ``GANConfig`` is every trainer's config, ``fit`` the one loop.
"""

from __future__ import annotations

import contextlib
import functools
import math
import dataclasses
from dataclasses import dataclass, fields
from typing import Callable, ClassVar

import torch
from torch import Tensor, nn

from gan_course.core import runtime
from gan_course.training import losses, schedules


class NaNLossError(FloatingPointError):
    """A loss became NaN or infinite; the message explains the usual causes."""


@dataclass
class Tricks:
    """Discriminator-side training tricks (Salimans et al., 2016; Sønderby et al., 2017; Soumith's ganhacks)."""
    label_smoothing: float = 0.0  # one-sided: real target 1 − s (BCE / least-squares losses only)
    label_flip: float = 0.0  # fraction of samples whose real/fake role is swapped in the D step
    instance_noise: float = 0.0  # std of Gaussian noise added to every input D sees (real and fake)
    gp_weight: float = 10.0  # λ of the gradient penalty (losses with gradient_penalty=True)

    def __post_init__(self):
        for name in ("label_smoothing", "label_flip"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.5:
                raise ValueError(f"{name} must lie in [0, 0.5), got {value!r}")
        for name in ("instance_noise", "gp_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):  # NaN would act as 0, inf would wreck the run
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_finite(values: dict[str, float], step: int | None = None) -> dict[str, float]:
    """Raise ``NaNLossError`` if any value is NaN/inf; return ``values`` unchanged otherwise."""
    for name, value in values.items():
        if not math.isfinite(value):
            where = f" at step {step}" if step is not None else ""
            raise NaNLossError(
                f"{name} became {value}{where}. Usual causes: a learning rate too high for this loss (try Adam "
                "1e-4..2e-4 with beta1 = 0.5), a Wasserstein critic without gradient penalty or weight clipping, "
                "or log(0) from a Sigmoid + BCELoss pair (use logits with binary_cross_entropy_with_logits). "
                "Lower the learning rate or restore the last checkpoint and try again.")
    return values


def descend(optimizer: torch.optim.Optimizer, loss: Tensor, **backward) -> None:
    """One gradient step on ``loss``: clear the old gradients, backpropagate (``backward``: e.g. ``inputs=``), step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward(**backward)
    optimizer.step()


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Temporarily set ``requires_grad=False`` on every parameter of ``module`` (restored on exit)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for parameter, flag in zip(module.parameters(), flags):
            parameter.requires_grad_(flag)


def sample_latent(generator: nn.Module, batch_size: int, rng: torch.Generator | None = None) -> Tensor:
    """Noise for ``generator``: its own ``sample_latent`` if it has one, else N(0, I) of size ``latent_dim``."""
    if hasattr(generator, "sample_latent"):
        return generator.sample_latent(batch_size, rng)
    device = next(generator.parameters()).device
    return torch.randn(batch_size, generator.latent_dim, generator=rng).to(device)


PRECISIONS = ("fp32", "bf16")


def autocast(precision: str, device: torch.device | str = "cpu"):
    """A context for the forward passes: ``"fp32"`` does nothing; ``"bf16"`` is ``torch.autocast`` with bfloat16
    (matrix products and convolutions in bfloat16, reductions and losses in float32)."""
    runtime.lookup(PRECISIONS, precision, "precision")
    device_type = torch.device(device).type
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bf16")


def resolve_precision(precision: str, device: torch.device | str = "cpu") -> str:
    """``"auto"`` -> ``"bf16"`` where bfloat16 runs natively on ``device``, else ``"fp32"``; others unchanged."""
    if runtime.lookup(("auto", *PRECISIONS), precision, "precision") != "auto":
        return precision
    return "bf16" if bf16_is_fast(device) else "fp32"


def bf16_is_fast(device: torch.device | str = "cpu") -> bool:
    """Whether bfloat16 has hardware support here (CUDA, or a CPU with AVX512-BF16/AMX); else it is slow."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and _cpu_has_bf16()


@functools.cache
def _cpu_has_bf16() -> bool:
    """The CPU flags, read once per process (Linux; elsewhere: no)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return any(flag in flags for flag in (" avx512_bf16", " amx_bf16"))


def _generate(generator, z, labels):
    return generator(z) if labels is None else generator(z, labels)


def _judge(discriminator, x, labels, tricks: Tricks, rng):
    if tricks.instance_noise > 0:
        x = x + tricks.instance_noise * torch.randn(x.shape, generator=rng).to(x.device, x.dtype)
    return discriminator(x) if labels is None else discriminator(x, labels)


def _flipped_d_loss(critic, real, fake, family, tricks: Tricks, rng):
    """D's loss, real logits, fake logits, with ``critic(x)`` D's float logits and a random ``tricks.label_flip``
    fraction of real/fake roles swapped (shared with the lab's unrolled update)."""
    if tricks.label_flip > 0:
        swap = (torch.rand(real.shape[0], generator=rng) < tricks.label_flip).to(real.device)
        swap = swap.view(-1, *([1] * (real.ndim - 1)))
        real, fake = torch.where(swap, fake, real), torch.where(swap, real, fake)
    real_logits, fake_logits = critic(real), critic(fake)
    target = {"real_target": 1.0 - tricks.label_smoothing} if family.soft_labels else {}
    return family.discriminator_loss(real_logits, fake_logits, **target), real_logits, fake_logits


def discriminator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                       real: Tensor, loss: str = "non-saturating", tricks: Tricks | None = None,
                       labels: Tensor | None = None, rng: torch.Generator | None = None,
                       step: int | None = None, fake: Tensor | None = None,
                       precision: str = "fp32") -> dict[str, float]:
    """One update of D on a real batch and as many fakes; returns d_loss, real/fake mean logits (and gp).

    ``fake``: a batch already generated (detached here); without it the fakes are generated under ``no_grad``.
    """
    family, tricks = losses.get_loss(loss), tricks or Tricks()
    if tricks.label_smoothing and not family.soft_labels:
        raise ValueError(f"label smoothing needs a loss with targets {[n for n, f in losses.GAN_LOSSES.items() if f.soft_labels]}, "
                         f"not {loss!r}")
    if fake is None:
        with torch.no_grad(), autocast(precision, real.device):  # no graph back to G: this step must not train G
            fake = _generate(generator, sample_latent(generator, real.shape[0], rng), labels)
    fake = fake.detach().to(real.dtype)
    if fake.shape != real.shape:
        raise ValueError(f"fake batch {tuple(fake.shape)} and real batch {tuple(real.shape)} differ in shape")

    def judge(x):
        with autocast(precision, real.device):
            return _judge(discriminator, x, labels, tricks, rng).float()

    d_loss, real_logits, fake_logits = _flipped_d_loss(judge, real, fake, family, tricks, rng)
    result = {"d_loss": d_loss.item(), "real_logit": real_logits.mean().item(),
              "fake_logit": fake_logits.mean().item()}
    if family.gradient_penalty:
        critic = discriminator if labels is None else (lambda x: discriminator(x, labels))
        penalty = losses.gradient_penalty(critic, real, fake, generator=rng)
        d_loss = d_loss + tricks.gp_weight * penalty
        result["gp"] = penalty.item()
    check_finite(result, step)
    descend(optimizer, d_loss)
    if family.weight_clip is not None:
        with torch.no_grad():
            for parameter in discriminator.parameters():
                parameter.clamp_(-family.weight_clip, family.weight_clip)
    return result


def generator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                   batch_size: int, loss: str = "non-saturating", tricks: Tricks | None = None,
                   labels: Tensor | None = None, rng: torch.Generator | None = None,
                   step: int | None = None, fake: Tensor | None = None,
                   precision: str = "fp32", penalty: Callable[[Tensor], Tensor] | None = None,
                   adversarial_weight: float = 1.0) -> dict[str, float]:
    """One update of G through a frozen D; returns g_loss (and g_penalty when ``penalty`` is given).

    ``fake``: a batch G generated *with* its graph (else fresh noise). ``penalty(fake)`` is added to G's loss
    (``g_loss`` stays the adversarial part, which enters the total times ``adversarial_weight``).
    """
    family, tricks = losses.get_loss(loss), tricks or Tricks()
    if fake is not None and not fake.requires_grad:
        raise ValueError("fake was generated without a graph (under no_grad or detached): the G step cannot "
                         "backpropagate through it; generate it with gradients or pass fake=None")
    device = next(generator.parameters()).device
    with frozen(discriminator):
        with autocast(precision, device):
            if fake is None:
                fake = _generate(generator, sample_latent(generator, batch_size, rng), labels)
            fake_logits = _judge(discriminator, fake, labels, tricks, rng).float()
        total, result = _generator_objective(family.generator_loss(None, fake_logits), fake, penalty,
                                             adversarial_weight, step)
        descend(optimizer, total)
    return result


def _generator_objective(g_loss: Tensor, fake: Tensor, penalty, adversarial_weight: float, step: int | None):
    """G's total loss ``adversarial_weight · g_loss + penalty(fake)`` and its checked stats (shared with the lab)."""
    values = {"g_loss": g_loss.item()}
    total = g_loss if adversarial_weight == 1 else adversarial_weight * g_loss
    if penalty is not None:
        extra = penalty(fake.float())
        values["g_penalty"], total = extra.item(), total + extra
    return total, check_finite(values, step)


def train_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
               d_optimizer: torch.optim.Optimizer, real_batches, loss: str = "non-saturating",
               tricks: Tricks | None = None, labels: Tensor | None = None, rng: torch.Generator | None = None,
               step: int | None = None, precision: str = "fp32") -> dict[str, float]:
    """``len(real_batches)`` D updates, then one G update; the last D update and the G update share one fake batch.

    ``real_batches``: one real batch, or a list of them (one per D step). Sharing saves a G forward pass per step.
    """
    batches = [real_batches] if isinstance(real_batches, Tensor) else list(real_batches)
    if not batches:
        raise ValueError("real_batches is empty: give at least one real batch")
    extra = iter(batches[:-1])  # the extra D steps (d_steps > 1) judge fakes of their own
    discriminator_steps(generator, discriminator, d_optimizer, lambda: next(extra), len(batches) - 1, loss, tricks,
                        labels, rng, step, precision)
    real = batches[-1]
    with autocast(precision, real.device):
        fake = _generate(generator, sample_latent(generator, real.shape[0], rng), labels)  # with G's graph
    d_stats = discriminator_step(generator, discriminator, d_optimizer, real, loss, tricks, labels, rng, step,
                                 fake=fake, precision=precision)
    g_stats = generator_step(generator, discriminator, g_optimizer, real.shape[0], loss, tricks, labels, rng, step,
                             fake=fake, precision=precision)
    return {**d_stats, **g_stats}


@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Exponential moving average of weights (Yazıcı et al., 2019): average ← decay·average + (1 − decay)·model.

    Buffers (BatchNorm running statistics) are copied, not averaged: they describe the current model's activations.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must lie in [0, 1), got {decay!r}")
    for mine, current in zip(average.parameters(), model.parameters()):
        mine.lerp_(current, 1.0 - decay)
    for mine, current in zip(average.buffers(), model.buffers()):
        mine.copy_(current)


@dataclass(frozen=True)
class GANConfig:
    """One GAN run's settings, one spelling per field, for every GAN trainer; a trainer subclasses it to add fields.

    Fields a trainer does not use are in ``unused`` and refused unless default. Frozen and checked once, here.
    """
    steps: int = 1000  # generator updates
    batch_size: int = 256
    loss: str = "non-saturating"  # a key of losses.GAN_LOSSES
    g_lr: float = 2e-4
    d_lr: float | None = None  # None: same as g_lr; d_lr > g_lr is TTUR (Heusel et al., 2017)
    betas: tuple[float, float] = (0.5, 0.999)  # Adam's (β1, β2): the DCGAN recipe
    g_optimizer: str = "adam"  # a key of OPTIMIZERS (make_optimizer): adam, rmsprop or sgd
    d_optimizer: str = "adam"
    d_steps: int = 1  # discriminator updates per generator update
    label_smoothing: float = 0.0  # one-sided: real target 1 − s (Tricks)
    label_flip: float = 0.0  # fraction of swapped real/fake roles in the D step
    instance_noise: float = 0.0  # std of Gaussian noise on every input D sees
    gp_weight: float = 10.0  # λ of the gradient penalty (losses with gradient_penalty=True)
    warmup_steps: int = 0  # learning-rate schedule, schedules.LinearDecay: linear warm-up over these steps,
    decay_start: int = 0  # then 1 until this G step,
    decay_steps: int = 0  # then a linear decay over these steps (0: constant learning rates)
    decay_floor: float = 0.0  # down to this multiplier
    ema: float = 0.0  # decay of a moving average of G's weights that samples come from; 0 = off
    precision: str = "fp32"  # "fp32" | "bf16" (autocast forward passes) | "auto" (bf16 where native)
    seed: int = 0

    unused: ClassVar[tuple[str, ...]] = ()  # shared fields this config's trainer does not read

    def __post_init__(self):
        object.__setattr__(self, "betas", tuple(self.betas))
        losses.get_loss(self.loss)
        runtime.lookup(("auto", *PRECISIONS), self.precision, "precision")
        for name in ("g_optimizer", "d_optimizer"):
            runtime.lookup(OPTIMIZERS, getattr(self, name), name)
        runtime.check_positive(steps=self.steps, batch_size=self.batch_size, d_steps=self.d_steps)
        for name in ("warmup_steps", "decay_start", "decay_steps", "seed"):
            runtime.check_int(name, getattr(self, name), minimum=0)
        runtime.check_number("g_lr", self.g_lr, strict=True)
        if self.d_lr is not None:
            runtime.check_number("d_lr", self.d_lr, strict=True)
        if len(self.betas) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1
                                           for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1) (Adam's beta1, beta2), got {self.betas!r}")
        for name in ("ema", "decay_floor"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0 and not (name == "decay_floor" and value == 1.0):
                raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
        self.tricks  # noqa: B018 -- Tricks checks its own ranges
        defaults = {f.name: f.default for f in fields(GANConfig)}
        for name in self.unused:
            if getattr(self, name) != defaults[name]:
                raise ValueError(f"{type(self).__name__} does not use {name} (its trainer has no such setting); "
                                 f"leave it at {defaults[name]!r}, got {getattr(self, name)!r}")

    @property
    def tricks(self) -> Tricks:
        return Tricks(self.label_smoothing, self.label_flip, self.instance_noise, self.gp_weight)

    @property
    def discriminator_lr(self) -> float:
        return self.g_lr if self.d_lr is None else self.d_lr

    @property
    def schedule(self) -> schedules.LinearDecay:
        return schedules.LinearDecay(self.warmup_steps, self.decay_start, self.decay_steps, self.decay_floor)

    def optimizers(self, generator: nn.Module, discriminator: nn.Module, fused: bool = True):
        """``(G's optimizer, D's optimizer)`` as this config sets them (``make_optimizer``; D at ``discriminator_lr``)."""
        return (make_optimizer(self.g_optimizer, generator.parameters(), self.g_lr, self.betas, fused),
                make_optimizer(self.d_optimizer, discriminator.parameters(), self.discriminator_lr, self.betas, fused))

    def set_learning_rates(self, g_optimizer, d_optimizer, step: int) -> None:
        """Both learning rates for G step ``step``: the base rate × ``schedule(step)``, a function of the step alone
        (so resuming needs no scheduler state)."""
        factor = self.schedule(step)
        for optimizer, lr in ((g_optimizer, self.g_lr), (d_optimizer, self.discriminator_lr)):
            for group in optimizer.param_groups:
                group["lr"] = lr * factor

    def replace(self, **changes):
        """A copy with ``changes`` applied (checked); unknown field names are refused."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown {type(self).__name__} field(s) {unknown}; fields are {sorted(names)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        """The config a ``to_dict`` (or a checkpoint or saved lab of an older course version) describes."""
        if not isinstance(values, dict):
            raise ValueError(f"a config is a dict of {cls.__name__} fields, got {type(values).__name__}")
        values = dict(values)
        for old, new in (("lr_generator", "g_lr"), ("lr_discriminator", "d_lr"), ("lr", "g_lr")):
            if old in values:
                values[new] = values.pop(old)
        if "optimizer" in values:  # one optimizer for both players
            values["g_optimizer"] = values["d_optimizer"] = values.pop("optimizer")
        if "beta1" in values or "beta2" in values:
            values["betas"] = (values.pop("beta1", 0.5), values.pop("beta2", 0.999))
        values.update(values.pop("tricks", None) or {})
        if "decay" in values:  # True: a linear decay to 0 over the whole run; False: constant learning rates
            decay = values.pop("decay")
            values.update(decay_start=0, decay_steps=values.get("steps", cls.steps) if decay else 0, decay_floor=0.0)
        return cls().replace(**values)


def make_optimizer(name: str, parameters, lr: float, betas: tuple[float, float] = (0.5, 0.999),
                   fused: bool = True) -> torch.optim.Optimizer:
    """The one optimizer factory of the GAN trainers: ``"adam"`` (``betas``; ``fused`` uses the one-kernel
    implementation where the device has it), ``"rmsprop"`` or plain ``"sgd"`` (no momentum)."""
    runtime.lookup(OPTIMIZERS, name, "optimizer")
    parameters = list(parameters)
    if name == "adam":
        device = parameters[0].device.type if parameters else "cpu"
        return torch.optim.Adam(parameters, lr=lr, betas=betas, fused=(fused and device in ("cpu", "cuda")) or None)
    return OPTIMIZERS[name](parameters, lr=lr)


OPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}


def train_gan(generator: nn.Module, discriminator: nn.Module, sample_real: Callable[[int], Tensor],
              g_optimizer: torch.optim.Optimizer | None, d_optimizer: torch.optim.Optimizer | None,
              config: GANConfig, rng: torch.Generator | None = None,
              callback: Callable[[int, dict], None] | None = None) -> dict[str, list[float]]:
    """Alternate ``d_steps`` D updates and one G update for ``config.steps`` G steps; return the loss history.

    An optimizer given as ``None`` is built from ``config``; ``config.schedule`` scales both learning rates every
    step. ``callback(step, history)`` runs after every G step and may raise ``StopIteration`` to end training.
    """
    if config.ema:
        raise ValueError(f"train_gan keeps no moving average of G (ema={config.ema!r}); image_gan's runs do")
    if g_optimizer is None or d_optimizer is None:
        built = config.optimizers(generator, discriminator)
        g_optimizer, d_optimizer = g_optimizer or built[0], d_optimizer or built[1]
    base_lrs = [[group["lr"] for group in opt.param_groups] for opt in (g_optimizer, d_optimizer)]
    schedule, scheduled = config.schedule, bool(config.warmup_steps or config.decay_steps)
    precision = resolve_precision(config.precision, next(generator.parameters()).device)

    def one_step(step: int) -> dict[str, float]:
        if scheduled:
            for opt, lrs in zip((g_optimizer, d_optimizer), base_lrs):
                for group, lr in zip(opt.param_groups, lrs):
                    group["lr"] = lr * schedule(step)
        d_stats = discriminator_steps(generator, discriminator, d_optimizer, lambda: sample_real(config.batch_size),
                                      config.d_steps, config.loss, config.tricks, rng=rng, step=step,
                                      precision=precision)
        g_stats = generator_step(generator, discriminator, g_optimizer, config.batch_size, config.loss,
                                 config.tricks, rng=rng, step=step, precision=precision)
        return {**d_stats, **g_stats}

    callbacks = () if callback is None else (lambda step, stats, history: callback(step, history),)
    return fit(one_step, config.steps, callbacks=callbacks)


# ------------------------------------------------------------------------------------------- the one training loop
def discriminator_steps(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                        next_real: Callable[[], Tensor], count: int, loss: str = "non-saturating",
                        tricks: Tricks | None = None, labels: Tensor | None = None,
                        rng: torch.Generator | None = None, step: int | None = None,
                        precision: str = "fp32") -> dict[str, float]:
    """``count`` D updates (``discriminator_step``), each on a batch ``next_real()`` draws just before it; returns
    the last update's stats (``{}`` when ``count`` is 0). The one place of the ``d_steps`` loop."""
    stats: dict[str, float] = {}
    for _ in range(count):
        stats = discriminator_step(generator, discriminator, optimizer, next_real(), loss, tricks, labels, rng, step,
                                   precision=precision)
    return stats


Step = Callable[[int], dict[str, float]]
Callback = Callable[[int, dict[str, float], dict[str, list[float]]], None]


def fit(step: Step, steps: int, *, start: int = 0, history: dict[str, list[float]] | None = None,
        callbacks: tuple[Callback, ...] | list[Callback] = ()) -> dict[str, list[float]]:
    """The training loop of every GAN in the course: ``step(i)`` for ``i`` in ``start, …, steps − 1``.

    Each step's ``dict[str, float]`` is appended to ``history[key]``, then every ``callback(i, stats, history)`` runs.
    ``StopIteration`` from ``step`` ends training before that step is recorded, from a callback after it.
    """
    history = {} if history is None else history
    for i in range(start, steps):
        try:
            stats = step(i)
        except StopIteration:
            break
        for key, value in stats.items():
            history.setdefault(key, []).append(value)
        try:
            for callback in callbacks:
                callback(i, stats, history)
        except StopIteration:
            break
    return history
