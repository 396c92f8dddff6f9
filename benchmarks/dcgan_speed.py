"""Training-step speed of the course's DCGAN step against a "tutorial" loop of the same architecture and batch.

The tutorial loop: ``Sigmoid`` + ``BCELoss``, separate real and fake D passes, D not frozen in the G step. The course's
step is ``gan.train_step`` with fused Adam and channels-last at ``precision="auto"`` (bf16 where the CPU has it
natively; ``--no-bf16`` forces float32); each lever is also measured alone. Variants are timed round-robin; the
median block gives images/s.

    python benchmarks/dcgan_speed.py [--quick] [--json] [--batch-size 64] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.training import gan
from gan_course.models import dcgan

SEED = 0
TARGET_RATIO = 1.2


def make_players(batch_norm: bool = True, channels_last: bool = False, fused: bool = False):
    torch.manual_seed(SEED)
    generator, discriminator = dcgan.DCGANGenerator(), dcgan.DCGANDiscriminator(batch_norm=batch_norm)
    if channels_last:
        generator, discriminator = (m.to(memory_format=torch.channels_last) for m in (generator, discriminator))
    g_optimizer = gan.make_optimizer("adam", generator.parameters(), 2e-4, fused=fused)
    d_optimizer = gan.make_optimizer("adam", discriminator.parameters(), 2e-4, fused=fused)
    return generator, discriminator, g_optimizer, d_optimizer


def tutorial_step_factory(batch_size: int):
    """The reference loop, written the way the classic tutorials write it."""
    generator, discriminator, g_optimizer, d_optimizer = make_players()
    judge = nn.Sequential(discriminator, nn.Sigmoid())
    criterion = nn.BCELoss()

    def step(real_images):
        discriminator.zero_grad(set_to_none=False)
        labels = torch.full((batch_size,), 1.0)  # allocated every step
        real_loss = criterion(judge(real_images), labels)
        real_loss.backward()
        fake_images = generator(torch.randn(batch_size, generator.latent_dim))
        labels.fill_(0.0)
        fake_loss = criterion(judge(fake_images.detach()), labels)
        fake_loss.backward()
        d_optimizer.step()
        generator.zero_grad(set_to_none=False)
        labels.fill_(1.0)
        g_loss = criterion(judge(fake_images), labels)  # D's weight gradients computed too (D not frozen)
        g_loss.backward()
        g_optimizer.step()
    return step


def course_step_factory(batch_size: int, precision: str = "fp32", fused: bool = True, channels_last: bool = True):
    """The course's step as ``image_gan.train_image_gan`` runs it (the defaults), or with one lever removed."""
    generator, discriminator, g_optimizer, d_optimizer = make_players(channels_last=channels_last, fused=fused)
    rng = torch.Generator().manual_seed(SEED)

    def step(real_images):
        if channels_last:
            real_images = real_images.contiguous(memory_format=torch.channels_last)
        gan.train_step(generator, discriminator, g_optimizer, d_optimizer, real_images, rng=rng,
                       precision=precision)
    return step


def two_pass_step_factory(batch_size: int):
    """The course's step before ``train_step``: D step on no-grad fakes, then a G step on freshly generated ones."""
    generator, discriminator, g_optimizer, d_optimizer = make_players()
    rng = torch.Generator().manual_seed(SEED)

    def step(real_images):
        gan.discriminator_step(generator, discriminator, d_optimizer, real_images, rng=rng)
        gan.generator_step(generator, discriminator, g_optimizer, batch_size, rng=rng)
    return step


def lean_step_factory(batch_size: int, concatenate=False, freeze=False, set_to_none=False, channels_last=False):
    """Logits + BCE-with-logits (softplus form), one generated batch reused; each lever switchable."""
    batch_norm = not concatenate  # one pass over real+fake would mix their BatchNorm statistics
    generator, discriminator, g_optimizer, d_optimizer = make_players(batch_norm, channels_last)

    def step(real_images):
        fake_images = generator(torch.randn(batch_size, generator.latent_dim))
        if concatenate:
            logits = discriminator(torch.cat([real_images, fake_images.detach()]))  # (2B,)
            real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
        else:
            real_logits, fake_logits = discriminator(real_images), discriminator(fake_images.detach())
        d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        d_optimizer.zero_grad(set_to_none=set_to_none)
        d_loss.backward()
        d_optimizer.step()
        context = gan.frozen(discriminator) if freeze else torch.enable_grad()
        with context:
            g_loss = F.softplus(-discriminator(fake_images)).mean()
        g_optimizer.zero_grad(set_to_none=set_to_none)
        g_loss.backward()
        g_optimizer.step()
    return step


