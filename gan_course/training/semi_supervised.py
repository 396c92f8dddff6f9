"""The discriminator as a semi-supervised classifier (Salimans et al., 2016, "Improved Techniques for Training GANs").

With K class logits and the fake class's logit fixed at 0: D(x) = σ(log Z), log Z = logsumexp_k l_k; L_sup is
K-class cross-entropy, L_unsup = E[softplus(−log Z(x))] + E[softplus(log Z(G(z)))], and G uses feature matching
(lesson 13; the network is ``models.semi_supervised.SemiSupervisedDiscriminator``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.training import gan
from gan_course.training.losses import feature_matching_loss  # ‖E f(x) − E f(G(z))‖², lesson 13 calls it from here
from gan_course.models import dcgan
from gan_course.models.semi_supervised import IMAGE_SIZE, SemiSupervisedDiscriminator


def real_fake_logit(class_logits: torch.Tensor) -> torch.Tensor:
    """The logit of D(x) = Z/(Z + 1): log Z = logsumexp_k l_k, (B, K) -> (B,)."""
    if class_logits.ndim != 2:
        raise ValueError(f"class logits must have shape (B, K), got {tuple(class_logits.shape)}")
    return torch.logsumexp(class_logits, dim=1)


def unsupervised_discriminator_loss(real_class_logits: torch.Tensor, fake_class_logits: torch.Tensor) -> torch.Tensor:
    """−E[log D(x)] − E[log(1 − D(G(z)))] with D = σ(log Z): E[softplus(−log Z_real)] + E[softplus(log Z_fake)]."""
    return (F.softplus(-real_fake_logit(real_class_logits)).mean()
            + F.softplus(real_fake_logit(fake_class_logits)).mean())


def select_labelled(labels: torch.Tensor, per_class: int = 10, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` random examples of every class (sorted by class), shape (K·per_class,)."""
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {tuple(labels.shape)}")
    rng = torch.Generator().manual_seed(seed)
    chosen = []
    for k in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == k).squeeze(1)
        if len(members) < per_class:
            raise ValueError(f"class {k} has only {len(members)} examples, fewer than per_class={per_class}")
        chosen.append(members[torch.randperm(len(members), generator=rng)[:per_class]])
    return torch.cat(chosen)


@dataclass(frozen=True)
class SemiSupervisedConfig(gan.GANConfig):
    """One run of the semi-supervised GAN (and, with the same numbers, of its supervised baseline). D (the classifier,
    also the baseline's) learns at ``discriminator_lr``, G at ``g_lr``."""
    steps: int = 2000
    batch_size: int = 64  # unlabelled and generated images per step
    g_lr: float = 3e-4
    unsupervised_weight: float = 1.0  # λ in L_D = L_sup + λ·L_unsup
    latent_dim: int = 64
    base_channels: int = 32
    dropout: float = 0.3
    input_noise: float = 0.15

    unused: ClassVar[tuple[str, ...]] = ("loss", "d_steps", "label_smoothing", "label_flip", "instance_noise",
                                         "gp_weight", "warmup_steps", "decay_start", "decay_steps", "decay_floor",
                                         "ema", "precision")

    def __post_init__(self):
        super().__post_init__()
        runtime.check_positive(latent_dim=self.latent_dim, base_channels=self.base_channels)
        runtime.check_number("unsupervised_weight", self.unsupervised_weight)


def _classifier(config: SemiSupervisedConfig) -> SemiSupervisedDiscriminator:
    runtime.seed_everything(config.seed)
    return SemiSupervisedDiscriminator(base_channels=config.base_channels, dropout=config.dropout,
                                       input_noise=config.input_noise)


def _check(images: torch.Tensor, labels: torch.Tensor | None = None) -> None:
    if images.ndim != 4 or tuple(images.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"images must have shape (N, 1, 28, 28), got {tuple(images.shape)}")
    if labels is not None and labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")


def train_supervised(labelled_images: torch.Tensor, labelled_labels: torch.Tensor,
                     config: SemiSupervisedConfig) -> tuple[SemiSupervisedDiscriminator, dict[str, list[float]]]:
    """The baseline: the same network, L_sup only, full batches of the labelled set for ``config.steps`` steps."""
    _check(labelled_images, labelled_labels)
    classifier = _classifier(config)
    optimizer = gan.make_optimizer(config.d_optimizer, classifier.parameters(), config.discriminator_lr,
                                   config.betas, fused=False)
    classifier.train()

    def step(i: int) -> dict[str, float]:
        loss = F.cross_entropy(classifier(labelled_images), labelled_labels)
        stats = gan.check_finite({"supervised_loss": loss.item()}, i)
        gan.descend(optimizer, loss)
        return stats

    history = gan.fit(step, config.steps)
    classifier.eval()
    return classifier, history


def semi_supervised_step(classifier: nn.Module, generator: nn.Module, d_optimizer: torch.optim.Optimizer,
                         g_optimizer: torch.optim.Optimizer, labelled_images: torch.Tensor,
                         labelled_labels: torch.Tensor, unlabelled: torch.Tensor, unsupervised_weight: float = 1.0,
                         rng: torch.Generator | None = None, step: int = 0) -> dict[str, float]:
    """One D step on L_sup + λ·L_unsup, then one feature-matching G step with D frozen; returns the three losses."""
    batch_size = unlabelled.shape[0]
    with torch.no_grad():
        fake = generator(generator.sample_latent(batch_size, rng))
    supervised = F.cross_entropy(classifier(labelled_images), labelled_labels)
    unsupervised = unsupervised_discriminator_loss(classifier(unlabelled), classifier(fake))
    stats = gan.check_finite({"supervised_loss": supervised.item(),
                              "unsupervised_loss": unsupervised.item()}, step)
    gan.descend(d_optimizer, supervised + unsupervised_weight * unsupervised)
    with gan.frozen(classifier):  # G's step must not move D
        fake = generator(generator.sample_latent(batch_size, rng))
        with torch.no_grad():
            real_features = classifier.features(unlabelled)
        g_loss = feature_matching_loss(real_features, classifier.features(fake))
        stats["g_loss"] = gan.check_finite({"g_loss": g_loss.item()}, step)["g_loss"]
        gan.descend(g_optimizer, g_loss)
    return stats


def train_semi_supervised(labelled_images: torch.Tensor, labelled_labels: torch.Tensor,
                          unlabelled_images: torch.Tensor, config: SemiSupervisedConfig
                          ) -> tuple[SemiSupervisedDiscriminator, nn.Module, dict[str, list[float]]]:
    """Train D on L_sup + λ·L_unsup and G by feature matching; return D (in eval mode), G and the history."""
    _check(labelled_images, labelled_labels)
    _check(unlabelled_images)
    classifier = _classifier(config)
    generator = dcgan.DCGANGenerator(config.latent_dim, config.base_channels)
    rng = torch.Generator().manual_seed(config.seed)
    g_optimizer, d_optimizer = config.optimizers(generator, classifier, fused=False)
    classifier.train()
    generator.train()

    def step(i: int) -> dict[str, float]:
        unlabelled = unlabelled_images[torch.randint(len(unlabelled_images), (config.batch_size,), generator=rng)]
        return semi_supervised_step(classifier, generator, d_optimizer, g_optimizer, labelled_images,
                                    labelled_labels, unlabelled, config.unsupervised_weight, rng, i)

    history = gan.fit(step, config.steps)
    classifier.eval()
    generator.eval()
    return classifier, generator, history
