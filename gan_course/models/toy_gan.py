"""Small MLP generator and discriminator for 1-D and 2-D GANs (lessons 09, 10 and the Mode Collapse Lab).

The discriminator optionally uses spectral normalisation (Miyato et al., 2018), packing (PacGAN, Lin et al., 2018:
D judges ``pack`` samples at once, so a collapsed generator is easy to spot) and a minibatch-standard-deviation
feature (Karras et al., 2018: D sees how diverse the batch is).
"""

from __future__ import annotations

import torch
from torch import nn

from gan_course import runtime

HIDDEN_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


def _activation(name: str) -> nn.Module:
    if name not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(HIDDEN_ACTIVATIONS)}")
    return HIDDEN_ACTIVATIONS[name]()


class MLPGenerator(nn.Module):
    """z ~ N(0, I) of size ``latent_dim`` → ``depth`` hidden layers of ``width`` → a point in R^``data_dim``."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, width: int = 128, depth: int = 2,
                 activation: str = "relu"):
        super().__init__()
        runtime.check_positive(latent_dim=latent_dim, data_dim=data_dim, width=width, depth=depth)
        self.latent_dim, self.data_dim = latent_dim, data_dim
        layers, size = [], latent_dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), _activation(activation)]
            size = width
        layers.append(nn.Linear(size, data_dim))  # linear output: toy data is not bounded to [-1, 1]
        self.net = nn.Sequential(*layers)

    def sample_latent(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return torch.randn(batch_size, self.latent_dim, generator=generator).to(device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"generator expects z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)  # (B, Z) -> (B, D)


class MinibatchStd(nn.Module):
    """Append the batch's mean feature standard deviation as one extra feature: (B, F) -> (B, F + 1)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        std = h.std(dim=0, unbiased=False).mean() if h.shape[0] > 1 else h.new_zeros(())
        return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)


class MLPDiscriminator(nn.Module):
    """Points (B, D) → logits (B // pack,). LeakyReLU hidden layers; no sigmoid (losses work on logits)."""

    def __init__(self, data_dim: int = 2, width: int = 128, depth: int = 2, spectral_norm: bool = False,
                 pack: int = 1, minibatch_std: bool = False, activation: str = "leaky_relu"):
        super().__init__()
        runtime.check_positive(data_dim=data_dim, width=width, depth=depth, pack=pack)
        self.data_dim, self.pack = data_dim, pack
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        layers, size = [], data_dim * pack
        for index in range(depth):
            layers += [wrap(nn.Linear(size, width)), _activation(activation)]
            size = width
            if minibatch_std and index == 0:
                layers.append(MinibatchStd())
                size += 1
        layers.append(wrap(nn.Linear(size, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"discriminator expects points of shape (B, {self.data_dim}), got {tuple(x.shape)}")
        if x.shape[0] % self.pack:
            raise ValueError(f"batch size {x.shape[0]} is not a multiple of pack={self.pack}")
        packed = x.reshape(x.shape[0] // self.pack, self.pack * self.data_dim)  # (B, D) -> (B/pack, pack*D)
        return self.net(packed).squeeze(1)  # (B/pack, 1) -> (B/pack,)
