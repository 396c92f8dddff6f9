"""Mode coverage of named lab recipes over several seeds, in the PacGAN protocol (2,500 samples, 3σ, reverse KL).

    python benchmarks/mode_coverage.py                 # every recipe, both targets, 10 seeds
    python benchmarks/mode_coverage.py --quick         # seconds-long smoke run (1 seed, few steps)
    python benchmarks/mode_coverage.py --json          # one JSON object per row
    python benchmarks/mode_coverage.py --workers 2     # seeds in parallel processes (1 thread each)

Published anchors (PacGAN, Lin et al. 2018, Table 1, best rows): ring 7.9 modes / 98.2 % / rKL 0.07;
grid 24.8 / 95.7 % / 0.04. Target for the course recipe: ring 8.0 / >= 97 % / <= 0.02 and grid 25.0 / >= 96 % /
<= 0.02 within 20,000 G steps per run on 2 CPU cores.

Recipes (``lab.PRESETS``): ``vanilla`` is the lab's collapse preset; ``pacgan-ema`` packs 4 samples for D, uses
batch 512, a 3-layer G, a learning rate decaying to 0 and samples from an exponential moving average of G's weights
(``LabConfig.ema``); ``course-best`` adds a Fourier-feature D whose frequencies open coarse-to-fine over the whole
run of 20,000 steps (learning-rate decay over the last 10,000) and an energy-distance term of weight 100 in G's loss
(``LabConfig.energy_weight``), which keeps the modes equally full while D sharpens. ``no-energy`` is ``course-best``
with ``energy_weight=0``, the ablation that shows what the energy term adds. A full default run (all recipes, both
targets, 10 seeds, 2 workers) takes about 45 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from gan_course import lab, runtime

# recipe -> (preset, G steps per run, changes to the preset)
RECIPES = {
    "vanilla": ("collapse", 2000, {}),
    "pacgan-ema": ("pacgan-ema", 8000, {}),
    "course-best": ("course-best", 20000, {}),
    "no-energy": ("course-best", 20000, {"energy_weight": 0.0}),  # ablation: course-best without the energy term
}
TARGETS = ("ring-8", "grid-25")


def run_one(recipe: str, target: str, seed: int, steps: int) -> dict:
    """Train one recipe on one target from one seed; return its final mode metrics and wall time."""
    torch.set_num_threads(1)
    preset_name, _, changes = RECIPES[recipe]
    config = lab.preset(preset_name, target=target, seed=seed, eval_every=max(steps, 1), **changes)
    run = lab.ModeCollapseLab(config)
    start = time.perf_counter()
    run.step(steps)
    result = run.metrics()
    return {**result, "seconds": time.perf_counter() - start, "paused": run.paused_reason is not None}


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error; a run with no high-quality sample (reverse KL = inf) makes the mean inf."""
    if not all(math.isfinite(v) for v in values):
        return math.inf, 0.0
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


def summarise(recipe: str, target: str, steps: int, runs: list[dict]) -> dict:
    row = {"recipe": recipe, "target": target, "seeds": len(runs), "steps": steps}
    for key in ("modes", "high_quality", "reverse_kl", "seconds"):
        mean, se = mean_se([float(r[key]) for r in runs])
        row[key], row[f"{key}_se"] = mean, se
    row["paused_runs"] = sum(r["paused"] for r in runs)
    return row


def format_row(row: dict) -> str:
    rkl = "inf" if math.isinf(row["reverse_kl"]) else f"{row['reverse_kl']:.3f} ± {row['reverse_kl_se']:.3f}"
    return (f"{row['recipe']:12s} {row['target']:8s} {row['modes']:5.2f} ± {row['modes_se']:.2f}  "
            f"{row['high_quality']:5.1f} ± {row['high_quality_se']:3.1f}  {rkl:>15s}  {row['steps']:6d}  "
            f"{row['seconds']:7.1f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seeds", type=int, default=None, help="seeds per row (default 10, 1 with --quick)")
    parser.add_argument("--steps", type=int, default=None, help="override every recipe's G steps")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes, one thread each")
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    parser.add_argument("--per-seed", action="store_true", help="also print each run's metrics as it finishes")
    args = parser.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 10)
    if seeds < 1 or args.workers < 1:
        parser.error(f"--seeds and --workers must be >= 1, got {seeds} and {args.workers}")
    torch.set_num_threads(1)
    plan = []
    for recipe in args.recipes:
        steps = args.steps or (100 if args.quick else RECIPES[recipe][1])
        for target in args.targets:
            plan.append((recipe, target, steps))
    jobs = [(recipe, target, seed, steps) for recipe, target, steps in plan for seed in range(seeds)]
    header = (f"# machine: {runtime.describe()} (1 thread per run, {args.workers} worker(s))"
              f"{' -- quick smoke run' if args.quick else ''}\n"
              f"# seeds 0..{seeds - 1}; 2,500 samples per evaluation; metrics after the last step; mean ± s.e.")
    if not args.json:
        print(header)
    start = time.perf_counter()
    if not args.json:
        print(f"{'recipe':12s} {'target':8s} {'modes':>11s}  {'% HQ':>11s}  {'reverse KL':>15s}  {'steps':>6s}  "
              f"{'s/run':>7s}", flush=True)
    pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        results = pool.map(run_one, *zip(*jobs)) if pool else (run_one(*job) for job in jobs)
        runs: list = []
        for job, result in zip(jobs, results):  # rows are printed as soon as all their seeds are done
            runs.append(result)
            if args.per_seed:
                seed_row = {"recipe": job[0], "target": job[1], "seed": job[2], "steps": job[3], **result}
                print(json.dumps(seed_row) if args.json else
                      f"#   seed {job[2]}: {job[0]} {job[1]} modes {result['modes']}  HQ {result['high_quality']:.1f} %  "
                      f"rKL {result['reverse_kl']:.3f}  {result['seconds']:.0f} s", flush=True)
            if len(runs) == seeds:
                row = summarise(job[0], job[1], job[3], runs)
                print(json.dumps(row) if args.json else format_row(row), flush=True)
                runs = []
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    if not args.json:
        print(f"# total wall time {time.perf_counter() - start:.0f} s; pacgan-ema, course-best and no-energy sample "
              f"from the EMA of G's weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
