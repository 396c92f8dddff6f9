"""Behaviour of the GAN step functions: who gets updated, the tricks, the NaN guard, reproducibility."""

import dataclasses
import copy
import math

import pytest
import torch

from gan_course.training import gan, losses
from gan_course.data import toy2d
from gan_course.models import toy_gan


def make(loss="non-saturating", lr=1e-3, **disc_kwargs):
    torch.manual_seed(0)
    generator = toy_gan.MLPGenerator(width=32)
    discriminator = toy_gan.MLPDiscriminator(width=32, **disc_kwargs)
    g_opt = torch.optim.Adam(generator.parameters(), lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr, betas=(0.5, 0.999))
    return generator, discriminator, g_opt, d_opt


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def test_generator_step_leaves_the_discriminator_alone():
    generator, discriminator, g_opt, _ = make()
    before_d, before_g = snapshot(discriminator), snapshot(generator)
    gan.generator_step(generator, discriminator, g_opt, 64)
    assert all(torch.equal(a, b) for a, b in zip(before_d, snapshot(discriminator)))
    assert all(p.grad is None for p in discriminator.parameters()), "G step must not leave gradients in D"
    assert all(p.requires_grad for p in discriminator.parameters()), "D's flags must be restored"
    assert not all(torch.equal(a, b) for a, b in zip(before_g, snapshot(generator)))


def test_discriminator_step_leaves_the_generator_alone():
    generator, discriminator, _, d_opt = make()
    before_g, before_d = snapshot(generator), snapshot(discriminator)
    stats = gan.discriminator_step(generator, discriminator, d_opt, toy2d.sample("ring-8", 64))
    assert set(stats) == {"d_loss", "real_logit", "fake_logit"}
    assert all(torch.equal(a, b) for a, b in zip(before_g, snapshot(generator)))
    assert all(p.grad is None for p in generator.parameters())
    assert not all(torch.equal(a, b) for a, b in zip(before_d, snapshot(discriminator)))


@pytest.mark.parametrize("loss", list(losses.GAN_LOSSES))
def test_every_loss_trains_reproducibly(loss):
    def run():
        generator, discriminator, g_opt, d_opt = make(loss)
        config = gan.GANConfig(steps=5, batch_size=32, loss=loss)
        data_rng = torch.Generator().manual_seed(1)

        def sampler(n):
            return toy2d.sample("ring-8", n, data_rng)
        return gan.train_gan(generator, discriminator, sampler, g_opt, d_opt, config,
                             rng=torch.Generator().manual_seed(2))
    first, second = run(), run()
    assert len(first["g_loss"]) == 5 and ("gp" in first) == (loss == "wgan-gp")
    assert first == second


def test_weight_clipping_for_wgan():
    generator, discriminator, _, d_opt = make("wgan", lr=0.5)
    gan.discriminator_step(generator, discriminator, d_opt, toy2d.sample("ring-8", 32), loss="wgan")
    assert max(p.abs().max().item() for p in discriminator.parameters()) <= 0.01 + 1e-7


def test_nan_loss_raises_a_clear_error():
    generator, discriminator, _, d_opt = make()
    real = toy2d.sample("ring-8", 32)
    real[0, 0] = float("nan")
    with pytest.raises(gan.NaNLossError, match="d_loss became nan at step 7.*learning rate"):
        gan.discriminator_step(generator, discriminator, d_opt, real, step=7)


def test_tricks_are_validated():
    with pytest.raises(ValueError, match="label_smoothing"):
        gan.Tricks(label_smoothing=0.7)
    with pytest.raises(ValueError, match="instance_noise"):
        gan.Tricks(instance_noise=-1.0)
    generator, discriminator, _, d_opt = make()
    with pytest.raises(ValueError, match="label smoothing needs a loss with targets"):
        gan.discriminator_step(generator, discriminator, d_opt, toy2d.sample("ring-8", 8), loss="hinge",
                               tricks=gan.Tricks(label_smoothing=0.1))
    with pytest.raises(ValueError, match="d_steps"):
        gan.GANConfig(d_steps=0)


