"""MNIST and Fashion-MNIST from the standard IDX files, in a folder the user gives.

IDX format (LeCun): two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), a byte with the number of dimensions k, then k big-endian uint32
sizes, then the values, big-endian, row-major. Files may be gzip-compressed (``.gz``).
Nothing is downloaded: fetch the four files once, e.g. ``train-images-idx3-ubyte.gz``.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from aprende.datasets.info import DataBundle, DatasetInfo

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip (recognised by its magic, not its name)."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: truncated or corrupt gzip file ({error})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or not), in native byte order.

    Raises ValueError naming the file when it is not IDX (wrong magic), or when its size does
    not match its header (a truncated download).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _TYPES:
        raise ValueError(
            f"{path}: not an IDX file: expected a magic number 0x0000TTDD with type TT in "
            f"{[hex(t) for t in _TYPES]}, got 0x{data[:4].hex() or 'empty'}"
        )
    dtype, ndim = np.dtype(_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: truncated IDX header: expected {header} bytes for {ndim} dimensions, "
            f"got {len(data)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path}: IDX size mismatch: header says shape {shape} of {dtype.name}, i.e. "
            f"{expected} bytes, but the file holds {len(data)} bytes"
            + (" (truncated)" if len(data) < expected else "")
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _find(folder: Path, stem: str, subfolder: str) -> Path:
    """The file ``stem`` in ``folder`` or ``folder/<subfolder>/raw`` (torchvision's layout),
    with ``-idx`` or ``.idx`` before the dimension tag, gzip-compressed or not."""
    dotted = stem.replace("-idx", ".idx")
    candidates = [
        where / (name + suffix)
        for where in (folder, folder / subfolder / "raw")
        for name in (stem, dotted)
        for suffix in ("", ".gz")
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no {stem}[.gz] in {folder}: looked for {[str(c) for c in candidates]}; aprende does "
        "not download data, put the IDX files there first"
    )


def _load(path, kind: str, name: str, subfolder: str, classes: list[str], flatten: bool):
    if kind not in ("train", "test"):
        raise ValueError(f"load_{name}: kind should be 'train' or 'test', got {kind!r}")
    prefix = "train" if kind == "train" else "t10k"
    folder = Path(path)
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte", subfolder)
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte", subfolder)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"load_{name}: expected images (N, H, W) and labels (N,), got {images.shape} from "
            f"{images_path} and {labels.shape} from {labels_path}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(
            f"load_{name}: labels in {labels_path} should be in [0, {len(classes)}), got "
            f"[{labels.min()}, {labels.max()}]"
        )
    h, w = images.shape[1:]
    X = images.astype(np.float32) / 255.0
    return DataBundle(
        X.reshape(len(X), h * w) if flatten else X,
        labels.astype(np.int64),
        DatasetInfo(
            name=name,
            task="multiclass",
            feature_names=[f"pixel_{i}_{j}" for i in range(h) for j in range(w)],
            target_names=classes,
            description=f"{name} {kind} split read from {images_path.name} and "
            f"{labels_path.name}: {h}x{w} grey-level images scaled to [0, 1].",
            n_samples=len(labels),
            image_shape=(h, w),
        ),
    )


def load_mnist(path: str | os.PathLike, kind: str = "train", flatten: bool = False) -> DataBundle:
    """MNIST handwritten digits from the IDX files in folder ``path``.

    ``kind="train"`` reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (60,000
    images), ``kind="test"`` the ``t10k-`` files (10,000); each ``.gz`` or not, in ``path`` or in
    ``path/MNIST/raw`` (where torchvision keeps them). X (N, 28, 28) float32 in [0, 1] (pixel/255;
    (N, 784) with ``flatten=True``), y (N,) int64 in 0..9.
    """
    return _load(path, kind, "mnist", "MNIST", [str(d) for d in range(10)], flatten)


def load_fashion_mnist(
    path: str | os.PathLike, kind: str = "train", flatten: bool = False
) -> DataBundle:
    """Fashion-MNIST (Zalando) from the IDX files in folder ``path``: the same files, sizes and
    layout as ``load_mnist`` (or ``path/FashionMNIST/raw``), ten classes of clothing."""
    return _load(path, kind, "fashion_mnist", "FashionMNIST", FASHION_CLASSES, flatten)
