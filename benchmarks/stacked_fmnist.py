"""Stacked-Fashion-MNIST: the 1,000-mode Stacked-MNIST protocol on Fashion-MNIST, for a DCGAN with a packed D.

Protocol (Metz et al., 2017; VEEGAN, Srivastava et al., 2017; PacGAN, Lin et al., 2018): three random training
images stacked as channels (10³ modes); 26,000 samples labelled per channel by the course classifier; reported: modes
hit and KL(p ‖ U) = Σ_m p_m log(p_m · 1000), per-channel KLs, and the same for 26,000 real stacks (the floor).
PacGAN Table 3 (Stacked-MNIST): DCGAN 99 modes / KL 3.40, VEEGAN 150 / 2.95, PacDCGAN2 1000 / 0.06.
The run is a resumable state machine in one checkpoint: ``train`` -> ``evaluate`` -> ``done``.

    python benchmarks/stacked_fmnist.py                 # full: 15,000 steps, ~18 min on 2 cores (resumable)
    python benchmarks/stacked_fmnist.py --quick --json  # seconds: a smoke run with tiny sizes
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from gan_course.core import checkpoints, runtime
from gan_course.data import fashion_mnist
from gan_course.evaluation import image_metrics, judge
from gan_course.models import dcgan
from gan_course.training import gan

NUM_CLASSES = 10
CHANNELS = 3
NUM_MODES = NUM_CLASSES ** CHANNELS
PUBLISHED = (("DCGAN (PacGAN Table 3, Stacked-MNIST)", 99, 3.40), ("VEEGAN", 150, 2.95),
             ("PacDCGAN2", 1000, 0.06))
TARGET_MODES, TARGET_KL = 990, 0.15
STATES = ("train", "evaluate", "done")


# ------------------------------------------------------------------------------------------ data and metrics
def stack_images(images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Stack grey images as channels: images (N, 1, 28, 28), index (M, 3) -> (M, 3, 28, 28)."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W), got {tuple(images.shape)}")
    if index.ndim != 2 or index.shape[1] != CHANNELS:
        raise ValueError(f"index must have shape (M, {CHANNELS}), got {tuple(index.shape)}")
    return images[index].squeeze(2)  # (M, 3, 1, H, W) -> (M, 3, H, W)


def random_triplets(count: int, pool: int, rng: torch.Generator) -> torch.Tensor:
    """(count, 3) independent uniform indices into a pool of ``pool`` images."""
    return torch.randint(pool, (count, CHANNELS), generator=rng)


def triplet_ids(classes: torch.Tensor) -> torch.Tensor:
    """Class triplets (M, 3) in 0..9 -> mode ids (M,) = 100a + 10b + c in 0..999."""
    if classes.ndim != 2 or classes.shape[1] != CHANNELS:
        raise ValueError(f"classes must have shape (M, {CHANNELS}), got {tuple(classes.shape)}")
    if classes.numel() and (classes.min() < 0 or classes.max() >= NUM_CLASSES):
        raise ValueError(f"classes must lie in [0, {NUM_CLASSES}), got {classes.min().item()}..{classes.max().item()}")
    weights = torch.tensor([NUM_CLASSES ** 2, NUM_CLASSES, 1], dtype=classes.dtype)
    return (classes * weights).sum(dim=1)  # (M, 3) -> (M,)


def mode_statistics(ids: torch.Tensor, num_modes: int = NUM_MODES) -> dict:
    """Modes hit and KL(p ‖ U) = Σ_m p_m log(p_m · num_modes) (nats; 0 · log 0 = 0) of a mode-id histogram."""
    if ids.ndim != 1 or ids.numel() == 0:
        raise ValueError(f"ids must be a non-empty 1-D tensor, got shape {tuple(ids.shape)}")
    counts = torch.bincount(ids, minlength=num_modes).double()
    if counts.numel() > num_modes:
        raise ValueError(f"mode ids must lie in [0, {num_modes}), got max {ids.max().item()}")
    p = counts / counts.sum()
    present = p > 0
    kl = (p[present] * torch.log(p[present] * num_modes)).sum().item()
    return {"modes": int(present.sum()), "kl": kl, "samples": int(ids.numel())}


@torch.no_grad()
def classify_channels(classifier: nn.Module, images: torch.Tensor, batch_size: int = 1500) -> torch.Tensor:
    """Predicted class of every channel: images (M, 3, 28, 28) in [-1, 1] -> (M, 3)."""
    if images.ndim != 4 or images.shape[1] != CHANNELS:
        raise ValueError(f"images must have shape (M, {CHANNELS}, 28, 28), got {tuple(images.shape)}")
    classifier.eval()
    flat = images.reshape(-1, 1, *images.shape[2:])  # (M, 3, H, W) -> (3M, 1, H, W)
    predicted = [classifier(flat[i:i + batch_size]).argmax(dim=1) for i in range(0, flat.shape[0], batch_size)]
    return torch.cat(predicted).view(-1, CHANNELS)  # (3M,) -> (M, 3)


# ---------------------------------------------------------------------------------------------------- model
class PackedDiscriminator(nn.Module):
    """PacGAN: D judges ``pack`` samples at once, (B, C, H, W) -> (B/pack, pack·C, H, W) -> logits (B/pack,)."""

    def __init__(self, in_channels: int = CHANNELS, base_channels: int = 32, pack: int = 2):
        super().__init__()
        if not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be a positive int, got {pack!r}")
        self.in_channels, self.pack = in_channels, pack
        self.body = dcgan.DCGANDiscriminator(in_channels * pack, base_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[0] % self.pack:
            raise ValueError(f"PackedDiscriminator expects (B, {self.in_channels}, 28, 28) with B a multiple of "
                             f"pack={self.pack}, got {tuple(x.shape)}")
        packed = x.reshape(x.shape[0] // self.pack, self.pack * self.in_channels, *x.shape[2:])
        return self.body(packed)  # (B/pack, pack·C, H, W) -> (B/pack,)


@dataclass(frozen=True)
class BenchmarkConfig(gan.GANConfig):
    """``gan.GANConfig`` (its learning rate, label smoothing, schedule, EMA, precision, seed) plus the benchmark's own
    fields; the defaults are the full run, with the learning rate decaying linearly to 0 over it."""
    steps: int = 15000
    batch_size: int = 128  # KL 0.175 with batch 64 (96 channels), 0.126 with 128
    decay_steps: int = 15000  # = steps: linear learning-rate decay to 0 at the last step (both players)
    label_smoothing: float = 0.1  # one-sided: real target 0.9 (as lesson 11)
    ema: float = 0.999  # samples come from this moving average of G's weights; 0 = the raw generator
    precision: str = "auto"
    latent_dim: int = 128
    base_channels: int = 96  # KL 0.722 with 32 channels, 0.244 with 64, 0.175 with 96, 0.176 with 128 (70 ms a step)
    pack: int = 2
    samples: int = 26000  # generated (and real) stacked images evaluated
    checkpoint_every: int = 500
    train_limit: int | None = None  # training images the triplets are drawn from (None: all 60,000)
    quick: bool = False


QUICK = dict(steps=30, batch_size=16, base_channels=8, samples=1000, checkpoint_every=10, train_limit=3000)


def build(config: BenchmarkConfig):
    """Generator and packed discriminator in channels-last format, their optimizers (fused Adam), G's EMA copy."""
    runtime.seed_everything(config.seed)
    generator = dcgan.DCGANGenerator(config.latent_dim, config.base_channels, out_channels=CHANNELS)
    discriminator = PackedDiscriminator(CHANNELS, config.base_channels, config.pack)
    for module in (generator, discriminator):
        module.to(memory_format=torch.channels_last)
    g_optimizer, d_optimizer = config.optimizers(generator, discriminator)
    average = copy.deepcopy(generator).requires_grad_(False)
    return generator, discriminator, g_optimizer, d_optimizer, average


