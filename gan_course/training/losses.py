"""GAN losses, one pair per family, and the ``GAN_LOSSES`` registry that feeds widgets and parametrised tests.

Every function takes ``(real_logits, fake_logits)``, real first; the BCE families use −log σ(l) = softplus(−l).
Families: minimax and non-saturating (Goodfellow et al., 2014), LSGAN (Mao et al., 2017), WGAN with weight
clipping (Arjovsky et al., 2017), WGAN-GP (Gulrajani et al., 2017), hinge (Lim & Ye, 2017; Miyato et al., 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_course.core import runtime


def _bce_discriminator(real_logits: Tensor, fake_logits: Tensor, real_target=1.0, fake_target=0.0) -> Tensor:
    """BCE on logits with (possibly soft) targets: −E[t log D(x) + (1−t) log(1−D(x))] over real and fake."""
    real_target = torch.as_tensor(real_target, dtype=real_logits.dtype).expand_as(real_logits)
    fake_target = torch.as_tensor(fake_target, dtype=fake_logits.dtype).expand_as(fake_logits)
    return (F.binary_cross_entropy_with_logits(real_logits, real_target)
            + F.binary_cross_entropy_with_logits(fake_logits, fake_target))


def minimax_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_target=1.0, fake_target=0.0) -> Tensor:
    """D minimises −E[log D(x)] − E[log(1 − D(G(z)))] (targets may be softened: label smoothing)."""
    return _bce_discriminator(real_logits, fake_logits, real_target, fake_target)


def minimax_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """G minimises E[log(1 − D(G(z)))] = −E[softplus(l_fake)]: the original game, saturating when D wins."""
    return -F.softplus(fake_logits).mean()


non_saturating_discriminator_loss = minimax_discriminator_loss


def non_saturating_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """G minimises −E[log D(G(z))] = E[softplus(−l_fake)]: strong gradients exactly when D rejects the fakes."""
    return F.softplus(-fake_logits).mean()


def lsgan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_target=1.0, fake_target=0.0) -> Tensor:
    """Least squares: ½E[(D(x) − b)²] + ½E[(D(G(z)) − a)²] with a = 0, b = 1 (targets may be softened)."""
    return 0.5 * ((real_logits - real_target) ** 2).mean() + 0.5 * ((fake_logits - fake_target) ** 2).mean()


def lsgan_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Least squares: ½E[(D(G(z)) − 1)²] — penalises fakes by their distance to the real target."""
    return 0.5 * ((fake_logits - 1.0) ** 2).mean()


def wgan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The critic maximises E[C(x)] − E[C(G(z))], an estimate of W1 when C is 1-Lipschitz: loss = −(that)."""
    return fake_logits.mean() - real_logits.mean()


def wgan_generator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """G minimises −E[C(G(z))]."""
    return -fake_logits.mean()


def hinge_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge: E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))] — no reward for being more than a margin right."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


hinge_generator_loss = wgan_generator_loss


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP penalty E[(‖∇C(x̂)‖₂ − 1)²] at x̂ = εx + (1 − ε)G(z), ε ~ U[0, 1] per sample (multiply by λ = 10)."""
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = torch.rand(eps_shape, generator=generator).to(real.device, real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grads.flatten(1).norm(2, dim=1)  # (B, ...) -> (B,)
    return ((norms - 1.0) ** 2).mean()


@dataclass(frozen=True)
class GANLoss:
    """One loss family: its two losses and what the training step must add around them."""
    name: str
    discriminator_loss: Callable[..., Tensor]
    generator_loss: Callable[..., Tensor]
    description: str
    soft_labels: bool = False  # accepts real_target / fake_target (label smoothing)
    gradient_penalty: bool = False  # add λ·gradient_penalty to the critic loss
    weight_clip: float | None = None  # clip critic weights to [−c, c] after each step


GAN_LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", minimax_discriminator_loss, minimax_generator_loss,
                       "original game: G minimises log(1 − D(G(z))); saturates when D is confident",
                       soft_labels=True),
    "non-saturating": GANLoss("non-saturating", non_saturating_discriminator_loss, non_saturating_generator_loss,
                              "G maximises log D(G(z)) instead: same fixed point, strong early gradients",
                              soft_labels=True),
    "lsgan": GANLoss("lsgan", lsgan_discriminator_loss, lsgan_generator_loss,
                     "least squares: fakes far from the real target are pushed hard, even when classified right",
                     soft_labels=True),
    "wgan": GANLoss("wgan", wgan_discriminator_loss, wgan_generator_loss,
                    "Wasserstein critic kept (roughly) Lipschitz by clipping weights to ±0.01", weight_clip=0.01),
    "wgan-gp": GANLoss("wgan-gp", wgan_discriminator_loss, wgan_generator_loss,
                       "Wasserstein critic with a gradient penalty pulling ‖∇C‖ towards 1", gradient_penalty=True),
    "hinge": GANLoss("hinge", hinge_discriminator_loss, hinge_generator_loss,
                     "margin loss for D, −E[D(G(z))] for G; pairs well with spectral norm"),
}


def get_loss(name: str) -> GANLoss:
    """Look a loss family up by name; unknown names list the allowed ones."""
    return runtime.lookup(GAN_LOSSES, name, "GAN loss")


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """Feature matching (Salimans et al., 2016): ``‖E f(x) − E f(G(z))‖²`` over batch means of D's features (B, F)."""
    return ((real_features.mean(dim=0) - fake_features.mean(dim=0)) ** 2).sum()
