"""Data augmentation: random, composable, seeded transforms (the slides' "data augmentation").

Each transform is a callable on a NumPy array or a Tensor (the same kind comes back, with the
same dtype for floating inputs) and draws its randomness from ``generator`` (a seed, an
``np.random.Generator``, or None for ``aprende.backend.default_generator()``). Pass one, or a
``Compose`` of several, as ``transform=`` of ``TensorDataset``/``ArrayDataset``: it then applies
to every batch of features, each example drawing its own noise, shift or angle.

Image transforms take one image (H, W), a batch (N, H, W), or a batch with channels
(N, C, H, W) (all channels of an image move together); they are written with NumPy alone.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from aprende import backend
from aprende._tensor import Tensor


def _unwrap(x):
    """x as a NumPy array, and a function turning a result back into x's kind and dtype."""
    is_tensor = isinstance(x, Tensor)
    array = np.asarray(x)
    dtype = array.dtype if np.issubdtype(array.dtype, np.floating) else backend.float32
    device = x.device if is_tensor else None

    def wrap(result: np.ndarray):
        result = result.astype(dtype, copy=False)
        return Tensor(backend.move(result, device)) if is_tensor else result

    return array, wrap


class Compose:
    """Applies transforms one after the other: ``Compose([t1, t2])(x) == t2(t1(x))``."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class _RandomTransform:
    """Holds the generator of a random transform (the global one when none was given)."""

    def __init__(self, generator):
        self._generator = None if generator is None else backend.generator_for(generator)

    @property
    def generator(self) -> np.random.Generator:
        return self._generator if self._generator is not None else backend.default_generator()


class GaussianNoise(_RandomTransform):
    """Adds Gaussian noise: x' = x + mean + std · ε, ε ~ N(0, 1) drawn per element.

    Noise on the inputs regularises (the slides' "ruido"); any shape.
    """

    def __init__(self, std: float = 0.1, mean: float = 0.0, generator=None):
        if std < 0:
            raise ValueError(f"GaussianNoise: std should be non-negative, got {std}")
        super().__init__(generator)
        self.std, self.mean = float(std), float(mean)

    def __call__(self, x):
        array, wrap = _unwrap(x)
        dtype = np.float32 if array.dtype == np.float32 else np.float64
        noise = self.generator.standard_normal(array.shape, dtype=dtype)
        return wrap(array + (self.mean + self.std * noise).astype(dtype, copy=False))

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std}, mean={self.mean})"


def _as_image_batch(array: np.ndarray, owner: str) -> tuple[np.ndarray, tuple]:
    """Images as (N, H, W, C), and the shape to give the result back in."""
    if array.ndim == 2:
        return array[None, :, :, None], array.shape
    if array.ndim == 3:
        return array[:, :, :, None], array.shape
    if array.ndim == 4:
        return array.transpose(0, 2, 3, 1), array.shape
    raise ValueError(
        f"{owner}: expected images of shape (H, W), (N, H, W) or (N, C, H, W), got {array.shape}"
    )


def _from_image_batch(images: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of ``_as_image_batch``."""
    if len(shape) == 4:
        return images.transpose(0, 3, 1, 2)
    return images.reshape(shape)


def _sample(images: np.ndarray, rows, cols, fill: float, interpolation: str) -> np.ndarray:
    """out[n, i, j] = images[n, rows[n, i, j], cols[n, i, j]] for (N, H, W, C) images.

    Source coordinates are real numbers: "nearest" takes the closest pixel, "bilinear" weighs
    the four around it; a source outside the image reads ``fill``.
    """
    n, h, w, _ = images.shape
    batch = np.arange(n)[:, None, None]

    def read(r, c):
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        values = images[batch, np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)]
        return np.where(inside[..., None], values, fill)

    if interpolation == "nearest":
        return read(np.rint(rows).astype(np.int64), np.rint(cols).astype(np.int64))
    r0, c0 = np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)
    wr, wc = (rows - r0)[..., None], (cols - c0)[..., None]
    top = read(r0, c0) * (1 - wc) + read(r0, c0 + 1) * wc
    bottom = read(r0 + 1, c0) * (1 - wc) + read(r0 + 1, c0 + 1) * wc
    return top * (1 - wr) + bottom * wr


class RandomShift(_RandomTransform):
    """Shifts each image by a random whole number of pixels (dy, dx), each uniform in
    [−max_shift, max_shift]; pixels shifted in from outside get ``fill``.

    out[i, j] = image[i − dy, j − dx]. Images (H, W), (N, H, W) or (N, C, H, W).
    """

    def __init__(self, max_shift: int, fill: float = 0.0, generator=None):
        if not isinstance(max_shift, numbers.Integral) or max_shift < 0:
            raise ValueError(
                f"RandomShift: max_shift should be a non-negative int, got {max_shift!r}"
            )
        super().__init__(generator)
        self.max_shift, self.fill = int(max_shift), fill

    def __call__(self, x):
        array, wrap = _unwrap(x)
        images, shape = _as_image_batch(array, "RandomShift")
        n, h, w, _ = images.shape
        dy, dx = self.generator.integers(-self.max_shift, self.max_shift + 1, size=(2, n))
        rows = np.broadcast_to(np.arange(h)[None, :, None] - dy[:, None, None], (n, h, w))
        cols = np.broadcast_to(np.arange(w)[None, None, :] - dx[:, None, None], (n, h, w))
        return wrap(_from_image_batch(_sample(images, rows, cols, self.fill, "nearest"), shape))

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, fill={self.fill})"


class RandomRotation(_RandomTransform):
    """Rotates each image about its centre by a random angle θ, counter-clockwise as displayed
    (as torchvision), θ uniform in [−degrees, degrees] (or in (a, b) for ``degrees=(a, b)``).

    Inverse mapping: output pixel (i, j), at (y, x) = (i − c_y, j − c_x) from the centre, reads
    the input at (c_y + x sin θ + y cos θ, c_x + x cos θ − y sin θ), with ``interpolation``
    "nearest" (default, as torchvision) or "bilinear"; sources outside the image read ``fill``.
    Images (H, W), (N, H, W) or (N, C, H, W).
    """

    def __init__(
        self,
        degrees: float | tuple[float, float],
        interpolation: str = "nearest",
        fill: float = 0.0,
        generator=None,
    ):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees should be non-negative, got {degrees}")
            degrees = (-degrees, degrees)
        if len(degrees) != 2 or degrees[0] > degrees[1]:
            raise ValueError(
                f"RandomRotation: degrees should be a number or (min, max), got {degrees}"
            )
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                "RandomRotation: interpolation should be 'nearest' or 'bilinear', "
                f"got {interpolation!r}"
            )
        super().__init__(generator)
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation = interpolation
        self.fill = fill

    def __call__(self, x):
        array, wrap = _unwrap(x)
        images, shape = _as_image_batch(array, "RandomRotation")
        n, h, w, _ = images.shape
        theta = np.deg2rad(self.generator.uniform(*self.degrees, size=n))[:, None, None]
        y = np.arange(h)[None, :, None] - (h - 1) / 2
        x_ = np.arange(w)[None, None, :] - (w - 1) / 2
        sin, cos = np.sin(theta), np.cos(theta)
        rows = (h - 1) / 2 + x_ * sin + y * cos
        cols = (w - 1) / 2 + x_ * cos - y * sin
        rotated = _sample(images, rows, cols, self.fill, self.interpolation)
        return wrap(_from_image_batch(rotated, shape))

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation!r})"
