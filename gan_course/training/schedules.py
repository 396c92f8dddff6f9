"""The course's learning-rate schedules: callables ``factor(step) -> float`` with ``lr(step) = base_lr · factor(step)``.

Warm-up ``factor = (step + 1) / warmup_steps`` (Goyal et al., 2017), then with ``t = step − warmup_steps``:
cosine ``min_factor + (1 − min_factor) · ½ (1 + cos(π · min(t, T) / T))`` (Loshchilov & Hutter, 2017), step
``gamma ^ ⌊t / step_size⌋`` or exponential ``gamma ^ t``; also ``one_cycle_lr`` and the GAN trainers' ``LinearDecay``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import math
from dataclasses import dataclass, field

from gan_course.core import runtime


def warmup_factor(step: int, warmup_steps: int) -> float:
    """``(step + 1) / warmup_steps`` during warm-up, 1 afterwards."""
    return (step + 1) / warmup_steps if step < warmup_steps else 1.0


@dataclass(frozen=True)
class _Warmup(ABC):
    """What every schedule shares: ``warmup_steps`` of linear warm-up, then ``decay(t)`` with ``t = step − warmup``."""
    warmup_steps: int

    def __call__(self, step: int) -> float:
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"step must be a non-negative int, got {step!r}")
        if step < self.warmup_steps:
            return warmup_factor(step, self.warmup_steps)
        return self.decay(step - self.warmup_steps)

    @abstractmethod
    def decay(self, t: int) -> float:
        """The factor ``t`` steps after the warm-up: each schedule's own formula."""

    def __post_init__(self):
        runtime.check_int("warmup_steps", self.warmup_steps, 0)


@dataclass(frozen=True)
class WarmupCosine(_Warmup):
    """Linear warm-up over ``warmup_steps``, then a half cosine from 1 to ``min_factor`` at ``total_steps``."""
    total_steps: int
    min_factor: float = 0.0

    def decay(self, t: int) -> float:
        decay_steps = self.total_steps - self.warmup_steps
        progress = min(t, decay_steps) / decay_steps
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))

    def __post_init__(self):
        super().__post_init__()
        runtime.check_int("total_steps", self.total_steps, 1)
        if self.warmup_steps >= self.total_steps:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) must be smaller than total_steps "
                             f"({self.total_steps})")
        if not 0.0 <= self.min_factor <= 1.0:
            raise ValueError(f"min_factor must lie in [0, 1], got {self.min_factor!r}")


@dataclass(frozen=True)
class WarmupStep(_Warmup):
    """Linear warm-up, then multiply by ``gamma`` every ``step_size`` steps."""
    step_size: int
    gamma: float = 0.1

    def decay(self, t: int) -> float:
        return self.gamma ** (t // self.step_size)

    def __post_init__(self):
        super().__post_init__()
        runtime.check_int("step_size", self.step_size, 1)
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in (0, 1], got {self.gamma!r}")


@dataclass(frozen=True)
class WarmupExponential(WarmupStep):
    """Linear warm-up, then multiply by ``gamma`` every step: ``WarmupStep`` with ``step_size = 1``."""
    step_size: int = field(default=1, init=False)
    gamma: float = 0.99


@dataclass(frozen=True)
class LinearDecay:
    """The GAN trainers' schedule (``GANConfig``): linear warm-up times a linear decay from 1 at ``decay_start`` to
    ``floor`` at ``decay_start + decay_steps`` (``decay_steps = 0``: no decay)."""
    warmup_steps: int = 0
    decay_start: int = 0
    decay_steps: int = 0
    floor: float = 0.0

    def __call__(self, step: int) -> float:
        warm = warmup_factor(step, self.warmup_steps) if self.warmup_steps else 1.0
        if not self.decay_steps or step <= self.decay_start:
            return warm
        return warm * (1.0 - min(1.0, (step - self.decay_start) / self.decay_steps) * (1.0 - self.floor))


def one_cycle_lr(step: int, total_steps: int, max_lr: float, warmup_fraction: float) -> float:
    """Lesson 04's classifier rate at ``step``: warm-up ``max_lr·(s + 1)/w`` for ``s < w``, then ``max_lr·½(1 + cos πu)``
    with ``w = round(warmup_fraction·total_steps)`` and ``u = (s − w)/(total − w)``.

    The formula of ``max_lr · WarmupCosine(w, total_steps)(step)``, but not bit-identical to it (in lesson 04's full
    run 145 of the 375 warm-up rates, of 1,876, differ in the last bit: the product is rounded in another order);
    kept as its own function so the saved classifier trains to the same weights."""
    if not 0 <= step < total_steps:
        raise ValueError(f"step must be in [0, {total_steps}), got {step}")
    warmup = max(1, round(warmup_fraction * total_steps))
    if step < warmup:
        return max_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return max_lr * 0.5 * (1.0 + math.cos(math.pi * progress))


SCHEDULES = {"cosine": WarmupCosine, "step": WarmupStep, "exponential": WarmupExponential}


def make(name: str, **kwargs):
    """Build a schedule by name: ``make("cosine", warmup_steps=100, total_steps=1000)``."""
    return runtime.lookup(SCHEDULES, name, "schedule")(**kwargs)


def factors(schedule, steps: int) -> list[float]:
    """``[schedule(0), ..., schedule(steps − 1)]``, for plotting."""
    runtime.check_int("steps", steps, 1)
    return [schedule(step) for step in range(steps)]
