"""Notebook maintenance for course authors.

  python tools/nbtool.py render NB...        run quick mode, then full mode; store the FULL-mode outputs in NB
  python tools/nbtool.py time [--full] NB... execute (quick mode unless --full), print times, write nothing
  python tools/nbtool.py study [NB...]      estimate study time (reading + exercises); --update-readme fills
                                            the README lesson table's 'study' column
  python tools/nbtool.py site [OUTDIR]      export the committed (rendered) lessons as static HTML (default
                                            site/): one page per lesson, index.html, referenced media

``render`` is what makes a committed lesson: every output and figure of a full-mode run (what a learner sees),
execution counts 1..n, figures as PNG at a fixed DPI, widgets replaced by a static fallback (their picture and
text), no timestamps, and a stamp in ``metadata.gan_course.render`` (mode, seconds, date, machine, threads, a
sha256 of the code cells). Cells marked ``# NBVAL_CHECK_OUTPUT`` must print the same text in quick and full mode
(the tests compare the committed full-mode text with a quick-mode run): a difference is printed, recorded in the
stamp (``checked_outputs_match: false``) and makes the command exit 1. An error in any cell, or a notebook over
1.5 MB, writes nothing and exits 1.

``study`` estimates a learner's time beside the compute budget: prose at PROSE_WPM words per minute, code at
CODE_WPM, plus EXERCISE_MIN per exercise and EXPERIMENT_MIN per open experiment, rounded to ROUND_MIN minutes.

Threads: the kernels use whatever ``GAN_COURSE_THREADS`` says (``cpuslot`` sets 1); the stamp records it.
Checkpoints: each run gets a fresh, empty ``GAN_COURSE_CHECKPOINTS`` directory, so the render shows (and times)
what a learner's first run does; ``--keep-checkpoints`` uses the normal cache instead.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import difflib
import hashlib
import html
import json
import os
import platform
import re
import struct
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
MAX_BYTES = 1_500_000  # 1.5 MB per committed notebook
FIGURE_DPI = 100  # PNG pixels per inch: a (5, 4) figure is 500 x 400 px, a (10, 4) one fills GitHub's column
WIDE_PX = 1100  # figures wider than this are shrunk by GitHub, and their text with them: warn the author
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive widget: run this cell in JupyterLab to use it]"
KERNEL_CONFIG = f"""\
# Written by tools/nbtool.py render for one kernel; not a user profile.
c.InlineBackend.figure_formats = {{"png"}}
c.InlineBackend.print_figure_kwargs = {{"bbox_inches": "tight", "dpi": {FIGURE_DPI}}}
c.HistoryManager.enabled = False
"""


PROSE_WPM = 150  # careful technical reading, slower than the 200-250 of ordinary prose
CODE_WPM = 75  # code is read at half that speed (words = whitespace-separated tokens with a letter or digit)
EXERCISE_MIN = 5  # per '**N.**' exercise: think, answer, check
EXPERIMENT_MIN = 10  # per '**Open experiment.**': change, re-run, compare
ROUND_MIN = 5
README = ROOT / "README.md"


class RenderError(Exception):
    """A notebook that cannot be rendered; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------------- helpers


def code_hash(nb) -> str:
    """sha256 of the code cells' sources, in order: changes when any code changes, not when prose does."""
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources, ensure_ascii=False).encode()).hexdigest()


def output_text(cell) -> str:
    """The text a cell shows: its streams and the text/plain of its results, as nbval compares them."""
    parts = []
    previous_stream = None
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == previous_stream:
            parts[-1] += output.text  # nbval coalesces consecutive chunks of one stream: so do we
            continue
        previous_stream = output.name if output.output_type == "stream" else None
        if output.output_type == "stream":
            parts.append(f"[{output.name}] {output.text}")
        elif output.output_type in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain")
            if text is not None:
                parts.append(f"[{output.output_type}] {text}")
        elif output.output_type == "error":
            parts.append(f"[error] {output.ename}: {output.evalue}")
    return "\n".join(parts)


