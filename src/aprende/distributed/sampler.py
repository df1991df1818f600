"""DistributedSampler: each rank takes its own shard of every epoch's order."""

from __future__ import annotations

import math
from collections.abc import Sized

import numpy as np

from aprende.data.sampler import Sampler
from aprende.distributed import process_group


class DistributedSampler(Sampler):
    """The indices of one rank's share of the dataset, as ``torch.utils.data.DistributedSampler``.

    Every rank draws the same permutation of ``range(len(dataset))`` (seeded by
    ``seed + epoch``, so call ``set_epoch(epoch)`` before each epoch for a new order), pads it
    by repeating its start to a multiple of ``num_replicas`` (or drops the tail with
    ``drop_last``), and takes every ``num_replicas``-th index from position ``rank``. The shards
    are disjoint and together cover the dataset.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if num_replicas is None:
            num_replicas = process_group.get_world_size()
        if rank is None:
            rank = process_group.get_rank()
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        size = len(dataset)
        if drop_last and size % num_replicas:
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields (the same on every rank)."""
        self.epoch = int(epoch)

    def sample_indices(self) -> np.ndarray:
        size = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(size)
        else:
            order = np.arange(size, dtype=np.int64)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > size:
            order = np.resize(order, self.total_size)  # repeats from the start, as PyTorch pads
        return order[self.rank : self.total_size : self.num_replicas].astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples

    def state_dict(self) -> dict:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state.get("epoch", 0))
