"""Datasets: indexable collections of examples, as ``torch.utils.data``.

A dataset has ``__len__`` and ``__getitem__(i)`` (one example). It may also gather many examples
at once with ``get_batch(indices)``: the array-backed datasets (``TensorDataset``,
``ArrayDataset``) do it with one ``np.take`` per array instead of a Python loop per example,
which is what makes a DataLoader over them fast.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.data.collate import default_collate


class Dataset:
    """Base class of map-style datasets: define ``__getitem__`` and ``__len__``.

    ``get_batch(indices)`` collates ``[self[i] for i in indices]`` with ``default_collate``;
    array-backed subclasses override it with a vectorised gather. ``a + b`` concatenates.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def get_batch(self, indices: np.ndarray):
        """The examples at ``indices`` collated into one batch (leading dimension B)."""
        return default_collate([self[int(i)] for i in indices])

    def _device(self) -> backend.device:
        """Where the examples live: the host, unless the dataset holds device arrays."""
        return backend.CPU

    def _epoch_batches(self, batches: list[np.ndarray]) -> Iterator:
        """The batches of one epoch, given each one's indices (one ``get_batch`` each)."""
        return (self.get_batch(indices) for indices in batches)


def _raw(array):
    """The raw array of a Tensor or array-like (NumPy or CuPy), without copying."""
    if isinstance(array, Tensor):
        return array.data
    return array if hasattr(array, "shape") and hasattr(array, "dtype") else np.asarray(array)


def _check_indices(indices: np.ndarray, length: int, owner: str) -> np.ndarray:
    """Indices as int64, checked once per batch (so the gather itself can skip bounds checks)."""
    indices = np.asarray(indices, dtype=np.int64)
    if not indices.size:
        return indices
    # ufunc reductions directly (ndarray.min/max add a Python wrapper): this runs every batch
    low, high = np.minimum.reduce(indices, axis=None), np.maximum.reduce(indices, axis=None)
    if low < -length or high >= length:
        raise IndexError(
            f"{owner}: index out of range for a dataset of {length} examples: got indices in "
            f"[{low}, {high}]"
        )
    return indices if low >= 0 else np.where(indices < 0, indices + length, indices)


def _gather(array, indices: np.ndarray):
    """``array[indices]`` along the first axis with one fancy index."""
    if isinstance(array, np.ndarray):
        # mode="clip" skips NumPy's bounds check; the indices were checked by _check_indices.
        # np.asarray turns a memory-mapped slice into a plain in-memory array.
        return np.asarray(array.take(indices, axis=0, mode="clip"))
    return array[backend.move(indices, backend.device_of(array))]


def _example(array, index: int):
    """One example as an array (a 0-d array for a scalar label, never a NumPy scalar)."""
    xp = backend.get_array_module(array)
    return xp.array(array[index])


