"""Shared test setup: every test starts from the same seed and with gradients enabled.

``--cuda=fake|real|off`` chooses what device "cuda" is in the tests that take the ``device``
fixture: ``fake`` (the default) runs them on ``tests/fakecupy``, a strict CPU stand-in for CuPy
that also counts host round-trips; ``real`` on the installed CuPy and a GPU (skipped, with the
reason, where there is none); ``off`` skips them.
"""

import sys

import numpy as np
import pytest

import aprende


def pytest_addoption(parser):
    parser.addoption(
        "--cuda",
        choices=("fake", "real", "off"),
        default="fake",
        help="device 'cuda' in the tests: fake (CPU stand-in for CuPy), real (CuPy on a GPU), off",
    )


@pytest.fixture(autouse=True)
def _seeded():
    aprende.manual_seed(0)
    np.random.seed(0)
    with aprende.set_grad_enabled(True):
        yield


@pytest.fixture
def cupy(request, monkeypatch):
    """The CuPy that device "cuda" runs on: the fake (counters reset) or the real one."""
    mode = request.config.getoption("--cuda")
    if mode == "off":
        pytest.skip("device 'cuda' is off (--cuda=off)")
    if mode == "fake":
        import fakecupy

        monkeypatch.setitem(sys.modules, "cupy", fakecupy)
        fakecupy.counters.reset()
        yield fakecupy
    else:
        try:
            import cupy as real
        except ImportError as error:
            pytest.skip(f"--cuda=real needs CuPy: {error}")
        if not aprende.cuda.is_available():
            pytest.skip("--cuda=real: CuPy sees no GPU")
        yield real
    # a device check a test left unread must not fail the next test
    aprende.backend._deferred.clear()


@pytest.fixture
def fake_cupy(request, cupy):
    """The fake CuPy, for tests that count host round-trips (skipped on a real GPU)."""
    if request.config.getoption("--cuda") != "fake":
        pytest.skip("counting host round-trips needs the fake CuPy (--cuda=fake)")
    return cupy


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each device in turn: a test taking ``device`` must give the same results on both."""
    if request.param == "cuda":
        request.getfixturevalue("cupy")
    return request.param
