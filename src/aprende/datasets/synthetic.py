"""Synthetic data sets for teaching: each shows one thing a model can or cannot learn.

Every generator is seeded: ``seed`` is an int, an ``np.random.Generator``, or None for
``aprende.backend.default_generator()`` (seeded by ``aprende.manual_seed``). Each returns
``X, y, info`` (a ``DataBundle``): float32 features, int64 class labels (float32 0/1 for
multi-label, the targets ``BCEWithLogitsLoss`` takes), float32 regression targets.
"""

from __future__ import annotations

import numbers

import numpy as np

from aprende import backend
from aprende.datasets.info import DataBundle, DatasetInfo


def _check_n(n_samples, minimum: int, owner: str) -> int:
    if not isinstance(n_samples, numbers.Integral) or n_samples < minimum:
        raise ValueError(f"{owner}: n_samples should be an int >= {minimum}, got {n_samples!r}")
    return int(n_samples)


def _bundle(X, y, generator, shuffle: bool, **info) -> DataBundle:
    """Shuffles the rows (when asked) and packs float32 features with their labels."""
    if shuffle:
        order = generator.permutation(len(X))
        X, y = X[order], y[order]
    n_features = int(np.prod(X.shape[1:]))
    info.setdefault("feature_names", [f"x{i}" for i in range(n_features)])
    return DataBundle(X.astype(np.float32), y, DatasetInfo(n_samples=len(X), **info))


def _classes(n: int) -> list[str]:
    return [str(c) for c in range(n)]


