"""Minimal reproductions of classic GAN training mistakes, each with its measured symptom and its fix (lesson 14).

On the ring of eight Gaussians or a Fashion-MNIST subset: (a) G's loss against the fake label, (b) a ReLU output
for data in [-1, 1], (c) D's flag switched off after ``backward``, (d) a strong D with the saturating loss, (e) a
learning rate far too high. The source notes' own code, line by line, is in ``notes_audit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.training import gan
from gan_course.data import fashion_mnist, toy2d
from gan_course.evaluation import symptoms
from gan_course.models import toy_gan

GENERATOR_TARGETS = ("real", "fake")
GENERATOR_UPDATES = ("frozen", "wrong-flag")


# -------------------------------------------------------------------------------------- models, data, the mistake (a)
def generator_loss_toward_fake_label(fake_logits: torch.Tensor) -> torch.Tensor:
    """The mistake: BCE(D(G(z)), 0) = −E[log(1 − D(G(z)))] — minimising it makes D(G(z)) → 0."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss_toward_real_label(fake_logits: torch.Tensor) -> torch.Tensor:
    """The fix, as the notes write it: BCE(D(G(z)), 1) = −E[log D(G(z))], the non-saturating generator loss
    (``losses.non_saturating_generator_loss`` in its softplus form; the two differ in the last bits)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def toy_models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """A fresh 2-D MLP generator and discriminator (width 128, two hidden layers), seeded."""
    runtime.seed_everything(seed)
    return toy_gan.MLPGenerator(latent_dim=2, data_dim=2, width=128), toy_gan.MLPDiscriminator(data_dim=2, width=128)


def image_models(output_activation: str = "tanh", seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """A fresh image MLP generator (with ``output_activation``) and discriminator, seeded."""
    runtime.seed_everything(seed)
    return toy_gan.ImageMLPGenerator(output_activation=output_activation), toy_gan.ImageMLPDiscriminator()


def toy_sampler(name: str = "ring-8", rng: torch.Generator | None = None) -> Callable[[int], torch.Tensor]:
    """``sample_real(n)`` for a toy distribution."""
    distribution = toy2d.get(name)
    return lambda n: distribution.sample(n, rng)


def image_sampler(value_range=(-1.0, 1.0), limit: int = 2000,
                  rng: torch.Generator | None = None) -> Callable[[int], torch.Tensor]:
    """``sample_real(n)``: random batches from the first ``limit`` Fashion-MNIST training images."""
    images = fashion_mnist.load_fashion_mnist("train", value_range=value_range, limit=limit).images
    return lambda n: images[torch.randint(len(images), (n,), generator=rng)]


# ------------------------------------------------------------------------------------------------ the training run
@dataclass(frozen=True)
class ReproConfig(gan.GANConfig):
    """One short GAN run with the knobs the mistakes turn (optimizers: adam with ``betas``, or plain sgd)."""
    steps: int = 400
    batch_size: int = 128
    generator_target: str = "real"  # "fake" reproduces mistake (a)
    generator_update: str = "frozen"  # "wrong-flag" reproduces mistake (c)

    unused: ClassVar[tuple[str, ...]] = ("label_smoothing", "label_flip", "instance_noise", "gp_weight",
                                         "warmup_steps", "decay_start", "decay_steps", "decay_floor", "ema",
                                         "precision")

    def __post_init__(self):
        super().__post_init__()
        runtime.lookup(GENERATOR_TARGETS, self.generator_target, "generator_target")
        runtime.lookup(GENERATOR_UPDATES, self.generator_update, "generator_update")


@dataclass
class ReproRun:
    """What a run left behind: per-step history, final samples, and the NaN guard's message if it fired."""
    history: dict[str, list[float]] = field(default_factory=dict)
    samples: torch.Tensor | None = None
    error: str | None = None

    def last(self, key: str, window: int = 50) -> float:
        """Mean of the last ``window`` recorded values of ``key``."""
        values = self.history[key][-window:]
        return sum(values) / len(values)


def _gradient_norm(module: nn.Module) -> float:
    """‖∂L/∂θ‖₂ over all parameters with a gradient (read after backward)."""
    grads = [p.grad.flatten() for p in module.parameters() if p.grad is not None]
    return torch.cat(grads).norm().item() if grads else 0.0


def _parameter_vector(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()]).clone()


def wrong_flag_generator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                              batch_size: int, rng: torch.Generator | None = None) -> dict[str, float]:
    """Mistake (c): train "the combined model" D(G(z)) (``optimizer`` over G and D), D's flag toggled too late."""
    z = gan.sample_latent(generator, batch_size, rng)
    fake_logits = discriminator(generator(z))  # the combined model
    g_loss = generator_loss_toward_real_label(fake_logits)
    optimizer.zero_grad(set_to_none=True)
    g_loss.backward()  # D's parameters still require grad here, so they receive gradients
    discriminator.requires_grad_(False)  # the flag, switched off too late
    optimizer.step()  # steps every parameter with a gradient: D is pushed to call fakes "real"
    discriminator.requires_grad_(True)
    return gan.check_finite({"g_loss": g_loss.item()})


