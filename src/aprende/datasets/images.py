"""Image data sets, offline, as X (N, C, H, W) float32 in [0, 1]: what ``Conv2d`` takes.

- ``load_digits_images``: scikit-learn's 8×8 handwritten digits, (1797, 1, 8, 8), 10 classes
  (``pip install 'aprende[datasets]'``).
- ``load_faces``: the 200 LFW crops scikit-image ships, (200, 1, 25, 25), faces vs non-faces
  (``pip install 'aprende[images]'``).
- ``load_idx_images``: MNIST or Fashion-MNIST from the IDX files in a folder you give,
  (N, 1, 28, 28), with the official train/test split (``kind``).

The scenes composed of the digits, for segmentation and reconstruction, are in
``aprende.datasets.canvases``. ``info.input_shape`` is (C, H, W) and ``info.image_shape``
(H, W) for all of them.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from aprende.datasets.bundled import load_digits
from aprende.datasets.idx import load_fashion_mnist, load_mnist
from aprende.datasets.info import DataBundle, DatasetInfo

# The image data sets a command line can name, as ``aprende.config.DATASETS`` lists the others:
# the ``aprende.datasets`` loader, its options, whether it is synthetic (then the run's seed
# is passed as ``seed``) and the run settings it trains with unless the user sets them. The
# canvases also take ``kind`` ("train", "val" or "test"): each kind is drawn from its own source
# digits (see ``aprende.datasets.canvases``).
IMAGE_DATASETS: dict[str, dict] = {
    "digits_images": {"loader": "load_digits_images", "options": {}, "synthetic": False},
    "faces": {"loader": "load_faces", "options": {}, "synthetic": False},
    "digit_canvases": {
        "loader": "make_digit_canvases",
        # 700 training canvases and Adam at 3e-3 in batches of 16 on the raw [0, 1] ink: a
        # U-Net of width 16 stops early at 0.835 test mean IoU (600 canvases, lr 1e-3, batches
        # of 32 and per-pixel standardisation reached 0.59 in 30 epochs).
        "options": {"n_samples": 1000},
        "synthetic": True,
        "settings": {
            "lr": 3e-3,
            "batch_size": 16,
            "normalization": "none",
            "epochs": 30,
            "patience": 8,
        },
    },
    "digit_reconstruction": {
        "loader": "make_reconstruction_canvases",
        "options": {"n_samples": 600},
        "synthetic": True,
    },
}

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_IDX_LOADERS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}


def pixel_names(height: int, width: int) -> list[str]:
    """``pixel_i_j`` for row i and column j, row by row (as scikit-learn names the digits')."""
    return [f"pixel_{i}_{j}" for i in range(height) for j in range(width)]


def image_info(name: str, task: str, target_names: list[str], description: str, images):
    """The ``DatasetInfo`` of single-channel images ``images`` (N, 1, H, W)."""
    _, channels, height, width = images.shape
    return DatasetInfo(
        name=name,
        task=task,
        feature_names=pixel_names(height, width),
        target_names=target_names,
        description=description,
        n_samples=len(images),
        image_shape=(height, width),
        input_shape=(channels, height, width),
    )


def load_digits_images() -> DataBundle:
    """scikit-learn's handwritten digits as images: X (1797, 1, 8, 8) float32 in [0, 1] (the
    raw counts 0..16 divided by 16), y (1797,) int64 in 0..9; multiclass, about 180 per class.

    The same digits, in the same order, as ``load_digits`` (whose X is (1797, 64), 0..16).
    """
    X, y, info = load_digits()
    height, width = info.image_shape
    images = X.reshape(len(X), 1, height, width) / np.float32(16)
    return DataBundle(
        images,
        y,
        image_info(
            "digits_images",
            "multiclass",
            info.target_names,
            "UCI optical recognition of handwritten digits: 1797 grey-level images of 8x8 "
            "pixels (counts 0-16 of set pixels in 4x4 blocks of a 32x32 scan), scaled to [0, 1].",
            images,
        ),
    )


def load_faces() -> DataBundle:
    """Faces vs non-faces: the subset of Labeled Faces in the Wild that scikit-image ships.

    X (200, 1, 25, 25) float32 in [0, 1]: 100 face crops, then 100 crops of the same photos'
    backgrounds, each resized to 25×25; y (200,) int64, 1 = face (the first 100), 0 = non-face
    (the last 100); binary. Needs scikit-image (``pip install 'aprende[images]'``), which holds
    the images in its wheel: nothing is downloaded.
    """
    try:
        from skimage import data
    except ImportError as error:
        raise ImportError(
            "load_faces reads the LFW subset that scikit-image ships, and scikit-image is not "
            "installed: pip install 'aprende[images]'"
        ) from error
    images = np.asarray(data.lfw_subset())
    if images.dtype == np.uint8:
        images = images / 255.0
    X = images.astype(np.float32)[:, None]
    n_faces = len(X) // 2  # scikit-image: "100 first images are faces and subsequent 100 are not"
    y = (np.arange(len(X)) < n_faces).astype(np.int64)
    return DataBundle(
        X,
        y,
        image_info(
            "faces",
            "binary",
            ["non-face", "face"],
            f"Huang et al. (2012), LFW: {n_faces} face crops and {len(X) - n_faces} background "
            "crops of the same photos, 25x25 grey levels in [0, 1]; 1 = face.",
            X,
        ),
    )


def load_idx_images(
    path: str | os.PathLike, kind: str = "train", dataset: str = "mnist"
) -> DataBundle:
    """MNIST or Fashion-MNIST images from the IDX files in folder ``path``, with a channel axis.

    The folder holds the official split as four files (each ``.gz`` or not; in ``path`` or, as
    torchvision keeps them, ``path/MNIST/raw`` or ``path/FashionMNIST/raw``):
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` (60,000 examples) and
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (10,000). ``kind="train"`` reads the
    first two, ``kind="test"`` the other two; nothing is downloaded.

    X (N, 1, H, W) float32 in [0, 1] (pixel/255; H = W = 28 for the official files), y (N,)
    int64 in 0..9: digits for ``dataset="mnist"``, clothing classes (``info.target_names``) for
    ``dataset="fashion_mnist"``. ``load_mnist`` gives the same images without the channel axis.
    """
    if dataset not in _IDX_LOADERS:
        raise ValueError(
            f"load_idx_images: dataset should be one of {list(_IDX_LOADERS)}, got {dataset!r}"
        )
    if kind not in ("train", "test"):
        raise ValueError(f"load_idx_images: kind should be 'train' or 'test', got {kind!r}")
    folder = Path(path)
    expected = ", ".join(f"{name}[.gz]" for name in IDX_FILES)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"load_idx_images: {folder} is not a folder; expected a folder holding {expected}"
        )
    try:
        X, y, info = _IDX_LOADERS[dataset](folder, kind=kind)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"load_idx_images: {error}; a {dataset} folder holds {expected}"
        ) from None
    return DataBundle(X[:, None], y, dataclasses.replace(info, input_shape=(1, *X.shape[1:])))
