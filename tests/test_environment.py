"""The two install routes (requirements.txt for ./course, environment.yml for conda/Binder) pin the same packages."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    found = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_requirements_are_exact_pins():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines and all("==" in line for line in lines), f"every requirement must be pinned with ==: {lines}"
    assert pins(lines)["torch"] == "2.13.0"
    assert "torchvision" not in pins(lines), "torchvision does not import with the CPU torch build used here"


def test_environment_yml_matches_requirements():
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1].splitlines()
    assert pins(pip_section) == pins((ROOT / "requirements.txt").read_text().splitlines())


def test_course_script_refuses_unknown_commands():
    result = subprocess.run([str(ROOT / "course"), "launch-rockets"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "launch-rockets" in result.stderr and "lab, test" in result.stderr


def test_readme_quick_start_has_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]
    assert commands == ["./course lab", "./course test"]
    assert "./course test" in (ROOT / ".ci" / "run").read_text(), "CI must call the README's test command"
