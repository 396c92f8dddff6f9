"""The Mode Collapse Lab engine: presets that collapse and cure, frozen D in the G step, NaN pause, save/load,
the look-ahead and the full unrolled D, energy only."""

import copy
import math

import pytest
import torch

from gan_course.training import lab as lab_module
from gan_course.training import gan, losses
from gan_course.training.lab import LabConfig, ModeCollapseLab
from gan_course.models import toy_gan

lab = lab_module

SMALL = dict(g_width=32, d_width=32, batch_size=64, eval_every=10)


def test_collapse_preset_covers_few_modes_and_cure_covers_all():
    steps = 600
    collapse = ModeCollapseLab(lab_module.preset("collapse", eval_every=100))
    cure = ModeCollapseLab(lab_module.preset("cure", eval_every=100))
    collapse.step(steps)
    cure.step(steps)
    collapsed, cured = collapse.history["metrics"], cure.history["metrics"]
    assert max(row["modes"] for row in collapsed[-3:]) <= 4, collapsed
    assert min(row["modes"] for row in cured[-2:]) == 8, cured
    assert collapse.collapse_step is not None and cure.collapse_step is None
    differing = {k for k, v in lab_module.PRESETS["collapse"].to_dict().items()
                 if lab_module.PRESETS["cure"].to_dict()[k] != v}
    assert len(differing) == 1, differing


def test_same_seed_same_numbers_and_other_seed_differs():
    runs = []
    for seed in (0, 0, 1):
        lab = ModeCollapseLab(LabConfig(seed=seed, **SMALL))
        stats = lab.step(20)
        runs.append((stats["d_loss"], stats["g_loss"], lab.metrics()["reverse_kl"], lab.samples(5)))
    assert runs[0][:3] == runs[1][:3]
    torch.testing.assert_close(runs[0][3], runs[1][3])
    assert runs[0][0] != runs[2][0]


@pytest.mark.parametrize("changes", [dict(), dict(unrolled_steps=2), dict(loss="wgan-gp", pack=2)])
def test_generator_step_leaves_discriminator_unchanged(changes):
    lab = ModeCollapseLab(LabConfig(**SMALL, **changes))
    lab.step(3)
    before = {k: v.clone() for k, v in lab.discriminator.state_dict().items()}
    lab._real_batch = lambda: (_ for _ in ()).throw(AssertionError("a G step must not draw real data"))
    gan.generator_step(lab.generator, lab.discriminator, lab.g_optimizer, 64, lab.config.loss,
                       rng=lab.rng)
    for name, value in lab.discriminator.state_dict().items():
        torch.testing.assert_close(value, before[name], msg=f"D's {name} changed in the G step")


def test_unrolled_steps_restore_discriminator_after_lookahead():
    plain = ModeCollapseLab(LabConfig(**SMALL))
    unrolled = ModeCollapseLab(LabConfig(**SMALL, unrolled_steps=3))
    plain_before = {k: v.clone() for k, v in plain.discriminator.state_dict().items()}
    plain.step(1)
    unrolled.step(1)
    # after one step D has taken exactly one real update in both runs (same seed, same first D batch)
    for name, value in plain.discriminator.state_dict().items():
        torch.testing.assert_close(unrolled.discriminator.state_dict()[name], value)
        assert not torch.equal(value, plain_before[name])
    assert not torch.equal(plain.generator.net[0].weight, unrolled.generator.net[0].weight)


@pytest.mark.parametrize("loss", list(losses.GAN_LOSSES))
def test_every_loss_trains_and_probes(loss):
    lab = ModeCollapseLab(LabConfig(loss=loss, **SMALL))
    stats = lab.step(10)
    assert stats["step"] == 10 and math.isfinite(stats["g_loss"])
    xs, ys, values = lab.discriminator_grid(resolution=16)
    assert values.shape == (16, 16) and xs.shape == (16,)
    points, gradients = lab.generator_gradients(32)
    assert points.shape == gradients.shape == (32, 2)
    assert gradients.abs().sum() > 0


