"""Toy 2-D distributions for the GAN lessons (09, 10) and the Mode Collapse Lab.

Ring and grid follow the mode-collapse protocol of PacGAN (Lin et al., 2018) / VEEGAN (Srivastava et al., 2017):
ring = 8 Gaussians at radius 1, angles 2πk/8, σ = 0.01; grid = 25 Gaussians on {−4, −2, 0, 2, 4}², σ = 0.05.
Spiral and two moons are continuous shapes without discrete modes (``modes is None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class ToyDistribution:
    name: str
    description: str
    sampler: Callable[[int, torch.Generator | None], torch.Tensor]
    modes: torch.Tensor | None = None  # (K, 2) mode centres, when the distribution has discrete modes
    sigma: float | None = None  # per-mode standard deviation

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points, shape ``(n, 2)``."""
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"number of samples must be a positive int, got {n!r}")
        return self.sampler(n, generator)


def _mixture(modes: torch.Tensor, sigma: float):
    def sampler(n, generator=None):
        index = torch.randint(len(modes), (n,), generator=generator)
        return modes[index] + sigma * torch.randn(n, 2, generator=generator)
    return sampler


def ring_modes(count: int = 8, radius: float = 1.0) -> torch.Tensor:
    angles = 2 * math.pi * torch.arange(count, dtype=torch.float32) / count
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (K, 2)


def grid_modes(values=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> torch.Tensor:
    axis = torch.tensor(values, dtype=torch.float32)
    return torch.cartesian_prod(axis, axis)  # (K*K, 2)


def _spiral(n, generator=None):
    t = torch.sqrt(torch.rand(n, generator=generator)) * 3 * math.pi  # sqrt: even density along the arm
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3 * math.pi)
    return points + 0.02 * torch.randn(n, 2, generator=generator)


def _two_moons(n, generator=None):
    t = torch.rand(n, generator=generator) * math.pi
    upper = torch.rand(n, generator=generator) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    points = torch.stack([x - 0.5, y - 0.25], dim=1)
    return points + 0.05 * torch.randn(n, 2, generator=generator)


def _gaussian(n, generator=None):
    return torch.randn(n, 2, generator=generator) * 0.5


_RING, _GRID = ring_modes(), grid_modes()
TOY_DISTRIBUTIONS: dict[str, ToyDistribution] = {
    "ring-8": ToyDistribution("ring-8", "8 Gaussians on a circle of radius 1, σ = 0.01",
                              _mixture(_RING, 0.01), _RING, 0.01),
    "grid-25": ToyDistribution("grid-25", "25 Gaussians on {−4, −2, 0, 2, 4}², σ = 0.05",
                               _mixture(_GRID, 0.05), _GRID, 0.05),
    "spiral": ToyDistribution("spiral", "one spiral arm of 1.5 turns, noise 0.02", _spiral),
    "two-moons": ToyDistribution("two-moons", "two interleaved half circles, noise 0.05", _two_moons),
    "gaussian": ToyDistribution("gaussian", "one isotropic Gaussian, σ = 0.5", _gaussian),
}


def get(name: str) -> ToyDistribution:
    """Look a distribution up by name; unknown names list the allowed ones."""
    if name not in TOY_DISTRIBUTIONS:
        raise ValueError(f"unknown toy distribution {name!r}; choose one of {sorted(TOY_DISTRIBUTIONS)}")
    return TOY_DISTRIBUTIONS[name]


def sample(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points of the named distribution, shape ``(n, 2)``."""
    return get(name).sample(n, generator)
