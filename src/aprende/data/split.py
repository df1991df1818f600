"""Splitting data: ``random_split`` (PyTorch) and the slides' train / validation / test design.

The slides' experimental design: learn on the training split, choose the model on the validation
split, and score the test split once, at the end. ``train_val_test_split`` makes the three,
seeded, disjoint and covering, and stratified for classification (each class keeps its share in
every split).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import deque
from collections.abc import Sequence

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.data.dataset import Subset


def random_split(dataset, lengths: Sequence[int | float], generator=None) -> list[Subset]:
    """Splits a dataset into non-overlapping random Subsets, as ``torch.utils.data.random_split``.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: each split gets
    ⌊N·fᵢ⌋ examples and the remainder is dealt one by one to the splits in order (as PyTorch).
    ``generator`` is a seed, an ``np.random.Generator`` or None (the global generator).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
        sizes = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0", stacklevel=2)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of "
            f"the input dataset ({n})"
        )
    order = backend.generator_for(generator).permutation(n)
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _count(size: int | float, n: int, name: str) -> int:
    """A split's size from a fraction (rounded up, as scikit-learn's test_size) or a count."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 0 <= size < n:
            raise ValueError(f"train_val_test_split: {name}={size} should be in [0, {n})")
        return int(size)
    if not 0.0 <= size < 1.0:
        raise ValueError(f"train_val_test_split: {name}={size} should be a fraction in [0, 1)")
    return math.ceil(size * n)


def _controlled_rounding(class_counts: np.ndarray, split_counts: np.ndarray) -> np.ndarray:
    """Integer (classes × splits) table with the given row and column sums, each entry the floor
    or the ceiling of its ideal share n_c · n_s / N.

    Such a table always exists (the ideal table is a fractional solution of a transportation
    problem, whose integer solutions round it); we find one by augmenting paths: start from the
    floors, then move the missing units of each class to splits that still lack units.
    """
    n = class_counts.sum()
    ideal = np.outer(class_counts, split_counts)
    table, remainder = ideal // n, ideal % n
    up = np.zeros(table.shape, dtype=bool)
    allowed, split_left = remainder > 0, split_counts - table.sum(axis=0)
    for c in range(len(class_counts)):
        for _ in range(class_counts[c] - table[c].sum()):
            _augment(c, up, allowed, split_left)
    return table + up


def _augment(start: int, up: np.ndarray, allowed: np.ndarray, split_left: np.ndarray) -> None:
    """Rounds one more entry of row ``start`` up, shifting other rows' choices if needed.

    Breadth-first search over alternating paths: a class takes a split it may round up in; if
    that split has no unit left, a class already rounded up there gives it up and takes another.
    """
    came_from: dict[int, tuple[int, int]] = {}  # class -> (class it yields to, split it yields)
    queue = deque([start])
    while queue:
        c = queue.popleft()
        candidates = allowed[c] & ~up[c]
        free = np.flatnonzero(candidates & (split_left > 0))
        if free.size:
            s = free[0]
            split_left[s] -= 1
            up[c, s] = True
            while c != start:  # each class on the path hands its split to the one before
                c_prev, s_given = came_from[c]
                up[c, s_given], up[c_prev, s_given] = False, True
                c = c_prev
            return
        for s in np.flatnonzero(candidates):
            for c_next in np.flatnonzero(up[:, s]):
                if c_next != start and c_next not in came_from:
                    came_from[c_next] = (c, s)
                    queue.append(c_next)
    raise RuntimeError("train_val_test_split: no stratified rounding found (please report this)")


def _length(array) -> int:
    shape = getattr(array, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(array)


def _take(array, indices: np.ndarray):
    """The rows of ``array`` at ``indices``, of the same kind (Tensor, NumPy array or list)."""
    if isinstance(array, Tensor):
        return Tensor(array.data[backend.move(indices, array.device)])
    if isinstance(array, np.ndarray):
        return np.take(array, indices, axis=0)
    if isinstance(array, list | tuple):
        return [array[i] for i in indices]
    return np.asarray(array)[indices]


def _stratified_parts(labels, sizes, generator, shuffle: bool) -> list[np.ndarray]:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(
            f"train_val_test_split: stratify should be 1-D class labels, got shape {labels.shape}"
        )
    _, y = np.unique(labels, return_inverse=True)
    class_counts = np.bincount(y)
    table = _controlled_rounding(class_counts, np.asarray(sizes))
    by_class = np.split(np.argsort(y, kind="stable"), np.cumsum(class_counts)[:-1])
    parts: list[list[np.ndarray]] = [[] for _ in sizes]
    for members, row in zip(by_class, table, strict=True):
        if shuffle:
            members = generator.permutation(members)
        for part, chunk in zip(parts, np.split(members, np.cumsum(row)[:-1]), strict=True):
            part.append(chunk)
    merged = [np.concatenate(part) for part in parts]
    return [generator.permutation(m) if shuffle else np.sort(m) for m in merged]


def train_val_test_split(
    *arrays,
    val_size: float | int = 0.15,
    test_size: float | int = 0.15,
    stratify=None,
    seed: int | np.random.Generator | None = 0,
    shuffle: bool = True,
) -> tuple:
    """Splits arrays into training, validation and test parts: disjoint, covering, seeded.

    Returns ``(a_train, b_train, ..., a_val, b_val, ..., a_test, b_test, ...)``: all arrays'
    training parts first, then validation, then test, each of the input's kind (NumPy array,
    Tensor or list)::

        X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(X, y, stratify=y)

    Args:
        arrays: arrays of equal length N (split along the first dimension).
        val_size, test_size: fractions of N (rounded up, as scikit-learn's ``test_size``) or
            counts; the training part gets the rest.
        stratify: class labels (N,): every class c keeps its share in every split s, i.e. its
            count there is ⌊n_c·n_s/N⌋ or ⌈n_c·n_s/N⌉ (within one example of proportional).
        seed: a seed, an ``np.random.Generator``, or None (the global generator).
        shuffle: shuffle before splitting; without it the parts follow the input order.
    """
    if not arrays:
        raise ValueError("train_val_test_split: expected at least one array")
    n = _length(arrays[0])
    lengths = [_length(a) for a in arrays]
    if any(length != n for length in lengths):
        raise ValueError(f"train_val_test_split: arrays have different lengths: {lengths}")
    n_val, n_test = _count(val_size, n, "val_size"), _count(test_size, n, "test_size")
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(
            f"train_val_test_split: val_size={val_size} and test_size={test_size} leave no "
            f"training examples out of {n}"
        )
    generator = backend.generator_for(seed)
    sizes = [n_train, n_val, n_test]
    if stratify is not None:
        if _length(stratify) != n:
            raise ValueError(
                f"train_val_test_split: stratify has {_length(stratify)} labels, expected {n}"
            )
        parts = _stratified_parts(stratify, sizes, generator, shuffle)
    else:
        order = generator.permutation(n) if shuffle else np.arange(n)
        parts = np.split(order, np.cumsum(sizes)[:-1])
    return tuple(_take(array, part) for part in parts for array in arrays)
