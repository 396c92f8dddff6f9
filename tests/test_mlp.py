"""Tests for gan_course.models.mlp: the hand-written layer against nn.Linear, the MLP, parameter counts."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_course.models import mlp

REFERENCE_ACTIVATIONS = {"identity": lambda x: x, "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
                         "elu": F.elu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "gelu": F.gelu}


def test_every_activation_has_a_reference():
    assert set(mlp.ACTIVATIONS) == set(REFERENCE_ACTIVATIONS)


def linear_twin(layer: mlp.FullyConnected) -> nn.Linear:
    reference = nn.Linear(layer.in_features, layer.out_features)
    with torch.no_grad():
        reference.weight.copy_(layer.weight)
        reference.bias.copy_(layer.bias)
    return reference


@pytest.mark.parametrize("activation", sorted(mlp.ACTIVATIONS))
def test_forward_and_gradients_match_nn_linear(activation):
    torch.manual_seed(0)
    layer = mlp.FullyConnected(7, 4, activation)
    reference = linear_twin(layer)
    x = torch.randn(5, 7, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    y = layer(x)
    y_ref = REFERENCE_ACTIVATIONS[activation](reference(x_ref))
    torch.testing.assert_close(y, y_ref)
    upstream = torch.randn_like(y)
    (y * upstream).sum().backward()
    (y_ref * upstream).sum().backward()
    torch.testing.assert_close(layer.weight.grad, reference.weight.grad)
    torch.testing.assert_close(layer.bias.grad, reference.bias.grad)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_steps_are_multiply_sum_bias_activation_by_hand():
    layer = mlp.FullyConnected(2, 1, "relu")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[2.0, -1.0]]))
        layer.bias.copy_(torch.tensor([0.5]))
    x = torch.tensor([[3.0, 1.0], [0.0, 4.0]])
    parts = layer.steps(x)
    torch.testing.assert_close(parts["products"], torch.tensor([[[6.0, -1.0]], [[0.0, -4.0]]]))
    torch.testing.assert_close(parts["sums"], torch.tensor([[5.0], [-4.0]]))
    torch.testing.assert_close(parts["pre_activation"], torch.tensor([[5.5], [-3.5]]))
    torch.testing.assert_close(parts["output"], torch.tensor([[5.5], [0.0]]))
    torch.testing.assert_close(parts["output"], layer(x))


def test_default_init_matches_nn_linear_bounds_and_kaiming_variance():
    torch.manual_seed(0)
    layer = mlp.FullyConnected(400, 300)
    bound = 1 / 400 ** 0.5
    assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.95 * bound
    kaiming = mlp.FullyConnected(400, 300, "relu", init="kaiming")
    assert kaiming.weight.std().item() == pytest.approx((2 / 400) ** 0.5, rel=0.05)
    assert torch.count_nonzero(kaiming.bias) == 0
    large = mlp.FullyConnected(400, 300, init="large")
    assert large.weight.std().item() == pytest.approx(1.0, rel=0.05)


def test_layer_refuses_wrong_shapes_and_names():
    layer = mlp.FullyConnected(784, 10)
    with pytest.raises(ValueError, match=r"expects input of shape \(B, 784\), got \(3, 28, 28\)"):
        layer(torch.zeros(3, 28, 28))
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; choose one of \["):
        mlp.FullyConnected(3, 2, "swish")
    with pytest.raises(ValueError, match=r"unknown init 'he'; choose one of"):
        mlp.FullyConnected(3, 2, init="he")
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        mlp.FullyConnected(0, 2)


def test_mlp_shapes_counts_and_dropout():
    torch.manual_seed(0)
    model = mlp.MLP(mlp.MLPConfig(hidden_sizes=(256, 64), dropout=0.5))
    images = torch.randn(8, 1, 28, 28)
    assert model(images).shape == (8, 10)
    torch.testing.assert_close(model.eval()(images), model(images.flatten(1)))
    expected = 784 * 256 + 256 + 256 * 64 + 64 + 64 * 10 + 10
    assert mlp.parameter_count(model) == expected == mlp.dense_parameter_count([784, 256, 64, 10])
    # dropout: train mode is random, eval mode is deterministic
    model.train()
    assert not torch.equal(model(images), model(images))
    model.eval()
    assert torch.equal(model(images), model(images))


def test_parameter_count_matches_an_nn_linear_stack_and_respects_frozen_parameters():
    reference = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    model = mlp.MLP()
    assert mlp.parameter_count(model) == sum(p.numel() for p in reference.parameters()) == 203_530
    model.layers[0].weight.requires_grad_(False)
    assert mlp.parameter_count(model) == 203_530 - 784 * 256
    assert mlp.parameter_count(model, trainable_only=False) == 203_530


def test_mlp_refuses_bad_inputs_and_configs():
    model = mlp.MLP()
    with pytest.raises(ValueError, match="expects 784 features per sample"):
        model(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="dropout must be in"):
        mlp.MLP(mlp.MLPConfig(dropout=1.0))
    with pytest.raises(ValueError, match="hidden_sizes must be positive ints"):
        mlp.MLP(mlp.MLPConfig(hidden_sizes=(0,)))
    with pytest.raises(ValueError, match="at least two positive ints"):
        mlp.dense_parameter_count([784])


def test_mlp_learns_xor_which_a_single_layer_cannot():
    from gan_course.training import classification
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(16, 1)
    y = (x[:, 0] != x[:, 1]).long()
    torch.manual_seed(0)
    deep = mlp.MLP(mlp.MLPConfig(in_features=2, hidden_sizes=(16,), num_classes=2))
    classification.train_classifier(deep, x, y, epochs=60, batch_size=16, lr=0.05, progress=False,
                                    generator=torch.Generator().manual_seed(0))
    assert classification.accuracy(deep, x, y) == 1.0
    shallow = mlp.MLP(mlp.MLPConfig(in_features=2, hidden_sizes=(), num_classes=2))
    classification.train_classifier(shallow, x, y, epochs=60, batch_size=16, lr=0.05, progress=False,
                                    generator=torch.Generator().manual_seed(0))
    assert classification.accuracy(shallow, x, y) <= 0.75


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 6), in_features=st.integers(1, 9), out_features=st.integers(1, 9),
       seed=st.integers(0, 10_000))
def test_steps_and_forward_agree_with_nn_linear_for_any_size(batch, in_features, out_features, seed):
    torch.manual_seed(seed)
    layer = mlp.FullyConnected(in_features, out_features)
    x = torch.randn(batch, in_features)
    parts = layer.steps(x)
    assert parts["products"].shape == (batch, out_features, in_features)
    torch.testing.assert_close(parts["output"], linear_twin(layer)(x))
    torch.testing.assert_close(layer(x), parts["output"])