def test_huge_learning_rate_pauses_with_an_explanation():
    lab = ModeCollapseLab(LabConfig(loss="wgan", g_lr=1e12, d_lr=1e12, g_optimizer="sgd", d_optimizer="sgd",
                                    **SMALL))
    stats = lab.step(200)
    assert lab.paused_reason and "learning rate" in lab.paused_reason and "press Reset" in lab.paused_reason
    assert stats["paused_reason"] == lab.paused_reason
    assert lab.step_count < 200
    frozen_at = lab.step_count
    lab.step(5)
    assert lab.step_count == frozen_at  # paused runs stay paused
    lab.reset()
    assert lab.paused_reason is None and lab.step_count == 0


def test_history_metrics_and_reset():
    lab = ModeCollapseLab(LabConfig(**SMALL))
    lab.step(30)
    assert lab.history["losses"]["step"] == list(range(1, 31))
    assert [row["step"] for row in lab.history["metrics"]] == [10, 20, 30]
    assert set(lab.metrics()) == {"modes", "high_quality", "reverse_kl"}
    assert lab.samples(7).shape == (7, 2)
    lab.reset()
    assert lab.step_count == 0 and lab.history["metrics"] == [] and lab.history["losses"]["step"] == []


def test_save_load_restores_the_run_exactly_after_live_changes(tmp_path):
    run = ModeCollapseLab(LabConfig(seed=3, pack=2, **SMALL))
    run.step(25)
    run.configure(run.config.replace(g_lr=3e-3, loss="lsgan"))  # live changes half way
    run.step(15)
    run.record_metrics()  # a row recorded between evaluations, as the widget does per redraw
    run.history["metrics"][0]["reverse_kl"] = math.inf  # an evaluation without high-quality samples
    path = run.save(tmp_path / "run.pt")
    assert not list(tmp_path.glob("*.tmp"))  # atomic write left no temporary file
    loaded = ModeCollapseLab.load(path)
    assert loaded.config == run.config and loaded.step_count == 40
    assert loaded.history == run.history and [row["step"] for row in loaded.history["metrics"]] == [10, 20, 30, 40]
    assert loaded.history["timeline"][-1] == {"step": 25, "changes": {"g_lr": 3e-3, "loss": "lsgan"}}
    torch.testing.assert_close(loaded.samples(50), run.samples(50))
    run.step(10)
    loaded.step(10)  # the same numbers on from the saved step: weights, optimizers and random stream came back
    torch.testing.assert_close(loaded.samples(50), run.samples(50), rtol=0, atol=0)
    assert loaded.history["losses"] == run.history["losses"]


@pytest.mark.parametrize("change, message", [
    (dict(format=99), "format 99"), (dict(format="banana"), "format 'banana'"), (dict(format=None), "format None"),
    (dict(step=10**9), "does not match"), (dict(step=1e9), "step must be a non-negative int"),
    (dict(step=7.9), "step must be a non-negative int, got 7.9"), (dict(step=-1), "non-negative"),
    (dict(config={"loss": "nope"}), "nope"), (dict(history={}), "history is incomplete"),
])
def test_load_checks_the_file(tmp_path, change, message):
    run = ModeCollapseLab(LabConfig(**SMALL))
    run.step(10)
    state = {**run.state(), **change}
    if change.get("format") is None and "format" in change:
        del state["format"]
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(ValueError, match="not a saved Mode Collapse Lab") as caught:
        ModeCollapseLab.load(path)
    assert message in str(caught.value)
    path.write_text("banana")
    with pytest.raises(ValueError, match="not a saved Mode Collapse Lab"):
        ModeCollapseLab.load(path)


