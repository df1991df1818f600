"""Special functions: the error function and its relatives (erf, erfc, erfinv), the log-odds
(logit), x·ln y with its limit at x = 0 (xlogy) and the normalised sinc, with their
derivatives.

NumPy has no erf, so the kernels are written here, vectorised: W. J. Cody's rational Chebyshev
approximations (Math. Comp. 23, 1969; the SPECFUN routine CALERF) in three ranges of |x|, good
to about one part in 10¹⁶ relative, erfc's tail included; erfinv is Giles's single-precision
approximation refined by Newton steps on erf. Every dtype is computed in float64 and rounded
to the input's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module
from aprende.ops.binary_math import _floating_pair
from aprende.ops.elementwise import TensorLike, to_floating
from aprende.ops.math import Unary

TENSOR_METHODS = ("erf", "erfc", "erfinv", "logit", "xlogy", "sinc")

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_ONE_OVER_SQRT_PI = 1 / math.sqrt(math.pi)

# Cody's coefficients: erf(x) = x·A(x²)/B(x²) for |x| ≤ 0.46875,
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)  # fmt: skip
# erfc(x) = e^(−x²)·C(x)/D(x) for 0.46875 < x ≤ 4,
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
# and erfc(x) = e^(−x²)/x · (1/√π − P(1/x²)/(x²·Q(1/x²))) for x > 4.
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip


def _ratio(numerator, denominator, z):
    """N(z)/D(z) in Cody's nested (Horner) form: the last numerator coefficient leads, the
    denominator is monic."""
    num, den = numerator[-1] * z, z
    for n, d in zip(numerator[:-2], denominator[:-1], strict=True):
        num, den = (num + n) * z, (den + d) * z
    return (num + numerator[-2]) / (den + denominator[-1])


def _exp_minus_square(y, xp):
    """e^(−y²) with y² split as ŷ² + (y − ŷ)(y + ŷ), ŷ = y rounded down to 1/16: the product
    of two exponentials keeps erfc's relative accuracy in the far tail (Cody's trick)."""
    head = xp.trunc(y * 16) / 16
    return xp.exp(-head * head) * xp.exp(-(y - head) * (y + head))


def _erfc_positive(y, xp):
    """erfc(y) for y > 0.46875: the middle range up to 4, the asymptotic form beyond (y is
    capped at 30, where erfc has underflowed to 0, so that inf gives 0 rather than nan)."""
    y = xp.minimum(y, 30.0)
    middle = _ratio(_C, _D, xp.minimum(y, 4.0))
    far = xp.maximum(y, 4.0)
    inv_square = 1 / (far * far)
    tail = (_ONE_OVER_SQRT_PI - inv_square * _ratio(_P, _Q, inv_square)) / far
    return _exp_minus_square(y, xp) * xp.where(y <= 4.0, middle, tail)


def erf_values(x):
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise in float64."""
    xp = get_array_module(x)
    x = x.astype(np.float64)
    y = xp.abs(x)
    small = y <= 0.46875
    near = xp.where(small, y, 0.0)
    inner = near * _ratio(_A, _B, near * near)
    with np.errstate(over="ignore", under="ignore"):
        outer = 1 - _erfc_positive(xp.where(small, 1.0, y), xp)
    return xp.copysign(xp.where(small, inner, outer), x)


def erfc_values(x):
    """erfc(x) = 1 − erf(x), elementwise in float64, accurate relative to its own size in the
    right tail (erfc(26) ≈ 5.7·10⁻²⁰³, where 1 − erf(26) would be 0)."""
    xp = get_array_module(x)
    x = x.astype(np.float64)
    y = xp.abs(x)
    small = y <= 0.46875
    near = xp.where(small, y, 0.0)
    with np.errstate(over="ignore", under="ignore"):
        tail = _erfc_positive(xp.where(small, 1.0, y), xp)
    inner = 1 - xp.sign(x) * near * _ratio(_A, _B, near * near)
    return xp.where(small, inner, xp.where(x < 0, 2 - tail, tail))


