"""Honest numbers for generated Fashion-MNIST images: a Fréchet distance, class coverage, precision/recall.

FCD: the FID recipe (Heusel et al., 2017) on the lesson-04 classifier's penultimate features,
FCD = ‖μ_r − μ_g‖² + tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^½); comparable only with itself at the same sample count.
Class coverage: classes with share ≥ ``min_share`` and KL(p ‖ uniform). Precision and recall: Kynkäänniemi et al., 2019.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_course.core import checkpoints, runtime

NUM_CLASSES = 10
IMAGE_SHAPE = (1, 28, 28)
DEFAULT_MIN_SHARE = 0.01  # a class is covered when at least 1 % of the samples are predicted as it
BLUR_SIGMA = 1.0  # pixels, for the blurred-test-set reference
_STATS_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _check_images(images: Tensor, name: str = "images") -> None:
    if not isinstance(images, Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"{name} must have shape (N, 1, 28, 28) in [-1, 1], got {shape}")
    if images.shape[0] < 2:
        raise ValueError(f"{name}: need at least 2 images for a covariance, got {images.shape[0]}")


def gaussian_statistics(features: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance Σ = XcᵀXc / (N − 1) (D, D) of features (N, D), in float64."""
    x = torch.as_tensor(features).detach().cpu().double()
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2, got {tuple(x.shape)}")
    mean = x.mean(dim=0)  # (D,)
    centred = x - mean  # (N, D)
    return mean.numpy(), (centred.T @ centred / (x.shape[0] - 1)).numpy()


def _symmetric_sqrt(matrix: Tensor) -> Tensor:
    """Square root of a symmetric positive semi-definite matrix via its eigen-decomposition A = V Λ Vᵀ → V Λ^½ Vᵀ."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """Fréchet (2-Wasserstein) distance² between N(μ_a, Σ_a) and N(μ_b, Σ_b).

    d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½), with tr (Σ_a Σ_b)^½ = Σ √λ_i(Σ_a^½ Σ_b Σ_a^½): the
    eigenvalues of a symmetric PSD matrix (no complex parts, unlike ``sqrtm``); torch float64.
    """
    mean_a, mean_b = (torch.as_tensor(np.asarray(m, np.float64)) for m in (mean_a, mean_b))
    cov_a, cov_b = (torch.atleast_2d(torch.as_tensor(np.asarray(c, np.float64))) for c in (cov_a, cov_b))
    dim = mean_a.shape[0] if mean_a.ndim == 1 else -1
    if mean_a.shape != (dim,) or mean_b.shape != (dim,) or cov_a.shape != (dim, dim) or cov_b.shape != (dim, dim):
        raise ValueError(f"means must be (D,) and covariances (D, D) with one D; got {tuple(mean_a.shape)}, "
                         f"{tuple(cov_a.shape)}, {tuple(mean_b.shape)}, {tuple(cov_b.shape)}")
    root_a = _symmetric_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a  # (D, D), symmetric PSD
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    distance = ((mean_a - mean_b) ** 2).sum() + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt
    return float(max(distance.item(), 0.0))


def gaussian_blur(images: Tensor, sigma: float = BLUR_SIGMA) -> Tensor:
    """Blur (N, C, H, W) images with a separable Gaussian of std ``sigma`` px (radius ⌈3σ⌉), edges replicated."""
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()  # (k,)
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")  # (N, C, H+2r, W+2r)
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)  # (N,C,H+2r,W)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)  # (N, C, H, W)


def class_coverage(predicted: Tensor, num_classes: int = NUM_CLASSES,
                   min_share: float = DEFAULT_MIN_SHARE) -> dict:
    """Histogram of predicted classes, classes covered (share ≥ ``min_share``) and KL(p ‖ uniform) in nats."""
    predicted = torch.as_tensor(predicted)
    if predicted.ndim != 1 or predicted.numel() == 0:
        raise ValueError(f"predicted must be a non-empty (N,) tensor of class indices, got {tuple(predicted.shape)}")
    if predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(f"class indices must lie in [0, {num_classes}), got {int(predicted.min())}.."
                         f"{int(predicted.max())}")
    if not 0 <= min_share < 1:
        raise ValueError(f"min_share must lie in [0, 1), got {min_share!r}")
    shares = torch.bincount(predicted.long(), minlength=num_classes).double() / predicted.numel()  # (K,)
    nonzero = shares[shares > 0]
    kl = float((nonzero * torch.log(nonzero * num_classes)).sum())  # 0·log 0 = 0
    return {"histogram": shares.tolist(), "classes_covered": int((shares >= max(min_share, 1e-12)).sum()),
            "kl_to_uniform": kl}


def knn_radii(features: Tensor, k: int = 3) -> Tensor:
    """Distance of every point (N, D) to its k-th nearest neighbour among the *other* points: (N,)."""
    features = torch.as_tensor(features, dtype=torch.float64)
    if features.ndim != 2 or not isinstance(k, int) or not 1 <= k < features.shape[0]:
        raise ValueError(f"need features (N, D) with 1 <= k < N, got shape {tuple(features.shape)} and k={k!r}")
    distances = torch.cdist(features, features)  # (N, N), 0 on the diagonal
    return distances.kthvalue(k + 1, dim=1).values  # the 1st smallest is the point itself


def manifold_coverage(points: Tensor, centres: Tensor, k: int = 3) -> float:
    """Share of ``points`` (M, D) inside at least one ball B(c, r_k(c)) around ``centres`` (N, D)."""
    points, centres = (torch.as_tensor(t, dtype=torch.float64) for t in (points, centres))
    if points.ndim != 2 or centres.ndim != 2 or points.shape[1] != centres.shape[1]:
        raise ValueError(f"points (M, D) and centres (N, D) must share D, got {tuple(points.shape)} and "
                         f"{tuple(centres.shape)}")
    radii = knn_radii(centres, k)  # (N,)
    inside = torch.cdist(points, centres) <= radii  # (M, N): point m in the ball of centre n
    return inside.any(dim=1).double().mean().item()


def precision_recall(real_features: Tensor, fake_features: Tensor, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019) of fake features against real ones, k-NN balls.

    precision = share of fakes inside the real manifold ∪ B(x, r_k(x)); recall = share of reals inside the fake one.
    """
    return {"precision": manifold_coverage(fake_features, real_features, k),
            "recall": manifold_coverage(real_features, fake_features, k)}


