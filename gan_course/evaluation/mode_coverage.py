"""Mode coverage of named lab recipes, row by row beside PacGAN's Table 1 (lesson 10, ``benchmarks/mode_coverage.py``).

A *row* is a recipe on a target over 10 seeds: the mean ± standard error of ``mode_metrics.mode_metrics`` after each
run's last G step. Kinds: ``gan`` (real data reaches G only through D), ``gan+energy`` (an energy-distance term in
G's loss, outside D: GMMN, Li, Swersky & Zemel, 2015; Cramér GAN, Bellemare et al., 2017) and ``energy-only`` (no D).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch

from gan_course.core import runtime
from gan_course.training import lab

TARGETS = ("ring-8", "grid-25")
FORMAT = 1
RESULTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "mode_coverage"
METRICS = ("modes", "high_quality", "reverse_kl")
VANILLA_STEPS = 2000

# PacGAN (Lin, Khetan, Fanti & Oh, NeurIPS 2018), Table 1: (modes, % high-quality samples, reverse KL), mean of 10
# trials (s.e. in ``PACGAN_TABLE1_SE``); about 400,000 updates each (github.com/fjxmlzn/PacGAN). As recalled from
# the paper by three readers (two agree on ring PacGAN3 rKL 0.10, PacGAN4 0.07); not re-checked against the PDF.
_PACGAN = {  # target -> row -> ((modes, s.e.), (% high quality, s.e.), (reverse KL, s.e.))
    "ring-8": {"GAN": ((6.3, 0.5), (98.2, 0.2), (0.45, 0.09)), "ALI": ((6.6, 0.3), (97.6, 0.4), (0.36, 0.04)),
               "Minibatch Disc.": ((4.3, 0.8), (36.6, 8.8), (1.93, 0.11)),
               "PacGAN2": ((7.9, 0.1), (95.6, 2.0), (0.07, 0.03)), "PacGAN3": ((7.8, 0.1), (97.7, 0.3), (0.10, 0.02)),
               "PacGAN4": ((7.8, 0.1), (95.9, 1.4), (0.07, 0.02))},
    "grid-25": {"GAN": ((17.3, 0.8), (94.8, 0.7), (0.70, 0.07)), "ALI": ((24.1, 0.4), (95.7, 0.6), (0.14, 0.03)),
                "Minibatch Disc.": ((23.8, 0.5), (79.9, 3.2), (0.17, 0.03)),
                "PacGAN2": ((23.8, 0.7), (91.3, 0.8), (0.13, 0.04)),
                "PacGAN3": ((24.6, 0.4), (94.2, 0.4), (0.06, 0.02)),
                "PacGAN4": ((24.8, 0.2), (93.6, 0.6), (0.04, 0.01))},
}
PACGAN_TABLE1 = {target: {name: tuple(mean for mean, _ in cells) for name, cells in rows.items()}
                 for target, rows in _PACGAN.items()}  # (modes, % HQ, reverse KL) means
PACGAN_TABLE1_SE = {target: {name: tuple(se for _, se in cells) for name, cells in rows.items()}
                    for target, rows in _PACGAN.items()}  # their standard errors
PACGAN_PROTOCOL = ("PacGAN Table 1 (Lin et al., 2018; as recalled, not re-checked against the PDF): mean ± s.e. of "
                   "10 trials, about 400,000 updates each (400 epochs of 100,000 samples, batch 100), G 4x400 "
                   "ReLU+BN, D 3x200 maxout; 2,500 samples, 3 sigma")


def _vanilla(steps: int = VANILLA_STEPS, **changes) -> tuple:
    return ("collapse", steps, changes)


# name -> (preset, G steps per run, changes to the preset, kind, what it is)
RECIPES: dict[str, tuple[str, int, dict, str, str]] = {
    "vanilla": (*_vanilla(), "gan", "non-saturating GAN, Adam 2e-4, batch 256, G and D 2 x 128 (the 'collapse' preset)"),
    # each single remedy on top of vanilla, same 2,000 G steps
    "lsgan": (*_vanilla(loss="lsgan"), "gan", "least-squares loss (the 'cure' preset)"),
    "wgan-gp": (*_vanilla(loss="wgan-gp", d_steps=3), "gan", "WGAN-GP loss, λ 10, 3 critic steps per G step"),
    "spectral-norm": (*_vanilla(spectral_norm=True), "gan", "spectral normalisation of D's layers"),
    "pack-4": (*_vanilla(pack=4), "gan", "PacGAN: D judges 4 samples jointly"),
    "minibatch-std": (*_vanilla(minibatch_std=True), "gan", "minibatch standard deviation feature in D"),
    "instance-noise": (*_vanilla(instance_noise=0.1, noise_anneal_steps=VANILLA_STEPS), "gan",
                       "instance noise std 0.1 on D's inputs, annealed to 0 over the run"),
    "lookahead-d": (*_vanilla(unrolled_steps=5), "gan",
                    "first-order look-ahead D: G steps against D 5 steps ahead, D's updates held fixed"),
    "unrolled-d": (*_vanilla(unrolled_steps=5, unrolled_mode="full"), "gan",
                   "full unrolled D (Metz et al., 2017): G's gradient through 5 differentiable D steps"),
    "ema": (*_vanilla(ema=0.999), "gan", "samples from an exponential moving average of G's weights (0.999)"),
    "lr-decay": (*_vanilla(decay_start=VANILLA_STEPS // 2, decay_steps=VANILLA_STEPS // 2), "gan",
                 "learning rates decayed linearly to 0 over the second half"),
    "fourier-d": (*_vanilla(fourier_features=32, fourier_anneal_steps=VANILLA_STEPS), "gan",
                  "Fourier features of D's input (32, scale 40), opened coarse-to-fine over the run"),
    "energy-term": (*_vanilla(energy_weight=100.0), "gan+energy",
                    "energy-distance term (weight 100) added to vanilla G's loss: a hybrid, not a GAN remedy"),
    "energy-only": (*_vanilla(energy_weight=100.0, gan_weight=0.0), "energy-only",
                    "no D: vanilla's G trained on 100 x energy distance alone (GMMN-style moment matching)"),
    # longer recipes
    "pacgan-ema": ("pacgan-ema", 8000, {}, "gan",
                   "pack 4, batch 512, G 3 x 128, EMA 0.999, lr decayed to 0 over steps 3,000-8,000"),
    "no-energy": ("hybrid", 20000, {"energy_weight": 0.0}, "gan",
                  "the hybrid without its energy term: pacgan-ema + Fourier-feature D opened over the run, 20,000 "
                  "steps, lr decay over the last 10,000 (best pure GAN before the moonshot)"),
    "adversarial-best": ("adversarial-best", 20000, {}, "gan",
                         "best pure GAN (moonshot): no-energy with the LSGAN loss and a minibatch-std feature in D"),
    "hybrid": ("hybrid", 20000, {}, "gan+energy",
               "GAN + energy-distance hybrid (was 'course-best'): no-energy + energy term of weight 100 in G's loss"),
}
KINDS = ("gan", "gan+energy", "energy-only")


def _previous(recipe, target, modes, hq, rkl):
    (m, m_se), (q, q_se), (r, r_se) = modes, hq, rkl
    return {"recipe": recipe, "target": target, "kind": RECIPES[recipe][3], "steps": RECIPES[recipe][1],
            "commit": "bc7762d", "previous": True,
            "summary": {"seeds": 10, "modes": m, "modes_se": m_se, "high_quality": q, "high_quality_se": q_se,
                        "reverse_kl": r, "reverse_kl_se": r_se, "seconds": None, "runs_without_hq": 0}}


# Rows measured at commit bc7762d, before the per-seed files (summaries only; that lab gives bit-identical
# trajectories). A stored file of the same recipe and target supersedes its previous row. (The `hybrid` and
# `no-energy` summaries of that commit were re-measured over seeds 0-9 on 2026-12-07, equal to the printed digits,
# and are stored rows now.)
PREVIOUS_ROWS = [
    _previous("pacgan-ema", "ring-8", (8.00, None), (88.3, None), (0.003, None)),
    _previous("pacgan-ema", "grid-25", (22.10, None), (11.8, None), (0.727, None)),
]


def with_previous(rows: list[dict]) -> list[dict]:
    """``rows`` plus the ``PREVIOUS_ROWS`` no stored row supersedes, in ``RECIPES`` order (``"previous": True``)."""
    stored = {(row["recipe"], row["target"]) for row in rows}
    extra = [row for row in PREVIOUS_ROWS if (row["recipe"], row["target"]) not in stored]
    order = {name: i for i, name in enumerate(RECIPES)}
    return sorted(rows + extra, key=lambda r: (order.get(r["recipe"], len(order)), r["recipe"],
                                               TARGETS.index(r["target"]) if r["target"] in TARGETS else 9))


def check_recipe(name: str) -> tuple:
    return runtime.lookup(RECIPES, name, "recipe")


def config_for(recipe: str, target: str, seed: int = 0) -> lab.LabConfig:
    """The LabConfig one run of ``recipe`` on ``target`` uses (metrics are taken once, after the last step)."""
    preset, steps, changes, _, _ = check_recipe(recipe)
    runtime.lookup(TARGETS, target, "target")
    return lab.preset(preset, target=target, seed=seed, eval_every=max(steps, 1), **changes)


def run_one(recipe: str, target: str, seed: int, steps: int | None = None) -> dict:
    """Train one seed of a recipe on a target; its final mode metrics, wall time and whether it paused (NaN)."""
    torch.set_num_threads(1)
    steps = check_recipe(recipe)[1] if steps is None else steps
    run = lab.ModeCollapseLab(config_for(recipe, target, seed))
    start = time.perf_counter()
    run.step(steps)
    result = run.metrics()
    return {"seed": seed, **result, "seconds": round(time.perf_counter() - start, 3),
            "paused": run.paused_reason is not None}


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (stdev / √n); a run with no high-quality sample (reverse KL = inf) makes it inf."""
    if not all(math.isfinite(v) for v in values):
        return math.inf, 0.0
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, se