def _erfinv_guess(x, xp):
    """Giles's single-precision erfinv (about 1e-7 relative), the start for Newton's method."""
    w = -xp.log((1 - x) * (1 + x))
    central = w - 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):  # fmt: skip
        p = c + p * central
    tail = xp.sqrt(w) - 3
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):  # fmt: skip
        q = c + q * tail
    return xp.where(w < 5, p, q) * x


def erfinv_values(x):
    """erfinv(x), the y in (−∞, ∞) with erf(y) = x, elementwise in float64: ±inf at ±1, nan
    outside [−1, 1]. Newton's method from Giles's guess, on y ↦ erf y − |x| for |x| < ½ and on
    y ↦ ln erfc y − ln(1 − |x|) beyond: no cancellation near 1, and nearly quadratic in the
    tail (ln erfc y ≈ −y²), where Newton on erfc itself would creep."""
    xp = get_array_module(x)
    x = x.astype(np.float64)
    a = xp.abs(x)
    inside = a < 1
    a_in = xp.where(inside, a, 0.0)
    y = _erfinv_guess(a_in, xp)
    for _ in range(4):  # quadratic from 1e-7; the extra steps serve the far tail (|x| → 1)
        slope = _TWO_OVER_SQRT_PI * xp.exp(-y * y)
        tail = erfc_values(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            far = (xp.log(tail) - xp.log1p(-a_in)) * tail
        y = y + xp.where(a_in < 0.5, (a_in - erf_values(y)) / slope, far / slope)
    edge = xp.where(a == 1, xp.inf, xp.nan)
    return xp.where(inside, y, edge) * xp.sign(x)


class Erf(Unary):
    """erf a; ∂/∂a = 2/√π · e^(−a²)."""

    f = staticmethod(lambda xp, a: erf_values(a).astype(a.dtype, copy=False))
    df = staticmethod(lambda xp, a: _TWO_OVER_SQRT_PI * xp.exp(-a * a))


class Erfc(Unary):
    """erfc a = 1 − erf a; ∂/∂a = −2/√π · e^(−a²)."""

    f = staticmethod(lambda xp, a: erfc_values(a).astype(a.dtype, copy=False))
    df = staticmethod(lambda xp, a: -_TWO_OVER_SQRT_PI * xp.exp(-a * a))


class Erfinv(Unary):
    """y = erfinv a; ∂/∂a = √π/2 · e^(y²), read from the output."""

    reads_output = True
    f = staticmethod(lambda xp, a: erfinv_values(a).astype(a.dtype, copy=False))
    df = staticmethod(lambda xp, y: (1 / _TWO_OVER_SQRT_PI) * xp.exp(y * y))


def erf(input: Tensor) -> Tensor:
    """erf(x) = 2/√π ∫₀ˣ e^(−t²) dt elementwise; derivative 2/√π · e^(−x²)."""
    return Erf.apply(to_floating(input))


def erfc(input: Tensor) -> Tensor:
    """erfc(x) = 1 − erf(x) elementwise, accurate in the tail; derivative −2/√π · e^(−x²)."""
    return Erfc.apply(to_floating(input))


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (−1, 1) (±inf at ±1, nan outside); derivative √π/2 · e^(y²)."""
    return Erfinv.apply(to_floating(input))


class Logit(Function):
    """y = ln(a/(1 − a)), a first clamped to [ε, 1 − ε] when ε ≥ 0 is given (a < ε gives ε
    before a > 1 − ε gives 1 − ε, PyTorch's order when the bounds cross);
    ∂/∂a = 1/(a(1 − a)): ±inf at 0 and 1 and nan outside [0, 1] without ε, 0 where a was
    clamped with ε (PyTorch's rules)."""

    def forward(self, a, eps=None):
        self.save_for_backward(a)
        xp = get_array_module(a)
        low = None if eps is None or eps < 0 else a.dtype.type(eps)
        self.bounds = (0, 1, np.nan) if low is None else (low, 1 - low, 0)
        if low is not None:
            a = xp.where(a < low, low, xp.where(a > 1 - low, 1 - low, a))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(a / (1 - a))

    def backward(self, grad):
        (a,) = self.saved_tensors
        xp = get_array_module(a)
        low, high, outside = self.bounds
        with np.errstate(divide="ignore", invalid="ignore"):
            local = grad / (a * (1 - a))
        return (xp.where((a < low) | (a > high), grad.dtype.type(outside), local),)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """The log-odds ln(p/(1 − p)) elementwise, the inverse of the sigmoid; with ``eps``, p is
        first clamped to [eps, 1 − eps] (a negative eps clamps nothing). Integers and bools give
        the default float. Derivative 1/(p(1 − p)), 0 where p was clamped (nan outside [0, 1]
    without ``eps``)."""
    return Logit.apply(to_floating(input), eps=eps)


def _xlogy_values(xp, a, b):
    """a·ln b, 0 where a = 0 (even at b = 0 or inf), nan where b is nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = xp.where(a == 0, a.dtype.type(0), a * xp.log(b))
    return xp.where(xp.isnan(b), b, out)


class Xlogy(Function):
    """y = a·ln b, 0 at a = 0 unless b is nan; ∂/∂a = ln b (as xlogy(grad, b)), 0 where a = 0
    and b ≤ 0; ∂/∂b = a/b (PyTorch's derivatives)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return _xlogy_values(get_array_module(a), a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(a)
        grad_a = grad_b = None
        if self.needs[0]:
            local = xp.where((a == 0) & (b <= 0), grad.dtype.type(0), _xlogy_values(xp, grad, b))
            grad_a = unbroadcast(local, a.shape)
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = unbroadcast(grad * a / b, b.shape)
        return grad_a, grad_b


def xlogy(input: TensorLike, other: TensorLike) -> Tensor:
    """x·ln y elementwise, broadcast, with 0 where x = 0 (the limit, so entropies need no
    mask) unless y is nan; either may be a number, integers give the default float.
    Gradients ln y to x (0 where x = 0 and y ≤ 0) and x/y to y."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy: expected at least one tensor, got two numbers")
    return Xlogy.apply(*_floating_pair("xlogy", input, other, integers=True))


class Sinc(Function):
    """sin(πa)/(πa), 1 at a = 0; ∂/∂a = (πa·cos(πa) − sin(πa))/(πa²), 0 where πa² is 0 (a = 0,
    or a² underflows), as PyTorch. Both divide by a safe denominator (1 where the true one is
    0), so that the branch not taken holds no 0/0 to leak a nan into the gradient."""

    def forward(self, a):
        self.save_for_backward(a)
        xp = get_array_module(a)
        scaled = math.pi * xp.where(a == 0, a.dtype.type(1), a)
        with np.errstate(invalid="ignore"):  # sin(±inf) = nan, as PyTorch's sinc(inf)
            return xp.where(a == 0, a.dtype.type(1), xp.sin(scaled) / scaled)

    def backward(self, grad):
        (a,) = self.saved_tensors
        xp = get_array_module(a)
        scaled = math.pi * a
        with np.errstate(invalid="ignore", under="ignore"):
            denominator = scaled * a
            vanishes = denominator == 0
            safe = xp.where(vanishes, a.dtype.type(1), denominator)
            local = (scaled * xp.cos(scaled) - xp.sin(scaled)) / safe
        return (xp.where(vanishes, grad.dtype.type(0), grad * local),)


def sinc(input: Tensor) -> Tensor:
    """The normalised sinc, sin(πx)/(πx) elementwise, 1 at x = 0 (integers and bools give the
    default float); derivative (πx·cos(πx) − sin(πx))/(πx²), 0 at x = 0."""
    return Sinc.apply(to_floating(input))
