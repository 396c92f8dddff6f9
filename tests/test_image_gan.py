"""Image-GAN loop: exact resume, checkpoint contents, the data sampler, schedules and the NaN guard."""

import pytest
import torch

from gan_course.core import checkpoints
from gan_course.training import gan, image_gan
from gan_course.models import dcgan


def tiny_models(seed=0, **discriminator_options):
    torch.manual_seed(seed)
    return (dcgan.DCGANGenerator(latent_dim=8, base_channels=4),
            dcgan.DCGANDiscriminator(base_channels=4, **discriminator_options))


def fake_images(count=96, seed=0):
    rng = torch.Generator().manual_seed(seed)
    return torch.rand(count, 1, 28, 28, generator=rng) * 2 - 1


@pytest.mark.parametrize("config", [
    image_gan.ImageGANConfig(steps=8, batch_size=16, grid_size=4, grid_every=2),
    image_gan.ImageGANConfig(steps=8, batch_size=16, grid_size=4, loss="wgan-gp", d_steps=2, g_lr=1e-4, d_lr=4e-4,
                             instance_noise=0.1),
    image_gan.ImageGANConfig(steps=8, batch_size=16, grid_size=4, warmup_steps=3, decay_steps=8,
                             label_smoothing=0.1, label_flip=0.2),
], ids=["non-saturating", "wgan-gp-ttur-noise", "smoothing-flip-schedule"])
def test_resume_gives_exactly_the_uninterrupted_losses(tmp_path, config):
    images = fake_images()  # 96 images / 16 = 6 batches per epoch: the run crosses epoch boundaries
    batch_norm = config.loss != "wgan-gp"
    generator, discriminator = tiny_models(batch_norm=batch_norm)
    straight = image_gan.train_image_gan(generator, discriminator, images, config, checkpoint=tmp_path / "a.pt",
                                         progress=False)
    generator, discriminator = tiny_models(batch_norm=batch_norm)
    first = image_gan.train_image_gan(generator, discriminator, images, config, checkpoint=tmp_path / "b.pt",
                                      progress=False, stop_after=config.steps // 2)
    assert first.step == config.steps // 2
    generator, discriminator = tiny_models(seed=99, batch_norm=batch_norm)  # fresh weights: all must come from disk
    resumed = image_gan.train_image_gan(generator, discriminator, images, config, checkpoint=tmp_path / "b.pt",
                                        progress=False)
    assert resumed.resumed_from == config.steps // 2 and resumed.step == config.steps
    assert straight.history.keys() == resumed.history.keys()
    for key in straight.history:
        torch.testing.assert_close(torch.tensor(resumed.history[key]), torch.tensor(straight.history[key]),
                                   rtol=0, atol=0)
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert straight.grid_steps == resumed.grid_steps
    torch.testing.assert_close(torch.stack(straight.grids), torch.stack(resumed.grids), rtol=0, atol=0)


def test_finished_checkpoint_just_loads_and_can_be_extended(tmp_path):
    config = image_gan.ImageGANConfig(steps=4, batch_size=16, grid_size=4)
    run = image_gan.train_image_gan(*tiny_models(), fake_images(), config, checkpoint=tmp_path / "c.pt",
                                    progress=False)
    again = image_gan.train_image_gan(*tiny_models(seed=5), fake_images(), config, checkpoint=tmp_path / "c.pt",
                                      progress=False)
    assert again.resumed_from == 4 and again.history == run.history
    longer = image_gan.ImageGANConfig(steps=6, batch_size=16, grid_size=4)
    extended = image_gan.train_image_gan(*tiny_models(), fake_images(), longer, checkpoint=tmp_path / "c.pt",
                                         progress=False)
    assert len(extended.history["g_loss"]) == 6 and extended.history["g_loss"][:4] == run.history["g_loss"]
    other = image_gan.ImageGANConfig(steps=6, batch_size=16, grid_size=4, loss="lsgan")
    with pytest.raises(checkpoints.CheckpointError, match="other settings .loss=.non-saturating. there, .lsgan. here"):
        image_gan.train_image_gan(*tiny_models(), fake_images(), other, checkpoint=tmp_path / "c.pt",
                                  progress=False)


def test_a_checkpoint_with_the_old_config_dict_still_resumes(tmp_path):
    config = image_gan.ImageGANConfig(steps=6, batch_size=16, grid_size=4, warmup_steps=2, decay_steps=6,
                                      label_smoothing=0.1)
    straight = image_gan.train_image_gan(*tiny_models(), fake_images(), config, progress=False)
    image_gan.train_image_gan(*tiny_models(), fake_images(), config, checkpoint=tmp_path / "old.pt", progress=False,
                              stop_after=3)
    state = checkpoints.load(tmp_path / "old.pt")  # rewritten as the course before GANConfig saved it
    new_fields = set(gan.GANConfig().to_dict()) - {"steps", "batch_size", "loss", "g_lr", "d_lr", "betas", "d_steps",
                                                   "warmup_steps", "precision", "seed"}
    state["config"] = {**{k: v for k, v in state["config"].items() if k not in new_fields}, "decay": True,
                       "tricks": {"label_smoothing": 0.1, "label_flip": 0.0, "instance_noise": 0.0, "gp_weight": 10.0}}
    for name in ("g_scheduler", "d_scheduler"):
        state[name]["lr_lambdas"] = [None]  # a lambda was not saved
    checkpoints.save(state, tmp_path / "old.pt")
    resumed = image_gan.train_image_gan(*tiny_models(seed=7), fake_images(), config, checkpoint=tmp_path / "old.pt",
                                        progress=False)
    assert resumed.resumed_from == 3 and resumed.history == straight.history
    assert image_gan.ImageGANConfig.from_dict(state["config"]) == config


def test_checkpoint_is_written_each_epoch_and_loads_weights_only(tmp_path):
    path = tmp_path / "d.pt"
    saves = []
    config = image_gan.ImageGANConfig(steps=14, batch_size=16, grid_size=4)  # 6 batches per epoch

    def watch(step, stats):
        if path.is_file():
            saves.append((step, torch.load(path, weights_only=True)["step"]))

    image_gan.train_image_gan(*tiny_models(), fake_images(), config, checkpoint=path, progress=False,
                              callback=watch)
    assert sorted({saved for _, saved in saves}) == [7, 13]  # after the first step of epochs 1 and 2
    state = checkpoints.load(path)
    assert state["step"] == 14 and {"generator", "discriminator", "g_optimizer", "rng", "history"} <= state.keys()


def test_batch_sampler_walks_permutations_and_restores():
    images = torch.arange(10.0).view(10, 1, 1, 1)
    sampler = image_gan.BatchSampler(images, batch_size=3, seed=0)
    first_epoch = torch.cat([sampler.next() for _ in range(3)]).flatten()
    assert len(set(first_epoch.tolist())) == 9  # no repeats inside an epoch
    sampler.next()
    assert sampler.epoch == 1
    clone = image_gan.BatchSampler(images, batch_size=3, seed=0)
    clone.restore(sampler.state())
    torch.testing.assert_close(clone.next(), sampler.next())
    with pytest.raises(ValueError, match="batch_size"):
        image_gan.BatchSampler(images, batch_size=11)


def test_learning_rate_schedule_warms_up_and_decays():
    config = image_gan.ImageGANConfig(steps=100, warmup_steps=10, decay_steps=100)
    assert [config.schedule(step) for step in (0, 9, 50, 100)] == [0.1, 1.0 - 9 / 100, 0.5, 0.0]
    assert image_gan.ImageGANConfig(steps=100).schedule(70) == 1.0
    run = image_gan.train_image_gan(*tiny_models(), fake_images(), config.replace(steps=4, decay_steps=4),
                                    progress=False)
    assert [group["lr"] for group in run.d_optimizer.param_groups] == [0.0]  # decayed to 0 after the last step


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown GAN loss"):
        image_gan.ImageGANConfig(loss="bce")
    with pytest.raises(ValueError, match="batch_size"):
        image_gan.ImageGANConfig(batch_size=0)
    with pytest.raises(ValueError, match="d_lr"):
        image_gan.ImageGANConfig(d_lr=-1.0)
    with pytest.raises(ValueError, match=r"unknown precision .half.; choose one of \[.auto., .fp32., .bf16.\]"):
        image_gan.ImageGANConfig(precision="half")
    with pytest.raises(ValueError, match="ImageGANConfig does not use ema"):  # the trainer keeps no average of G
        image_gan.ImageGANConfig(ema=0.999)
    with pytest.raises(ValueError, match="grid_size"):
        image_gan.ImageGANConfig(grid_size=0)


def test_nan_loss_surfaces_with_its_explanation(tmp_path):
    generator, discriminator = tiny_models()
    config = image_gan.ImageGANConfig(steps=20, batch_size=16, grid_size=4, d_lr=2e-4)

    def poison(step, stats):
        if step == 8:  # after the first checkpoint (step 7)
            with torch.no_grad():
                for parameter in discriminator.parameters():
                    parameter.fill_(float("nan"))

    with pytest.raises(gan.NaNLossError, match="learning rate.*last good checkpoint"):
        image_gan.train_image_gan(generator, discriminator, fake_images(), config, checkpoint=tmp_path / "n.pt",
                                  progress=False, callback=poison)


def test_grids_come_from_fixed_noise_and_training_moves_them():
    config = image_gan.ImageGANConfig(steps=6, batch_size=16, grid_size=4, grid_every=3)
    run = image_gan.train_image_gan(*tiny_models(), fake_images(), config, progress=False)
    assert run.grid_steps == [3, 6] and run.grids[0].shape == (4, 1, 28, 28)
    torch.testing.assert_close(image_gan.draw_grid(run.generator, image_gan.fixed_noise(run.generator, config)),
                               run.grids[-1])
    assert not torch.equal(run.grids[0], run.grids[1])


@pytest.mark.parametrize("name", list(image_gan.RECIPES))
def test_recipes_build_matching_players_that_train(name):
    generator, discriminator, config = image_gan.RECIPES[name].build(steps=2)
    assert config.loss == image_gan.RECIPES[name].loss
    if config.loss == "wgan-gp":  # the per-sample gradient penalty and BatchNorm do not mix
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in discriminator.modules())
    run = image_gan.train_image_gan(generator, discriminator, fake_images(64), config, progress=False)
    assert run.step == 2 and image_gan.checkpoint_name(name)
    with pytest.raises(ValueError, match="unknown recipe"):
        image_gan.checkpoint_name("bigan")


def test_feature_matching_loss_matches_its_formula_and_trains_only_through_fakes():
    generator, discriminator = tiny_models()
    real, fake = fake_images(8, seed=1), generator(generator.sample_latent(8))
    loss = image_gan.feature_matching_loss(discriminator, real, fake)
    expected = ((discriminator.features(real).mean(0) - discriminator.features(fake).mean(0)) ** 2).sum()
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert all(p.grad is not None for p in generator.parameters())
    torch.testing.assert_close(image_gan.feature_matching_loss(discriminator, real, real), torch.tensor(0.0))
    with pytest.raises(ValueError, match="differ in shape"):
        image_gan.feature_matching_loss(discriminator, real, real[:, :, :14])
