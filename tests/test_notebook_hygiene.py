"""House rules for the committed notebooks: shape of a lesson, checked outputs that can fail, small files."""

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
STUDY_TOLERANCE_MIN = 10  # a sentence or two of new prose moves the estimate well under this
PYPLOT_DRAWS = {"plot", "scatter", "imshow", "hist", "bar", "barh", "figure", "subplots", "contour", "contourf",
                "pcolormesh", "quiver", "errorbar", "fill_between", "step", "stem", "matshow"}
_spec = importlib.util.spec_from_file_location("nbtool", ROOT / "tools" / "nbtool.py")
nbtool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nbtool)


def readme_minutes(column: str) -> dict:
    """Lesson number -> minutes in one column ('full mode' or 'study') of the README lesson table."""
    columns, rows = nbtool.lesson_table((ROOT / "README.md").read_text())
    assert column in columns, f"the README lesson table has no '{column}' column (columns: {columns})"
    minutes = {}
    for number, (_, cells) in rows.items():
        match = re.fullmatch(r"(\d+)\s*min", cells[columns.index(column)]) if len(cells) == len(columns) else None
        if match:
            minutes[number] = int(match.group(1))
    return minutes


def readme_budgets() -> dict:
    """Lesson number -> full-mode minutes, from the README lesson table's 'full mode' column."""
    return readme_minutes("full mode")


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


def render_hint(path) -> str:
    return f"render it: `cpuslot ./course render notebooks/{path.name}`, then commit the notebook"


