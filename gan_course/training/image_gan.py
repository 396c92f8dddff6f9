"""Training loop for image GANs on Fashion-MNIST with checkpoints, exact resume and fixed-noise grids (lessons 11–12).

Built on ``gan.train_step``; the data is one in-memory tensor walked in seeded per-epoch permutations, and all
randomness comes from one ``torch.Generator`` saved in the checkpoint (written atomically every epoch), so a resumed
run gives exactly the losses of an uninterrupted one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import torch
from torch import Tensor, nn

from gan_course.core import checkpoints, runtime
from gan_course.training import gan, losses


@dataclass(frozen=True)
class ImageGANConfig(gan.GANConfig):
    """One run of ``train_image_gan``: ``gan.GANConfig`` (Adam at ``g_lr`` with β1 = 0.5 is the DCGAN recipe) plus
    the fixed-noise grids. A DCGAN batch is 64; ``precision="auto"`` is bf16 where the hardware runs it natively."""
    batch_size: int = 64
    precision: str = "auto"
    grid_size: int = 64  # fixed-noise samples drawn for each grid
    grid_every: int = 0  # steps between grids; 0: about 8 grids per run

    unused: ClassVar[tuple[str, ...]] = ("ema",)

    def __post_init__(self):
        super().__post_init__()
        runtime.check_int("grid_size", self.grid_size, 1)
        runtime.check_int("grid_every", self.grid_every, 0)


class BatchSampler:
    """Batches of a tensor in a fresh seeded permutation each epoch; the position is (epoch, offset)."""

    def __init__(self, images: Tensor, batch_size: int, seed: int = 0):
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
        if not 1 <= batch_size <= images.shape[0]:
            raise ValueError(f"batch_size {batch_size} must lie in [1, {images.shape[0]}] (the image count)")
        self.images, self.batch_size, self.seed = images, batch_size, seed
        self.epoch, self.offset = 0, 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> Tensor:
        return torch.randperm(self.images.shape[0], generator=torch.Generator().manual_seed(
            self.seed * 1_000_003 + epoch))

    def next(self) -> Tensor:
        if self.offset + self.batch_size > self.images.shape[0]:
            self.epoch, self.offset = self.epoch + 1, 0
            self._order = self._permutation(self.epoch)
        index = self._order[self.offset:self.offset + self.batch_size]
        self.offset += self.batch_size
        return self.images[index]  # (B, C, H, W)

    def state(self) -> dict:
        return {"epoch": self.epoch, "offset": self.offset}

    def restore(self, state: dict) -> None:
        self.epoch, self.offset = int(state["epoch"]), int(state["offset"])
        self._order = self._permutation(self.epoch)


@dataclass
class TrainingRun:
    """What a run leaves behind: the models and optimizers, the per-step history and the fixed-noise grids."""
    generator: nn.Module
    discriminator: nn.Module
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer
    config: ImageGANConfig
    history: dict[str, list[float]]
    grids: list[Tensor]  # (grid_size, C, H, W) each, from the same fixed noise
    grid_steps: list[int]
    step: int  # generator steps done
    epoch: int
    seconds: float  # training time, summed over all sessions of this run
    resumed_from: int | None  # the step a checkpoint brought us to, if any
    checkpoint: Path | None

    def images_per_second(self) -> float:
        seen = self.step * self.config.batch_size * (self.config.d_steps + 1)
        return seen / self.seconds if self.seconds else float("nan")


def fixed_noise(generator: nn.Module, config: ImageGANConfig) -> Tensor:
    """The same (grid_size, Z) noise for every grid of a run, from its own stream (seed + 1)."""
    rng = torch.Generator().manual_seed(config.seed + 1)
    return torch.randn(config.grid_size, generator.latent_dim, generator=rng)


@torch.no_grad()
def draw_grid(generator: nn.Module, noise: Tensor) -> Tensor:
    """Samples from ``noise`` in eval mode (BatchNorm running statistics), training mode restored after."""
    with runtime.evaluating(generator):
        return generator(noise).cpu().contiguous()


def _state(run: TrainingRun, rng: torch.Generator, sampler: BatchSampler, schedulers) -> dict:
    return {"generator": run.generator.state_dict(), "discriminator": run.discriminator.state_dict(),
            "g_optimizer": run.g_optimizer.state_dict(), "d_optimizer": run.d_optimizer.state_dict(),
            "g_scheduler": schedulers[0].state_dict(), "d_scheduler": schedulers[1].state_dict(),
            "rng": rng.get_state(), "torch_rng": torch.get_rng_state(), "sampler": sampler.state(),
            "step": run.step, "seconds": run.seconds, "history": run.history, "grids": run.grids,
            "grid_steps": run.grid_steps, "config": run.config.to_dict()}


_HOW_TO_SAVE = ("the returned run holds the trained models: save them with checkpoints.save({'generator': "
                "run.generator.state_dict(), 'discriminator': run.discriminator.state_dict()}, 'a/writable/file.pt')")
_CHECKPOINT_KEYS = ("generator", "discriminator", "g_optimizer", "d_optimizer", "g_scheduler", "d_scheduler", "rng",
                    "torch_rng", "sampler", "step", "seconds", "history", "grids", "grid_steps", "config")


def _shape_difference(module: nn.Module, saved) -> str | None:
    """The first parameter or buffer where a saved state dict and ``module`` differ, in words; None if alike."""
    if not isinstance(saved, dict):
        return f"the checkpoint holds a {type(saved).__name__}, not a state dict"
    mine = module.state_dict()
    for key in mine:
        if key not in saved:
            return f"'{key}' is in this model but not in the checkpoint"
        if tuple(saved[key].shape) != tuple(mine[key].shape):
            return f"'{key}' has shape {tuple(saved[key].shape)} in the checkpoint, {tuple(mine[key].shape)} here"
    extra = [key for key in saved if key not in mine]
    return f"'{extra[0]}' is in the checkpoint but not in this model" if extra else None


def _check_resumable(path: Path, state: dict, config: ImageGANConfig, generator: nn.Module,
                     discriminator: nn.Module) -> None:
    """Raise ``CheckpointError`` naming the first field that stops ``state`` continuing as this run, and the fix."""
    fresh = f"to start afresh delete {path}, pass resume=False, or pass another checkpoint path"
    missing = [key for key in _CHECKPOINT_KEYS if key not in state]
    if missing:
        raise checkpoints.CheckpointError(
            f"checkpoint {path} is not a train_image_gan checkpoint: it lacks {missing} (it holds "
            f"{sorted(state)[:8]}), so it may belong to another lesson or tool; {fresh}")
    try:
        saved = ImageGANConfig.from_dict(state["config"])  # also the old spelling (tricks, decay)
    except (TypeError, ValueError) as err:
        raise checkpoints.CheckpointError(f"checkpoint {path} holds a config this version cannot read ({err}); "
                                          f"{fresh}") from err
    mine, theirs = config.to_dict(), saved.to_dict()
    differ = [name for name in mine if name != "steps" and mine[name] != theirs[name]]
    if differ:
        details = "; ".join(f"{name}={theirs[name]!r} there, {mine[name]!r} here" for name in differ)
        raise checkpoints.CheckpointError(f"checkpoint {path} was written with other settings ({details}): pass "
                                          f"the checkpoint's values to continue that run, or {fresh}")
    if state["step"] > config.steps:
        raise checkpoints.CheckpointError(
            f"checkpoint {path} is already at step {state['step']}, past this run's steps={config.steps}: pass "
            f"steps >= {state['step']} to continue (or load) it, or {fresh}")
    for name, module in (("generator", generator), ("discriminator", discriminator)):
        difference = _shape_difference(module, state[name])
        if difference:
            raise checkpoints.CheckpointError(
                f"checkpoint {path} holds a {name} of another architecture ({difference}): build the {name} "
                f"with the constructor arguments the checkpoint was trained with, or {fresh}")


def train_image_gan(generator: nn.Module, discriminator: nn.Module, images: Tensor, config: ImageGANConfig,
                    checkpoint: str | Path | None = None, resume: bool = True, progress: bool = True,
                    stop_after: int | None = None,
                    callback: Callable[[int, dict], None] | None = None) -> TrainingRun:
    """Train ``generator`` against ``discriminator`` on ``images`` (N, C, H, W) in [-1, 1]; return a TrainingRun.

    ``checkpoint`` is written at every epoch's end and at the end; with ``resume`` a matching one is loaded first.
    ``stop_after`` ends this session after that many steps; ``callback(step, stats)`` runs after every G step
    and may raise ``StopIteration`` (the checkpoint is still written). Fused Adam, channels-last; bf16 if "auto".
    """
    for module in (generator, discriminator):
        module.to(memory_format=torch.channels_last)
    try:
        return _train_image_gan(generator, discriminator, images, config, checkpoint, resume, progress, stop_after,
                                callback)
    finally:
        for module in (generator, discriminator):
            module.to(memory_format=torch.contiguous_format)


def _train_image_gan(generator, discriminator, images, config, checkpoint, resume, progress, stop_after,
                     callback) -> TrainingRun:
    if images.ndim != 4 or images.shape[1:] != (getattr(discriminator, "in_channels", images.shape[1]), 28, 28):
        raise ValueError(f"images must have shape (N, C, 28, 28) matching the discriminator, got "
                         f"{tuple(images.shape)}")
    path = Path(checkpoint) if checkpoint is not None else None
    g_optimizer, d_optimizer = config.optimizers(generator, discriminator)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, config.schedule) for opt in (g_optimizer, d_optimizer)]
    rng = torch.Generator().manual_seed(config.seed)
    sampler = BatchSampler(images, config.batch_size, config.seed)
    run = TrainingRun(generator, discriminator, g_optimizer, d_optimizer, config, {}, [], [], 0, 0, 0.0, None,
                      path)
    if path is not None and resume and path.is_file():
        state = checkpoints.load(path)
        _check_resumable(path, state, config, generator, discriminator)
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
        for name, obj in (("g_optimizer", g_optimizer), ("d_optimizer", d_optimizer),
                          ("g_scheduler", schedulers[0]), ("d_scheduler", schedulers[1])):
            obj.load_state_dict(state[name])
        rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        sampler.restore(state["sampler"])
        run.history = {k: list(v) for k, v in state["history"].items()}
        run.grids, run.grid_steps = list(state["grids"]), list(state["grid_steps"])
        run.step, run.seconds, run.resumed_from = int(state["step"]), float(state["seconds"]), int(state["step"])
    noise = fixed_noise(generator, config)
    grid_every = config.grid_every or max(1, config.steps // 8)
    last = config.steps if stop_after is None else min(config.steps, run.step + stop_after)
    if path is not None and run.step < last:
        checkpoints.check_writable(path)  # now, not after the training it would have saved
    precision = gan.resolve_precision(config.precision, next(generator.parameters()).device)
    generator.train()
    discriminator.train()
    from tqdm.auto import tqdm

    bar = tqdm(total=config.steps, initial=run.step, disable=not progress, desc=f"{config.loss} GAN", unit="step")
    start, saved_epoch = time.perf_counter(), sampler.epoch

    def step(i: int) -> dict[str, float]:  # d_steps fresh real batches, train_step, the schedules; i = run.step
        real_batches = [sampler.next().contiguous(memory_format=torch.channels_last) for _ in range(config.d_steps)]
        stats = gan.train_step(generator, discriminator, g_optimizer, d_optimizer, real_batches,
                               config.loss, config.tricks, rng=rng, step=i, precision=precision)
        for scheduler in schedulers:
            scheduler.step()
        run.step = i + 1
        return stats

    def grids(i, stats, history) -> None:
        if run.step % grid_every == 0 or run.step == config.steps:
            run.grids.append(draw_grid(generator, noise))
            run.grid_steps.append(run.step)

    def progress_bar(i, stats, history) -> None:
        bar.update(1)
        if run.step % 25 == 0:
            bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}")

    def checkpoint_at_epoch_end(i, stats, history) -> None:
        nonlocal path, start, saved_epoch
        if path is not None and sampler.epoch != saved_epoch:  # an epoch just ended
            run.seconds += time.perf_counter() - start
            start, saved_epoch = time.perf_counter(), sampler.epoch
            if not checkpoints.save_or_keep(_state(run, rng, sampler, schedulers), path, _HOW_TO_SAVE):
                path = None  # warned once; training goes on in memory

    user = () if callback is None else (lambda i, stats, history: callback(run.step, stats),)
    try:
        gan.fit(step, last, start=run.step, history=run.history,
                callbacks=(grids, *user, progress_bar, checkpoint_at_epoch_end))
    except gan.NaNLossError as err:
        where = f" The last good checkpoint is {path}." if path is not None and path.is_file() else ""
        raise gan.NaNLossError(f"{err}{where}") from err
    finally:
        bar.close()
    run.seconds += time.perf_counter() - start
    run.epoch = sampler.epoch
    if path is not None and run.resumed_from != run.step:
        checkpoints.save_or_keep(_state(run, rng, sampler, schedulers), path, _HOW_TO_SAVE)
    return run


def feature_matching_loss(discriminator: nn.Module, real_images: Tensor, fake_images: Tensor) -> Tensor:
    """Feature matching (Salimans et al., 2016): G minimises ‖E f(x) − E f(G(z))‖², f = ``discriminator.features``."""
    if real_images.shape[1:] != fake_images.shape[1:]:
        raise ValueError(f"real {tuple(real_images.shape)} and fake {tuple(fake_images.shape)} images differ in shape")
    with torch.no_grad():
        real_features = discriminator.features(real_images)  # (B, F)
    return losses.feature_matching_loss(real_features, discriminator.features(fake_images))


@dataclass(frozen=True)
class Recipe:
    """A named lesson run: the loss family, the discriminator's normalisation and the other ``ImageGANConfig``
    fields it sets (``settings``); ``decay``: a linear learning-rate decay to 0 over the run (``decay_steps = steps``)."""
    name: str
    loss: str
    description: str
    spectral_norm: bool = False
    batch_norm: bool = True  # in D; a WGAN-GP critic must not use it (the penalty is per sample)
    decay: bool = True
    settings: dict = field(default_factory=dict)

    def build(self, steps: int, seed: int = 0):
        """(generator, discriminator, config) for ``steps`` generator updates, seeded."""
        from gan_course.models import dcgan

        runtime.seed_everything(seed)
        generator = dcgan.DCGANGenerator()
        discriminator = dcgan.DCGANDiscriminator(spectral_norm=self.spectral_norm, batch_norm=self.batch_norm)
        config = ImageGANConfig(steps=steps, loss=self.loss, decay_steps=steps if self.decay else 0, seed=seed,
                                **self.settings)
        return generator, discriminator, config


RECIPES: dict[str, Recipe] = {
    "dcgan": Recipe("dcgan", "non-saturating", "lesson 11: DCGAN, non-saturating loss, label smoothing 0.1, LR decay",
                    settings={"label_smoothing": 0.1}),
    "wgan-gp": Recipe("wgan-gp", "wgan-gp", "lesson 12: Wasserstein critic + gradient penalty (no BatchNorm in D)",
                      batch_norm=False),
    "wgan-gp-paper": Recipe("wgan-gp-paper", "wgan-gp", "lesson 12: WGAN-GP with the paper's settings (5 critic "
                            "steps per G step, Adam 1e-4, β = (0, 0.9), no decay)", batch_norm=False, decay=False,
                            settings={"g_lr": 1e-4, "d_steps": 5, "betas": (0.0, 0.9)}),
    "lsgan": Recipe("lsgan", "lsgan", "lesson 12: least-squares loss"),
    "hinge-sn": Recipe("hinge-sn", "hinge", "lesson 12: hinge loss, spectral norm in D (no BatchNorm)",
                       spectral_norm=True, batch_norm=False),
}


def checkpoint_name(recipe: str) -> str:
    """The checkpoint stem a lesson uses for a recipe (``dcgan_fashion`` for lesson 11, ``stable_<name>`` in 12)."""
    runtime.lookup(RECIPES, recipe, "recipe")
    return "dcgan_fashion" if recipe == "dcgan" else f"stable_{recipe}"
