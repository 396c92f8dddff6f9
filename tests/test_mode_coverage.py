"""benchmarks/mode_coverage.py and gan_course.evaluation.mode_coverage: recipes, PacGAN's Table 1 row by row, stored rows."""

import json
import math
import runpy
from pathlib import Path

import pytest

from gan_course.training import lab
from gan_course.evaluation import mode_coverage as mc

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "mode_coverage.py"
PACGAN_ROWS = ["GAN", "ALI", "Minibatch Disc.", "PacGAN2", "PacGAN3", "PacGAN4"]


def _main(argv):
    return runpy.run_path(str(SCRIPT))["main"](argv)


def test_pacgan_table1_has_all_six_rows_per_target_and_no_best_of_column_anchor():
    assert set(mc.PACGAN_TABLE1) == set(mc.TARGETS)
    for target, most in (("ring-8", 8), ("grid-25", 25)):
        rows = mc.PACGAN_TABLE1[target]
        assert list(rows) == PACGAN_ROWS
        for modes, quality, rkl in rows.values():
            assert 0 < modes <= most and 0 < quality <= 100 and rkl >= 0
    assert mc.PACGAN_TABLE1["grid-25"]["PacGAN4"] == (24.8, 93.6, 0.04)
    assert mc.PACGAN_TABLE1["ring-8"]["PacGAN2"] == (7.9, 95.6, 0.07)
    assert mc.PACGAN_TABLE1_SE["grid-25"]["PacGAN4"] == (0.2, 0.6, 0.01)
    assert all(list(mc.PACGAN_TABLE1_SE[t]) == PACGAN_ROWS for t in mc.TARGETS)
    for source in (SCRIPT, Path(mc.__file__)):
        assert "anchor" not in source.read_text().lower(), f"{source}: compare row by row, not best-of-column"


def test_every_recipe_builds_a_valid_config_and_says_what_it_is():
    for name, (_, steps, _, kind, description) in mc.RECIPES.items():
        config = mc.config_for(name, "grid-25", seed=3)
        assert config.seed == 3 and config.target == "grid-25" and steps > 0 and description
        assert kind in mc.KINDS
        assert (kind == "gan") == (config.energy_weight == 0 and config.gan_weight > 0), name
        assert (kind == "energy-only") == (config.gan_weight == 0), name
    assert mc.config_for("hybrid", "ring-8").energy_weight > 0
    assert mc.config_for("no-energy", "ring-8") == mc.config_for("hybrid", "ring-8").replace(energy_weight=0.0)


def test_a_bad_recipe_name_errors_with_the_allowed_names(capsys):
    with pytest.raises(ValueError, match=r"unknown recipe 'magic'; choose one of \['vanilla'"):
        mc.check_recipe("magic")
    with pytest.raises(SystemExit):
        _main(["--recipes", "magic"])
    err = capsys.readouterr().err
    assert "unknown recipe(s) ['magic']" in err and "'hybrid'" in err
    with pytest.raises(ValueError, match="unknown target"):
        mc.config_for("vanilla", "ring-9")


