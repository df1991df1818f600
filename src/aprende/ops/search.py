"""Searching and counting: membership (``isin``), the bucket of each value (``bucketize``),
counts of integers (``bincount``) and of values in equal-width bins (``histc``), the positions
of nonzero elements (``argwhere``), runs of equal values (``unique_consecutive``) and flat
indices as coordinates (``unravel_index``), as PyTorch's. None of them is differentiable: each
returns a tensor outside the graph, as PyTorch's do (histc's counts included).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor
from aprende.ops.elementwise import result_type
from aprende.ops.reduce import normalize_dims

TENSOR_METHODS = ("bincount", "histc", "argwhere", "unique_consecutive")


def _array(value, xp):
    """A tensor's array, or a Python number as a 0-d array."""
    return value.data if isinstance(value, Tensor) else xp.asarray(value)


def _module(*values):
    """The array module of the first tensor among ``values`` (NumPy when there is none)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    return get_array_module(tensors[0].data) if tensors else np


def isin(
    elements: Tensor | float,
    test_elements: Tensor | float,
    *,
    assume_unique: bool = False,
    invert: bool = False,
) -> Tensor:
    """out[i] = elements[i] ∈ test_elements (not ∈ with ``invert``): a bool tensor of
    elements' shape; the two are compared after type promotion, nan is in nothing. Either may
    be a number, not both. ``assume_unique`` is accepted for PyTorch's signature."""
    op = "isin"
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"{op}: expected elements or test_elements to be a Tensor, got two numbers")
    for value in (elements, test_elements):
        if isinstance(value, Tensor) and value.dtype == np.bool_:
            raise RuntimeError(
                f"{op}: bool tensors are not supported, got one of shape {value.shape}"
            )
    xp = _module(elements, test_elements)
    dtype = result_type(elements, test_elements)
    values = _array(elements, xp).astype(dtype)
    tests = _array(test_elements, xp).astype(dtype).reshape(-1)
    found = xp.isin(values, tests, assume_unique=assume_unique, invert=invert)
    return Tensor._make(xp.asarray(found), False)


