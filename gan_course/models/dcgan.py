"""DCGAN generator and discriminator for 28×28 grey images (Radford, Metz & Chintala, 2016), sized for a CPU.

Shapes (C = ``base_channels``)::

    generator:      z (B, Z) -linear-> (B, 2C, 7, 7) -convT 4×4/2-> (B, C, 14, 14) -convT 4×4/2-> (B, 1, 28, 28)
    discriminator:  x (B, 1, 28, 28) -conv 4×4/2-> (B, C, 14, 14) -conv 4×4/2-> (B, 2C, 7, 7) -linear-> (B,)
"""

from __future__ import annotations

import torch
from torch import nn

from gan_course.core import conv_arithmetic, runtime
from gan_course.models.mlp import parameter_count as count_parameters  # noqa: F401  (the one counter, lesson 01)

IMAGE_SIZE = 28
START_SIZE = 7  # spatial size after the projection; two stride-2 upsamplings reach 28
KERNEL, STRIDE, PADDING = 4, 2, 1


def transposed_conv_size(size: int, kernel: int = KERNEL, stride: int = STRIDE, padding: int = PADDING) -> int:
    """Output size of ``nn.ConvTranspose2d``: (n − 1)·s − 2p + k (``conv_arithmetic``, with DCGAN's defaults)."""
    return conv_arithmetic.conv_transpose_output_size(size, kernel, stride, padding)


def conv_size(size: int, kernel: int = KERNEL, stride: int = STRIDE, padding: int = PADDING) -> int:
    """Output size of ``nn.Conv2d``: ⌊(n + 2p − k)/s⌋ + 1 (``conv_arithmetic``, with DCGAN's defaults)."""
    return conv_arithmetic.conv_output_size(size, kernel, stride, padding)


class DCGANGenerator(nn.Module):
    """z ~ N(0, I) of size ``latent_dim`` → an image (B, ``out_channels``, 28, 28) in [-1, 1] (tanh).

    ``batch_norm=False`` removes BatchNorm (lesson 12's stress test: the DCGAN rule this breaks)."""

    def __init__(self, latent_dim: int = 64, base_channels: int = 32, out_channels: int = 1,
                 batch_norm: bool = True):
        super().__init__()
        runtime.check_positive(latent_dim=latent_dim, base_channels=base_channels, out_channels=out_channels)
        self.latent_dim, self.base_channels, self.out_channels = latent_dim, base_channels, out_channels
        wide = 2 * base_channels
        norm = (lambda kind, size: kind(size)) if batch_norm else (lambda kind, size: nn.Identity())
        self.project = nn.Sequential(  # BatchNorm supplies the shift, so the layers before it carry no bias
            nn.Linear(latent_dim, wide * START_SIZE * START_SIZE, bias=not batch_norm),
            norm(nn.BatchNorm1d, wide * START_SIZE * START_SIZE), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(wide, base_channels, KERNEL, STRIDE, PADDING, bias=not batch_norm),  # 7 -> 14
            norm(nn.BatchNorm2d, base_channels), nn.ReLU(),
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

    ``spectral_norm=True``: Miyato et al. (2018); ``batch_norm=False`` for a WGAN-GP critic (per-sample penalty).
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


INIT_STD = 0.02  # Radford et al. (2016): "all weights were initialized from a zero-centered Normal, std 0.02"


def dcgan_init_(module: nn.Module, std: float = INIT_STD) -> nn.Module:
    """The DCGAN paper's init, in place: conv/linear weights ~ N(0, std²), BatchNorm γ ~ N(1, std²), biases 0.

    Lesson 11 ablates it against PyTorch's default; spectral-norm layers get it on their unnormalised weight.
    """
    if not (isinstance(std, (int, float)) and std > 0):
        raise ValueError(f"std must be a number > 0, got {std!r}")
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            parametrized = nn.utils.parametrize.is_parametrized(layer, "weight")
            weight = layer.parametrizations.weight.original if parametrized else layer.weight
            with torch.no_grad():
                nn.init.normal_(weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm) and layer.affine:
            nn.init.normal_(layer.weight, 1.0, std)
            nn.init.zeros_(layer.bias)
    return module


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake, 1985; White, 2016) of (Z,) latents at fractions ``t`` (T,): returns (T, Z)."""
    if z0.ndim != 1 or z0.shape != z1.shape or t.ndim != 1:
        raise ValueError(f"slerp expects z0, z1 of shape (Z,) and t of shape (T,), got {tuple(z0.shape)}, "
                         f"{tuple(z1.shape)}, {tuple(t.shape)}")
    cosine = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cosine.clamp(-1.0, 1.0))  # the angle between the two latents
    if omega.abs() < 1e-6:  # (nearly) parallel: the arc is the straight line
        return torch.lerp(z0.unsqueeze(0), z1.unsqueeze(0), t.unsqueeze(1))
    t = t.unsqueeze(1)  # (T, 1)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)  # (T, Z)
