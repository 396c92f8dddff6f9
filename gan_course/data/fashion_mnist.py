"""Fashion-MNIST and MNIST from their IDX files, offline first.

Search order for the files (``.gz`` or uncompressed): the ``GAN_COURSE_DATA`` directory, the repository's ``data/``
folder, then Debian's ``/usr/share/datasets/<name>/`` (package ``dataset-fashion-mnist``). Where a network exists
``download`` fetches the official files into ``data/`` and verifies their SHA-256. Used from lesson 00 onwards.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_course.data.idx import IDXError, read_idx

DATA_ENV = "GAN_COURSE_DATA"
MIRROR_ENV = "GAN_COURSE_DATA_MIRROR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SPLITS = ("train", "test")
VALUE_RANGES = ((-1.0, 1.0), (0.0, 1.0))


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    urls: tuple[str, ...]
    sha256: dict  # file name -> SHA-256 of the .gz file
    class_names: tuple[str, ...]
    debian_package: str | None
    sizes: dict  # split -> number of images


FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

DATASETS = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist", title="Fashion-MNIST",
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        },
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        debian_package="dataset-fashion-mnist", sizes={"train": 60000, "test": 10000}),
    "mnist": DatasetSpec(
        name="mnist", title="MNIST",
        urls=("https://ossci-datasets.s3.amazonaws.com/mnist/",),
        sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        class_names=tuple(str(d) for d in range(10)),
        debian_package=None, sizes={"train": 60000, "test": 10000}),
}
FASHION_MNIST_CLASSES = DATASETS["fashion-mnist"].class_names


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
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    return DATASETS[name]


def search_dirs(name: str = "fashion-mnist") -> list[Path]:
    """The directories the loader looks in, in order (the env override first, when set)."""
    _spec(name)
    override = os.environ.get(DATA_ENV)
    if override:
        return [Path(override), Path(override) / name]
    return [REPO_DATA_DIR / name, Path("/usr/share/datasets") / name]


def _file_in(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def find_data_dir(name: str = "fashion-mnist") -> Path | None:
    """The first search directory that holds all four IDX files, or None."""
    stems = [stem for split in SPLITS for stem in FILES[split]]
    for directory in search_dirs(name):
        if all(_file_in(directory, stem) for stem in stems):
            return directory
    return None


def how_to_get(name: str = "fashion-mnist") -> str:
    """The exact commands that put the data where the loader looks."""
    spec = _spec(name)
    lines = [f"{spec.title} was not found. Looked in: " + ", ".join(str(d) for d in search_dirs(name)) + ".",
             "Get it with one of:"]
    if spec.debian_package:
        lines.append(f"  sudo apt-get install {spec.debian_package}      "
                     f"# Debian/Ubuntu, offline-friendly: files land in /usr/share/datasets/{name}/")
    lines.append(f"  python -m gan_course.data.fashion_mnist --dataset {name} --download   "
                 f"# needs internet; saves into {REPO_DATA_DIR / name}/, SHA-256 checked")
    lines.append(f"  export {DATA_ENV}=/path/to/dir   # a directory holding the four *-ubyte(.gz) files")
    return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _read_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    image_stem, label_stem = FILES[split]
    images = read_idx(_file_in(Path(directory), image_stem))
    labels = read_idx(_file_in(Path(directory), label_stem))
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXError(f"{directory}/{image_stem}: expected uint8 images of shape (N, H, W), got "
                       f"{images.dtype} {images.shape}")
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
    images, labels = _read_split(str(directory), split)
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


def download(name: str = "fashion-mnist", dest: Path | None = None, base_url: str | None = None,
             progress: bool = True) -> Path:
    """Download the four official ``.gz`` files into ``dest`` (default ``data/<name>``), SHA-256 verified.

    Each file goes to a temporary name first and is renamed only once its checksum matches, so an interrupted or
    corrupted download never leaves a file the loader would trust.
    """
    from tqdm.auto import tqdm

    spec = _spec(name)
    dest = Path(dest) if dest is not None else REPO_DATA_DIR / name
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
                with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                    total = int(response.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=file_name, disable=not progress) as bar:
                        for block in iter(lambda: response.read(1 << 16), b""):
                            out.write(block)
                            bar.update(len(block))
                actual = sha256_of(tmp)
                if actual != expected:
                    raise IDXError(f"{url}: SHA-256 {actual} does not match the expected {expected}")
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
    if directory is None and args.download:
        directory = download(args.dataset)
    if directory is None:
        print(how_to_get(args.dataset), file=sys.stderr)
        return 1
    for split in SPLITS:
        data = load(args.dataset, split)
        print(f"{args.dataset} {split}: {len(data)} images {tuple(data.images.shape[1:])} from {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
