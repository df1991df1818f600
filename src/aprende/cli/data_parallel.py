"""``mpirun -n K aprende train``: the same command, data-parallel over K processes.

Launched by an MPI launcher, every rank loads the same data, builds the same model and
draws the same shuffled order; each step, rank r trains on its slice of the global batch
(``--batch-size`` examples in all), and the gradients are averaged, weighted by the slices'
sizes, before every optimizer step, so the K ranks follow the weights one process would
reach (up to the float rounding of the reduction's order). Rank 0 alone prints and writes
the run folder; the others resume from its checkpoints and write nothing. Batch norm
normalises with each rank's own slice (PyTorch DDP's behaviour; no SyncBatchNorm), so with
batch norm the K-rank run is not the one-process run. Any failure on one rank stops all.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from aprende.cli.errors import PROG, UsageError, one_line


@dataclass(frozen=True)
class World:
    rank: int
    size: int

    @property
    def writes(self) -> bool:
        """Whether this process prints and writes the run folder (rank 0)."""
        return self.rank == 0


SINGLE = World(0, 1)


def join_world() -> World:
    """The MPI world when started by mpirun with more than one process, else a world of one."""
    from aprende import distributed as dist

    if not dist.launched_by_mpi():
        return SINGLE
    if not dist.is_initialized():
        try:
            dist.init_process_group()
        except RuntimeError as error:
            raise UsageError(f"mpirun: {one_line(error)}") from None
    return World(dist.get_rank(), dist.get_world_size())


@contextlib.contextmanager
def one_failure_stops_all(world: World) -> Iterator[None]:
    """A rank that fails (an error, Ctrl-C) says so and ends the whole job at once, rather
    than leaving the others waiting in the next gradient exchange."""
    if world.size == 1:
        yield
        return
    try:
        yield
    except BaseException as error:  # noqa: BLE001 - any failure must stop every rank
        if isinstance(error, SystemExit) and not error.code:
            raise
        what = "interrupted" if isinstance(error, KeyboardInterrupt) else one_line(error)
        print(
            f"{PROG} train: rank {world.rank}: error: {what}; stopping all ranks",
            file=sys.stderr,
            flush=True,
        )
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(130 if isinstance(error, KeyboardInterrupt) else 1)


def quiet_unless_writer(world: World):
    """Rank 0 prints; the others' output would repeat it K times."""
    return contextlib.nullcontext() if world.writes else contextlib.redirect_stdout(io.StringIO())


def check_batch(world: World, batch_size: int, train_size: int) -> None:
    if world.size == 1:
        return
    if batch_size % world.size:
        raise UsageError(
            f"batch_size: {batch_size} is the global batch, split across the {world.size} "
            f"ranks: give a multiple of {world.size}"
        )
    tail = train_size % batch_size
    if 0 < tail < world.size:
        raise UsageError(
            f"batch_size: the last batch of each epoch would hold {tail} example(s), fewer "
            f"than the {world.size} ranks; choose another batch size"
        )


def barrier(world: World) -> None:
    if world.size > 1:
        from aprende import distributed as dist

        dist.barrier()
