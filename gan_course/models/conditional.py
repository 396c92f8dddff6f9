"""Class-conditional generator and projection discriminator for 28×28 images (lesson 13).

Conditional GAN (Mirza & Osindero, 2014): both players also receive the class label y. The generator concatenates
a learned label embedding to the noise, G(z, y) = DCGAN([z ; e_G(y)]). The discriminator is a *projection
discriminator* (Miyato & Koyama, 2018): D(x, y) = ψ(φ(x)) + ⟨e_D(y), φ(x)⟩, an unconditional score plus the inner
product of a class embedding with the image features, so an image of the wrong class is penalised directly.
Both take ``(z, labels)`` / ``(x, labels)``, the call convention of ``training.gan``'s ``labels=`` path.

Shapes (C = ``base_channels``, K = ``num_classes``)::

    generator:      z (B, Z), y (B,) -> [z ; e(y)] (B, 2Z) -> DCGAN generator -> (B, out_channels, 28, 28)
    discriminator:  x (B, C_in, 28, 28) -> φ(x) (B, 2C·49) ; logit = ψ(φ) + Σ e(y)·φ -> (B,)
    concatenation:  [x ; one-hot(y) planes] (B, C_in + K, 28, 28) -> DCGAN discriminator -> (B,)   (the baseline)

``train_conditional_gan`` is the short loop lesson 13 runs: ``training.gan``'s step functions with ``labels=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from gan_course.core import runtime
from gan_course.training import gan, losses
from gan_course.models import dcgan

IMAGE_SIZE = dcgan.IMAGE_SIZE


def _check_labels(labels: torch.Tensor, batch: int, num_classes: int, who: str) -> None:
    if labels.ndim != 1 or labels.shape[0] != batch:
        raise ValueError(f"{who} expects labels of shape ({batch},), got {tuple(labels.shape)}")
    if labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{who} expects integer class labels, got dtype {labels.dtype}")
    if batch and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{who}: labels must lie in [0, {num_classes}), got min {labels.min().item()} "
                         f"max {labels.max().item()}")


class ConditionalGenerator(nn.Module):
    """G(z, y): noise plus a learned class embedding, through the DCGAN generator, tanh output in [-1, 1]."""

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, base_channels: int = 32, out_channels: int = 1):
        super().__init__()
        runtime.check_positive(latent_dim=latent_dim, num_classes=num_classes)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embedding = nn.Embedding(num_classes, latent_dim)
        self.body = dcgan.DCGANGenerator(2 * latent_dim, base_channels, out_channels)

    def sample_latent(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise (B, Z)."""
        device = next(self.parameters()).device
        return torch.randn(batch_size, self.latent_dim, generator=generator).to(device)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"ConditionalGenerator expects z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        _check_labels(labels, z.shape[0], self.num_classes, "ConditionalGenerator")
        h = torch.cat([z, self.embedding(labels)], dim=1)  # (B, Z), (B, Z) -> (B, 2Z)
        return self.body(h)  # (B, 2Z) -> (B, out_channels, 28, 28)


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = ψ(φ(x)) + ⟨e(y), φ(x)⟩ → logits (B,), with DCGAN features φ and optional spectral norm."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, base_channels: int = 32,
                 spectral_norm: bool = True, batch_norm: bool = False):
        super().__init__()
        runtime.check_positive(num_classes=num_classes)
        self.in_channels, self.num_classes = in_channels, num_classes
        base = dcgan.DCGANDiscriminator(in_channels, base_channels, spectral_norm=spectral_norm,
                                        batch_norm=batch_norm)
        self.features, self.head = base.features, base.head  # φ: (B, C_in, 28, 28) -> (B, F); ψ: (B, F) -> (B, 1)
        feature_size = base.head.in_features if hasattr(base.head, "in_features") else base.head.weight.shape[1]
        embedding = nn.Embedding(num_classes, feature_size)
        nn.init.normal_(embedding.weight, std=0.02)
        self.embedding = nn.utils.parametrizations.spectral_norm(embedding) if spectral_norm else embedding

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"ProjectionDiscriminator expects images of shape (B, {self.in_channels}, "
                             f"{IMAGE_SIZE}, {IMAGE_SIZE}), got {tuple(x.shape)}")
        _check_labels(labels, x.shape[0], self.num_classes, "ProjectionDiscriminator")
        phi = self.features(x)  # (B, C_in, 28, 28) -> (B, F)
        projection = (self.embedding(labels) * phi).sum(dim=1)  # (B, F) · (B, F) -> (B,)
        return self.head(phi).squeeze(1) + projection  # (B, 1) -> (B,)


