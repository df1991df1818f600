"""Elementwise functions of one tensor: trigonometric and hyperbolic, angle units,
exponentials and logarithms in other bases, reciprocals, rounding, and the inf tests.

Each differentiable function is a ``Unary`` node: the function f and its derivative f′ side by
side, f′ read from the input (or from the output y, where that is cheaper: (2ˣ)′ = y ln 2).
Integer and bool inputs give the default float dtype, as PyTorch's float functions; rounding
keeps an integer tensor as it is. At the edges of a domain the values and gradients are
PyTorch's, with no warning: asin′(±1) = inf, log1p(−1) = −inf, acosh′(1) = inf.
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops.elementwise import Step, to_floating

TENSOR_METHODS = (
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg",
    "log2", "log10", "log1p", "expm1", "exp2", "rsqrt", "reciprocal",
    "floor", "ceil", "trunc", "fix", "round", "frac", "isinf", "isposinf", "isneginf",
)  # fmt: skip

_LN2, _LN10 = math.log(2), math.log(10)


class Unary(Function):
    """y = f(a) elementwise; ∂/∂a = f′(a), or f′ written in terms of y where
    ``reads_output``. Subclasses give ``f(xp, a)`` and ``df(xp, a or y)``; floating-point
    warnings are off because inf and nan at a domain's edge are the answer, as in PyTorch."""

    reads_output = False

    def forward(self, a):
        with np.errstate(all="ignore"):
            out = self.f(get_array_module(a), a)
        self.save_for_backward(out if self.reads_output else a)
        return out

    def backward(self, grad):
        (saved,) = self.saved_tensors
        with np.errstate(all="ignore"):
            return (grad * self.df(get_array_module(saved), saved),)


class Sin(Unary):
    """sin a; ∂/∂a = cos a."""

    f = staticmethod(lambda xp, a: xp.sin(a))
    df = staticmethod(lambda xp, a: xp.cos(a))


class Cos(Unary):
    """cos a; ∂/∂a = −sin a."""

    f = staticmethod(lambda xp, a: xp.cos(a))
    df = staticmethod(lambda xp, a: -xp.sin(a))


class Tan(Unary):
    """y = tan a; ∂/∂a = 1 + y²."""

    reads_output = True
    f = staticmethod(lambda xp, a: xp.tan(a))
    df = staticmethod(lambda xp, y: 1 + y * y)


class Asin(Unary):
    """asin a; ∂/∂a = 1/√(1 − a²) (inf at ±1)."""

    f = staticmethod(lambda xp, a: xp.arcsin(a))
    df = staticmethod(lambda xp, a: 1 / xp.sqrt(1 - a * a))


class Acos(Unary):
    """acos a; ∂/∂a = −1/√(1 − a²) (−inf at ±1)."""

    f = staticmethod(lambda xp, a: xp.arccos(a))
    df = staticmethod(lambda xp, a: -1 / xp.sqrt(1 - a * a))


class Atan(Unary):
    """atan a; ∂/∂a = 1/(1 + a²)."""

    f = staticmethod(lambda xp, a: xp.arctan(a))
    df = staticmethod(lambda xp, a: 1 / (1 + a * a))


class Sinh(Unary):
    """sinh a; ∂/∂a = cosh a."""

    f = staticmethod(lambda xp, a: xp.sinh(a))
    df = staticmethod(lambda xp, a: xp.cosh(a))


class Cosh(Unary):
    """cosh a; ∂/∂a = sinh a."""

    f = staticmethod(lambda xp, a: xp.cosh(a))
    df = staticmethod(lambda xp, a: xp.sinh(a))


class Asinh(Unary):
    """asinh a; ∂/∂a = 1/√(a² + 1)."""

    f = staticmethod(lambda xp, a: xp.arcsinh(a))
    df = staticmethod(lambda xp, a: 1 / xp.sqrt(a * a + 1))


class Acosh(Unary):
    """acosh a (a ≥ 1); ∂/∂a = 1/√(a² − 1) (inf at 1)."""

    f = staticmethod(lambda xp, a: xp.arccosh(a))
    df = staticmethod(lambda xp, a: 1 / xp.sqrt(a * a - 1))


class Atanh(Unary):
    """atanh a (|a| ≤ 1); ∂/∂a = 1/(1 − a²) (inf at ±1)."""

    f = staticmethod(lambda xp, a: xp.arctanh(a))
    df = staticmethod(lambda xp, a: 1 / (1 - a * a))