def _generator_step(generator, discriminator, optimizer, config: ReproConfig, rng) -> dict[str, float]:
    if config.generator_update == "wrong-flag":
        return wrong_flag_generator_step(generator, discriminator, optimizer, config.batch_size, rng)
    if config.generator_target == "real":  # the correct step from the package
        return gan.generator_step(generator, discriminator, optimizer, config.batch_size, config.loss,
                                  rng=rng)
    with gan.frozen(discriminator):  # mistake (a): correctly frozen, but the wrong target
        fake_logits = discriminator(generator(gan.sample_latent(generator, config.batch_size, rng)))
        g_loss = generator_loss_toward_fake_label(fake_logits)
        gan.descend(optimizer, g_loss)
    return gan.check_finite({"g_loss": g_loss.item()})


def train_repro(generator: nn.Module, discriminator: nn.Module, sample_real: Callable[[int], torch.Tensor],
                config: ReproConfig, sample_count: int = 1000) -> ReproRun:
    """Alternate D and G steps per ``config``; record losses, D's probabilities, ‖∇G‖ and D's drift in the G step.

    History keys: d_loss, g_loss, real_prob / fake_prob (σ of D's mean logit), g_grad_norm, d_change_in_g_step (0
    when D is frozen correctly). A non-finite loss ends the run early with ``error`` set.
    """
    rng = torch.Generator().manual_seed(config.seed)
    runtime.seed_everything(config.seed)
    d_optimizer = gan.make_optimizer(config.d_optimizer, discriminator.parameters(), config.discriminator_lr,
                                     config.betas, fused=False)
    g_parameters = list(generator.parameters())
    if config.generator_update == "wrong-flag":  # one optimizer over the combined model's parameters
        g_parameters += list(discriminator.parameters())
    g_optimizer = gan.make_optimizer(config.g_optimizer, g_parameters, config.g_lr, config.betas, fused=False)
    run = ReproRun()

    def step(i: int) -> dict[str, float]:
        d_stats = gan.discriminator_steps(generator, discriminator, d_optimizer,
                                          lambda: sample_real(config.batch_size), config.d_steps,
                                          config.loss, rng=rng, step=i)
        before = _parameter_vector(discriminator)
        g_stats = _generator_step(generator, discriminator, g_optimizer, config, rng)
        return {"d_change_in_g_step": (_parameter_vector(discriminator) - before).norm().item(),
                "g_grad_norm": _gradient_norm(generator), "d_loss": d_stats["d_loss"], "g_loss": g_stats["g_loss"],
                "real_prob": torch.sigmoid(torch.tensor(d_stats["real_logit"])).item(),
                "fake_prob": torch.sigmoid(torch.tensor(d_stats["fake_logit"])).item()}

    try:
        gan.fit(step, config.steps, history=run.history)
    except gan.NaNLossError as err:
        run.error = str(err)
        return run
    with torch.no_grad(), runtime.evaluating(generator):
        run.samples = generator(gan.sample_latent(generator, sample_count, rng))
    return run


# --------------------------------------------------------------------------------------- the five repros, by name
def _ring_run(seed: int, **config) -> ReproRun:
    """``train_repro`` of ``toy_models(seed)`` on the ring-8 data with ``ReproConfig(seed=seed, **config)``."""
    generator, discriminator = toy_models(seed)
    return train_repro(generator, discriminator, toy_sampler(rng=torch.Generator().manual_seed(seed)),
                       ReproConfig(seed=seed, **config))


def generator_toward_fake_label(fixed: bool = False, steps: int = 600, seed: int = 0) -> ReproRun:
    """(a) on the ring: G trained against the fake label (mistake) or the real label (fix)."""
    return _ring_run(seed, steps=steps, g_lr=1e-3, generator_target="real" if fixed else "fake")


def output_range(output_activation: str, value_range=(-1.0, 1.0), steps: int = 300, limit: int = 2000,
                 seed: int = 0) -> tuple[ReproRun, dict[str, float]]:
    """(b) an image MLP GAN with the given output activation on data scaled to ``value_range``."""
    generator, discriminator = image_models(output_activation, seed)
    sample_real = image_sampler(value_range, limit, torch.Generator().manual_seed(seed))
    run = train_repro(generator, discriminator, sample_real, ReproConfig(steps=steps, g_lr=5e-4, seed=seed))
    return run, symptoms.pixel_report(run.samples, sample_real(len(run.samples)))


def discriminator_updated_in_generator_step(fixed: bool = False, steps: int = 600, seed: int = 0) -> ReproRun:
    """(c) on the ring: the combined-model step with D's flag toggled too late (mistake) or a frozen D (fix)."""
    return _ring_run(seed, steps=steps, g_lr=1e-3, generator_update="frozen" if fixed else "wrong-flag")


def overpowered_discriminator(fixed: bool = False, steps: int = 300, limit: int = 2000, seed: int = 0) -> ReproRun:
    """(d) on images: D with 5× the steps and 10× the learning rate and the saturating minimax G loss (mistake),
    or the ordinary run, one D step per G step with the non-saturating loss (fix)."""
    generator, discriminator = image_models("tanh", seed)
    sample_real = image_sampler((-1.0, 1.0), limit, torch.Generator().manual_seed(seed))
    if fixed:
        config = ReproConfig(steps=steps, loss="non-saturating", seed=seed)
    else:
        config = ReproConfig(steps=steps, loss="minimax", d_steps=5, d_lr=2e-3, seed=seed)
    return train_repro(generator, discriminator, sample_real, config)


def learning_rate_too_high(lr: float, steps: int = 300, optimizer: str = "adam", seed: int = 0) -> ReproRun:
    """(e) on the ring: the same GAN with learning rate ``lr`` for both players; the NaN guard stops a blow-up."""
    return _ring_run(seed, steps=steps, g_lr=lr, g_optimizer=optimizer, d_optimizer=optimizer)
