"""Activation functions with their analytic derivatives, output ranges and when each fits (lesson 02).

``ACTIVATIONS`` maps a name to an ``Activation`` (module factory, function, hand-written derivative, range, use).
Leaky ReLU uses slope 0.2, the course's GAN discriminators' value (DCGAN), not PyTorch's 0.01; GELU is exact (erf).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from gan_course.core import runtime

LEAKY_SLOPE = 0.2  # the slope of every GAN discriminator in this course, after DCGAN; nn.LeakyReLU defaults to 0.01
ELU_ALPHA = 1.0  # nn.ELU's default alpha
INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """One activation: how to build it, compute it, differentiate it, and when to use it."""
    name: str
    formula: str
    module: Callable[[], nn.Module]  # factory: ACTIVATIONS["tanh"].module() -> nn.Tanh()
    function: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]  # elementwise f'(x); for softmax the Jacobian (..., K, K)
    derivative_formula: str
    output_range: tuple[float, float]  # (low, high); ±inf where unbounded
    when_it_fits: str
    saturating: bool  # both ends flatten out: f'(x) -> 0 as |x| -> inf (sigmoid, tanh)
    elementwise: bool = True
    kaiming_nonlinearity: str = "relu"  # the name nn.init.kaiming_normal_ understands for this activation


def _sigmoid_derivative(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _tanh_derivative(x: torch.Tensor) -> torch.Tensor:
    return 1 - torch.tanh(x) ** 2


def _relu_derivative(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)  # 0 at x = 0, as autograd uses


def _leaky_relu_derivative(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE))


def _elu(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, x, ELU_ALPHA * torch.expm1(x))


def _elu_derivative(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, torch.ones_like(x), ELU_ALPHA * torch.exp(x))


def _gelu(x: torch.Tensor) -> torch.Tensor:
    return x * 0.5 * (1 + torch.erf(x * INV_SQRT_2))  # x Φ(x)


def _gelu_derivative(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * torch.exp(-0.5 * x ** 2)  # Φ(x) + x φ(x)


def _softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def softmax_jacobian(x: torch.Tensor) -> torch.Tensor:
    """Jacobian of softmax over the last axis: ``J = diag(s) − s sᵀ``, shape ``(..., K) -> (..., K, K)``."""
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"softmax_jacobian expects (..., K) with K >= 1, got shape {tuple(x.shape)}")
    s = torch.softmax(x, dim=-1)  # (..., K)
    return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)  # (..., K, K)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid", "σ(x) = 1 / (1 + e^(−x))", nn.Sigmoid, torch.sigmoid, _sigmoid_derivative,
        "σ'(x) = σ(x)(1 − σ(x)) ≤ 0.25", (0.0, 1.0),
        "a probability for one yes/no output (or use BCE-with-logits on the raw score); poor in deep hidden layers",
        saturating=True, kaiming_nonlinearity="sigmoid"),
    "tanh": Activation(
        "tanh", "tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))", nn.Tanh, torch.tanh, _tanh_derivative,
        "tanh'(x) = 1 − tanh²(x) ≤ 1", (-1.0, 1.0),
        "zero-centred hidden units in shallow nets and RNNs; a generator's last layer for data in [−1, 1]",
        saturating=True, kaiming_nonlinearity="tanh"),
    "relu": Activation(
        "relu", "ReLU(x) = max(0, x)", nn.ReLU, torch.relu, _relu_derivative,
        "ReLU'(x) = 1 if x > 0 else 0", (0.0, math.inf),
        "the default for hidden layers of deep MLPs and CNNs; units can die (always 0) after a bad step",
        saturating=False, kaiming_nonlinearity="relu"),
    "leaky_relu": Activation(
        "leaky_relu", f"LeakyReLU(x) = x if x > 0 else {LEAKY_SLOPE}·x", lambda: nn.LeakyReLU(LEAKY_SLOPE),
        lambda x: torch.where(x > 0, x, LEAKY_SLOPE * x), _leaky_relu_derivative,
        f"LeakyReLU'(x) = 1 if x > 0 else {LEAKY_SLOPE}", (-math.inf, math.inf),
        f"like ReLU but units cannot die; slope {LEAKY_SLOPE} in GAN discriminators (DCGAN), PyTorch's default is 0.01",
        saturating=False, kaiming_nonlinearity="leaky_relu"),
    "elu": Activation(
        "elu", f"ELU(x) = x if x > 0 else {ELU_ALPHA}·(e^x − 1)", nn.ELU, _elu, _elu_derivative,
        f"ELU'(x) = 1 if x > 0 else {ELU_ALPHA}·e^x", (-ELU_ALPHA, math.inf),
        "a smooth ReLU whose negative outputs pull the mean towards 0; units cannot die",
        saturating=False, kaiming_nonlinearity="relu"),
    "gelu": Activation(
        "gelu", "GELU(x) = x·Φ(x)  (Φ the standard normal CDF)", nn.GELU, _gelu, _gelu_derivative,
        "GELU'(x) = Φ(x) + x·φ(x)", (-0.17, math.inf),  # minimum x·Φ(x) ≈ −0.170 at x ≈ −0.75
        "smooth ReLU used in Transformers and BERT (lessons 06, 07)",
        saturating=False, kaiming_nonlinearity="relu"),
    "softmax": Activation(
        "softmax", "softmax(x)_i = e^(x_i) / Σ_j e^(x_j)", lambda: nn.Softmax(dim=-1), _softmax, softmax_jacobian,
        "∂s_i/∂x_j = s_i(δ_ij − s_j), i.e. J = diag(s) − s sᵀ", (0.0, 1.0),
        "the last layer of a K-class classifier (outputs sum to 1); fold it into cross-entropy on logits",
        saturating=True, elementwise=False, kaiming_nonlinearity="linear"),
}

HIDDEN_ACTIVATIONS = tuple(name for name, act in ACTIVATIONS.items() if act.elementwise)


def get(name: str) -> Activation:
    """The registry entry for ``name``; an unknown name raises a ValueError listing the allowed ones."""
    return runtime.lookup(ACTIVATIONS, name, "activation")


def name_of(module: nn.Module) -> str | None:
    """The registry name of an activation module (``nn.Tanh()`` -> ``"tanh"``), or None for other modules."""
    for name, activation in ACTIVATIONS.items():
        if type(module) is type(activation.module()):
            return name
    return None
