"""The README's module map tells the truth: every package module is listed once by role, and the lesson → module
table lists what each notebook imports from gan_course (besides core.runtime, core.plotting and teaching.exercises)."""

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gan_course"
COMMON = {"core.runtime", "teaching.exercises", "core.plotting"}


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(title, 1)[1].split("\n#", 1)[0]


def package_modules() -> set[str]:
    return {".".join(path.relative_to(PACKAGE).with_suffix("").parts) for path in PACKAGE.rglob("*.py")
            if path.name != "__init__.py"}


def as_module(dotted: str) -> str:
    """``data.fashion_mnist.load_fashion_mnist`` → ``data.fashion_mnist``: the longest prefix that is a module."""
    parts = dotted.split(".")
    while parts and not (PACKAGE.joinpath(*parts).with_suffix(".py").exists() or PACKAGE.joinpath(*parts).is_dir()):
        parts.pop()
    return ".".join(parts)


def notebook_modules(path: Path) -> set[str]:
    found = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "gan_course":
                prefix = node.module.split(".")[1:]
                found |= {as_module(".".join(prefix + [alias.name])) for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {as_module(a.name.split(".", 1)[1]) for a in node.names if a.name.startswith("gan_course.")}
    return found - {""}


def test_every_module_is_listed_once_by_role():
    listed = re.findall(r"`([\w.]+)`", "".join(line.split("|", 2)[2] for line in
                                               readme_section("### `gan_course` by role").splitlines()
                                               if line.startswith("| ") and not line.startswith("| role")))
    duplicates = sorted({m for m in listed if listed.count(m) > 1})
    assert not duplicates, f"listed twice in the README's module map: {duplicates}"
    assert set(listed) == package_modules(), (
        f"README module map is out of date: missing {sorted(package_modules() - set(listed))}, "
        f"no such module {sorted(set(listed) - package_modules())}")


def test_lesson_table_matches_the_notebooks():
    rows = {}
    for line in readme_section("### Lesson → module").splitlines():
        match = re.match(r"\| \[(\d\d)\]\((notebooks/[\w.]+)\) \| (.*) \|$", line)
        if match:
            rows[match.group(2)] = set(re.findall(r"`([\w.]+)`", match.group(3)))
    notebooks = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
    assert sorted(rows) == [str(p.relative_to(ROOT)) for p in notebooks]
    for path in notebooks:
        expected = notebook_modules(path) - COMMON
        assert rows[str(path.relative_to(ROOT))] == expected, f"README lesson → module row of {path.name}"
