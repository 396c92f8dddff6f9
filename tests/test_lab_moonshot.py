"""The pure-adversarial recipe of lesson 10's moonshot (issue 12): preset ``adversarial-best``."""

import math

from gan_course.training import lab
from gan_course.evaluation import mode_coverage
from gan_course.models import toy_gan


def test_adversarial_best_is_the_hybrid_without_energy_plus_lsgan_and_minibatch_std():
    best, hybrid = lab.PRESETS["adversarial-best"], lab.PRESETS["hybrid"]
    differing = {name: value for name, value in best.to_dict().items() if hybrid.to_dict()[name] != value}
    assert differing == {"energy_weight": 0.0, "loss": "lsgan", "minibatch_std": True}
    assert best.gan_weight == 1.0 and best.unrolled_steps == 0  # G's loss is the adversarial loss alone


def test_adversarial_best_recipe_is_pure_gan_at_20000_steps():
    preset, steps, changes, kind, _ = mode_coverage.RECIPES["adversarial-best"]
    assert (preset, steps, changes, kind) == ("adversarial-best", 20000, {}, "gan")
    config = mode_coverage.config_for("adversarial-best", "grid-25", seed=3)
    assert config.energy_weight == 0.0 and config.seed == 3 and config.target == "grid-25"


def test_adversarial_best_trains_and_d_sees_batch_spread():
    run = lab.ModeCollapseLab(lab.preset("adversarial-best", target="ring-8", eval_every=40))
    assert any(isinstance(layer, toy_gan.MinibatchStd) for layer in run.discriminator.net)
    stats = run.step(40)
    assert stats["paused_reason"] is None and math.isfinite(stats["d_loss"]) and math.isfinite(stats["g_loss"])
    row = run.history["metrics"][-1]
    assert row["step"] == 40 and 0 <= row["modes"] <= 8
