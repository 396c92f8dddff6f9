"""Mode coverage of the lab's recipes over 10 seeds, row by row beside PacGAN's Table 1 (2,500 samples, 3σ, rKL).

    python benchmarks/mode_coverage.py --table                      # the stored rows beside PacGAN's, no training
    python benchmarks/mode_coverage.py --recipes vanilla lsgan --out benchmarks/results/mode_coverage
    python benchmarks/mode_coverage.py --recipes hybrid --targets grid-25 --seeds 5 --first-seed 5 --out ...
    python benchmarks/mode_coverage.py --quick                      # seconds-long smoke run (1 seed, 100 steps)
    python benchmarks/mode_coverage.py --json                       # one JSON object per row
    python benchmarks/mode_coverage.py --list                       # the recipes, what each is, its G steps

``--out DIR`` stores one JSON file per (recipe, target), merged by seed, so a row can be measured in pieces.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from gan_course.evaluation import mode_coverage as mc
from gan_course.core import runtime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=None, metavar="RECIPE",
                        help=f"recipes to run (default: all); one of {list(mc.RECIPES)}")
    parser.add_argument("--targets", nargs="+", default=list(mc.TARGETS), choices=list(mc.TARGETS))
    parser.add_argument("--seeds", type=int, default=None, help="seeds per row (default 10, 1 with --quick)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (seeds first .. first + seeds - 1)")
    parser.add_argument("--steps", type=int, default=None, help="override every recipe's G steps")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes, one thread each")
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (nothing is stored)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    parser.add_argument("--per-seed", action="store_true", help="also print each run's metrics as it finishes")
    parser.add_argument("--out", type=Path, default=None, help="store (merge) one JSON file per row here")
    parser.add_argument("--table", action="store_true", help="print the stored rows beside PacGAN's (no training)")
    parser.add_argument("--markdown", action="store_true", help="with --table: as the Markdown tables of the README")
    parser.add_argument("--dir", type=Path, default=mc.RESULTS_DIR, help="where --table reads the stored rows")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (preset, steps, changes, kind, description) in mc.RECIPES.items():
            print(f"{name:16s} {kind:11s} {steps:6d}  {preset} {changes}  {description}")
        return 0
    if args.table:
        rows = mc.load_rows(args.dir)
        print(mc.format_markdown(rows) if args.markdown else mc.format_table(rows))
        return 0
    recipes = args.recipes or list(mc.RECIPES)
    unknown = [name for name in recipes if name not in mc.RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; choose from {list(mc.RECIPES)}")
    seeds = args.seeds or (1 if args.quick else 10)
    if seeds < 1 or args.workers < 1 or args.first_seed < 0:
        parser.error(f"--seeds and --workers must be >= 1 and --first-seed >= 0, got {seeds}, {args.workers}, "
                     f"{args.first_seed}")
    if args.quick and args.out:
        parser.error("--quick runs are smoke tests; they are not stored (drop --out)")
    torch.set_num_threads(1)
    plan = [(recipe, target, args.steps or (100 if args.quick else mc.RECIPES[recipe][1]))
            for recipe in recipes for target in args.targets]
    jobs = [(recipe, target, seed, steps) for recipe, target, steps in plan
            for seed in range(args.first_seed, args.first_seed + seeds)]
    if not args.json:
        print(f"# machine: {runtime.describe()} (1 thread per run, {args.workers} worker(s))"
              f"{' -- quick smoke run' if args.quick else ''}\n"
              f"# seeds {args.first_seed}..{args.first_seed + seeds - 1}; 2,500 samples per evaluation; metrics "
              f"after the last step; mean ± s.e.\n{mc.HEADER}", flush=True)
    start = time.perf_counter()
    pool = ProcessPoolExecutor(args.workers) if args.workers > 1 else None
    try:
        results = pool.map(mc.run_one, *zip(*jobs)) if pool else (mc.run_one(*job) for job in jobs)
        runs: list = []
        for (recipe, target, seed, steps), result in zip(jobs, results):
            runs.append(result)
            if args.per_seed:
                print(json.dumps({"recipe": recipe, "target": target, "steps": steps, **result}) if args.json else
                      f"#   seed {seed}: {recipe} {target} modes {result['modes']}  HQ {result['high_quality']:.1f} %"
                      f"  rKL {result['reverse_kl']:.3f}  {result['seconds']:.0f} s", flush=True)
            if len(runs) < seeds:
                continue
            if args.out:
                record = mc.save_runs(args.out, recipe, target, runs, workers=args.workers, steps=steps)
            else:
                preset, _, changes, kind, description = mc.RECIPES[recipe]
                record = {"recipe": recipe, "target": target, "steps": steps, "kind": kind,
                          "runs": runs, "summary": mc.summarise(runs)}
            print(json.dumps(record) if args.json else mc.format_row(record), flush=True)
            runs = []
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    if not args.json:
        print(f"# total wall time {time.perf_counter() - start:.0f} s"
              f"{'; stored rows (all seeds so far) in ' + str(args.out) if args.out else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
