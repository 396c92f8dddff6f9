import os

import pytest
import torch
from torch import nn

from gan_course import checkpoints


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
