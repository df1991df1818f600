"""aprende.set_num_threads / get_num_threads as torch's: the BLAS library NumPy uses takes the
limit, bad counts raise PyTorch's RuntimeError, and without threadpoolctl the error says what
to install."""

import builtins

import numpy as np
import pytest

import aprende


@pytest.fixture
def restored_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is not installed")
    before = threadpoolctl.threadpool_info()
    yield
    for library in before:
        if library["user_api"] == "blas":
            threadpoolctl.threadpool_limits(library["num_threads"], user_api="blas")


def test_the_limit_reaches_numpys_blas(restored_threads):
    from threadpoolctl import threadpool_info

    aprende.set_num_threads(1)
    assert aprende.get_num_threads() == 1
    assert all(lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas")
    a = np.ones((64, 64))
    np.testing.assert_array_equal(a @ a, np.full((64, 64), 64.0))  # products still work


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_a_count_that_is_not_a_positive_integer_raises(bad):
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        aprende.set_num_threads(bad)


def test_without_threadpoolctl_the_error_names_it(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError("No module named 'threadpoolctl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(RuntimeError, match="pip install threadpoolctl"):
        aprende.set_num_threads(1)
    with pytest.raises(RuntimeError, match="OPENBLAS_NUM_THREADS"):
        aprende.get_num_threads()
