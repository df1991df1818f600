"""DataLoader: batches of a dataset, reshuffled every epoch, for the slides' three SGD regimes.

- ``batch_size=1``: instantaneous (online) gradient descent, one example per update;
- ``batch_size=B``: mini-batch gradient descent;
- ``batch_size=None``: global (full-batch) gradient descent, the whole set as one batch per epoch.
  (In PyTorch ``batch_size=None`` turns batching off and yields single examples; here it means
  the whole set, the regime the slides name.)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator

import numpy as np

from aprende import backend
from aprende.data.collate import default_collate
from aprende.data.dataset import Dataset
from aprende.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _positive_int,
)


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Args:
        dataset: a Dataset (or anything with ``__len__`` and ``__getitem__``).
        batch_size: examples per batch: 1 (instantaneous SGD, the default as in PyTorch),
            B (mini-batch), or None: the whole dataset as one batch per epoch (full-batch
            gradient descent; this differs from PyTorch, where None disables batching).
        shuffle: draw a new random order every epoch.
        sampler: a Sampler (or iterable of indices) fixing the order; excludes ``shuffle``.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: merges a list of examples into a batch. When None, datasets that can gather a
            batch at once (``Dataset.get_batch``: ``TensorDataset``, ``ArrayDataset``, their
            ``Subset``) do so with one fancy index per array; others use ``default_collate``.
        generator: a seed, an ``np.random.Generator``, or None for
            ``aprende.backend.default_generator()`` (seeded by ``aprende.manual_seed``).
        num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context,
        prefetch_factor, persistent_workers, pin_memory_device: PyTorch's worker options,
            accepted and checked as PyTorch checks them (``num_workers`` ≥ 0, ``timeout`` ≥ 0,
            ``prefetch_factor`` and ``persistent_workers`` only with ``num_workers > 0``), and
            kept as attributes; every batch is still made in the main process, so
            ``worker_init_fn`` is never called. Batching here is one fancy index per array per
            batch, already as fast as memory allows: worker processes would only add the cost
            of pickling each batch back, and pinned memory matters only for host-to-GPU copies.

    Each batch is drawn when an epoch starts, from ``loader.generator``: saving
    ``loader.generator.bit_generator.state`` with a checkpoint and restoring it on resume
    continues the exact same data order. ``len(loader)`` is the number of batches per epoch;
    ``loader.batch_indices`` holds the dataset indices of the batch last yielded (to feed
    per-example losses to ``HardExampleSampler.update``).

    A dataset whose tensors are on a GPU (``TensorDataset(...).to("cuda")``) is batched there:
    the epoch's order is drawn on the host as always, uploaded once, and each batch is gathered
    on the device from a slice of it, so an epoch makes one transfer whatever its batch count.
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler: Sampler | None = None,
        drop_last: bool = False,
        collate_fn: Callable | None = None,
        generator=None,
        *,
        num_workers: int = 0,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
    ):
        _check_worker_options(num_workers, timeout, worker_init_fn, prefetch_factor)
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_size is not None:
            batch_size = _positive_int(batch_size, "batch_size", "DataLoader")
        self._generator = None if generator is None else backend.generator_for(generator)
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=self._generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.collate_fn = collate_fn
        self.batch_indices: np.ndarray | None = None
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), pin_memory, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.pin_memory_device = pin_memory_device

    @property
    def generator(self) -> np.random.Generator:
        """The generator that shuffles (the global one when none was given)."""
        return self._generator if self._generator is not None else backend.default_generator()

    def _fetch(self, indices: np.ndarray):
        if self.collate_fn is None and isinstance(self.dataset, Dataset):
            return self.dataset.get_batch(indices)
        collate = default_collate if self.collate_fn is None else self.collate_fn
        return collate([self.dataset[int(i)] for i in indices])

    def __iter__(self) -> Iterator:
        if self.collate_fn is None and isinstance(self.dataset, Dataset):
            if self.dataset._device().type != "cpu":
                yield from self._iter_on_device()
                return
        for indices in self.batch_sampler:
            self.batch_indices = indices
            yield self._fetch(indices)

    def _iter_on_device(self) -> Iterator:
        """A dataset on a GPU: the epoch's order goes up in one transfer, batches are gathered
        there (the host-side order is drawn exactly as on the CPU: the same batches)."""
        batches = list(self.batch_sampler)
        for indices, batch in zip(batches, self.dataset._epoch_batches(batches), strict=True):
            self.batch_indices = indices
            yield batch

    def __len__(self) -> int:
        return len(self.batch_sampler)


def _check_worker_options(num_workers, timeout, worker_init_fn, prefetch_factor) -> None:
    """PyTorch's checks of the worker options, with its exception types and wording."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
        raise TypeError(
            f"DataLoader: num_workers should be an integer, got {type(num_workers).__name__}"
        )
    if num_workers < 0:
        raise ValueError(
            "DataLoader: num_workers option should be non-negative; use num_workers=0 to "
            f"disable multiprocessing, got num_workers={num_workers}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"DataLoader: timeout should be a number, got {type(timeout).__name__}")
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(
            "DataLoader: worker_init_fn should be a callable or None, got "
            f"{type(worker_init_fn).__name__}"
        )
    if prefetch_factor is not None:
        if num_workers == 0:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified with "
                "num_workers > 0, otherwise set prefetch_factor to None"
            )
        if prefetch_factor < 0:
            raise ValueError(
                f"DataLoader: prefetch_factor option should be non-negative, got {prefetch_factor}"
            )
