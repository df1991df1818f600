"""Scenes composed of real handwritten digits, for per-pixel tasks: segmentation, reconstruction.

A canvas is S×S pixels of blank background (0) with a few of scikit-learn's 8×8 digits (values
0..16 divided by 16, so in [0, 1]) drawn on it, each enlarged ×``scale`` by nearest neighbour
(every pixel repeated into a scale×scale block, so the values stay the digit's own) and put at
a random position inside the canvas: of 16 random candidate positions, the one where the
digit's non-zero pixels meet the fewest non-zero pixels of the digits already drawn, so that
digits seldom cover one another. Where they do overlap, the digit drawn later lies on top: each
pixel shows the last digit whose image is non-zero there.

Train, validation and test canvases come from disjoint sets of source digits: the 1797 digits
are split once, stratified by class, with ``train_val_test_split(val_size=0.15,
test_size=0.15, seed=0)`` (1257 / 270 / 270 digits); the split is the same on every call, for
every canvas ``seed``, and ``kind`` picks the set a canvas draws its digits from, so a test
canvas never shows a digit image seen in training. ``canvas_source_digits(kind)`` gives the
indices, into ``load_digits()``, of each set.
"""

from __future__ import annotations

import numbers

import numpy as np

from aprende import backend
from aprende.data import train_val_test_split
from aprende.datasets.images import image_info, load_digits_images, pixel_names
from aprende.datasets.info import DataBundle
from aprende.datasets.synthetic import _check_n

KINDS = ("train", "val", "test")
_SOURCE_SPLIT = {"val_size": 0.15, "test_size": 0.15, "seed": 0}
INK_THRESHOLD = 0.25  # the default value from which a pixel counts as its digit's ink
_CANDIDATES = 16  # random positions tried per digit; the least overlapping one is kept


def canvas_source_digits(kind: str = "train") -> np.ndarray:
    """The indices, into ``load_digits()`` (or ``load_digits_images()``), of the source digits
    that canvases of ``kind`` ("train", "val" or "test") are drawn from: the three sets are
    disjoint, cover the 1797 digits, keep each class's share, and never change."""
    if kind not in KINDS:
        raise ValueError(f"canvas_source_digits: kind should be one of {KINDS}, got {kind!r}")
    return _sources(load_digits_images().target, kind)


def _sources(classes: np.ndarray, kind: str) -> np.ndarray:
    """The sorted indices of ``kind``'s part of the stratified split of the digits."""
    parts = train_val_test_split(np.arange(len(classes)), stratify=classes, **_SOURCE_SPLIT)
    return np.sort(parts[KINDS.index(kind)])


def _generator(seed, kind: str) -> np.random.Generator:
    """The generator of ``kind``'s canvases: an int seed is combined with the kind, so that the
    train, val and test canvases of one seed differ in their layouts as well as their digits."""
    if isinstance(seed, numbers.Integral) and kind in KINDS:
        return np.random.default_rng([int(seed), KINDS.index(kind)])
    return backend.generator_for(seed)


