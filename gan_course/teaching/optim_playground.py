"""2-D optimisation playground: test surfaces, an optimizer race and the bilinear game (lesson 03).

``race`` runs real ``torch.optim`` optimizers on a point over a surface from ``SURFACES``; ``bilinear_game`` plays
min_x max_y x·y with simultaneous, alternating, extragradient (Korpelevich, 1976) or optimistic (Daskalakis et al.,
2018) updates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from gan_course.core import runtime

MOMENTUM = 0.9
ADAMW_WEIGHT_DECAY = 0.01


@dataclass(frozen=True)
class Surface:
    """A function of two variables to minimise, with where to start, where the minima are and what to plot."""
    name: str
    formula: str
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # f(x, y), elementwise
    start: tuple[float, float]
    minimum_value: float
    minima: tuple[tuple[float, float], ...]
    limits: tuple[tuple[float, float], tuple[float, float]]  # ((x_low, x_high), (y_low, y_high)) for plots

    def __call__(self, point: torch.Tensor) -> torch.Tensor:
        """f at ``point`` of shape ``(..., 2)`` -> ``(...)``."""
        if point.shape[-1] != 2:
            raise ValueError(f"surface {self.name!r} expects points of shape (..., 2), got {tuple(point.shape)}")
        return self.function(point[..., 0], point[..., 1])

    def grid(self, resolution: int = 200):
        """``(X, Y, Z)`` NumPy arrays over ``limits``, for contour plots."""
        (x_low, x_high), (y_low, y_high) = self.limits
        xs = torch.linspace(x_low, x_high, resolution)
        ys = torch.linspace(y_low, y_high, resolution)
        grid_x, grid_y = torch.meshgrid(xs, ys, indexing="xy")  # (R, R) each
        return grid_x.numpy(), grid_y.numpy(), self.function(grid_x, grid_y).numpy()


SURFACES: dict[str, Surface] = {
    # A saddle at the origin (f = 0) bounded by the quartic: minima at (0, ±1) with f = −½. Starting on
    # y ≈ 0 the gradient in y is tiny, so plain gradient descent lingers at the saddle.
    "saddle": Surface("saddle", "f = x² − y² + ½y⁴", lambda x, y: x ** 2 - y ** 2 + 0.5 * y ** 4,
                      start=(-1.5, 1e-3), minimum_value=-0.5, minima=((0.0, 1.0), (0.0, -1.0)),
                      limits=((-2.0, 2.0), (-1.6, 1.6))),
    "rosenbrock": Surface("rosenbrock", "f = (1 − x)² + 100 (y − x²)²",
                          lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
                          start=(-1.5, 2.0), minimum_value=0.0, minima=((1.0, 1.0),),
                          limits=((-2.0, 2.0), (-1.0, 3.0))),
    "beale": Surface("beale", "f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
                     lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                     + (2.625 - x + x * y ** 3) ** 2,
                     start=(1.0, 1.5), minimum_value=0.0, minima=((3.0, 0.5),), limits=((-4.5, 4.5), (-4.5, 4.5))),
}

OPTIMIZERS: dict[str, Callable] = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=MOMENTUM),
    "nesterov": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=MOMENTUM, nesterov=True),
    "adagrad": lambda params, lr: torch.optim.Adagrad(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=ADAMW_WEIGHT_DECAY),
}


def get_surface(surface) -> Surface:
    """A ``Surface`` from itself or its name; an unknown name raises a ValueError listing the allowed ones."""
    if isinstance(surface, Surface):
        return surface
    return runtime.lookup(SURFACES, surface, "surface")


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """``OPTIMIZERS[name](params, lr)`` with a clear error for an unknown name or a bad learning rate."""
    make = runtime.lookup(OPTIMIZERS, name, "optimizer")
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"learning rate for {name!r} must be a positive finite number, got {lr!r}")
    return make(params, lr)


def descend(optimizer_name: str, surface, start: Sequence[float], steps: int, lr: float) -> dict:
    """Minimise ``surface`` from ``start``: ``{"trajectory", "losses", "final_loss"}`` (stops early if not finite)."""
    surface = get_surface(surface)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    point = torch.tensor([float(v) for v in start], dtype=torch.float64, requires_grad=True)
    if point.shape != (2,):
        raise ValueError(f"start must be two numbers (x, y), got {start!r}")
    optimizer = make_optimizer(optimizer_name, [point], lr)
    trajectory, losses = [point.detach().clone()], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = surface(point)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        if not torch.isfinite(point).all():
            break
        trajectory.append(point.detach().clone())
    else:
        losses.append(surface(point.detach()).item())
    losses = losses[:len(trajectory)]
    return {"trajectory": torch.stack(trajectory).numpy(), "losses": np.array(losses), "final_loss": losses[-1]}


def race(optimizers: Sequence[str], surface, start: Sequence[float] | None = None, steps: int = 500,
         lr: float | Mapping[str, float] = 1e-2) -> dict[str, dict]:
    """Run each optimizer from the same ``start`` (default: the surface's); ``lr`` is one value or one per name."""
    surface = get_surface(surface)
    start = surface.start if start is None else start
    results = {}
    for name in optimizers:
        rate = lr[name] if isinstance(lr, Mapping) else lr
        results[name] = descend(name, surface, start, steps, rate)
    return results


def steps_to_reach(losses: Sequence[float], threshold: float) -> int | None:
    """The first step whose loss is ≤ ``threshold``, or None if it never gets there."""
    below = np.nonzero(np.asarray(losses) <= threshold)[0]
    return int(below[0]) if below.size else None


GAME_METHODS = ("simultaneous", "alternating", "extragradient", "optimistic", "adam")


def bilinear_game(method: str, steps: int, lr: float, start: Sequence[float] = (1.0, 1.0),
                  betas: tuple[float, float] = (0.5, 0.999)) -> np.ndarray:
    """Play min_x max_y x·y for ``steps`` steps; return the ``(steps + 1, 2)`` trajectory of (x, y).

    Gradients: ∂f/∂x = y for the minimiser, ∂(−f)/∂y = −x for the maximiser. Methods:
    simultaneous  x ← x − η y,  y ← y + η x (both from the old point): radius × √(1 + η²) per step;
    alternating   x ← x − η y, then y ← y + η x_new: a bounded orbit;
    extragradient step to a look-ahead point, then step from the start with the look-ahead's gradients;
    optimistic    step with 2 g_t − g_(t−1), the gradient extrapolated from the last one;
    adam          simultaneous steps by two ``torch.optim.Adam(betas=betas)`` optimizers, as in DCGAN training.
    """
    runtime.lookup(GAME_METHODS, method, "game method")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    x, y = (float(v) for v in start)
    trajectory = [(x, y)]
    if method == "adam":
        px = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        py = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        opt_x, opt_y = torch.optim.Adam([px], lr=lr, betas=betas), torch.optim.Adam([py], lr=lr, betas=betas)
        for _ in range(steps):
            value = px * py
            grad_x, grad_y = torch.autograd.grad(value, [px, py])
            px.grad, py.grad = grad_x, -grad_y  # the maximiser descends −f
            opt_x.step()
            opt_y.step()
            trajectory.append((px.item(), py.item()))
        return np.array(trajectory)
    previous = (y, -x)  # g_(t−1) for the optimistic method: start as if the last gradient equalled this one
    for _ in range(steps):
        if method == "simultaneous":
            x, y = x - lr * y, y + lr * x
        elif method == "alternating":
            x = x - lr * y
            y = y + lr * x
        elif method == "extragradient":
            look_x, look_y = x - lr * y, y + lr * x
            x, y = x - lr * look_y, y + lr * look_x
        else:  # optimistic
            gx, gy = y, -x
            x, y = x - lr * (2 * gx - previous[0]), y - lr * (2 * gy - previous[1])
            previous = (gx, gy)
        trajectory.append((x, y))
    return np.array(trajectory)


def radius(trajectory: np.ndarray) -> np.ndarray:
    """Distance of each point of a ``(T, 2)`` trajectory from the equilibrium (0, 0)."""
    trajectory = np.asarray(trajectory)
    if trajectory.ndim != 2 or trajectory.shape[1] != 2:
        raise ValueError(f"trajectory must be (T, 2), got shape {trajectory.shape}")
    return np.hypot(trajectory[:, 0], trajectory[:, 1])
