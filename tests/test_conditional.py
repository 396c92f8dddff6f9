"""Tests for gan_course.models.conditional: shapes and checks, the projection formula, the labels= training path."""

import pytest
import torch

from gan_course.training import gan
from gan_course.models import conditional
from gan_course.training import conditional as training


def test_shapes_and_label_checks():
    torch.manual_seed(0)
    generator = conditional.ConditionalGenerator(latent_dim=16, base_channels=8)
    discriminator = conditional.ProjectionDiscriminator(base_channels=8)
    labels = torch.tensor([0, 3, 9, 3])
    images = generator(torch.randn(4, 16), labels)
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1.0
    assert discriminator(images, labels).shape == (4,)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        generator(torch.randn(4, 16), torch.tensor([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"labels of shape \(4,\)"):
        discriminator(images, labels[:3])
    with pytest.raises(ValueError, match="integer class labels"):
        discriminator(images, labels.float())
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        discriminator(images[:, :, :27], labels)


def test_projection_discriminator_matches_its_formula():
    torch.manual_seed(0)
    discriminator = conditional.ProjectionDiscriminator(base_channels=8, spectral_norm=False).eval()
    x, labels = torch.randn(5, 1, 28, 28), torch.tensor([1, 1, 4, 7, 0])
    phi = discriminator.features(x)
    expected = discriminator.head(phi).squeeze(1) + (discriminator.embedding.weight[labels] * phi).sum(1)
    torch.testing.assert_close(discriminator(x, labels), expected)
    # the label changes the score only through the projection term
    other = torch.tensor([2, 2, 2, 2, 2])
    difference = discriminator(x, labels) - discriminator(x, other)
    torch.testing.assert_close(difference, ((discriminator.embedding.weight[labels]
                                             - discriminator.embedding.weight[other]) * phi).sum(1))


def test_generator_output_depends_on_the_label():
    torch.manual_seed(0)
    generator = conditional.ConditionalGenerator(latent_dim=16, base_channels=8).eval()
    z = torch.randn(1, 16).repeat(2, 1)
    images = generator(z, torch.tensor([0, 5]))
    assert not torch.allclose(images[0], images[1])


def test_class_rows_and_generate():
    torch.testing.assert_close(training.class_rows(3, 2), torch.tensor([0, 0, 1, 1, 2, 2]))
    torch.manual_seed(0)
    generator = conditional.ConditionalGenerator(latent_dim=16, base_channels=8)
    first = training.generate(generator, training.class_rows(10, 2), seed=3)
    again = training.generate(generator, training.class_rows(10, 2), seed=3)
    assert first.shape == (20, 1, 28, 28) and generator.training
    torch.testing.assert_close(first, again)


def test_generator_step_with_labels_leaves_the_discriminator_unchanged():
    torch.manual_seed(0)
    generator = conditional.ConditionalGenerator(latent_dim=16, base_channels=8)
    discriminator = conditional.ProjectionDiscriminator(base_channels=8)
    before = {k: v.clone() for k, v in discriminator.state_dict().items()}
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3)
    gan.generator_step(generator, discriminator, optimizer, 8, "hinge", labels=torch.arange(8))
    for key, value in discriminator.state_dict().items():
        if "_u" not in key and "_v" not in key:  # spectral norm's power-iteration vectors may update in forward
            torch.testing.assert_close(value, before[key], rtol=0, atol=0)


def test_short_training_learns_the_label_on_a_two_class_toy():
    """Class 0 = dark images, class 1 = bright: after training, G(z, 1) must be brighter than G(z, 0)."""
    torch.manual_seed(0)
    labels = torch.arange(256) % 2
    images = torch.where(labels.view(-1, 1, 1, 1) == 1, 0.8, -0.8) + 0.05 * torch.randn(256, 1, 28, 28)
    generator = conditional.ConditionalGenerator(latent_dim=8, num_classes=2, base_channels=8)
    discriminator = conditional.ProjectionDiscriminator(num_classes=2, base_channels=8)
    config = training.ConditionalGANConfig(steps=60, batch_size=32, g_lr=1e-3)
    history = training.train_conditional_gan(generator, discriminator, images, labels, config)
    assert len(history["d_loss"]) == 60
    dark = training.generate(generator, torch.zeros(64, dtype=torch.long)).mean()
    bright = training.generate(generator, torch.ones(64, dtype=torch.long)).mean()
    assert bright - dark > 0.5, (dark.item(), bright.item())


def test_config_is_a_gan_config():
    config = training.ConditionalGANConfig.from_dict({"lr_generator": 1e-3, "lr_discriminator": 4e-3})
    assert (config.g_lr, config.discriminator_lr, config.loss, config.steps) == (1e-3, 4e-3, "hinge", 2000)
    with pytest.raises(ValueError, match="does not use d_steps"):
        training.ConditionalGANConfig(d_steps=2)


def test_concat_discriminator_sees_the_label_as_input_planes():
    torch.manual_seed(0)
    discriminator = conditional.ConcatDiscriminator(base_channels=8, spectral_norm=False).eval()
    images, labels = torch.randn(3, 1, 28, 28), torch.tensor([0, 4, 9])
    planes = torch.zeros(3, 10, 28, 28)
    planes[torch.arange(3), labels] = 1.0  # one constant plane per class, 1 on the image's class
    torch.testing.assert_close(discriminator(images, labels), discriminator.body(torch.cat([images, planes], 1)))
    assert not torch.allclose(discriminator(images, labels), discriminator(images, (labels + 1) % 10))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        discriminator(images, torch.tensor([0, 1, 10]))


def test_concat_discriminator_trains_with_the_labels_path():
    torch.manual_seed(0)
    labels = torch.arange(256) % 2
    images = torch.where(labels.view(-1, 1, 1, 1) == 1, 0.8, -0.8) + 0.05 * torch.randn(256, 1, 28, 28)
    generator = conditional.ConditionalGenerator(latent_dim=8, num_classes=2, base_channels=8)
    discriminator = conditional.ConcatDiscriminator(num_classes=2, base_channels=8)
    config = training.ConditionalGANConfig(steps=60, batch_size=32, g_lr=1e-3)
    training.train_conditional_gan(generator, discriminator, images, labels, config)
    dark = training.generate(generator, torch.zeros(64, dtype=torch.long)).mean()
    bright = training.generate(generator, torch.ones(64, dtype=torch.long)).mean()
    assert bright - dark > 0.5, (dark.item(), bright.item())
