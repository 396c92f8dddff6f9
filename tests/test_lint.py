"""The code passes ruff with the project's rule set (pyproject.toml, [tool.ruff]): zero findings."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff found problems (fix them, or `ruff check --fix`):\n{result.stdout}{result.stderr}"


def test_ruff_rule_set_is_the_small_one():
    config = (ROOT / "pyproject.toml").read_text()
    assert 'select = ["E4", "E7", "E9", "F", "B"]' in config
    assert "ruff==" in (ROOT / "requirements.txt").read_text()
