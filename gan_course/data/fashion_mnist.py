"""Fashion-MNIST and MNIST from their IDX files, offline first.

Search order: ``GAN_COURSE_DATA``, the repository's ``data/``, then ``/usr/share/datasets/<name>/``; ``download``
fetches the official files and verifies their SHA-256.

Command line:  python -m gan_course.data.fashion_mnist [--dataset mnist] [--download]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_course.core import runtime
from gan_course.data.idx import IDXError, read_idx

DATA_ENV = "GAN_COURSE_DATA"
MIRROR_ENV = "GAN_COURSE_DATA_MIRROR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SPLITS = ("train", "test")
VALUE_RANGES = ((-1.0, 1.0), (0.0, 1.0))
IMAGE_SIZE = (28, 28)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    urls: tuple[str, ...]
    sha256: dict  # file name -> SHA-256 of the .gz file
    class_names: tuple[str, ...]
    debian_package: str | None
    sizes: dict = field(default_factory=lambda: {"train": 60000, "test": 10000})  # split -> number of images


FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

def _sha256sums(text: str) -> dict:
    """``{file name: SHA-256}`` from lines in ``sha256sum``'s format, ``<hex digest>  <file name>``."""
    return {name: digest for digest, name in (line.split() for line in text.strip().splitlines())}


DATASETS = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist", title="Fashion-MNIST",
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256=_sha256sums("""
            b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz
            0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz
            cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz
            8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz"""),
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        debian_package="dataset-fashion-mnist"),
    "mnist": DatasetSpec(
        name="mnist", title="MNIST",
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        sha256=_sha256sums("""
            440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  train-images-idx3-ubyte.gz
            3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  train-labels-idx1-ubyte.gz
            8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  t10k-images-idx3-ubyte.gz
            f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  t10k-labels-idx1-ubyte.gz"""),
        class_names=tuple(str(d) for d in range(10)),
        debian_package=None),
}


class DataNotFoundError(FileNotFoundError):
    """The data set's files are nowhere the loader looks; the message says how to get them."""


@dataclass(frozen=True)
class ImageDataset:
    """Images ``(N, 1, 28, 28)`` float32 in ``value_range``, labels ``(N,)`` int64, and the class names."""
    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    name: str
    split: str
    value_range: tuple[float, float]

    def __len__(self) -> int:
        return len(self.labels)


def _spec(name: str) -> DatasetSpec:
    return runtime.lookup(DATASETS, name, "data set")


def search_dirs(name: str = "fashion-mnist") -> list[Path]:
    """The directories the loader looks in, in order (the env override first, when set)."""
    _spec(name)
    override = os.environ.get(DATA_ENV)
    if override:
        return [Path(override), Path(override) / name]
    return [REPO_DATA_DIR / name, Path("/usr/share/datasets") / name]


def download_dir(name: str = "fashion-mnist") -> Path:
    """Where ``download`` saves by default: the ``GAN_COURSE_DATA`` directory when set (the loader looks there
    first), else ``data/<name>`` in the repository."""
    _spec(name)
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else REPO_DATA_DIR / name


