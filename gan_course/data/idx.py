"""Reader for the IDX format that MNIST and Fashion-MNIST ship in (plain or gzip-compressed).

Layout (big-endian): two zero bytes, a type code, the number of dimensions, one uint32 per dimension, then the data.
Used by ``gan_course.data.fashion_mnist`` (lessons 00 onwards).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

# type code -> NumPy dtype (big-endian where it matters)
GZIP_MAGIC = b"\x1f\x8b"
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """An IDX file that is truncated, corrupt or not IDX at all."""


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of one IDX file into an array of the shape its header states."""
    if len(raw) < 4:
        raise IDXError(f"{source}: {len(raw)} bytes is too short to be an IDX file (need a 4-byte header)")
    if raw[:2] == GZIP_MAGIC:
        raise IDXError(f"{source}: looks gzipped (it starts with the gzip bytes 1f8b) but is read as plain IDX: "
                       f"rename it to end in .gz")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code not in IDX_DTYPES:
        raise IDXError(f"{source}: bad IDX magic {raw[:4].hex()} (expected 0000 + type code in "
                       f"{sorted(hex(c) for c in IDX_DTYPES)} + ndim)")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise IDXError(f"{source}: header says {ndim} dimensions but the file ends after {len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header_end])
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(raw) - header_end
    if body != expected:
        raise IDXError(f"{source}: header shape {shape} needs {expected} data bytes but the file has {body} "
                       f"({'truncated' if body < expected else 'trailing bytes'})")
    return np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file from disk; ``.gz`` files are decompressed. Corrupt files raise ``IDXError``."""
    path = Path(path)
    if path.is_dir():
        raise IDXError(f"{path} is a directory, not an IDX file: remove it and put the IDX file there")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise IDXError(f"{path}: gzip data is corrupt or truncated ({err})") from err
    elif raw[:2] == GZIP_MAGIC:
        raise IDXError(f"{path}: looks gzipped (it starts with the gzip bytes 1f8b) but its name lacks .gz: "
                       f"rename it to {path.name}.gz")
    return parse_idx(raw, source=str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of ``parse_idx``); tests use it to write small fixtures."""
    codes = {np.dtype(v).str.lstrip("<>|="): k for k, v in IDX_DTYPES.items()}
    dtype = np.dtype(array.dtype).newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    key = dtype.str.lstrip("<>|=")
    if key not in codes:
        raise IDXError(f"dtype {array.dtype} cannot be stored as IDX; allowed: uint8, int8, int16, int32, "
                       "float32, float64")
    header = struct.pack(">HBB", 0, codes[key], array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()
