"""Tests for gan_course.models.deep_mlp: configuration checks, structure, initialisations and residual blocks."""

import math

import pytest
import torch
from torch import nn

from gan_course.models import deep_mlp


def test_shapes_and_structure():
    model = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=5, width=32, norm="batchnorm"))
    assert model(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    assert model(torch.randn(4, 784)).shape == (4, 10)
    layers = model.linear_layers()
    assert len(layers) == 6 and layers[0].in_features == 784 and layers[-1].out_features == 10
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 5
    layer_norm = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=3, width=8, norm="layernorm", input_size=5,
                                                         output_size=2))
    assert sum(isinstance(m, nn.LayerNorm) for m in layer_norm.modules()) == 3


def test_wrong_input_shape_is_named():
    model = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=2, width=8, input_size=6))
    with pytest.raises(ValueError, match=r"\(B, 6\).*\(4, 5\)"):
        model(torch.randn(4, 5))


@pytest.mark.parametrize("field, value, message", [
    ("depth", 0, "depth must be a positive int"),
    ("width", 2.5, "width must be a positive int"),
    ("activation", "softmax", "unknown DeepMLPConfig.activation .softmax."),
    ("activation", "swish", "choose one of"),
    ("init", "orthogonal", "unknown DeepMLPConfig.init 'orthogonal'; choose one of"),
    ("norm", "groupnorm", "unknown DeepMLPConfig.norm 'groupnorm'; choose one of"),
    ("residual", "yes", "residual must be True or False"),
    ("input_size", -1, "input_size must be a positive int"),
])
def test_config_validation(field, value, message):
    with pytest.raises(ValueError, match=message):
        deep_mlp.DeepMLPConfig(**{field: value})


@pytest.mark.parametrize("init, activation, expected_std", [
    ("kaiming", "relu", math.sqrt(2 / 512)),
    ("kaiming", "tanh", (5 / 3) / math.sqrt(512)),
    ("xavier", "tanh", math.sqrt(2 / (512 + 512))),
    ("small", "relu", deep_mlp.SMALL_STD),
    ("large", "relu", deep_mlp.LARGE_GAIN / math.sqrt(512)),
])
def test_initialisation_standard_deviations(init, activation, expected_std):
    torch.manual_seed(0)
    model = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=3, width=512, init=init, activation=activation))
    hidden = model.linear_layers()[1]  # 512 -> 512, 262k weights: the sample std is within ~0.5 %
    assert hidden.weight.std().item() == pytest.approx(expected_std, rel=0.02)
    assert torch.count_nonzero(hidden.bias) == 0


def test_default_init_keeps_pytorchs_uniform_bound():
    torch.manual_seed(0)
    model = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=2, width=256))
    weight = model.linear_layers()[1].weight
    bound = 1 / math.sqrt(256)
    assert weight.abs().max().item() <= bound and weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_residual_block_is_the_identity_when_its_branch_is_zero():
    model = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=3, width=6, input_size=6, output_size=6, residual=True))
    blocks = list(model.blocks)
    assert all(block.residual for block in blocks)  # input_size == width: every block has a skip path
    h = torch.randn(4, 6)
    with torch.no_grad():
        blocks[1].linear.weight.zero_()
        blocks[1].linear.bias.zero_()
        torch.testing.assert_close(blocks[1](h), h)
    first = deep_mlp.DeepMLP(deep_mlp.DeepMLPConfig(depth=2, width=6, input_size=5, residual=True)).blocks[0]
    assert not first.residual, "a block that changes the width cannot add its input"


def test_depth_makes_sigmoid_gradients_vanish_and_kaiming_relu_keeps_them():
    torch.manual_seed(0)
    x, labels = torch.randn(64, 784), torch.randint(0, 10, (64,))
    ratios = {}
    for name, config in {"sigmoid": deep_mlp.DeepMLPConfig(depth=15, activation="sigmoid"),
                         "relu_kaiming": deep_mlp.DeepMLPConfig(depth=15, activation="relu", init="kaiming")}.items():
        model = deep_mlp.DeepMLP(config)
        torch.nn.functional.cross_entropy(model(x), labels).backward()
        norms = [layer.weight.grad.norm().item() for layer in model.linear_layers()]
        ratios[name] = norms[0] / norms[-1]
    assert ratios["sigmoid"] < 1e-6
    assert 0.1 < ratios["relu_kaiming"] < 10
