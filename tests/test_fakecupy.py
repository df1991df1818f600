"""The fake CuPy is as strict as the real one where GPU code usually breaks, and counts what a
GPU would pay for: host syncs and uploads."""

import fakecupy as cp
import numpy as np
import pytest
from fakecupy import cupy_names


@pytest.fixture(autouse=True)
def _fresh_counters():
    cp.counters.reset()


def test_a_device_array_is_not_a_numpy_array_and_refuses_implicit_conversion():
    x = cp.asarray(np.arange(3.0))
    assert not isinstance(x, np.ndarray) and isinstance(x, cp.ndarray)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)


@pytest.mark.parametrize(
    "mix",
    [
        lambda d, h: d + h,
        lambda d, h: h * d,
        lambda d, h: d @ h,
        lambda d, h: cp.maximum(d, h),
        lambda d, h: np.maximum(h, d),
        lambda d, h: cp.concatenate([d, h]),
        lambda d, h: np.concatenate([h, d]),
        lambda d, h: cp.where(d > 0, d, h),
    ],
)
def test_mixing_host_and_device_arrays_raises(mix):
    with pytest.raises(TypeError):
        mix(cp.ones(3), np.ones(3))


def test_scalars_and_numpy_functions_stay_on_the_device_without_a_sync():
    x = cp.arange(4, dtype=np.float32)
    results = [x * 2, 2.5 - x, x * np.float32(3), np.exp(x), np.concatenate([x, x]), x.sum(), x[1]]
    assert all(isinstance(r, cp.ndarray) for r in results)
    assert results[-2].shape == () and results[-1].shape == ()  # 0-d arrays, not numbers
    out = cp.empty(4, np.float32)
    assert cp.add(x, 1, out=out) is out
    assert (cp.counters.syncs, cp.counters.uploads) == (0, 0)


@pytest.mark.parametrize(
    "read",
    [
        float,
        int,
        bool,
        lambda a: a.item(),
        lambda a: a.get(),
        lambda a: a.tolist(),
        lambda a: [0, 1][a],
        cp.asnumpy,
        repr,
    ],  # fmt: skip
)
def test_each_host_read_is_a_counted_sync(read):
    x = cp.ones((), dtype=np.int64)
    read(x)
    assert (cp.counters.syncs, cp.counters.uploads) == (1, 0)


def test_uploads_are_counted_and_device_arrays_pass_through():
    x = cp.asarray(np.ones(3))
    cp.array([1, 2])
    assert cp.asarray(x) is x and cp.counters.uploads == 2
    assert cp.get_array_module(x) is cp and cp.get_array_module(np.ones(1)) is np


def test_names_the_real_cupy_lacks_raise_attribute_error():
    assert "asarray" in cupy_names.CUPY and "float32" in cupy_names.CUPY
    for name in ("insert", "errstate", "nanquantile", "not_a_function"):
        assert name not in cupy_names.CUPY
        with pytest.raises(AttributeError, match="module 'cupy' has no attribute"):
            getattr(cp, name)
    with pytest.raises(AttributeError, match="'cupy.ndarray' object has no attribute 'resize'"):
        cp.ones(2).resize  # noqa: B018
    generator = cp.random.default_rng(0)
    assert {"random", "standard_normal", "integers"} <= cupy_names.GENERATOR
    with pytest.raises(AttributeError):
        generator.normal  # noqa: B018 - CuPy's Generator has no normal(); standard_normal
    with pytest.raises(AttributeError):
        generator.permutation  # noqa: B018


def test_random_draws_on_the_device_reproducibly():
    a = cp.random.default_rng(3).random((2, 3), dtype=np.float32)
    b = cp.random.default_rng(3).random((2, 3), dtype=np.float32)
    assert isinstance(a, cp.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(a.get(), b.get())
    cp.random.seed(1)
    first = cp.random.rand(3).get()
    cp.random.seed(1)
    np.testing.assert_array_equal(cp.random.rand(3).get(), first)
    assert cp.counters.uploads == 0


def test_devices():
    assert cp.cuda.runtime.getDeviceCount() == 1
    with cp.cuda.Device(0):
        assert cp.ones(1).device.id == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"), cp.cuda.Device(1):
        pass
