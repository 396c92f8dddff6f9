"""Small MLP generator and discriminator for 1-D and 2-D GANs (lessons 09, 10 and the Mode Collapse Lab).

D's options: spectral norm (Miyato et al., 2018), packing (PacGAN, Lin et al., 2018), minibatch std (Karras et al.,
2018) and Fourier features of its input (Tancik et al., 2020), opened coarse-to-fine (Park et al., 2021).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import activations, runtime

OUTPUT_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
IMAGE_SIDE = 28
# hidden layers: four activations of the one registry (LeakyReLU's slope 0.2 comes from there)
HIDDEN_ACTIVATIONS = {name: activations.ACTIVATIONS[name].module for name in ("relu", "leaky_relu", "tanh", "elu")}


def _activation(name: str) -> nn.Module:
    return runtime.lookup(HIDDEN_ACTIVATIONS, name, "activation")()


class MLPGenerator(nn.Module):
    """z → ``depth`` hidden layers of ``width`` → a point in R^``data_dim``; ``components = K > 0``: a one-hot mixture
    code in front of z (DeLiGAN, Gurumurthy et al., 2017)."""

    def __init__(self, latent_dim: int = 2, data_dim: int = 2, width: int = 128, depth: int = 2,
                 activation: str = "relu", components: int = 0):
        super().__init__()
        runtime.check_positive(latent_dim=latent_dim, data_dim=data_dim, width=width, depth=depth)
        runtime.check_int("components", components, minimum=0)
        if components == 1:
            raise ValueError(f"components must be 0 (plain Gaussian noise) or >= 2, got {components!r}")
        self.latent_dim, self.data_dim, self.components = latent_dim, data_dim, components
        self.input_dim = latent_dim + components
        layers, size = [], self.input_dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), _activation(activation)]
            size = width
        layers.append(nn.Linear(size, data_dim))  # linear output: toy data is not bounded to [-1, 1]
        self.net = nn.Sequential(*layers)

    def sample_latent(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Noise of shape (B, components + latent_dim): [one-hot component code | N(0, I)]."""
        device = next(self.parameters()).device
        z = torch.randn(batch_size, self.latent_dim, generator=generator)  # (B, Z)
        if self.components:
            code = torch.randint(self.components, (batch_size,), generator=generator)  # (B,)
            z = torch.cat([nn.functional.one_hot(code, self.components).to(z.dtype), z], dim=1)  # (B, K + Z)
        return z.to(device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.input_dim:
            raise ValueError(f"generator expects z of shape (B, {self.input_dim}), got {tuple(z.shape)}")
        return self.net(z)  # (B, K + Z) -> (B, D)


class MinibatchStd(nn.Module):
    """Append the batch's mean feature standard deviation as one extra feature: (B, F) -> (B, F + 1)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        std = h.std(dim=0, unbiased=False).mean() if h.shape[0] > 1 else h.new_zeros(())
        return torch.cat([h, std.expand(h.shape[0], 1)], dim=1)


class FourierFeatures(nn.Module):
    """x (B, D) -> [x, w·sin(xB), w·cos(xB)] (B, D + 2F); B (D, F) random, column k ~ N(0, s_k²), s_k log-spaced to
    ``scale``; ``set_progress(p)`` opens the window w_k = clamp(p·F − k, 0, 1) coarse-to-fine."""

    def __init__(self, data_dim: int, features: int, scale: float):
        super().__init__()
        runtime.check_positive(data_dim=data_dim, features=features)
        if not scale >= 1.0:
            raise ValueError(f"fourier scale must be >= 1, got {scale!r}")
        scales = torch.logspace(0.0, math.log10(scale), features)  # (F,) low -> high
        self.register_buffer("frequencies", torch.randn(data_dim, features) * scales)  # (D, F)
        self.register_buffer("window", torch.ones(features))  # (F,)
        self.out_dim = data_dim + 2 * features

    def set_progress(self, progress: float) -> None:
        if not 0.0 <= progress <= 1.0:
            raise ValueError(f"progress must lie in [0, 1], got {progress!r}")
        features = self.window.numel()
        self.window.copy_((progress * features - torch.arange(features, dtype=self.window.dtype)).clamp(0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angles = x @ self.frequencies  # (B, D) @ (D, F) -> (B, F)
        return torch.cat([x, self.window * torch.sin(angles), self.window * torch.cos(angles)], dim=1)


class MLPDiscriminator(nn.Module):
    """Points (B, D) → logits (B // pack,). LeakyReLU hidden layers; no sigmoid (losses work on logits)."""

    def __init__(self, data_dim: int = 2, width: int = 128, depth: int = 2, spectral_norm: bool = False,
                 pack: int = 1, minibatch_std: bool = False, activation: str = "leaky_relu",
                 fourier_features: int = 0, fourier_scale: float = 40.0):
        super().__init__()
        runtime.check_positive(data_dim=data_dim, width=width, depth=depth, pack=pack)
        runtime.check_int("fourier_features", fourier_features, minimum=0)
        self.data_dim, self.pack = data_dim, pack
        self.fourier = FourierFeatures(data_dim, fourier_features, fourier_scale) if fourier_features else None
        point_dim = self.fourier.out_dim if self.fourier is not None else data_dim
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        layers, size = [], point_dim * pack
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
        if self.fourier is not None:
            x = self.fourier(x)  # (B, D) -> (B, D + 2F)
        packed = x.reshape(x.shape[0] // self.pack, -1)  # (B, P) -> (B/pack, pack*P)
        return self.net(packed).squeeze(1)  # (B/pack, 1) -> (B/pack,)


# ---------------------------------------------------- image MLPs and the notes' D variants (lesson 14's repros)
class ImageMLPGenerator(nn.Module):
    """z (B, Z) → MLP → image (B, 1, 28, 28) through a chosen output activation (tanh, relu, sigmoid, linear)."""

    def __init__(self, latent_dim: int = 32, width: int = 128, output_activation: str = "tanh"):
        super().__init__()
        activation = runtime.lookup(OUTPUT_ACTIVATIONS, output_activation, "output activation")
        self.latent_dim, self.output_activation = latent_dim, output_activation
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, IMAGE_SIDE * IMAGE_SIDE), activation())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"ImageMLPGenerator expects z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z).view(-1, 1, IMAGE_SIDE, IMAGE_SIDE)  # (B, 784) -> (B, 1, 28, 28)


class ImageMLPDiscriminator(nn.Module):
    """Image (B, 1, 28, 28) → flatten → MLP with LeakyReLU → logits (B,)."""

    def __init__(self, width: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(IMAGE_SIDE * IMAGE_SIDE, width), nn.LeakyReLU(0.2),
                                 nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(f"ImageMLPDiscriminator expects (B, 1, 28, 28), got {tuple(x.shape)}")
        return self.net(x).squeeze(1)  # (B, 1) -> (B,)


class SigmoidOutput(nn.Module):
    """Wraps a discriminator so that it returns probabilities σ(l) instead of logits l (the notes' D)."""

    def __init__(self, discriminator: nn.Module):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.discriminator(x))  # (B,) logits -> (B,) probabilities in (0, 1)


class GaussianNoise(nn.Module):
    """Adds N(0, σ²) noise to its input while training (identity in eval mode): noise in D's hidden layers."""

    def __init__(self, sigma: float):
        super().__init__()
        runtime.check_number("sigma", sigma)
        self.sigma = sigma

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.sigma * torch.randn_like(h) if self.training and self.sigma > 0 else h


class MixtureOfGenerators(nn.Module):
    """K separate MLP generators; each sample picks one uniformly: z = [one-hot code (K) | noise (Z)]."""

    def __init__(self, components: int = 8, latent_dim: int = 2, width: int = 64):
        super().__init__()
        runtime.check_int("components", components, minimum=2)
        self.components, self.latent_dim = components, latent_dim
        self.generators = nn.ModuleList(MLPGenerator(latent_dim, 2, width) for _ in range(components))

    def sample_latent(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        code = torch.randint(self.components, (batch_size,), generator=generator)  # (B,)
        noise = torch.randn(batch_size, self.latent_dim, generator=generator)  # (B, Z)
        return torch.cat([F.one_hot(code, self.components).float(), noise], dim=1)  # (B, K + Z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.components + self.latent_dim:
            raise ValueError(f"MixtureOfGenerators expects z of shape (B, {self.components + self.latent_dim}), "
                             f"got {tuple(z.shape)}")
        code, noise = z[:, :self.components], z[:, self.components:]  # (B, K), (B, Z)
        outputs = torch.stack([g(noise) for g in self.generators], dim=1)  # (B, K, 2)
        return (code.unsqueeze(2) * outputs).sum(dim=1)  # the chosen generator's point, (B, 2)