def _file_in(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # an unreadable directory (PermissionError): the caller tries the next place
            return None
    return None


STEMS = tuple(stem for split in SPLITS for stem in FILES[split])


def find_data_dir(name: str = "fashion-mnist") -> Path | None:
    """The first search directory that holds all four IDX files, or None (unreadable directories are skipped)."""
    for directory in search_dirs(name):
        if all(_file_in(directory, stem) for stem in STEMS):
            return directory
    return None


def problems(name: str = "fashion-mnist") -> list[str]:
    """What stopped each search directory from serving the data, in words (a file where a folder should be,
    a folder where a file should be, an unreadable folder, missing files)."""
    found = []
    override = os.environ.get(DATA_ENV)
    if override and Path(override).exists() and not Path(override).is_dir():
        found.append(f"{DATA_ENV}={override} is a file, not a directory: point it at the directory that holds "
                     "the four *-ubyte(.gz) files")
    for directory in search_dirs(name):
        try:
            if not directory.is_dir():
                continue
            entries = {entry.name: entry for entry in directory.iterdir()}
        except OSError as err:
            found.append(f"{directory} cannot be read ({err.strerror or err}): skipped, the next place was tried")
            continue
        missing = []
        for stem in STEMS:
            folders = [entries[n] for n in (f"{stem}.gz", stem) if n in entries and entries[n].is_dir()]
            if _file_in(directory, stem) is None:
                if folders:
                    found.append(f"{folders[0]} is a directory, not an IDX file: remove it and put the file "
                                 f"{stem}.gz there")
                else:
                    missing.append(stem)
        if missing and len(missing) < len(STEMS):
            found.append(f"{directory} lacks {', '.join(missing)} (.gz or uncompressed)")
    return found


def how_to_get(name: str = "fashion-mnist") -> str:
    """The exact commands that put the data where the loader looks, after whatever went wrong in the search."""
    spec = _spec(name)
    lines = [f"{spec.title} was not found. Looked in: " + ", ".join(str(d) for d in search_dirs(name)) + "."]
    lines += [f"  Problem: {problem}" for problem in problems(name)]
    lines.append("Get it with one of:")
    if spec.debian_package:
        lines.append(f"  sudo apt-get install {spec.debian_package}      "
                     f"# Debian/Ubuntu, offline-friendly: files land in /usr/share/datasets/{name}/")
    lines.append(f"  {download_command(name)}   "
                 f"# needs internet; saves into {download_dir(name)}/, SHA-256 checked")
    lines.append(f"  export {DATA_ENV}=/path/to/dir   # a directory holding the four *-ubyte(.gz) files")
    return "\n".join(lines)


def download_command(name: str = "fashion-mnist") -> str:
    return f"python -m gan_course.data.fashion_mnist --dataset {name} --download"


def how_to_fix(name: str = "fashion-mnist") -> str:
    """The commands that replace a corrupt or foreign file (README: "Getting the data")."""
    spec = _spec(name)
    lines = [f"To fix it, fetch verified files: {download_command(name)}  (needs internet; saves into "
             f"{download_dir(name)}/, which the loader searches first, and replaces files whose SHA-256 is wrong)"]
    if spec.debian_package:
        lines.append(f"or, for the Debian package's files: sudo apt-get install --reinstall {spec.debian_package}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _read_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_stem, label_stem = FILES[split]
    images = read_idx(_file_in(Path(directory), image_stem))
    labels = read_idx(_file_in(Path(directory), label_stem))
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXError(f"{directory}/{image_stem}: expected uint8 images of shape (N, 28, 28), got "
                       f"{images.dtype} {images.shape}")
    if images.shape[1:] != IMAGE_SIZE:
        raise IDXError(f"{directory}/{image_stem}: images are {images.shape[1]}x{images.shape[2]}, but Fashion-MNIST "
                       f"and MNIST images are {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}: this file holds another data set")
    if labels.ndim != 1 or len(labels) != len(images):
        raise IDXError(f"{directory}: {len(images)} images but labels of shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise IDXError(f"{directory}/{label_stem}: label {int(labels.max())} is outside the classes 0..9")
    return images, labels


def load(name: str = "fashion-mnist", split: str = "train", value_range=(-1.0, 1.0),
         limit: int | None = None) -> ImageDataset:
    """Load one split as tensors scaled to ``value_range`` ((-1, 1) for tanh generators, or (0, 1))."""
    spec = _spec(name)
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {SPLITS}")
    value_range = tuple(float(v) for v in value_range)
    if value_range not in VALUE_RANGES:
        raise ValueError(f"value_range {value_range} is not one of {VALUE_RANGES}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    directory = find_data_dir(name)
    if directory is None:
        raise DataNotFoundError(how_to_get(name))
    try:
        images, labels = _read_split(str(directory), split)
    except IDXError as err:
        raise IDXError(f"{err}\n{how_to_fix(name)}") from None
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    low, high = value_range
    x = torch.from_numpy(images.astype(np.float32)).unsqueeze(1)  # (N, H, W) -> (N, 1, H, W)
    x = x / 255.0 * (high - low) + low
    y = torch.from_numpy(labels.astype(np.int64))
    return ImageDataset(x, y, spec.class_names, name, split, value_range)


def load_fashion_mnist(split: str = "train", value_range=(-1.0, 1.0), limit: int | None = None) -> ImageDataset:
    """Fashion-MNIST, see ``load``."""
    return load("fashion-mnist", split, value_range, limit)


def load_mnist(split: str = "train", value_range=(-1.0, 1.0), limit: int | None = None) -> ImageDataset:
    """MNIST, see ``load`` (no Debian package: ``download("mnist")`` first where a network exists)."""
    return load("mnist", split, value_range, limit)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, out, progress: bool = True) -> None:
    """Copy the bytes at ``url`` into the binary file ``out`` (the one function that touches the network)."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def download(name: str = "fashion-mnist", dest: Path | None = None, base_url: str | None = None,
             progress: bool = True) -> Path:
    """Download the four official ``.gz`` files into ``dest`` (default ``download_dir(name)``), SHA-256 verified
    before each is renamed into place."""
    spec = _spec(name)
    dest = Path(dest) if dest is not None else download_dir(name)
    if dest.exists() and not dest.is_dir():
        named = f" ({DATA_ENV}={os.environ[DATA_ENV]})" if os.environ.get(DATA_ENV) == str(dest) else ""
        raise DataNotFoundError(f"cannot download into {dest}{named}: it is a file, not a directory. Point "
                                f"{DATA_ENV} at a directory (it is created if missing), or unset it to use "
                                f"{REPO_DATA_DIR / name}")
    dest.mkdir(parents=True, exist_ok=True)
    bases = [base_url or os.environ.get(MIRROR_ENV)] if (base_url or os.environ.get(MIRROR_ENV)) else spec.urls
    for file_name, expected in spec.sha256.items():
        target = dest / file_name
        if target.is_file() and sha256_of(target) == expected:
            continue
        errors = []
        for base in bases:
            url = base.rstrip("/") + "/" + file_name
            fd, tmp_name = tempfile.mkstemp(prefix=file_name + ".", suffix=".part", dir=dest)
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out:
                    fetch(url, out, progress)
                actual = sha256_of(tmp)
                if actual != expected:
                    raise IDXError(f"SHA-256 {actual} does not match the expected {expected}")
                os.replace(tmp, target)
                break
            except (urllib.error.URLError, OSError, IDXError) as err:
                errors.append(f"{url}: {err}")
            finally:
                tmp.unlink(missing_ok=True)
        else:
            raise DataNotFoundError(f"could not download {file_name}:\n  " + "\n  ".join(errors) + "\n\n"
                                    + how_to_get(name))
    _read_split.cache_clear()
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check for (or download) the course's image data sets.")
    parser.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS))
    parser.add_argument("--download", action="store_true", help="download when missing (needs internet)")
    args = parser.parse_args(argv)
    directory = find_data_dir(args.dataset)
    if args.download and (directory is None or not _loads(args.dataset)):
        try:
            directory = download(args.dataset)
        except DataNotFoundError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"saved the {args.dataset} files into {directory}", file=sys.stderr)
    if find_data_dir(args.dataset) is None:
        print(how_to_get(args.dataset), file=sys.stderr)
        return 1
    try:
        for split in SPLITS:
            data = load(args.dataset, split)
            print(f"{args.dataset} {split}: {len(data)} images {tuple(data.images.shape[1:])} from "
                  f"{find_data_dir(args.dataset)}")
    except IDXError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def _loads(name: str) -> bool:
    """True when both splits of ``name`` load without an ``IDXError`` (a corrupt file is worth a download)."""
    try:
        for split in SPLITS:
            _read_split(str(find_data_dir(name)), split)
    except IDXError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