def shows_something(source: str) -> bool:
    """Whether a code cell should have output: it prints, displays or plots with pyplot, or its last line is an
    expression (not ending in ';'). Calls inside function and class bodies do not count."""
    code = TransformerManager().transform_cell(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
        return True
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("print", "display"):
                return True
            if isinstance(func, ast.Attribute) and (func.attr in ("show", "display") or (
                    isinstance(func.value, ast.Name) and func.value.id == "plt" and func.attr in PYPLOT_DRAWS)):
                return True
        todo.extend(ast.iter_child_nodes(node))
    return False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_render_is_current(path):
    """The committed notebook is a full-mode render of the code as it is now."""
    nb = nbformat.read(path, as_version=4)
    stamp = nb.metadata.get("gan_course", {}).get("render")
    assert stamp, f"{path.name} has never been rendered (no metadata.gan_course.render stamp); {render_hint(path)}"
    assert stamp.get("mode") == "full", f"{path.name} was rendered in {stamp.get('mode')!r} mode; {render_hint(path)}"
    assert stamp.get("checked_outputs_match") is True, (
        f"{path.name}: at its last render some '{CHECK_MARK}' cells printed different text in quick and full "
        f"mode (the render printed them). Make those cells print only what is the same in both modes, assert the "
        f"rest, and {render_hint(path)}")
    assert stamp.get("code_sha256") == nbtool.code_hash(nb), (
        f"{path.name}: code cells were edited after the last render, so the stored outputs may not be theirs; "
        f"{render_hint(path)}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_render_is_complete(path):
    """Every cell that prints, displays or plots shows its full-mode output; counts in order; no errors; small."""
    size = path.stat().st_size
    assert size <= nbtool.MAX_BYTES, (f"{path.name} is {size / 1e6:.2f} MB, over the 1.5 MB limit: shrink the "
                                      f"biggest outputs (fewer or smaller figures), then {render_hint(path)}")
    nb = nbformat.read(path, as_version=4)
    code = [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    counts = [cell.execution_count for _, cell in code]
    wrong = next((k for k, count in enumerate(counts, 1) if count != k), None)
    assert wrong is None, (f"{path.name}: execution counts must be 1..{len(code)} in code-cell order, but code "
                           f"cell {wrong} (cell {code[wrong - 1][0]}) has {counts[wrong - 1]}; {render_hint(path)}")
    errors = [index for index, cell in code if any(o.output_type == "error" for o in cell.outputs)]
    assert not errors, f"{path.name}: cells {errors} hold error output; fix them and {render_hint(path)}"
    setup = next((cell for _, cell in code if "runtime.describe()" in cell.source), None)
    assert setup is not None, f"{path.name}: the setup cell must print(runtime.describe())"
    assert "mode=full" in nbtool.output_text(setup), \
        f"{path.name}: the setup cell's stored output does not say mode=full; {render_hint(path)}"
    unchecked = [index for index, cell in code if CHECK_MARK in cell.source and not cell.outputs]
    assert not unchecked, (f"{path.name}: cells {unchecked} are marked {CHECK_MARK} but store no output, so the "
                           f"test run compares nothing; make them print, then {render_hint(path)}")
    silent = [index for index, cell in code if shows_something(cell.source) and not cell.outputs]
    assert not silent, (f"{path.name}: cells {silent} print, display, plot or end in an expression but store no "
                        f"output; {render_hint(path)} (if such a cell really shows nothing, end its last line "
                        f"with ';' or drop the print)")
    pictureless = [index for index, cell in code for output in cell.outputs
                   if "<Figure size" in "".join(output.get("data", {}).get("text/plain", ""))
                   and "image/png" not in output.get("data", {})]
    assert not pictureless, (f"{path.name}: cells {pictureless} store a figure's repr ('<Figure size ...>') but no "
                             f"picture: return a figure made through pyplot (plotting.new_figure) or display() it, "
                             f"then {render_hint(path)}")


def has_placeholder(source: str) -> bool:
    """Whether the code holds a literal `...` (the learner's placeholder)."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Constant) and node.value is Ellipsis for node in ast.walk(tree))


def exercise_problems(cells) -> list[str]:
    """What breaks the exercise shape (docs/AUTHORING.md, 'Exercises'); empty when every exercise fits."""
    heads = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Exercises" in c.source]
    if not heads:
        return ["no '## Exercises' section"]
    end = next((i for i, c in enumerate(cells) if i > heads[0] and c.cell_type == "markdown"
                and c.source.lstrip().startswith("## References")), len(cells))
    problems, numbers = [], []
    for k in range(heads[0] + 1, end):
        match = re.match(r"\s*\*\*(\d+)\.\*\*", cells[k].source) if cells[k].cell_type == "markdown" else None
        if not match:
            continue
        number = match.group(1)
        numbers.append(number)
        where = f"exercise **{number}.** (cell {k})"
        learner, solution_note, solution = (cells[k + j] if k + j < len(cells) else None for j in (1, 2, 3))
        if learner is None or learner.cell_type != "code":
            problems.append(f"{where}: the next cell must be the learner's code cell")
            continue
        if learner.metadata.get("jupyter", {}).get("source_hidden"):
            problems.append(f"{where}: the learner's cell (cell {k + 1}) must not be hidden")
        if not has_placeholder(learner.source):
            problems.append(f"{where}: the learner's cell (cell {k + 1}) needs a placeholder such as "
                            f"`answer_{number} = ...`")
        if not re.search(r"\bcheck_\w*\(", learner.source):
            problems.append(f"{where}: the learner's cell (cell {k + 1}) must call its checker, e.g. "
                            f"`check_{number}(answer_{number})` (built with exercises.checker)")
        if solution_note is None or solution_note.cell_type != "markdown" or \
                not solution_note.source.lstrip().startswith("**Solution**"):
            problems.append(f"{where}: cell {k + 2} must be the markdown "
                            f"'**Solution** (expand the hidden cell below).'")
        if solution is None or solution.cell_type != "code" or \
                not solution.metadata.get("jupyter", {}).get("source_hidden"):
            problems.append(f"{where}: cell {k + 3} must be the worked solution, a code cell with metadata "
                            '{"jupyter": {"source_hidden": true}}')
        elif not re.search(r"\bassert\s+check_\w*\(", solution.source):
            problems.append(f"{where}: the hidden solution (cell {k + 3}) must end in "
                            f"`assert check_{number}(answer_{number})`")
    if len(numbers) < 2:
        problems.append(f"the Exercises section has {len(numbers)} exercise(s) starting '**N.**'; write at least 2")
    experiments = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
                   and c.source.lstrip().startswith("**Open experiment.**")]
    if not experiments:
        problems.append("no open experiment: add a markdown cell starting '**Open experiment.**' (what to change, "
                        "what to look for) followed by a runnable code cell set to the lesson's default")
    for i in experiments:
        if i + 1 >= len(cells) or cells[i + 1].cell_type != "code":
            problems.append(f"the open experiment in cell {i} must be followed by its code cell")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_shape(path):
    """Question, learner's cell (placeholder + check_), '**Solution**', hidden worked solution; an open experiment."""
    problems = exercise_problems(nbformat.read(path, as_version=4).cells)
    assert not problems, f"{path.name} (see docs/AUTHORING.md, 'Exercises'):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_study_time_matches_the_lesson(path):
    """The README's study column stays within STUDY_TOLERANCE_MIN of tools/nbtool.py's estimate."""
    estimate = nbtool.study(nbformat.read(path, as_version=4))
    stated = readme_minutes("study").get(path.name[:2])
    assert stated is not None and abs(stated - estimate["minutes"]) <= STUDY_TOLERANCE_MIN, (
        f"{path.name}: the README lesson table says study {stated} min, the estimate is {estimate['minutes']:.0f} min "
        f"({estimate['prose_words']} prose words, {estimate['code_words']} code words, {estimate['exercises']} "
        f"exercises, {estimate['experiments']} open experiments); run `.venv/bin/python tools/nbtool.py study "
        f"--update-readme` and commit README.md")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_has_a_why_before_and_an_observation_after(path):
    cells = nbformat.read(path, as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            assert index > 0 and cells[index - 1].cell_type == "markdown", f"code cell {index} has no 'why' before it"
            assert index + 1 < len(cells) and cells[index + 1].cell_type == "markdown", \
                f"code cell {index} has no 'what we observe' after it"
