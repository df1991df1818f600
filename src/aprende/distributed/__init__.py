"""Data-parallel training over MPI, with ``torch.distributed``'s names.

Start K processes with ``mpirun -n K python script.py`` (or ``mpirun -n K aprende train ...``);
each one calls ``init_process_group()``, wraps its model in ``DistributedDataParallel`` and
reads its shard of the data through a ``DistributedSampler``. Needs mpi4py and an MPI library
(``pip install 'aprende[distributed]'``, and e.g. Debian's ``openmpi-bin``).
"""

from aprende.distributed.batch_shards import BatchShardSampler
from aprende.distributed.parallel import DistributedDataParallel
from aprende.distributed.process_group import (
    ReduceOp,
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    launched_by_mpi,
)
from aprende.distributed.sampler import DistributedSampler

__all__ = [
    "BatchShardSampler",
    "DistributedDataParallel",
    "DistributedSampler",
    "ReduceOp",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "launched_by_mpi",
]