def bucketize(
    input: Tensor | float, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """out[i] = the bucket of input[i] among the sorted 1-D ``boundaries``: the index j with
    boundaries[j−1] < v ≤ boundaries[j] (``right=False``), or boundaries[j−1] ≤ v <
    boundaries[j] (``right=True``); int64, or int32 with ``out_int32``, of input's shape.
    ``right=False`` is ``searchsorted``'s side="left" (the first j with boundaries[j] ≥ v)."""
    check_tensor(boundaries, "boundaries", "bucketize")
    if boundaries.ndim != 1:
        raise RuntimeError(
            f"bucketize: boundaries tensor must be 1 dimension, got shape {boundaries.shape}"
        )
    xp = get_array_module(boundaries.data)
    found = xp.searchsorted(boundaries.data, _array(input, xp), side="right" if right else "left")
    return Tensor._make(xp.asarray(found).astype(np.int32 if out_int32 else np.int64), False)


def _bincount_dtype(weights: Tensor | None) -> np.dtype:
    """PyTorch's result dtype: int64 counts; float32 sums of float32 weights, else float64."""
    if weights is None:
        return np.dtype(np.int64)
    return np.dtype(np.float32 if weights.dtype == np.float32 else np.float64)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """out[k] = #{i : input[i] = k} (or Σ weights[i] over those i) for k in [0, n), with
    n = max(max(input) + 1, minlength); input is a 1-D tensor of non-negative integers,
    weights of the same length. int64 counts; sums in float32 for float32 weights and float64
    for any other (an empty input gives int64 zeros, as PyTorch)."""
    op = "bincount"
    check_tensor(input, "input", op)
    if input.dtype.kind not in "iu":
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (integers only)")
    if minlength < 0:
        raise RuntimeError(f"{op}: minlength should be >= 0, got {minlength}")
    data = input.data
    if input.ndim != 1 or (data.size and int(data.min()) < 0):
        raise RuntimeError(
            f"{op}: only supports 1-d non-negative integral inputs, got shape {input.shape}"
        )
    if weights is not None:
        check_tensor(weights, "weights", op)
        if weights.shape != input.shape:
            raise RuntimeError(
                f"{op}: weights should be 1-d and have the same length as input "
                f"{input.shape}, got {weights.shape}"
            )
    xp = get_array_module(data)
    if data.size == 0:
        return Tensor._make(xp.zeros(minlength, dtype=np.int64), False)
    dtype = _bincount_dtype(weights)
    counted = xp.bincount(data, None if weights is None else weights.data, minlength)
    return Tensor._make(counted.astype(dtype), False)


def _histc_range(data, low: float, high: float) -> tuple[float, float]:
    """PyTorch's outer edges: the data's range when min = max, widened by 1 either side when
    that is one value too; a range that is not finite or not increasing is a RuntimeError."""
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"histc: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError(f"histc: max must be larger than min, got min={low} and max={high}")
    return low, high


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """The counts of input's elements in ``bins`` equal-width bins over [min, max] (the
    data's range when min = max): element v goes to bin ⌊(v − min)·bins / (max − min)⌋, v = max
    to the last; elements outside the range (and nan) are not counted. Floating input only;
    the counts have its dtype, shape (bins,)."""
    op = "histc"
    check_tensor(input, "input", op)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (floats only)")
    if bins <= 0:
        raise RuntimeError(f"{op}: bins must be > 0, got {bins}")
    xp = get_array_module(input.data)
    data = input.data.reshape(-1)
    low, high = _histc_range(data, float(min), float(max))
    dtype = data.dtype.type
    low, high = dtype(low), dtype(high)
    inside = data[(data >= low) & (data <= high)]
    # PyTorch's arithmetic, in the input's dtype: (v − min)·bins first, then / (max − min).
    position = ((inside - low) * dtype(bins) / (high - low)).astype(np.int64)
    position = xp.minimum(position, bins - 1)
    return Tensor._make(xp.bincount(position, minlength=bins).astype(data.dtype), False)


def argwhere(input: Tensor) -> Tensor:
    """The positions of the nonzero elements, one row each in row-major order: an int64
    tensor of shape (count, input.ndim) (``nonzero``)."""
    xp = get_array_module(input.data)
    return Tensor._make(xp.argwhere(input.data).astype(np.int64), False)


def _runs(data, axis: int, xp):
    """Where each run of equal slices along ``axis`` starts: a bool vector, True at 0 and
    wherever a slice differs from the one before it (nan differs from nan)."""
    moved = xp.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
    starts = xp.ones(moved.shape[0], dtype=bool)
    starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
    return starts


def unique_consecutive(
    input: Tensor,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """The first element of every run of equal consecutive elements (of the flattened input,
    or of equal consecutive slices along ``dim``); with ``return_inverse`` the run each element
    (slice) belongs to, input = output[inverse], in input's shape (length input.size(dim) with
    dim); with ``return_counts`` the length of each run. int64 inverse and counts."""
    op = "unique_consecutive"
    xp = get_array_module(input.data)
    data = input.data
    if dim is None:
        data = data.reshape(-1)
        axis = 0
    else:
        if input.ndim == 0:
            raise IndexError(f"{op}: dimension {dim} specified but the tensor has no dimensions")
        (axis,) = normalize_dims(dim, input.ndim, op)
        if data.size == 0 and data.shape[axis] != 0:
            raise RuntimeError(
                f"{op}: input of shape {input.shape} has 0-sized dimensions other than dim "
                f"{dim}, so unique cannot be applied"
            )
    starts = _runs(data, axis, xp) if data.shape[axis] else xp.zeros(0, dtype=bool)
    first = xp.flatnonzero(starts)
    results = [Tensor._make(xp.take(data, first, axis=axis), False)]
    if return_inverse:
        inverse = xp.cumsum(starts) - 1
        shape = input.shape if dim is None else (input.shape[axis],)
        results.append(Tensor._make(inverse.astype(np.int64).reshape(shape), False))
    if return_counts:
        counts = xp.diff(xp.append(first, data.shape[axis]))
        results.append(Tensor._make(counts.astype(np.int64), False))
    return results[0] if len(results) == 1 else tuple(results)


def _unravel_shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (one int is a shape of one dimension)."""
    shape = (shape,) if isinstance(shape, numbers.Integral) else shape
    if not isinstance(shape, tuple | list) or not all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape
    ):
        raise TypeError(
            f"unravel_index: expected shape to be an int or a sequence of ints, got {shape!r}"
        )
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: shape cannot have negative values, got {tuple(shape)}")
    return tuple(int(n) for n in shape)


def unravel_index(indices: Tensor, shape) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of row-major flat ``indices``: one int64
    tensor of indices' shape per dimension, coordinate d = ⌊index / stride_d⌋ mod shape[d]
    (strides of a contiguous tensor). As PyTorch, indices outside [0, numel) are not refused
    but wrap around (−1 is the last element)."""
    op = "unravel_index"
    check_tensor(indices, "indices", op)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected indices of an integer dtype, got {indices.dtype}")
    shape = _unravel_shape(shape)
    if 0 in shape:
        raise RuntimeError(f"{op}: cannot unravel into a shape with a zero size, got {shape}")
    flat = indices.data.astype(np.int64)
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    return tuple(
        Tensor._make((flat // stride) % n, False) for stride, n in zip(strides, shape, strict=True)
    )
