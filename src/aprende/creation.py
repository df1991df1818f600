"""Factories that make tensors, with PyTorch's names and defaults (float32, "cpu")."""

from __future__ import annotations

import numbers

import numpy as np

from aprende import backend
from aprende._tensor import Tensor


def _size(size: tuple) -> tuple:
    """Accept ``zeros(2, 3)`` and ``zeros((2, 3))`` alike."""
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or s < 0:
            raise ValueError(f"expected a size of non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _finish(array: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    """Cast, move and wrap a freshly made NumPy array."""
    dtype = backend.to_dtype(dtype)
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    if device is not None:
        array = backend.move(array, device)
    return Tensor(array, requires_grad=requires_grad)


def _infer_dtype(data) -> np.dtype | None:
    """Python floats become the default dtype (float32); NumPy arrays keep theirs."""
    if isinstance(data, np.ndarray | np.generic):
        return None
    array = np.asarray(data)
    if array.dtype == np.float64:
        return backend.get_default_dtype()
    return None


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or tensors)."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = backend.to_numpy(data) if hasattr(data, "__cuda_array_interface__") else data
        array = np.array(array, copy=True)
    except ValueError as error:
        raise ValueError(f"tensor: cannot build a tensor from the data given: {error}") from None
    if array.dtype == object:
        raise TypeError(f"tensor: expected numbers, nested lists or arrays, got {type(data)}")
    return _finish(array, dtype or _infer_dtype(data), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor sharing memory with ``data`` where possible (a Tensor is returned as is)."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _default(dtype):
    return backend.get_default_dtype() if dtype is None else dtype


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _finish(np.zeros(_size(size), dtype=_default(dtype)), None, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _finish(np.ones(_size(size), dtype=_default(dtype)), None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (zeros here: reading it is never undefined)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (a float fills the default dtype, an int int64)."""
    if dtype is None:
        dtype = _infer_dtype(fill_value) or np.asarray(fill_value).dtype
    return _finish(np.full(_size((size,)), fill_value, dtype=dtype), None, device, requires_grad)


def _like(factory, input: Tensor, dtype, device, requires_grad, **kwargs) -> Tensor:
    return factory(
        input.shape,
        dtype=input.dtype if dtype is None else dtype,
        device=input.device if device is None else device,
        requires_grad=requires_grad,
        **kwargs,
    )


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape, dtype and device."""
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape, dtype and device."""
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _like(zeros, input, dtype, device, requires_grad)


def full_like(
    input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype and device."""
    dtype = input.dtype if dtype is None else dtype
    return full(
        input.shape,
        fill_value,
        dtype=dtype,
        device=input.device if device is None else device,
        requires_grad=requires_grad,
    )


def rand_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """U[0, 1) samples in ``input``'s shape, dtype and device."""
    return _like(rand, input, dtype, device, requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """N(0, 1) samples in ``input``'s shape, dtype and device."""
    return _like(randn, input, dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """start, start + step, ... up to but excluding end (int64 unless a bound is a float)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None and all(isinstance(v, numbers.Integral) for v in (start, end, step)):
        dtype = backend.int64
    array = np.arange(start, end, step, dtype=_default(dtype))
    return _finish(array, None, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    if dtype is not None and backend.to_dtype(dtype) == np.bool_:
        raise NotImplementedError("linspace: not implemented for bool (as PyTorch)")
    array = np.linspace(start, end, steps, dtype=np.float64).astype(_default(dtype))
    return _finish(array, None, device, requires_grad)


def logspace(
    start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """``steps`` values base^e for exponents e evenly spaced from start to end, both
    included: base^start, .., base^end. Exponents are computed in float64 as PyTorch's,
    from start for the first half and back from end for the second; an integer dtype
    truncates each value towards zero."""
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    if dtype is not None and backend.to_dtype(dtype) == np.bool_:
        raise NotImplementedError("logspace: not implemented for bool (as PyTorch)")
    index = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    halfway = max(steps // 2, 1)  # one step is base^start
    exponent = np.where(index < halfway, start + step * index, end - step * (steps - 1 - index))
    with np.errstate(invalid="ignore"):  # a negative base to a fractional power is nan
        array = np.power(np.float64(base), exponent).astype(_default(dtype))
    return _finish(array, None, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix (n × m)."""
    return _finish(np.eye(n, m, dtype=_default(dtype)), None, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Samples of U[0, 1) from the global generator (seed it with ``aprende.manual_seed``)."""
    array = backend.generator_for(generator).random(_size(size), dtype=np.float64)
    return _finish(array.astype(_default(dtype)), None, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Samples of the standard normal N(0, 1) from the global generator."""
    array = backend.generator_for(generator).standard_normal(_size(size))
    return _finish(array.astype(_default(dtype)), None, device, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high) (int64), as ``torch.randint``."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    array = backend.generator_for(generator).integers(low, high, size=_size((size,)))
    return _finish(array.astype(dtype or backend.int64), None, device, False)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n−1."""
    array = backend.generator_for(generator).permutation(n)
    return _finish(array.astype(dtype or backend.int64), None, device, False)


def normal(mean: float, std: float, size, generator=None, dtype=None, device=None) -> Tensor:
    """Samples of N(mean, std²)."""
    array = backend.generator_for(generator).normal(mean, std, size=_size((size,)))
    return _finish(array.astype(_default(dtype)), None, device, False)
