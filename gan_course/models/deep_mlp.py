"""A deep, configurable MLP for studying vanishing and exploding gradients (lesson 02).

Inits: "xavier" Var w = 2/(fan_in + fan_out) (Glorot & Bengio, 2010), "kaiming" Var w = gain²/fan_in (He et al.,
2015), "default" PyTorch's U(±1/√fan_in); BatchNorm: Ioffe & Szegedy (2015); residual: He et al. (2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gan_course.core import activations, runtime

INITS = ("default", "xavier", "kaiming", "small", "large")
NORMS = ("none", "batchnorm", "layernorm")
SMALL_STD = 0.01  # "small": every weight ~ N(0, 0.01²), whatever the layer size
LARGE_GAIN = 3.0  # "large": std = 3/√fan_in, so each linear layer multiplies the signal's scale by about 3


@dataclass
class DeepMLPConfig:
    """Shape and recipe of a ``DeepMLP``; ``depth`` counts the hidden blocks (linear layers = depth + 1)."""
    depth: int = 20
    width: int = 128
    activation: str = "relu"  # a name in activations.ACTIVATIONS (elementwise ones only)
    init: str = "default"  # one of INITS
    norm: str = "none"  # one of NORMS
    residual: bool = False  # h <- h + W act(norm(h)) for the blocks whose input and output widths match
    input_size: int = 784
    output_size: int = 10

    def __post_init__(self):
        for field in ("depth", "width", "input_size", "output_size"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"DeepMLPConfig.{field} must be a positive int, got {value!r}")
        runtime.lookup(activations.HIDDEN_ACTIVATIONS, self.activation, "DeepMLPConfig.activation")
        runtime.lookup(INITS, self.init, "DeepMLPConfig.init")
        runtime.lookup(NORMS, self.norm, "DeepMLPConfig.norm")
        if not isinstance(self.residual, bool):
            raise ValueError(f"DeepMLPConfig.residual must be True or False, got {self.residual!r}")


def _norm_layer(norm: str, width: int) -> nn.Module:
    if norm == "batchnorm":
        return nn.BatchNorm1d(width)
    if norm == "layernorm":
        return nn.LayerNorm(width)
    return nn.Identity()


class Block(nn.Module):
    """A plain block ``act(norm(W h + b))``, or, when ``residual`` and the widths match, ``h + W act(norm(h)) + b``."""

    def __init__(self, in_features: int, out_features: int, activation: str, norm: str, residual: bool):
        super().__init__()
        self.residual = residual and in_features == out_features
        self.linear = nn.Linear(in_features, out_features)
        self.norm = _norm_layer(norm, in_features if self.residual else out_features)
        self.activation = activations.get(activation).module()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.residual:
            return h + self.linear(self.activation(self.norm(h)))  # (B, width) -> (B, width)
        return self.activation(self.norm(self.linear(h)))  # (B, in) -> (B, out)


class DeepMLP(nn.Module):
    """``depth`` hidden blocks of ``width`` units and a linear head: images or vectors in, logits out."""

    def __init__(self, config: DeepMLPConfig):
        super().__init__()
        if not isinstance(config, DeepMLPConfig):
            raise ValueError(f"DeepMLP expects a DeepMLPConfig, got {type(config).__name__}")
        self.config = config
        sizes = [config.input_size] + [config.width] * config.depth
        self.blocks = nn.ModuleList(
            Block(sizes[i], sizes[i + 1], config.activation, config.norm, config.residual)
            for i in range(config.depth))
        self.head = nn.Linear(config.width, config.output_size)
        initialise(self, config.init, config.activation)

    def linear_layers(self) -> list[nn.Linear]:
        """The depth + 1 linear layers from input to output (the ones whose gradients lesson 02 plots)."""
        return [block.linear for block in self.blocks] + [self.head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.config.input_size:
            raise ValueError(f"DeepMLP expects (B, {self.config.input_size}) or (B, ...) with "
                             f"{self.config.input_size} values per sample, got shape {tuple(x.shape)}")
        h = x.flatten(1)  # (B, 1, 28, 28) -> (B, 784)
        for block in self.blocks:
            h = block(h)  # (B, width)
        return self.head(h)  # (B, width) -> (B, output_size)


def initialise(model: DeepMLP, init: str, activation: str) -> None:
    """Re-initialise every hidden linear layer of ``model`` by ``init``; the head keeps a plain Xavier init."""
    runtime.lookup(INITS, init, "init")
    if init == "default":
        return  # PyTorch's nn.Linear init: w, b ~ U(−1/√fan_in, 1/√fan_in)
    nonlinearity = activations.get(activation).kaiming_nonlinearity
    with torch.no_grad():
        for block in model.blocks:
            weight = block.linear.weight  # (out, in)
            fan_in = weight.shape[1]
            if init == "xavier":
                nn.init.xavier_normal_(weight)  # std = √(2 / (fan_in + fan_out))
            elif init == "kaiming":
                # std = gain/√fan_in: gain √2 for ReLU, √(2/(1+a²)) for leaky ReLU (a = LEAKY_SLOPE), 5/3 for tanh
                nn.init.kaiming_normal_(weight, a=activations.LEAKY_SLOPE, nonlinearity=nonlinearity)
            elif init == "small":
                nn.init.normal_(weight, std=SMALL_STD)
            else:  # "large"
                nn.init.normal_(weight, std=LARGE_GAIN / math.sqrt(fan_in))
            nn.init.zeros_(block.linear.bias)
        nn.init.xavier_normal_(model.head.weight)
        nn.init.zeros_(model.head.bias)