def _matching_head(classifier: nn.Module, probe: Tensor) -> nn.Module | None:
    """``classifier.classifier`` when logits = classifier.classifier(features) holds on a probe batch (one pass
    instead of two), else None."""
    head = getattr(classifier, "classifier", None)
    if not isinstance(head, nn.Module):
        return None
    try:
        same = torch.allclose(head(classifier.features(probe)), classifier(probe), atol=1e-5)
    except (RuntimeError, ValueError):
        return None
    return head if same else None


@torch.no_grad()
def classify(classifier: nn.Module, images: Tensor, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """Penultimate features (N, D) and predicted classes (N,) from ``classifier`` (eval mode, batched)."""
    _check_images(images)
    features, predicted = [], []
    with runtime.evaluating(classifier):
        head = _matching_head(classifier, images[:2].float())
        for start in range(0, images.shape[0], batch_size):
            batch = images[start:start + batch_size].float()
            batch_features = classifier.features(batch)  # (b, 1, 28, 28) -> (b, D)
            logits = head(batch_features) if head is not None else classifier(batch)  # (b, K)
            features.append(batch_features)
            predicted.append(logits.argmax(dim=1))  # (b, K) -> (b,)
    return torch.cat(features), torch.cat(predicted)


@torch.no_grad()
def generate(generator: nn.Module, count: int, seed: int = 0, batch_size: int = 1000) -> Tensor:
    """``count`` images from ``generator`` in eval mode (BatchNorm running statistics), from a seeded noise stream."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    rng = torch.Generator().manual_seed(seed)
    with runtime.evaluating(generator):
        # all the noise at once, so the images do not depend on batch_size
        z = generator.sample_latent(count, rng) if hasattr(generator, "sample_latent") else \
            torch.randn(count, generator.latent_dim, generator=rng)  # (N, Z)
        images = [generator(z[start:start + batch_size]).cpu() for start in range(0, count, batch_size)]
    return torch.cat(images)


def _fingerprint(classifier: nn.Module) -> str:
    digest = hashlib.sha1()
    for name, tensor in classifier.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def default_classifier() -> nn.Module:
    """The lesson-04 Fashion-MNIST classifier (trained on first use, then loaded from its checkpoint)."""
    from gan_course.evaluation.judge import get_fashion_classifier  # imported late: it may train on first call

    model, _ = get_fashion_classifier(train_if_missing=True, progress=False)
    return model


class ImageEvaluator:
    """FCD and class coverage of generated images against the Fashion-MNIST test set, reusing cached statistics.

    ``evaluate(images)`` → ``{"fcd", "classes_covered", "kl_to_uniform", "histogram", "count"}``; the test set's
    statistics are cached in memory and on disk, keyed by a hash of the classifier's weights.
    """

    def __init__(self, classifier: nn.Module | None = None, reference_images: Tensor | None = None,
                 reference_count: int | None = None, min_share: float = DEFAULT_MIN_SHARE, cache_file: bool = True):
        if reference_count is not None and (not isinstance(reference_count, int) or reference_count < 2):
            raise ValueError(f"reference_count must be an int >= 2 or None (all), got {reference_count!r}")
        self.classifier = classifier if classifier is not None else default_classifier()
        self.min_share = min_share
        self._reference_images = reference_images
        self._reference_count = reference_count
        self._cache_file = cache_file and reference_images is None
        self._key = (_fingerprint(self.classifier), reference_count,
                     None if reference_images is None else (tuple(reference_images.shape),
                                                            float(reference_images.double().sum())))

    def reference_images(self) -> Tensor:
        """The images the statistics describe (default: the Fashion-MNIST test set, its first
        ``reference_count`` images when given)."""
        if self._reference_images is None:
            from gan_course.data.fashion_mnist import load_fashion_mnist

            self._reference_images = load_fashion_mnist("test", limit=self._reference_count).images
        return self._reference_images

    def reference_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(μ, Σ) of the classifier features of the reference images, cached."""
        if self._key in _STATS_CACHE:
            return _STATS_CACHE[self._key]
        path = checkpoints.checkpoint_path(
            f"fcd_stats_{self._key[0]}_{self._reference_count or 'all'}") if self._cache_file else None
        if path is not None and path.is_file():
            try:
                state = checkpoints.load(path)
                stats = (state["mean"].numpy(), state["cov"].numpy())
                _STATS_CACHE[self._key] = stats
                return stats
            except (checkpoints.CheckpointError, KeyError):
                pass  # unreadable: recompute below
        features, _ = classify(self.classifier, self.reference_images())
        stats = gaussian_statistics(features)
        _STATS_CACHE[self._key] = stats
        if path is not None:
            checkpoints.save({"mean": torch.from_numpy(stats[0]), "cov": torch.from_numpy(stats[1])}, path)
        return stats

    def evaluate(self, images: Tensor) -> dict:
        """FCD to the reference statistics plus class coverage for images (N, 1, 28, 28) in [-1, 1]."""
        _check_images(images)
        if not torch.isfinite(images).all():
            raise ValueError("images contain NaN or inf; the generator has diverged")
        features, predicted = classify(self.classifier, images)
        mean, cov = gaussian_statistics(features)
        result = {"fcd": frechet_distance(mean, cov, *self.reference_statistics())}
        result.update(class_coverage(predicted, NUM_CLASSES, self.min_share))
        result["count"] = int(images.shape[0])
        return result

    def precision_recall(self, images: Tensor, k: int = 3) -> dict[str, float]:
        """Precision and recall of ``images`` against as many reference images, in the classifier's features."""
        _check_images(images)
        reference = self.reference_images()
        if images.shape[0] > reference.shape[0]:
            raise ValueError(f"{images.shape[0]} images but only {reference.shape[0]} reference images")
        real_features, _ = classify(self.classifier, reference[:images.shape[0]])
        fake_features, _ = classify(self.classifier, images)
        return precision_recall(real_features, fake_features, k)

    def evaluate_generator(self, generator: nn.Module, count: int = 10_000, seed: int = 0) -> dict:
        """Generate ``count`` images (seeded) and evaluate them."""
        return self.evaluate(generate(generator, count, seed))

    def references(self, count: int = 10_000, sigma: float = BLUR_SIGMA) -> dict[str, dict]:
        """The same metrics for ``count`` training images and for ``count`` test images blurred with ``sigma``."""
        from gan_course.data.fashion_mnist import load_fashion_mnist

        train = load_fashion_mnist("train", limit=count).images
        test = self.reference_images()[:count]
        return {"train set": self.evaluate(train), f"test set blurred (σ={sigma:g} px)": self.evaluate(
            gaussian_blur(test, sigma))}


def evaluation_table(rows: dict[str, dict], columns: tuple[str, ...] = ("fcd", "classes_covered",
                                                                        "kl_to_uniform")) -> str:
    """A fixed-width text table, one row per name, metrics rounded (FCD 2 decimals, KL 3)."""
    formats: dict[str, Callable] = {"fcd": lambda v: f"{v:8.2f}", "classes_covered": lambda v: f"{v:7d}",
                                    "kl_to_uniform": lambda v: f"{v:6.3f}"}
    width = max(len(name) for name in rows) if rows else 4
    lines = [f"{'':{width}}  " + "  ".join(f"{c:>8}" for c in columns)]
    for name, metrics in rows.items():
        lines.append(f"{name:{width}}  " + "  ".join(
            f"{formats.get(c, lambda v: f'{v:8.3f}')(metrics[c]):>8}" for c in columns))
    return "\n".join(lines)