def make_xor(
    n_samples: int = 200, noise: float = 0.1, shuffle: bool = True, seed=None
) -> DataBundle:
    """The XOR problem, which no single perceptron solves: X (N, 2) around the four corners
    (0,0), (0,1), (1,0), (1,1) (taken in turn) plus N(0, noise²) noise, y = x₁ XOR x₂ (N,) int64.

    ``make_xor(4, noise=0, shuffle=False)`` is the truth table.
    """
    n = _check_n(n_samples, 1, "make_xor")
    generator = backend.generator_for(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)[np.arange(n) % 4]
    X = corners + noise * generator.standard_normal((n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(np.int64)
    return _bundle(
        X,
        y,
        generator,
        shuffle,
        name="xor",
        task="binary",
        target_names=_classes(2),
        description="XOR of two binary inputs, with Gaussian noise: not linearly separable.",
    )


def _unit_circle(t: np.ndarray) -> np.ndarray:
    """Points (cos t, sin t), (len(t), 2)."""
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _two_curves(n: int, curve0, curve1, noise: float, shuffle: bool, seed, **info) -> DataBundle:
    """⌊N/2⌋ points of ``curve0`` (class 0) and the rest of ``curve1`` (class 1), plus
    N(0, noise²) noise; ``curveₖ(m)`` gives m points."""
    generator = backend.generator_for(seed)
    n_out, n_in = n // 2, n - n // 2
    X = np.concatenate([curve0(n_out), curve1(n_in)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_out, n_in])
    if noise:
        X = X + noise * generator.standard_normal(X.shape)
    return _bundle(X, y, generator, shuffle, task="binary", target_names=_classes(2), **info)


def make_moons(
    n_samples: int = 100, noise: float = 0.0, shuffle: bool = True, seed=None
) -> DataBundle:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons`` (same points when
    ``noise=0, shuffle=False``): the upper moon (cos t, sin t) is class 0 (⌊N/2⌋ points), the
    lower one (1 − cos t, 1/2 − sin t) class 1, t evenly spaced in [0, π]; X (N, 2), y (N,)."""
    n = _check_n(n_samples, 2, "make_moons")
    return _two_curves(
        n,
        lambda m: _unit_circle(np.linspace(0, np.pi, m)),
        lambda m: np.array([1.0, 0.5]) - _unit_circle(np.linspace(0, np.pi, m)),
        noise,
        shuffle,
        seed,
        name="moons",
        description="Two interleaving half circles: a curved decision boundary.",
    )


def make_circles(
    n_samples: int = 100, noise: float = 0.0, factor: float = 0.8, shuffle: bool = True, seed=None
) -> DataBundle:
    """A circle inside another, as ``sklearn.datasets.make_circles`` (same points when
    ``noise=0, shuffle=False``): ⌊N/2⌋ points on the unit circle (class 0) and the rest on the
    circle of radius ``factor`` (class 1), evenly spaced angles; X (N, 2), y (N,)."""
    n = _check_n(n_samples, 2, "make_circles")
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor should be in [0, 1), got {factor}")
    return _two_curves(
        n,
        lambda m: _unit_circle(np.linspace(0, 2 * np.pi, m, endpoint=False)),
        lambda m: factor * _unit_circle(np.linspace(0, 2 * np.pi, m, endpoint=False)),
        noise,
        shuffle,
        seed,
        name="circles",
        description="Two concentric circles: separable only by a closed boundary.",
    )


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
    shuffle: bool = True,
    seed=None,
) -> DataBundle:
    """Interleaved spiral arms, one per class (the two-spirals benchmark).

    Class k's points are (r cos(t + 2πk/C), r sin(t + 2πk/C)) + N(0, noise²) with
    t evenly spaced over ``turns`` revolutions and r growing linearly from 0.1 to 1 with t;
    X (N, 2), y (N,) in 0..C−1 (N split as evenly as possible).
    """
    n = _check_n(n_samples, n_classes, "make_spirals")
    generator = backend.generator_for(seed)
    counts = np.full(n_classes, n // n_classes) + (np.arange(n_classes) < n % n_classes)
    arms = []
    for k, m in enumerate(counts):
        t = np.linspace(0, 2 * np.pi * turns, m)
        r = np.linspace(0.1, 1.0, m)
        angle = t + 2 * np.pi * k / n_classes
        arms.append(r[:, None] * _unit_circle(angle))
    X = np.concatenate(arms) + noise * generator.standard_normal((n, 2))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    return _bundle(
        X,
        y,
        generator,
        shuffle,
        name="spirals",
        task="binary" if n_classes == 2 else "multiclass",
        target_names=_classes(n_classes),
        description=f"{n_classes} interleaved spiral arms of {turns} turns: hard for "
        "shallow models.",
    )


def _separate(X, y, centers, margin: float) -> np.ndarray:
    """Moves the points of two blobs to their own side of the hyperplane that bisects the
    centres, at least ``margin`` away from it: a point at signed distance d < margin (positive
    on its own side) is moved along the normal to distance margin + |d|."""
    normal = centers[1] - centers[0]
    norm = np.linalg.norm(normal)
    normal = normal / norm if norm > 0 else np.eye(len(normal))[0]
    side = np.where(y == 1, 1.0, -1.0)
    d = (X - centers.mean(axis=0)) @ normal * side
    target = np.where(d < margin, margin + np.abs(d), d)
    return X + ((target - d) * side)[:, None] * normal


def make_blobs(
    n_samples: int = 100,
    n_features: int = 2,
    centers: int | np.ndarray = 3,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    linearly_separable: bool = False,
    margin: float = 0.5,
    shuffle: bool = True,
    seed=None,
) -> DataBundle:
    """Gaussian blobs, one per class: x = μ_y + cluster_std · ε, ε ~ N(0, I), as scikit-learn's.

    ``centers`` is a number C of centres drawn uniformly in ``center_box``, or a (C, D) array.
    With ``linearly_separable=True`` (two classes only; the perceptron's case) points on the
    wrong side of the hyperplane bisecting the two centres, or closer to it than ``margin``,
    are reflected across it to distance ``margin`` + |d|, so the classes are separable with
    that margin and the perceptron learning rule converges. X (N, D), y (N,).
    """
    n = _check_n(n_samples, 1, "make_blobs")
    generator = backend.generator_for(seed)
    if isinstance(centers, numbers.Integral):
        centers = generator.uniform(*center_box, size=(int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    n_centers = len(centers)
    if linearly_separable and n_centers != 2:
        raise ValueError(f"make_blobs: linearly_separable needs exactly 2 centres, got {n_centers}")
    counts = np.full(n_centers, n // n_centers) + (np.arange(n_centers) < n % n_centers)
    y = np.repeat(np.arange(n_centers, dtype=np.int64), counts)
    X = centers[y] + cluster_std * generator.standard_normal((n, centers.shape[1]))
    if linearly_separable:
        X = _separate(X, y, centers, margin)
    return _bundle(
        X,
        y,
        generator,
        shuffle,
        name="blobs",
        task="binary" if n_centers == 2 else "multiclass",
        target_names=_classes(n_centers),
        description=f"{n_centers} Gaussian blobs in {centers.shape[1]} dimensions"
        + (f", linearly separable with margin {margin}." if linearly_separable else "."),
    )


def make_sine(
    n_samples: int = 100,
    noise: float = 0.1,
    x_range: tuple[float, float] = (-np.pi, np.pi),
    frequency: float = 1.0,
    seed=None,
) -> DataBundle:
    """Regression of a sine: x uniform in ``x_range``, y = sin(frequency · x) + N(0, noise²);
    X (N, 1), y (N,) float32 (use ``y[:, None]`` against a model with one output)."""
    n = _check_n(n_samples, 1, "make_sine")
    generator = backend.generator_for(seed)
    x = generator.uniform(*x_range, size=n)
    y = np.sin(frequency * x) + noise * generator.standard_normal(n)
    return _bundle(
        x[:, None],
        y.astype(np.float32),
        generator,
        False,
        name="sine",
        task="regression",
        feature_names=["x"],
        target_names=["y"],
        description="y = sin(x) plus Gaussian noise: a smooth non-linear function to fit.",
    )


def make_segmentation(
    n_samples: int = 200,
    shape: tuple[int, ...] = (32,),
    n_classes: int = 3,
    n_regions: int = 2,
    noise: float = 0.5,
    seed=None,
) -> DataBundle:
    """Per-element classification: a class for each position of a 1-D signal or a 2-D grid.

    Each example's label map y (``shape``) is background 0 with ``n_regions`` random intervals
    (1-D) or rectangles (2-D), each up to half the size along every axis, painted with a random
    class in 1..C−1 (later ones on top). The input at every position is that class's level, C
    levels evenly spaced in [−1, 1], plus N(0, noise²) noise, so neighbours help to denoise.
    X (N, *shape) float32, y (N, *shape) int64 (train with a model that outputs (N, C, *shape)
    and ``CrossEntropyLoss``).
    """
    n = _check_n(n_samples, 1, "make_segmentation")
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (1, 2) or min(shape) < 2 or n_classes < 2:
        raise ValueError(
            f"make_segmentation: expected a 1-D or 2-D shape of sizes >= 2 and n_classes >= 2, "
            f"got shape={shape}, n_classes={n_classes}"
        )
    generator = backend.generator_for(seed)
    y = np.zeros((n, *shape), dtype=np.int64)
    for _ in range(n_regions):
        inside = np.ones((n, *shape), dtype=bool)
        for axis, size in enumerate(shape):
            length = generator.integers(1, size // 2 + 1, size=n)
            start = generator.integers(0, size - length + 1)
            positions = np.arange(size)
            along = (positions >= start[:, None]) & (positions < (start + length)[:, None])
            inside &= along.reshape(
                (n,) + tuple(size if a == axis else 1 for a in range(len(shape)))
            )
        label = generator.integers(1, n_classes, size=n).reshape((n,) + (1,) * len(shape))
        y = np.where(inside, label, y)
    levels = np.linspace(-1.0, 1.0, n_classes)
    X = levels[y] + noise * generator.standard_normal(y.shape)
    grid = "x".join(str(s) for s in shape)
    return _bundle(
        X,
        y,
        generator,
        False,
        name="segmentation",
        task="per_element",
        feature_names=[f"x{i}" for i in range(int(np.prod(shape)))],
        target_names=_classes(n_classes),
        description=f"A class per position of a {grid} grid: regions painted on a background "
        "(class 0), observed through Gaussian noise.",
        image_shape=shape if len(shape) == 2 else None,
    )


def make_multilabel(
    n_samples: int = 200,
    n_features: int = 10,
    n_labels: int = 4,
    p: float = 0.3,
    noise: float = 0.1,
    seed=None,
) -> DataBundle:
    """Multi-label classification: several independent yes/no properties per example.

    Each label ℓ is on with probability ``p``, independently: y (N, L) float32 in {0, 1}; each
    label has a random prototype P_ℓ ~ N(0, I_D) and x = Σ_ℓ y_ℓ P_ℓ + N(0, noise² I), so a
    linear layer with one sigmoid per label can learn it. X (N, D) float32.
    """
    n = _check_n(n_samples, 1, "make_multilabel")
    if not 0 <= p <= 1:
        raise ValueError(f"make_multilabel: p should be a probability in [0, 1], got {p}")
    generator = backend.generator_for(seed)
    prototypes = generator.standard_normal((n_labels, n_features))
    y = (generator.random((n, n_labels)) < p).astype(np.float32)
    X = y @ prototypes + noise * generator.standard_normal((n, n_features))
    return _bundle(
        X,
        y,
        generator,
        False,
        name="multilabel",
        task="multilabel",
        target_names=[f"label{i}" for i in range(n_labels)],
        description=f"{n_labels} independent binary labels; each present label adds its "
        "prototype vector to the features.",
    )
