"""Comparisons, logic and bit operations, elementwise and broadcast: eq, ne, lt, le, gt, ge,
logical_and/or/not, bitwise_and/or/xor/not and the shifts, isnan, isfinite.

Their results are bool (or the operands' integer type, for bit operations) and carry no
gradient: a comparison is a step, flat almost everywhere, so PyTorch records no node either.
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.ops.elementwise import TensorLike, _pair


def _compare(ufunc, a: TensorLike, b: TensorLike) -> Tensor:
    a, b = _pair(a, b)
    try:
        return Tensor._make(ufunc(a.data, b.data), False)
    except ValueError:
        raise RuntimeError(
            f"{ufunc.__name__}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def eq(a: TensorLike, b: TensorLike) -> Tensor:
    """a == b elementwise (bool tensor)."""
    return _compare(np.equal, a, b)


def ne(a: TensorLike, b: TensorLike) -> Tensor:
    """a != b elementwise (bool tensor)."""
    return _compare(np.not_equal, a, b)


def lt(a: TensorLike, b: TensorLike) -> Tensor:
    """a < b elementwise (bool tensor)."""
    return _compare(np.less, a, b)


def le(a: TensorLike, b: TensorLike) -> Tensor:
    """a <= b elementwise (bool tensor)."""
    return _compare(np.less_equal, a, b)


def gt(a: TensorLike, b: TensorLike) -> Tensor:
    """a > b elementwise (bool tensor)."""
    return _compare(np.greater, a, b)


def ge(a: TensorLike, b: TensorLike) -> Tensor:
    """a >= b elementwise (bool tensor)."""
    return _compare(np.greater_equal, a, b)


def logical_and(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(np.logical_and, a, b)


def logical_or(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(np.logical_or, a, b)


def logical_not(a: Tensor) -> Tensor:
    """True where a is 0 (False), for a tensor of any dtype."""
    return Tensor._make(get_array_module(a.data).logical_not(a.data), False)


def _bitwise(ufunc, name: str, a: TensorLike, b: TensorLike) -> Tensor:
    """An integer or bool op elementwise (PyTorch's bitwise_*: logical on bool tensors)."""
    a, b = _pair(a, b)
    if a.dtype.kind not in "biu":
        raise NotImplementedError(f"{name}: expected integer or bool tensors, got {a.dtype}")
    return _compare(ufunc, a, b)


def bitwise_and(a: TensorLike, b: TensorLike) -> Tensor:
    """a & b bit by bit (logical and on bool tensors)."""
    return _bitwise(np.bitwise_and, "bitwise_and", a, b)


def bitwise_or(a: TensorLike, b: TensorLike) -> Tensor:
    """a | b bit by bit (logical or on bool tensors)."""
    return _bitwise(np.bitwise_or, "bitwise_or", a, b)


def bitwise_xor(a: TensorLike, b: TensorLike) -> Tensor:
    """a ^ b bit by bit (logical xor on bool tensors)."""
    return _bitwise(np.bitwise_xor, "bitwise_xor", a, b)


def bitwise_left_shift(a: TensorLike, b: TensorLike) -> Tensor:
    """a << b: a · 2ᵇ for integers."""
    return _bitwise(np.left_shift, "bitwise_left_shift", a, b)


def bitwise_right_shift(a: TensorLike, b: TensorLike) -> Tensor:
    """a >> b: ⌊a / 2ᵇ⌋ for integers (arithmetic shift)."""
    return _bitwise(np.right_shift, "bitwise_right_shift", a, b)


def bitwise_not(a: Tensor) -> Tensor:
    """~a: every bit flipped (−a − 1 for signed integers; logical not on bool tensors)."""
    if a.dtype.kind not in "biu":
        raise NotImplementedError(f"bitwise_not: expected an integer or bool tensor, got {a.dtype}")
    return Tensor._make(get_array_module(a.data).invert(a.data), False)


def isnan(a: Tensor) -> Tensor:
    """True where a is nan (bool, a's shape)."""
    return Tensor._make(get_array_module(a.data).isnan(a.data), False)


def isfinite(a: Tensor) -> Tensor:
    """True where a is neither nan nor ±inf (bool, a's shape)."""
    return Tensor._make(get_array_module(a.data).isfinite(a.data), False)
