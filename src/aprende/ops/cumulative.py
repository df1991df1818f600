"""Cumulative operations along one dimension, as PyTorch's (i and j run along ``dim``)::

    cumsum:        y_i = Σ_{j≤i} x_j
    cumprod:       y_i = Π_{j≤i} x_j
    cummax:        y_i = max_{j≤i} x_j, and the last position j ≤ i where it is reached
    cummin:        y_i = min_{j≤i} x_j, likewise
    logcumsumexp:  y_i = log Σ_{j≤i} e^{x_j}
    diff:          y_i = x_{i+1} − x_i (cumsum's inverse: the forward differences, n times)

A 0-d tensor counts as a vector of one element (dim 0 or −1). float16 accumulates in float32,
as PyTorch's kernels do, and rounds once at the end.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating
from aprende.ops.reduce import ValuesIndices
from aprende.ops.scatter import Gather, rows, single_dim
from aprende.ops.shape import cat, dim_index

TENSOR_METHODS = ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff")


def _accumulate(ufunc, a, axis: int):
    """``ufunc.accumulate`` along ``axis`` in a's dtype (NumPy would widen int32 to int64), in
    float32 for float16 input."""
    work = np.float32 if a.dtype == np.float16 else a.dtype
    return ufunc.accumulate(a, axis=axis, dtype=work).astype(a.dtype, copy=False)


def _from_end(ufunc, a, axis: int):
    """The accumulation run from the last element back: out_j folds x_i for i ≥ j."""
    xp = get_array_module(a)
    return xp.flip(_accumulate(ufunc, xp.flip(a, axis), axis), axis)


class CumSum(Function):
    """y_i = Σ_{j≤i} x_j; ∂L/∂x_j = Σ_{i≥j} g_i, a cumulative sum run from the end."""

    def forward(self, a, dim=0):
        self.dim = dim
        return _accumulate(get_array_module(a).add, rows(a), dim).reshape(a.shape)

    def backward(self, grad):
        xp = get_array_module(grad)
        return (_from_end(xp.add, rows(grad), self.dim).reshape(grad.shape),)


class CumProd(Function):
    """y_i = Π_{j≤i} x_j; ∂L/∂x_j = Σ_{i≥j} g_i Π_{k≤i, k≠j} x_k, computed as PyTorch does so
    that zeros give the true derivative, not 0/0:

    - before the first zero of a slice: (Σ_{i≥j} g_i y_i) / x_j;
    - at the first zero z: Σ_{i≥z} g_i y'_i, y' the cumulative product with x_z taken as 1;
    - after it every product holds that zero: 0.
    """

    def forward(self, a, dim=0):
        out = _accumulate(get_array_module(a).multiply, rows(a), dim).reshape(a.shape)
        self.save_for_backward(a, out)
        self.dim = dim
        return out

    def backward(self, grad):
        a, out = (rows(array) for array in self.saved_tensors)
        g, d = rows(grad), self.dim
        xp = get_array_module(g)
        zero = a == 0
        zeros_so_far = xp.cumsum(zero, axis=d)
        before, first = zeros_so_far == 0, zero & (zeros_so_far == 1)
        one = a.dtype.type(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            before_first = _from_end(xp.add, g * out, d) / xp.where(before, a, one)
        at_first = _from_end(xp.add, g * _accumulate(xp.multiply, xp.where(first, one, a), d), d)
        local = xp.where(before, before_first, xp.where(first, at_first, a.dtype.type(0)))
        return (local.reshape(grad.shape),)


class LogCumSumExp(Function):
    """y_i = log Σ_{j≤i} e^{x_j}, folded pairwise with logaddexp (nothing overflows, and small
    early terms do not vanish as they would after subtracting a global max).

    ∂L/∂x_j = Σ_{i≥j} g_i e^{x_j − y_i}, computed as PyTorch does, in log space with the
    positive and negative parts of g apart: e^{x_j + R(log g⁺ − y)_j} − e^{x_j + R(log g⁻ − y)_j},
    R the logcumsumexp run from the end (nan at x_j = ±inf, as PyTorch)."""

    def forward(self, a, dim=0):
        out = _accumulate(get_array_module(a).logaddexp, rows(a), dim).reshape(a.shape)
        self.save_for_backward(a, out)
        self.dim = dim
        return out

    def backward(self, grad):
        a, out = (rows(array) for array in self.saved_tensors)
        g = rows(grad)
        xp = get_array_module(g)
        lowest = g.dtype.type(np.finfo(g.dtype).min)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_abs = xp.log(xp.abs(g))

            def part(log_g):
                return xp.exp(_from_end(xp.logaddexp, log_g - out, self.dim) + a)

            local = part(xp.where(g > 0, log_abs, lowest)) - part(xp.where(g < 0, log_abs, lowest))
        return (local.reshape(grad.shape),)


def _summable(input: Tensor, dtype) -> Tensor:
    """The input of cumsum / cumprod: cast to ``dtype`` when given, else integers and bools in
    int64 (PyTorch's rule: the running sum of int8 values does not wrap at 127)."""
    if dtype is not None:
        return input.to(dtype)
    return input if is_floating(input.dtype) else input.to(backend.int64)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """y_i = Σ_{j≤i} x_j along ``dim``; integer and bool inputs give int64, ``dtype`` casts the
    input first. ∂L/∂x_j = Σ_{i≥j} ∂L/∂y_i."""
    input = _summable(input, dtype)
    return CumSum.apply(input, dim=single_dim(dim, input.ndim, "cumsum"))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """y_i = Π_{j≤i} x_j along ``dim``; integer and bool inputs give int64, ``dtype`` casts the
    input first. The gradient is exact where x holds zeros (see ``CumProd``)."""
    input = _summable(input, dtype)
    return CumProd.apply(input, dim=single_dim(dim, input.ndim, "cumprod"))


def _running_extremum(input: Tensor, dim: int, op: str) -> ValuesIndices:
    """(values, indices): indices_i is the last j ≤ i where x_j equals the running extremum
    (ties take the later position; nan, once met, is the extremum, and each later nan takes
    over, as in PyTorch); values = gather(x, dim, indices), so the gradient of values goes to
    those positions."""
    dim = single_dim(dim, input.ndim, op)
    data = rows(input.data)
    xp = get_array_module(data)
    running = _accumulate(xp.maximum if op == "cummax" else xp.minimum, data, dim)
    reached = data == running
    if data.dtype.kind == "f":
        reached |= xp.isnan(data)
    n = data.shape[dim]
    positions = xp.arange(n).reshape((1,) * dim + (n,) + (1,) * (data.ndim - dim - 1))
    indices = xp.maximum.accumulate(xp.where(reached, positions, 0), axis=dim)
    indices = Tensor._make(indices.astype(np.int64).reshape(input.shape), False)
    return ValuesIndices(Gather.apply(input, indices, dim=dim), indices)


def cummax(input: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): values_i = max_{j≤i} x_j along ``dim``, indices_i the last position
    where it is reached. ∂L/∂x: each value's gradient goes to the position of its index."""
    return _running_extremum(input, dim, "cummax")


def cummin(input: Tensor, dim: int) -> ValuesIndices:
    """(values, indices): values_i = min_{j≤i} x_j along ``dim``, indices_i the last position
    where it is reached. ∂L/∂x: each value's gradient goes to the position of its index."""
    return _running_extremum(input, dim, "cummin")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """y_i = log Σ_{j≤i} e^{x_j} along ``dim``, stable for inputs of any size; floating inputs
    only (PyTorch raises NotImplementedError for integers too)."""
    if not is_floating(input.dtype):
        raise NotImplementedError(
            f"logcumsumexp: not implemented for {input.dtype} inputs; convert with .float()"
        )
    return LogCumSumExp.apply(input, dim=single_dim(dim, input.ndim, "logcumsumexp"))


def _check_ends(input: Tensor, end: Tensor, axis: int) -> None:
    """A tensor to prepend or append must match ``input`` except along the differenced dim."""
    if end.ndim != input.ndim:
        raise RuntimeError(
            f"diff: expected prepend or append to have the {input.ndim} dims of input, got "
            f"shape {end.shape}"
        )
    for i, (mine, theirs) in enumerate(zip(input.shape, end.shape, strict=True)):
        if i != axis and mine != theirs:
            raise RuntimeError(
                f"diff: expected prepend or append to match input {input.shape} except along "
                f"dim {axis}, got shape {end.shape}"
            )


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The n-th forward difference along ``dim``: y_i = x_{i+1} − x_i, applied n times to
    ``prepend``, ``input`` and ``append`` joined along dim (each pass one element shorter;
    past the length, empty). Bool tensors give x_{i+1} ≠ x_i, as PyTorch's logical xor."""
    if input.ndim == 0:
        raise RuntimeError("diff: expected input to be at least one-dimensional, got a 0-d tensor")
    if n < 0:
        raise RuntimeError(f"diff: order n must be non-negative, got {n}")
    axis = dim_index(dim, input.ndim, "diff")
    ends = [t for t in (prepend, append) if t is not None]
    for end in ends:
        _check_ends(input, end, axis)
    x = cat([t for t in (prepend, input, append) if t is not None], dim=axis) if ends else input
    before = (slice(None),) * axis
    for _ in range(n):
        later, earlier = x[(*before, slice(1, None))], x[(*before, slice(None, -1))]
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    return x