def test_label_flip_and_instance_noise_change_what_d_sees():
    generator, discriminator, _, d_opt = make()
    real = toy2d.sample("ring-8", 256, torch.Generator().manual_seed(0))
    plain = gan.discriminator_step(generator, discriminator, d_opt, real, rng=torch.Generator().manual_seed(0))
    generator, discriminator, _, d_opt = make()
    flipped = gan.discriminator_step(generator, discriminator, d_opt, real,
                                     tricks=gan.Tricks(label_flip=0.4, instance_noise=0.5),
                                     rng=torch.Generator().manual_seed(0))
    assert plain["real_logit"] != flipped["real_logit"]


def test_packing_and_conditioning_shapes():
    discriminator = toy_gan.MLPDiscriminator(pack=4, minibatch_std=True, spectral_norm=True)
    assert discriminator(torch.randn(64, 2)).shape == (16,)
    with pytest.raises(ValueError, match="multiple of pack=4"):
        discriminator(torch.randn(10, 2))
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        toy_gan.MLPGenerator()(torch.randn(5, 3))


def count_forwards(module):
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_train_step_generates_once_and_matches_the_two_steps_on_the_same_batch():
    generator, discriminator, g_opt, d_opt = make()
    calls = count_forwards(generator)
    real = toy2d.sample("ring-8", 64)
    stats = gan.train_step(generator, discriminator, g_opt, d_opt, real, rng=torch.Generator().manual_seed(1))
    assert len(calls) == 1, "one G forward per iteration: the D step and the G step share the batch"
    assert {"d_loss", "g_loss", "real_logit", "fake_logit"} <= set(stats)
    # the same iteration by hand: generate with the graph, D step on it detached, G step through it
    twin_g, twin_d, twin_g_opt, twin_d_opt = make()
    rng = torch.Generator().manual_seed(1)
    fake = twin_g(gan.sample_latent(twin_g, 64, rng))
    gan.discriminator_step(twin_g, twin_d, twin_d_opt, real, rng=rng, fake=fake)
    assert all(p.grad is None for p in twin_g.parameters()), "the D step must not reach G through the shared batch"
    gan.generator_step(twin_g, twin_d, twin_g_opt, 64, rng=rng, fake=fake)
    for mine, theirs in ((generator, twin_g), (discriminator, twin_d)):
        assert all(torch.equal(a, b) for a, b in zip(snapshot(mine), snapshot(theirs)))


def test_train_step_takes_one_real_batch_per_d_step():
    generator, discriminator, g_opt, d_opt = make()
    calls = count_forwards(discriminator)
    batches = [toy2d.sample("ring-8", 32) for _ in range(3)]
    gan.train_step(generator, discriminator, g_opt, d_opt, batches)
    assert len(calls) == 3 * 2 + 1  # real + fake per D step, then the G step's pass
    with pytest.raises(ValueError, match="real_batches is empty"):
        gan.train_step(generator, discriminator, g_opt, d_opt, [])


def test_generator_step_refuses_a_fake_without_a_graph():
    generator, discriminator, g_opt, _ = make()
    with torch.no_grad():
        fake = generator(torch.randn(8, 2))
    with pytest.raises(ValueError, match="without a graph"):
        gan.generator_step(generator, discriminator, g_opt, 8, fake=fake)


def test_bf16_precision_trains_and_unknown_precision_is_refused():
    generator, discriminator, g_opt, d_opt = make()
    before = snapshot(generator)
    stats = gan.train_step(generator, discriminator, g_opt, d_opt, toy2d.sample("ring-8", 64),
                           precision="bf16")
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert all(p.dtype == torch.float32 for p in generator.parameters()), "weights stay float32 under autocast"
    assert not all(torch.equal(a, b) for a, b in zip(before, snapshot(generator)))
    with pytest.raises(ValueError, match="unknown precision 'fp16'.*'fp32', 'bf16'"):
        gan.train_step(generator, discriminator, g_opt, d_opt, toy2d.sample("ring-8", 64), precision="fp16")
    assert isinstance(gan.bf16_is_fast("cpu"), bool)


def test_update_average_moves_weights_and_copies_batchnorm_statistics():
    torch.manual_seed(0)
    generator = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    average = copy.deepcopy(generator)
    with torch.no_grad():
        generator[0].weight.add_(1.0)
        generator[1].running_mean.fill_(3.0)
    before = average[0].weight.clone()
    gan.update_average(average, generator, decay=0.75)
    torch.testing.assert_close(average[0].weight, before + 0.25)
    assert torch.equal(average[1].running_mean, torch.full((2,), 3.0))
    with pytest.raises(ValueError, match="decay must lie in"):
        gan.update_average(average, generator, decay=1.0)


