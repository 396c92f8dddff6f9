"""Evaluation: the Fréchet distance against closed forms and SciPy, the blur against SciPy, coverage against KL."""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage
import scipy.special
import torch
from torch import nn

from gan_course.evaluation import image_metrics


def scipy_frechet(mean_a, cov_a, mean_b, cov_b):
    """The textbook formula with a general matrix square root (as in the FID reference code)."""
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def random_cov(rng, dim):
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def test_frechet_closed_form_for_diagonal_gaussians():
    # For diagonal covariances: d² = ‖Δμ‖² + Σ_i (√a_i − √b_i)².
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 5.0 + ((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum()
    assert image_metrics.frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b)) == pytest.approx(expected)


def test_frechet_closed_form_for_scaled_covariance():
    # Σ_b = c² Σ_a commutes with Σ_a: d² = (1 − c)² tr Σ_a.
    rng = np.random.default_rng(0)
    cov = random_cov(rng, 6)
    assert image_metrics.frechet_distance(np.zeros(6), cov, np.zeros(6), 9 * cov) == pytest.approx(4 * np.trace(cov))


@pytest.mark.parametrize("seed", range(4))
def test_frechet_matches_scipy_sqrtm_and_is_symmetric(seed):
    rng = np.random.default_rng(seed)
    dim = 8
    mean_a, mean_b = rng.normal(size=dim), rng.normal(size=dim)
    cov_a, cov_b = random_cov(rng, dim), random_cov(rng, dim)
    ours = image_metrics.frechet_distance(mean_a, cov_a, mean_b, cov_b)
    assert ours == pytest.approx(scipy_frechet(mean_a, cov_a, mean_b, cov_b), rel=1e-6)
    assert ours == pytest.approx(image_metrics.frechet_distance(mean_b, cov_b, mean_a, cov_a), rel=1e-6)
    assert image_metrics.frechet_distance(mean_a, cov_a, mean_a, cov_a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_handles_singular_covariances():
    # Rank-deficient covariances (fewer samples than dimensions) must not give NaN or complex numbers.
    rng = np.random.default_rng(1)
    features = rng.normal(size=(5, 20))
    mean, cov = image_metrics.gaussian_statistics(features)
    distance = image_metrics.frechet_distance(mean, cov, mean + 1, cov)
    assert distance == pytest.approx(20.0, rel=1e-6)


def test_frechet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one D"):
        image_metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_gaussian_statistics_match_numpy():
    features = torch.randn(50, 4, dtype=torch.float64)
    mean, cov = image_metrics.gaussian_statistics(features)
    np.testing.assert_allclose(mean, features.numpy().mean(0))
    np.testing.assert_allclose(cov, np.cov(features.numpy(), rowvar=False))


def test_empirical_frechet_converges_to_the_gaussian_value():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, size=(20000, 3))
    b = rng.normal(1, 2, size=(20000, 3))
    estimate = image_metrics.frechet_distance(*image_metrics.gaussian_statistics(a), *image_metrics.gaussian_statistics(b))
    assert estimate == pytest.approx(3 * 1 + 3 * (2 - 1) ** 2, rel=0.05)


def test_gaussian_blur_matches_scipy_ndimage():
    images = torch.rand(3, 1, 28, 28, dtype=torch.float64) * 2 - 1
    ours = image_metrics.gaussian_blur(images, sigma=1.0)
    reference = np.stack([scipy.ndimage.gaussian_filter(img[0].numpy(), sigma=1.0, mode="nearest", truncate=3.0)
                          for img in images])[:, None]
    torch.testing.assert_close(ours, torch.from_numpy(reference))


def test_gaussian_blur_keeps_constants_and_smooths():
    constant = torch.full((2, 1, 28, 28), -1.0)
    torch.testing.assert_close(image_metrics.gaussian_blur(constant), constant)
    noise = torch.randn(2, 1, 28, 28)
    assert image_metrics.gaussian_blur(noise).std() < 0.5 * noise.std()
    with pytest.raises(ValueError, match="sigma"):
        image_metrics.gaussian_blur(noise, sigma=0)


