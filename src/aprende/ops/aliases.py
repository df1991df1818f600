"""PyTorch's second names for the same ops (``torch.multiply`` is ``torch.mul``): each is the
function it names, so it computes, differentiates and fails exactly as that one does."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.ops.elementwise import TensorLike, abs, div, mul, neg, sign, sub

TENSOR_METHODS = (
    "multiply", "subtract", "divide", "true_divide", "absolute", "negative", "sgn",
)  # fmt: skip

multiply = mul
subtract = sub
divide = div
absolute = abs
negative = neg


def true_divide(a: TensorLike, b: TensorLike) -> Tensor:
    """a / b, true division (integers give floats): ``div`` without a rounding mode."""
    return div(a, b)


def sgn(a: Tensor) -> Tensor:
    """sign(a) for a real tensor (PyTorch's ``sgn`` extends ``sign`` to complex numbers as
    a/|a|; aprende's tensors are real)."""
    return sign(a)
