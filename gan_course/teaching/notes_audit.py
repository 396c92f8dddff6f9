"""The source notes' GAN training code, line by line: each mistake as a small PyTorch repro with its fix (lesson 14).

Each function returns a ``gan_mistakes.ReproRun`` for the mistake (``fixed=False``) or the fix: (f) a double
sigmoid, (g) one optimizer over G_loss + D_loss, (h) G fitted to the label 1 without D, (i) ``trainable = False``
set once, (j) N D steps then N G steps, (k) the same first batch every step; ``ClippedOptimizer`` for (l),
gradient clipping against collapse (run on the lab in lesson 14).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.evaluation import mode_metrics
from gan_course.training import gan, losses
from gan_course.teaching import gan_mistakes
from gan_course.models import toy_gan
from gan_course.teaching.gan_mistakes import ReproConfig, ReproRun

# the lowest value of BCE-with-logits(σ(l_real), 1) + BCE-with-logits(σ(l_fake), 0): σ(l) → 1 and σ(l) → 0
DOUBLE_SIGMOID_FLOOR = F.softplus(torch.tensor(-1.0)).item() + math.log(2)


def _ring_sampler(seed: int):
    return gan_mistakes.toy_sampler(rng=torch.Generator().manual_seed(seed))


def _samples(generator: nn.Module, count: int, seed: int) -> torch.Tensor:
    with torch.no_grad(), runtime.evaluating(generator):
        return generator(gan.sample_latent(generator, count, torch.Generator().manual_seed(seed + 7)))


def _ring_repro(fixed: bool, steps: int, seed: int, mistake) -> ReproRun:
    """A repro on the ring: with ``fixed`` the ordinary alternating run (``gan_mistakes.train_repro``, lr 1e-3); else
    ``mistake(generator, discriminator, sample_real, rng, steps, seed)`` runs the mistake's own loop."""
    if fixed:
        return gan_mistakes._ring_run(seed, steps=steps, g_lr=1e-3)
    generator, discriminator = gan_mistakes.toy_models(seed)
    runtime.seed_everything(seed)
    return mistake(generator, discriminator, _ring_sampler(seed), torch.Generator().manual_seed(seed), steps, seed)


def double_sigmoid(fixed: bool = False, steps: int = 1500, seed: int = 0) -> ReproRun:
    """(f) the ring GAN with D's sigmoid output fed to BCE-with-logits (mistake) or D returning logits (fix)."""
    generator, discriminator = gan_mistakes.toy_models(seed)
    if not fixed:
        discriminator = toy_gan.SigmoidOutput(discriminator)
    config = ReproConfig(steps=steps, g_lr=1e-3, seed=seed)
    return gan_mistakes.train_repro(generator, discriminator, _ring_sampler(seed), config)


def _joint_optimizer_mistake(generator: nn.Module, discriminator: nn.Module, sample_real, rng: torch.Generator,
                             steps: int, seed: int) -> ReproRun:
    optimizer = gan.make_optimizer("adam", [*generator.parameters(), *discriminator.parameters()], 1e-3, fused=False)
    run = ReproRun()

    def step(i: int) -> dict[str, float]:
        fake = generator(gan.sample_latent(generator, 128, rng))
        real_logits, fake_logits = discriminator(sample_real(128)), discriminator(fake)
        d_loss = losses.minimax_discriminator_loss(real_logits, fake_logits)
        g_loss = gan_mistakes.generator_loss_toward_real_label(fake_logits)
        optimizer.zero_grad(set_to_none=True)
        (g_loss + d_loss).backward()  # every variable descends the *sum*: nobody plays against anybody
        optimizer.step()
        gan.check_finite({"d_loss": d_loss.item(), "g_loss": g_loss.item()}, i)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "real_prob": torch.sigmoid(real_logits.mean()).item(),
                "fake_prob": torch.sigmoid(fake_logits.mean()).item()}

    gan.fit(step, steps, history=run.history)
    run.samples = _samples(generator, 1000, seed)
    return run


def joint_optimizer(fixed: bool = False, steps: int = 1500, seed: int = 0) -> ReproRun:
    """(g) one Adam over G and D minimising G_loss + D_loss (mistake), or the alternating two-optimizer loop (fix)."""
    return _ring_repro(fixed, steps, seed, _joint_optimizer_mistake)