def test_configure_builds_before_it_commits(monkeypatch):
    run = ModeCollapseLab(LabConfig(**SMALL))
    run.step(5)
    with pytest.raises(ValueError, match="g_width must be at most"):
        run.configure(run.config.replace(g_width=10**7))
    monkeypatch.setattr(toy_gan, "MLPGenerator", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no memory")))
    with pytest.raises(ValueError, match="could not build the networks .*no memory"):
        run.configure(run.config.replace(g_width=64))
    assert run.config.g_width == 32 and run.generator.net[0].out_features == 32 and run.step_count == 5
    monkeypatch.undo()
    assert run.configure(run.config.replace(g_width=64)) and run.generator.net[0].out_features == 64
    assert lab_module.restart_fields(LabConfig(), LabConfig(latent_dim=3, g_lr=1e-4)) == {
        "latent_dim": "G's input size changes"}


def test_config_is_frozen_and_presets_are_named():
    with pytest.raises(AttributeError):
        LabConfig().g_lr = 1.0
    assert lab_module.preset_name(lab_module.preset("collapse")) == "collapse"
    assert lab_module.preset_name(lab_module.preset("collapse", seed=1)) is None


def test_half_steps_are_exactly_one_step():
    whole, halves = ModeCollapseLab(LabConfig(**SMALL)), ModeCollapseLab(LabConfig(**SMALL))
    whole.step(3)
    halves.step(2)
    d_before = {k: v.clone() for k, v in halves.discriminator.state_dict().items()}
    g_before = {k: v.clone() for k, v in halves.generator.state_dict().items()}
    assert halves.half_step() == "d" and halves.step_count == 2
    assert all(torch.equal(v, g_before[k]) for k, v in halves.generator.state_dict().items()), "D's half moved G"
    assert not all(torch.equal(v, d_before[k]) for k, v in halves.discriminator.state_dict().items())
    assert halves.half_step() == "g" and halves.step_count == 3
    torch.testing.assert_close(halves.samples(20), whole.samples(20), rtol=0, atol=0)


def test_custom_mixture_and_point_cloud(tmp_path):
    centres = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.5]]
    mixed = ModeCollapseLab(LabConfig(**SMALL), data={"centres": centres, "sigma": 0.05})
    assert mixed.config.target == "custom" and mixed.data_scale == 1.5
    mixed.step(10)
    assert set(mixed.metrics()) == {"modes", "high_quality", "reverse_kl"} and mixed.metrics()["modes"] <= 3
    csv = tmp_path / "cloud.csv"
    csv.write_text("x,y\n" + "\n".join(f"{i / 10},{(i % 7) / 10}" for i in range(40)))
    cloud = ModeCollapseLab(LabConfig(**SMALL), data=csv)
    cloud.step(10)
    assert cloud.metrics() == {"modes": None, "high_quality": None, "reverse_kl": None}
    assert cloud.collapse_step is None and len(cloud.history["metrics"]) == 1
    path = mixed.save(tmp_path / "mixed.pt")
    again = ModeCollapseLab.load(path)
    torch.testing.assert_close(again.distribution.modes, mixed.distribution.modes)
    with pytest.raises(ValueError, match="target 'custom' needs data"):
        ModeCollapseLab(LabConfig(target="custom"))


def test_lr_decay_and_noise_annealing():
    lab = ModeCollapseLab(LabConfig(decay_start=10, decay_steps=10, decay_floor=0.1, instance_noise=0.2,
                                    noise_anneal_steps=10, **SMALL))
    assert [round(lab.config.schedule(s), 3) for s in (0, 10, 15, 20, 99)] == [1.0, 1.0, 0.55, 0.1, 0.1]
    assert lab._tricks().instance_noise == pytest.approx(0.2)
    lab.step(12)
    assert lab._tricks().instance_noise == 0.0
    assert lab.g_optimizer.param_groups[0]["lr"] == pytest.approx(lab.config.g_lr * lab.config.schedule(11))
    assert lab.d_optimizer.param_groups[0]["lr"] == pytest.approx(lab.config.discriminator_lr * lab.config.schedule(11))
    assert isinstance(lab.config, gan.GANConfig)


def test_a_lab_saved_with_beta1_beta2_loads_and_trains_on_the_same(tmp_path):
    run = ModeCollapseLab(LabConfig(**SMALL, betas=(0.6, 0.99), d_lr=2e-3))
    run.step(10)
    state = run.state()
    old = {k: v for k, v in state["config"].items() if k not in ("betas", "steps", "warmup_steps", "precision")}
    state["config"] = {**old, "beta1": 0.6, "beta2": 0.99}  # the config as older versions saved it
    torch.save(state, tmp_path / "old.pt")
    loaded = ModeCollapseLab.load(tmp_path / "old.pt")
    assert loaded.config == run.config and loaded.config.betas == (0.6, 0.99)
    run.step(5)
    loaded.step(5)
    torch.testing.assert_close(loaded.samples(50), run.samples(50), rtol=0, atol=0)
    assert lab_module.restart_fields(LabConfig(), LabConfig(betas=(0.9, 0.999))) == {
        "betas": "the optimizers are rebuilt"}


