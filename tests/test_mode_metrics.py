"""Mode metrics on hand-built samples: exact modes, one mode, far-away points, uneven shares, bad input."""

import math

import pytest
import torch

from gan_course.evaluation import mode_metrics
from gan_course.data import toy2d

MODAL = [name for name, dist in toy2d.TOY_DISTRIBUTIONS.items() if dist.modes is not None]


@pytest.mark.parametrize("name", MODAL)
def test_every_mode_exact_gives_full_coverage(name):
    modes = toy2d.get(name).modes
    samples = modes.repeat(10, 1)  # (10K, 2): every mode equally often, exactly on its centre
    result = mode_metrics.mode_metrics(samples, name)
    assert result["modes"] == len(modes)
    assert result["high_quality"] == pytest.approx(100.0)
    assert result["reverse_kl"] == pytest.approx(0.0, abs=1e-12)


def test_one_mode_only_gives_log_k():
    dist = toy2d.get("ring-8")
    samples = dist.modes[3] + 0.5 * dist.sigma * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    samples = samples.clamp(dist.modes[3] - dist.sigma, dist.modes[3] + dist.sigma)  # all within √2 σ < 3σ
    result = mode_metrics.mode_metrics(samples, dist)
    assert result["modes"] == 1
    assert result["high_quality"] == pytest.approx(100.0)
    assert result["reverse_kl"] == pytest.approx(math.log(8))


def test_far_away_points_are_not_high_quality():
    samples = torch.full((2500, 2), 10.0)
    result = mode_metrics.mode_metrics(samples, "ring-8")
    assert result == {"modes": 0, "high_quality": 0.0, "reverse_kl": math.inf}


def test_points_between_modes_count_as_low_quality():
    dist = toy2d.get("grid-25")
    inside = dist.modes + 2.9 * dist.sigma * torch.tensor([1.0, 0.0])  # (25, 2) just inside 3σ
    outside = dist.modes + 3.1 * dist.sigma * torch.tensor([0.0, 1.0])  # (25, 2) just outside
    result = mode_metrics.mode_metrics(torch.cat([inside, outside]), dist)
    assert result["modes"] == 25
    assert result["high_quality"] == pytest.approx(50.0)


def test_reverse_kl_matches_scipy_on_uneven_shares():
    from scipy.special import rel_entr
    modes = toy2d.get("ring-8").modes
    counts = torch.tensor([1, 2, 3, 4, 5, 6, 7, 0])
    samples = modes.repeat_interleave(counts, dim=0)  # uneven histogram, one mode missing
    result = mode_metrics.mode_metrics(samples, "ring-8")
    p = counts.double() / counts.sum()
    expected = float(rel_entr(p.numpy(), [1 / 8] * 8).sum())
    assert result["modes"] == 7
    assert result["reverse_kl"] == pytest.approx(expected)
    torch.testing.assert_close(mode_metrics.mode_histogram(samples, "ring-8"), counts)


@pytest.mark.parametrize("bad", [torch.zeros(10, 3), torch.zeros(10), torch.zeros(0, 2),
                                 torch.tensor([[float("nan"), 0.0]])])
def test_bad_samples_are_refused(bad):
    with pytest.raises(ValueError, match="samples"):
        mode_metrics.mode_metrics(bad, "ring-8")


def test_distribution_without_modes_is_refused():
    with pytest.raises(ValueError, match="ring-8"):
        mode_metrics.mode_metrics(torch.zeros(10, 2), "spiral")
    with pytest.raises(ValueError, match="unknown toy distribution"):
        mode_metrics.mode_metrics(torch.zeros(10, 2), "ring-9")


def test_mode_metrics_of_your_own_mixture_and_the_histogram():
    mix = toy2d.mixture([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]], sigma=0.2)
    samples = torch.cat([mix.modes[0].repeat(30, 1), mix.modes[1].repeat(10, 1), torch.tensor([[9.0, 9.0]])])
    result, counts = mode_metrics.mode_report(samples, mix)
    assert counts.tolist() == [30, 10, 0] and result == mode_metrics.mode_metrics(samples, mix)
    assert result["modes"] == 2 and result["high_quality"] == pytest.approx(100 * 40 / 41)
    p = torch.tensor([0.75, 0.25])
    assert result["reverse_kl"] == pytest.approx(float((p * torch.log(p * 3)).sum()))
