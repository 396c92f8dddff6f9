"""Mode-collapse metrics for the toy 2-D mixtures (lesson 10, the Mode Collapse Lab, benchmarks/mode_coverage.py).

PacGAN's protocol (Lin et al., 2018; VEEGAN, Srivastava et al., 2017): a sample is *high quality* within 3σ of its
nearest mode; a mode is *captured* when it is the nearest mode of one; *reverse KL* = Σ_k p_k log(p_k · K) over the
high-quality samples' mode histogram (``inf`` when there is none).
"""

from __future__ import annotations

import math

import torch

from gan_course.data import toy2d

SAMPLE_COUNT = 2500  # samples per evaluation in the published protocol
QUALITY_RADIUS = 3.0  # a sample is high quality within this many σ of its nearest mode


def _modes_of(distribution) -> tuple[torch.Tensor, float]:
    if isinstance(distribution, str):
        distribution = toy2d.get(distribution)
    if getattr(distribution, "modes", None) is None:
        with_modes = sorted(n for n, d in toy2d.TOY_DISTRIBUTIONS.items() if d.modes is not None)
        raise ValueError(f"distribution {getattr(distribution, 'name', distribution)!r} has no discrete modes; "
                         f"mode metrics need one of {with_modes}")
    return distribution.modes, float(distribution.sigma)


def _check_samples(samples: torch.Tensor) -> torch.Tensor:
    samples = torch.as_tensor(samples)
    if samples.ndim != 2 or samples.shape[1] != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must have shape (N, 2) with N >= 1, got {tuple(samples.shape)}")
    samples = samples.detach().float().cpu()
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or inf; the generator has diverged")
    return samples


def nearest_modes(samples: torch.Tensor, distribution) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of each sample's nearest mode and the distance to it, both shape (N,)."""
    samples = _check_samples(samples)
    modes, _ = _modes_of(distribution)
    distances = torch.cdist(samples, modes)  # (N, 2), (K, 2) -> (N, K)
    distance, index = distances.min(dim=1)  # (N, K) -> (N,)
    return index, distance


def mode_histogram(samples: torch.Tensor, distribution) -> torch.Tensor:
    """How many high-quality samples have each mode as nearest mode, shape (K,)."""
    modes, sigma = _modes_of(distribution)
    index, distance = nearest_modes(samples, distribution)
    good = distance <= QUALITY_RADIUS * sigma
    return torch.bincount(index[good], minlength=len(modes))  # (K,)


def mode_report(samples: torch.Tensor, distribution) -> tuple[dict, torch.Tensor]:
    """``mode_metrics`` and the mode histogram it was computed from, shape (K,), from one pass over the samples."""
    samples = _check_samples(samples)
    counts = mode_histogram(samples, distribution)
    total = counts.sum().item()
    if total == 0:
        reverse_kl = math.inf
    else:
        p = counts.double() / total
        nonzero = p[p > 0]
        reverse_kl = max(0.0, float((nonzero * torch.log(nonzero * len(counts))).sum()))
    return ({"modes": int((counts > 0).sum()), "high_quality": 100.0 * total / len(samples),
             "reverse_kl": reverse_kl}, counts)


def mode_metrics(samples: torch.Tensor, distribution) -> dict:
    """``{"modes", "high_quality" (% within 3σ), "reverse_kl"}`` against a registry name or a ``ToyDistribution``."""
    return mode_report(samples, distribution)[0]
