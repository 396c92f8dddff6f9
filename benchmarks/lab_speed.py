"""Speed of the Mode Collapse Lab as ratios measured in one run (absolute rates differ by machine).

    python benchmarks/lab_speed.py            # about a minute
    python benchmarks/lab_speed.py --quick    # about 20 s
    python benchmarks/lab_speed.py --json     # one JSON object

On the ``collapse`` preset, seed 0: engine (``ModeCollapseLab.step`` against a plain-PyTorch loop of the same GAN,
target ≥ 0.9×), live (the widget's Play loop: ≥ 12 redraws/s at ≥ 0.6× the headless rate), collapse (seconds of Play
until the lab flags a collapse).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from gan_course.core import runtime
from gan_course.training import lab
from gan_course.data import toy2d

GOALS = {"engine / plain": 0.9, "live / headless": 0.6, "redraws per s": 12.0}


def plain_loop():
    """The same GAN in plain PyTorch: returns a function that runs n G steps."""
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    discriminator = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2),
                                  nn.Linear(128, 1))
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ring = toy2d.get("ring-8")
    rng = torch.Generator().manual_seed(0)

    def run(n: int) -> None:
        for _ in range(n):
            real = ring.sample(256, rng)
            with torch.no_grad():
                fake = generator(torch.randn(256, 2, generator=rng))
            d_loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()
            d_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()
            g_loss = F.softplus(-discriminator(generator(torch.randn(256, 2, generator=rng)))).mean()
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()
    return run


def rate(run, seconds: float, chunk: int = 25) -> float:
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run(chunk)
        steps += chunk
    return steps / (time.perf_counter() - start)


def measure(seconds: float, rounds: int) -> dict:
    """Steps/s of the engine, the plain loop and the live view, each timed in ``rounds`` alternating slices so that
    machine noise hits all three alike; redraws/s of the live view."""
    from gan_course.widgets import mode_collapse_lab
    engine = lab.ModeCollapseLab(lab.preset("collapse", eval_every=10**9))
    plain = plain_loop()
    ui = mode_collapse_lab.mode_collapse_lab("collapse")
    engine.step(50)
    plain(50)
    ui.burst()  # warm-up: first calls allocate
    totals = {"engine": 0.0, "plain": 0.0, "live": 0.0, "redraws": 0.0, "live_seconds": 0.0}
    share = seconds / rounds
    for _ in range(rounds):
        totals["engine"] += rate(engine.step, share) * share
        totals["plain"] += rate(plain, share) * share
        steps, start = ui.lab.step_count, time.perf_counter()
        while time.perf_counter() - start < share:
            ui.burst()
            totals["redraws"] += 1
        totals["live_seconds"] += time.perf_counter() - start
        totals["live"] += ui.lab.step_count - steps
    return {"engine": totals["engine"] / seconds, "plain": totals["plain"] / seconds,
            "live": totals["live"] / totals["live_seconds"],
            "redraws_per_s": totals["redraws"] / totals["live_seconds"]}


def seconds_to_collapse(limit: float) -> dict:
    from gan_course.widgets import mode_collapse_lab
    ui = mode_collapse_lab.mode_collapse_lab("collapse")
    start = time.perf_counter()
    while ui.lab.collapse_step is None and time.perf_counter() - start < limit:
        ui.burst()
    return {"seconds": time.perf_counter() - start, "step": ui.lab.collapse_step}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=None, help="seconds per measurement (default 12, quick 4)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runtime.set_threads()
    seconds = args.seconds or (4.0 if args.quick else 12.0)
    rates = measure(seconds, rounds=4)
    engine, plain = rates["engine"], rates["plain"]
    shown = {"steps_per_s": rates["live"], "redraws_per_s": rates["redraws_per_s"]}
    collapse = seconds_to_collapse(limit=120.0)
    ratios = {"engine / plain": engine / plain, "live / headless": shown["steps_per_s"] / engine,
              "redraws per s": shown["redraws_per_s"]}
    result = {"machine": runtime.describe(), "seed": 0, "preset": "collapse", "seconds_per_row": seconds,
              "steps_per_s": {"plain": plain, "engine": engine, "live": shown["steps_per_s"]},
              "ratios": ratios, "meets": {k: ratios[k] >= v for k, v in GOALS.items()},
              "play_to_collapse": collapse}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"# machine: {result['machine']}; collapse preset, seed 0, {seconds:g} s per measurement")
    print(f"# steps/s: plain {plain:.0f}, engine {engine:.0f}, live {shown['steps_per_s']:.0f}")
    print(f"{'measure':18s} {'value':>7s}  goal")
    for name, goal in GOALS.items():
        verdict = "meets" if ratios[name] >= goal else "MISSES"
        print(f"{name:18s} {ratios[name]:7.2f}  >= {goal:g} ({verdict})")
    step = collapse["step"]
    print(f"{'Play to collapse':18s} {collapse['seconds']:6.1f}s  " +
          (f"flagged at G step {step}" if step is not None else "no collapse flagged within the limit"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