class ConcatDiscriminator(nn.Module):
    """D(x, y) on [x ; one-hot(y) as K constant planes] (Mirza & Osindero, 2014): the baseline before projection.

    The label enters at the input, as K extra channels, so the network must learn by itself how the class should
    change its verdict; the projection discriminator instead builds that interaction into the last layer.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, base_channels: int = 32,
                 spectral_norm: bool = True, batch_norm: bool = False):
        super().__init__()
        runtime.check_positive(num_classes=num_classes)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.body = dcgan.DCGANDiscriminator(in_channels + num_classes, base_channels, spectral_norm=spectral_norm,
                                             batch_norm=batch_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"ConcatDiscriminator expects images of shape (B, {self.in_channels}, "
                             f"{IMAGE_SIZE}, {IMAGE_SIZE}), got {tuple(x.shape)}")
        _check_labels(labels, x.shape[0], self.num_classes, "ConcatDiscriminator")
        planes = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)  # (B,) -> (B, K)
        planes = planes[:, :, None, None].expand(-1, -1, IMAGE_SIZE, IMAGE_SIZE)  # -> (B, K, 28, 28)
        return self.body(torch.cat([x, planes], dim=1))  # (B, C_in + K, 28, 28) -> (B,)


def class_rows(num_classes: int = 10, per_class: int = 8) -> torch.Tensor:
    """Labels for a grid with one row per class: [0]*per_class + [1]*per_class + ... shape (K·per_class,)."""
    runtime.check_positive(num_classes=num_classes, per_class=per_class)
    return torch.arange(num_classes).repeat_interleave(per_class)


@dataclass
class ConditionalGANConfig:
    """One conditional-GAN run: hinge loss with a spectrally normalised projection D (Miyato & Koyama, 2018)."""
    steps: int = 2000
    batch_size: int = 64
    lr_generator: float = 2e-4
    lr_discriminator: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    loss: str = "hinge"  # a key of losses.GAN_LOSSES
    seed: int = 0

    def __post_init__(self):
        losses.get_loss(self.loss)
        for name in ("steps", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive int, got {getattr(self, name)!r}")


def train_conditional_gan(generator: nn.Module, discriminator: nn.Module, images: torch.Tensor,
                          labels: torch.Tensor, config: ConditionalGANConfig,
                          callback: Callable[[int, dict], None] | None = None) -> dict[str, list[float]]:
    """Alternate ``training.gan`` D and G steps with ``labels=``; return the per-step history.

    D sees real images with their own labels and fakes generated for those same labels; G's step draws labels
    uniformly, so every class gets trained.
    """
    if images.ndim != 4 or labels.shape != (images.shape[0],):
        raise ValueError(f"images (N, C, 28, 28) and labels (N,) expected, got {tuple(images.shape)} and "
                         f"{tuple(labels.shape)}")
    rng = torch.Generator().manual_seed(config.seed)
    runtime.seed_everything(config.seed)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=config.lr_generator, betas=config.betas)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.lr_discriminator, betas=config.betas)
    generator.train()
    discriminator.train()

    def step(i: int) -> dict[str, float]:
        index = torch.randint(images.shape[0], (config.batch_size,), generator=rng)
        d_stats = gan.discriminator_step(generator, discriminator, d_optimizer, images[index], config.loss,
                                                  labels=labels[index], rng=rng, step=i)
        fake_labels = torch.randint(generator.num_classes, (config.batch_size,), generator=rng)
        g_stats = gan.generator_step(generator, discriminator, g_optimizer, config.batch_size, config.loss,
                                              labels=fake_labels, rng=rng, step=i)
        return {**d_stats, **g_stats}

    callbacks = () if callback is None else (lambda i, stats, history: callback(i, history),)
    return gan.fit(step, config.steps, callbacks=callbacks)


@torch.no_grad()
def generate(generator: nn.Module, labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Images for the given labels (B,) from a seeded noise stream, with G in eval mode: (B, C, 28, 28)."""
    with runtime.evaluating(generator):
        z = generator.sample_latent(labels.shape[0], torch.Generator().manual_seed(seed))
        return generator(z, labels)
