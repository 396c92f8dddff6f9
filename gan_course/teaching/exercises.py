"""Self-checks for the lessons' exercises: ``check_1 = exercises.checker(expected, hint=...)``, ``check_1(answer)``.

A checker never raises on a wrong answer: it prints what is wrong and returns ``False``, so a lesson still runs with
the placeholder in place; the exercise shape is in docs/AUTHORING.md.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

PLACEHOLDER_MESSAGE = "✎ Replace the ... with your answer, then run this cell again."


def _as_array(value) -> np.ndarray | None:
    """``value`` as a float array (numbers, sequences, NumPy arrays, tensors), or ``None`` if it is not numeric."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor: no torch import needed here
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


def _close(answer, expected, rel_tol: float, abs_tol: float) -> bool:
    """True when ``answer`` equals ``expected``: exactly for bools and strings, within tolerance for numbers."""
    if isinstance(expected, bool):
        return isinstance(answer, (bool, np.bool_)) and bool(answer) == expected
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
    got, want = _as_array(answer), _as_array(expected)
    if got is None or want is None or got.shape != want.shape:
        return False
    return bool(np.all(np.isclose(got, want, rtol=rel_tol, atol=abs_tol)))


def _what_kind(expected) -> str:
    if isinstance(expected, bool):
        return "True or False"
    if isinstance(expected, str):
        return "a string"
    array = _as_array(expected)
    if array is not None and array.ndim == 0:
        return "a number"
    return f"an array of shape {tuple(array.shape)}" if array is not None else type(expected).__name__


def checker(expected, *, hint: str, wrong: Sequence[tuple[Any, str]] = (), rel_tol: float = 1e-3,
            abs_tol: float = 1e-6) -> Callable[[Any], bool]:
    """A ``check(answer) -> bool`` that prints ✓, a placeholder reminder, or a hint for a wrong answer.

    ``hint`` says where to look, not the answer; ``wrong``: ``(value_or_predicate, message)`` pairs for
    mistakes worth naming (values matched with the answer's tolerance, ``numpy.isclose(rel_tol, abs_tol)``).
    """
    if not isinstance(hint, str) or not hint.strip():
        raise ValueError("hint must be a non-empty string telling the learner where to look")
    if not (math.isfinite(rel_tol) and rel_tol >= 0 and math.isfinite(abs_tol) and abs_tol >= 0):
        raise ValueError(f"rel_tol and abs_tol must be finite and >= 0, got {rel_tol!r} and {abs_tol!r}")
    for entry in wrong:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str)):
            raise ValueError(f"each entry of wrong must be a (value_or_predicate, message) pair, got {entry!r}")
    kind = _what_kind(expected)

    def check(answer) -> bool:
        if answer is Ellipsis or answer is None:
            print(PLACEHOLDER_MESSAGE)
            return False
        if _close(answer, expected, rel_tol, abs_tol):
            print("✓ Correct.")
            return True
        for known, message in wrong:
            try:
                matched = known(answer) if callable(known) else _close(answer, known, rel_tol, abs_tol)
            except Exception:  # a predicate written for numbers, given something else
                matched = False
            if matched:
                print(f"✗ Not yet: {message}")
                return False
        got = _as_array(answer)
        want = _as_array(expected)
        if kind != _what_kind(answer) and not (got is not None and want is not None and got.ndim == want.ndim == 0):
            print(f"✗ Not yet: the answer should be {kind}, got {answer!r}. {hint}")
        else:
            print(f"✗ Not yet: {hint}")
        return False

    return check
