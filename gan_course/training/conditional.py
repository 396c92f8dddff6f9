"""Training the class-conditional GAN of lesson 13 (models in ``models.conditional``): ``training.gan``'s step
functions with ``labels=``, in ``gan.fit``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

import torch
from torch import nn

from gan_course.core import runtime
from gan_course.training import gan


@dataclass(frozen=True)
class ConditionalGANConfig(gan.GANConfig):
    """One conditional-GAN run: hinge loss with a spectrally normalised projection D (Miyato & Koyama, 2018)."""
    steps: int = 2000
    batch_size: int = 64
    loss: str = "hinge"

    unused: ClassVar[tuple[str, ...]] = ("d_steps", "warmup_steps", "decay_start", "decay_steps", "decay_floor", "ema")


def train_conditional_gan(generator: nn.Module, discriminator: nn.Module, images: torch.Tensor,
                          labels: torch.Tensor, config: ConditionalGANConfig,
                          callback: Callable[[int, dict], None] | None = None) -> dict[str, list[float]]:
    """Alternate ``training.gan`` D and G steps with ``labels=``; return the per-step history.

    D sees real images with their labels and fakes for those labels; G's step draws labels uniformly.
    """
    if images.ndim != 4 or labels.shape != (images.shape[0],):
        raise ValueError(f"images (N, C, 28, 28) and labels (N,) expected, got {tuple(images.shape)} and "
                         f"{tuple(labels.shape)}")
    rng = torch.Generator().manual_seed(config.seed)
    runtime.seed_everything(config.seed)
    g_optimizer, d_optimizer = config.optimizers(generator, discriminator, fused=False)
    precision = gan.resolve_precision(config.precision, images.device)
    generator.train()
    discriminator.train()

    def step(i: int) -> dict[str, float]:
        index = torch.randint(images.shape[0], (config.batch_size,), generator=rng)
        d_stats = gan.discriminator_step(generator, discriminator, d_optimizer, images[index], config.loss,
                                         config.tricks, labels[index], rng, i, precision=precision)
        fake_labels = torch.randint(generator.num_classes, (config.batch_size,), generator=rng)
        g_stats = gan.generator_step(generator, discriminator, g_optimizer, config.batch_size, config.loss,
                                     config.tricks, fake_labels, rng, i, precision=precision)
        return {**d_stats, **g_stats}

    callbacks = () if callback is None else (lambda i, stats, history: callback(i, history),)
    return gan.fit(step, config.steps, callbacks=callbacks)


def class_rows(num_classes: int = 10, per_class: int = 8) -> torch.Tensor:
    """Labels for a grid with one row per class: [0]*per_class + [1]*per_class + ... shape (K·per_class,)."""
    runtime.check_positive(num_classes=num_classes, per_class=per_class)
    return torch.arange(num_classes).repeat_interleave(per_class)


@torch.no_grad()
def generate(generator: nn.Module, labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Images for the given labels (B,) from a seeded noise stream, with G in eval mode: (B, C, 28, 28)."""
    with runtime.evaluating(generator):
        z = generator.sample_latent(labels.shape[0], torch.Generator().manual_seed(seed))
        return generator(z, labels)
