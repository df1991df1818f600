"""BatchShardSampler: K ranks together see exactly the batches one process would see."""

from __future__ import annotations

import numpy as np

from aprende.data.sampler import Sampler
from aprende.distributed import process_group


class BatchShardSampler(Sampler):
    """This rank's slice of every global batch of ``sampler``'s order.

    ``sampler`` (e.g. a seeded ``RandomSampler``, the same seed on every rank) draws one
    epoch's order; it is cut into global batches of ``batch_size``, and each batch into
    ``num_replicas`` consecutive slices (``np.array_split``), of which this rank takes the
    ``rank``-th. A ``DataLoader`` with ``batch_size // num_replicas`` over this sampler then
    yields, step by step, the rank's part of the very batch one process would take, so with
    batch-size-weighted gradient averaging K ranks follow one process's trajectory (up to the
    float rounding of the reduction's order). Unlike ``DistributedSampler`` nothing is padded
    or dropped.
    """

    def __init__(
        self,
        sampler: Sampler,
        batch_size: int,
        num_replicas: int | None = None,
        rank: int | None = None,
    ):
        self.num_replicas = process_group.get_world_size() if num_replicas is None else num_replicas
        self.rank = process_group.get_rank() if rank is None else rank
        if batch_size % self.num_replicas:
            raise ValueError(
                f"BatchShardSampler: batch_size {batch_size} must be a multiple of the "
                f"{self.num_replicas} ranks, so that every rank takes the same share"
            )
        size, tail = len(sampler), len(sampler) % batch_size
        if 0 < tail < self.num_replicas:
            raise ValueError(
                f"BatchShardSampler: the last batch of an epoch would hold {tail} examples "
                f"({size} in all, batches of {batch_size}), fewer than the {self.num_replicas} "
                "ranks; choose a batch size that leaves none or at least one per rank"
            )
        self.sampler, self.batch_size = sampler, batch_size

    def sample_indices(self) -> np.ndarray:
        order = self.sampler.sample_indices()
        starts = range(0, len(order), self.batch_size)
        shards = [
            np.array_split(order[s : s + self.batch_size], self.num_replicas)[self.rank]
            for s in starts
        ]
        return np.concatenate(shards) if shards else order[:0]

    def __len__(self) -> int:
        size, full = len(self.sampler), len(self.sampler) // self.batch_size
        tail = size - full * self.batch_size
        share = self.batch_size // self.num_replicas
        return full * share + len(np.array_split(np.arange(tail), self.num_replicas)[self.rank])

    def state_dict(self) -> dict:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.sampler.load_state_dict(state)
