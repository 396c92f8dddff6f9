"""House rules for the committed notebooks: shape of a lesson, checked outputs that can fail, small files."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def readme_budgets() -> dict:
    """Lesson number -> full-mode minutes, from the README lesson map rows `| 03 | ... | N min |`."""
    budgets = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\|\s*(\d\d)\s*\|.*\|\s*(\d+)\s*min\s*\|\s*$", line)
        if match:
            budgets[match.group(1)] = int(match.group(2))
    return budgets


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_shape(path):
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {path.name[:2]} "), \
        "the first cell must be the lesson title '# NN · Title'"
    for heading in ("## Learning goals", "## Summary", "## Exercises", "## References"):
        assert heading in markdown, f"{path.name} lacks a '{heading}' section"
    budget = re.search(r"\*\*Time budget:\*\* about (\d+) min", first.source)
    assert budget, "the first cell must state '**Time budget:** about N min in full mode'"
    assert readme_budgets().get(path.name[:2]) == int(budget.group(1)), \
        f"{path.name} states {budget.group(1)} min but the README lesson map says {readme_budgets().get(path.name[:2])}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "seed_everything" in code, "the setup cell must seed through runtime.seed_everything"
    for bad in ("TODO", "FIXME", "NotImplementedError", "import *", "torchvision"):
        assert bad not in code + markdown, f"{path.name} contains {bad!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_only_where_checked(path):
    nb = nbformat.read(path, as_version=4)
    checked = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if CHECK_MARK in cell.source:
            checked += 1
            assert cell.outputs and cell.execution_count, \
                f"cell {index} is marked {CHECK_MARK} but has no committed output: nbval would compare nothing"
        else:
            assert not cell.outputs, f"cell {index} has committed output but is not checked; run tools/nbtool.py"
    assert checked >= 2, f"{path.name} checks only {checked} outputs; mark the deterministic results"
    assert path.stat().st_size < 400_000, f"{path.name} is {path.stat().st_size // 1000} kB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_has_a_why_before_and_an_observation_after(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            assert index > 0 and cells[index - 1].cell_type == "markdown", f"code cell {index} has no 'why' before it"
            assert index + 1 < len(cells) and cells[index + 1].cell_type == "markdown", \
                f"code cell {index} has no 'what we observe' after it"