@pytest.mark.parametrize("changes, message", [
    (dict(g_lr=-1e-3), "g_lr"), (dict(d_lr=0.0), "d_lr"), (dict(batch_size=0), "batch_size"),
    (dict(loss="vanilla"), "non-saturating"), (dict(target="ring-9"), "grid-25"),
    (dict(g_optimizer="adamw"), "rmsprop"), (dict(batch_size=30, pack=4), "multiple of pack"),
    (dict(label_smoothing=0.1, loss="wgan-gp"), "lsgan"), (dict(betas=(1.5, 0.999)), "betas"),
    (dict(unrolled_steps=-1), "unrolled_steps"), (dict(label_flip=0.7), "label_flip"),
    (dict(energy_weight=-1.0), "energy_weight must be a finite number >= 0"),
    (dict(energy_weight=math.inf), "energy_weight"),
    (dict(gan_weight=0.0), "gan_weight=0 .* needs energy_weight > 0"), (dict(gan_weight=-1.0), "gan_weight"),
    (dict(gan_weight=math.nan, energy_weight=1.0), "gan_weight"), (dict(unrolled_mode="second"), "lookahead"),
    (dict(steps=10), "does not use steps"), (dict(warmup_steps=5), "does not use warmup_steps"),
    (dict(precision="bf16"), "does not use precision"), (dict(g_width=10**7), "g_width must be at most"),
])
def test_bad_configs_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        LabConfig(**changes)


def test_unknown_preset_and_field_are_refused():
    with pytest.raises(ValueError, match="collapse"):
        lab_module.preset("magic")
    with pytest.raises(ValueError, match="unknown LabConfig field"):
        LabConfig().replace(learning_rate=1.0)


def test_mixture_latent_puts_a_one_hot_code_before_the_noise():
    generator = toy_gan.MLPGenerator(latent_dim=3, components=4)
    z = generator.sample_latent(50, torch.Generator().manual_seed(0))
    assert z.shape == (50, 4 + 3)
    code = z[:, :4]
    assert torch.equal(code.sum(dim=1), torch.ones(50)) and set(code.unique().tolist()) == {0.0, 1.0}
    assert generator(z).shape == (50, 2)
    with pytest.raises(ValueError, match="components must be 0 .* or >= 2, got 1"):
        toy_gan.MLPGenerator(components=1)
    with pytest.raises(ValueError, match="latent_components"):
        lab.LabConfig(latent_components=1)
    run = lab.ModeCollapseLab(lab.LabConfig(latent_components=8, batch_size=64))
    run.step(3)
    assert run.samples(16).shape == (16, 2)
    points, gradients = run.generator_gradients(16)
    assert points.shape == gradients.shape == (16, 2)


def test_fourier_window_opens_coarse_to_fine():
    features = toy_gan.FourierFeatures(data_dim=2, features=4, scale=40.0)
    scales = features.frequencies.std(dim=0)
    x = torch.randn(8, 2)
    features.set_progress(0.0)
    assert torch.equal(features(x)[:, 2:], torch.zeros(8, 8)), "progress 0 hides every sin/cos"
    features.set_progress(0.5)
    assert features.window.tolist() == [1.0, 1.0, 0.0, 0.0]
    features.set_progress(1.0)
    assert features.window.tolist() == [1.0, 1.0, 1.0, 1.0] and features(x).shape == (8, 2 + 8)
    assert scales.shape == (4,)
    with pytest.raises(ValueError, match="progress must lie in"):
        features.set_progress(1.5)
    with pytest.raises(ValueError, match="fourier scale must be >= 1"):
        toy_gan.FourierFeatures(2, 4, 0.5)
    packed = toy_gan.MLPDiscriminator(fourier_features=4, pack=2)
    assert packed(torch.randn(8, 2)).shape == (4,)


