"""Tests for gan_course.evaluation.diagnostics on small models whose gradients and activations are known by hand."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.evaluation import diagnostics


def test_weight_gradient_norms_equal_the_hand_gradient():
    model = nn.Sequential(nn.Linear(3, 2, bias=False), nn.Tanh(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.0, 0.5, -0.4]]))
        model[2].weight.copy_(torch.tensor([[2.0, -1.0]]))
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    model(x).sum().backward()
    # L = Σ_b v·tanh(W x_b):  ∂L/∂v = Σ_b tanh(W x_b),  ∂L/∂W = Σ_b (v ⊙ tanh'(W x_b)) x_bᵀ
    hidden = torch.tanh(x @ model[0].weight.T)  # (B, 2)
    grad_v = hidden.sum(0)
    grad_w = ((torch.tensor([2.0, -1.0]) * (1 - hidden ** 2)).T @ x)  # (2, B) @ (B, 3) -> (2, 3)
    rows = diagnostics.weight_gradient_norms(model)
    assert [row["layer"] for row in rows] == ["0", "2"]
    torch.testing.assert_close(torch.tensor([row["grad_norm"] for row in rows]),
                               torch.stack([grad_w.norm(), grad_v.norm()]))


def test_weight_gradient_norms_need_a_backward_pass():
    with pytest.raises(ValueError, match="backward"):
        diagnostics.weight_gradient_norms(nn.Linear(2, 2))


def fixed_layer(weight, bias):
    layer = nn.Linear(len(weight[0]), len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def test_dead_units_of_a_relu_layer():
    # unit 0 follows x, unit 1 is always negative (dead), unit 2 is always positive, unit 3 is 0 at x = 0 only
    model = nn.Sequential(fixed_layer([[1.0], [0.0], [0.0], [1.0]], [0.0, -1.0, 2.0, 0.0]), nn.ReLU())
    x = torch.tensor([[-1.0], [0.0], [2.0]])
    with diagnostics.ActivationRecorder(model) as recorder:
        output = model(x)
    (row,) = recorder.rows()
    assert row["activation"] == "relu" and row["layer"] == "1"
    assert row["fraction_dead"] == pytest.approx(0.25) and row["fraction_inactive"] == pytest.approx(0.25)
    assert row["fraction_saturated"] is None
    assert row["mean"] == pytest.approx(output.mean().item()) and row["std"] == pytest.approx(output.std().item())


def test_leaky_relu_units_are_inactive_but_never_dead():
    model = nn.Sequential(fixed_layer([[0.0], [1.0]], [-1.0, 1.0]), nn.LeakyReLU())
    with diagnostics.ActivationRecorder(model) as recorder:
        model(torch.randn(16, 1) * 0.1)
    (row,) = recorder.rows()
    assert row["fraction_inactive"] == 0.5 and row["fraction_dead"] == 0.0


def test_saturation_of_tanh_and_sigmoid():
    # inputs ±10 saturate, 0 does not: 2 of 3 samples saturated on unit 0, unit 1 never (weight 0, bias 0)
    for module in (nn.Tanh(), nn.Sigmoid()):
        model = nn.Sequential(fixed_layer([[10.0], [0.0]], [0.0, 0.0]), module)
        with diagnostics.ActivationRecorder(model) as recorder:
            model(torch.tensor([[-1.0], [0.0], [1.0]]))
        (row,) = recorder.rows()
        assert row["fraction_saturated"] == pytest.approx(2 / 6)
        assert row["fraction_dead"] == 0.0


def test_recorded_gradient_norm_equals_autograd_and_hooks_are_removed():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3), nn.ReLU(), nn.Linear(3, 2))
    x, labels = torch.randn(5, 4), torch.tensor([0, 1, 1, 0, 1])
    with diagnostics.ActivationRecorder(model) as recorder:
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
    hidden_tanh = model[1](model[0](x))
    hidden_relu = model[3](model[2](hidden_tanh))
    grads = torch.autograd.grad(F.cross_entropy(model[4](hidden_relu), labels), [hidden_tanh, hidden_relu])
    rows = recorder.rows()
    assert [row["activation"] for row in rows] == ["tanh", "relu"]
    torch.testing.assert_close(torch.tensor([row["grad_norm"] for row in rows]), torch.stack([g.norm() for g in grads]))
    assert all(not module._forward_hooks for module in model.modules()), "hooks must be removed on exit"


def test_conv_maps_count_channels_as_units():
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, 0.0]).view(2, 1, 1, 1))
        model[0].bias.copy_(torch.tensor([0.0, -1.0]))
    with diagnostics.ActivationRecorder(model) as recorder:
        model(torch.randn(3, 1, 4, 4))
    assert recorder.rows()[0]["fraction_dead"] == 0.5


def test_gradient_ratio_and_guards():
    assert diagnostics.gradient_ratio([1e-6, 1.0, 2.0]) == pytest.approx(5e-7)
    assert diagnostics.gradient_ratio([1.0, 0.0]) == math.inf
    with pytest.raises(ValueError, match="two layers"):
        diagnostics.gradient_ratio([1.0])
    with pytest.raises(ValueError, match="no activation modules"):
        diagnostics.ActivationRecorder(nn.Linear(2, 2)).__enter__()