def test_generator_step_adds_a_penalty_on_the_fake_batch_and_reports_it_apart():
    generator, discriminator, g_opt, _ = make()
    twin = copy.deepcopy(generator)
    twin_opt = torch.optim.Adam(twin.parameters(), 1e-3, betas=(0.5, 0.999))
    seen = []

    def penalty(fake):
        seen.append(fake.shape)
        return 3.0 * fake.pow(2).mean()

    stats = gan.generator_step(generator, discriminator, g_opt, 64, rng=torch.Generator().manual_seed(5),
                               penalty=penalty)
    assert seen == [(64, 2)] and set(stats) == {"g_loss", "g_penalty"} and stats["g_penalty"] > 0
    # by hand: the same batch, adversarial loss + penalty, one Adam step
    z = gan.sample_latent(twin, 64, torch.Generator().manual_seed(5))
    fake = twin(z)
    total = losses.get_loss("non-saturating").generator_loss(None, discriminator(fake)) + 3.0 * fake.pow(2).mean()
    twin_opt.zero_grad()
    total.backward()
    twin_opt.step()
    assert all(torch.allclose(a, b) for a, b in zip(snapshot(generator), snapshot(twin)))
    assert stats["g_loss"] == pytest.approx(total.item() - stats["g_penalty"], abs=1e-5)
    with pytest.raises(gan.NaNLossError, match="g_penalty"):
        gan.generator_step(generator, discriminator, g_opt, 64, penalty=lambda fake: fake.sum() * math.nan)


def test_fit_records_calls_back_resumes_and_stops():
    calls = []

    def step(i):
        if i == 5:
            raise StopIteration  # a step may end training before it is recorded
        return {"a": float(i), "b": 2.0 * i}

    def callback(i, stats, history):
        calls.append((i, stats["a"], len(history["a"])))
        if i == 3:
            raise StopIteration  # ends training after this step

    history = gan.fit(step, 10, callbacks=[callback])
    assert history == {"a": [0.0, 1.0, 2.0, 3.0], "b": [0.0, 2.0, 4.0, 6.0]}
    assert calls == [(0, 0.0, 1), (1, 1.0, 2), (2, 2.0, 3), (3, 3.0, 4)]
    resumed = gan.fit(step, 10, start=4, history=history)  # appends to the given history
    assert resumed is history and history["a"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert gan.fit(step, 0) == {}


def test_gan_config_reads_old_field_names_and_refuses_unknown_ones():
    old = {"steps": 40, "lr_generator": 1e-3, "lr_discriminator": 4e-3, "optimizer": "sgd", "beta1": 0.4,
           "tricks": {"label_smoothing": 0.1}, "decay": True}
    config = gan.GANConfig.from_dict(old)
    assert (config.g_lr, config.discriminator_lr, config.g_optimizer, config.d_optimizer) == (1e-3, 4e-3, "sgd", "sgd")
    assert config.betas == (0.4, 0.999) and config.tricks.label_smoothing == 0.1
    assert [config.schedule(step) for step in (0, 10, 39)] == [1.0, 1.0 - 10 / 40, 1.0 - 39 / 40]
    assert gan.GANConfig.from_dict({"decay": False, "decay_steps": 7}).decay_steps == 0
    assert gan.GANConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"unknown GANConfig field\(s\) \['lr_g'\]"):
        gan.GANConfig.from_dict({"lr_g": 1e-3})


def test_a_subclass_refuses_a_shared_field_its_trainer_does_not_read():
    @dataclasses.dataclass(frozen=True)
    class NoEMA(gan.GANConfig):
        unused = ("ema",)

    assert NoEMA(ema=0.0).ema == 0.0
    with pytest.raises(ValueError, match="NoEMA does not use ema .*leave it at 0.0, got 0.9"):
        NoEMA(ema=0.9)
    with pytest.raises(ValueError, match="unknown g_optimizer 'adagrad'; choose one of"):
        gan.GANConfig(g_optimizer="adagrad")
