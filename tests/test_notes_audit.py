"""Tests for gan_course.teaching.notes_audit: each line of the notes' code shows its symptom, each fix removes it (short runs)."""

import math

import pytest
import torch

from gan_course.evaluation import symptoms
from gan_course.models import toy_gan
from gan_course.teaching import gan_mistakes, notes_audit

TOY_STEPS = 120
IMAGE_STEPS = 40


def test_double_sigmoid_has_a_loss_floor_and_the_fix_goes_below_it():
    expected = -math.log(1 / (1 + math.exp(-1))) + math.log(2)  # −log σ(1) − log(1 − σ(0))
    assert notes_audit.DOUBLE_SIGMOID_FLOOR == pytest.approx(expected)
    wrong = notes_audit.double_sigmoid(fixed=False, steps=TOY_STEPS)
    right = notes_audit.double_sigmoid(fixed=True, steps=TOY_STEPS)
    assert min(wrong.history["d_loss"]) >= notes_audit.DOUBLE_SIGMOID_FLOOR - 1e-4
    assert min(right.history["d_loss"]) < min(wrong.history["d_loss"])  # (below the floor itself in longer runs)
    assert wrong.last("g_grad_norm") < right.last("g_grad_norm")


def test_sigmoid_output_wrapper_returns_probabilities():
    _, discriminator = gan_mistakes.toy_models(0)
    x = torch.randn(5, 2)
    torch.testing.assert_close(toy_gan.SigmoidOutput(discriminator)(x), torch.sigmoid(discriminator(x)))


def test_joint_optimizer_pins_d_of_fakes_near_one_half():
    wrong = notes_audit.joint_optimizer(fixed=False, steps=TOY_STEPS)
    assert abs(wrong.last("fake_prob") - 0.5) < 0.15
    assert wrong.samples.shape == (1000, 2)


def test_train_on_batch_to_one_whitens_every_pixel():
    wrong = notes_audit.train_on_batch_to_one(fixed=False, steps=IMAGE_STEPS, limit=500)
    assert wrong.samples.mean() > 0.8
    assert wrong.history["pixel_mean"][-1] > wrong.history["pixel_mean"][0]


def test_flag_left_off_never_changes_d():
    wrong = notes_audit.flag_left_off(fixed=False, steps=TOY_STEPS)
    assert max(wrong.history["d_change_in_d_step"]) == 0.0
    right = notes_audit.flag_left_off(fixed=True, steps=TOY_STEPS)
    assert max(right.history["d_change_in_g_step"]) == 0.0


def test_separate_loops_record_both_phases():
    run = notes_audit.separate_loops(fixed=False, steps=60)
    assert len(run.history["d_loss"]) == 60 and len(run.history["g_loss"]) == 60
    assert run.history["d_loss"][-1] < run.history["d_loss"][0], "D alone against a fixed G learns to separate"


def test_same_batch_returns_the_fixed_batch_and_the_data():
    run, verdict, first, images = notes_audit.same_batch(fixed=False, steps=IMAGE_STEPS, limit=500)
    assert first.shape == (64, 1, 28, 28) and images.shape == (500, 1, 28, 28)
    torch.testing.assert_close(first, images[:64])
    assert 0 <= verdict["d_on_first"] <= 1 and 0 <= verdict["d_on_others"] <= 1
    assert symptoms.nearest_distance(first, first) == pytest.approx(0.0, abs=1e-3)  # cdist is not exact
    assert symptoms.mean_image_gap(first, first) == pytest.approx(0.0, abs=1e-6)
    assert symptoms.mean_image_gap(torch.zeros(2, 1, 2, 2), torch.ones(3, 1, 2, 2)) == pytest.approx(1.0)


def test_clipped_optimizer_clips_before_stepping():
    weight = torch.nn.Parameter(torch.zeros(3))
    optimizer = notes_audit.ClippedOptimizer(torch.optim.SGD([weight], lr=1.0), max_norm=0.5)
    optimizer.zero_grad()
    (weight * torch.tensor([30.0, 40.0, 0.0])).sum().backward()  # gradient norm 50
    optimizer.step()
    torch.testing.assert_close(weight.detach(), torch.tensor([-0.3, -0.4, 0.0]))  # clipped to norm 0.5


def test_noise_and_mixture():
    stats = notes_audit.discriminator_confidence(0.0, steps=30)
    assert 0 <= stats["fake_prob"] <= 1 and stats["saturating_grad"] >= 0
    layer = toy_gan.GaussianNoise(1.0)
    x = torch.zeros(4, 3)
    assert torch.equal(layer.eval()(x), x) and not torch.equal(layer.train()(x), x)
    mixture_run, shares = notes_audit.mixture_of_generators(components=4, steps=30)
    assert shares.shape == (4, 8)
    torch.testing.assert_close(shares.sum(dim=1), torch.ones(4))


def test_mixture_of_generators_routes_each_sample_to_its_generator():
    mixture = toy_gan.MixtureOfGenerators(components=3)
    z = mixture.sample_latent(6, torch.Generator().manual_seed(0))
    code, noise = z[:, :3].argmax(dim=1), z[:, 3:]
    expected = torch.stack([mixture.generators[int(k)](noise[i:i + 1])[0] for i, k in enumerate(code)])
    torch.testing.assert_close(mixture(z), expected)
    with pytest.raises(ValueError, match="MixtureOfGenerators expects"):
        mixture(torch.zeros(2, 4))
