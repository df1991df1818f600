"""The images ``aprende predict`` reads for an image run: an .npy array or a folder of PNGs,
and the .npy arrays it writes for per-pixel tasks (a mask or an image per input)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aprende.cli.errors import UsageError
from aprende.datasets.spec import DataSpec


def is_image_input(path: Path) -> bool:
    """An .npy file or a folder (of PNGs), rather than a CSV of feature rows."""
    return path.suffix.lower() == ".npy" or path.is_dir()


def read_images(path: Path, spec: DataSpec) -> np.ndarray:
    """The (N, C·H·W) pixels of the images in ``path``, as the run's model takes them.

    An .npy holds (N, C, H, W), (N, H, W) for one channel, or (N, C·H·W) rows, in the units
    of the training data; a folder holds PNG files (read in name order; colour averaged to
    grey for a one-channel run; their [0, 1] values scaled to the training data's full ink,
    ``spec.pixel_max``: 16 for the bundled digits)."""
    if spec.input_shape is None:
        raise UsageError(
            f"INPUT: {path} holds images, but the run was trained on feature rows: give a CSV"
        )
    shape = tuple(spec.input_shape)
    if path.is_dir():
        images = _read_png_folder(path, shape) * np.float32(spec.pixel_max or 1.0)
    elif not path.is_file():
        raise UsageError(f"INPUT: the file {str(path)!r} does not exist")
    else:
        try:
            images = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as error:
            raise UsageError(f"INPUT: {path} is not a NumPy .npy array ({error})") from None
    images = np.asarray(images)
    if images.dtype.kind not in "fiub":
        raise UsageError(f"INPUT: {path} holds {images.dtype} values, not pixel numbers")
    size = int(np.prod(shape))
    accepted = [(len(images), *shape), (len(images), size)]
    if shape[0] == 1:
        accepted.append((len(images), *shape[1:]))
    if images.ndim == 0 or tuple(images.shape) not in accepted:
        one = "(N, " + ", ".join(map(str, shape)) + ")"
        raise UsageError(
            f"INPUT: {path} has shape {tuple(images.shape)}; the run expects images of "
            f"{one}"
            + (f" or (N, {shape[1]}, {shape[2]})" if shape[0] == 1 else "")
            + f" or (N, {size})"
        )
    pixels = images.reshape(len(images), size).astype(np.float32)
    if not np.isfinite(pixels).all():
        rows = np.flatnonzero(~np.isfinite(pixels).all(axis=1))
        raise UsageError(f"INPUT: {path}: images {rows[:5].tolist()} hold nan or inf values")
    return pixels


def _read_png_folder(folder: Path, shape: tuple) -> np.ndarray:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise UsageError(f"INPUT: the folder {folder} holds no .png files")
    try:
        from matplotlib import image
    except ImportError:
        raise UsageError(
            "INPUT: reading PNG files needs matplotlib: pip install 'aprende[plots]'"
        ) from None
    channels, height, width = shape
    images = []
    for file in files:
        try:
            pixels = np.asarray(image.imread(file), dtype=np.float32)  # PNG: values in [0, 1]
        except (OSError, ValueError, SyntaxError) as error:
            raise UsageError(f"INPUT: {file} is not a readable PNG ({error})") from None
        if pixels.ndim == 3 and pixels.shape[2] == 4:
            pixels = pixels[..., :3]  # the alpha channel is not part of the image
        if pixels.ndim == 2:
            pixels = pixels[None] if channels == 1 else np.repeat(pixels[None], channels, 0)
        else:
            pixels = pixels.mean(axis=2)[None] if channels == 1 else pixels.transpose(2, 0, 1)
        if pixels.shape != shape:
            raise UsageError(
                f"INPUT: {file} is {pixels.shape[2]}×{pixels.shape[1]} with {pixels.shape[0]} "
                f"channel(s); the run expects {width}×{height} with {channels}"
            )
        images.append(pixels)
    return np.stack(images)


def write_array(path: str, values: np.ndarray) -> None:
    """Write the predictions as one .npy array."""
    if not path.endswith(".npy"):
        raise UsageError(f"output: per-pixel predictions are arrays: give -o FILE.npy, got {path}")
    np.save(path, values, allow_pickle=False)