def train_on_batch_to_one(fixed: bool = False, steps: int = 300, limit: int = 2000, seed: int = 0) -> ReproRun:
    """(h) an image MLP G regressed onto the target 1 with no D (mistake), or trained through D (fix)."""
    generator, discriminator = gan_mistakes.image_models("tanh", seed)
    if fixed:
        sample_real = gan_mistakes.image_sampler((-1.0, 1.0), limit, torch.Generator().manual_seed(seed))
        config = ReproConfig(steps=steps, g_lr=5e-4, seed=seed)
        return gan_mistakes.train_repro(generator, discriminator, sample_real, config)
    runtime.seed_everything(seed)
    rng = torch.Generator().manual_seed(seed)
    optimizer = gan.make_optimizer("adam", generator.parameters(), 5e-4, fused=False)
    run = ReproRun()

    def step(i: int) -> dict[str, float]:
        images = generator(gan.sample_latent(generator, 128, rng))
        loss = F.mse_loss(images, torch.ones_like(images))  # train_on_batch(noise, 1) with a squared error
        gan.descend(optimizer, loss)
        return {"g_loss": loss.item(), "pixel_mean": images.mean().item()}

    gan.fit(step, steps, history=run.history)
    run.samples = _samples(generator, 500, seed)
    return run


def _flag_left_off_mistake(generator: nn.Module, discriminator: nn.Module, sample_real, rng: torch.Generator,
                           steps: int, seed: int) -> ReproRun:
    d_optimizer = gan.make_optimizer("adam", discriminator.parameters(), 1e-3, fused=False)
    g_optimizer = gan.make_optimizer("adam", generator.parameters(), 1e-3, fused=False)
    discriminator.requires_grad_(False)  # "discriminator.trainable = False", once, before the loop
    run = ReproRun()

    def step(i: int) -> dict[str, float]:
        before = gan_mistakes._parameter_vector(discriminator)
        fake = generator(gan.sample_latent(generator, 128, rng))
        real_logits, fake_logits = discriminator(sample_real(128)), discriminator(fake)
        d_loss = losses.minimax_discriminator_loss(real_logits, fake_logits)
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()  # no error: the loss still reaches G's parameters, but none of D's
        d_optimizer.step()  # D's parameters have no gradient: nothing moves
        d_change = (gan_mistakes._parameter_vector(discriminator) - before).norm().item()
        g_stats = gan.generator_step(generator, discriminator, g_optimizer, 128, rng=rng, step=i)
        return {"d_loss": d_loss.item(), "g_loss": g_stats["g_loss"], "d_change_in_d_step": d_change,
                "real_prob": torch.sigmoid(real_logits.mean()).item(),
                "fake_prob": torch.sigmoid(fake_logits.mean()).item()}

    gan.fit(step, steps, history=run.history)
    discriminator.requires_grad_(True)
    run.samples = _samples(generator, 1000, seed)
    return run


def flag_left_off(fixed: bool = False, steps: int = 1500, seed: int = 0) -> ReproRun:
    """(i) D frozen once with ``requires_grad_(False)`` and then "trained" (mistake), or frozen only in G's step."""
    return _ring_repro(fixed, steps, seed, _flag_left_off_mistake)


def _separate_loops_mistake(generator: nn.Module, discriminator: nn.Module, sample_real, rng: torch.Generator,
                            steps: int, seed: int) -> ReproRun:
    d_optimizer = gan.make_optimizer("adam", discriminator.parameters(), 1e-3, fused=False)
    g_optimizer = gan.make_optimizer("adam", generator.parameters(), 1e-3, fused=False)
    run = ReproRun()

    def d_only(i: int) -> dict[str, float]:
        d_stats = gan.discriminator_step(generator, discriminator, d_optimizer, sample_real(128), rng=rng)
        return {"d_loss": d_stats["d_loss"], "fake_prob": torch.sigmoid(torch.tensor(d_stats["fake_logit"])).item()}

    def g_only(i: int) -> dict[str, float]:
        g_stats = gan.generator_step(generator, discriminator, g_optimizer, 128, rng=rng)
        with torch.no_grad():
            fake_logit = discriminator(_samples(generator, 128, seed + i)).mean()
        return {"g_loss": g_stats["g_loss"], "fake_prob": torch.sigmoid(fake_logit).item()}

    gan.fit(d_only, steps, history=run.history)  # loop 1: D only, against the untrained G
    gan.fit(g_only, steps, history=run.history)  # loop 2: G only, against the D that loop 1 left behind
    run.samples = _samples(generator, 1000, seed)
    return run


def separate_loops(fixed: bool = False, steps: int = 1500, seed: int = 0) -> ReproRun:
    """(j) ``steps`` D updates, then ``steps`` G updates (mistake), or ``steps`` alternating pairs (fix)."""
    return _ring_repro(fixed, steps, seed, _separate_loops_mistake)


