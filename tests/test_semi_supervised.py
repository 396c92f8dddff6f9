"""Tests for gan_course.training.semi_supervised: the K-logit D(x) = Z/(Z+1) identity, losses against formulas, training."""

import pytest
import torch
import torch.nn.functional as F

from gan_course.models import semi_supervised as models
from gan_course.training import semi_supervised


def test_real_fake_logit_is_the_k_plus_one_class_softmax():
    logits = torch.randn(6, 10)
    with_fake = torch.cat([logits, torch.zeros(6, 1)], dim=1)  # the (K+1)-th "fake" class with logit 0
    p_real = 1 - F.softmax(with_fake, dim=1)[:, -1]
    z = logits.exp().sum(1)
    torch.testing.assert_close(torch.sigmoid(semi_supervised.real_fake_logit(logits)), p_real)
    torch.testing.assert_close(p_real, z / (z + 1))


def test_unsupervised_loss_matches_the_bce_formula():
    real, fake = torch.randn(4, 10), torch.randn(5, 10)
    d_real = torch.sigmoid(semi_supervised.real_fake_logit(real))
    d_fake = torch.sigmoid(semi_supervised.real_fake_logit(fake))
    expected = -torch.log(d_real).mean() - torch.log(1 - d_fake).mean()
    torch.testing.assert_close(semi_supervised.unsupervised_discriminator_loss(real, fake), expected)


def test_feature_matching_loss():
    a, b = torch.randn(8, 3), torch.randn(6, 3)
    torch.testing.assert_close(semi_supervised.feature_matching_loss(a, b), ((a.mean(0) - b.mean(0)) ** 2).sum())
    assert semi_supervised.feature_matching_loss(a, a.flip(0)).item() == pytest.approx(0.0, abs=1e-6)


def test_select_labelled_takes_per_class_examples():
    labels = torch.arange(300) % 10
    index = semi_supervised.select_labelled(labels, per_class=10, seed=0)
    assert index.shape == (100,) and len(set(index.tolist())) == 100
    assert torch.bincount(labels[index], minlength=10).tolist() == [10] * 10
    torch.testing.assert_close(index, semi_supervised.select_labelled(labels, 10, seed=0))
    with pytest.raises(ValueError, match="fewer than per_class"):
        semi_supervised.select_labelled(labels, per_class=31)


def test_classifier_shapes_and_checks():
    model = models.SemiSupervisedDiscriminator(base_channels=8).eval()
    x = torch.randn(3, 1, 28, 28)
    assert model(x).shape == (3, 10) and model.features(x).shape == (3, 128)
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model(torch.randn(3, 28, 28))
    with pytest.raises(ValueError, match="unsupervised_weight"):
        semi_supervised.SemiSupervisedConfig(unsupervised_weight=-1.0)
    with pytest.raises(ValueError, match="does not use loss"):
        semi_supervised.SemiSupervisedConfig(loss="hinge")
    config = semi_supervised.SemiSupervisedConfig.from_dict({"lr": 1e-3, "latent_dim": 8})
    assert (config.g_lr, config.discriminator_lr, config.latent_dim) == (1e-3, 1e-3, 8)


def _toy_problem(count=400, seed=0):
    """Ten classes, each a bright square at its own position on a dark background, plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 10
    images = torch.full((count, 1, 28, 28), -1.0)
    for k in range(10):
        r, c = divmod(k, 5)
        images[labels == k, :, 4 + 10 * r:12 + 10 * r, 1 + 5 * c:6 + 5 * c] = 1.0
    return images + 0.3 * torch.randn(images.shape, generator=g), labels


def test_both_trainers_learn_a_separable_toy_and_keep_the_labelled_set():
    images, labels = _toy_problem()
    index = semi_supervised.select_labelled(labels[:200], per_class=2)
    config = semi_supervised.SemiSupervisedConfig(steps=25, batch_size=16, base_channels=8, g_lr=1e-3)
    baseline, history = semi_supervised.train_supervised(images[index], labels[index], config)
    classifier, generator, ssl_history = semi_supervised.train_semi_supervised(
        images[index], labels[index], images[:200], config)
    assert not classifier.training and not baseline.training
    test_images, test_labels = images[200:], labels[200:]
    for model in (baseline, classifier):
        with torch.no_grad():
            accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
        assert accuracy > 0.8, accuracy
    assert history["supervised_loss"][-1] < history["supervised_loss"][0]
    assert {"supervised_loss", "unsupervised_loss", "g_loss"} <= set(ssl_history)
    assert generator(torch.randn(2, config.latent_dim)).shape == (2, 1, 28, 28)


def test_semi_supervised_step_is_the_training_loop_body():
    """One train_semi_supervised step equals one semi_supervised_step from the same state and random numbers."""
    from gan_course.models import dcgan

    torch.manual_seed(0)
    images, labels = torch.rand(40, 1, 28, 28) * 2 - 1, torch.arange(40) % 10
    config = semi_supervised.SemiSupervisedConfig(steps=1, batch_size=8, seed=3)
    _, _, history = semi_supervised.train_semi_supervised(images[:20], labels[:20], images, config)
    classifier = semi_supervised._classifier(config)  # seeds with config.seed, as the loop does
    generator = dcgan.DCGANGenerator(config.latent_dim, config.base_channels)
    rng = torch.Generator().manual_seed(config.seed)
    d_optimizer = torch.optim.Adam(classifier.parameters(), lr=config.g_lr, betas=config.betas)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=config.g_lr, betas=config.betas)
    unlabelled = images[torch.randint(len(images), (8,), generator=rng)]
    stats = semi_supervised.semi_supervised_step(classifier, generator, d_optimizer, g_optimizer, images[:20],
                                                 labels[:20], unlabelled, 1.0, rng)
    for key, value in stats.items():
        assert value == pytest.approx(history[key][0], rel=1e-5), key