def _compose(images, classes, n, size, digits_per_canvas, scale, ink_threshold, generator):
    """``n`` canvases drawn from the digit images (M, 8, 8) in [0, 1] of classes (M,).

    Returns the canvases (n, S, S) float32, their label maps (n, S, S) int64 (0 where the pixel
    shown is below ``ink_threshold``, else 1 + the class of the digit shown), and the layout:
    the digits drawn, in order, as indices into ``images`` (n, K) (-1 past a canvas's count;
    K the most digits per canvas) and their top-left corners ``rows``, ``cols`` (n, K).
    """
    low, high = digits_per_canvas
    counts = generator.integers(low, high + 1, size=n)
    picks = generator.integers(0, len(images), size=(n, high))
    big = images.repeat(scale, axis=1).repeat(scale, axis=2)  # nearest-neighbour ×scale
    side = big.shape[1]
    canvas = np.zeros((n, size, size), dtype=np.float32)
    labels = np.zeros((n, size, size), dtype=np.int64)
    flat_canvas, flat_labels = canvas.reshape(-1), labels.reshape(-1)  # views: writes land
    rows, cols = np.zeros((n, high), dtype=np.int64), np.zeros((n, high), dtype=np.int64)
    every = np.arange(n)
    block = np.arange(side)[:, None] * size + np.arange(side)  # a digit's block, flat, at (0, 0)
    for slot in range(high):
        digit = big[picks[:, slot]]
        r = generator.integers(0, size - side + 1, size=(n, _CANDIDATES))
        c = generator.integers(0, size - side + 1, size=(n, _CANDIDATES))
        # The flat positions of the block at each candidate corner of every canvas (n, T, h, w).
        at = (every[:, None] * size * size + r * size + c)[:, :, None, None] + block
        clash = ((flat_canvas[at] > 0) & (digit[:, None] > 0)).sum(axis=(2, 3))
        best = clash.argmin(axis=1)
        rows[:, slot], cols[:, slot] = r[every, best], c[every, best]
        at = at[every, best]
        shown = (digit > 0) & (slot < counts)[:, None, None]
        label = np.where(digit >= ink_threshold, 1 + classes[picks[:, slot], None, None], 0)
        flat_canvas[at] = np.where(shown, digit, flat_canvas[at])
        flat_labels[at] = np.where(shown, label, flat_labels[at])
    order = np.where(np.arange(high) < counts[:, None], picks, -1)
    return canvas, labels, order, rows, cols


def _canvases(owner, n_samples, size, digits_per_canvas, scale, kind, ink_threshold, generator):
    """The checked arguments' canvases (n, 1, S, S) and label maps (n, S, S) of ``kind``."""
    n = _check_n(n_samples, 1, owner)
    if isinstance(digits_per_canvas, numbers.Integral):
        digits_per_canvas = (digits_per_canvas, digits_per_canvas)
    low, high = (int(k) for k in digits_per_canvas)
    if not 1 <= low <= high:
        raise ValueError(
            f"{owner}: digits_per_canvas should be (low, high) with 1 <= low <= high, got "
            f"{digits_per_canvas}"
        )
    if not isinstance(scale, numbers.Integral) or scale < 1 or size < 8 * scale:
        raise ValueError(
            f"{owner}: expected an int scale >= 1 and size >= 8 * scale (the enlarged digit "
            f"must fit), got size={size}, scale={scale}"
        )
    if not 0 < ink_threshold <= 1:
        raise ValueError(f"{owner}: ink_threshold should be in (0, 1], got {ink_threshold}")
    if kind not in KINDS:
        raise ValueError(f"{owner}: kind should be one of {KINDS}, got {kind!r}")
    images, classes, _ = load_digits_images()
    sources = _sources(classes, kind)
    canvas, labels, *_ = _compose(
        images[sources, 0],
        classes[sources],
        n,
        int(size),
        (low, high),
        int(scale),
        ink_threshold,
        generator,
    )
    return canvas[:, None], labels, (low, high)