def png_size(data_b64: str) -> tuple[int, int]:
    """(width, height) in pixels of a base64 PNG, read from its IHDR header."""
    raw = base64.b64decode(data_b64[:64] + "=" * (-len(data_b64[:64]) % 4))
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", raw[16:24])


def find_notebooks(paths) -> list[Path]:
    """Check every path before any work starts: an unknown path names itself instead of a traceback."""
    found, bad = [], []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            bad.append(f"{name}: no such notebook (lessons are notebooks/NN_name.ipynb)")
        elif path.suffix != ".ipynb":
            bad.append(f"{name}: not a .ipynb notebook")
        else:
            try:
                nbformat.read(path, as_version=4)
            except Exception as error:  # noqa: BLE001 - report any unreadable file by name
                bad.append(f"{name}: not a readable notebook ({type(error).__name__}: {error})")
            else:
                found.append(path)
    if bad:
        raise RenderError("\n".join(bad))
    return found


def machine_line() -> str:
    """CPU model, cores, Python and OS: the part of the machine runtime.describe() does not name."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"cpu={cpu!r} cores={os.cpu_count()} python={platform.python_version()} os={platform.system()}"


def threads_setting() -> int:
    """The thread count the kernels will use: GAN_COURSE_THREADS, else all cores (runtime.set_threads' rule)."""
    value = os.environ.get("GAN_COURSE_THREADS", "").strip()
    if value:
        try:
            count = int(value)
        except ValueError:
            raise RenderError(f"GAN_COURSE_THREADS={value!r} is not a whole number") from None
        if count < 1:
            raise RenderError(f"GAN_COURSE_THREADS={value!r} must be >= 1")
        return count
    return os.cpu_count() or 1


@contextlib.contextmanager
def kernel_environment(quick: bool, keep_checkpoints: bool):
    """Environment the kernel inherits: the mode, the inline backend at FIGURE_DPI, optionally fresh checkpoints."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="nbtool-") as tmp:
        profile = Path(tmp, "ipython", "profile_default")
        profile.mkdir(parents=True)
        (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)
        os.environ["IPYTHONDIR"] = str(profile.parent)
        os.environ["GAN_COURSE_QUICK"] = "1" if quick else "0"
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        if not keep_checkpoints:
            os.environ["GAN_COURSE_CHECKPOINTS"] = str(Path(tmp, "checkpoints"))
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def execute(path: Path, quick: bool, timeout: int, keep_checkpoints: bool = False):
    """Execute a fresh copy of ``path``; return (notebook, seconds, per-cell timings, client)."""
    nb = nbformat.read(path, as_version=4)
    with kernel_environment(quick, keep_checkpoints):
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(path.resolve().parent)}})
        timings = []
        original = client.async_execute_cell

        async def timed(cell, index, **kwargs):
            start = time.perf_counter()
            result = await original(cell, index, **kwargs)
            timings.append((index, time.perf_counter() - start))
            return result

        client.async_execute_cell = timed
        start = time.perf_counter()
        mode = "quick" if quick else "full"
        try:
            client.execute()
        except CellTimeoutError as error:
            raise RenderError(f"{path}: a cell ran longer than {timeout} s in {mode} mode "
                              f"(raise --timeout or shrink the cell)\n{error}") from None
        except DeadKernelError as error:
            raise RenderError(f"{path}: the kernel died in {mode} mode at cell {len(timings)} (out of memory?); "
                              f"nothing was written.\n{error}") from None
        except CellExecutionError as error:
            index = len(timings)  # the failing cell is the one after the last that finished
            raise RenderError(f"{path}: cell {index} failed in {mode} mode; nothing was written. "
                              f"Fix it, then render again.\n{error}") from None
    return nb, time.perf_counter() - start, timings, client


# ---------------------------------------------------------------------------------------------------- widgets


def _widget_tree(model_id: str, state: dict, seen=None):
    """Yield (model_id, model state) for a widget and, depth first, every widget it contains."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return
    seen.add(model_id)
    yield model_id, state[model_id]
    for child in state[model_id].get("children", []) or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            yield from _widget_tree(child[len("IPY_MODEL_"):], state, seen)


def widget_fallback(output, client) -> dict | None:
    """A static stand-in for a widget's display: its first PNG and its HTML/Label text, or None for tqdm bars.

    The widget's live state is not kept in the notebook (it would be megabytes and renders nowhere without the
    kernel), so the committed output is what the widget showed when the render finished.
    """
    model_id = output["data"][WIDGET_MIME].get("model_id", "")
    tree = list(_widget_tree(model_id, client.widget_state))
    names = {model.get("_model_name", "") for _, model in tree}
    if names & {"FloatProgressModel", "IntProgressModel"}:
        return None  # a progress bar: meaningless on a static page
    png, texts = output["data"].get("image/png"), []  # a widget may carry its own static picture
    for widget_id, model in tree:
        name = model.get("_model_name", "")
        if name == "ImageModel" and png is None and model.get("format", "png") == "png":
            for buffer in client.widget_buffers.get(widget_id, {}).values():
                if list(buffer.get("path", [])) == ["value"]:
                    png = buffer["data"]
        elif name in ("HTMLModel", "LabelModel", "HTMLMathModel") and model.get("value"):
            text = html.unescape(re.sub(r"<[^>]+>", " ", model["value"]))
            texts.append(re.sub(r"[ \t]+", " ", text).strip())
        elif name == "OutputModel":
            for inner in model.get("outputs", []):
                data = inner.get("data", {})
                if png is None and "image/png" in data:
                    png = data["image/png"]
                if inner.get("output_type") == "stream":
                    texts.append(inner.get("text", "").strip())
                elif "text/plain" in data and "image/png" not in data:
                    texts.append(data["text/plain"].strip())
    data = {"text/plain": "\n".join([WIDGET_NOTE] + [t for t in texts if t])}
    if png:
        data["image/png"] = png
    return nbformat.v4.new_output("display_data", data=data)


# ---------------------------------------------------------------------------------------------------- render


def clean(nb, client) -> None:
    """Execution counts 1..n in code-cell order, no timestamps, widgets replaced by static fallbacks."""
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        outputs = []
        for output in cell.outputs:
            output.pop("transient", None)
            if output.output_type == "stream" and outputs and outputs[-1].output_type == "stream" \
                    and outputs[-1].name == output.name:
                outputs[-1].text += output.text  # one stream output, however the kernel chunked it
                continue
            if output.output_type in ("execute_result", "display_data") and WIDGET_MIME in output.get("data", {}):
                output = widget_fallback(output, client)
                if output is None:
                    continue
            if output.output_type == "execute_result":
                output["execution_count"] = count
            outputs.append(output)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def checked_differences(quick_nb, full_nb) -> list[tuple[int, str, str]]:
    """(cell index, quick text, full text) for every checked cell whose text differs between the two runs."""
    differences = []
    for index, (quick, full) in enumerate(zip(quick_nb.cells, full_nb.cells)):
        if quick.cell_type == "code" and CHECK_MARK in quick.source:
            a, b = output_text(quick), output_text(full)
            if a != b:
                differences.append((index, a, b))
    return differences


def figure_sizes(nb) -> list[tuple[int, int, int]]:
    """(cell index, width, height) of every PNG in the notebook's outputs."""
    sizes = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                sizes.append((index, *png_size(png)))
    return sizes


def largest_outputs(nb, count=5) -> list[str]:
    """Lines naming the biggest outputs, to show the author what to shrink."""
    rows = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            rows.append((len(json.dumps(output)), index, output.output_type))
    return [f"    cell {i:3d}: {size / 1000:7.1f} kB {kind}" for size, i, kind in sorted(rows, reverse=True)[:count]]


def describe_line(nb) -> str:
    """The kernel's own runtime.describe() line from the setup cell's output, if it printed one."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = re.search(r"device=\S+ threads=\d+ torch=\S+ mode=\w+", output_text(cell))
            if match:
                return match.group(0)
    return ""


def render(path: Path, timeout: int, keep_checkpoints: bool = False) -> bool:
    """Render one notebook in place; True when its checked cells agree between quick and full mode."""
    threads = threads_setting()
    print(f"{path}: quick mode ...", flush=True)
    quick_nb, quick_seconds, _, _ = execute(path, True, timeout, keep_checkpoints)
    print(f"{path}: quick mode ran in {quick_seconds:.1f} s; full mode ({threads} thread(s)) ...", flush=True)
    full_nb, seconds, timings, client = execute(path, False, timeout, keep_checkpoints)
    clean(full_nb, client)
    differences = checked_differences(quick_nb, full_nb)
    describe = describe_line(full_nb)
    full_nb.metadata["gan_course"] = dict(full_nb.metadata.get("gan_course", {}), render={
        "mode": "full",
        "seconds": round(seconds, 1),
        "quick_seconds": round(quick_seconds, 1),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{describe} {machine_line()}".strip(),
        "threads": threads,
        "checkpoints": "cache" if keep_checkpoints else "fresh",
        "figure_dpi": FIGURE_DPI,
        "code_sha256": code_hash(full_nb),
        "checked_outputs_match": not differences,
    })
    text = nbformat.writes(full_nb) + "\n"
    size = len(text.encode())
    if size > MAX_BYTES:
        raise RenderError(f"{path}: the full-mode render is {size / 1e6:.2f} MB, over the {MAX_BYTES / 1e6:g} MB "
                          "limit; nothing was written. Shrink the biggest outputs (fewer or smaller figures, "
                          "smaller sample grids, less printing):\n" + "\n".join(largest_outputs(full_nb)))
    path.write_text(text)
    figures = figure_sizes(full_nb)
    widest = max((w for _, w, _ in figures), default=0)
    print(f"{path}: rendered in full mode in {seconds:.1f} s (quick {quick_seconds:.1f} s), "
          f"{size / 1000:.0f} kB, {len(figures)} figure(s), widest {widest} px")
    for index, cell_seconds in sorted(timings, key=lambda t: -t[1])[:3]:
        print(f"    cell {index:3d}: {cell_seconds:6.1f} s  {first_line(full_nb.cells[index])}")
    for index, width, height in figures:
        if width > WIDE_PX:
            print(f"    note: cell {index} draws a {width} x {height} px figure; GitHub shrinks figures wider than "
                  f"about {WIDE_PX} px (use a figsize under {WIDE_PX / FIGURE_DPI:.0f} inches wide)")
    for index, quick_text, full_text in differences:
        print(f"\n{path}: checked cell {index} prints different text in quick and full mode "
              f"({first_line(full_nb.cells[index], skip_mark=True)}):")
        diff = difflib.unified_diff(quick_text.splitlines(), full_text.splitlines(), "quick mode", "full mode",
                                    lineterm="")
        print("\n".join(f"    {line}" for line in diff))
    if differences:
        print(f"\n{path}: the full render was written, but {len(differences)} checked cell(s) differ; the test run "
              "(quick mode) would fail against it. Print only what is the same in both modes in those cells "
              "and assert the rest, then render again.")
    return not differences


def first_line(cell, skip_mark=False) -> str:
    lines = [line for line in cell.source.strip().splitlines() if not (skip_mark and line.startswith(CHECK_MARK))]
    return lines[0][:70] if lines else ""


# ---------------------------------------------------------------------------------------------------- study


def count_words(text: str) -> int:
    """Whitespace-separated tokens holding a letter or digit; link targets `](url)` are not read."""
    return sum(1 for token in re.sub(r"\]\([^)]*\)", "]", text).split() if re.search(r"\w", token))


def exercise_cells(cells) -> list[int]:
    """Indices of the '**N.**' question cells inside the '## Exercises' section (up to '## References')."""
    start = next((i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Exercises" in c.source), None)
    if start is None:
        return []
    found = []
    for i in range(start + 1, len(cells)):
        if cells[i].cell_type == "markdown" and cells[i].source.lstrip().startswith("## References"):
            break
        if cells[i].cell_type == "markdown" and re.match(r"\s*\*\*\d+\.\*\*", cells[i].source):
            found.append(i)
    return found


def study(nb) -> dict:
    """What a learner reads and does in a lesson, and the minutes it takes by the stated rates."""
    prose = sum(count_words(c.source) for c in nb.cells if c.cell_type == "markdown")
    code = sum(count_words(c.source) for c in nb.cells if c.cell_type == "code")
    exercises = len(exercise_cells(nb.cells))
    experiments = sum(1 for c in nb.cells if c.cell_type == "markdown"
                      and c.source.lstrip().startswith("**Open experiment.**"))
    minutes = prose / PROSE_WPM + code / CODE_WPM + EXERCISE_MIN * exercises + EXPERIMENT_MIN * experiments
    rounded = max(ROUND_MIN, ROUND_MIN * round(minutes / ROUND_MIN))
    return {"prose_words": prose, "code_words": code, "exercises": exercises, "experiments": experiments,
            "minutes": minutes, "rounded": rounded}


def split_row(line: str) -> list[str]:
    """The cells of a Markdown table row; an escaped pipe '\\|' stays inside its cell."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().removeprefix("|").removesuffix("|"))]


def lesson_table(text: str) -> tuple[list[str], dict[str, tuple[int, list[str]]]]:
    """The README lesson table: its column names and, per lesson number, (line index, cells)."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if re.match(r"\|\s*#\s*\|\s*lesson\s*\|", line)), None)
    if header is None:
        raise RenderError("README.md has no lesson table (a header row starting '| # | lesson |')")
    columns = split_row(lines[header])
    rows = {}
    for i in range(header + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        cells = split_row(lines[i])
        if re.fullmatch(r"\d\d", cells[0]):
            rows[cells[0]] = (i, cells)
    return columns, rows


def update_readme(estimates: dict[str, int], readme: Path = README) -> list[str]:
    """Write each lesson's rounded study minutes into the README table's 'study' column; return changed rows."""
    text = readme.read_text()
    columns, rows = lesson_table(text)
    if "study" not in columns:
        raise RenderError("the README lesson table has no 'study' column")
    column = columns.index("study")
    lines = text.splitlines(keepends=True)
    changed = []
    for number, minutes in estimates.items():
        if number not in rows:
            raise RenderError(f"the README lesson table has no row for lesson {number}")
        index, cells = rows[number]
        if cells[column] != f"{minutes} min":
            changed.append(f"{number}: {cells[column] or '(empty)'} -> {minutes} min")
            cells[column] = f"{minutes} min"
            lines[index] = "| " + " | ".join(cells) + " |\n"
    readme.write_text("".join(lines))
    return changed


def study_command(paths, update: bool) -> int:
    print(f"study time = prose words / {PROSE_WPM} + code words / {CODE_WPM} + {EXERCISE_MIN} min per exercise "
          f"+ {EXPERIMENT_MIN} min per open experiment, rounded to {ROUND_MIN} min")
    print(f"{'lesson':34s} {'prose':>6s} {'code':>6s} {'ex.':>4s} {'exp.':>4s} {'min':>6s} {'study':>6s}")
    estimates = {}
    for path in paths:
        numbers = study(nbformat.read(path, as_version=4))
        estimates[path.name[:2]] = numbers["rounded"]
        print(f"{path.name[:34]:34s} {numbers['prose_words']:6d} {numbers['code_words']:6d} "
              f"{numbers['exercises']:4d} {numbers['experiments']:4d} {numbers['minutes']:6.1f} "
              f"{numbers['rounded']:4d} min")
    if update:
        changed = update_readme(estimates)
        print("README.md: " + ("; ".join(changed) if changed else "study column already up to date"))
    return 0


# ---------------------------------------------------------------------------------------------------- site

SITE_MARK = ".gan-course-site"  # written into every site directory; only such a directory is ever replaced
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
INDEX_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.45em 0.6em; border-bottom: 1px solid #ddd; }
th { background: #f4f4f4; } td.time { white-space: nowrap; } code { background: #f4f4f4; padding: 0 0.2em; }
.note { color: #666; font-size: 0.9em; }
"""


def inline_markdown(text: str) -> str:
    """The README's table cells as HTML: escaped, with `code` and [links](url) (no other Markdown is used)."""
    out = html.escape(text.replace("\\|", "|"), quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', out)


def lesson_info(path: Path, nb, table) -> dict:
    """Title, idea and times for the index: the README lesson table where it has the lesson, else the notebook."""
    first = nb.cells[0].source if nb.cells and nb.cells[0].cell_type == "markdown" else ""
    title = re.sub(r"^#\s*(\d\d\s*·\s*)?", "", first.strip().splitlines()[0]) if first.strip() else path.stem
    columns, rows = table
    row = rows.get(path.name[:2], (None, []))[1]
    cell = lambda name: row[columns.index(name)] if name in columns and len(row) == len(columns) else ""  # noqa: E731
    idea = cell("the idea")
    if not idea:  # the lesson's first paragraph after the title
        paragraphs = [p.strip() for p in first.split("\n\n")[1:] if p.strip() and not p.lstrip().startswith("#")]
        idea = paragraphs[0].replace("\n", " ") if paragraphs else ""
    stamp = nb.metadata.get("gan_course", {}).get("render", {})
    return {"number": path.name[:2], "title": title, "idea": idea, "full": cell("full mode"),
            "study": cell("study") or f"{study(nb)['rounded']} min", "stamp": stamp}


def local_references(nb, base: Path) -> set[Path]:
    """Files under ``base`` (the notebooks folder) that markdown or HTML in the notebook points at."""
    found = set()
    for cell in nb.cells:
        texts = [cell.source] + [o.get("data", {}).get("text/html", "") for o in cell.get("outputs", [])]
        for text in texts:
            text = "".join(text) if isinstance(text, list) else text
            for target in re.findall(r"\]\(([^)\s]+)[^)]*\)|src=[\"']([^\"']+)[\"']", text):
                target = (target[0] or target[1]).split("#")[0]
                if not target or re.match(r"^[a-z]+:", target) or target.endswith(".ipynb"):
                    continue
                candidate = (base / target).resolve()
                if candidate.is_file() and candidate.is_relative_to(base.resolve()):
                    found.add(candidate)
    return found


def export_site(paths: list[Path], outdir: Path) -> dict:
    """Write one HTML page per lesson, index.html and referenced media into ``outdir``; return a summary."""
    import shutil

    from nbconvert import HTMLExporter

    outdir = outdir.resolve()
    if outdir.exists():
        if not outdir.is_dir() or (any(outdir.iterdir()) and not (outdir / SITE_MARK).exists()):
            raise RenderError(f"{outdir} exists and is not a site this tool made; choose another folder or "
                              "empty it first")
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    (outdir / SITE_MARK).write_text("made by tools/nbtool.py site; the whole folder is replaced on the next export\n")
    try:
        table = lesson_table(README.read_text())
    except (OSError, RenderError):
        table = ([], {})
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATE_DIR)],
                            template_file="lesson.html.j2")
    lessons, unrendered, media = [], [], set()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        info = lesson_info(path, nb, table)
        if info["stamp"].get("mode") != "full":
            unrendered.append(path.name)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": info["title"]}})
        # links between lessons point at their pages
        body = re.sub(r'href="(\d\d_[\w-]+)\.ipynb', r'href="\1.html', body)
        (outdir / f"{path.stem}.html").write_text(body)
        info["page"] = f"{path.stem}.html"
        lessons.append(info)
        base = path.resolve().parent
        media |= {(base, ref) for ref in local_references(nb, base)}
        if (base / "media").is_dir():
            media |= {(base, ref.resolve()) for ref in (base / "media").rglob("*") if ref.is_file()}
    for base, ref in sorted(media):
        target = outdir / ref.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ref, target)
    rows = []
    for info in lessons:
        stamp = info["stamp"]
        rendered = (f"rendered {html.escape(stamp.get('date', '?'))} in {stamp.get('seconds', '?')} s"
                    if stamp.get("mode") == "full" else "not rendered: outputs may be missing")
        rows.append(f'<tr><td>{info["number"]}</td><td><a href="{info["page"]}">{html.escape(info["title"])}</a>'
                    f'</td><td>{inline_markdown(info["idea"])}</td><td class="time">{html.escape(info["full"])}</td>'
                    f'<td class="time">{html.escape(info["study"])}</td><td class="note">{rendered}</td></tr>')
    index = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>GAN Course</title>"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{INDEX_STYLE}</style>"
             f"</head><body>\n<h1>GAN Course</h1>\n<p>From one fully connected layer to training GANs, and "
             f"watching them fail and recover. Each page is a lesson as rendered in full mode: every output and "
             f"figure is what a learner sees running it. <b>Full mode</b> is the compute time on 2 CPU cores; "
             f"<b>study</b> is reading plus exercises.</p>\n<table>\n<tr><th>#</th><th>lesson</th><th>the idea"
             f"</th><th>full mode</th><th>study</th><th></th></tr>\n" + "\n".join(rows) + "\n</table>\n"
             "<p class=\"note\">Exported with nbconvert from the committed notebooks (no execution). Hidden "
             "solutions are folded: click to open. Run the lessons yourself with <code>./course lab</code>.</p>"
             "\n</body></html>\n")
    (outdir / "index.html").write_text(index)
    size = sum(f.stat().st_size for f in outdir.rglob("*") if f.is_file())
    return {"pages": len(lessons), "media": len(media), "bytes": size, "unrendered": unrendered}