def same_batch(fixed: bool = False, steps: int = 500, limit: int = 5000, batch_size: int = 64,
               seed: int = 0) -> tuple[ReproRun, dict[str, float], torch.Tensor, torch.Tensor]:
    """(k) the image MLP GAN fed ``x_train[0:batch_size]`` every step (mistake) or random batches (fix).

    Returns the run, ``d_on_first`` / ``d_on_others`` (D's verdicts), the first batch and all ``limit`` images.
    """
    from gan_course.data import fashion_mnist

    images = fashion_mnist.load_fashion_mnist("train", value_range=(-1, 1), limit=limit).images
    first, others = images[:batch_size], images[batch_size:2 * batch_size]
    rng = torch.Generator().manual_seed(seed)
    sample_real = (lambda n: images[torch.randint(len(images), (n,), generator=rng)]) if fixed else \
        (lambda n: first)  # x_train[0:batch_size], every step
    generator, discriminator = gan_mistakes.image_models("tanh", seed)
    config = ReproConfig(steps=steps, batch_size=batch_size, g_lr=5e-4, seed=seed)
    run = gan_mistakes.train_repro(generator, discriminator, sample_real, config, sample_count=500)
    with torch.no_grad():
        verdict = {"d_on_first": torch.sigmoid(discriminator(first).mean()).item(),
                   "d_on_others": torch.sigmoid(discriminator(others).mean()).item()}
    return run, verdict, first, images


class ClippedOptimizer:
    """An optimizer whose ``step`` first clips the gradient norm of its parameters to ``max_norm``."""

    def __init__(self, optimizer: torch.optim.Optimizer, max_norm: float):
        self.optimizer, self.max_norm = optimizer, max_norm
        self.param_groups = optimizer.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        parameters = [p for group in self.param_groups for p in group["params"]]
        nn.utils.clip_grad_norm_(parameters, self.max_norm)
        self.optimizer.step()


# ------------------------------------------------------------------- concepts from the notes, measured (lesson 14)
def noisy_discriminator(sigma: float, width: int = 128, seed: int = 0) -> nn.Module:
    """The toy 2-D discriminator with Gaussian noise of std ``sigma`` after each hidden activation, logits (B,)."""
    runtime.seed_everything(seed)
    net = nn.Sequential(nn.Linear(2, width), nn.LeakyReLU(0.2), toy_gan.GaussianNoise(sigma),
                        nn.Linear(width, width), nn.LeakyReLU(0.2), toy_gan.GaussianNoise(sigma), nn.Linear(width, 1))
    return nn.Sequential(net, nn.Flatten(0))  # (B, 1) -> (B,)


def discriminator_confidence(sigma: float, steps: int = 500, seed: int = 0) -> dict[str, float]:
    """Train D alone on the ring (real) against points between its modes (fake); return D(fake) and the saturating
    G loss's mean gradient norm ‖∂/∂x log(1 − D(x))‖ over the fakes."""
    discriminator = noisy_discriminator(sigma, seed=seed)
    sample_real = _ring_sampler(seed)
    angles = torch.arange(8) * 2 * math.pi / 8 + math.pi / 8  # half-way between the ring's modes
    fake = torch.stack([angles.cos(), angles.sin()], dim=1).repeat(16, 1)  # (128, 2)
    optimizer = gan.make_optimizer("adam", discriminator.parameters(), 1e-3, fused=False)
    for _ in range(steps):
        real_logits, fake_logits = discriminator(sample_real(128)), discriminator(fake)
        loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        gan.descend(optimizer, loss)
    discriminator.eval()  # judged without noise, as G's step would see a trained noisy D in expectation
    points = fake.clone().requires_grad_(True)
    logits = discriminator(points)
    (grad,) = torch.autograd.grad(-F.softplus(logits).sum(), points)  # log(1 − σ(l)) = −softplus(l)
    return {"fake_prob": torch.sigmoid(logits.mean()).item(), "saturating_grad": grad.norm(dim=1).mean().item()}


def mixture_of_generators(components: int = 8, steps: int = 1500, seed: int = 0) -> tuple[ReproRun, torch.Tensor]:
    """The ring GAN with a K-generator mixture; returns the run and a (K, 8) table: share of each generator's
    samples nearest to each ring mode."""
    runtime.seed_everything(seed)
    generator = toy_gan.MixtureOfGenerators(components)
    _, discriminator = gan_mistakes.toy_models(seed)
    config = ReproConfig(steps=steps, g_lr=1e-3, seed=seed)
    run = gan_mistakes.train_repro(generator, discriminator, _ring_sampler(seed), config)
    z = generator.sample_latent(4000, torch.Generator().manual_seed(seed + 3))
    with torch.no_grad():
        points = generator(z)
    nearest, _ = mode_metrics.nearest_modes(points, "ring-8")  # (N,)
    code = z[:, :components].argmax(dim=1)  # (N,)
    table = torch.zeros(components, 8)
    for k in range(components):
        table[k] = torch.bincount(nearest[code == k], minlength=8).float() / max(1, int((code == k).sum()))
    return run, table
