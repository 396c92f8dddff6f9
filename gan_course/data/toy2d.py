"""Toy 2-D distributions for the GAN lessons (09, 10) and the Mode Collapse Lab.

Ring = 8 Gaussians at radius 1, σ = 0.01; grid = 25 Gaussians on {−4, −2, 0, 2, 4}², σ = 0.05 (PacGAN, Lin et al.,
2018). Spiral and two moons have no discrete modes. Own data: ``mixture``, ``point_cloud``, ``from_csv``,
``as_distribution``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from gan_course.core import runtime


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
    return runtime.lookup(TOY_DISTRIBUTIONS, name, "toy distribution")


def sample(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points of the named distribution, shape ``(n, 2)``."""
    return get(name).sample(n, generator)


CUSTOM = "custom"  # the name of user data in the lab (``LabConfig(target="custom")``)


def _points(values, what: str) -> torch.Tensor:
    points = torch.as_tensor(values, dtype=torch.float32)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 1:
        raise ValueError(f"{what} must have shape (N, 2) with N >= 1, got {tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError(f"{what} contain NaN or inf")
    return points.clone()


def mixture(centres, sigma: float, name: str = CUSTOM) -> ToyDistribution:
    """A mixture spec: equal-weight Gaussians N(centre_k, σ²I); its modes give mode metrics like ring and grid."""
    modes = _points(centres, "mixture centres")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma < math.inf:
        raise ValueError(f"sigma must be a positive finite number, got {sigma!r}")
    return ToyDistribution(name, f"{len(modes)} Gaussians of your own, σ = {sigma:g}", _mixture(modes, float(sigma)),
                           modes, float(sigma))


def point_cloud(points, name: str = CUSTOM) -> ToyDistribution:
    """Any (N, 2) cloud, sampled with replacement; it has no discrete modes (no mode metrics)."""
    cloud = _points(points, "points")

    def sampler(n, generator=None):
        return cloud[torch.randint(len(cloud), (n,), generator=generator)]
    return ToyDistribution(name, f"{len(cloud)} points of your own", sampler)


def from_csv(path: str | Path, name: str = CUSTOM) -> ToyDistribution:
    """Read columns ``x, y`` (a point cloud) or ``x, y, sigma`` (a mixture spec: one centre per row, one σ)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"x", "y"} <= set(rows[0]):
        raise ValueError(f"{path} needs a header with columns x, y (and sigma for a mixture spec)")
    try:
        points = [[float(row["x"]), float(row["y"])] for row in rows]
        sigmas = {float(row["sigma"]) for row in rows} if "sigma" in rows[0] else None
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: every x, y (and sigma) must be a number ({err})") from err
    if sigmas is None:
        return point_cloud(points, name)
    if len(sigmas) != 1:
        raise ValueError(f"{path}: a mixture spec has one sigma for every mode, got {sorted(sigmas)}")
    return mixture(points, sigmas.pop(), name)


def as_distribution(data) -> ToyDistribution:
    """A ``ToyDistribution`` from a distribution, a registry name, a CSV path, ``{"centres", "sigma"}`` or
    ``{"points"}`` (what ``spec`` returns), or an (N, 2) tensor/array of points."""
    if isinstance(data, ToyDistribution):
        return data
    if isinstance(data, Path) or (isinstance(data, str) and data.endswith(".csv")):
        return from_csv(data)
    if isinstance(data, str):
        return get(data)
    if isinstance(data, dict):
        if set(data) == {"centres", "sigma"}:
            return mixture(data["centres"], data["sigma"])
        if set(data) == {"points"}:
            return point_cloud(data["points"])
        raise ValueError(f"a data spec has keys centres+sigma or points, got {sorted(data)}")
    return point_cloud(data)


def spec(distribution: ToyDistribution) -> dict:
    """What rebuilds ``distribution`` with ``as_distribution``: centres and σ, or a sample of 4,096 points."""
    if distribution.modes is not None:
        return {"centres": distribution.modes.clone(), "sigma": float(distribution.sigma)}
    return {"points": distribution.sample(4096, torch.Generator().manual_seed(0))}
