"""Class-conditional generator and projection discriminator for 28×28 images (lesson 13).

G(z, y) = DCGAN([z ; e_G(y)]) (Mirza & Osindero, 2014); projection D(x, y) = ψ(φ(x)) + ⟨e_D(y), φ(x)⟩ (Miyato &
Koyama, 2018); the concatenation baseline feeds one-hot label planes to a DCGAN discriminator. The training loop and
``class_rows`` / ``generate`` are in ``training.conditional``.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_course.core import runtime
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


def _check_images(x: torch.Tensor, labels: torch.Tensor, in_channels: int, num_classes: int, who: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != (in_channels, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"{who} expects images of shape (B, {in_channels}, {IMAGE_SIZE}, {IMAGE_SIZE}), "
                         f"got {tuple(x.shape)}")
    _check_labels(labels, x.shape[0], num_classes, who)


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
        _check_images(x, labels, self.in_channels, self.num_classes, "ProjectionDiscriminator")
        phi = self.features(x)  # (B, C_in, 28, 28) -> (B, F)
        projection = (self.embedding(labels) * phi).sum(dim=1)  # (B, F) · (B, F) -> (B,)
        return self.head(phi).squeeze(1) + projection  # (B, 1) -> (B,)


class ConcatDiscriminator(nn.Module):
    """D(x, y) on [x ; one-hot(y) as K constant planes] (Mirza & Osindero, 2014): the baseline before projection."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, base_channels: int = 32,
                 spectral_norm: bool = True, batch_norm: bool = False):
        super().__init__()
        runtime.check_positive(num_classes=num_classes)
        self.in_channels, self.num_classes = in_channels, num_classes
        self.body = dcgan.DCGANDiscriminator(in_channels + num_classes, base_channels, spectral_norm=spectral_norm,
                                             batch_norm=batch_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_images(x, labels, self.in_channels, self.num_classes, "ConcatDiscriminator")
        planes = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)  # (B,) -> (B, K)
        planes = planes[:, :, None, None].expand(-1, -1, IMAGE_SIZE, IMAGE_SIZE)  # -> (B, K, 28, 28)
        return self.body(torch.cat([x, planes], dim=1))  # (B, C_in + K, 28, 28) -> (B,)
