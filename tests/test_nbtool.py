"""tools/nbtool.py: render (full-mode outputs, stamp, checked cells compared, limits), study time, site export."""

import base64
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("nbtool", ROOT / "tools" / "nbtool.py")
nbtool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbtool)

SETUP = ("from gan_course.core import runtime\n"
         "runtime.seed_everything(0)\n"
         "runtime.set_threads()\n"
         "steps = runtime.pick(full=30, quick=3)\n"
         "print(runtime.describe())")


def write(path: Path, *cells) -> Path:
    """A small lesson: title, then each code cell with a why before and an observation after."""
    nb = new_notebook(cells=[new_markdown_cell("# 99 · Test")])
    for cell in cells:
        nb.cells += [new_markdown_cell("**Why.** test"), cell, new_markdown_cell("**What we observe.** test")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_unknown_or_bad_paths_are_named_without_a_traceback(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.ipynb").write_text("{not json")
    code = nbtool.main(["render", str(tmp_path / "missing.ipynb"), str(tmp_path / "notes.txt"),
                        str(tmp_path / "broken.ipynb")])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing.ipynb: no such notebook" in err
    assert "notes.txt: not a .ipynb notebook" in err
    assert "broken.ipynb: not a readable notebook" in err
    assert "Traceback" not in err


def test_render_stores_the_full_mode_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_THREADS", "1")
    path = write(
        tmp_path / "99_test.ipynb",
        new_code_cell(SETUP),
        new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2 + 2)"),
        new_code_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(6, 3))\n"
                      "ax.plot([0, 1], [0, steps])\nax.set_title('steps')\nfig"),
        new_code_cell("import ipywidgets, io\nimport matplotlib.pyplot as plt\nbuf = io.BytesIO()\n"
                      "plt.figure(figsize=(2, 2)).savefig(buf, format='png')\nplt.close('all')\n"
                      "ipywidgets.VBox([ipywidgets.HTML('<b>shift</b> = 1.0'), "
                      "ipywidgets.Image(value=buf.getvalue(), format='png')])"),
        new_code_cell("steps * 2"),
    )
    assert nbtool.main(["render", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rendered in full mode in" in out and "kB" in out
    nb = nbformat.read(path, as_version=4)
    stamp = nb.metadata["gan_course"]["render"]
    assert stamp["mode"] == "full" and stamp["checked_outputs_match"] is True
    assert stamp["threads"] == 1 and "threads=1" in stamp["machine"] and "mode=full" in stamp["machine"]
    assert stamp["code_sha256"] == nbtool.code_hash(nb)
    assert stamp["seconds"] > 0 and stamp["date"]
    assert "widgets" not in nb.metadata
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3, 4, 5]
    assert all("execution" not in c.metadata for c in nb.cells)
    assert "mode=full" in nbtool.output_text(code[0])
    assert code[4].outputs[0]["data"]["text/plain"] == "60"  # steps = 30: the full-mode value
    assert code[4].outputs[0]["execution_count"] == 5
    figure = code[2].outputs[0]["data"]["image/png"]
    width, height = nbtool.png_size(figure)
    assert 500 <= width <= 600 and 250 <= height <= 300  # a 6 x 3 in figure at 100 dpi, bbox tight
    widget = code[3].outputs[0]
    assert nbtool.WIDGET_MIME not in widget["data"]
    assert widget["data"]["text/plain"].startswith(nbtool.WIDGET_NOTE) and "shift = 1.0" in widget["data"]["text/plain"]
    assert nbtool.png_size(widget["data"]["image/png"]) == (200, 200)


def test_checked_cells_that_differ_between_modes_are_reported(tmp_path, capsys):
    path = write(tmp_path / "99_test.ipynb", new_code_cell(SETUP),
                 new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('steps', steps)"))
    assert nbtool.main(["render", str(path)]) == 1
    out = capsys.readouterr().out
    assert "checked cell 5 prints different text" in out
    assert "-[stdout] steps 3" in out and "+[stdout] steps 30" in out
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["gan_course"]["render"]["checked_outputs_match"] is False  # written, flagged


def test_a_failing_cell_writes_nothing(tmp_path, capsys):
    path = write(tmp_path / "99_test.ipynb", new_code_cell(SETUP), new_code_cell("1 / 0"))
    before = path.read_text()
    assert nbtool.main(["render", str(path)]) == 1
    err = capsys.readouterr().err
    assert "cell 5 failed in quick mode; nothing was written" in err and "ZeroDivisionError" in err
    assert path.read_text() == before


def test_a_notebook_over_the_size_limit_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nbtool, "MAX_BYTES", 5_000)
    path = write(tmp_path / "99_test.ipynb", new_code_cell(SETUP), new_code_cell("print('x' * 6000)"))
    before = path.read_text()
    assert nbtool.main(["render", str(path)]) == 1
    err = capsys.readouterr().err
    assert "over the 0.0 MB limit" not in err and "limit; nothing was written" in err and "cell   5" in err
    assert path.read_text() == before


def test_png_size_reads_the_header():
    png = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000001f40000012c0806000000")).decode()
    assert nbtool.png_size(png) == (500, 300)
    with pytest.raises(ValueError):
        nbtool.png_size(base64.b64encode(b"GIF89a" + bytes(30)).decode())


def test_code_hash_ignores_prose_and_sees_code():
    nb = new_notebook(cells=[new_markdown_cell("a"), new_code_cell("x = 1")])
    before = nbtool.code_hash(nb)
    nb.cells[0].source = "b"
    assert nbtool.code_hash(nb) == before
    nb.cells[1].source = "x = 2"
    assert nbtool.code_hash(nb) != before
    assert json.dumps(before)  # a plain string


def lesson(path: Path, title: str, extra=()) -> Path:
    """A committed-looking lesson: title cell, one code cell, an exercise in the house shape, an experiment."""
    cells = [new_markdown_cell(f"# {path.name[:2]} · {title}\n\nThe idea in one paragraph.\n\n## Learning goals\n- one"),
             new_code_cell("print('hello')"), new_markdown_cell("See [the next lesson](99_next.ipynb) and "
                                                                "![a picture](media/pic.png)."),
             new_markdown_cell("## Exercises"), new_markdown_cell("**1.** " + "word " * 150),
             new_code_cell("answer_1 = ...\ncheck_1(answer_1)"),
             new_markdown_cell("**Solution** (expand the hidden cell below)."),
             new_code_cell("answer_1 = 1\nassert check_1(answer_1)", metadata={"jupyter": {"source_hidden": True}}),
             new_markdown_cell("**Open experiment.** Change it."), new_code_cell("x = 1"),
             new_markdown_cell("## References"), *extra]
    nb = new_notebook(cells=cells)
    nb.metadata["gan_course"] = {"render": {"mode": "full", "seconds": 12.5, "date": "2026-12-07 00:00 UTC"}}
    nbformat.write(nb, path)
    return path


def test_study_counts_reading_and_doing(tmp_path):
    nb = nbformat.read(lesson(tmp_path / "98_x.ipynb", "X"), as_version=4)
    numbers = nbtool.study(nb)
    assert numbers["exercises"] == 1 and numbers["experiments"] == 1
    assert numbers["prose_words"] == nbtool.count_words("\n".join(c.source for c in nb.cells
                                                                  if c.cell_type == "markdown"))
    expected = (numbers["prose_words"] / nbtool.PROSE_WPM + numbers["code_words"] / nbtool.CODE_WPM
                + nbtool.EXERCISE_MIN + nbtool.EXPERIMENT_MIN)
    assert numbers["minutes"] == pytest.approx(expected)
    assert numbers["rounded"] % nbtool.ROUND_MIN == 0 and abs(numbers["rounded"] - expected) <= 2.5
    assert nbtool.count_words("see [the docs](https://x.org/a b) — `x = 1`") == 5  # see, the, docs, x, 1: the URL is not read


def test_update_readme_fills_the_study_column(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n\n| # | lesson | the idea | full mode | study |\n|---|---|---|---|---|\n"
                      "| 98 | [X](notebooks/98_x.ipynb) | a \\| b | 3 min |  |\n| 99 | [Y](y) | c | 1 min | 20 min |\n\nend\n")
    assert nbtool.update_readme({"98": 45, "99": 20}, readme) == ["98: (empty) -> 45 min"]
    columns, rows = nbtool.lesson_table(readme.read_text())
    assert rows["98"][1] == ["98", "[X](notebooks/98_x.ipynb)", "a \\| b", "3 min", "45 min"]
    assert readme.read_text().endswith("| 99 | [Y](y) | c | 1 min | 20 min |\n\nend\n")
    with pytest.raises(nbtool.RenderError, match="no row for lesson 97"):
        nbtool.update_readme({"97": 5}, readme)


def test_site_exports_pages_index_and_media(tmp_path, capsys):
    source = tmp_path / "notebooks"
    (source / "media").mkdir(parents=True)
    (source / "media" / "pic.png").write_bytes(b"\x89PNG fake")
    first = lesson(source / "98_first.ipynb", "First lesson")
    second = lesson(source / "99_next.ipynb", "Next lesson")
    out = tmp_path / "site"
    assert nbtool.main(["site", str(out), "--notebooks", str(first), str(second)]) == 0
    printed = capsys.readouterr().out
    assert "2 lesson page(s)" in printed and "MB in all" in printed
    index = (out / "index.html").read_text()
    for page, title in (("98_first.html", "First lesson"), ("99_next.html", "Next lesson")):
        assert f'<a href="{page}">{title}</a>' in index
        assert (out / page).is_file()
    assert "rendered 2026-12-07 00:00 UTC in 12.5 s" in index
    assert (out / "media" / "pic.png").read_bytes() == b"\x89PNG fake"
    page = (out / "98_first.html").read_text()
    assert 'href="99_next.html"' in page and "99_next.ipynb" not in page  # lesson links point at pages
    assert page.count('<details class="gan-course-solution">') == 1  # the hidden solution is folded
    assert "hello" in page
    # a folder the tool did not make is never replaced
    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    assert nbtool.main(["site", str(other), "--notebooks", str(first)]) == 2
    assert "is not a site this tool made" in capsys.readouterr().err and (other / "keep.txt").exists()
