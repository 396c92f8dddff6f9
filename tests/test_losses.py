"""GAN losses against their textbook forms (Sigmoid + BCE, hand formulas) and the gradient penalty's law."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.training import losses

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE = torch.tensor([-2.5, 0.3, 1.0, -0.2])


def test_minimax_matches_sigmoid_bce():
    d_real, d_fake = torch.sigmoid(REAL), torch.sigmoid(FAKE)
    expected = F.binary_cross_entropy(d_real, torch.ones(4)) + F.binary_cross_entropy(d_fake, torch.zeros(4))
    torch.testing.assert_close(losses.minimax_discriminator_loss(REAL, FAKE), expected)
    torch.testing.assert_close(losses.minimax_generator_loss(REAL, FAKE), torch.log(1 - d_fake).mean())
    torch.testing.assert_close(losses.non_saturating_generator_loss(REAL, FAKE), -torch.log(d_fake).mean())


def test_label_smoothing_targets():
    smoothed = losses.minimax_discriminator_loss(REAL, FAKE, real_target=0.9)
    expected = (F.binary_cross_entropy(torch.sigmoid(REAL), torch.full((4,), 0.9))
                + F.binary_cross_entropy(torch.sigmoid(FAKE), torch.zeros(4)))
    torch.testing.assert_close(smoothed, expected)


def test_least_squares_wasserstein_hinge_formulas():
    torch.testing.assert_close(losses.lsgan_discriminator_loss(REAL, FAKE),
                               0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean())
    torch.testing.assert_close(losses.lsgan_generator_loss(REAL, FAKE), 0.5 * ((FAKE - 1) ** 2).mean())
    torch.testing.assert_close(losses.wgan_discriminator_loss(REAL, FAKE), FAKE.mean() - REAL.mean())
    torch.testing.assert_close(losses.wgan_generator_loss(REAL, FAKE), -FAKE.mean())
    torch.testing.assert_close(losses.hinge_discriminator_loss(REAL, FAKE),
                               torch.clamp(1 - REAL, min=0).mean() + torch.clamp(1 + FAKE, min=0).mean())


def test_saturation_is_what_the_names_say():
    """When D confidently rejects a fake (logit −10), minimax gives G almost no gradient; non-saturating does."""
    logit = torch.tensor([-10.0], requires_grad=True)
    (minimax,) = torch.autograd.grad(losses.minimax_generator_loss(None, logit), logit)
    (non_saturating,) = torch.autograd.grad(losses.non_saturating_generator_loss(None, logit), logit)
    assert abs(minimax.item()) < 1e-4 and abs(non_saturating.item()) > 0.99


def test_gradient_penalty_of_a_linear_critic():
    """C(x) = w·x has ‖∇C‖ = ‖w‖ everywhere, so the penalty is exactly (‖w‖ − 1)²."""
    weight = torch.tensor([3.0, 4.0])
    penalty = losses.gradient_penalty(lambda x: x @ weight, torch.randn(16, 2), torch.randn(16, 2))
    torch.testing.assert_close(penalty, torch.tensor(16.0))
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(lambda x: x.sum(1), torch.randn(4, 2), torch.randn(5, 2))


def test_gradient_penalty_is_differentiable_in_the_critic():
    layer = torch.nn.Linear(2, 1)
    penalty = losses.gradient_penalty(lambda x: layer(x).squeeze(1), torch.randn(8, 2), torch.randn(8, 2))
    penalty.backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", list(losses.GAN_LOSSES))
def test_registry_entries_are_consistent(name):
    family = losses.get_loss(name)
    assert family.name == name and family.description
    d_loss = family.discriminator_loss(REAL, FAKE)
    g_loss = family.generator_loss(REAL, FAKE)
    assert d_loss.ndim == 0 and g_loss.ndim == 0 and torch.isfinite(d_loss) and torch.isfinite(g_loss)


def test_unknown_loss_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown GAN loss 'vanilla'.*non-saturating"):
        losses.get_loss("vanilla")
