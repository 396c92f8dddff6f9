"""Faults (issue 16): a process killed in the middle of a checkpoint save, and a save that fails mid-training.

A child process writes half of a checkpoint's bytes and waits there (so the kill lands inside the save, every time)
and the test kills it. SIGKILL cannot be caught: the previous version must still load and the
orphaned temporary must be gone after the next load or save. SIGTERM waits for the save to finish, then ends the
process: the new version loads and no temporary is left at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gan_course.core import checkpoints
from gan_course.training import image_gan
from gan_course.models import dcgan

CHILD = r"""
import io, os, sys, time
import torch
from gan_course.core import checkpoints

path, mode, markers = sys.argv[1], sys.argv[2], sys.argv[3]
checkpoints.save({"version": 0, "blob": torch.zeros(1000)}, path)
print("ready", flush=True)
version = 0
while True:
    version += 1
    state = {"version": version, "blob": torch.full((250_000,), float(version))}  # about 1 MB
    if mode == "paused":  # half the bytes, then wait mid-save until the test says go
        def write(handle):
            buffer = io.BytesIO()
            torch.save(state, buffer)
            data = buffer.getvalue()
            handle.write(data[:len(data) // 2])
            handle.flush()
            open(os.path.join(markers, "half"), "w").close()
            while not os.path.exists(os.path.join(markers, "go")):
                time.sleep(0.01)
            handle.write(data[len(data) // 2:])
        checkpoints.atomic_write(path, write)
    else:
        checkpoints.save(state, path)
"""


def temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.*.tmp"))


def start_child(path: Path, mode: str) -> subprocess.Popen:
    markers = path.parent.parent / "markers"
    markers.mkdir(exist_ok=True)
    env = {**os.environ, "GAN_COURSE_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode, str(markers)], stdout=subprocess.PIPE,
                             text=True, env=env)
    assert child.stdout.readline().strip() == "ready"
    return child


def wait_until_half_saved(path: Path, child: subprocess.Popen, timeout: float = 30.0) -> Path:
    """Return once the child has written half of a save and waits there; the answer is the marker folder."""
    markers = path.parent.parent / "markers"
    deadline = time.monotonic() + timeout
    while not (markers / "half").exists():
        assert child.poll() is None, "the child died on its own"
        assert time.monotonic() < deadline, "no save started in time"
        time.sleep(0.005)
    assert len(temporaries(path)) == 1, "the save under way has its temporary"
    return markers


def test_sigkill_mid_save_keeps_the_previous_version_and_the_orphan_is_cleaned(tmp_path):
    path = tmp_path / "ckpt" / "model.pt"
    path.parent.mkdir()
    child = start_child(path, "paused")
    wait_until_half_saved(path, child)
    child.kill()  # SIGKILL: no handler runs
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert len(temporaries(path)) == 1, "a SIGKILLed save leaves its temporary (nothing can catch SIGKILL)"
    state = checkpoints.load(path)  # the load removes the dead process's temporary
    assert state["version"] == 0 and temporaries(path) == []
    checkpoints.save({"version": 99}, path)
    assert checkpoints.load(path)["version"] == 99 and os.listdir(path.parent) == ["model.pt"]


def test_sigterm_mid_save_finishes_the_save_then_exits(tmp_path):
    path = tmp_path / "ckpt" / "model.pt"
    path.parent.mkdir()
    child = start_child(path, "paused")
    markers = wait_until_half_saved(path, child)
    child.terminate()  # SIGTERM, in the middle of writing version 1
    time.sleep(0.2)
    assert child.poll() is None, "SIGTERM waits for the save under way"
    (markers / "go").touch()
    child.wait(timeout=20)
    assert child.returncode == -signal.SIGTERM, "the process still ends by SIGTERM"
    assert temporaries(path) == [], "SIGTERM leaves no temporary behind"
    state = checkpoints.load(path)
    assert state["version"] == 1 and torch.all(state["blob"] == 1.0), "the save under way was finished whole"


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_kills_during_real_torch_saves_never_break_the_checkpoint(tmp_path, kill):
    """torch.save itself, killed at unplanned moments: every time a whole version loads, and no temporary stays."""
    path = tmp_path / "ckpt" / "model.pt"
    path.parent.mkdir()
    for attempt in range(2):
        child = start_child(path, "fast")
        time.sleep(0.1 + 0.1 * attempt)
        child.send_signal(kill)
        child.wait(timeout=20)
        assert child.returncode == -kill
        state = checkpoints.load(path)
        assert torch.all(state["blob"] == float(state["version"]))
        assert temporaries(path) == []


def test_image_gan_save_failing_mid_training_keeps_the_run(tmp_path, monkeypatch):
    """Issue 16.2: the folder was writable at the start, then saves fail (disk full): training ends in memory."""
    def disk_full(state, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoints, "save", disk_full)
    torch.manual_seed(0)
    generator, discriminator = dcgan.DCGANGenerator(latent_dim=8, base_channels=4), dcgan.DCGANDiscriminator(
        base_channels=4)
    images = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    config = image_gan.ImageGANConfig(steps=5, batch_size=16, grid_size=4)
    with pytest.warns(checkpoints.CheckpointWarning, match=r"No space left.*kept in memory.*run\.generator"):
        run = image_gan.train_image_gan(generator, discriminator, images, config, checkpoint=tmp_path / "g.pt",
                                        progress=False)
    assert run.step == 5 and len(run.history["g_loss"]) == 5 and not (tmp_path / "g.pt").exists()
