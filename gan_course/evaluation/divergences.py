"""Divergences and distances between probability distributions: KL, JS, Gaussian KL, Wasserstein-1 (lesson 08),
energy distance (lesson 10).

Discrete distributions are tensors whose last dimension is the support; logs are natural unless ``base=2``.
Kullback & Leibler (1951); Lin (1991); Goodfellow et al. (2014); Arjovsky et al. (2017).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

# base -> ln(base): divide a result in nats by this to express it in that base
LOG_BASES = {"e": 1.0, 2: math.log(2.0)}
SUM_TOLERANCE = 1e-4  # how far a row's sum may stray from 1 (float32 rounding of a normalised histogram)


def _log_of_base(base) -> float:
    if isinstance(base, bool) or base not in LOG_BASES:
        raise ValueError(f"log base {base!r} is not supported; use one of {list(LOG_BASES)} ('e' = nats, 2 = bits)")
    return LOG_BASES[base]


def check_distribution(p: Tensor, name: str = "p", tolerance: float = SUM_TOLERANCE) -> Tensor:
    """Return ``p`` as a floating tensor after checking it is a distribution over its last dimension."""
    p = torch.as_tensor(p)
    if not p.is_floating_point():
        p = p.to(torch.get_default_dtype())
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"{name} must have a support along its last dimension, got shape {tuple(p.shape)}")
    if torch.isnan(p).any():
        raise ValueError(f"{name} contains NaN")
    if (p < 0).any():
        raise ValueError(f"{name} has negative entries (smallest {p.min().item():.3g}); probabilities are >= 0")
    sums = p.sum(-1)
    worst = (sums - 1).abs().max().item()
    if worst > tolerance:
        raise ValueError(f"{name} must sum to 1 over its last dimension; a row sums to "
                         f"{sums.flatten()[(sums - 1).abs().argmax()].item():.6g} (off by {worst:.3g})")
    return p


def _check_pair(p: Tensor, q: Tensor) -> tuple[Tensor, Tensor]:
    p, q = check_distribution(p, "p"), check_distribution(q, "q")
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"p and q must share the support (last dimension): {tuple(p.shape)} vs {tuple(q.shape)}")
    dtype = torch.promote_types(p.dtype, q.dtype)
    return p.to(dtype), q.to(dtype)


def kl(p: Tensor, q: Tensor, base="e") -> Tensor:
    """KL(P‖Q) = Σ_x p(x) · log(p(x) / q(x)) over the last dimension; 0·log 0 = 0, p > 0 = q gives +inf."""
    scale = _log_of_base(base)
    p, q = _check_pair(p, q)
    safe_p = torch.where(p > 0, p, torch.ones_like(p))  # keeps log finite (and gradients clean) where p = 0
    terms = torch.where(p > 0, p * (torch.log(safe_p) - torch.log(q)), torch.zeros_like(p))
    return terms.sum(-1) / scale


def js(p: Tensor, q: Tensor, base="e") -> Tensor:
    """JS(P‖Q) = ½KL(P‖M) + ½KL(Q‖M), M = ½(P + Q): symmetric, 0 ≤ JS ≤ log 2 (reached for disjoint supports)."""
    p, q = _check_pair(p, q)
    m = 0.5 * (p + q)  # m > 0 wherever p > 0 or q > 0, so neither KL below is infinite
    return 0.5 * kl(p, m, base) + 0.5 * kl(q, m, base)


def gaussian_kl(mu1, sigma1, mu2, sigma2) -> Tensor:
    """KL(N(μ1, σ1²) ‖ N(μ2, σ2²)) = log(σ2/σ1) + (σ1² + (μ1 − μ2)²) / (2σ2²) − ½, in nats (broadcasts)."""
    mu1, sigma1, mu2, sigma2 = (torch.as_tensor(v, dtype=torch.get_default_dtype())
                                if not torch.is_tensor(v) else v for v in (mu1, sigma1, mu2, sigma2))
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if (sigma <= 0).any():
            raise ValueError(f"{name} must be > 0 (a standard deviation), got {sigma}")
    return torch.log(sigma2 / sigma1) + (sigma1 ** 2 + (mu1 - mu2) ** 2) / (2 * sigma2 ** 2) - 0.5


def monte_carlo_kl(log_p: Callable[[Tensor], Tensor], log_q: Callable[[Tensor], Tensor], samples: Tensor) -> Tensor:
    """Monte-Carlo KL for densities: KL(P‖Q) ≈ (1/N) Σ_i [log p(x_i) − log q(x_i)] with x_i ~ P (``samples``)."""
    return (log_p(samples) - log_q(samples)).mean()


def kl_on_grid(log_p: Tensor, log_q: Tensor, x: Tensor) -> Tensor:
    """KL of densities by the trapezoid rule on sorted points ``x``: ∫ p (log p − log q) dx; differentiable."""
    if not (log_p.shape == log_q.shape == x.shape) or x.ndim != 1:
        raise ValueError(f"log_p {tuple(log_p.shape)}, log_q {tuple(log_q.shape)} and x {tuple(x.shape)} "
                         "must be 1-D and of the same shape")
    integrand = torch.exp(log_p) * (log_p - log_q)
    return torch.trapezoid(integrand, x)


def wasserstein_1d(samples_a: Tensor, samples_b: Tensor, weights_a: Tensor | None = None,
                   weights_b: Tensor | None = None) -> Tensor:
    """Wasserstein-1 distance in 1-D: W1 = ∫ |F_a(x) − F_b(x)| dx (optionally weighted, as ``scipy.stats``).

    Two unweighted samples of equal size: (1/N) Σ_i |a_(i) − b_(i)| over the sorted samples (differentiable).
    """
    a, b = torch.as_tensor(samples_a), torch.as_tensor(samples_b)
    if a.ndim != 1 or b.ndim != 1 or a.numel() == 0 or b.numel() == 0:
        raise ValueError(f"wasserstein_1d expects two non-empty 1-D sample tensors, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    dtype = torch.promote_types(torch.promote_types(a.dtype, b.dtype), torch.get_default_dtype())
    a, b = a.to(dtype), b.to(dtype)
    if weights_a is None and weights_b is None and a.numel() == b.numel():
        return (torch.sort(a).values - torch.sort(b).values).abs().mean()
    weights_a = _check_weights(weights_a, a, "weights_a")
    weights_b = _check_weights(weights_b, b, "weights_b")
    order_a, order_b = torch.argsort(a), torch.argsort(b)
    a, weights_a = a[order_a], weights_a[order_a]
    b, weights_b = b[order_b], weights_b[order_b]
    support = torch.sort(torch.cat([a, b])).values  # (Na + Nb,)
    widths = support[1:] - support[:-1]  # (Na + Nb − 1,)
    cdf_a = _cdf_at(a, weights_a, support[:-1])
    cdf_b = _cdf_at(b, weights_b, support[:-1])
    return ((cdf_a - cdf_b).abs() * widths).sum()


def _check_weights(weights: Tensor | None, samples: Tensor, name: str) -> Tensor:
    if weights is None:
        return torch.full_like(samples, 1.0 / samples.numel())
    weights = torch.as_tensor(weights, dtype=samples.dtype)
    if weights.shape != samples.shape:
        raise ValueError(f"{name} must have the samples' shape {tuple(samples.shape)}, got {tuple(weights.shape)}")
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"{name} must be non-negative with a positive sum")
    return weights / weights.sum()


def _cdf_at(sorted_samples: Tensor, weights: Tensor, points: Tensor) -> Tensor:
    """Empirical CDF F(t) = Σ_{x_i ≤ t} w_i at each point t."""
    cumulative = torch.cat([weights.new_zeros(1), torch.cumsum(weights, 0)])  # (N + 1,)
    return cumulative[torch.searchsorted(sorted_samples, points, right=True)]


def energy_distance(x: Tensor, y: Tensor, unbiased: bool = True) -> Tensor:
    """Squared energy distance between two samples of points: 2·E|X − Y| − E|X − X'| − E|Y − Y'|.

    ``x`` (N, D), ``y`` (M, D). Zero only for equal distributions (Székely & Rizzo, 2013); the MMD² of the kernel
    −|a − b| (Sejdinovic et al., 2013). ``unbiased`` drops each point's zero distance to itself (a U-statistic);
    ``unbiased=False`` is the plug-in value, ``scipy.stats.energy_distance(x, y) ** 2`` for 1-D data.
    """
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"energy_distance expects x (N, D) and y (M, D) with the same D, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    minimum = 2 if unbiased else 1
    if x.shape[0] < minimum or y.shape[0] < minimum:
        raise ValueError(f"energy_distance needs at least {minimum} points in each sample (unbiased={unbiased}), "
                         f"got {x.shape[0]} and {y.shape[0]}")
    dtype = torch.promote_types(torch.promote_types(x.dtype, y.dtype), torch.get_default_dtype())
    x, y = x.to(dtype), y.to(dtype)

    def distances(a: Tensor, b: Tensor) -> Tensor:  # (N, M); direct differences, not the |a|² + |b|² − 2ab
        return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")  # trick: exact for close points

    def within(points: Tensor) -> Tensor:  # E|X − X'|; the diagonal (each point to itself) is 0
        n = points.shape[0]
        return distances(points, points).sum() / (n * (n - 1) if unbiased else n * n)

    return 2 * distances(x, y).mean() - within(x) - within(y)
