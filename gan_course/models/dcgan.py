"""DCGAN generator and discriminator for 28×28 grey images (Radford, Metz & Chintala, 2016), sized for a CPU.

The DCGAN rules, each one a reason:
  * no pooling: the generator upsamples with transposed convolutions (stride 2) and the discriminator downsamples
    with strided convolutions, so both *learn* how to change resolution instead of using a fixed max/average;
  * BatchNorm in G (not on its output) and in D (not on its input): it keeps activations at a healthy scale, which
    stops deep nets from collapsing to one output early on;
  * ReLU inside G, LeakyReLU(0.2) inside D: D must pass gradient back even for inputs it rejects firmly;
  * tanh output in G with the data scaled to [-1, 1]: generator range and data range match exactly.

Shapes (C = ``base_channels``)::

    generator:      z (B, Z) -linear-> (B, 2C, 7, 7) -convT 4×4/2-> (B, C, 14, 14) -convT 4×4/2-> (B, 1, 28, 28)
    discriminator:  x (B, 1, 28, 28) -conv 4×4/2-> (B, C, 14, 14) -conv 4×4/2-> (B, 2C, 7, 7) -linear-> (B,)

A transposed convolution with kernel k, stride s, padding p maps size n to (n − 1)·s − 2p + k, so k = 4, s = 2,
p = 1 doubles it exactly (7 → 14 → 28); the matching convolution ⌊(n + 2p − k)/s⌋ + 1 halves it (28 → 14 → 7).
Used in lessons 11 and 12 (and by lessons 13–14 as the unconditional baseline).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_course import runtime

IMAGE_SIZE = 28
START_SIZE = 7  # spatial size after the projection; two stride-2 upsamplings reach 28
KERNEL, STRIDE, PADDING = 4, 2, 1


def transposed_conv_size(size: int, kernel: int = KERNEL, stride: int = STRIDE, padding: int = PADDING) -> int:
    """Output size of ``nn.ConvTranspose2d``: (n − 1)·s − 2p + k."""
    return (size - 1) * stride - 2 * padding + kernel


def conv_size(size: int, kernel: int = KERNEL, stride: int = STRIDE, padding: int = PADDING) -> int:
    """Output size of ``nn.Conv2d``: ⌊(n + 2p − k)/s⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


class DCGANGenerator(nn.Module):
    """z ~ N(0, I) of size ``latent_dim`` → an image (B, ``out_channels``, 28, 28) in [-1, 1] (tanh)."""

    def __init__(self, latent_dim: int = 64, base_channels: int = 32, out_channels: int = 1):
        super().__init__()
        runtime.check_positive(latent_dim=latent_dim, base_channels=base_channels, out_channels=out_channels)
        self.latent_dim, self.base_channels, self.out_channels = latent_dim, base_channels, out_channels
        wide = 2 * base_channels
        self.project = nn.Sequential(  # BatchNorm supplies the shift, so the layers before it carry no bias
            nn.Linear(latent_dim, wide * START_SIZE * START_SIZE, bias=False),
            nn.BatchNorm1d(wide * START_SIZE * START_SIZE), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(wide, base_channels, KERNEL, STRIDE, PADDING, bias=False),  # 7 -> 14
            nn.BatchNorm2d(base_channels), nn.ReLU(),
            nn.ConvTranspose2d(base_channels, out_channels, KERNEL, STRIDE, PADDING),  # 14 -> 28, no BN on output
            nn.Tanh())

    def sample_latent(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal noise (B, Z) on the model's device, drawn from ``generator`` when given."""
        runtime.check_positive(batch_size=batch_size)
        device = next(self.parameters()).device
        return torch.randn(batch_size, self.latent_dim, generator=generator).to(device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"DCGANGenerator expects z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        h = self.project(z)  # (B, Z) -> (B, 2C*7*7)
        h = h.view(z.shape[0], 2 * self.base_channels, START_SIZE, START_SIZE)  # -> (B, 2C, 7, 7)
        return self.upsample(h)  # (B, 2C, 7, 7) -> (B, C, 14, 14) -> (B, out_channels, 28, 28)


class DCGANDiscriminator(nn.Module):
    """Images (B, ``in_channels``, 28, 28) → logits (B,). Strided convs, LeakyReLU(0.2), no pooling, no sigmoid.

    ``spectral_norm=True`` divides every weight by its largest singular value (Miyato et al., 2018), keeping D
    roughly 1-Lipschitz; ``batch_norm=False`` removes BatchNorm, which a WGAN-GP critic needs (the gradient
    penalty is per sample, BatchNorm mixes the samples of a batch).
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 32, spectral_norm: bool = False,
                 batch_norm: bool = True):
        super().__init__()
        runtime.check_positive(in_channels=in_channels, base_channels=base_channels)
        self.in_channels, self.base_channels = in_channels, base_channels
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        wide = 2 * base_channels
        self.features = nn.Sequential(
            wrap(nn.Conv2d(in_channels, base_channels, KERNEL, STRIDE, PADDING)),  # 28 -> 14, no BN on the input
            nn.LeakyReLU(0.2),
            wrap(nn.Conv2d(base_channels, wide, KERNEL, STRIDE, PADDING, bias=not batch_norm)),  # 14 -> 7
            nn.BatchNorm2d(wide) if batch_norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Flatten())  # (B, 2C, 7, 7) -> (B, 2C*49)
        self.head = wrap(nn.Linear(wide * START_SIZE * START_SIZE, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"DCGANDiscriminator expects images of shape (B, {self.in_channels}, {IMAGE_SIZE}, "
                             f"{IMAGE_SIZE}) in [-1, 1], got {tuple(x.shape)}")
        return self.head(self.features(x)).squeeze(1)  # (B, 2C*49) -> (B, 1) -> (B,)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
