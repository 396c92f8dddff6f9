"""The fully connected layer written out by hand, ``y = act(x @ W.T + b)``, and a small MLP classifier (lesson 01)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from gan_course.core import activations, runtime

# identity (a linear output: regression heads, and logits for a softmax/cross-entropy), then every elementwise
# activation of the one registry, ``activations.ACTIVATIONS`` (LeakyReLU's slope 0.2, as in the GAN discriminators)
ACTIVATIONS = {"identity": nn.Identity,
               **{name: act.module for name, act in activations.ACTIVATIONS.items() if act.elementwise}}


def _init_pytorch_default(weight: torch.Tensor, bias: torch.Tensor) -> None:
    """nn.Linear's default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / math.sqrt(weight.shape[1])
    nn.init.uniform_(weight, -bound, bound)
    nn.init.uniform_(bias, -bound, bound)


def _init_kaiming(weight: torch.Tensor, bias: torch.Tensor) -> None:
    """He et al. 2015 for ReLU layers: W ~ N(0, 2/fan_in), b = 0 (keeps the activations' variance steady)."""
    nn.init.kaiming_normal_(weight, nonlinearity="relu")
    nn.init.zeros_(bias)


def _init_xavier(weight: torch.Tensor, bias: torch.Tensor) -> None:
    """Glorot & Bengio 2010 for tanh/sigmoid layers: W ~ N(0, 2/(fan_in + fan_out)), b = 0."""
    nn.init.xavier_normal_(weight)
    nn.init.zeros_(bias)


def _init_large(weight: torch.Tensor, bias: torch.Tensor) -> None:
    """A deliberately bad choice for comparison: W ~ N(0, 1), b = 0 (activations grow ~sqrt(fan_in) per layer)."""
    nn.init.normal_(weight, 0.0, 1.0)
    nn.init.zeros_(bias)


INITIALISATIONS = {
    "pytorch": _init_pytorch_default,
    "kaiming": _init_kaiming,
    "xavier": _init_xavier,
    "large": _init_large,
}


class FullyConnected(nn.Module):
    """One dense layer with explicit parameters: ``y = act(x @ W.T + b)``, W (out, in); ``steps`` shows each stage."""

    def __init__(self, in_features: int, out_features: int, activation: str = "identity", init: str = "pytorch"):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        self.activation_name = activation
        self.activation = runtime.lookup(ACTIVATIONS, activation, "activation")()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))  # (out, in), as in nn.Linear
        self.bias = nn.Parameter(torch.empty(out_features))  # (out,)
        runtime.lookup(INITIALISATIONS, init, "init")(self.weight.data, self.bias.data)

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"FullyConnected({self.in_features}, {self.out_features}) expects input of shape "
                             f"(B, {self.in_features}), got {tuple(x.shape)}; flatten images with x.flatten(1)")

    def steps(self, x: torch.Tensor) -> dict:
        """The four stages, for teaching: products (B, out, in), sums (B, out), pre_activation and output."""
        self._check(x)
        products = x.unsqueeze(1) * self.weight  # (B, 1, in) * (out, in) -> (B, out, in): w_ji * x_i
        sums = products.sum(dim=2)  # (B, out, in) -> (B, out): sum over the inputs i
        pre_activation = sums + self.bias  # (B, out) + (out,) -> (B, out)
        return {"products": products, "sums": sums, "pre_activation": pre_activation,
                "output": self.activation(pre_activation)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        pre_activation = x @ self.weight.T + self.bias  # (B, in) @ (in, out) + (out,) -> (B, out)
        return self.activation(pre_activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation_name}"


@dataclass
class MLPConfig:
    """Sizes and choices of an MLP classifier; the defaults fit Fashion-MNIST (28*28 pixels, 10 classes)."""
    in_features: int = 28 * 28
    hidden_sizes: Sequence[int] = (256,)
    num_classes: int = 10
    activation: str = "relu"
    dropout: float = 0.0
    init: str = "pytorch"


class MLP(nn.Module):
    """Flatten -> [FullyConnected(act) -> Dropout] per hidden size -> FullyConnected(identity) -> logits."""

    def __init__(self, config: MLPConfig | None = None):
        super().__init__()
        config = config or MLPConfig()
        if not 0.0 <= config.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {config.dropout!r}")
        if any(not isinstance(size, int) or size < 1 for size in config.hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive ints, got {tuple(config.hidden_sizes)}")
        self.config = config
        layers = []
        width = config.in_features
        for size in config.hidden_sizes:
            layers.append(FullyConnected(width, size, config.activation, config.init))
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width = size
        layers.append(FullyConnected(width, config.num_classes, "identity", config.init))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (B, C, H, W) -> (B, C*H*W); (B, D) stays (B, D)
        if x.shape[1] != self.config.in_features:
            raise ValueError(f"MLP expects {self.config.in_features} features per sample, got input whose "
                             f"samples have {x.shape[1]} (shape after flatten(1): {tuple(x.shape)})")
        return self.layers(x)  # (B, in_features) -> (B, num_classes)


def parameter_count(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters in ``model`` (only those with requires_grad when ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def dense_parameter_count(layer_sizes: Sequence[int]) -> int:
    """Parameters of a chain of dense layers ``n0 -> n1 -> ... -> nk``: ``sum_l (n_l * n_{l+1} + n_{l+1})``."""
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(not isinstance(n, int) or n < 1 for n in sizes):
        raise ValueError(f"layer_sizes must hold at least two positive ints, got {layer_sizes!r}")
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
