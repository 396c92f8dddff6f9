"""Checkpoints that never lose work: atomic save, safe load (``weights_only``), load-or-train.

A checkpoint is a plain dict of tensors, numbers, strings and lists, so ``torch.load(weights_only=True)`` can read
it without running pickled code. Quick-mode runs use their own file names so a seconds-long quick model never
stands in for a fully trained one. Used by lesson 04 (the classifier later lessons reuse) and lessons 11–13.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from gan_course import runtime

CHECKPOINT_ENV = "GAN_COURSE_CHECKPOINTS"
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "checkpoints"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or does not fit the model it is loaded into."""


def checkpoint_path(name: str) -> Path:
    """Where the checkpoint called ``name`` lives (``GAN_COURSE_CHECKPOINTS`` or ``data/checkpoints``).

    In quick mode the file name gets a ``-quick`` suffix.
    """
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"checkpoint name {name!r} must be a plain file stem such as 'fashion_cnn'")
    directory = Path(os.environ.get(CHECKPOINT_ENV) or DEFAULT_DIR)
    suffix = "-quick" if runtime.quick_mode() else ""
    return directory / f"{name}{suffix}.pt"


def atomic_write(path: str | Path, write: Callable, mode: str = "wb") -> Path:
    """Create ``path`` atomically: ``write(handle)`` fills a temporary file in the same folder, fsync, rename.

    Readers see the old file or the new one, never half of one; an interrupted write leaves no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def save(state: dict, path: str | Path) -> Path:
    """Write ``state`` to ``path`` with ``torch.save``, atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda handle: torch.save(state, handle))


def load(path: str | Path, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; a missing or corrupt file raises ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(err).__name__}: {err}); "
                              "delete it to train again") from err
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, expected a dict")
    return state


def load_or_train(path: str | Path, model: nn.Module, train: Callable[[nn.Module], dict],
                  meta: dict | None = None) -> dict:
    """Load ``model``'s weights from ``path`` if it holds a matching checkpoint, else train and save.

    ``train(model)`` trains in place and returns a dict of results (accuracy, seconds...). ``meta`` (architecture
    settings) must equal the saved one, so a changed model is retrained instead of half-loaded.
    Returns the results dict with ``source`` = ``"loaded"`` or ``"trained"``.
    """
    meta = dict(meta or {})
    path = Path(path)
    if path.is_file():
        try:
            state = load(path)
            if state.get("meta") == meta:
                model.load_state_dict(state["model"])
                return {**state.get("results", {}), "source": "loaded"}
        except (CheckpointError, RuntimeError, KeyError):
            pass  # unreadable or mismatched: fall through and train a fresh one
    results = dict(train(model))
    save({"model": model.state_dict(), "meta": meta, "results": results}, path)
    return {**results, "source": "trained"}
