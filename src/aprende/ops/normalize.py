"""Lp normalisation along dimensions: ``F.normalize``, x / max(‖x‖ₚ, ε), as one node."""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating
from aprende.ops.reduce import normalize_dims


def _norm(x, p: float, axes):
    """‖x‖ₚ over ``axes`` (kept): max |x| for p = ∞, min |x| for −∞, the count of nonzeros
    for p = 0, (Σ|x|ᵖ)^(1/p) otherwise (PyTorch's ``vector_norm``)."""
    xp = get_array_module(x)
    a = xp.abs(x)
    if p == math.inf:
        return a.max(axis=axes, keepdims=True)
    if p == -math.inf:
        return a.min(axis=axes, keepdims=True)
    if p == 0:
        return (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
    if p == 1:
        return a.sum(axis=axes, keepdims=True)
    if p == 2:
        return xp.sqrt((x * x).sum(axis=axes, keepdims=True))
    return (a**p).sum(axis=axes, keepdims=True) ** (1 / p)


def _norm_slope(x, n, p: float, axes):
    """∂‖x‖ₚ/∂x: sign(x)|x|ᵖ⁻¹/‖x‖ₚᵖ⁻¹ (0 where ‖x‖ = 0, and where x = 0 for p < 1); for
    p = ±∞ the sign at the entries that attain the norm, shared among ties; 0 for p = 0."""
    xp = get_array_module(x)
    if p == 0:
        return xp.zeros_like(x)
    if p == 1:
        return xp.sign(x)
    if math.isinf(p):
        ties = xp.abs(x) == n
        return xp.sign(x) * ties / ties.sum(axis=axes, keepdims=True)
    if p == 2:
        slope = x / n
    else:
        slope = xp.sign(x) * xp.abs(x) ** (p - 1) / n ** (p - 1)
        if p < 1:
            slope = xp.where(x == 0, 0, slope)
    return xp.where(n == 0, 0, slope)


class Normalize(Function):
    """y = x / d, d = max(‖x‖ₚ, ε) over ``axes``;
    ∂L/∂x = g/d − 1[‖x‖ₚ ≥ ε] · (Σ g ⊙ x)/d² · ∂‖x‖ₚ/∂x (sums over ``axes``)."""

    def forward(self, x, p=2.0, axes=None, eps=1e-12):
        self.p, self.axes, self.eps = p, axes, eps
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            n = _norm(x, p, axes)
            out = x / get_array_module(x).maximum(n, x.dtype.type(eps))
        self.save_for_backward(x, n)
        return out

    def backward(self, grad):
        x, n = self.saved_tensors
        xp = get_array_module(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = xp.maximum(n, x.dtype.type(self.eps))
            through_norm = xp.where(n >= self.eps, (grad * x).sum(axis=self.axes, keepdims=True), 0)
            return (grad / d - through_norm / (d * d) * _norm_slope(x, n, self.p, self.axes),)


def normalize(input: Tensor, p: float = 2.0, dim: int | tuple = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖ₚ, ε) along ``dim``: each slice scaled to unit Lp norm (ε keeps an all-zero
    slice at zero). Shapes are kept; ``p`` may be any float, ±inf or 0 (as ``vector_norm``)."""
    if not is_floating(input.dtype):
        raise RuntimeError(
            f"normalize: linalg.vector_norm expected a floating point tensor as input, "
            f"got {input.dtype}"
        )
    axes = normalize_dims(dim, input.ndim, "normalize")
    return Normalize.apply(input, p=float(p), axes=axes, eps=eps)
