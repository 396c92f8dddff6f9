"""Tests for gan_course.evaluation.divergences against SciPy (rel_entr, jensenshannon, wasserstein_distance), closed forms
checked by Monte Carlo, and the laws of KL and JS as hypothesis property tests."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr
from scipy.stats import energy_distance, wasserstein_distance

from gan_course.evaluation import divergences

LOG2 = math.log(2.0)


def random_distributions(rows=5, support=7, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, support, generator=g, dtype=dtype) + 1e-3
    return x / x.sum(-1, keepdim=True)


def distributions(support):
    """Hypothesis strategy: a probability vector of the given size, some entries possibly exactly zero."""
    weights = st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1.0)), min_size=support, max_size=support)
    return weights.filter(lambda w: sum(w) > 0).map(lambda w: torch.tensor(w, dtype=torch.float64) / sum(w))


def test_kl_matches_scipy_rel_entr_in_nats_and_bits():
    p, q = random_distributions(seed=1), random_distributions(seed=2)
    expected = torch.from_numpy(rel_entr(p.numpy(), q.numpy()).sum(-1))
    torch.testing.assert_close(divergences.kl(p, q), expected)
    torch.testing.assert_close(divergences.kl(p, q, base=2), expected / LOG2)


def test_kl_is_asymmetric():
    p = torch.tensor([0.9, 0.1])
    q = torch.tensor([0.5, 0.5])
    forward, reverse = divergences.kl(p, q).item(), divergences.kl(q, p).item()
    assert forward == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2))
    assert reverse == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(5.0))
    assert abs(forward - reverse) > 0.1


def test_kl_is_infinite_where_q_is_zero_but_p_is_not_and_zero_p_terms_count_nothing():
    p = torch.tensor([0.5, 0.5, 0.0])
    q = torch.tensor([0.5, 0.0, 0.5])
    assert divergences.kl(p, q).item() == math.inf
    assert divergences.kl(q, p).item() == math.inf
    # p(x) = 0 where q(x) > 0 adds nothing: 0 · log 0 = 0
    r = torch.tensor([1.0, 0.0, 0.0])
    torch.testing.assert_close(divergences.kl(r, p), torch.tensor(math.log(2.0)))
    assert math.isfinite(divergences.js(p, q).item())


def test_js_matches_scipy_jensenshannon_squared():
    p, q = random_distributions(seed=3), random_distributions(seed=4)
    for base, scipy_base in (("e", None), (2, 2)):
        expected = torch.from_numpy(jensenshannon(p.numpy(), q.numpy(), axis=-1, base=scipy_base) ** 2)
        torch.testing.assert_close(divergences.js(p, q, base=base), expected)


def test_js_of_disjoint_supports_is_exactly_log2_nats_and_one_bit():
    p = torch.tensor([0.3, 0.7, 0.0, 0.0])
    q = torch.tensor([0.0, 0.0, 0.6, 0.4])
    torch.testing.assert_close(divergences.js(p, q), torch.tensor(LOG2))
    torch.testing.assert_close(divergences.js(p, q, base=2), torch.tensor(1.0))


def test_gan_value_at_the_optimal_discriminator_is_2js_minus_log4():
    p, q = random_distributions(rows=1, seed=5)[0], random_distributions(rows=1, seed=6)[0]
    best = p / (p + q)
    value = (p * torch.log(best)).sum() + (q * torch.log(1 - best)).sum()
    torch.testing.assert_close(value, 2 * divergences.js(p, q) - math.log(4.0))


@pytest.mark.parametrize("base", [10, "2", "nats", 2.5, True])
def test_unsupported_bases_are_refused_naming_the_allowed_ones(base):
    p = torch.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match=r"log base .* use one of \['e', 2\]"):
        divergences.kl(p, p, base=base)
    with pytest.raises(ValueError, match="log base"):
        divergences.js(p, p, base=base)


@pytest.mark.parametrize("bad, message", [
    (torch.tensor([0.7, 0.5]), "must sum to 1"),
    (torch.tensor([1.2, -0.2]), "negative entries"),
    (torch.tensor([math.nan, 1.0]), "NaN"),
    (torch.tensor(1.0), "support"),
])
def test_invalid_distributions_are_refused_with_a_clear_message(bad, message):
    good = torch.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match=message):
        divergences.kl(bad, good)
    with pytest.raises(ValueError, match=message):
        divergences.js(good, bad)


def test_mismatched_supports_are_refused():
    with pytest.raises(ValueError, match="share the support"):
        divergences.kl(torch.tensor([0.5, 0.5]), torch.tensor([0.2, 0.3, 0.5]))


def test_gaussian_kl_matches_monte_carlo_and_is_zero_for_equal_gaussians():
    g = torch.Generator().manual_seed(0)
    mu1, sigma1, mu2, sigma2 = 0.5, 0.8, -1.0, 1.7
    p = torch.distributions.Normal(torch.tensor(mu1, dtype=torch.float64), torch.tensor(sigma1, dtype=torch.float64))
    q = torch.distributions.Normal(torch.tensor(mu2, dtype=torch.float64), torch.tensor(sigma2, dtype=torch.float64))
    samples = mu1 + sigma1 * torch.randn(400_000, generator=g, dtype=torch.float64)
    estimate = divergences.monte_carlo_kl(p.log_prob, q.log_prob, samples)
    exact = divergences.gaussian_kl(torch.tensor(mu1), torch.tensor(sigma1), torch.tensor(mu2), torch.tensor(sigma2))
    torch.testing.assert_close(exact.double(), estimate, atol=5e-3, rtol=0)
    torch.testing.assert_close(exact.double(), torch.distributions.kl_divergence(p, q), atol=1e-6, rtol=1e-6)
    assert divergences.gaussian_kl(1.0, 2.0, 1.0, 2.0).item() == pytest.approx(0.0, abs=1e-7)


def test_gaussian_kl_refuses_non_positive_sigma():
    with pytest.raises(ValueError, match="sigma2 must be > 0"):
        divergences.gaussian_kl(0.0, 1.0, 0.0, 0.0)


def test_kl_on_grid_matches_the_gaussian_closed_form_and_has_gradients():
    x = torch.linspace(-15, 15, 3001, dtype=torch.float64)
    mu = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    log_p = torch.distributions.Normal(mu, 1.5).log_prob(x)
    log_q = torch.distributions.Normal(0.0, 1.0).log_prob(x)
    value = divergences.kl_on_grid(log_p, log_q, x)
    torch.testing.assert_close(value, divergences.gaussian_kl(mu, torch.tensor(1.5, dtype=torch.float64),
                                                              torch.tensor(0.0, dtype=torch.float64),
                                                              torch.tensor(1.0, dtype=torch.float64)))
    value.backward()
    torch.testing.assert_close(mu.grad, torch.tensor(1.0, dtype=torch.float64))  # d/dμ of μ²/2 at μ = 1


def test_wasserstein_1d_matches_scipy_for_equal_and_unequal_sizes_and_weights():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, generator=g, dtype=torch.float64)
    b = 0.5 * torch.randn(300, generator=g, dtype=torch.float64) + 1.0
    c = torch.rand(170, generator=g, dtype=torch.float64) * 3
    weights = torch.rand(170, generator=g, dtype=torch.float64)
    torch.testing.assert_close(divergences.wasserstein_1d(a, b),
                               torch.tensor(wasserstein_distance(a.numpy(), b.numpy()), dtype=torch.float64))
    torch.testing.assert_close(divergences.wasserstein_1d(a, c),
                               torch.tensor(wasserstein_distance(a.numpy(), c.numpy()), dtype=torch.float64))
    torch.testing.assert_close(divergences.wasserstein_1d(a, c, weights_b=weights),
                               torch.tensor(wasserstein_distance(a.numpy(), c.numpy(), v_weights=weights.numpy()),
                                            dtype=torch.float64))


def test_wasserstein_1d_of_a_shift_is_the_shift_and_refuses_bad_shapes():
    a = torch.randn(500, generator=torch.Generator().manual_seed(1))
    for shift in (0.0, 0.3, 7.0):
        torch.testing.assert_close(divergences.wasserstein_1d(a, a + shift), torch.tensor(shift), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="1-D sample tensors"):
        divergences.wasserstein_1d(a.reshape(50, 10), a)
    with pytest.raises(ValueError, match="weights_a must have the samples' shape"):
        divergences.wasserstein_1d(a, a[:10], weights_a=torch.ones(3))


def test_energy_distance_matches_scipy_in_1d_and_is_zero_in_expectation_for_one_distribution():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(200, generator=g, dtype=torch.float64)
    b = 2.0 * torch.rand(130, generator=g, dtype=torch.float64)
    expected = torch.tensor(energy_distance(a.numpy(), b.numpy()) ** 2, dtype=torch.float64)  # SciPy: square root
    torch.testing.assert_close(divergences.energy_distance(a[:, None], b[:, None], unbiased=False), expected)
    # by hand on two tiny 2-D samples: 2·E|X−Y| − E|X−X'| − E|Y−Y'| with the self-pairs left out
    x, y = torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    by_hand = 2 * (0 + 1 + 5 + math.sqrt(18)) / 4 - 5 - 1
    torch.testing.assert_close(divergences.energy_distance(x, y), torch.tensor(by_hand))
    # the unbiased estimate of two samples of one distribution averages to 0; a shifted sample is clearly positive
    points = torch.randn(40, 400, 2, generator=g)
    same = torch.stack([divergences.energy_distance(p[:200], p[200:]) for p in points])
    assert abs(same.mean().item()) < 3 * same.std().item() / math.sqrt(len(same))
    assert divergences.energy_distance(points[0], points[1] + 0.5).item() > 10 * same.std().item()
    assert divergences.energy_distance(points[0], points[1]) == divergences.energy_distance(points[1], points[0])


def test_energy_distance_pulls_points_from_a_full_mode_toward_an_empty_one_and_refuses_bad_shapes():
    real = torch.cat([torch.zeros(50, 2), torch.tensor([[4.0, 0.0]]).repeat(50, 1)])  # two modes, half each
    fake = torch.cat([torch.zeros(90, 2), torch.tensor([[4.0, 0.0]]).repeat(10, 1)])  # mode at 0 over-full
    fake.requires_grad_(True)
    divergences.energy_distance(fake, real).backward()
    assert (-fake.grad[:90, 0] > 0).all(), "descent moves the over-full mode's points toward the empty one"
    with pytest.raises(ValueError, match=r"x \(N, D\) and y \(M, D\) with the same D"):
        divergences.energy_distance(torch.zeros(5, 2), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="at least 2 points"):
        divergences.energy_distance(torch.zeros(1, 2), torch.zeros(5, 2))


@settings(max_examples=60, deadline=None)
@given(distributions(6), distributions(6))
def test_kl_is_non_negative_and_zero_only_for_equal_distributions(p, q):
    forward = divergences.kl(p, q).item()
    assert forward >= -1e-12
    assert divergences.kl(p, p).item() == pytest.approx(0.0, abs=1e-12)
    if not torch.allclose(p, q, atol=1e-6):
        assert forward > 0


@settings(max_examples=60, deadline=None)
@given(distributions(5), distributions(5))
def test_js_is_symmetric_and_bounded_by_log2_nats_and_one_bit(p, q):
    nats, bits = divergences.js(p, q), divergences.js(p, q, base=2)
    torch.testing.assert_close(nats, divergences.js(q, p))
    assert -1e-12 <= nats.item() <= LOG2 + 1e-12
    assert -1e-12 <= bits.item() <= 1 + 1e-12
    torch.testing.assert_close(bits, nats / LOG2)
    if not torch.allclose(p, q, atol=1e-6):
        assert nats.item() > 0


def test_numpy_input_and_batches_work():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    q = np.array([[0.5, 0.5], [0.5, 0.5]])
    value = divergences.kl(p, q)
    assert value.shape == (2,)
    assert value[1].item() == pytest.approx(0.0)