def test_quick_run_prints_a_row_and_stores_nothing(capsys, tmp_path):
    assert _main(["--quick", "--recipes", "vanilla", "energy-only", "--targets", "ring-8", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "quick smoke run" in out and out.count("ring-8") >= 2
    with pytest.raises(SystemExit):
        _main(["--quick", "--out", str(tmp_path)])


def _fake_runs(seeds, modes=8):
    return [{"seed": s, "modes": modes, "high_quality": 90.0 + s, "reverse_kl": 0.01 * s, "seconds": 1.0,
             "paused": False} for s in seeds]


def test_rows_are_stored_per_seed_merged_in_pieces_and_printed_beside_pacgan(tmp_path, capsys):
    mc.save_runs(tmp_path, "vanilla", "ring-8", _fake_runs(range(5)))
    record = mc.save_runs(tmp_path, "vanilla", "ring-8", _fake_runs(range(5, 10)))
    assert [run["seed"] for run in record["runs"]] == list(range(10))
    assert record["summary"]["seeds"] == 10 and record["summary"]["high_quality"] == pytest.approx(94.5)
    assert record["config"] == mc.config_for("vanilla", "ring-8").to_dict() and record["threads"] == 1
    for key in ("machine", "git_commit", "measured_at", "steps", "kind", "pure_adversarial"):
        assert key in record
    replaced = mc.save_runs(tmp_path, "vanilla", "ring-8", _fake_runs(range(2)), steps=10)
    assert replaced["summary"]["seeds"] == 2, "another step count starts the row over"
    mc.save_runs(tmp_path, "vanilla", "ring-8", _fake_runs(range(10)))
    mc.save_runs(tmp_path, "energy-only", "grid-25", _fake_runs(range(10), modes=25))
    rows = mc.load_rows(tmp_path)
    assert [(r["recipe"], r["target"]) for r in rows] == [("vanilla", "ring-8"), ("energy-only", "grid-25")]
    table = mc.format_table(rows)
    for name in PACGAN_ROWS:
        assert sum(line.startswith(name + " ") for line in table.splitlines()) == 2, name
    assert "8.00 ± 0.00" in table and "25.00 ± 0.00" in table
    assert _main(["--table", "--dir", str(tmp_path)]) == 0
    assert "PacGAN4" in capsys.readouterr().out
    assert _main(["--table", "--markdown", "--dir", str(tmp_path)]) == 0
    assert "| PacGAN Table 1: PacGAN4 | published |" in capsys.readouterr().out


def test_a_run_without_high_quality_samples_makes_the_row_infinite_and_says_so():
    runs = _fake_runs(range(3))
    runs[1]["reverse_kl"] = math.inf
    summary = mc.summarise(runs)
    assert math.isinf(summary["reverse_kl"]) and summary["runs_without_hq"] == 1
    assert "inf (1 no HQ)" in mc.format_row({"recipe": "x", "target": "ring-8", "kind": "gan", "steps": 1,
                                             "summary": summary})


@pytest.mark.parametrize("path", sorted(mc.RESULTS_DIR.glob("*__*.json")), ids=lambda p: p.stem)
def test_stored_rows_hold_ten_seeds_of_the_current_recipe(path):
    row = json.loads(path.read_text())
    assert row["recipe"] in mc.RECIPES, f"{path.name}: recipe no longer defined"
    assert [run["seed"] for run in row["runs"]] == list(range(10)), "every stored row: seeds 0..9"
    assert mc.stored_config_matches(row["config"], row["recipe"], row["target"]), "stored with another config"
    assert row["steps"] == mc.RECIPES[row["recipe"]][1] and row["threads"] == 1
    assert row["kind"] == mc.RECIPES[row["recipe"]][3] and row["git_commit"]


def test_a_stored_config_matches_through_its_old_names_and_only_when_equal(tmp_path):
    new = mc.config_for("ema", "ring-8").to_dict()
    old = {k: v for k, v in new.items() if k not in ("betas", "steps", "warmup_steps", "precision")}
    old.update(beta1=0.5, beta2=0.999)  # as files stored before GANConfig spell it
    assert mc.stored_config_matches(old, "ema", "ring-8") and mc.stored_config_matches(new, "ema", "ring-8")
    for changes in (dict(beta1=0.6), dict(beta2=0.99), dict(ema=0.99), dict(decay_floor=0.1), dict(seed=1),
                    dict(mystery=1), dict(loss="nope")):
        assert not mc.stored_config_matches({**old, **changes}, "ema", "ring-8"), changes
    assert not mc.stored_config_matches(old, "ema", "grid-25") and not mc.stored_config_matches(None, "ema", "ring-8")
    assert len(list(mc.RESULTS_DIR.glob("*__*.json"))) >= 20, f"no stored rows found in {mc.RESULTS_DIR}"
    path = mc.save_runs(tmp_path, "ema", "ring-8", _fake_runs(range(5)))
    stored = json.loads(mc.result_path(tmp_path, "ema", "ring-8").read_text())
    mc.result_path(tmp_path, "ema", "ring-8").write_text(json.dumps({**stored, "config": old}))
    assert path["summary"]["seeds"] == 5
    assert mc.save_runs(tmp_path, "ema", "ring-8", _fake_runs(range(5, 10)))["summary"]["seeds"] == 10
    mc.result_path(tmp_path, "ema", "ring-8").write_text(json.dumps({**stored, "config": {**old, "beta1": 0.6}}))
    assert mc.save_runs(tmp_path, "ema", "ring-8", _fake_runs(range(5, 10)))["summary"]["seeds"] == 5


def test_old_preset_name_still_runs():
    assert lab.preset("course-best") == lab.PRESETS["hybrid"]


def test_previous_rows_are_marked_and_a_stored_row_supersedes_them(tmp_path):
    assert {(r["recipe"], r["target"]) for r in mc.PREVIOUS_ROWS} == {("pacgan-ema", t) for t in mc.TARGETS}
    for row in mc.PREVIOUS_ROWS:
        assert row["previous"] and row["summary"]["seeds"] == 10 and row["kind"] == mc.RECIPES[row["recipe"]][3]
    table = mc.format_table([])
    assert "pacgan-ema*" in table and mc.PREVIOUS_NOTE in table and "22.10" in table
    mc.save_runs(tmp_path, "pacgan-ema", "ring-8", _fake_runs(range(10)))
    merged = mc.with_previous(mc.load_rows(tmp_path))
    pacgan = [r for r in merged if r["recipe"] == "pacgan-ema"]
    assert [(r["target"], r.get("previous", False)) for r in pacgan] == [("ring-8", False), ("grid-25", True)]
    assert "(previous, bc7762d)*" in mc.format_markdown([])
