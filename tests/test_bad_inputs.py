"""Bad inputs in one table (issue 16): each row is something a learner might type or leave lying around, the
exception it must raise, and the words its message must hold — the bad value or variable and what is allowed.

Rows run in a fresh temporary directory with their own environment; nothing touches the network or the real data.
Permission rows simulate the refusal when the tests run as root (root ignores file modes).
"""

from __future__ import annotations

import gzip
import math
import os
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gan_course.core import checkpoints, runtime
from gan_course.training import gan, image_gan
from gan_course.data import fashion_mnist as fm
from gan_course.data import idx
from gan_course.models import dcgan

ROOT = Path(__file__).resolve().parents[1]


class LauncherError(Exception):
    """``./course`` ended with a non-zero status; the message is everything it printed."""


def course(*args: str) -> str:
    """Run the launcher with an environment it cannot build (so a row never installs anything)."""
    env = {**os.environ, "GAN_COURSE_VENV": "/nonexistent/venv", "PYTHON": "/bin/false"}
    done = subprocess.run(["bash", str(ROOT / "course"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    output = done.stdout + done.stderr
    if done.returncode:
        raise LauncherError(output)
    return output


# -- helpers the rows share ------------------------------------------------------------------------------------

def data_dir(ctx, size=28, count=12, compress=True, labels=None) -> Path:
    """Four tiny IDX files in ctx.tmp/'data', with GAN_COURSE_DATA pointing there."""
    directory = ctx.tmp / "data"
    directory.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for split in fm.SPLITS:
        image_stem, label_stem = fm.FILES[split]
        images = rng.integers(0, 256, (count, size, size), dtype=np.uint8)
        split_labels = np.arange(count, dtype=np.uint8) % 10 if labels is None else labels
        for stem, array in ((image_stem, images), (label_stem, split_labels)):
            raw = idx.encode_idx(array)
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw)) if compress else \
                (directory / stem).write_bytes(raw)
    ctx.mp.setenv(fm.DATA_ENV, str(directory))
    return directory


def load_train(ctx):
    fm._read_split.cache_clear()
    fm.load_fashion_mnist("train")


def damaged(ctx, change):
    """Tiny data with one file changed by ``change(path)``, then loaded."""
    directory = data_dir(ctx)
    change(directory / "train-images-idx3-ubyte.gz")
    load_train(ctx)


def truncate(path):
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-100]))


def gzipped_without_suffix(path):
    path.rename(path.with_suffix(""))  # gzip bytes under the plain name


def directory_instead_of_file(path):
    path.unlink()
    path.mkdir()


