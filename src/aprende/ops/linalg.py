"""Matrix multiplication, batched and broadcast as ``numpy.matmul`` / ``torch.matmul``."""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.ops.elementwise import as_tensor_like


class MatMul(Function):
    """C = A @ B; ∂L/∂A = ∂L/∂C @ Bᵀ, ∂L/∂B = Aᵀ @ ∂L/∂C (summed over broadcast batch dims)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad):
        a, b = self.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return grad * b if self.needs[0] else None, grad * a if self.needs[1] else None
        # A vector operand is a matrix with one row (a) or one column (b).
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = backend.get_array_module(grad).expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = g2[..., None]
        grad_a = grad_b = None
        if self.needs[0]:
            grad_a = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if self.needs[1]:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> Tensor:
    """Matrix product a @ b: vectors, matrices and batches of matrices (broadcast)."""
    a, b = as_tensor_like(a), as_tensor_like(b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
            f"({inner_a} columns in the first, {inner_b} rows in the second)"
        )
    return MatMul.apply(a, b)


mm = matmul


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) tensors."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)
