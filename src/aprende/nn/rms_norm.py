"""Root-mean-square normalisation: each sample divided by the RMS of its last dimensions, then
scaled element by element (LayerNorm without the centring and the shift)."""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.module import Module, Parameter
from aprende.nn.normalization import _as_shape
from aprende.ops.activation import require_floating
from aprende.ops.math import rsqrt


def rms_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """y = x / √(mean(x²) + eps) · γ over the last ``len(normalized_shape)`` dimensions,
    which must equal ``normalized_shape``; γ (``weight``) has that shape. ``eps=None`` uses the
    machine epsilon of the input's dtype (``finfo(dtype).eps``). Composed of mean and rsqrt,
    so the gradient is the chain rule through them."""
    require_floating(input, "rms_norm")
    shape = _as_shape(normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise RuntimeError(
            f"rms_norm: expected input with shape [*, {', '.join(map(str, shape))}], got "
            f"input of shape {tuple(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: expected weight of shape {shape}, got {tuple(weight.shape)}")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * rsqrt((input * input).mean(dim=dims, keepdim=True) + eps)
    return out if weight is None else out * weight


class RMSNorm(Module):
    """RMS normalisation over the last dimensions (those of ``normalized_shape``):

        y = x / √(mean(x²) + eps) · γ

    with the mean over the normalised dimensions and ``eps=None`` meaning the input dtype's
    machine epsilon; γ (``weight``, shape ``normalized_shape``) starts at 1
    (``elementwise_affine=False``: no γ). The same computation in training and evaluation.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ to 1."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
