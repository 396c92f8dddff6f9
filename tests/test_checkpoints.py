import os

import pytest
import torch
from torch import nn

from gan_course.core import checkpoints


@pytest.fixture
def ckpt_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(checkpoints.CHECKPOINT_ENV, str(tmp_path))
    return tmp_path


def test_save_is_atomic_and_loads_weights_only(ckpt_dir):
    path = ckpt_dir / "model.pt"
    state = {"weights": torch.arange(4.0), "step": 3, "history": [1.0, 0.5]}
    checkpoints.save(state, path)
    assert sorted(os.listdir(ckpt_dir)) == ["model.pt"], "no temporary files may be left behind"
    loaded = checkpoints.load(path)
    torch.testing.assert_close(loaded["weights"], state["weights"])
    assert loaded["step"] == 3


def test_interrupted_save_keeps_the_old_file(ckpt_dir, monkeypatch):
    path = ckpt_dir / "model.pt"
    checkpoints.save({"step": 1}, path)

    def broken_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save({"step": 2}, path)
    monkeypatch.undo()
    assert checkpoints.load(path)["step"] == 1
    assert sorted(os.listdir(ckpt_dir)) == ["model.pt"]


def test_missing_and_corrupt_files_raise_clear_errors(ckpt_dir):
    with pytest.raises(checkpoints.CheckpointError, match="no checkpoint"):
        checkpoints.load(ckpt_dir / "absent.pt")
    (ckpt_dir / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(checkpoints.CheckpointError, match="cannot be read"):
        checkpoints.load(ckpt_dir / "bad.pt")


def test_load_refuses_pickled_code(ckpt_dir):
    path = ckpt_dir / "evil.pt"
    torch.save({"model": nn.Linear(2, 2)}, path)  # a whole module needs unpickling arbitrary classes
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load(path)


def test_load_or_train(ckpt_dir):
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(0.5)
        return {"accuracy": 0.9}

    path = checkpoints.checkpoint_path("tiny")
    assert path.parent == ckpt_dir and path.name in ("tiny.pt", "tiny-quick.pt")
    first = checkpoints.load_or_train(path, nn.Linear(2, 1), train, meta={"width": 2})
    model = nn.Linear(2, 1)
    second = checkpoints.load_or_train(path, model, train, meta={"width": 2})
    assert first == {"accuracy": 0.9, "source": "trained"} and second["source"] == "loaded"
    assert len(calls) == 1 and torch.all(model.weight == 0.5)
    third = checkpoints.load_or_train(path, nn.Linear(2, 1), train, meta={"width": 3})  # changed architecture
    assert third["source"] == "trained" and len(calls) == 2
    path.write_bytes(b"corrupt")
    assert checkpoints.load_or_train(path, nn.Linear(2, 1), train, meta={"width": 3})["source"] == "trained"


def test_quick_mode_uses_its_own_file(ckpt_dir, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_QUICK", "1")
    assert checkpoints.checkpoint_path("cnn").name == "cnn-quick.pt"
    monkeypatch.setenv("GAN_COURSE_QUICK", "0")
    assert checkpoints.checkpoint_path("cnn").name == "cnn.pt"
    with pytest.raises(ValueError):
        checkpoints.checkpoint_path("../escape")


def orphan(path, pid):
    """A temporary as an interrupted save of ``path`` by process ``pid`` leaves it."""
    tmp = path.parent / f"{path.name}.{pid}-abc123.tmp"
    tmp.write_bytes(b"x" * 1000)
    return tmp


def dead_pid():
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_are_cleaned_on_the_next_save_and_load(ckpt_dir):
    """Issue 16.3: a SIGKILLed save's temporary goes at the next save or load; a live writer's stays."""
    path = ckpt_dir / "model.pt"
    checkpoints.save({"step": 1}, path)
    stale = orphan(path, dead_pid())
    live = orphan(path, 1)  # pid 1 always runs: its save may be in progress
    old_style = path.parent / f"{path.name}.k3j2h1.tmp"  # a temporary from before process ids were in the name
    old_style.write_bytes(b"x")
    os.utime(old_style, (0, 0))
    assert checkpoints.load(path)["step"] == 1
    assert not stale.exists() and not old_style.exists() and live.exists()
    orphan(path, dead_pid())
    checkpoints.save({"step": 2}, path)
    assert sorted(os.listdir(ckpt_dir)) == sorted(["model.pt", live.name])


def saving_with_signals(count, wrap=False):
    """A torch.save stand-in that writes half a file, receives ``count`` SIGINTs, then writes the rest.

    With ``wrap`` it turns an interrupt into RuntimeError, as torch's C++ writer does ("enforce fail").
    """
    import signal

    real_save = torch.save

    def fake_save(obj, handle):
        handle.write(b"half")
        try:
            for _ in range(count):
                signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt as err:
            if wrap:
                raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos") from err
            raise
        handle.seek(0)
        handle.truncate()
        real_save(obj, handle)
    return fake_save


def test_ctrl_c_during_a_save_lets_it_finish_then_interrupts_cleanly(ckpt_dir, monkeypatch):
    path = ckpt_dir / "model.pt"
    checkpoints.save({"step": 1}, path)
    monkeypatch.setattr(torch, "save", saving_with_signals(1))
    with pytest.raises(KeyboardInterrupt, match="the save finished first, so the checkpoint is whole"):
        checkpoints.save({"step": 2}, path)
    monkeypatch.undo()
    assert checkpoints.load(path)["step"] == 2 and os.listdir(ckpt_dir) == ["model.pt"]


@pytest.mark.parametrize("wrap", [False, True], ids=["plain", "torch-wrapped"])
def test_ctrl_c_twice_stops_the_save_and_keeps_the_previous_file(ckpt_dir, monkeypatch, wrap):
    """A second Ctrl-C stops at once; torch's 'enforce fail' RuntimeError becomes a clean KeyboardInterrupt."""
    path = ckpt_dir / "model.pt"
    checkpoints.save({"step": 1}, path)
    monkeypatch.setattr(torch, "save", saving_with_signals(2, wrap))
    with pytest.raises(KeyboardInterrupt, match="save was stopped and the previous checkpoint"):
        checkpoints.save({"step": 2}, path)
    monkeypatch.undo()
    assert checkpoints.load(path)["step"] == 1 and os.listdir(ckpt_dir) == ["model.pt"]


def test_a_save_that_fails_after_training_keeps_the_model_and_says_how_to_save(ckpt_dir, monkeypatch):
    """Issue 16.2: the location was fine before training, the save still fails (disk full): nothing is lost."""
    def disk_full(state, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoints, "save", disk_full)
    model = nn.Linear(2, 1)

    def train(m):
        with torch.no_grad():
            m.weight.fill_(0.25)
        return {"accuracy": 0.8}
    with pytest.warns(checkpoints.CheckpointWarning, match=r"No space left.*kept in memory.*checkpoints\.save\("):
        result = checkpoints.load_or_train(ckpt_dir / "m.pt", model, train)
    assert result == {"accuracy": 0.8, "source": "trained (not saved)"} and torch.all(model.weight == 0.25)


def test_check_writable_accepts_a_fresh_folder(tmp_path):
    path = tmp_path / "new" / "deeper" / "model.pt"
    assert checkpoints.check_writable(path) == path and path.parent.is_dir()
    assert os.listdir(path.parent) == []  # the probe leaves nothing behind
