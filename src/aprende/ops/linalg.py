"""Products of vectors and matrices, batched and broadcast as ``torch.matmul``: ``matmul`` and
its strict forms ``mm``, ``bmm``, ``mv``, ``dot``, ``vdot``, plus ``outer`` and ``inner``.

As in PyTorch, the operands of a matrix product must share one dtype (no promotion), bool is
not supported, and integer products stay integer.
"""

from __future__ import annotations

import math

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.ops.elementwise import TensorLike, as_tensor_like, mul
from aprende.ops.shape import reshape, unsqueeze

TENSOR_METHODS = ("mm", "bmm", "mv", "dot", "vdot", "outer", "inner")


class MatMul(Function):
    """C = A @ B; ∂L/∂A = ∂L/∂C @ Bᵀ, ∂L/∂B = Aᵀ @ ∂L/∂C (summed over broadcast batch dims)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        out = a @ b
        # NumPy gives a scalar, not an array, for vector @ vector.
        return backend.get_array_module(a).asarray(out) if a.ndim == b.ndim == 1 else out

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


_TORCH_DTYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


def _check_dtypes(a: Tensor, b: Tensor, op: str) -> None:
    """PyTorch's rule for matrix products: one shared dtype, never bool."""
    if a.dtype == np.bool_ or b.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for 'Bool' tensors")
    if a.dtype != b.dtype:
        first, second = (_TORCH_DTYPE_NAMES.get(str(d), str(d)) for d in (a.dtype, b.dtype))
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {first} != {second}"
        )


def _sizes(shape: tuple) -> str:
    return "x".join(map(str, shape))


def matmul(input: TensorLike, other: TensorLike) -> Tensor:
    """Matrix product input @ other, as ``torch.matmul``.

    1-D @ 1-D is the dot product (a 0-d tensor); a 1-D first operand is a row vector and a 1-D
    second operand a column vector, the added dimension removed from the result; beyond two
    dimensions the leading (batch) dimensions broadcast. ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G, summed
    over broadcast batch dimensions.
    """
    a, b = as_tensor_like(input), as_tensor_like(other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments to matmul need to be at least 1D, but they are {a.ndim}D "
            f"and {b.ndim}D (shapes {a.shape} and {b.shape})"
        )
    _check_dtypes(a, b, "matmul")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
            f"({inner_a} columns in the first, {inner_b} rows in the second)"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: the batch dimensions of shapes {a.shape} and {b.shape} do not broadcast"
        ) from None
    return MatMul.apply(a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices, (n, k) @ (k, m) -> (n, m); no broadcasting (see ``matmul``)."""
    for name, t in (("self", input), ("mat2", mat2)):
        if t.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shape {t.shape}")
    _check_dtypes(input, mat2, "mm")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied "
            f"({_sizes(input.shape)} and {_sizes(mat2.shape)})"
        )
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (B, n, k) and (B, k, m) tensors -> (B, n, m); no broadcasting."""
    for name, t in (("batch1", input), ("batch2", mat2)):
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape {t.shape}")
    _check_dtypes(input, mat2, "bmm")
    expected = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != expected:
        raise RuntimeError(
            f"bmm: Expected size for first two dimensions of batch2 tensor to be: {expected} "
            f"but got: {list(mat2.shape[:2])} (shapes {input.shape} and {mat2.shape})"
        )
    return MatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product, (n, m) @ (m,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"mv: vector + matrix @ vector expected, got shapes {input.shape} and {vec.shape}"
        )
    _check_dtypes(input, vec, "mv")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"mv: size mismatch, got mat ({_sizes(input.shape)}), vec ({vec.shape[0]})"
        )
    return MatMul.apply(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Σᵢ xᵢyᵢ of two 1-D tensors of the same length and dtype, a 0-d tensor;
    ∂L/∂x = g·y, ∂L/∂y = g·x."""
    return _vector_product(input, tensor, "dot")


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Σᵢ conj(xᵢ)yᵢ; for the real tensors aprende has, the same as ``dot``."""
    return _vector_product(input, other, "vdot")


def _vector_product(x: Tensor, y: Tensor, op: str) -> Tensor:
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"{op}: 1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.dtype != y.dtype and np.bool_ not in (x.dtype, y.dtype):
        raise RuntimeError(
            f"{op}: expected both vectors to have same dtype, but found {x.dtype} and {y.dtype}"
        )
    _check_dtypes(x, y, op)
    if x.shape != y.shape:
        raise RuntimeError(
            f"{op}: inconsistent tensor size, expected tensors of the same number of elements, "
            f"but got {x.shape[0]} and {y.shape[0]}"
        )
    return MatMul.apply(x, y)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors, out[i, j] = xᵢ·yⱼ (dtypes promote as in ``mul``);
    a composition of ``unsqueeze`` and ``mul``, whose gradients it takes."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return mul(unsqueeze(input, 1), unsqueeze(vec2, 0))


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension: out[i…, j…] = Σₖ a[i…, k]·b[j…, k], shaped
    ``a.shape[:-1] + b.shape[:-1]``; a 0-d operand multiplies the other. A composition of
    ``reshape`` and ``matmul``, whose gradients it takes."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"inner: both inputs should have same dtype, got {input.dtype} and {other.dtype}"
        )
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    size = input.shape[-1]
    rows = reshape(input, (math.prod(input.shape[:-1]), size))
    columns = reshape(other, (math.prod(other.shape[:-1]), size)).T
    return reshape(matmul(rows, columns), input.shape[:-1] + other.shape[:-1])