def test_lab_opens_the_fourier_window_with_the_steps():
    config = lab.LabConfig(fourier_features=8, fourier_anneal_steps=8, batch_size=32, eval_every=100)
    run = lab.ModeCollapseLab(config)
    run.step(5)  # the window is set at the start of each step: step index 4 -> progress 4/8
    assert run.discriminator.fourier.window.tolist() == [1.0] * 4 + [0.0] * 4
    with pytest.raises(ValueError, match="fourier_scale must be a finite number >= 1"):
        lab.LabConfig(fourier_scale=0.0)
    with pytest.raises(ValueError, match="fourier_features"):
        lab.LabConfig(fourier_features=-1)
    assert not run.configure(config.replace(fourier_anneal_steps=16)), "the anneal length changes live"


def test_energy_term_adds_one_energy_distance_per_g_step_and_is_live(monkeypatch):
    config = lab.LabConfig(batch_size=64, eval_every=100, energy_weight=5.0)
    run = lab.ModeCollapseLab(config)
    calls = []
    original = lab.divergences.energy_distance

    def counting(fake, real):
        calls.append((tuple(fake.shape), tuple(real.shape)))
        return original(fake, real)

    monkeypatch.setattr(lab.divergences, "energy_distance", counting)
    run.step(3)
    assert calls == [((64, 2), (64, 2))] * 3, "one term per G step: G's batch against a fresh real batch"
    assert not run.configure(config.replace(energy_weight=0.0)), "the weight applies live"
    run.step(2)
    assert len(calls) == 3, "weight 0 switches the term off"
    monkeypatch.undo()
    off = lab.ModeCollapseLab(config.replace(energy_weight=0.0))
    off.step(5)  # the term draws its own real batch, so weight 0 must leave the random stream alone too
    plain = lab.ModeCollapseLab(lab.LabConfig(batch_size=64, eval_every=100))
    plain.step(5)
    assert torch.equal(off.samples(32), plain.samples(32)), "weight 0 is exactly the lab without the term"
    on = lab.ModeCollapseLab(config)
    on.step(5)
    assert not torch.equal(off.samples(32), on.samples(32)), "the term changes what G learns"