def summarise(runs: list[dict]) -> dict:
    summary: dict = {"seeds": len(runs)}
    for key in (*METRICS, "seconds"):
        summary[key], summary[f"{key}_se"] = mean_se([float(r[key]) for r in runs])
    summary["paused_runs"] = sum(bool(r["paused"]) for r in runs)
    summary["runs_without_hq"] = sum(not math.isfinite(float(r["reverse_kl"])) for r in runs)  # rKL inf
    return summary


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def stored_config_matches(stored: dict, recipe: str, target: str) -> bool:
    """Whether a row file's ``config`` (older files spell Adam's betas ``beta1``/``beta2``) is the config
    ``recipe`` on ``target`` uses now (``config_for``, seed 0)."""
    try:
        return lab.LabConfig.from_dict(stored) == config_for(recipe, target)
    except (ValueError, TypeError):
        return False


def result_path(directory: str | Path, recipe: str, target: str) -> Path:
    return Path(directory) / f"{recipe}__{target}.json"


def save_runs(directory: str | Path, recipe: str, target: str, runs: list[dict], workers: int = 1,
              steps: int | None = None) -> dict:
    """Write (or merge into) the row file of (recipe, target): per-seed values, the config, machine and commit.

    Runs of the same steps and config are merged by seed; a file made with another config or step count is replaced.
    """
    preset, default_steps, changes, kind, description = check_recipe(recipe)
    steps = default_steps if steps is None else steps
    config = config_for(recipe, target).to_dict()
    path = result_path(directory, recipe, target)
    merged = {run["seed"]: run for run in runs}
    if path.exists():
        old = json.loads(path.read_text())
        if stored_config_matches(old.get("config"), recipe, target) and old.get("steps") == steps and old.get("format") == FORMAT:
            merged = {**{run["seed"]: run for run in old["runs"]}, **merged}
    ordered = [merged[seed] for seed in sorted(merged)]
    record = {"format": FORMAT, "recipe": recipe, "target": target, "steps": steps, "preset": preset,
              "changes": changes, "kind": kind, "pure_adversarial": kind == "gan", "description": description,
              "config": config, "runs": ordered, "summary": summarise(ordered),
              "machine": runtime.describe(), "cpu": platform.processor() or platform.machine(), "threads": 1,
              "workers": workers, "torch": torch.__version__, "git_commit": _git("rev-parse", "HEAD"),
              "git_dirty": bool(_git("status", "--porcelain", "--", "gan_course")),
              "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, path)
    return record


def load_rows(directory: str | Path = RESULTS_DIR) -> list[dict]:
    """Every stored row in ``directory`` (the file's dict), in ``RECIPES`` then target order (unknown recipes last)."""
    rows = []
    for path in sorted(Path(directory).glob("*__*.json")):
        row = json.loads(path.read_text())
        if row.get("format") != FORMAT:
            raise ValueError(f"{path}: format {row.get('format')!r}, expected {FORMAT}")
        row["summary"] = summarise(row["runs"])  # from the per-seed values, whatever the file's summary says
        rows.append(row)
    order = {name: i for i, name in enumerate(RECIPES)}
    return sorted(rows, key=lambda r: (order.get(r["recipe"], len(order)), r["recipe"],
                                       TARGETS.index(r["target"]) if r["target"] in TARGETS else len(TARGETS)))


def _cell(mean: float, se: float | None, digits: int, infinite_runs: int = 0) -> str:
    if math.isinf(mean):
        return f"inf ({infinite_runs} no HQ)"
    return f"{mean:.{digits}f}" if se is None else f"{mean:.{digits}f} ± {se:.{digits}f}"


def _pacgan_cells(target: str):
    """PacGAN's Table 1 rows for ``target`` as (name, modes, % high quality, reverse KL) cells, mean ± s.e."""
    for name, ((modes, modes_se), (quality, quality_se), (rkl, rkl_se)) in _PACGAN[target].items():
        yield name, _cell(modes, modes_se, 1), _cell(quality, quality_se, 1), _cell(rkl, rkl_se, 2)


def _seconds(row: dict) -> str:
    seconds = row["summary"]["seconds"]
    return "-" if seconds is None else f"{seconds:.1f}"


PREVIOUS_NOTE = ("* previous 10-seed measurement (benchmarks README at bc7762d): summary only, per-seed values not "
                 "stored; today's lab reproduces bc7762d's 300-step trajectories bit for bit")


def format_row(row: dict) -> str:
    s = row["summary"]
    name = f"{row['recipe']}*" if row.get("previous") else row["recipe"]
    return (f"{name:16s} {row['target']:8s} {row['kind']:11s} {_cell(s['modes'], s['modes_se'], 2):>13s}  "
            f"{_cell(s['high_quality'], s['high_quality_se'], 1):>12s}  "
            f"{_cell(s['reverse_kl'], s['reverse_kl_se'], 3, s.get('runs_without_hq', 0)):>15s}  {s['seeds']:5d}  {row['steps']:6d}  "
            f"{_seconds(row):>7s}")


HEADER = (f"{'recipe':16s} {'target':8s} {'kind':11s} {'modes':>13s}  {'% HQ':>12s}  {'reverse KL':>15s}  {'seeds':>5s}  "
          f"{'steps':>6s}  {'s/run':>7s}")


def format_table(rows: list[dict]) -> str:
    """The stored rows (and the previous rows they do not supersede) per target, then PacGAN's Table 1 rows for that
    target, as plain text."""
    rows, lines = with_previous(rows), []
    for target in TARGETS:
        mine = [row for row in rows if row["target"] == target]
        lines += [f"## {target}", HEADER] + [format_row(row) for row in mine]
        lines.append(f"-- {PACGAN_PROTOCOL}")
        for name, modes, quality, rkl in _pacgan_cells(target):
            lines.append(f"{name:16s} {target:8s} {'published':11s} {modes:>13s}  {quality:>12s}  {rkl:>15s}  "
                         f"{10:5d}  {'~400k':>6s}")
        lines.append("")
    if any(row.get("previous") for row in rows):
        lines.append(PREVIOUS_NOTE)
    machines = sorted({row["machine"] for row in rows if not row.get("previous")})
    commits = sorted({row["git_commit"][:7] for row in rows if not row.get("previous")})
    lines.append(f"# measured on: {'; '.join(machines) or '-'} (1 thread per run); commits {', '.join(commits) or '-'}")
    return "\n".join(lines)


def format_markdown(rows: list[dict]) -> str:
    """The stored rows (and the previous rows they do not supersede, marked) and PacGAN's Table 1 as one Markdown
    table per target (for READMEs and notes)."""
    rows, lines = with_previous(rows), []
    for target in TARGETS:
        lines += [f"**{target}** (10 seeds each, mean ± s.e.; PacGAN: mean ± s.e. of 10 trials, as recalled)", "",
                  "| recipe | kind | modes | % high quality | reverse KL | G steps | s/run |", "|---|---|---|---|---|---|---|"]
        for row in (r for r in rows if r["target"] == target):
            s = row["summary"]
            mark = " (previous, bc7762d)*" if row.get("previous") else ""
            lines.append(f"| `{row['recipe']}`{mark} | {row['kind']} | {_cell(s['modes'], s['modes_se'], 2)} | "
                         f"{_cell(s['high_quality'], s['high_quality_se'], 1)} | "
                         f"{_cell(s['reverse_kl'], s['reverse_kl_se'], 3, s.get('runs_without_hq', 0))} | "
                         f"{row['steps']:,} | {_seconds(row)} |")
        for name, modes, quality, rkl in _pacgan_cells(target):
            lines.append(f"| PacGAN Table 1: {name} | published | {modes} | {quality} | {rkl} | ~400,000 | |")
        lines.append("")
    if any(row.get("previous") for row in rows):
        lines.append(PREVIOUS_NOTE)
    return "\n".join(lines)