# ---------------------------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{render,time,study,site}")
    p_render = sub.add_parser("render", help="execute quick then full mode and store the full-mode outputs")
    p_render.add_argument("notebooks", nargs="+")
    p_render.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    p_render.add_argument("--keep-checkpoints", action="store_true",
                          help="use the normal checkpoint cache instead of a fresh empty one")
    p_time = sub.add_parser("time", help="execute and print times; writes nothing")
    p_time.add_argument("notebooks", nargs="+")
    p_time.add_argument("--full", action="store_true", help="full mode (default: quick mode)")
    p_time.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    p_time.add_argument("--slowest", type=int, default=5, help="how many slowest cells to list")
    p_study = sub.add_parser("study", help="estimate study time (default: every lesson in notebooks/)")
    p_study.add_argument("notebooks", nargs="*")
    p_study.add_argument("--update-readme", action="store_true",
                         help="write the estimates into the README lesson table's 'study' column")
    p_site = sub.add_parser("site", help="export the rendered lessons as a static HTML site (no execution)")
    p_site.add_argument("outdir", nargs="?", default=str(ROOT / "site"), help="output folder (default: site/)")
    p_site.add_argument("--notebooks", nargs="+", metavar="NB", help="export only these (default: every lesson)")
    args = parser.parse_args(argv)
    lessons = [str(p) for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
    if args.command == "study" and not args.notebooks:
        args.notebooks = lessons
    if args.command == "site":
        args.notebooks = args.notebooks or lessons
    try:
        paths = find_notebooks(args.notebooks)
        if args.command == "study":
            return study_command(paths, args.update_readme)
        if args.command == "site":
            start = time.perf_counter()
            summary = export_site(paths, Path(args.outdir))
            print(f"{Path(args.outdir).resolve()}/index.html: {summary['pages']} lesson page(s), "
                  f"{summary['media']} media file(s), {summary['bytes'] / 1e6:.1f} MB in all, "
                  f"exported in {time.perf_counter() - start:.1f} s")
            if summary["unrendered"]:
                print("not rendered in full mode (their pages may lack outputs): " + " ".join(summary["unrendered"]))
            return 0
    except RenderError as error:
        print(error, file=sys.stderr)
        return 2
    failed = []
    for path in paths:
        try:
            if args.command == "render":
                if not render(path, args.timeout, args.keep_checkpoints):
                    failed.append(path)
            else:
                nb, seconds, timings, _ = execute(path, not args.full, args.timeout, keep_checkpoints=True)
                print(f"{path.name}: {seconds:.1f} s in {'full' if args.full else 'quick'} mode")
                for index, cell_seconds in sorted(timings, key=lambda t: -t[1])[:args.slowest]:
                    print(f"    cell {index:3d}: {cell_seconds:6.1f} s  {first_line(nb.cells[index])}")
        except RenderError as error:
            print(f"\nERROR {error}", file=sys.stderr)
            failed.append(path)
    if failed and len(paths) > 1:
        print(f"\n{len(failed)} of {len(paths)} notebook(s) failed: " + " ".join(str(p) for p in failed),
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