def channel_kls(classes: torch.Tensor) -> list[float]:
    """KL(class histogram ‖ uniform over 10) of each channel's predicted classes (M, 3) -> 3 floats (nats)."""
    return [round(image_metrics.class_coverage(classes[:, channel], NUM_CLASSES)["kl_to_uniform"], 4)
            for channel in range(classes.shape[1])]


def checkpoint_file(config: BenchmarkConfig) -> Path:
    name = (f"stacked_fmnist_s{config.seed}_p{config.pack}_c{config.base_channels}_z{config.latent_dim}"
            f"_b{config.batch_size}_lr{config.g_lr:g}{'_decay' if config.decay_steps else ''}"
            f"_ls{config.label_smoothing:g}_ema{config.ema:g}")
    return checkpoints.checkpoint_path(name)


def _same_run(saved: dict, mine: BenchmarkConfig) -> bool:
    """The same run up to its length (``steps``, and a decay over the whole run: ``decay_steps = steps``): a
    checkpoint of it may be continued (more steps) or evaluated (fewer). ``saved`` may use the old field names."""
    try:
        theirs = BenchmarkConfig.from_dict(saved)
    except ValueError:
        return False

    def length_free(config):
        whole = config.decay_steps == config.steps
        return {**config.to_dict(), "steps": 0, "decay_steps": "whole run" if whole else config.decay_steps}
    return length_free(theirs) == length_free(mine)