class Log2(Unary):
    """log₂ a; ∂/∂a = 1/(a ln 2)."""

    f = staticmethod(lambda xp, a: xp.log2(a))
    df = staticmethod(lambda xp, a: 1 / (a * _LN2))


class Log10(Unary):
    """log₁₀ a; ∂/∂a = 1/(a ln 10)."""

    f = staticmethod(lambda xp, a: xp.log10(a))
    df = staticmethod(lambda xp, a: 1 / (a * _LN10))


class Log1p(Unary):
    """ln(1 + a), exact for small a; ∂/∂a = 1/(1 + a) (inf at −1)."""

    f = staticmethod(lambda xp, a: xp.log1p(a))
    df = staticmethod(lambda xp, a: 1 / (1 + a))


class Expm1(Unary):
    """y = eᵃ − 1, exact for small a; ∂/∂a = eᵃ = y + 1."""

    reads_output = True
    f = staticmethod(lambda xp, a: xp.expm1(a))
    df = staticmethod(lambda xp, y: y + 1)


class Exp2(Unary):
    """y = 2ᵃ; ∂/∂a = y ln 2."""

    reads_output = True
    f = staticmethod(lambda xp, a: xp.exp2(a))
    df = staticmethod(lambda xp, y: y * _LN2)


class Rsqrt(Unary):
    """y = 1/√a; ∂/∂a = −y³/2."""

    reads_output = True
    f = staticmethod(lambda xp, a: 1 / xp.sqrt(a))
    df = staticmethod(lambda xp, y: -0.5 * y * y * y)


class Reciprocal(Unary):
    """y = 1/a; ∂/∂a = −y²."""

    reads_output = True
    f = staticmethod(lambda xp, a: 1 / a)
    df = staticmethod(lambda xp, y: -(y * y))


class Frac(Unary):
    """a − trunc(a), the fractional part with a's sign; ∂/∂a = 1."""

    f = staticmethod(lambda xp, a: a - xp.trunc(a))
    df = staticmethod(lambda xp, a: xp.ones_like(a))


def sin(input: Tensor) -> Tensor:
    """sin x elementwise; derivative cos x."""
    return Sin.apply(to_floating(input))


def cos(input: Tensor) -> Tensor:
    """cos x elementwise; derivative −sin x."""
    return Cos.apply(to_floating(input))


def tan(input: Tensor) -> Tensor:
    """tan x elementwise; derivative 1 + tan² x."""
    return Tan.apply(to_floating(input))


def asin(input: Tensor) -> Tensor:
    """arcsin x elementwise (nan outside [−1, 1]); derivative 1/√(1 − x²)."""
    return Asin.apply(to_floating(input))


def acos(input: Tensor) -> Tensor:
    """arccos x elementwise (nan outside [−1, 1]); derivative −1/√(1 − x²)."""
    return Acos.apply(to_floating(input))


def atan(input: Tensor) -> Tensor:
    """arctan x elementwise; derivative 1/(1 + x²)."""
    return Atan.apply(to_floating(input))


def sinh(input: Tensor) -> Tensor:
    """sinh x elementwise; derivative cosh x."""
    return Sinh.apply(to_floating(input))


def cosh(input: Tensor) -> Tensor:
    """cosh x elementwise; derivative sinh x."""
    return Cosh.apply(to_floating(input))


def asinh(input: Tensor) -> Tensor:
    """arsinh x elementwise; derivative 1/√(x² + 1)."""
    return Asinh.apply(to_floating(input))


def acosh(input: Tensor) -> Tensor:
    """arcosh x elementwise (nan below 1); derivative 1/√(x² − 1)."""
    return Acosh.apply(to_floating(input))


def atanh(input: Tensor) -> Tensor:
    """artanh x elementwise (±inf at ±1, nan beyond); derivative 1/(1 − x²)."""
    return Atanh.apply(to_floating(input))


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians, x·π/180 elementwise (integers and bools give the default float);
    derivative π/180."""
    return to_floating(input) * (math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees, x·180/π elementwise (integers and bools give the default float);
    derivative 180/π."""
    return to_floating(input) * (180 / math.pi)


def log2(input: Tensor) -> Tensor:
    """log₂ x elementwise; derivative 1/(x ln 2)."""
    return Log2.apply(to_floating(input))