COURSE = "course step (as train_image_gan runs it)"


def variants(batch_size: int, with_bf16: bool) -> dict:
    course_precision = gan.resolve_precision("auto") if with_bf16 else "fp32"
    table = {
        "tutorial reference (Sigmoid+BCELoss, D unfrozen)": tutorial_step_factory(batch_size),
        COURSE: course_step_factory(batch_size, course_precision),
        "course step forced to precision='fp32'": course_step_factory(batch_size, "fp32"),
    }
    table.update({
        "lever: train_step alone (fp32, plain Adam, default format)": course_step_factory(
            batch_size, fused=False, channels_last=False),
        "lever: train_step + fused Adam (fp32)": course_step_factory(batch_size, channels_last=False),
        "lever: train_step + channels_last (fp32)": course_step_factory(batch_size, fused=False),
        "lever: train_step + bf16 autocast alone": course_step_factory(batch_size, "bf16", fused=False,
                                                                       channels_last=False),
        "lever: D step + G step, G run twice (no shared batch)": two_pass_step_factory(batch_size),
        "lean: logits + BCE-with-logits": lean_step_factory(batch_size),
        "lean + frozen D in G step": lean_step_factory(batch_size, freeze=True),
        "lean + frozen D + set_to_none": lean_step_factory(batch_size, freeze=True, set_to_none=True),
        "lean + frozen D + set_to_none + concat (D without BN)": lean_step_factory(
            batch_size, concatenate=True, freeze=True, set_to_none=True),
    })
    return table


def measure(batch_size: int, steps: int, repeats: int, with_bf16: bool) -> list[dict]:
    rng = torch.Generator().manual_seed(SEED)
    real = torch.rand(steps * batch_size, 1, 28, 28, generator=rng) * 2 - 1
    batches = list(real.split(batch_size))
    steps_by_name = variants(batch_size, with_bf16)
    for step in steps_by_name.values():  # warm-up: allocator, MKL-DNN primitives
        for batch in batches[:3]:
            step(batch)
    blocks = {name: [] for name in steps_by_name}
    for _ in range(repeats):
        for name, step in steps_by_name.items():
            start = time.perf_counter()
            for batch in batches:
                step(batch)
            blocks[name].append(time.perf_counter() - start)
    reference = statistics.median(blocks[next(iter(blocks))])
    rows = []
    for name, times in blocks.items():
        median = statistics.median(times)
        rows.append({"variant": name, "images_per_s": steps * batch_size / median,
                     "ratio_vs_tutorial": reference / median, "median_block_s": median, "blocks": len(times)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few steps, one repeat (smoke test)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=None, help="steps per timed block (default 20, quick 3)")
    parser.add_argument("--repeats", type=int, default=None, help="blocks per variant (default 5, quick 1)")
    parser.add_argument("--no-bf16", action="store_true",
                        help="time the course step in fp32 even where precision='auto' would pick bf16")
    args = parser.parse_args(argv)
    steps = args.steps or (3 if args.quick else 20)
    repeats = args.repeats or (1 if args.quick else 5)
    threads = runtime.set_threads()
    with_bf16 = not args.no_bf16
    rows = measure(args.batch_size, steps, repeats, with_bf16)
    machine = {"machine": platform.processor() or platform.machine(), "threads": threads, "torch": torch.__version__,
               "course_precision": "fp32" if args.no_bf16 else gan.resolve_precision("auto"),
               "batch_size": args.batch_size, "steps_per_block": steps, "repeats": repeats, "seed": SEED}
    if args.json:
        for row in rows:
            print(json.dumps({**machine, **row}))
        return 0
    print(f"DCGAN training-step speed — {runtime.describe()}; batch {args.batch_size}, {steps} steps x {repeats} "
          f"round-robin blocks, seed {SEED}, median block")
    width = max(len(r["variant"]) for r in rows)
    print(f"{'variant':{width}}  {'images/s':>9}  {'vs tutorial':>11}")
    for row in rows:
        print(f"{row['variant']:{width}}  {row['images_per_s']:9.0f}  {row['ratio_vs_tutorial']:10.2f}x")
    course = next(row for row in rows if row["variant"] == COURSE)["ratio_vs_tutorial"]
    precision = "fp32" if args.no_bf16 else gan.resolve_precision("auto")
    print(f"# course step precision here: {precision} (ImageGANConfig(precision='auto') picks bf16 only "
          f"where bfloat16 runs natively: {'yes' if gan.bf16_is_fast() else 'no'} on this machine)")
    print(f"# target: course step >= {TARGET_RATIO}x the tutorial loop -> {course:.2f}x, "
          f"{'met' if course >= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
