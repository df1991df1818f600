"""Shrinkage and threshold activations (hardshrink, softshrink, tanhshrink, threshold) and the
leaky ReLUs with a learnt or random slope (PReLU, RReLU).

At a kink the derivative is the one PyTorch's kernels pick, noted on each function.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.ops.activation import Pointwise, require_floating
from aprende.ops.elementwise import where

TENSOR_METHODS = ("hardshrink", "prelu")


class Hardshrink(Pointwise):
    """0 for −λ ≤ x ≤ λ, x otherwise; f′ = 0 on [−λ, λ], 1 outside (nan passes through)."""

    def values(self, x):
        return get_array_module(x).where(self._inside(x), 0, x)

    def slope(self, x):
        return (~self._inside(x)).astype(x.dtype)

    def _inside(self, x):
        return (x >= -self.lambd) & (x <= self.lambd)


class Softshrink(Hardshrink):
    """x − λ for x > λ, x + λ for x < −λ, 0 on [−λ, λ]; f′ as hardshrink's."""

    def values(self, x):
        xp = get_array_module(x)
        return xp.where(
            x > self.lambd, x - self.lambd, xp.where(x < -self.lambd, x + self.lambd, x * 0)
        )


class Threshold(Pointwise):
    """x for x > threshold, ``value`` otherwise; f′ = 1 for x > threshold, else 0 (nan passes
    through, as PyTorch's kernel tests x ≤ threshold)."""

    def values(self, x):
        return get_array_module(x).where(x <= self.threshold, self.value, x)

    def slope(self, x):
        return (~(x <= self.threshold)).astype(x.dtype)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Hard shrinkage: f(x) = x where |x| > λ, 0 where −λ ≤ x ≤ λ; f′ = 1 or 0 (0 at ±λ)."""
    require_floating(input, "hardshrink")
    return Hardshrink.apply(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Soft shrinkage (the proximal map of λ|x|): f(x) = sign(x)·max(|x| − λ, 0);
    f′ = 1 where |x| > λ, else 0 (0 at ±λ). λ must be at least 0."""
    if lambd < 0:
        raise RuntimeError(
            f"softshrink: lambda must be greater or equal to 0, but found to be {lambd}."
        )
    require_floating(input, "softshrink")
    return Softshrink.apply(input, lambd=lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """f(x) = x − tanh(x); f′ = tanh²(x) (composed, so the gradient comes from the chain rule).
    Integer inputs give the default float dtype; bool ones raise, as PyTorch (no subtraction
    of bool tensors)."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """f(x) = x where x > threshold, ``value`` elsewhere; f′ = 1 or 0 (0 at the threshold).
    Integer tensors keep their dtype. ``inplace``: accepted, the result is a new tensor
    (``F.threshold_`` changes its input)."""
    if input.dtype == np.bool_:
        raise NotImplementedError("threshold: not implemented for bool tensors")
    return Threshold.apply(input, threshold=threshold, value=value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU: f(x) = x for x > 0, a·x otherwise, with the slope a learnt per channel.

    ``weight`` a has one element (shared by all channels) or C, one per channel of dimension 1
    of ``input`` (N, C, ...); f′ = 1 or a (a at x = 0), ∂f/∂a = x for x ≤ 0, else 0.
    """
    op = "prelu"
    require_floating(input, op)
    if weight.ndim > 1:
        raise RuntimeError(
            f"{op}: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    count = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if count != 1 and count != channels:
        raise RuntimeError(
            f"{op}: Mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {count} and channel size = {channels} (dimension 1 of input of shape "
            f"{input.shape})."
        )
    if input.ndim >= 2 and count > 1:
        weight = weight.reshape((1, count) + (1,) * (input.ndim - 2))
    elif count == 1:
        weight = weight.reshape(())
    return where(input > 0, input, weight * input)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomised leaky ReLU: f(x) = x for x > 0, a·x otherwise.

    In training each element draws its own slope a ~ U(lower, upper) from aprende's global
    generator (PyTorch's random stream differs, so the draws do not match its); in evaluation
    a = (lower + upper)/2 for every element. f′ = 1 or a (a at x = 0). ``inplace``: accepted,
    the result is a new tensor.
    """
    op = "rrelu"
    require_floating(input, op)
    if lower > upper:
        raise RuntimeError(
            f"{op}: lower bound should be less than or equal to the upper bound, got "
            f"lower={lower} > upper={upper}"
        )
    if not training:
        slope = (lower + upper) / 2
        return where(input > 0, input, input * slope)
    draw_dtype = np.float64 if input.dtype == np.float64 else np.float32
    unit = backend.generator_of(input.data).random(input.shape, dtype=draw_dtype)
    slopes = (lower + (upper - lower) * unit).astype(input.dtype, copy=False)
    return where(input > 0, input, input * Tensor._make(slopes, False))
