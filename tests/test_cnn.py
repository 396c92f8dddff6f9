"""FashionCNN: shapes, clear shape errors, features, and behaviour of BatchNorm/dropout in train vs eval mode."""

import pytest
import torch

from gan_course.models import cnn


@pytest.fixture
def model():
    torch.manual_seed(0)
    return cnn.FashionCNN().eval()


def test_logits_and_features_shapes(model):
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert model(x).shape == (5, 10)
    assert model.features(x).shape == (5, model.config.feature_dim) == (5, 128)


def test_logits_are_the_linear_head_of_the_features(model):
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    last = model.classifier[-1]
    torch.testing.assert_close(model(x), model.features(x) @ last.weight.T + last.bias)


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 3, 28, 28), (5, 1, 32, 32), (784,)])
def test_wrong_shapes_raise_a_clear_error(model, shape):
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"got \(" + ", ".join(str(s) for s in shape)):
        model.features(torch.zeros(shape))


def test_bad_dropout_is_rejected():
    with pytest.raises(ValueError, match="dropout"):
        cnn.FashionCNN(cnn.FashionCNNConfig(dropout=1.0))


def test_eval_mode_is_deterministic_and_per_sample(model):
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(model(x), model(x))
    # eval mode: BatchNorm uses running statistics, so a sample's logits do not depend on its batch mates
    torch.testing.assert_close(model(x[:2]), model(x)[:2])


def test_train_mode_uses_dropout(model):
    model.train()
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    assert not torch.allclose(model(x), model(x))


def test_config_meta_changes_with_the_architecture():
    assert cnn.FashionCNNConfig().as_meta() != cnn.FashionCNNConfig(channels=(32, 32, 64)).as_meta()
    small = cnn.FashionCNN(cnn.FashionCNNConfig(channels=(4, 8, 8), feature_dim=16))
    assert small.features(torch.zeros(2, 1, 28, 28)).shape == (2, 16)


def test_a_few_steps_fit_a_tiny_batch():
    torch.manual_seed(0)
    model = cnn.FashionCNN(cnn.FashionCNNConfig(channels=(8, 8, 16), feature_dim=32, dropout=0.0))
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    y = torch.arange(16) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(40):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert (model(x).argmax(1) == y).float().mean() == 1.0