def make_digit_canvases(
    n_samples: int = 1000,
    size: int = 32,
    digits_per_canvas: int | tuple[int, int] = (2, 4),
    scale: int = 2,
    kind: str = "train",
    ink_threshold: float = INK_THRESHOLD,
    seed=0,
) -> DataBundle:
    """Per-pixel classification (semantic segmentation) of canvases of real digits.

    Each canvas holds between ``digits_per_canvas[0]`` and ``[1]`` digits (uniform count), each
    enlarged ×``scale`` (16×16 at the default 2) and placed as the module docstring says, drawn
    from the source digits of ``kind`` ("train", "val", "test": disjoint sets). Every pixel is
    labelled 0 (background) where the value shown is below ``ink_threshold``, else 1 + the
    class of the digit shown there: 11 classes, "background", "0", ..., "9". Room matters:
    at 32×32 with 2 to 4 digits about one digit in ten has more than a fifth of its ink
    covered by a later one; at ``size=40``, about one in 250.

    X (N, 1, S, S) float32 in [0, 1], y (N, S, S) int64 in 0..10; task "per_element" (train a
    model that outputs (N, 11, S, S) with ``CrossEntropyLoss``). ``seed`` fixes the counts,
    the digits and the positions: an int (combined with ``kind``, so that the kinds' canvases
    differ in layout too), an ``np.random.Generator`` (used as it is), or None (the global
    generator, ``aprende.manual_seed``). 1000 canvases of 32×32 build in about 0.2 s.
    """
    generator = _generator(seed, kind)
    X, y, (low, high) = _canvases(
        "make_digit_canvases",
        n_samples,
        size,
        digits_per_canvas,
        scale,
        kind,
        ink_threshold,
        generator,
    )
    return DataBundle(
        X,
        y,
        image_info(
            "digit_canvases",
            "per_element",
            ["background", *(str(d) for d in range(10))],
            f"{kind} canvases of {size}x{size} pixels with {low} to {high} real handwritten "
            f"digits (enlarged x{scale}) each; every pixel labelled background (0) or 1 + the "
            "class of the digit inked there.",
            X,
        ),
    )


def make_reconstruction_canvases(
    n_samples: int = 1000,
    size: int = 32,
    digits_per_canvas: int | tuple[int, int] = (2, 4),
    scale: int = 2,
    kind: str = "train",
    noise: float = 0.1,
    mask_size: tuple[int, int] = (6, 12),
    seed=0,
) -> DataBundle:
    """Per-pixel regression: restore a digit canvas from a noisy copy with a hole in it.

    The target is the clean canvas x, exactly ``make_digit_canvases(n_samples, size,
    digits_per_canvas, scale, kind, seed=seed).data`` for an int seed. The input is
    x + N(0, noise²) noise (not clipped), with one rectangle per canvas set to 0: its height
    and width uniform in ``mask_size`` = (low, high) pixels, its position uniform inside the
    canvas (U-Net's denoising and inpainting).

    X (N, 1, S, S) float32, y (N, 1, S, S) float32 in [0, 1]; task "multioutput_regression"
    (one output per pixel; train with ``MSELoss``). Seeded as ``make_digit_canvases``.
    """
    owner = "make_reconstruction_canvases"
    if noise < 0:
        raise ValueError(f"{owner}: noise should be >= 0, got {noise}")
    short, long = mask_size
    if not 1 <= short <= long <= size:
        raise ValueError(
            f"{owner}: mask_size should be (low, high) with 1 <= low <= high <= size={size}, "
            f"got {mask_size}"
        )
    generator = _generator(seed, kind)
    clean, _, (low, high) = _canvases(
        owner, n_samples, size, digits_per_canvas, scale, kind, INK_THRESHOLD, generator
    )
    n = len(clean)
    noisy = clean + (noise * generator.standard_normal(clean.shape)).astype(np.float32)
    height = generator.integers(short, long + 1, size=n)
    width = generator.integers(short, long + 1, size=n)
    top, left = generator.integers(0, size - height + 1), generator.integers(0, size - width + 1)
    positions = np.arange(size)
    in_rows = (positions >= top[:, None]) & (positions < (top + height)[:, None])
    in_cols = (positions >= left[:, None]) & (positions < (left + width)[:, None])
    noisy[:, 0][in_rows[:, :, None] & in_cols[:, None, :]] = 0
    return DataBundle(
        noisy,
        clean,
        image_info(
            "digit_reconstruction",
            "multioutput_regression",
            pixel_names(size, size),
            f"{kind} canvases of {size}x{size} pixels with {low} to {high} real handwritten "
            f"digits each, observed with Gaussian noise (std {noise}) and a zeroed rectangle "
            f"({short} to {long} pixels a side); the target is the clean canvas.",
            noisy,
        ),
    )