def _tiny_players(optimizer: str):
    torch.manual_seed(0)
    G = toy_gan.MLPGenerator(latent_dim=2, width=5, depth=1).double()
    D = toy_gan.MLPDiscriminator(width=6, depth=2).double()
    opt = torch.optim.SGD(D.parameters(), lr=0.5) if optimizer == "sgd" else torch.optim.Adam(
        D.parameters(), lr=0.05, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(1)
    real = torch.randn(16, 2, generator=rng, dtype=torch.float64)
    warm_up = G(torch.randn(16, 2, generator=rng, dtype=torch.float64)).detach()
    gan.discriminator_step(G, D, opt, real, fake=warm_up)  # so Adam has running averages to carry
    real = torch.randn(16, 2, generator=rng, dtype=torch.float64)
    return G, D, opt, real, torch.randn(16, 2, generator=rng, dtype=torch.float64), \
        torch.randn(16, 2, generator=rng, dtype=torch.float64)


def _hand_unrolled_loss(G, D, opt, real, z_d, z_g):
    """G's loss after one real D step taken by the training code on copies: the quantity unrolling differentiates."""
    D2 = copy.deepcopy(D)
    opt2 = type(opt)(D2.parameters(), **{k: v for k, v in opt.defaults.items() if k in ("lr", "betas")})
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # load_state_dict shares the tensors otherwise
    gan.discriminator_step(G, D2, opt2, real, fake=G(z_d).detach())
    return losses.get_loss("non-saturating").generator_loss(None, D2(G(z_g))), D2


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_full_unrolled_gradient_is_the_derivative_through_d_step_and_lookahead_drops_it(optimizer):
    G, D, opt, real, z_d, z_g = _tiny_players(optimizer)
    grads = {}
    for second_order in (True, False):
        params = lab.unrolled_parameters(G, D, opt, [(real, z_d)], second_order=second_order)
        g_loss = losses.get_loss("non-saturating").generator_loss(None, lab.functional_call(D, params, (G(z_g),)))
        grads[second_order] = torch.cat([g.flatten() for g in torch.autograd.grad(g_loss, list(G.parameters()))])
    # central finite differences of the hand-unrolled loss in every G weight (float64 players; the D step casts its
    # logits to float32, which is noise below eps ~1e-5, so eps = 1e-4)
    numeric = []
    for parameter in G.parameters():
        flat = parameter.data.view(-1)
        for i in range(flat.numel()):
            values = []
            for sign in (1, -1):
                flat[i] += sign * 1e-4
                values.append(_hand_unrolled_loss(G, D, opt, real, z_d, z_g)[0].item())
                flat[i] -= sign * 1e-4
            numeric.append((values[0] - values[1]) / 2e-4)
    numeric = torch.tensor(numeric, dtype=torch.float64)
    torch.testing.assert_close(grads[True], numeric, rtol=0, atol=1e-4)
    assert (grads[False] - numeric).abs().max() > 1e-3, "the first-order gradient misses the term through D's step"
    # the look-ahead gradient: D's step held fixed, only the last judgement differentiated
    g_loss, stepped = _hand_unrolled_loss(G, D, opt, real, z_d, z_g)
    lookahead = torch.cat([g.flatten() for g in torch.autograd.grad(g_loss, list(G.parameters()))])
    torch.testing.assert_close(grads[False], lookahead, rtol=1e-6, atol=1e-9)
    gap = (grads[True] - grads[False]).norm() / grads[True].norm()
    assert gap > 0.01, f"the second-order term should matter here, relative gap {gap:.2e}"
    for name, value in stepped.named_parameters():  # the functional update lands where the real optimizer does
        torch.testing.assert_close(lab.unrolled_parameters(G, D, opt, [(real, z_d)])[name].detach(), value.detach())


@pytest.mark.parametrize("changes", [dict(), dict(spectral_norm=True, pack=2), dict(loss="wgan-gp"),
                                     dict(label_smoothing=0.1, instance_noise=0.1, label_flip=0.1)])
def test_full_unrolled_lab_leaves_d_alone_and_moves_g_differently(changes):
    config = LabConfig(**SMALL, unrolled_steps=2, **changes)
    lookahead, full = ModeCollapseLab(config), ModeCollapseLab(config.replace(unrolled_mode="full"))
    for run in (lookahead, full):
        run.step(2)
    before = {k: v.clone() for k, v in full.discriminator.state_dict().items()}
    optimizer_before = copy.deepcopy(full.d_optimizer.state_dict())
    full._g_phase(full._tricks())
    for name, value in full.discriminator.state_dict().items():
        torch.testing.assert_close(value, before[name], msg=f"D's {name} changed in the full unrolled G step")
    assert str(full.d_optimizer.state_dict()) == str(optimizer_before)
    full.step(1)
    lookahead.step(1)
    assert torch.isfinite(full.samples(64)).all()
    assert not torch.equal(full.generator.net[0].weight, lookahead.generator.net[0].weight)
    assert not full.configure(full.config.replace(unrolled_mode="lookahead")), "the mode changes live"


def test_energy_only_never_trains_or_asks_d():
    config = LabConfig(**SMALL, gan_weight=0.0, energy_weight=10.0)
    run = ModeCollapseLab(config)
    d_before = {k: v.clone() for k, v in run.discriminator.state_dict().items()}
    g_before = run.generator.net[0].weight.clone()
    run.discriminator.forward = lambda x: (_ for _ in ()).throw(AssertionError("energy only must not consult D"))
    run.step(5)
    del run.discriminator.forward
    for name, value in run.discriminator.state_dict().items():
        assert torch.equal(value, d_before[name]), name
    assert not torch.equal(run.generator.net[0].weight, g_before)
    assert all(math.isnan(v) for v in run.history["losses"]["d_loss"])
    assert all(v > 0 for v in run.history["losses"]["g_loss"][:1]), "g_loss is the energy term"
    half = ModeCollapseLab(LabConfig(**SMALL, gan_weight=0.5, energy_weight=10.0))
    whole = ModeCollapseLab(LabConfig(**SMALL, energy_weight=10.0))
    for other in (half, whole):
        other.step(3)
    assert not torch.equal(half.samples(16), whole.samples(16)), "gan_weight scales the adversarial part"


def test_course_best_is_an_alias_of_the_hybrid_preset():
    assert lab_module.preset("course-best") == lab_module.PRESETS["hybrid"]
    assert "course-best" not in lab_module.PRESETS and lab_module.PRESETS["hybrid"].energy_weight > 0
