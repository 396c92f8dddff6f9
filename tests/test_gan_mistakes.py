"""Tests for gan_course.teaching.gan_mistakes: each repro shows its symptom and each fix removes it (short runs, 1 thread)."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.training import gan, losses
from gan_course.evaluation import symptoms
from gan_course.models import toy_gan
from gan_course.teaching import gan_mistakes

TOY_STEPS = 80
IMAGE_STEPS = 40


def test_the_two_generator_losses_match_their_formulas():
    logits = torch.tensor([-3.0, -0.5, 0.0, 2.0])
    probs = torch.sigmoid(logits)
    torch.testing.assert_close(gan_mistakes.generator_loss_toward_fake_label(logits), -torch.log(1 - probs).mean())
    torch.testing.assert_close(gan_mistakes.generator_loss_toward_real_label(logits), -torch.log(probs).mean())
    torch.testing.assert_close(gan_mistakes.generator_loss_toward_real_label(logits),
                               losses.non_saturating_generator_loss(None, logits))


def test_generator_trained_toward_fake_looks_fake_and_the_fix_does_not():
    wrong = gan_mistakes.generator_toward_fake_label(fixed=False, steps=TOY_STEPS)
    right = gan_mistakes.generator_toward_fake_label(fixed=True, steps=TOY_STEPS)
    assert wrong.last("fake_prob", 10) < 0.05, "G pushed toward the fake label should make D(G(z)) -> 0"
    assert right.last("fake_prob", 10) > 0.2
    wrong_distance = symptoms.distance_to_modes(wrong.samples)["mean_distance"]
    right_distance = symptoms.distance_to_modes(right.samples)["mean_distance"]
    assert wrong_distance > 2.0 and right_distance < 1.0, (wrong_distance, right_distance)


def test_relu_output_cannot_reach_the_negative_half_and_tanh_can():
    relu_run, relu = gan_mistakes.output_range("relu", (-1.0, 1.0), steps=IMAGE_STEPS, limit=500)
    tanh_run, tanh = gan_mistakes.output_range("tanh", (-1.0, 1.0), steps=IMAGE_STEPS, limit=500)
    assert relu["min"] >= 0.0 and relu["fake_below_zero"] == 0.0
    assert relu["real_below_zero"] > 0.5, "most Fashion-MNIST pixels are background, below 0 in [-1, 1]"
    assert relu["exactly_zero"] > 0.5, "pixels pushed below 0 sit at exactly 0 (dead: no gradient)"
    assert tanh["exactly_zero"] == 0.0 and tanh["fake_below_zero"] > 0.3
    assert tanh["background_gap"] < relu["background_gap"]


def test_wrong_flag_step_moves_the_discriminator_and_the_fix_freezes_it():
    generator, discriminator = gan_mistakes.toy_models(0)
    before = [p.detach().clone() for p in discriminator.parameters()]
    combined = torch.optim.Adam(list(generator.parameters()) + list(discriminator.parameters()), lr=1e-3)
    gan_mistakes.wrong_flag_generator_step(generator, discriminator, combined, 64)
    assert any(not torch.equal(a, b) for a, b in zip(before, discriminator.parameters()))
    assert all(p.requires_grad for p in discriminator.parameters()), "the flag is restored afterwards"

    before = [p.detach().clone() for p in discriminator.parameters()]
    g_only = torch.optim.Adam(generator.parameters(), lr=1e-3)
    gan.generator_step(generator, discriminator, g_only, 64)
    for a, b in zip(before, discriminator.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_wrong_flag_training_drifts_d_and_breaks_training():
    wrong = gan_mistakes.discriminator_updated_in_generator_step(fixed=False, steps=TOY_STEPS)
    right = gan_mistakes.discriminator_updated_in_generator_step(fixed=True, steps=TOY_STEPS)
    assert wrong.last("d_change_in_g_step") > 1e-2
    assert max(right.history["d_change_in_g_step"]) == 0.0
    assert wrong.last("fake_prob", 10) > 0.6, "D, trained to call fakes real in the G step, trusts them"
    assert (symptoms.distance_to_modes(wrong.samples)["mean_distance"]
            > 2 * symptoms.distance_to_modes(right.samples)["mean_distance"])


def test_overpowered_discriminator_starves_the_generator():
    wrong = gan_mistakes.overpowered_discriminator(fixed=False, steps=IMAGE_STEPS, limit=500)
    right = gan_mistakes.overpowered_discriminator(fixed=True, steps=IMAGE_STEPS, limit=500)
    assert wrong.last("d_loss", 10) < 0.1, "the strong D's loss races to 0"
    assert right.last("d_loss", 10) > 0.5
    assert wrong.last("g_grad_norm", 10) < 0.2 * right.last("g_grad_norm", 10)


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    logits = torch.tensor([-8.0], requires_grad=True)  # D rejects the fake firmly: σ(l) ≈ 3e-4
    (minimax,) = torch.autograd.grad(losses.minimax_generator_loss(None, logits), logits)
    (non_saturating,) = torch.autograd.grad(losses.non_saturating_generator_loss(None, logits), logits)
    torch.testing.assert_close(minimax, -torch.sigmoid(logits.detach()))
    torch.testing.assert_close(non_saturating, -(1 - torch.sigmoid(logits.detach())))
    assert minimax.abs() < 1e-3 < 0.99 < non_saturating.abs()


def test_high_learning_rate_oscillates_then_is_caught_by_the_nan_guard():
    calm = gan_mistakes.learning_rate_too_high(2e-4, steps=TOY_STEPS)
    shaky = gan_mistakes.learning_rate_too_high(0.3, steps=TOY_STEPS)
    blown = gan_mistakes.learning_rate_too_high(5.0, steps=TOY_STEPS, optimizer="sgd")
    assert calm.error is None and shaky.error is None
    assert symptoms.loss_jitter(shaky.history["d_loss"]) > 10 * symptoms.loss_jitter(calm.history["d_loss"])
    assert blown.error is not None and "became nan" in blown.error and "learning rate" in blown.error
    assert blown.samples is None and len(blown.history.get("d_loss", [])) < TOY_STEPS


def test_loss_jitter_and_pixel_report_on_hand_made_inputs():
    assert symptoms.loss_jitter([1.0, 3.0, 2.0]) == pytest.approx(1.5)
    real = torch.full((2, 1, 28, 28), -1.0)
    fake = torch.zeros(2, 1, 28, 28)
    report = symptoms.pixel_report(fake, real)
    assert report["exactly_zero"] == 1.0 and report["real_below_zero"] == 1.0 and report["fake_below_zero"] == 0.0
    assert report["background_gap"] == pytest.approx(1.0) and report["mean_gap"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="loss_jitter"):
        symptoms.loss_jitter([1.0])


def test_config_rejects_unknown_choices():
    with pytest.raises(ValueError, match="generator_target"):
        gan_mistakes.ReproConfig(generator_target="maybe")
    with pytest.raises(ValueError, match="output activation"):
        toy_gan.ImageMLPGenerator(output_activation="softmax")
    with pytest.raises(ValueError, match=r"\(B, 32\)"):
        toy_gan.ImageMLPGenerator()(torch.zeros(3, 7))
    assert F.relu(torch.tensor(-1.0)) == 0  # the ReLU output of mistake (b) clips here


def test_repro_config_is_a_gan_config():
    """Old saved names load; a shared field train_repro does not read is refused; the optimizer is gan's."""
    config = gan_mistakes.ReproConfig.from_dict({"lr_generator": 1e-3, "lr_discriminator": 2e-3, "optimizer": "sgd"})
    assert (config.g_lr, config.discriminator_lr, config.g_optimizer, config.d_optimizer) == (1e-3, 2e-3, "sgd", "sgd")
    with pytest.raises(ValueError, match="does not use ema"):
        gan_mistakes.ReproConfig(ema=0.9)
    assert gan_mistakes.ReproConfig(g_lr=1e-3).discriminator_lr == 1e-3


def test_distance_to_modes_uses_an_absolute_radius():
    near = symptoms.distance_to_modes(torch.tensor([[1.0, 0.0], [1.05, 0.0], [5.0, 5.0]]))  # 0.05 = 5σ: still in
    assert near["high_quality"] == pytest.approx(2 / 3) and near["modes"] == 1