def run(config: BenchmarkConfig, resume: bool = True, log=print) -> dict:
    """Drive the state machine train -> evaluate -> done; return the results dict."""
    generator, discriminator, g_optimizer, d_optimizer, average = build(config)
    precision = gan.resolve_precision(config.precision)
    path = checkpoint_file(config)
    rng = torch.Generator().manual_seed(config.seed)
    state = {"phase": "train", "step": 0, "seconds": 0.0, "history": {}, "results": None}
    if resume and path.is_file():
        saved = checkpoints.load(path)
        if _same_run(saved.get("config", {}), config) and saved["step"] <= config.steps:
            state = {k: saved[k] for k in state}
            if state["step"] < config.steps:  # a longer run continues training from the saved step
                state["phase"], state["results"] = "train", None
            elif state["results"] is None or state["results"]["steps"] != config.steps:
                state["phase"] = "evaluate"  # a shorter run stopped here: evaluate what was trained
            generator.load_state_dict(saved["generator"])
            average.load_state_dict(saved["average"])
            discriminator.load_state_dict(saved["discriminator"])
            g_optimizer.load_state_dict(saved["g_optimizer"])
            d_optimizer.load_state_dict(saved["d_optimizer"])
            rng.set_state(saved["rng"])
            log(f"resumed from {path}: phase {state['phase']}, step {state['step']}")

    def save():
        checkpoints.save({**state, "config": config.to_dict(), "generator": generator.state_dict(),
                          "average": average.state_dict(),
                          "discriminator": discriminator.state_dict(), "g_optimizer": g_optimizer.state_dict(),
                          "d_optimizer": d_optimizer.state_dict(), "rng": rng.get_state()}, path)

    train = fashion_mnist.load_fashion_mnist("train", value_range=(-1.0, 1.0), limit=config.train_limit).images
    if state["phase"] == "train":
        generator.train()
        discriminator.train()
        start, last = time.perf_counter(), {}

        def step(i: int) -> dict[str, float]:
            config.set_learning_rates(g_optimizer, d_optimizer, i)
            real = [stack_images(train, random_triplets(config.batch_size, len(train), rng)).contiguous(
                memory_format=torch.channels_last) for _ in range(config.d_steps)]
            last.update(gan.train_step(generator, discriminator, g_optimizer, d_optimizer, real, config.loss,
                                       config.tricks, rng=rng, step=i, precision=precision))
            gan.update_average(average, generator, config.ema)
            state["step"] = i + 1
            return {key: round(value, 4) for key, value in last.items()}  # the history keeps 4 decimals

        def checkpoint(i, stats, history) -> None:
            nonlocal start
            if state["step"] % config.checkpoint_every == 0 or state["step"] == config.steps:
                state["seconds"] += time.perf_counter() - start
                start = time.perf_counter()
                save()
                log(f"step {state['step']}/{config.steps}  d_loss {last['d_loss']:.3f}  "
                    f"g_loss {last['g_loss']:.3f}  {state['seconds']:.0f} s")

        gan.fit(step, config.steps, start=state["step"], history=state["history"], callbacks=[checkpoint])
        state["phase"] = "evaluate"
        save()
    if state["phase"] == "evaluate":
        classifier, info = judge.get_fashion_classifier(train_if_missing=True, progress=False)
        eval_start = time.perf_counter()
        sampler = average if config.ema > 0 else generator
        sampler.eval()
        fake_rng = torch.Generator().manual_seed(config.seed + 1)
        with torch.no_grad():
            fake = torch.cat([sampler(sampler.sample_latent(min(1000, config.samples - i), fake_rng)).contiguous()
                              for i in range(0, config.samples, 1000)])
        fake_classes = classify_channels(classifier, fake)
        fake_stats = {**mode_statistics(triplet_ids(fake_classes)), "channel_kl": channel_kls(fake_classes)}
        real_rng = torch.Generator().manual_seed(config.seed + 2)
        real = stack_images(train, random_triplets(config.samples, len(train), real_rng))
        real_classes = classify_channels(classifier, real)
        real_stats = {**mode_statistics(triplet_ids(real_classes)), "channel_kl": channel_kls(real_classes)}
        state["results"] = {
            "generated": fake_stats, "real": real_stats, "steps": state["step"],
            "train_seconds": round(state["seconds"], 1), "eval_seconds": round(time.perf_counter() - eval_start, 1),
            "classifier_test_accuracy": info.get("test_accuracy"),
            "target_met": fake_stats["modes"] >= TARGET_MODES and fake_stats["kl"] <= TARGET_KL,
            "config": config.to_dict(), "precision": precision, "threads": torch.get_num_threads(),
            "torch": str(torch.__version__)}
        state["phase"] = "done"
        save()
    return state["results"]