def log10(input: Tensor) -> Tensor:
    """log₁₀ x elementwise; derivative 1/(x ln 10)."""
    return Log10.apply(to_floating(input))


def log1p(input: Tensor) -> Tensor:
    """ln(1 + x) elementwise, accurate for small x; derivative 1/(1 + x)."""
    return Log1p.apply(to_floating(input))


def expm1(input: Tensor) -> Tensor:
    """eˣ − 1 elementwise, accurate for small x; derivative eˣ."""
    return Expm1.apply(to_floating(input))


def exp2(input: Tensor) -> Tensor:
    """2ˣ elementwise; derivative 2ˣ ln 2."""
    return Exp2.apply(to_floating(input))


def rsqrt(input: Tensor) -> Tensor:
    """1/√x elementwise (inf at 0); derivative −1/(2 x^(3/2))."""
    return Rsqrt.apply(to_floating(input))


def reciprocal(input: Tensor) -> Tensor:
    """1/x elementwise (integers give floats); derivative −1/x²."""
    return Reciprocal.apply(to_floating(input))


# ---- rounding: zero gradient ------------------------------------------------------------------


def _not_for(name: str, input: Tensor, kinds: str) -> None:
    """PyTorch's NotImplementedError for a dtype kind the op has no kernel for."""
    if input.dtype.kind in kinds:
        raise NotImplementedError(f"{name}: not implemented for {input.dtype} tensors")


class Floor(Step):
    """⌊a⌋, the largest integer ≤ a; zero gradient."""

    kernel = staticmethod(lambda xp, a: xp.floor(a))


class Ceil(Step):
    """⌈a⌉, the smallest integer ≥ a; zero gradient."""

    kernel = staticmethod(lambda xp, a: xp.ceil(a))


class Trunc(Step):
    """a rounded toward zero; zero gradient."""

    kernel = staticmethod(lambda xp, a: xp.trunc(a))


class Round(Step):
    """a rounded to ``decimals`` places, halves to even (2.5 → 2, 3.5 → 4): rint(a·10ᵈ)/10ᵈ,
    or rint(a/10⁻ᵈ)·10⁻ᵈ for d < 0, as PyTorch; zero gradient."""

    def forward(self, a, decimals=0):
        self.shape, self.dtype = a.shape, a.dtype
        xp = get_array_module(a)
        if decimals == 0:
            return xp.rint(a)
        scale = xp.asarray(10.0 ** abs(decimals), dtype=a.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return xp.rint(a * scale) / scale if decimals > 0 else xp.rint(a / scale) * scale


def _rounding(step: type[Step], name: str, input: Tensor) -> Tensor:
    _not_for(name, input, "b")
    return step.apply(input) if input.dtype.kind == "f" else Tensor._make(input.data.copy())


def floor(input: Tensor) -> Tensor:
    """⌊x⌋ elementwise (an integer tensor is returned as it is); zero gradient."""
    return _rounding(Floor, "floor", input)


def ceil(input: Tensor) -> Tensor:
    """⌈x⌉ elementwise (an integer tensor is returned as it is); zero gradient."""
    return _rounding(Ceil, "ceil", input)


def trunc(input: Tensor) -> Tensor:
    """x rounded toward zero (an integer tensor is returned as it is); zero gradient."""
    return _rounding(Trunc, "trunc", input)


fix = trunc


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """x rounded to ``decimals`` places, halves to even (``torch.round``); zero gradient."""
    if decimals == 0:
        return _rounding(Round, "round", input)
    _not_for("round", input, "biu")
    return Round.apply(input, decimals=int(decimals))


def frac(input: Tensor) -> Tensor:
    """x − trunc(x), the fractional part with x's sign; derivative 1."""
    _not_for("frac", input, "biu")
    return Frac.apply(input)


# ---- inf tests: bool tensors, no gradient -----------------------------------------------------


def isinf(input: Tensor) -> Tensor:
    """True where x is +inf or −inf (never for integers)."""
    return Tensor._make(get_array_module(input.data).isinf(input.data), False)


def isposinf(input: Tensor) -> Tensor:
    """True where x is +inf."""
    return Tensor._make(input.data == np.inf, False)


def isneginf(input: Tensor) -> Tensor:
    """True where x is −inf."""
    return Tensor._make(input.data == -np.inf, False)