def threads(ctx, value):
    ctx.mp.setenv(runtime.THREADS_ENV, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the cap's warning counts as the row's exception
        runtime.set_threads()


def deny_writes(ctx, directory: Path):
    """Make ``directory`` read-only; as root (which ignores modes) simulate what a user would meet."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o555)
    ctx.cleanup.append(lambda: directory.chmod(0o755))
    if os.geteuid() == 0:
        def refuse(target):
            raise PermissionError(13, "Permission denied", str(target))
        ctx.mp.setattr(checkpoints, "_probe", refuse)


def deny_reads(ctx, directory: Path):
    """Make ``directory`` unreadable; as root simulate it."""
    directory.chmod(0o000)
    ctx.cleanup.append(lambda: directory.chmod(0o755))
    if os.geteuid() == 0:
        real_iterdir, real_is_file = Path.iterdir, Path.is_file

        def iterdir(self):
            if self == directory:
                raise PermissionError(13, "Permission denied", str(self))
            return real_iterdir(self)

        def is_file(self):
            if self.parent == directory:
                raise PermissionError(13, "Permission denied", str(self))
            return real_is_file(self)
        ctx.mp.setattr(Path, "iterdir", iterdir)
        ctx.mp.setattr(Path, "is_file", is_file)


def never_train(model):
    raise AssertionError("training started before the save location was checked")


def load_or_train_at(ctx, path):
    checkpoints.load_or_train(path, torch.nn.Linear(2, 1), never_train, meta={"width": 2})


def checkpoints_env_is_a_file(ctx):
    (ctx.tmp / "not_a_dir").write_text("oops")
    ctx.mp.setenv(checkpoints.CHECKPOINT_ENV, str(ctx.tmp / "not_a_dir"))
    load_or_train_at(ctx, checkpoints.checkpoint_path("tiny"))


def checkpoints_dir_read_only(ctx):
    deny_writes(ctx, ctx.tmp / "ro")
    ctx.mp.setenv(checkpoints.CHECKPOINT_ENV, str(ctx.tmp / "ro"))
    load_or_train_at(ctx, checkpoints.checkpoint_path("tiny"))


def checkpoint_is_a_directory(ctx):
    (ctx.tmp / "model.pt").mkdir()
    load_or_train_at(ctx, ctx.tmp / "model.pt")


def tiny_gan(base_channels=4, latent_dim=8):
    torch.manual_seed(0)
    return (dcgan.DCGANGenerator(latent_dim=latent_dim, base_channels=base_channels),
            dcgan.DCGANDiscriminator(base_channels=4))


IMAGES = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


def gan_config(**changes):
    return image_gan.ImageGANConfig(**{"steps": 4, "batch_size": 16, "grid_size": 4, **changes})


def train_gan(ctx, path, config=None, models=None, callback=None):
    image_gan.train_image_gan(*(models or tiny_gan()), IMAGES, config or gan_config(), checkpoint=path,
                              progress=False, callback=callback)


def resume_gan(ctx, config=None, models=None, first=None):
    """Train a 4-step run into ctx.tmp/'gan.pt' (with ``first`` settings), then try to resume it differently."""
    path = ctx.tmp / "gan.pt"
    train_gan(ctx, path, first or gan_config())
    train_gan(ctx, path, config, models)


def foreign_checkpoint(ctx):
    checkpoints.save({"model": torch.nn.Linear(2, 2).state_dict(), "meta": {}}, ctx.tmp / "gan.pt")
    train_gan(ctx, ctx.tmp / "gan.pt")


def gan_checkpoint_under_a_file(ctx):
    (ctx.tmp / "file").write_text("")

    def never(step, stats):
        raise AssertionError("training started before the save location was checked")
    train_gan(ctx, ctx.tmp / "file" / "gan.pt", callback=never)


def fake_fetch_wrong_bytes(ctx):
    ctx.mp.setattr(fm, "fetch", lambda url, out, progress=True: out.write(gzip.compress(b"not the data")))
    fm.download("fashion-mnist", dest=ctx.tmp / "dl", progress=False)


def download_into_env_file(ctx):
    (ctx.tmp / "data_file").write_text("")
    ctx.mp.setenv(fm.DATA_ENV, str(ctx.tmp / "data_file"))
    ctx.mp.setattr(fm, "fetch", lambda *a, **k: pytest.fail("fetched although the destination is a file"))
    fm.download("fashion-mnist", progress=False)


def data_env_is_a_file(ctx):
    (ctx.tmp / "data_file").write_text("")
    ctx.mp.setenv(fm.DATA_ENV, str(ctx.tmp / "data_file"))
    load_train(ctx)


def unreadable_data_dir(ctx):
    directory = data_dir(ctx)
    deny_reads(ctx, directory)
    load_train(ctx)


def missing_data(ctx):
    ctx.mp.setenv(fm.DATA_ENV, str(ctx.tmp / "empty"))
    load_train(ctx)


def lab_config(**changes):
    from gan_course.training import lab

    lab.LabConfig(**changes)


CE, VE, IE, NF = checkpoints.CheckpointError, ValueError, idx.IDXError, fm.DataNotFoundError
FIX = "--download"  # every corrupt-data message carries the command that fixes it
ROWS = [
    # -- runtime: environment variables and arguments
    ("THREADS=abc", lambda c: threads(c, "abc"), VE, ["GAN_COURSE_THREADS='abc'", "whole number", "from 1 to"]),
    ("THREADS=empty", lambda c: threads(c, ""), VE, ["GAN_COURSE_THREADS=''", "whole number", "from 1 to"]),
    ("THREADS=1.5", lambda c: threads(c, "1.5"), VE, ["GAN_COURSE_THREADS='1.5'", "whole number", "from 1 to"]),
    ("THREADS=-2", lambda c: threads(c, "-2"), VE, ["GAN_COURSE_THREADS='-2'", "negative", "from 1 to"]),
    ("THREADS=9999", lambda c: threads(c, "9999"), RuntimeWarning,
     ["GAN_COURSE_THREADS=9999", "cores", "allowed: 1 to"]),
    ("set_threads(0)", lambda c: runtime.set_threads(0), VE, ["thread count", "got 0", "from 1 to"]),
    ("set_threads(1.5)", lambda c: runtime.set_threads(1.5), VE, ["thread count", "got 1.5", "from 1 to"]),
    ("QUICK=maybe", lambda c: (c.mp.setenv(runtime.QUICK_ENV, "maybe"), runtime.quick_mode()), VE,
     ["GAN_COURSE_QUICK='maybe'", "1/true/yes/on", "0/false/no/off"]),
    ("DEVICE=tpu", lambda c: (c.mp.setenv(runtime.DEVICE_ENV, "tpu"), runtime.get_device()), VE,
     ["GAN_COURSE_DEVICE='tpu'", "'cpu'", "'cuda'"]),
    ("seed=-1", lambda c: runtime.seed_everything(-1), VE, ["seed", "non-negative int", "-1"]),
    # -- checkpoints: names, files, save locations
    ("checkpoint name ../escape", lambda c: checkpoints.checkpoint_path("../escape"), VE,
     ["'../escape'", "plain file stem"]),
    ("checkpoint missing", lambda c: checkpoints.load(c.tmp / "absent.pt"), CE, ["no checkpoint at", "absent.pt"]),
    ("checkpoint corrupt", lambda c: (Path(c.tmp / "bad.pt").write_bytes(b"garbage"),
                                      checkpoints.load(c.tmp / "bad.pt")), CE,
     ["bad.pt", "cannot be read", "delete it to train again"]),
    ("checkpoint with pickled code", lambda c: (torch.save({"m": torch.nn.Linear(2, 2)}, c.tmp / "evil.pt"),
                                                checkpoints.load(c.tmp / "evil.pt")), CE,
     ["evil.pt", "cannot be read", "delete it"]),
    ("GAN_COURSE_CHECKPOINTS is a file", checkpoints_env_is_a_file, CE,
     ["GAN_COURSE_CHECKPOINTS=", "is a file, not a directory", "writable directory"]),
    ("checkpoint directory read-only", checkpoints_dir_read_only, CE,
     ["cannot write in the checkpoint directory", "GAN_COURSE_CHECKPOINTS=", "chmod u+w"]),
    ("checkpoint path is a directory", checkpoint_is_a_directory, CE,
     ["model.pt is a directory, not a file", "another checkpoint path"]),
    ("load a directory", lambda c: (Path(c.tmp / "d.pt").mkdir(), checkpoints.load(c.tmp / "d.pt")), CE,
     ["d.pt is a directory, not a file"]),
    # -- image GAN: save location and checkpoint mismatches
    ("image GAN checkpoint under a file", gan_checkpoint_under_a_file, CE, ["is a file, not a directory"]),
    ("image GAN foreign checkpoint", foreign_checkpoint, CE,
     ["not a train_image_gan checkpoint", "'config'", "resume=False"]),
    ("image GAN other architecture", lambda c: resume_gan(c, models=tiny_gan(base_channels=8)), CE,
     ["generator of another architecture", "in the checkpoint", "here", "resume=False"]),
    ("image GAN fewer steps", lambda c: resume_gan(c, gan_config(steps=2)), CE,
     ["already at step 4", "steps=2", "steps >= 4", "resume=False"]),
    ("image GAN other loss", lambda c: resume_gan(c, gan_config(steps=6, loss="lsgan")), CE,
     ["loss='non-saturating' there, 'lsgan' here", "resume=False"]),
    ("image GAN other decay", lambda c: resume_gan(c, gan_config(steps=6, decay_steps=6),
                                                   first=gan_config(decay_steps=4)), CE,
     ["decay_steps=4 there, 6 here", "resume=False"]),
    # -- image GAN configuration
    ("g_lr=inf", lambda c: gan_config(g_lr=math.inf), VE, ["g_lr", "positive finite number", "inf"]),
    ("g_lr=0", lambda c: gan_config(g_lr=0.0), VE, ["g_lr", "positive finite number", "got 0"]),
    ("d_lr=nan", lambda c: gan_config(d_lr=math.nan), VE, ["d_lr", "positive finite number", "nan"]),
    ("betas=(1.5, 0.999)", lambda c: gan_config(betas=(1.5, 0.999)), VE, ["betas", "[0, 1)", "1.5"]),
    ("betas=(0.5,)", lambda c: gan_config(betas=(0.5,)), VE, ["betas", "two numbers", "(0.5,)"]),
    ("betas=(nan, 0.9)", lambda c: gan_config(betas=(math.nan, 0.9)), VE, ["betas", "[0, 1)", "nan"]),
    ("steps=0", lambda c: gan_config(steps=0), VE, ["steps", "positive int", "got 0"]),
    ("batch_size=True", lambda c: gan_config(batch_size=True), VE, ["batch_size", "positive int", "True"]),
    ("loss=nope", lambda c: gan_config(loss="nope"), VE, ["'nope'", "non-saturating"]),
    ("precision=fp8", lambda c: gan_config(precision="fp8"), VE, ["'fp8'", "fp32"]),
    ("image GAN ema=0.9", lambda c: gan_config(ema=0.9), VE, ["ImageGANConfig does not use ema", "0.0", "0.9"]),
    # -- training tricks (image GANs and the lab share them)
    ("instance_noise=nan", lambda c: gan.Tricks(instance_noise=math.nan), VE,
     ["instance_noise", "finite number >= 0", "nan"]),
    ("instance_noise=inf", lambda c: gan.Tricks(instance_noise=math.inf), VE,
     ["instance_noise", "finite number >= 0", "inf"]),
    ("instance_noise=-1", lambda c: gan.Tricks(instance_noise=-1.0), VE,
     ["instance_noise", "finite number >= 0", "-1"]),
    ("gp_weight=nan", lambda c: gan.Tricks(gp_weight=math.nan), VE,
     ["gp_weight", "finite number >= 0", "nan"]),
    ("gp_weight=inf", lambda c: gan.Tricks(gp_weight=math.inf), VE,
     ["gp_weight", "finite number >= 0", "inf"]),
    ("label_smoothing=0.7", lambda c: gan.Tricks(label_smoothing=0.7), VE,
     ["label_smoothing", "[0, 0.5)", "0.7"]),
    ("lab instance_noise=inf", lambda c: lab_config(instance_noise=math.inf), VE,
     ["instance_noise", "finite number >= 0", "inf"]),
    ("lab steps=5 (unused: the lab runs in bursts)", lambda c: lab_config(steps=5), VE,
     ["LabConfig does not use steps", "leave it at 1000", "got 5"]),
    # -- data: files, folders, formats
    ("32x32 images", lambda c: (data_dir(c, size=32), load_train(c)), IE, ["32x32", "28x28", FIX]),
    ("directory instead of an IDX file", lambda c: damaged(c, directory_instead_of_file), NF,
     ["train-images-idx3-ubyte.gz is a directory, not an IDX file", FIX]),
    ("read_idx on a directory", lambda c: idx.read_idx(c.tmp), IE, ["is a directory, not an IDX file"]),
    ("GAN_COURSE_DATA is a file", data_env_is_a_file, NF,
     ["GAN_COURSE_DATA=", "is a file, not a directory", "directory that holds"]),
    ("gzip bytes without .gz", lambda c: damaged(c, gzipped_without_suffix), IE,
     ["looks gzipped", "rename it to train-images-idx3-ubyte.gz", FIX]),
    ("gzip bytes parsed as IDX", lambda c: idx.parse_idx(gzip.compress(b"abcd")), IE, ["looks gzipped", ".gz"]),
    ("truncated IDX", lambda c: damaged(c, truncate), IE, ["truncated", "header shape", FIX]),
    ("corrupt gzip", lambda c: damaged(c, lambda p: p.write_bytes(p.read_bytes()[:20])), IE,
     ["gzip data is corrupt or truncated", FIX, "apt-get install --reinstall"]),
    ("bad IDX magic", lambda c: idx.parse_idx(b"\x12\x34\x08\x01\x00\x00\x00\x00"), IE,
     ["bad IDX magic 12340801", "expected 0000"]),
    ("IDX too short", lambda c: idx.parse_idx(b"\x00"), IE, ["1 bytes", "4-byte header"]),
    ("labels fewer than images", lambda c: (data_dir(c, labels=np.zeros(11, np.uint8)), load_train(c)), IE,
     ["12 images but labels of shape (11,)", FIX]),
    ("label 42", lambda c: (data_dir(c, labels=np.full(12, 42, np.uint8)), load_train(c)), IE,
     ["label 42", "0..9", FIX]),
    ("unsupported IDX dtype", lambda c: idx.encode_idx(np.zeros(2, np.complex64)), IE,
     ["complex64", "uint8, int8"]),
    ("split=validation", lambda c: (data_dir(c), fm.load_fashion_mnist("validation")), VE,
     ["'validation'", "('train', 'test')"]),
    ("value_range=(0, 255)", lambda c: (data_dir(c), fm.load_fashion_mnist(value_range=(0, 255))), VE,
     ["(0.0, 255.0)", "(-1.0, 1.0)", "(0.0, 1.0)"]),
    ("limit=0", lambda c: (data_dir(c), fm.load_fashion_mnist(limit=0)), VE, ["limit", "positive int", "got 0"]),
    ("dataset=cifar10", lambda c: fm.load("cifar10"), VE, ["'cifar10'", "'fashion-mnist'", "'mnist'"]),
    ("data missing", missing_data, NF, ["was not found", "empty", "apt-get install dataset-fashion-mnist", FIX]),
    ("data directory unreadable", unreadable_data_dir, NF, ["cannot be read", "skipped", FIX]),
    ("download checksum mismatch", fake_fetch_wrong_bytes, NF, ["SHA-256", "does not match the expected"]),
    ("download into GAN_COURSE_DATA that is a file", download_into_env_file, NF,
     ["cannot download into", "GAN_COURSE_DATA=", "is a file, not a directory"]),
    # -- the launcher
    ("./course full (no notebook)", lambda c: course("full"), LauncherError,
     ["usage: ./course full notebooks/NN_name.ipynb"]),
    ("./course full 99_nope", lambda c: course("full", "notebooks/99_nope.ipynb"), LauncherError,
     ["no notebook 'notebooks/99_nope.ipynb'", "notebooks/00_", "ls notebooks/"]),
    ("./course render (no notebook)", lambda c: course("render"), LauncherError,
     ["usage: ./course render notebooks/NN_name.ipynb"]),
    ("./course render 99_nope", lambda c: course("render", "notebooks/99_nope.ipynb"), LauncherError,
     ["no notebook 'notebooks/99_nope.ipynb'", "notebooks/00_"]),
    ("./course nope", lambda c: course("nope"), LauncherError, ["unknown command 'nope'", "lab, test"]),
]


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(fm.DATA_ENV, raising=False)
    monkeypatch.setenv(checkpoints.CHECKPOINT_ENV, str(tmp_path / "checkpoints"))
    fm._read_split.cache_clear()
    context = SimpleNamespace(tmp=tmp_path, mp=monkeypatch, cleanup=[])
    yield context
    for undo in context.cleanup:
        undo()
    fm._read_split.cache_clear()


@pytest.mark.parametrize("action, error, fragments", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_input_is_refused_with_a_clear_message(ctx, action, error, fragments):
    with pytest.raises(error) as info:
        action(ctx)
    message = str(info.value)
    assert info.type is error, f"{info.type.__name__} (a subclass) instead of {error.__name__}: {message}"
    missing = [fragment for fragment in fragments if fragment not in message]
    assert not missing, f"message lacks {missing}:\n{message}"
    assert "Traceback" not in message


def test_the_table_is_large_and_names_each_case_once():
    names = [row[0] for row in ROWS]
    assert len(names) == len(set(names)) and len(names) >= 40


def test_launcher_full_prints_usage_before_anything_else():
    with pytest.raises(LauncherError) as info:
        course("full")
    assert str(info.value).startswith("usage: ./course full")


def test_launcher_help_prints_only_the_help():
    text = course("help")
    assert text.startswith("GAN Course launcher.") and "./course test" in text
    assert "set -euo" not in text and "#" not in text
