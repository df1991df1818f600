"""Adaptive pooling over the last two dims of (N, C, H, W) or (C, H, W), and over L of
(N, C, L) or (C, L) as a height of 1: the output size is given and the windows (bins) follow
from it, as PyTorch: bin i along a dim of length L split into O bins covers
[⌊i·L/O⌋, ⌈(i + 1)·L/O⌉), so bins may differ in size and overlap."""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor


def _bin_edges(size: int, out: int) -> tuple[list[int], list[int]]:
    """PyTorch's adaptive bins: bin i covers [⌊i·L/O⌋, ⌈(i + 1)·L/O⌉)."""
    return (
        [i * size // out for i in range(out)],
        [-(-(i + 1) * size // out) for i in range(out)],
    )


def _averaging_matrix(size: int, out: int, dtype, xp):
    """(out, size): row i holds 1/|bin i| over bin i, so A x averages every bin."""
    starts, ends = _bin_edges(size, out)
    positions = xp.arange(size)[None, :]
    inside = (positions >= xp.asarray(starts)[:, None]) & (positions < xp.asarray(ends)[:, None])
    return (inside / inside.sum(axis=1, keepdims=True)).astype(dtype)


def _both_sides(x, left, right):
    """left @ x @ rightᵀ for every (…, H, W) plane of x, as two GEMMs over all planes at once
    (a batched matmul of N·C small matrices ran ~4x slower on 64×512×7×7)."""
    *planes, height, width = x.shape
    out_h, out_w = left.shape[0], right.shape[0]
    t = x.reshape(-1, width) @ right.T  # (P·H, OW)
    t = t.reshape(-1, height, out_w).transpose(0, 2, 1).reshape(-1, height) @ left.T
    # written into an array of its own: a reshaped copy would be a view, copied once more
    # when it becomes a leaf's .grad
    out = get_array_module(x).empty((*planes, out_h, out_w), dtype=x.dtype)
    out.reshape(-1, out_h, out_w)[...] = t.reshape(-1, out_w, out_h).transpose(0, 2, 1)
    return out


class AdaptiveAvgPool2d(Function):
    """y = A_H x A_Wᵀ over the last two dims, with A the averaging matrices of the bins (row i
    holds 1/|bin i| on bin i); equals ``avg_pool2d`` when the bins are equal windows.
    ∂L/∂x = A_Hᵀ g A_W. A 1×1 output (global average pooling, the head of most CNNs) is the
    plain mean over H·W, with ∂L/∂x = g/(H·W) everywhere; an empty output (a size of 0) has
    ∂L/∂x = 0."""

    def forward(self, x, *, out_size):
        xp = get_array_module(x)
        self.shape, self.empty = x.shape, 0 in out_size
        if self.empty:
            return xp.zeros((*x.shape[:-2], *out_size), dtype=x.dtype)
        if out_size == (1, 1):
            return x.mean(axis=(-2, -1), keepdims=True)
        rows = _averaging_matrix(x.shape[-2], out_size[0], x.dtype, xp)
        cols = _averaging_matrix(x.shape[-1], out_size[1], x.dtype, xp)
        self.save_for_backward(rows, cols)
        return _both_sides(x, rows, cols)

    def backward(self, grad):
        if self.empty:  # no bin: nothing reaches the input
            return (get_array_module(grad).zeros(self.shape, dtype=grad.dtype),)
        if not self.saved_tensors:  # the global mean
            out = get_array_module(grad).empty(self.shape, dtype=grad.dtype)
            out[...] = grad / grad.dtype.type(self.shape[-2] * self.shape[-1])
            return (out,)
        rows, cols = self.saved_tensors
        return (_both_sides(grad, rows.T, cols.T),)

    @classmethod
    def name(cls) -> str:
        return "adaptive_avg_pool2d"


class AdaptiveMaxPool2d(Function):
    """y[i, j] = max of x over bin (i, j); ∂L/∂x at the bin's first maximum (PyTorch's scan:
    row by row, a NaN at once, the last NaN last) is g[i, j], summed over the bins that
    picked it.

    The scan runs first along each row of a bin (column offsets b), then down the rows (row
    offsets a): the first row holding the maximum, and its first maximum, is PyTorch's
    row-major first. Offsets past a bin's end repeat its last element, which never raises
    the running maximum (a NaN does; the offset is clipped back into the bin). As in
    ``max_pool2d``, the offset that last raised the maximum is the largest raising one.
    Given a list as ``sink``, forward appends the int64 indices to it (their own array).
    """

    def forward(self, x, *, out_size, sink=None):
        xp = get_array_module(x)
        width = x.shape[-1]
        if 0 in out_size:
            index = xp.zeros((*x.shape[:-2], *out_size), dtype=xp.int64)
            best = xp.zeros(index.shape, dtype=x.dtype)
        else:
            (row_first, row_last, rows), (col_first, col_last, cols) = (
                _bins(n, o, xp) for n, o in zip(x.shape[-2:], out_size, strict=True)
            )
            row_max, col_offset = _scan(  # along each row of every bin: (..., H, OW)
                lambda b: x[..., xp.minimum(col_first + b, col_last)], cols, xp
            )
            best, row_offset = _scan(  # down the rows: (..., OH, OW)
                lambda a: row_max[..., xp.minimum(row_first + a, row_last), :], rows, xp
            )
            row = xp.minimum(row_first[:, None] + row_offset, row_last[:, None])
            col = xp.take_along_axis(col_offset, row, axis=-2)
            index = row * width + xp.minimum(col_first + col, col_last)
        self.shape = x.shape
        self.save_for_backward(index)
        if sink is not None:
            sink.append(index.copy())
        return best

    def backward(self, grad):
        (index,) = self.saved_tensors
        xp = get_array_module(grad)
        planes, plane = self.shape[:-2], self.shape[-2] * self.shape[-1]
        # one scatter-add onto flat indices into the whole input (repeats, from overlapping
        # bins, add up); a 1-d index takes NumPy's fast path
        first = (xp.arange(math.prod(planes), dtype=xp.int64) * plane).reshape(*planes, 1, 1)
        out = xp.zeros(math.prod(self.shape), dtype=grad.dtype)
        xp.add.at(out, (index + first).reshape(-1), grad.reshape(-1))
        return (out.reshape(self.shape),)

    @classmethod
    def name(cls) -> str:
        return "adaptive_max_pool2d"


def _bins(size: int, out: int, xp) -> tuple:
    """The first and last position of every bin (int64 arrays) and the longest bin's size."""
    starts, ends = _bin_edges(size, out)
    longest = max(e - s for s, e in zip(starts, ends, strict=True))
    return xp.asarray(starts, dtype=xp.int64), xp.asarray(ends, dtype=xp.int64) - 1, longest


def _scan(values, count: int, xp) -> tuple:
    """The running maximum over ``values(k)`` for k < count (each a fresh array), raised
    where a value is greater or NaN, and the offset k that raised it last."""
    best = values(0)
    offset_type = xp.int8 if count < 128 else xp.int16
    offset = xp.zeros(best.shape, dtype=offset_type)
    for k in range(1, count):
        v = values(k)
        raised = (v > best) | xp.isnan(v)
        xp.maximum(best, v, out=best)  # NaN-propagating, as the scan
        xp.maximum(offset, raised.view(xp.int8) * offset_type(k), out=offset)
    return best, offset


def _adaptive_size(input: Tensor, output_size, op: str) -> tuple[int, int]:
    """The output size as a pair of ints (None keeps the input's size), checked."""
    _check_adaptive_input(input, op)
    sizes = (
        (output_size, output_size)
        if output_size is None or isinstance(output_size, int)
        else tuple(output_size)
    )
    if len(sizes) != 2:
        raise RuntimeError(f"{op}: output_size must be 2, got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, input.shape[-2:], strict=True))
    if min(sizes) < 0:
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received {sizes}"
        )
    return sizes


def _check_adaptive_input(input: Tensor, op: str) -> None:
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError(
            f"{op}: expected a 3D or 4D tensor with non-zero sizes except an optional 0 batch "
            f"size, but got shape {input.shape}"
        )


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over the bins that split H and W into ``output_size`` (OH, OW) parts: bin i
    covers [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉), and likewise along W; None keeps that dim's size."""
    size = _adaptive_size(input, output_size, "adaptive_avg_pool2d")
    return AdaptiveAvgPool2d.apply(input, out_size=size)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over the bins of ``adaptive_avg_pool2d``; with ``return_indices`` also the
    int64 index of each maximum in its H×W plane."""
    size = _adaptive_size(input, output_size, "adaptive_max_pool2d")
    sink = [] if return_indices else None
    out = AdaptiveMaxPool2d.apply(input, out_size=size, sink=sink)
    return (out, Tensor._make(sink[0], False)) if return_indices else out


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` returning (values, indices) whatever ``return_indices`` says,
    as PyTorch's."""
    return adaptive_max_pool2d(input, output_size, True)


# ---------------------------------------------------------------------------------------------
# 1-d: the 2-d bins over a height of 1
# ---------------------------------------------------------------------------------------------


def _adaptive_length(input: Tensor, output_size, op: str) -> int:
    """The output length as an int (an int, or a sequence of one), checked as PyTorch."""
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if input.ndim not in (2, 3) or 0 in input.shape[-1:]:
        raise RuntimeError(
            f"{op}: expected a 2D or 3D tensor with a non-zero length, but got shape {input.shape}"
        )
    if output_size is None or isinstance(output_size, bool):
        raise TypeError(f"{op}: output_size must be an int or a tuple of one int, got None")
    sizes = (output_size,) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 1:
        raise RuntimeError(
            f"{op}: argument 'output_size' should contain one int (got {len(sizes)})"
        )
    if sizes[0] < 0:
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received "
            f"{sizes[0]}"
        )
    return sizes[0]


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average over the bins that split L into ``output_size`` parts: bin i covers
    [⌊i·L/O⌋, ⌈(i + 1)·L/O⌉); (N, C, L) or (C, L) to (N, C, O) or (C, O).
    ``adaptive_avg_pool2d`` over a height of 1."""
    length = _adaptive_length(input, output_size, "adaptive_avg_pool1d")
    return AdaptiveAvgPool2d.apply(input.unsqueeze(-2), out_size=(1, length)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Maximum over the bins of ``adaptive_avg_pool1d``; with ``return_indices`` also the
    int64 position along L of each maximum. ``adaptive_max_pool2d`` over a height of 1."""
    length = _adaptive_length(input, output_size, "adaptive_max_pool1d")
    sink = [] if return_indices else None
    rows = AdaptiveMaxPool2d.apply(input.unsqueeze(-2), out_size=(1, length), sink=sink)
    if not return_indices:
        return rows.squeeze(-2)
    return rows.squeeze(-2), Tensor._make(sink[0].squeeze(-2), False)


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` returning (values, indices) whatever ``return_indices`` says,
    as PyTorch's."""
    return adaptive_max_pool1d(input, output_size, True)
