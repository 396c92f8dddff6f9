"""Checkpoints that never lose work: atomic save, safe load (``weights_only``), load-or-train.

A checkpoint is a plain dict of tensors, numbers, strings and lists; quick-mode runs use their own file names.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from gan_course.core import runtime

CHECKPOINT_ENV = "GAN_COURSE_CHECKPOINTS"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "checkpoints"  # the repository's data/


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or does not fit the model it is loaded into."""


def checkpoint_path(name: str) -> Path:
    """Where the checkpoint ``name`` lives (``GAN_COURSE_CHECKPOINTS`` or ``data/checkpoints``; quick: ``-quick``)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"checkpoint name {name!r} must be a plain file stem such as 'fashion_cnn'")
    directory = Path(os.environ.get(CHECKPOINT_ENV) or DEFAULT_DIR)
    suffix = "-quick" if runtime.quick_mode() else ""
    return directory / f"{name}{suffix}.pt"


TEMP_SUFFIX = ".tmp"
STALE_SECONDS = 600  # a temporary without a process id (older code) counts as stale after this long


class CheckpointWarning(UserWarning):
    """A trained result could not be saved; it is kept in memory and the message says how to save it."""


def _env_hint(directory: Path) -> str:
    env = os.environ.get(CHECKPOINT_ENV)
    if env and Path(env) == directory:
        return f" ({CHECKPOINT_ENV}={env})"
    return ""


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary beside ``path``, named ``<file>.<pid>-<random>.tmp`` (see ``clean_stale_temporaries``)."""
    return tempfile.mkstemp(prefix=f"{path.name}.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=path.parent)


def _probe(path: Path) -> None:
    """Create and remove one empty temporary beside ``path``: the one sure test that a save can go there."""
    fd, name = _temporary(path)
    os.close(fd)
    os.unlink(name)


def check_writable(path: str | Path) -> Path:
    """Raise ``CheckpointError`` now, before any training, if a checkpoint cannot be written at ``path``."""
    path = Path(path)
    fix = f"set {CHECKPOINT_ENV} to a writable directory, or pass another checkpoint path"
    if path.is_dir():
        raise CheckpointError(f"checkpoint path {path} is a directory, not a file: remove or rename that "
                              f"directory, or {fix}")
    for ancestor in (path.parent, *path.parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise CheckpointError(f"cannot save checkpoints under {path.parent}{_env_hint(path.parent)}: "
                                      f"{ancestor} is a file, not a directory; {fix}")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _probe(path)
    except OSError as err:
        raise CheckpointError(f"cannot write in the checkpoint directory {path.parent}{_env_hint(path.parent)} "
                              f"({type(err).__name__}: {err.strerror or err}); make it writable "
                              f"(chmod u+w {path.parent}) or {fix}") from err
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a platform without signal 0: assume it is writing
    return True


_writing: set[str] = set()  # temporaries this process is filling right now


def clean_stale_temporaries(path: str | Path) -> list[Path]:
    """Delete the temporaries (``<file>.<pid>-<random>.tmp``) of interrupted saves of ``path``; return them."""
    path = Path(path)
    removed = []
    try:
        candidates = list(path.parent.glob(f"{glob.escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for tmp in candidates:
        if str(tmp) in _writing:
            continue
        pid_text = tmp.name[len(path.name) + 1:].split("-", 1)[0]
        try:
            if pid_text.isdigit():
                stale = int(pid_text) == os.getpid() or not _pid_alive(int(pid_text))
            else:
                stale = time.time() - tmp.stat().st_mtime > STALE_SECONDS
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass  # gone already, or not ours to delete
    return removed


@contextlib.contextmanager
def _signals_held(path: Path):
    """Hold SIGINT and SIGTERM while ``path`` is written, then deliver them: the save finishes whole first.

    A second signal stops the save at once (its temporary is deleted, the previous checkpoint stays). Only the
    main thread can own signal handlers; elsewhere the save runs unguarded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    pending: list[int] = []

    def hold(signum, frame):
        pending.append(signum)
        if len(pending) > 1:
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} twice while saving {path}: the save was "
                                    "stopped and the previous checkpoint (if any) kept")

    previous = {}

    def restore():
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, hold)
        yield pending
    except BaseException:
        restore()
        if len(pending) == 1:
            _deliver(pending[0], previous[pending[0]], path, finished=False)
        raise
    restore()
    if pending:
        _deliver(pending[0], previous[pending[0]], path, finished=True)


def _deliver(signum: int, handler, path: Path, finished: bool) -> None:
    """Act on a signal held during a save as its own handler would have, now that the save is over."""
    if handler is signal.SIG_IGN:
        return
    if signum == signal.SIGINT and handler is signal.default_int_handler:
        outcome = ("the save finished first, so the checkpoint is whole" if finished else
                   "the save failed, and the previous checkpoint (if any) is kept")
        raise KeyboardInterrupt(f"interrupted while saving {path}; {outcome}")
    signal.raise_signal(signum)  # SIGTERM's default ends the process here, with no temporary left behind


def atomic_write(path: str | Path, write: Callable, mode: str = "wb") -> Path:
    """Create ``path`` atomically: ``write(handle)`` fills a temporary file in the same folder, fsync, rename.

    Readers see the old file or the new one, never half of one; an interrupted write deletes its temporary.
    """
    path = check_writable(path)
    clean_stale_temporaries(path)
    with _signals_held(path) as pending:
        fd, tmp_name = _temporary(path)
        _writing.add(tmp_name)
        try:
            with os.fdopen(fd, mode) as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)  # atomic on POSIX and Windows
        except BaseException as err:
            Path(tmp_name).unlink(missing_ok=True)
            if len(pending) > 1 and not isinstance(err, KeyboardInterrupt):  # torch wraps it in RuntimeError
                raise KeyboardInterrupt(f"interrupted while saving {path}: the save was stopped and the previous "
                                        "checkpoint (if any) kept") from None
            raise
        finally:
            _writing.discard(tmp_name)
    return path


def save(state: dict, path: str | Path) -> Path:
    """Write ``state`` to ``path`` with ``torch.save``, atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda handle: torch.save(state, handle))


def save_or_keep(state: dict, path: str | Path, how_to_save: str) -> bool:
    """``save``, but a failure warns (``CheckpointWarning``) instead of raising; True when written."""
    try:
        save(state, path)
        return True
    except (OSError, CheckpointError) as err:
        warnings.warn(f"could not save the checkpoint {path} ({type(err).__name__}: {err}). The trained result is "
                      f"kept in memory: {how_to_save}, or set {CHECKPOINT_ENV} to a writable directory and run "
                      "again", CheckpointWarning, stacklevel=2)
        return False


def load(path: str | Path, map_location="cpu") -> dict:
    """Read a checkpoint with ``weights_only=True``; a missing or corrupt file raises ``CheckpointError``."""
    path = Path(path)
    clean_stale_temporaries(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint path {path} is a directory, not a file: remove or rename it, or pass "
                              "another checkpoint path")
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
    """Load ``model``'s weights from ``path`` if it holds a matching checkpoint (same ``meta``), else train and save.

    ``train(model)`` trains in place and returns a results dict; the result gets ``source`` = "loaded" or "trained".
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
    check_writable(path)  # before training, so a bad location costs seconds, not the training run
    results = dict(train(model))
    saved = save_or_keep({"model": model.state_dict(), "meta": meta, "results": results}, path,
                         "the model you passed holds the trained weights; save them with "
                         "checkpoints.save({'model': model.state_dict()}, 'a/writable/file.pt')")
    return {**results, "source": "trained"} if saved else {**results, "source": "trained (not saved)"}
