"""Division that rounds, and remainders: ``a // b``, ``a % b``, ``fmod``, and
``div(rounding_mode="floor" | "trunc")``, for integer and floating tensors, broadcast.

Two sign conventions, as in PyTorch: ``remainder`` (Python's ``%``) takes the sign of the
divisor and pairs with floor division, a = b·⌊a/b⌋ + a % b; ``fmod`` (C's) takes the sign of
the dividend and pairs with truncated division. Integer division by zero raises PyTorch's
RuntimeError ("ZeroDivisionError"); floating division by zero gives inf or nan. The remainders
are differentiable (∂/∂a = 1, ∂/∂b = −quotient); rounded quotients have zero gradient, and
``floor_divide`` has none at all, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module
from aprende.ops.elementwise import TensorLike, _pair

TENSOR_METHODS = ("remainder", "fmod", "floor_divide")

ROUNDING_MODES = (None, "trunc", "floor")


def _integer_or_float(name: str, a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """The operands promoted; bool refused (no kernel in PyTorch) and an integer divisor
    checked for zeros (on the CPU, as PyTorch: a GPU kernel does not stop to look)."""
    a, b = _pair(a, b)
    if a.dtype == np.bool_:
        raise NotImplementedError(f"{name}: not implemented for bool tensors")
    if a.dtype.kind in "iu" and get_array_module(b.data) is np and not b.data.all():
        raise RuntimeError(f"ZeroDivisionError: {name} of an integer tensor by zero")
    return a, b


def _trunc_divide(xp, a, b):
    """The quotient rounded toward zero: ⌊a/b⌋, plus 1 where it is negative and inexact (for
    integers, exact at any size); trunc(a/b) for floats."""
    if a.dtype.kind == "f":
        return xp.trunc(a / b)
    quotient = xp.floor_divide(a, b)
    return quotient + ((quotient < 0) & (quotient * b != a))


def _floor_divide(xp, a, b):
    """⌊a/b⌋, computed from fmod for floats as Python's ``//`` (1.0 // 0.1 is 9.0, while
    floor(1.0 / 0.1) is 10.0)."""
    return xp.floor_divide(a, b)


class Remainder(Function):
    """a − b·⌊a/b⌋, with the sign of b; ∂/∂a = 1, ∂/∂b = −⌊a/b⌋."""

    kernel, quotient = staticmethod(np.remainder), staticmethod(_floor_divide)

    def forward(self, a, b):
        self.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.kernel(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        grad_b = None
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                quotient = self.quotient(get_array_module(a), a, b)
            grad_b = unbroadcast(-grad * quotient, b.shape)
        return unbroadcast(grad, a.shape), grad_b


class Fmod(Remainder):
    """a − b·trunc(a/b), with the sign of a; ∂/∂a = 1, ∂/∂b = −trunc(a/b)."""

    kernel, quotient = staticmethod(np.fmod), staticmethod(_trunc_divide)


class RoundedDiv(Function):
    """a / b rounded toward zero (``mode="trunc"``) or down (``"floor"``); the gradient is 0
    for both inputs: the quotient is piecewise constant."""

    def forward(self, a, b, mode="floor"):
        self.shapes, self.dtype = (a.shape, b.shape), a.dtype
        divide = _floor_divide if mode == "floor" else _trunc_divide
        with np.errstate(divide="ignore", invalid="ignore"):
            return divide(get_array_module(a), a, b)

    def backward(self, grad):
        xp = get_array_module(grad)
        return tuple(xp.zeros(shape, dtype=self.dtype) for shape in self.shapes)


class FloorDivide(RoundedDiv):
    """⌊a/b⌋ as ``floor_divide`` and ``//``: PyTorch defines no derivative for it."""

    def backward(self, grad):
        raise RuntimeError(
            "floor_divide: the derivative is not implemented (as in PyTorch); use "
            "div(a, b, rounding_mode='floor'), whose gradient is zero"
        )


def remainder(input: TensorLike, other: TensorLike) -> Tensor:
    """a % b = a − b·⌊a/b⌋ elementwise, broadcast: the sign of the divisor (Python's ``%``);
    gradient 1 to a, −⌊a/b⌋ to b."""
    return Remainder.apply(*_integer_or_float("remainder", input, other))


def fmod(input: TensorLike, other: TensorLike) -> Tensor:
    """a − b·trunc(a/b) elementwise, broadcast: the sign of the dividend (C's ``fmod``);
    gradient 1 to a, −trunc(a/b) to b."""
    return Fmod.apply(*_integer_or_float("fmod", input, other))


def floor_divide(input: TensorLike, other: TensorLike) -> Tensor:
    """⌊a/b⌋ elementwise, broadcast (``a // b``); not differentiable, as in PyTorch."""
    return FloorDivide.apply(*_integer_or_float("floor_divide", input, other))


def rounded_div(a: TensorLike, b: TensorLike, rounding_mode: str) -> Tensor:
    """``div(a, b, rounding_mode=...)`` for "trunc" (toward zero) and "floor" (down); the
    dtype is the operands' promoted one (integers stay integers); zero gradient."""
    if rounding_mode not in ROUNDING_MODES:
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )
    a, b = _integer_or_float(f"div(rounding_mode={rounding_mode!r})", a, b)
    return RoundedDiv.apply(a, b, mode=rounding_mode)
