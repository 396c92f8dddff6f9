"""Speed of the Mode Collapse Lab: G steps per second headless, and while the live view redraws.

    python benchmarks/lab_speed.py            # about 20 s
    python benchmarks/lab_speed.py --quick    # a few seconds
    python benchmarks/lab_speed.py --json     # one JSON object per row

Setup: 2×128 MLPs for G and D, batch 256, non-saturating loss, one D step per G step (the ``collapse`` preset).
"live" repeats the widget's Play burst (``ModeCollapseLabWidget.train_burst``: ``burst`` G steps, then the
redraw path: metrics on 2,500 samples, D heat map, gradient arrows, artist updates, PNG through the Agg canvas),
headless. Targets: >= 400 steps/s headless; >= 8 redraws/s while still training >= 200 steps/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from gan_course import lab, runtime

TARGETS = {"headless": {"steps_per_s": 400}, "live": {"steps_per_s": 200, "redraws_per_s": 8}}


def headless(seconds: float) -> dict:
    run = lab.ModeCollapseLab(lab.preset("collapse", eval_every=10**9))
    run.step(20)  # warm-up: first calls allocate
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run.step(50)
        steps += 50
    elapsed = time.perf_counter() - start
    return {"mode": "headless", "steps_per_s": steps / elapsed, "redraws_per_s": 0.0, "seconds": elapsed}


def live(seconds: float, burst: int) -> dict:
    from gan_course.widgets import mode_collapse_lab
    ui = mode_collapse_lab.ModeCollapseLabWidget(lab.preset("collapse"), burst=burst)
    ui.train_burst()  # warm-up
    steps, redraws, start = ui.lab.step_count, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        ui.train_burst()
        redraws += 1
    elapsed = time.perf_counter() - start
    return {"mode": f"live, burst {burst}", "steps_per_s": (ui.lab.step_count - steps) / elapsed,
            "redraws_per_s": redraws / elapsed, "seconds": elapsed}


def verdict(row: dict) -> str:
    goal = TARGETS["headless" if row["mode"] == "headless" else "live"]
    ok = all(row[key] >= value for key, value in goal.items())
    return ("meets " if ok else "misses ") + ", ".join(f"{k.replace('_per_s', '/s')} >= {v}" for k, v in goal.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=None, help="seconds per measurement (default 6, quick 1)")
    parser.add_argument("--bursts", type=int, nargs="+", default=[25, 50], help="G steps per redraw in live mode")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runtime.set_threads()
    seconds = args.seconds or (1.0 if args.quick else 6.0)
    rows = [headless(seconds)] + [live(seconds, burst) for burst in args.bursts]
    if not args.json:
        print(f"# machine: {runtime.describe()}; 2x128 MLPs, batch 256, {seconds:g} s per row")
        print(f"{'mode':16s} {'steps/s':>8s} {'redraws/s':>10s}  target")
    for row in rows:
        row["verdict"] = verdict(row)
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['mode']:16s} {row['steps_per_s']:8.0f} {row['redraws_per_s']:10.1f}  {row['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