def test_class_coverage_extremes_and_scipy_kl():
    uniform = torch.arange(1000) % 10
    result = image_metrics.class_coverage(uniform)
    assert result["classes_covered"] == 10 and result["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    collapsed = torch.full((1000,), 3)
    result = image_metrics.class_coverage(collapsed)
    assert result["classes_covered"] == 1 and result["kl_to_uniform"] == pytest.approx(math.log(10))
    mixed = torch.tensor([0] * 500 + [1] * 300 + [2] * 195 + [3] * 5)
    result = image_metrics.class_coverage(mixed)
    expected = scipy.special.rel_entr(np.array(result["histogram"]), np.full(10, 0.1)).sum()
    assert result["kl_to_uniform"] == pytest.approx(expected)
    assert result["classes_covered"] == 3  # class 3 holds 0.5 % < the 1 % threshold


def test_class_coverage_rejects_bad_labels():
    with pytest.raises(ValueError, match="class indices"):
        image_metrics.class_coverage(torch.tensor([0, 10]))


class TinyClassifier(nn.Module):
    """A fixed random network with the lesson-04 classifier's interface: features (B, 16), logits (B, 10)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh())
        self.head = nn.Linear(16, 10)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def test_evaluator_scores_its_own_reference_as_zero_and_noise_as_worse():
    torch.manual_seed(1)
    real = (torch.rand(400, 1, 28, 28) < 0.3).float() * 2 - 1
    evaluator = image_metrics.ImageEvaluator(TinyClassifier(), reference_images=real)
    same = evaluator.evaluate(real)
    assert same["fcd"] == pytest.approx(0.0, abs=1e-6) and same["count"] == 400
    noise = evaluator.evaluate(torch.rand(400, 1, 28, 28) * 2 - 1)
    blurred = evaluator.evaluate(image_metrics.gaussian_blur(real))
    assert noise["fcd"] > 0.1 and blurred["fcd"] > 0.1
    assert 0 <= same["kl_to_uniform"] <= math.log(10)
    with pytest.raises(ValueError, match="NaN"):
        evaluator.evaluate(torch.full((4, 1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        evaluator.evaluate(torch.zeros(4, 28, 28))


def test_generate_is_seeded_and_restores_training_mode():
    from gan_course.models import dcgan

    generator = dcgan.DCGANGenerator(latent_dim=8, base_channels=4)
    a = image_metrics.generate(generator, 30, seed=3, batch_size=7)
    b = image_metrics.generate(generator, 30, seed=3, batch_size=30)
    torch.testing.assert_close(a, b)
    assert a.shape == (30, 1, 28, 28) and generator.training


def test_evaluation_table_formats_rows():
    table = image_metrics.evaluation_table({"a": {"fcd": 1.234, "classes_covered": 10, "kl_to_uniform": 0.01}})
    assert "1.23" in table and "10" in table and "0.010" in table


def test_classify_uses_one_pass_only_when_the_head_matches():
    class WithHead(TinyClassifier):
        def __init__(self, honest):
            super().__init__()
            self.classifier, self.honest = self.head, honest

        def forward(self, x):
            logits = self.head(self.features(x))
            return logits if self.honest else -logits

    images = torch.rand(20, 1, 28, 28) * 2 - 1
    for honest in (True, False):
        model = WithHead(honest)
        features, predicted = image_metrics.classify(model, images, batch_size=7)
        torch.testing.assert_close(features, model.features(images))
        torch.testing.assert_close(predicted, model(images).argmax(1))


def test_precision_recall_hand_computed_one_dimensional_case():
    # Real points 0, 1, 2, 10 with k = 1: radii 1, 1, 1, 8 (nearest other point).
    # Fakes 0.5, 2.5, 20: 0.5 lies in B(0, 1); 2.5 in B(2, 1) (|2.5 − 2| = 0.5); 20 is 10 from the point 10 > 8.
    # -> precision 2/3. Fake radii (k = 1): 2 (0.5↔2.5), 2, 17.5. Reals covered by a fake ball: 0 (|0 − 0.5| ≤ 2),
    # 1, 2 (both within 2 of 0.5 or 2.5), 10 (|10 − 20| = 10 ≤ 17.5) -> recall 4/4.
    real = torch.tensor([[0.0], [1.0], [2.0], [10.0]])
    fake = torch.tensor([[0.5], [2.5], [20.0]])
    torch.testing.assert_close(image_metrics.knn_radii(real, k=1), torch.tensor([1.0, 1.0, 1.0, 8.0], dtype=torch.float64))
    result = image_metrics.precision_recall(real, fake, k=1)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(1.0)


def test_precision_recall_separates_collapse_from_spread():
    # A generator that puts every sample near one real cluster: high precision, low recall.
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    real = (centres.repeat_interleave(50, 0) + 0.5 * torch.randn(200, 2, generator=gen))
    collapsed = centres[0] + 0.5 * torch.randn(200, 2, generator=gen)
    result = image_metrics.precision_recall(real, collapsed, k=3)
    assert result["precision"] > 0.9 and result["recall"] < 0.35
    same = image_metrics.precision_recall(real, centres.repeat_interleave(50, 0) + 0.5 * torch.randn(200, 2, generator=gen))
    assert same["precision"] > 0.9 and same["recall"] > 0.9


def test_precision_recall_rejects_bad_input():
    with pytest.raises(ValueError, match="k"):
        image_metrics.knn_radii(torch.zeros(3, 2), k=3)
    with pytest.raises(ValueError, match="share D"):
        image_metrics.precision_recall(torch.zeros(4, 2), torch.zeros(4, 3))