class TensorDataset(Dataset):
    """Examples are the i-th rows of several tensors of equal length, as ``torch``'s.

    ``TensorDataset(X, y)[i] == (X[i], y[i])``. Accepts Tensors or arrays; dtypes are kept (build
    float32 features and int64 labels for float32 training). ``transform``, if given, is applied
    to the first tensor's rows (one example, or a whole batch in ``get_batch``), e.g. augmentation.
    """

    def __init__(self, *tensors, transform: Callable | None = None):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        arrays = [_raw(t) for t in tensors]
        lengths = [a.shape[0] if a.ndim else None for a in arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [tuple(a.shape) for a in arrays]
            raise ValueError(f"TensorDataset: size mismatch between tensors, got shapes {shapes}")
        self.arrays = arrays
        self.transform = transform

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The stored tensors (sharing memory with the data)."""
        return tuple(Tensor(a) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def _finish(self, arrays: list) -> list[Tensor]:
        if self.transform is not None:
            arrays[0] = _raw(self.transform(arrays[0]))
        return [Tensor(a) for a in arrays]

    def __getitem__(self, index) -> tuple[Tensor, ...]:
        index = int(_check_indices(np.asarray(index), len(self), "TensorDataset"))
        return tuple(self._finish([_example(a, index) for a in self.arrays]))

    def get_batch(self, indices) -> list[Tensor]:
        """One ``np.take`` per tensor: a list of batched Tensors (as torch collates tuples)."""
        indices = _check_indices(indices, len(self), "TensorDataset")
        return self._finish([_gather(a, indices) for a in self.arrays])

    def _device(self) -> backend.device:
        return backend.device_of(self.arrays[0])

    def _epoch_batches(self, batches: list[np.ndarray]) -> Iterator[list[Tensor]]:
        """On a GPU: the epoch's order is checked and uploaded once (one transfer), and each
        batch is a device slice of it gathering on the device, so no batch waits for the host.
        """
        device = self._device()
        if device.type == "cpu":
            yield from super()._epoch_batches(batches)
            return
        order = _check_indices(
            np.concatenate(batches) if batches else np.empty(0, np.int64), len(self),
            "TensorDataset",
        )  # fmt: skip
        order = backend.move(order, device)
        start = 0
        for indices in batches:
            part = order[start : start + len(indices)]
            start += len(indices)
            yield self._finish([a[part] for a in self.arrays])

    def to(self, device) -> TensorDataset:
        """The same examples with every tensor copied to ``device`` whole (one upload each).

        A DataLoader over the result gathers its batches on the device (see ``DataLoader``).
        """
        arrays = [backend.move(a, device) for a in self.arrays]
        return TensorDataset(*arrays, transform=self.transform)

    @property
    def nbytes(self) -> int:
        """Bytes held by the tensors."""
        return sum(int(a.nbytes) for a in self.arrays)


class ArrayDataset(Dataset):
    """Features (and labels) in ``.npy`` files, memory-mapped: data larger than memory.

    The files are opened with ``np.load(path, mmap_mode="r")``; only the rows of the batch being
    gathered are read from disk, so iterating a DataLoader over a file of many GB keeps memory at
    a few batches. Dtypes are the files' (a ``transform`` can cast, e.g. uint8 images to float32).

    ``dataset[i]`` is ``(x, y)`` with a ``y_path``, else ``x`` alone; ``get_batch`` likewise
    returns ``[X_batch, y_batch]`` or ``X_batch``.
    """

    def __init__(
        self,
        x_path: str | os.PathLike,
        y_path: str | os.PathLike | None = None,
        transform: Callable | None = None,
    ):
        self.x = np.load(x_path, mmap_mode="r")
        self.y = None if y_path is None else np.load(y_path, mmap_mode="r")
        if self.x.ndim == 0 or (self.y is not None and self.y.shape[:1] != self.x.shape[:1]):
            y_shape = None if self.y is None else self.y.shape
            raise ValueError(
                f"ArrayDataset: expected features and labels with the same number of rows, got "
                f"{os.fspath(x_path)} of shape {self.x.shape} and {y_path} of shape {y_shape}"
            )
        self.transform = transform

    def __len__(self) -> int:
        return self.x.shape[0]

    def _finish(self, x, y):
        x = Tensor(_raw(self.transform(x)) if self.transform is not None else x)
        return x if y is None else [x, Tensor(y)]

    def __getitem__(self, index):
        index = int(_check_indices(np.asarray(index), len(self), "ArrayDataset"))
        item = self._finish(
            _example(self.x, index), None if self.y is None else _example(self.y, index)
        )
        return tuple(item) if isinstance(item, list) else item

    def get_batch(self, indices):
        """One ``np.take`` per file: only the batch's rows are read."""
        indices = _check_indices(indices, len(self), "ArrayDataset")
        y = None if self.y is None else _gather(self.y, indices)
        return self._finish(_gather(self.x, indices), y)


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, as ``torch.utils.data.Subset``."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices):
        """Maps the indices through the subset and gathers from the dataset (fast when it is)."""
        indices = _check_indices(indices, len(self), "Subset")
        if isinstance(self.dataset, Dataset):
            return self.dataset.get_batch(self.indices[indices])
        return super().get_batch(indices)

    def _device(self) -> backend.device:
        return self.dataset._device() if isinstance(self.dataset, Dataset) else backend.CPU

    def _epoch_batches(self, batches: list[np.ndarray]) -> Iterator:
        """The batches mapped through the subset, then gathered as the dataset gathers."""
        if not isinstance(self.dataset, Dataset):
            return super()._epoch_batches(batches)
        mapped = [self.indices[_check_indices(i, len(self), "Subset")] for i in batches]
        return self.dataset._epoch_batches(mapped)


class ConcatDataset(Dataset):
    """Several datasets one after the other, as ``torch.utils.data.ConcatDataset``."""

    def __init__(self, datasets: Sequence):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected a non-empty sequence of datasets")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = int(_check_indices(np.asarray(index), len(self), "ConcatDataset"))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - offset]
