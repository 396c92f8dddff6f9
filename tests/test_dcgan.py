"""DCGAN models: sizes against torch's own layers, output ranges, shape errors, the options that change D."""

import pytest
import torch
from torch import nn

from gan_course.training import gan
from gan_course.models import dcgan


@pytest.mark.parametrize("size", [7, 14, 3, 10])
def test_size_formulas_match_torch(size):
    x = torch.zeros(1, 1, size, size)
    transposed = nn.ConvTranspose2d(1, 1, dcgan.KERNEL, dcgan.STRIDE, dcgan.PADDING)(x)
    assert transposed.shape[-1] == dcgan.transposed_conv_size(size)
    strided = nn.Conv2d(1, 1, dcgan.KERNEL, dcgan.STRIDE, dcgan.PADDING)(torch.zeros(1, 1, 2 * size, 2 * size))
    assert strided.shape[-1] == dcgan.conv_size(2 * size)


def test_size_chain_reaches_28_and_back():
    assert dcgan.transposed_conv_size(dcgan.transposed_conv_size(dcgan.START_SIZE)) == dcgan.IMAGE_SIZE
    assert dcgan.conv_size(dcgan.conv_size(dcgan.IMAGE_SIZE)) == dcgan.START_SIZE


@pytest.mark.parametrize("latent_dim,base_channels,out_channels", [(64, 32, 1), (16, 8, 3)])
def test_generator_shape_and_tanh_range(latent_dim, base_channels, out_channels):
    torch.manual_seed(0)
    generator = dcgan.DCGANGenerator(latent_dim, base_channels, out_channels)
    z = generator.sample_latent(5) * 10  # large inputs still land inside the tanh range
    images = generator(z)
    assert images.shape == (5, out_channels, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0  # not a constant image


def test_generator_intermediate_shapes():
    generator = dcgan.DCGANGenerator(latent_dim=8, base_channels=4)
    shapes = []
    for layer in generator.upsample:
        if isinstance(layer, nn.ConvTranspose2d):
            layer.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(output.shape[1:])))
    generator(torch.randn(2, 8))
    assert shapes == [(4, 14, 14), (1, 28, 28)]


@pytest.mark.parametrize("spectral_norm,batch_norm", [(False, True), (True, False), (True, True), (False, False)])
def test_discriminator_returns_one_logit_per_image(spectral_norm, batch_norm):
    discriminator = dcgan.DCGANDiscriminator(base_channels=8, spectral_norm=spectral_norm, batch_norm=batch_norm)
    logits = discriminator(torch.rand(6, 1, 28, 28) * 2 - 1)
    assert logits.shape == (6,)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in discriminator.modules())
    assert has_bn == batch_norm
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Sigmoid)) for m in discriminator.modules())


def test_spectral_norm_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    discriminator = dcgan.DCGANDiscriminator(base_channels=8, spectral_norm=True, batch_norm=False)
    discriminator.train()
    for _ in range(20):  # power iteration converges over forward passes
        discriminator(torch.randn(4, 1, 28, 28))
    weight = discriminator.head.weight  # the normalised weight
    torch.testing.assert_close(torch.linalg.matrix_norm(weight, ord=2), torch.tensor(1.0), atol=0.05, rtol=0)


def test_shape_errors_name_the_expected_shape():
    generator = dcgan.DCGANGenerator(latent_dim=16, base_channels=4)
    with pytest.raises(ValueError, match=r"\(B, 16\)"):
        generator(torch.randn(3, 15))
    discriminator = dcgan.DCGANDiscriminator(base_channels=4)
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        discriminator(torch.randn(3, 28, 28))
    with pytest.raises(ValueError, match="base_channels"):
        dcgan.DCGANGenerator(base_channels=0)
    with pytest.raises(ValueError, match="latent_dim"):
        dcgan.DCGANGenerator(latent_dim=2.5)


def test_sample_latent_is_reproducible():
    generator = dcgan.DCGANGenerator(latent_dim=8, base_channels=4)
    a = generator.sample_latent(3, torch.Generator().manual_seed(1))
    b = generator.sample_latent(3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert a.shape == (3, 8)


def test_one_training_round_moves_both_players_and_only_the_right_one():
    torch.manual_seed(0)
    generator = dcgan.DCGANGenerator(latent_dim=8, base_channels=4)
    discriminator = dcgan.DCGANDiscriminator(base_channels=4)
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    gan.discriminator_step(generator, discriminator, d_opt, torch.rand(8, 1, 28, 28) * 2 - 1)
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))
    d_after = [p.detach().clone() for p in discriminator.parameters()]
    gan.generator_step(generator, discriminator, g_opt, 8)
    assert all(torch.equal(a, b) for a, b in zip(d_after, discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))


def test_parameter_count_is_small():
    generator, discriminator = dcgan.DCGANGenerator(), dcgan.DCGANDiscriminator()
    assert dcgan.count_parameters(generator) < 400_000
    assert dcgan.count_parameters(discriminator) < 100_000


def test_dcgan_init_draws_the_papers_normal_and_zeroes_biases():
    torch.manual_seed(0)
    generator = dcgan.dcgan_init_(dcgan.DCGANGenerator())
    torch.testing.assert_close(generator.project[0].weight.std().item(), 0.02, rtol=0.05, atol=0.0)
    torch.testing.assert_close(generator.project[0].weight.mean().item(), 0.0, rtol=0.0, atol=2e-3)
    torch.testing.assert_close(generator.project[1].weight.mean().item(), 1.0, rtol=0.0, atol=2e-3)  # BatchNorm γ
    assert generator.upsample[3].bias.abs().max() == 0 and generator.project[1].bias.abs().max() == 0


def test_dcgan_init_reaches_the_weight_under_spectral_norm():
    torch.manual_seed(0)
    critic = dcgan.dcgan_init_(dcgan.DCGANDiscriminator(spectral_norm=True, batch_norm=False))
    original = critic.features[2].parametrizations.weight.original
    torch.testing.assert_close(original.std().item(), 0.02, rtol=0.05, atol=0.0)
    assert critic(torch.zeros(2, 1, 28, 28)).shape == (2,)


def test_dcgan_init_rejects_a_bad_std():
    with pytest.raises(ValueError, match="std"):
        dcgan.dcgan_init_(dcgan.DCGANGenerator(), std=0.0)


def test_slerp_keeps_the_ends_and_the_radius():
    torch.manual_seed(0)
    z0, z1 = torch.randn(64, dtype=torch.float64), torch.randn(64, dtype=torch.float64)
    z1 = z1 * z0.norm() / z1.norm()  # same length: the arc stays on that sphere
    path = dcgan.slerp(z0, z1, torch.linspace(0, 1, 7, dtype=torch.float64))
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)
    torch.testing.assert_close(path.norm(dim=1), torch.full((7,), z0.norm().item(), dtype=torch.float64))
    straight = torch.lerp(z0, z1, 0.5)
    assert straight.norm() < path[3].norm()  # the straight line cuts inside the sphere


def test_slerp_of_parallel_latents_is_the_straight_line_and_shapes_are_checked():
    z0 = torch.ones(4)
    torch.testing.assert_close(dcgan.slerp(z0, 2 * z0, torch.tensor([0.5])), torch.full((1, 4), 1.5))
    with pytest.raises(ValueError, match="slerp expects"):
        dcgan.slerp(torch.ones(2, 4), torch.ones(2, 4), torch.tensor([0.5]))
