"""How many threads the matrix products use: ``set_num_threads`` and ``get_num_threads``, as
``torch.set_num_threads`` and ``torch.get_num_threads``.

NumPy hands its matrix products to a BLAS library (OpenBLAS in NumPy's wheels) that starts one
thread per core. Small products gain nothing from them, and on a machine busy with other work,
threads that wait for a core slow a run several times over: there ``set_num_threads(1)``
helps, as it does in PyTorch. The limit reaches the BLAS library NumPy loaded through
threadpoolctl (installed with scikit-learn, or ``pip install threadpoolctl``).
"""

from __future__ import annotations


def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError as error:
        raise RuntimeError(
            "set_num_threads and get_num_threads need threadpoolctl to reach NumPy's BLAS "
            "library: pip install threadpoolctl (it comes with aprende[all]); or set "
            "OPENBLAS_NUM_THREADS before starting Python"
        ) from error
    return ThreadpoolController()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the BLAS library behind NumPy's matrix products, from now on."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n!r}")
    _controller().limit(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The threads NumPy's BLAS library uses for a matrix product (1 when none is found)."""
    blas = _controller().select(user_api="blas").info()
    return max((library["num_threads"] for library in blas), default=1)
