"""Smooth activations: GELU, SiLU, softplus, Mish, log-sigmoid, softsign; softmin and GLU.

Each is one node (``Pointwise``) whose f and f′ are written to stay finite for large |x|: the
exponentials only ever see −|x| (no overflow, no warning), and softplus is
max(x, 0) + log1p(e^(−|x|)). At ±inf they give PyTorch's values (nan where PyTorch's formula
meets ∞ · 0, as gelu(−∞)).
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops import elementwise
from aprende.ops.activation import Pointwise, require_floating, sigmoid_values
from aprende.ops.elementwise import to_floating
from aprende.ops.reduce import _single_dim, softmax
from aprende.ops.special import erfc_values

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
#: GELU's tanh form (Hendrycks & Gimpel 2016): √(2/π) and the cubic's coefficient.
_TANH_BETA = math.sqrt(2 / math.pi)
_TANH_KAPPA = 0.044715


def _softplus_of(z):
    """log(1 + eᶻ) = max(z, 0) + log1p(e^(−|z|)): never overflows."""
    xp = get_array_module(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class Gelu(Pointwise):
    """x · Φ(x), Φ the standard normal CDF, Φ(x) = erfc(−x/√2)/2; f′ = Φ(x) + x · φ(x),
    φ(x) = e^(−x²/2)/√(2π). Φ comes from erfc, so it keeps relative accuracy for large −x."""

    def values(self, x):
        return x * (0.5 * erfc_values(-x * _SQRT_HALF))

    def slope(self, x):
        xp = get_array_module(x)
        return 0.5 * erfc_values(-x * _SQRT_HALF) + x * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x))


class GeluTanh(Pointwise):
    """x/2 · (1 + tanh u), u = √(2/π)(x + 0.044715x³); f′ = (1 + tanh u)/2 +
    x/2 · (1 − tanh² u) · √(2/π)(1 + 3 · 0.044715x²) (PyTorch's formula and order)."""

    def values(self, x):
        inner = _TANH_BETA * (x + _TANH_KAPPA * x * x * x)
        return 0.5 * x * (1 + get_array_module(x).tanh(inner))

    def slope(self, x):
        t = get_array_module(x).tanh(_TANH_BETA * (x + _TANH_KAPPA * x * x * x))
        inner_slope = _TANH_BETA * (1 + 3 * _TANH_KAPPA * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner_slope


class Silu(Pointwise):
    """SiLU (swish): x · σ(x); f′ = σ(x)(1 + x(1 − σ(x)))."""

    def values(self, x):
        return x * sigmoid_values(x)

    def slope(self, x):
        s = sigmoid_values(x)
        return s * (1 + x * (1 - s))


class Softplus(Pointwise):
    """(1/β) log(1 + e^(βx)), and x itself where βx > threshold; f′ = σ(βx) (1 there)."""

    def values(self, x):
        z = x * self.beta
        return get_array_module(x).where(z > self.threshold, x, _softplus_of(z) / self.beta)

    def slope(self, x):
        z = x * self.beta
        return get_array_module(x).where(z > self.threshold, 1, sigmoid_values(z)).astype(x.dtype)


class Mish(Pointwise):
    """x · tanh(softplus(x)); f′ = tanh(sp) + x · σ(x) · (1 − tanh²(sp)), sp = softplus(x)."""

    def values(self, x):
        return x * get_array_module(x).tanh(_softplus_of(x))

    def slope(self, x):
        t = get_array_module(x).tanh(_softplus_of(x))
        return t + x * sigmoid_values(x) * (1 - t * t)


class LogSigmoid(Pointwise):
    """log σ(x) = min(x, 0) − log1p(e^(−|x|)); f′ = σ(−x) = 1 − σ(x)."""

    def values(self, x):
        xp = get_array_module(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def slope(self, x):
        return sigmoid_values(-x)


class Softsign(Pointwise):
    """x / (1 + |x|); f′ = 1/(1 + |x|)², and nan at ±inf, where PyTorch's composition
    x / (|x| + 1) meets ∞/∞."""

    def values(self, x):
        return x / (1 + get_array_module(x).abs(x))

    def slope(self, x):
        xp = get_array_module(x)
        d = 1 + xp.abs(x)
        return xp.where(xp.isinf(x), xp.nan, 1 / (d * d)).astype(x.dtype)


class Glu(Function):
    """GLU: a ⊙ σ(b), a and b the two halves of x along ``dim``;
    ∂L/∂a = g ⊙ σ(b), ∂L/∂b = g ⊙ a ⊙ σ(b)(1 − σ(b)), joined back along ``dim``."""

    def forward(self, x, dim=-1):
        self.dim = dim
        a, b = get_array_module(x).split(x, 2, axis=dim)
        gate = sigmoid_values(b)
        self.save_for_backward(x, gate)  # x itself, not its half a: the in-place check sees it
        with np.errstate(invalid="ignore"):
            return a * gate

    def backward(self, grad):
        x, gate = self.saved_tensors
        xp = get_array_module(grad)
        a = xp.split(x, 2, axis=self.dim)[0]
        with np.errstate(invalid="ignore"):
            grad_a = grad * gate
            return (xp.concatenate([grad_a, grad_a * a * (1 - gate)], axis=self.dim),)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: x · Φ(x) with the exact normal CDF Φ (``approximate="none"``), or
    x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))) (``approximate="tanh"``); f′ = Φ(x) + x · φ(x)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"gelu: approximate argument must be either none or tanh, got {approximate!r}"
        )
    require_floating(input, "gelu")
    return (Gelu if approximate == "none" else GeluTanh).apply(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish) x · σ(x); f′ = σ(x)(1 + x(1 − σ(x))). ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor."""
    require_floating(input, "silu")
    return Silu.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β) log(1 + e^(βx)), a smooth ReLU, and x where βx > ``threshold``; f′ = σ(βx).

    Computed as (max(βx, 0) + log1p(e^(−|βx|)))/β, which stays finite for every threshold
    (PyTorch's log1p(e^(βx)) overflows to inf for βx > 709 when the threshold is above that).
    """
    require_floating(input, "softplus")
    return Softplus.apply(input, beta=beta, threshold=threshold)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish x · tanh(softplus(x)); f′ = tanh(sp) + x σ(x)(1 − tanh² sp). ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor."""
    require_floating(input, "mish")
    return Mish.apply(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), stable for large |x|; f′ = σ(−x)."""
    require_floating(input, "logsigmoid")
    return LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|); f′ = 1/(1 + |x|)². Integer tensors give the default float dtype."""
    if input.dtype == np.bool_:
        raise NotImplementedError("softsign: expected a number tensor, got bool")
    return Softsign.apply(to_floating(input))


def softmin(input: Tensor, dim: int, dtype=None) -> Tensor:
    """softmin(x) = softmax(−x) along ``dim``: weights that favour the smallest entries
    (``dtype``: the input is cast to it first)."""
    x = input if dtype is None else input.to(dtype)
    require_floating(x, "softmin")
    return softmax(elementwise.neg(x), dim)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """GLU(x) = a ⊙ σ(b), (a, b) = x split in two halves along ``dim`` (a gated linear unit)."""
    if input.ndim == 0:
        raise RuntimeError("glu: glu does not support scalars because halving size must be even")
    dim = _single_dim(dim, input.ndim, "glu")
    if input.shape[dim] % 2:
        raise RuntimeError(
            f"glu: Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}"
        )
    require_floating(input, "glu")
    return Glu.apply(input, dim=dim)
