"""Runtime helpers shared by every lesson: seeding, device choice, thread count and quick mode.

Quick mode (``GAN_COURSE_QUICK=1``, set by the tests) shrinks steps and data so a notebook runs in seconds;
it never skips a lesson's code. Lessons write ``steps = runtime.pick(full=3000, quick=60)``.
"""

from __future__ import annotations

import math
import os
import random
import warnings
from contextlib import contextmanager

import numpy as np
import torch

QUICK_ENV = "GAN_COURSE_QUICK"
THREADS_ENV = "GAN_COURSE_THREADS"
DEVICE_ENV = "GAN_COURSE_DEVICE"
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """True when ``GAN_COURSE_QUICK`` asks for the small, seconds-long version of every lesson."""
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{QUICK_ENV}={value!r} is not understood; use one of 1/true/yes/on or 0/false/no/off")


def check_int(name: str, value, minimum: int = 1) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int (not a bool) >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def check_number(name: str, value, minimum: float = 0.0, strict: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite real number >= ``minimum`` (> with
    ``strict``; strict with minimum 0 reads "a positive finite number")."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and (
        value > minimum if strict else value >= minimum)
    if not ok:
        bound = "a positive finite number" if strict and minimum == 0 else \
            f"a finite number {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def check_positive(**sizes) -> None:
    """``check_positive(width=w, depth=d)``: every value must be a positive int, or ``ValueError`` names it."""
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def lookup(registry, name, what: str):
    """``registry[name]`` (``name`` itself for a tuple of allowed values); an unknown ``name`` raises
    ``ValueError: unknown <what> 'name'; choose one of [...]``."""
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; choose one of {list(registry)}")
    return registry[name] if isinstance(registry, dict) else name


@contextmanager
def evaluating(*modules: torch.nn.Module, training: bool = False):
    """``with runtime.evaluating(model):`` eval mode for the block, then each module's own previous mode back, also
    after an error; ``training=True`` switches to train mode instead."""
    previous = [module.training for module in modules]
    for module in modules:
        module.train(training)
    try:
        yield
    finally:
        for module, was_training in zip(modules, previous):
            module.train(was_training)


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise (steps, sample counts, widths...)."""
    return quick if quick_mode() else full


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA); return a ``torch.Generator`` seeded with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """Pick CUDA, then Apple's MPS, then the CPU; ``prefer`` (or ``GAN_COURSE_DEVICE``) forces one."""
    choice = (prefer or os.environ.get(DEVICE_ENV) or "auto").lower()
    if choice not in DEVICE_CHOICES:
        source = "device" if prefer else DEVICE_ENV
        raise ValueError(f"{source}={choice!r} is not one of {DEVICE_CHOICES}")
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if choice == "cuda" and not cuda_ok:
        raise RuntimeError("device 'cuda' was asked for but torch.cuda.is_available() is False")
    if choice == "mps" and not mps_ok:
        raise RuntimeError("device 'mps' was asked for but torch.backends.mps.is_available() is False")
    if choice != "auto":
        return torch.device(choice)
    if cuda_ok:
        return torch.device("cuda")
    if mps_ok:
        return torch.device("mps")
    return torch.device("cpu")


MAX_THREADS_PER_CORE = 4  # more threads than this per core only adds contention


def max_threads() -> int:
    """The largest thread count ``set_threads`` uses: ``MAX_THREADS_PER_CORE`` × the cores of this machine."""
    return MAX_THREADS_PER_CORE * (os.cpu_count() or 1)


def threads_from_env() -> int | None:
    """The thread count ``GAN_COURSE_THREADS`` asks for (None when unset or 0: all cores); anything else raises."""
    raw = os.environ.get(THREADS_ENV)
    if raw is None:
        return None
    allowed = f"use a whole number from 1 to {max_threads()}, or 0 (or unset it) for all {os.cpu_count() or 1} cores"
    try:
        count = int(raw.strip())
    except ValueError:
        raise ValueError(f"{THREADS_ENV}={raw!r} is not a whole number; {allowed}") from None
    if count < 0:
        raise ValueError(f"{THREADS_ENV}={raw!r} is negative; {allowed}")
    return count or None


def set_threads(count: int | None = None) -> int:
    """Set PyTorch's thread count (``count``, else ``GAN_COURSE_THREADS``, else all cores; above ``max_threads()``:
    capped, with a ``RuntimeWarning``); return it."""
    source = "thread count"
    if count is None:
        count, source = threads_from_env(), THREADS_ENV
        if count is None:
            count = os.cpu_count() or 1
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"thread count must be an int from 1 to {max_threads()}, got {count!r}")
    if count > max_threads():
        warnings.warn(f"{source}={count} is more than {MAX_THREADS_PER_CORE} x the {os.cpu_count() or 1} cores "
                      f"here: using {max_threads()} threads (allowed: 1 to {max_threads()})", RuntimeWarning,
                      stacklevel=2)
        count = max_threads()
    torch.set_num_threads(count)
    return count


def describe() -> str:
    """One line naming the machine a lesson ran on: device, threads, torch version, mode."""
    mode = "quick" if quick_mode() else "full"
    return (f"device={get_device()} threads={torch.get_num_threads()} torch={torch.__version__} "
            f"mode={mode}")
