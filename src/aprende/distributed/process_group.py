"""The process group: which process this is, how many there are, and the collectives.

aprende runs data-parallel training on MPI (mpi4py over Open MPI or MPICH), the engine of
NumPy code on clusters: ``mpirun -n K python train.py`` starts K processes, each one a *rank*.
The names are PyTorch's (``torch.distributed``): ``init_process_group``, ``get_rank``,
``get_world_size``, ``all_reduce``, ``broadcast``, ``barrier``. Outside ``mpirun`` the world is
one process and every collective is the identity, so the same script runs on a laptop.

A collective waits for every rank. When a rank dies, the others must not wait for ever: an
uncaught exception on any rank aborts the whole job (``MPI_Abort``) after printing which rank
failed, and a collective that waits longer than ``timeout`` aborts it too.
"""

from __future__ import annotations

import datetime
import os
import sys
import threading
from enum import Enum

import numpy as np

from aprende._tensor import Tensor

# Set by the launchers: Open MPI, MPICH/Hydra and PMIx, Slurm's srun.
_WORLD_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default


class ReduceOp(str, Enum):
    """How ``all_reduce`` combines the ranks' values (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


class _Group:
    """The initialised world: the MPI communicator (None for a single process) and its timeout."""

    def __init__(self, comm, timeout: datetime.timedelta):
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.timeout = timeout.total_seconds()


_group: _Group | None = None


def is_available() -> bool:
    """True when mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def launched_by_mpi() -> bool:
    """True inside ``mpirun``/``mpiexec``/``srun`` with more than one process."""
    return any(int(os.environ.get(name, "1") or 1) > 1 for name in _WORLD_SIZE_VARIABLES)


def init_process_group(
    backend: str = "mpi", timeout: datetime.timedelta = DEFAULT_TIMEOUT, **ignored
) -> None:
    """Join the world of processes that ``mpirun`` started (a world of one outside it).

    ``backend`` must be "mpi" (PyTorch's "gloo"/"nccl" are not available here). Also installs
    an exception hook so that a failing rank stops the whole job instead of leaving the others
    waiting in a collective.
    """
    global _group
    if _group is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized")
    if backend != "mpi":
        raise ValueError(f"init_process_group: backend should be 'mpi', got {backend!r}")
    comm = None
    if launched_by_mpi():
        if not is_available():
            raise RuntimeError(
                "init_process_group: started by mpirun but mpi4py is not installed; "
                "pip install 'aprende[distributed]' (and an MPI such as Debian's openmpi-bin)"
            )
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
        _abort_job_on_uncaught_exception(comm)
    _group = _Group(comm, timeout)


def _abort_job_on_uncaught_exception(comm) -> None:
    previous = sys.excepthook

    def hook(kind, value, traceback) -> None:
        previous(kind, value, traceback)
        if not issubclass(kind, KeyboardInterrupt):
            print(
                f"aprende.distributed: rank {comm.Get_rank()} failed ({kind.__name__}); "
                "stopping all ranks",
                file=sys.stderr,
                flush=True,
            )
        comm.Abort(1)

    sys.excepthook = hook


def is_initialized() -> bool:
    return _group is not None


def destroy_process_group() -> None:
    """Leave the process group (MPI itself is finalised when the process exits)."""
    global _group
    _group = None


def _world() -> _Group:
    if _group is None:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return _group


def get_rank() -> int:
    """This process's number, 0 ... world_size - 1."""
    return _world().rank


def get_world_size() -> int:
    """How many processes take part."""
    return _world().size


def _host_array(tensor: Tensor, op: str) -> np.ndarray:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(tensor).__name__}")
    if not isinstance(tensor.data, np.ndarray):
        raise RuntimeError(f"{op}: MPI collectives take CPU tensors, got one on {tensor.device}")
    if not tensor.data.flags.c_contiguous:
        raise RuntimeError(f"{op}: the tensor must be contiguous")
    return tensor.data


def _wait(request, op: str) -> None:
    """Wait for a non-blocking collective; a watchdog aborts the job when it takes longer than
    the group's timeout (a rank that died or hangs). MPI's own blocking wait is the fastest
    way to wait; the watchdog thread costs nothing while it sleeps."""
    group = _world()
    watchdog = threading.Timer(group.timeout, _time_out, args=(group, op))
    watchdog.daemon = True
    watchdog.start()
    try:
        request.Wait()
    finally:
        watchdog.cancel()


def _time_out(group: _Group, op: str) -> None:
    print(
        f"aprende.distributed: rank {group.rank} waited {group.timeout:.0f} s in {op} for the "
        "other ranks; one of them has stopped. Stopping all ranks.",
        file=sys.stderr,
        flush=True,
    )
    group.comm.Abort(1)


def all_reduce(tensor: Tensor, op: ReduceOp | str = ReduceOp.SUM) -> None:
    """Combine ``tensor`` over all ranks, in place: afterwards every rank holds
    ``op(tensor on rank 0, ..., tensor on rank K-1)`` (AVG: the sum divided by K)."""
    array = _host_array(tensor, "all_reduce")
    try:
        op = ReduceOp(op.lower() if isinstance(op, str) else op)
    except ValueError:
        raise ValueError(
            f"all_reduce: op should be one of {[o.value for o in ReduceOp]}, got {op!r}"
        ) from None
    group = _world()
    if group.comm is None:
        return
    from mpi4py import MPI

    mpi_op = {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
    }[op]
    _wait(group.comm.Iallreduce(MPI.IN_PLACE, array, op=mpi_op), "all_reduce")
    if op is ReduceOp.AVG:
        array /= group.size
    tensor._version += 1


def broadcast(tensor: Tensor, src: int = 0) -> None:
    """Copy rank ``src``'s ``tensor`` into every rank's, in place."""
    array = _host_array(tensor, "broadcast")
    group = _world()
    if not 0 <= src < group.size:
        raise ValueError(f"broadcast: src should be a rank in [0, {group.size}), got {src}")
    if group.comm is None:
        return
    _wait(group.comm.Ibcast(array, root=src), "broadcast")
    tensor._version += 1


def barrier() -> None:
    """Wait until every rank reaches this point."""
    group = _world()
    if group.comm is not None:
        _wait(group.comm.Ibarrier(), "barrier")
