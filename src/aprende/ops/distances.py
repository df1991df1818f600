"""Distances and similarities between vectors: ``cosine_similarity``, ``pairwise_distance``
and ``pdist``, as ``torch.nn.functional``; compositions of differentiable ops (the norms'
gradients are PyTorch's, 0 at a zero vector).
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating
from aprende.creation import as_tensor
from aprende.ops.elementwise import cast, result_type
from aprende.ops.norm import vector_norm
from aprende.ops.reduce import sum as _sum
from aprende.ops.shape import broadcast_tensors
from aprende.ops.triangular import triu_indices


class ClampMinPassGradient(Function):
    """max(x, low) in value, the identity in gradient (∂/∂x = 1 everywhere): PyTorch's
    ``with no_grad(): x.clamp_(min=low)`` on a tensor whose graph goes on past the clamp."""

    def forward(self, x, low):
        return get_array_module(x).maximum(x, x.dtype.type(low))

    def backward(self, grad):
        return (grad,)


def clamp_min_pass_gradient(input: Tensor, low: float) -> Tensor:
    """max(x, low) whose gradient passes as if nothing were clamped (see the class)."""
    return ClampMinPassGradient.apply(input, low=low)


def _floating_pair(x1, x2, op: str) -> tuple[Tensor, Tensor]:
    """Both operands in their promoted dtype, which must be floating (int with int refused)."""
    x1 = x1 if isinstance(x1, Tensor) else as_tensor(x1)
    x2 = x2 if isinstance(x2, Tensor) else as_tensor(x2)
    dtype = result_type(x1, x2)
    if not is_floating(dtype):
        raise RuntimeError(
            f"{op}: expected common dtype to be floating point, yet common dtype is {dtype}"
        )
    return cast(x1, dtype), cast(x2, dtype)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos(x₁, x₂) = Σ (x₁ / max(‖x₁‖, ε)) · (x₂ / max(‖x₂‖, ε)) along ``dim``.

    x₁ and x₂ broadcast to a common shape; ``dim`` indexes it and is removed from the result.
    Each norm is clamped at ε on its own (PyTorch 2.x), without a gradient through the clamp,
    so the result stays in [−1, 1] and a zero vector gives 0 with a zero gradient.
    """
    x1, x2 = broadcast_tensors(*_floating_pair(x1, x2, "cosine_similarity"))
    norm1 = clamp_min_pass_gradient(vector_norm(x1, 2, dim, keepdim=True), eps)
    norm2 = clamp_min_pass_gradient(vector_norm(x2, 2, dim, keepdim=True), eps)
    return _sum((x1 / norm1) * (x2 / norm2), dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """d(x₁, x₂) = ‖x₁ − x₂ + ε‖_p along the last dim of the broadcast shape.

    (N, D) with (N, D) or (D,) gives (N,) ((N, 1) with ``keepdim``); ε is added to every
    difference, as PyTorch, so equal vectors are at distance ε·D^(1/p), not 0.
    """
    x1, x2 = _floating_pair(x1, x2, "pairwise_distance")
    last = max(x1.ndim, x2.ndim) - 1
    return vector_norm(x1 - x2 + eps, p, last, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distances ‖xᵢ − xⱼ‖_p between every pair of rows i < j of an (N, M) input.

    The result has N(N − 1)/2 entries, in the order of the upper triangle read row by row
    (``torch.cdist(x, x)[triu_indices(N, N, 1)]``).
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not is_floating(input.dtype):
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    rows, cols = triu_indices(n, n, 1, device=input.device)
    return vector_norm(input[rows] - input[cols], p, -1)
