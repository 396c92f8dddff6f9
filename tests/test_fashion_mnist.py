"""The IDX loader on tiny fixtures the tests write: search order, scaling, and every bad input."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_course.data import fashion_mnist as fm
from gan_course.data import idx


def write_split(directory, images, labels, split="train", compress=True):
    image_stem, label_stem = fm.FILES[split]
    for stem, array in ((image_stem, images), (label_stem, labels)):
        raw = idx.encode_idx(array)
        if compress:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)


@pytest.fixture
def tiny_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for split, count in (("train", 12), ("test", 5)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        images[0] = 0
        images[1] = 255
        write_split(tmp_path, images, np.arange(count, dtype=np.uint8) % 10, split, compress=(split == "train"))
    monkeypatch.setenv(fm.DATA_ENV, str(tmp_path))
    fm._read_split.cache_clear()
    yield tmp_path
    fm._read_split.cache_clear()


def test_idx_round_trip():
    for array in (np.arange(24, dtype=np.uint8).reshape(2, 3, 4), np.array([1.5, -2.0], dtype=np.float32),
                  np.array([[7, -9]], dtype=np.int32)):
        np.testing.assert_array_equal(idx.parse_idx(idx.encode_idx(array)), array)


def test_loads_with_env_override_and_scales(tiny_dir):
    data = fm.load_fashion_mnist("train", value_range=(-1, 1))
    assert data.images.shape == (12, 1, 28, 28) and data.images.dtype == torch.float32
    assert data.labels.dtype == torch.int64 and data.labels.tolist()[:3] == [0, 1, 2]
    assert data.images[0].min() == -1 and data.images[1].max() == 1
    unit = fm.load_fashion_mnist("test", value_range=(0, 1))  # uncompressed files work too
    assert len(unit) == 5 and unit.images.min() >= 0 and unit.images.max() <= 1
    assert data.class_names[9] == "Ankle boot" and len(data.class_names) == 10
    assert len(fm.load_fashion_mnist("train", limit=4)) == 4


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "validation"}, "validation"),
    ({"value_range": (0, 255)}, "value_range"),
    ({"limit": 0}, "limit"),
])
def test_bad_arguments(tiny_dir, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fm.load_fashion_mnist(**kwargs)


def test_unknown_dataset_names_the_allowed_ones():
    with pytest.raises(ValueError, match="cifar.*fashion-mnist"):
        fm.load("cifar10")


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(fm.DATA_ENV, str(tmp_path / "empty"))
    with pytest.raises(fm.DataNotFoundError) as info:
        fm.load_fashion_mnist()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "python -m gan_course.data.fashion_mnist --dataset fashion-mnist --download" in message
    assert str(tmp_path / "empty") in message


def test_truncated_file_is_an_error_not_garbage(tiny_dir):
    path = tiny_dir / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(idx.IDXError, match="truncated"):
        fm.load_fashion_mnist("train")


def test_corrupt_gzip_is_an_error(tiny_dir):
    path = tiny_dir / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(idx.IDXError, match="corrupt or truncated"):
        fm.load_fashion_mnist("train")


def test_bad_magic_and_mismatched_labels(tiny_dir):
    with pytest.raises(idx.IDXError, match="magic"):
        idx.parse_idx(b"\x12\x34\x08\x01\x00\x00\x00\x00")
    with pytest.raises(idx.IDXError, match="too short"):
        idx.parse_idx(b"\x00")
    write_split(tiny_dir, np.zeros((12, 28, 28), np.uint8), np.zeros(11, np.uint8))
    with pytest.raises(idx.IDXError, match="12 images but labels"):
        fm.load_fashion_mnist("train")
    write_split(tiny_dir, np.zeros((12, 28, 28), np.uint8), np.full(12, 42, np.uint8))
    fm._read_split.cache_clear()
    with pytest.raises(idx.IDXError, match="label 42"):
        fm.load_fashion_mnist("train")


def test_download_verifies_checksums(tmp_path, monkeypatch):
    """A mirror serving wrong bytes: the download fails, names the mismatch and leaves no file behind."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in fm.DATASETS["fashion-mnist"].sha256:
        (mirror / name).write_bytes(gzip.compress(b"not the real data"))
    dest = tmp_path / "dest"
    with pytest.raises(fm.DataNotFoundError, match="SHA-256"):
        fm.download("fashion-mnist", dest=dest, base_url=mirror.as_uri(), progress=False)
    assert list(dest.iterdir()) == []


