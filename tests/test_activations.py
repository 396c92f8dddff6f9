"""Tests for gan_course.core.activations: hand-written derivatives against autograd, softmax's Jacobian, the registry."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import activations


ELEMENTWISE = [name for name, act in activations.ACTIVATIONS.items() if act.elementwise]
REFERENCE = {  # trusted implementations from torch.nn.functional
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.2),
    "elu": F.elu, "gelu": F.gelu,
}


def grid():
    return torch.linspace(-8, 8, 321, dtype=torch.float64)  # includes 0 and both flat ends


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_analytic_derivative_equals_autograd(name):
    x = grid().requires_grad_(True)
    (autograd_derivative,) = torch.autograd.grad(activations.ACTIVATIONS[name].function(x).sum(), x)
    torch.testing.assert_close(activations.ACTIVATIONS[name].derivative(x.detach()), autograd_derivative)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_function_and_module_match_torch(name):
    activation = activations.ACTIVATIONS[name]
    x = grid()
    torch.testing.assert_close(activation.function(x), REFERENCE[name](x))
    torch.testing.assert_close(activation.module()(x), REFERENCE[name](x))
    x = x.requires_grad_(True)
    (reference_derivative,) = torch.autograd.grad(REFERENCE[name](x).sum(), x)
    torch.testing.assert_close(activation.derivative(x.detach()), reference_derivative)


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_outputs_stay_inside_the_stated_range(name):
    activation = activations.ACTIVATIONS[name]
    low, high = activation.output_range
    y = activation.function(torch.linspace(-30, 30, 601, dtype=torch.float64).reshape(-1, 1).repeat(1, 3))
    assert y.min() >= low - 1e-3 and y.max() <= high + 1e-12, f"{name} leaves {activation.output_range}"


def test_saturating_flags_and_the_sigmoid_bound():
    x = grid()
    assert activations.ACTIVATIONS["sigmoid"].derivative(x).max().item() == pytest.approx(0.25)
    assert activations.ACTIVATIONS["tanh"].derivative(x).max().item() == pytest.approx(1.0)
    for name in ELEMENTWISE:
        far = activations.ACTIVATIONS[name].derivative(torch.tensor([-30.0, 30.0], dtype=torch.float64))
        assert bool((far.abs() < 1e-6).all()) == activations.ACTIVATIONS[name].saturating, name


def test_softmax_jacobian_equals_autograd_jacobian():
    torch.manual_seed(0)
    x = torch.randn(5, dtype=torch.float64)
    expected = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, dim=-1), x)
    torch.testing.assert_close(activations.ACTIVATIONS["softmax"].derivative(x), expected)
    batch = torch.randn(3, 4, dtype=torch.float64)  # (B, K) -> (B, K, K)
    jacobians = activations.softmax_jacobian(batch)
    assert jacobians.shape == (3, 4, 4)
    for row, jacobian in zip(batch, jacobians):
        torch.testing.assert_close(jacobian, torch.autograd.functional.jacobian(
            lambda v: torch.softmax(v, dim=-1), row))
    torch.testing.assert_close(jacobians.sum(dim=1), torch.zeros(3, 4, dtype=torch.float64))  # Σ_i s_i = 1


def test_unknown_name_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="swish.*relu"):
        activations.get("swish")


def test_name_of_maps_modules_back_to_the_registry():
    assert activations.name_of(nn.Tanh()) == "tanh"
    assert activations.name_of(nn.LeakyReLU()) == "leaky_relu"
    assert activations.name_of(nn.Linear(2, 2)) is None
    assert activations.get("relu").module().__class__ is nn.ReLU


def test_leaky_slope_is_the_discriminators_slope_not_pytorchs_default():
    """Lesson 02 teaches the leaky ReLU that the course's GAN discriminators use (0.2, after DCGAN)."""
    from gan_course.models import dcgan, mlp

    assert activations.LEAKY_SLOPE == 0.2 != nn.LeakyReLU().negative_slope
    assert activations.get("leaky_relu").module().negative_slope == activations.LEAKY_SLOPE
    assert mlp.ACTIVATIONS["leaky_relu"]().negative_slope == activations.LEAKY_SLOPE
    slopes = {m.negative_slope for m in dcgan.DCGANDiscriminator().modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {activations.LEAKY_SLOPE}
    assert "0.2" in activations.get("leaky_relu").when_it_fits and "0.01" in activations.get("leaky_relu").when_it_fits
