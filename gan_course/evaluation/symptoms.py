"""The measured symptoms of the mistakes lesson (14): distance to the ring's modes within an *absolute* radius,
loss jitter, where generated pixels sit, and how close image samples come to a reference set."""

from __future__ import annotations

import torch

from gan_course.evaluation import mode_metrics

ABSOLUTE_RADIUS = 0.1  # ten σ of ring-8, not σ-scaled (mode_metrics.QUALITY_RADIUS is 3σ): generous for short runs


def distance_to_modes(samples: torch.Tensor, distribution="ring-8", radius: float = ABSOLUTE_RADIUS) -> dict:
    """Mean distance of 2-D samples to their nearest mode (``mode_metrics.nearest_modes``), the fraction within
    ``radius`` (``high_quality``) and the number of modes holding ≥ 1 % of the samples within it."""
    index, distance = mode_metrics.nearest_modes(samples, distribution)
    close = distance < radius
    counts = torch.bincount(index[close])  # modes with no close sample never reach the 1 % bar
    return {"mean_distance": distance.mean().item(), "high_quality": close.float().mean().item(),
            "modes": int((counts >= 0.01 * len(samples)).sum())}


def loss_jitter(values) -> float:
    """Mean step-to-step change of a loss curve, mean |L_t − L_{t−1}|: large when training oscillates."""
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"loss_jitter needs a 1-D series of at least 2 values, got shape {tuple(values.shape)}")
    return (values[1:] - values[:-1]).abs().mean().item()


def pixel_report(fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    """Where generated pixels sit compared with real ones (both (B, 1, 28, 28)): ``exactly_zero``, ``fake_below_zero`` /
    ``real_below_zero``, ``background_gap`` (border pixels) and ``mean_gap`` (|mean fake image − mean real image|)."""
    if fake.ndim != 4 or real.ndim != 4 or fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"fake {tuple(fake.shape)} and real {tuple(real.shape)} must both be (B, C, H, W)")
    border = torch.ones(fake.shape[-2:], dtype=torch.bool)
    border[3:-3, 3:-3] = False
    return {"min": fake.min().item(), "max": fake.max().item(),
            "exactly_zero": (fake == 0).float().mean().item(),
            "fake_below_zero": (fake < 0).float().mean().item(), "real_below_zero": (real < 0).float().mean().item(),
            "background_gap": (fake[..., border].mean() - real[..., border].mean()).abs().item(),
            "mean_gap": (fake.mean(0) - real.mean(0)).abs().mean().item()}


def mean_image_gap(samples: torch.Tensor, references: torch.Tensor) -> float:
    """RMS over pixels of (mean generated image − mean reference image): how well G matches the references' mean."""
    return (samples.mean(dim=0) - references.mean(dim=0)).pow(2).mean().sqrt().item()


def nearest_distance(samples: torch.Tensor, references: torch.Tensor) -> float:
    """Mean over samples of the L2 distance (per pixel, RMS) to the nearest reference image."""
    flat_samples, flat_references = samples.flatten(1), references.flatten(1)  # (N, 784), (M, 784)
    return (torch.cdist(flat_samples, flat_references).min(dim=1).values / flat_samples.shape[1] ** 0.5).mean().item()
