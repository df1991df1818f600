"""Adaptive pooling over the last two dims of (N, C, H, W) or (C, H, W): the output size is
given and the windows (bins) follow from it, as PyTorch: bin i along a dim of length L split
into O bins covers [⌊i·L/O⌋, ⌈(i + 1)·L/O⌉), so bins may differ in size and overlap."""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor

# ---------------------------------------------------------------------------------------------


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


class AdaptiveAvgPool2d(Function):
    """y = A_H x A_Wᵀ over the last two dims, with A the averaging matrices of the bins (row i
    holds 1/|bin i| on bin i); equals ``avg_pool2d`` when the bins are equal windows.
    ∂L/∂x = A_Hᵀ g A_W."""

    def forward(self, x, *, out_size):
        xp = get_array_module(x)
        rows = _averaging_matrix(x.shape[-2], out_size[0], x.dtype, xp)
        cols = _averaging_matrix(x.shape[-1], out_size[1], x.dtype, xp)
        self.save_for_backward(rows, cols)
        return rows @ (x @ cols.T)

    def backward(self, grad):
        rows, cols = self.saved_tensors
        return ((rows.T @ grad) @ cols,)

    @classmethod
    def name(cls) -> str:
        return "adaptive_avg_pool2d"


class AdaptiveMaxPool2d(Function):
    """y[i, j] = max of x over bin (i, j); ∂L/∂x at the bin's first maximum (PyTorch's scan:
    row by row, a NaN at once) is g[i, j], summed over the bins that picked it.

    The scan runs first along each row of a bin (column offsets b), then down the rows (row
    offsets a): the first row holding the maximum, and its first maximum, is PyTorch's
    row-major first. Offsets past a bin's end repeat its last element, which never raises
    the running maximum.
    """

    def forward(self, x, *, out_size, sink=None):
        xp = get_array_module(x)
        (height, width), (oh, ow) = x.shape[-2:], out_size
        row_start, row_end = _bin_edges(height, oh)
        col_start, col_end = _bin_edges(width, ow)
        row_max = col_picked = None
        for b in range(max(e - s for s, e in zip(col_start, col_end, strict=True))):
            cols = xp.asarray([min(s + b, e - 1) for s, e in zip(col_start, col_end, strict=True)])
            row_max, col_picked = _scan_step(xp, x[..., cols], cols, row_max, col_picked)
        best = index = None
        for a in range(max(e - s for s, e in zip(row_start, row_end, strict=True))):
            rows = xp.asarray([min(s + a, e - 1) for s, e in zip(row_start, row_end, strict=True)])
            flat = rows[:, None] * width + col_picked[..., rows, :]
            best, index = _scan_step(xp, row_max[..., rows, :], flat, best, index)
        self.shape = x.shape
        self.save_for_backward(index)
        if sink is not None:
            sink.append(index.copy())
        return best

    def backward(self, grad):
        (index,) = self.saved_tensors
        xp = get_array_module(grad)
        planes = math.prod(self.shape[:-2])
        out = xp.zeros((planes, self.shape[-2] * self.shape[-1]), dtype=grad.dtype)
        rows = xp.arange(planes)[:, None]
        xp.add.at(out, (rows, index.reshape(planes, -1)), grad.reshape(planes, -1))
        return (out.reshape(self.shape),)

    @classmethod
    def name(cls) -> str:
        return "adaptive_max_pool2d"


def _scan_step(xp, values, positions, best, picked):
    """One step of the max scan: where ``values`` beats ``best`` (or is NaN) it becomes the
    maximum and ``positions`` the pick; the first step starts the scan."""
    if best is None:
        return values.copy(), xp.broadcast_to(positions, values.shape).copy()
    raised = (values > best) | xp.isnan(values)
    return xp.maximum(best, values), xp.where(raised, positions, picked)


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
    if 0 in size:
        out = Tensor._make(
            get_array_module(input.data).zeros((*input.shape[:-2], *size), input.dtype)
        )
        return (out, Tensor._make(out.data.astype("int64"))) if return_indices else out
    sink = [] if return_indices else None
    out = AdaptiveMaxPool2d.apply(input, out_size=size, sink=sink)
    return (out, Tensor._make(sink[0], False)) if return_indices else out