def table(results: dict) -> str:
    """The results as a plain-text table, with the published Stacked-MNIST anchors beside them."""
    config = results["config"]
    def channels(stats):
        return " / ".join(f"{kl:.3f}" for kl in stats["channel_kl"])

    rows = [("model", "modes (of 1000)", "KL to uniform", "per-channel KL", "steps"),
            (f"DCGAN, pack {config['pack']}, {config['base_channels']} channels, batch {config['batch_size']}"
             f"{', lr decay' if config.get('decay_steps', config.get('decay')) else ''}, smoothing {config['label_smoothing']:g}, "
             f"EMA {config['ema']:g} (this run)", str(results["generated"]["modes"]),
             f"{results['generated']['kl']:.3f}", channels(results["generated"]), str(results["steps"])),
            ("real stacked Fashion-MNIST (same classifier)", str(results["real"]["modes"]),
             f"{results['real']['kl']:.3f}", channels(results["real"]), "-")]
    rows += [(f"{name} [published]", str(modes), f"{kl:.2f}", "-", "-") for name, modes, kl in PUBLISHED]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    accuracy = results.get("classifier_test_accuracy")
    lines.append(f"{results['generated']['samples']} samples each; classifier test accuracy "
                 f"{accuracy if accuracy is None else round(accuracy, 4)}; train {results['train_seconds']} s, "
                 f"evaluate {results['eval_seconds']} s on {results['threads']} threads, {results['precision']}; target "
                 f"(>= {TARGET_MODES} modes, KL <= {TARGET_KL}) {'met' if results['target_met'] else 'NOT met'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int)
    parser.add_argument("--pack", type=int)
    parser.add_argument("--samples", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--base-channels", type=int)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--label-smoothing", type=float)
    parser.add_argument("--ema", type=float, help="EMA decay of G's weights for sampling (0: off)")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-decay", action="store_true", help="a constant learning rate (no linear decay)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--no-resume", action="store_true", help="ignore a saved state and start again")
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["GAN_COURSE_QUICK"] = "1"  # the quick classifier and '-quick' checkpoint names
    runtime.set_threads()
    values = dict(QUICK, quick=True) if args.quick else {}
    for name in ("steps", "pack", "samples", "batch_size", "base_channels", "latent_dim", "label_smoothing", "ema",
                 "precision"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    values["decay_steps"] = 0 if args.no_decay else values.get("steps", BenchmarkConfig.steps)
    config = BenchmarkConfig(seed=args.seed, **values)
    log = (lambda message: print(message, file=sys.stderr)) if args.json else print
    results = run(config, resume=not args.no_resume, log=log)
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