def test_download_accepts_matching_files(tmp_path, monkeypatch):
    """With the expected checksums patched to the fixture's, a file:// mirror downloads into place."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    spec = fm.DATASETS["mnist"]
    sums = {}
    rng = np.random.default_rng(1)
    for split, count in (("train", 6), ("test", 3)):
        write_split(mirror, rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
                    np.arange(count, dtype=np.uint8), split)
    for name in spec.sha256:
        sums[name] = fm.sha256_of(mirror / name)
    monkeypatch.setitem(fm.DATASETS, "mnist", fm.DatasetSpec(**{**spec.__dict__, "sha256": sums}))
    dest = fm.download("mnist", dest=tmp_path / "mnist", base_url=mirror.as_uri(), progress=False)
    monkeypatch.setenv(fm.DATA_ENV, str(dest))
    fm._read_split.cache_clear()
    assert len(fm.load_mnist("train")) == 6 and len(fm.load_mnist("test")) == 3


def test_real_fashion_mnist_when_installed():
    if fm.find_data_dir() is None:
        pytest.skip("Fashion-MNIST is not installed here (./course test installs it)")
    data = fm.load_fashion_mnist("test", limit=100)
    assert data.images.shape == (100, 1, 28, 28) and set(data.labels.tolist()) <= set(range(10))


def fake_mirror(tmp_path, monkeypatch, name="mnist"):
    """Tiny gzip files served by a fake ``fetch`` (no network), with the expected checksums patched to theirs."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rng = np.random.default_rng(2)
    for split, count in (("train", 6), ("test", 3)):
        write_split(mirror, rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
                    np.arange(count, dtype=np.uint8), split)
    spec = fm.DATASETS[name]
    sums = {file: fm.sha256_of(mirror / file) for file in spec.sha256}
    monkeypatch.setitem(fm.DATASETS, name, fm.DatasetSpec(**{**spec.__dict__, "sha256": sums}))
    fetched = []

    def fetch(url, out, progress=True):
        fetched.append(url)
        out.write((mirror / url.rsplit("/", 1)[-1]).read_bytes())
    monkeypatch.setattr(fm, "fetch", fetch)
    return fetched


def test_download_goes_where_the_loader_looks(tmp_path, monkeypatch, capsys):
    """Issue 16.1: with GAN_COURSE_DATA set, --download saves there, and the loader then finds the files."""
    fetched = fake_mirror(tmp_path, monkeypatch)
    target = tmp_path / "my-data"
    monkeypatch.setenv(fm.DATA_ENV, str(target))
    fm._read_split.cache_clear()
    assert fm.download_dir("mnist") == target and str(target) in fm.how_to_get("mnist")
    assert fm.main(["--dataset", "mnist", "--download"]) == 0
    assert len(fetched) == 4 and sorted(p.name for p in target.iterdir()) == sorted(fm.DATASETS["mnist"].sha256)
    assert fm.find_data_dir("mnist") == target and len(fm.load_mnist("test")) == 3
    out = capsys.readouterr()
    assert f"saved the mnist files into {target}" in out.err and "mnist train: 6 images" in out.out
    assert fm.main(["--dataset", "mnist", "--download"]) == 0 and len(fetched) == 4  # present: nothing fetched


def test_download_replaces_a_corrupt_file(tmp_path, monkeypatch):
    """A corrupt file found by the loader: the fix the message names (--download) replaces it."""
    fetched = fake_mirror(tmp_path, monkeypatch)
    monkeypatch.setenv(fm.DATA_ENV, str(tmp_path / "d"))
    assert fm.main(["--dataset", "mnist", "--download"]) == 0
    (tmp_path / "d" / "t10k-images-idx3-ubyte.gz").write_bytes(b"broken")
    fm._read_split.cache_clear()
    with pytest.raises(idx.IDXError, match="--download"):
        fm.load_mnist("test")
    assert fm.main(["--dataset", "mnist", "--download"]) == 0 and len(fetched) == 5
    assert len(fm.load_mnist("test")) == 3


def test_unreadable_directory_is_skipped_for_the_next_place(tiny_dir, tmp_path, monkeypatch):
    """Issue 16.7: a data folder that cannot be read is skipped; the next place in the search order serves."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    monkeypatch.setattr(fm, "search_dirs", lambda name="fashion-mnist": [blocked, tiny_dir])
    real_is_file = Path.is_file

    def is_file(self):  # what an unreadable folder does, even as root
        if self.parent == blocked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)
    monkeypatch.setattr(Path, "is_file", is_file)
    assert fm.find_data_dir() == tiny_dir and len(fm.load_fashion_mnist("train")) == 12


def test_plain_and_gzip_files_are_told_apart(tiny_dir):
    path = tiny_dir / "t10k-images-idx3-ubyte"  # the test split is stored uncompressed
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(idx.IDXError, match="looks gzipped.*rename it to t10k-images-idx3-ubyte.gz"):
        fm.load_fashion_mnist("test")
    path.rename(path.with_name(path.name + ".gz"))
    fm._read_split.cache_clear()
    assert len(fm.load_fashion_mnist("test")) == 5


def test_other_image_sizes_are_refused(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    for split in fm.SPLITS:
        write_split(tmp_path, rng.integers(0, 256, (4, 32, 32), dtype=np.uint8), np.zeros(4, np.uint8), split)
    monkeypatch.setenv(fm.DATA_ENV, str(tmp_path))
    fm._read_split.cache_clear()
    with pytest.raises(idx.IDXError, match="32x32.*28x28"):
        fm.load_fashion_mnist("train")
