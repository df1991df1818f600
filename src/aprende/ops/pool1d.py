"""1-d pooling over the last dim of (N, C, L) or (C, L): 2-d pooling (``ops.pool``) over a
height of 1, so the window geometry, the kernels and their gradients are the 2-d ones; and
the ``*_with_indices`` forms PyTorch names separately, which always return the indices.
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.ops.pool import (
    IntPair,
    _avg_pool,
    _check_input,
    _max_pool,
    _no_stride,
    _single,
    _windows,
    max_pool2d,
)


def max_pool1d(
    input: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-d max pooling over the last dim of (N, C, L) or (C, L): ``max_pool2d`` with height 1;
    the indices are positions along L."""
    op = "max_pool1d"
    _check_input(input, op, dims=1)
    k = _single(kernel_size, "kernel_size", op)
    s = k if _no_stride(stride) else _single(stride, "stride", op)
    p, d = _single(padding, "padding", op), _single(dilation, "dilation", op)
    rows = input.unsqueeze(-2)
    windows = _windows(rows, (1, k), (1, s), (0, p), (1, d), ceil_mode, op)
    result = _max_pool(rows, windows, return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(
    input: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-d average pooling over the last dim of (N, C, L) or (C, L): ``avg_pool2d`` with
    height 1."""
    op = "avg_pool1d"
    _check_input(input, op, dims=1)
    k = _single(kernel_size, "kernel_size", op)
    s = k if _no_stride(stride) else _single(stride, "stride", op)
    p = _single(padding, "padding", op)
    rows = input.unsqueeze(-2)
    windows = _windows(rows, (1, k), (1, s), (0, p), (1, 1), ceil_mode, op)
    return _avg_pool(rows, windows, count_include_pad, None).squeeze(-2)


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` returning (values, indices) whatever ``return_indices`` says, as
    PyTorch's."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` returning (values, indices) whatever ``return_indices`` says, as
    PyTorch's."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
