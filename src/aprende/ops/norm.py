"""Vector and matrix norms: ``vector_norm``, ``matrix_norm`` and the two front doors,
``torch.norm`` (``norm``) and ``torch.linalg.norm`` (``linalg_norm``, public as
``aprende.linalg.norm``).
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating, to_dtype
from aprende.ops.reduce import Dims, expand_back, normalize_dims, reduction_dims

TENSOR_METHODS = ("norm",)

Ord = float | int | str | None


class VectorNorm(Function):
    """‖x‖_p = (Σ |xᵢ|^p)^(1/p) over ``axes``; p = ∞: max |xᵢ|, p = −∞: min |xᵢ|, p = 0: the
    number of nonzero xᵢ.

    ∂‖x‖_p/∂xᵢ, as PyTorch: p = 0: 0; p = 1: sgn xᵢ; p = 2: xᵢ / ‖x‖ (0 where ‖x‖ = 0);
    p = ±∞: sgn xᵢ / k at the k elements with |xᵢ| = ‖x‖ (or nan), 0 elsewhere; otherwise
    sgn xᵢ |xᵢ|^(p−1) / ‖x‖^(p−1), taken as 0 where ‖x‖ = 0 (p > 1) or where xᵢ = 0 (p < 1).
    """

    def forward(self, a, ord=2.0, axes=None, keepdim=False):
        xp = get_array_module(a)
        self.ord, self.axes, self.keepdim = ord, axes, keepdim
        magnitude = xp.abs(a)
        reduce = {"axis": axes, "keepdims": keepdim}
        with np.errstate(divide="ignore"):  # 0 ** negative p = inf, whose 1/p power is 0
            if ord == math.inf:
                out = magnitude.max(**reduce)
            elif ord == -math.inf:
                out = magnitude.min(**reduce)
            elif ord == 0:
                out = (a != 0).sum(**reduce).astype(a.dtype)
            elif ord == 1:
                out = magnitude.sum(**reduce)
            elif ord == 2:
                out = xp.sqrt((a * a).sum(**reduce))
            else:
                out = (magnitude**ord).sum(**reduce) ** a.dtype.type(1 / ord)
        out = xp.asarray(out)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad):
        a, norm = self.saved_tensors
        xp = get_array_module(grad)
        p = self.ord
        if p == 0:
            return (xp.zeros(a.shape, dtype=grad.dtype),)
        norm = expand_back(norm, a.shape, self.axes, self.keepdim)
        grad = expand_back(grad, a.shape, self.axes, self.keepdim)
        sign = xp.sign(a)
        with np.errstate(divide="ignore", invalid="ignore"):  # masked right below
            if p == 1:
                return (sign * grad,)
            if p == 2:
                return (grad * xp.where(norm == 0, 0, a / norm),)
            magnitude = xp.abs(a)
            if math.isinf(p):
                hits = (magnitude == norm) | xp.isnan(magnitude)
                count = hits.sum(axis=self.axes, keepdims=True).astype(grad.dtype)
                return (sign * (grad / count) * hits,)
            if p < 1:
                scaled = xp.where(a == 0, 0, sign * magnitude ** (p - 1))
                return (scaled * grad * norm ** (1 - p),)
            scale = xp.where(norm == 0, 0, grad / norm ** (p - 1))
            return (sign * magnitude ** (p - 1) * scale,)


def vector_norm(
    x: Tensor, ord: float = 2, dim: Dims = None, keepdim: bool = False, *, dtype=None
) -> Tensor:
    """‖x‖_ord over ``dim`` (all elements when None), x seen as one vector per slice: ord 2
    (default), 1, 0 (count of nonzeros), ±∞ (max / min of |x|), any other real p."""
    from aprende.ops.elementwise import cast

    if dtype is not None:
        x = cast(x, to_dtype(dtype))
    if not is_floating(x.dtype):
        raise RuntimeError(
            f"linalg.vector_norm: expected a floating point tensor as input, got {x.dtype}"
        )
    axes = reduction_dims(dim, x.ndim, "linalg.vector_norm")
    if math.isinf(ord) and _reduces_nothing(x, axes):
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    return VectorNorm.apply(x, ord=float(ord), axes=axes, keepdim=keepdim)


def _reduces_nothing(x: Tensor, axes: tuple | None) -> bool:
    if axes is None:
        return x.numel() == 0
    return any(x.shape[a] == 0 for a in axes)


class SingularValueNorm(Function):
    """A norm of the singular values σ of each matrix over the last two dims (A = U Σ Vᵀ):
    "nuc" Σσ, 2 σ_max, −2 σ_min. ∂/∂A = U Vᵀ ("nuc"), u₁v₁ᵀ (2), u_k v_kᵀ (−2): PyTorch's
    gradient where the singular values are distinct (and, for "nuc", nonzero)."""

    def forward(self, a, ord="nuc"):
        xp = get_array_module(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        self.ord = ord
        if ord == "nuc":
            self.save_for_backward(u, vh)
            return s.sum(axis=-1)
        k = 0 if ord == 2 else s.shape[-1] - 1  # σ comes sorted, largest first
        self.save_for_backward(u[..., :, k : k + 1], vh[..., k : k + 1, :])
        return s[..., k]

    def backward(self, grad):
        u, vh = self.saved_tensors
        return (grad[..., None, None] * (u @ vh),)


def matrix_norm(
    A: Tensor,  # noqa: N803 - PyTorch's name
    ord: float | str = "fro",
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype=None,
) -> Tensor:
    """A matrix norm over the two dims ``dim``: "fro" √Σ aᵢⱼ², 1 / −1 the largest / smallest
    column sum of |a|, ∞ / −∞ the largest / smallest row sum, 2 / −2 the largest / smallest
    singular value, "nuc" the sum of the singular values."""
    from aprende.ops.elementwise import abs as _abs
    from aprende.ops.statistics import amax, amin

    if A.ndim < 2:
        raise RuntimeError(
            f"linalg.matrix_norm: the input must have at least 2 dimensions, got {A.ndim}"
        )
    dims = tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of ints, got {dim!r}")
    rows, cols = (normalize_dims(d, A.ndim, "linalg.matrix_norm")[0] for d in dims)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim!r}")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim, dtype=dtype)
    if ord not in (1, -1, 2, -2, math.inf, -math.inf, "nuc"):
        raise RuntimeError(
            f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', inf, -inf, 1, -1, 2, -2, "
            f"got {ord!r}"
        )
    if dtype is not None:
        A = A.to(dtype)
    if ord in (2, -2, "nuc"):
        others = [d for d in range(A.ndim) if d not in (rows, cols)]
        out = SingularValueNorm.apply(A.permute(*others, rows, cols), ord=ord)
        kept = [1 if d in (rows, cols) else n for d, n in enumerate(A.shape)]
        return out.reshape(kept) if keepdim else out
    summed, picked = (rows, cols) if abs(ord) == 1 else (cols, rows)
    sums = _abs(A).sum(summed, keepdim=True)
    out = (amax if ord > 0 else amin)(sums, picked, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def linalg_norm(
    A: Tensor,  # noqa: N803 - PyTorch's name
    ord: Ord = None,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    dtype=None,
) -> Tensor:
    """``torch.linalg.norm``: a vector norm for one dim (or a 1-d input), a matrix norm for
    two dims (or a 2-d input); with neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: if dim is not specified but ord is, the input must be 1D or 2D, "
                f"got {A.ndim}D"
            )
        dim = (0,) if A.ndim == 1 else (0, 1)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


def norm(
    input: Tensor, p: Ord = "fro", dim: Dims = None, keepdim: bool = False, dtype=None
) -> Tensor:
    """``torch.norm``: the p-norm of ``input`` seen as a vector over ``dim`` (all elements
    when None); "fro" is the 2-norm over the same elements."""
    if p == "nuc":
        return matrix_norm(input, "nuc", dim or (-2, -1), keepdim, dtype=dtype)
    return vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype=dtype)
