"""Products of tensors beyond matmul: the Kronecker product (kron), contraction over chosen
dims (tensordot), the vector product of 3-vectors (cross, linalg.cross), the trace, pairwise
distances (cdist, dist), block-diagonal matrices (block_diag) and the Cartesian product of
vectors (cartesian_prod).

Most are compositions of differentiable ops (mul, matmul, reshape, indexing, norms), so their
gradients are those ops' own; ``cdist`` and ``block_diag`` are nodes with a hand-written
backward beside the forward.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module, get_default_dtype, is_floating
from aprende.ops.elementwise import _to_dtype
from aprende.ops.layout import meshgrid
from aprende.ops.linalg import matmul
from aprende.ops.norm import vector_norm
from aprende.ops.reduce import sum as _sum
from aprende.ops.shape import _common_dtype, dim_index, dim_list, permute, reshape, stack
from aprende.ops.triangular import diagonal

TENSOR_METHODS = ("kron", "cross", "trace", "dist")


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: for a of shape (a₀, .., aₙ) and b of shape (b₀, .., bₙ) (the
    shorter shape padded with leading 1s), y[i₀b₀ + j₀, .., iₙbₙ + jₙ] = a[i₀, .., iₙ]·b[j₀,
    .., jₙ], of shape (a₀b₀, .., aₙbₙ). Written as one broadcast product of a and b with
    their dims interleaved, so the gradient is mul's."""
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + input.shape
    b_shape = (1,) * (ndim - other.ndim) + other.shape
    a = reshape(input, tuple(s for size in a_shape for s in (size, 1)))
    b = reshape(other, tuple(s for size in b_shape for s in (1, size)))
    return reshape(a * b, tuple(m * n for m, n in zip(a_shape, b_shape, strict=True)))


def _tensordot_dims(dims, a: Tensor, b: Tensor) -> tuple[list[int], list[int]]:
    """The contracted dims of a and of b: an int n (the last n of a with the first n of b),
    a pair of lists, or a tensor holding either."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot: expected dims >= 0, got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot: expected dims <= the dims of both inputs ({a.ndim} and {b.ndim}), "
                f"got dims={dims}"
            )
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not isinstance(dims, Sequence) or len(dims) != 2 or isinstance(dims[0], int):
        raise TypeError(
            f"tensordot: expected dims to be an int or a pair of dimension lists, got {dims!r}"
        )
    dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(
            f"tensordot: both dimension lists should have the same length, got {dims_a} "
            f"and {dims_b}"
        )
    return dim_list(dims_a, a.ndim, "tensordot"), dim_list(dims_b, b.ndim, "tensordot")


def tensordot(input: Tensor, other: Tensor, dims=2) -> Tensor:
    """Σ over the contracted dims of a[free_a, k]·b[k, free_b]: the shape is a's free dims
    then b's. ``dims`` is an int n (a's last n dims with b's first n), or two lists
    ``([dims of a], [dims of b])``; a contracted dim of size 1 on one side is summed out on
    the other, as PyTorch. Both tensors share one dtype; computed as one matmul of a and b
    permuted and reshaped into matrices."""
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"tensordot: both inputs should have the same dtype, got {input.dtype} and "
            f"{other.dtype}"
        )
    if input.dtype == np.bool_:
        raise NotImplementedError("tensordot: not implemented for bool tensors")
    dims_a, dims_b = _tensordot_dims(dims, input, other)
    for da, db in zip(dims_a, dims_b, strict=True):
        size_a, size_b = input.shape[da], other.shape[db]
        if size_a == size_b:
            continue
        if size_b == 1:
            input = _sum(input, da, keepdim=True)
        elif size_a == 1:
            other = _sum(other, db, keepdim=True)
        else:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but the first has size "
                f"{size_a} in dim {da} and the second has size {size_b} in dim {db}"
            )
    free_a = [d for d in range(input.ndim) if d not in dims_a]
    free_b = [d for d in range(other.ndim) if d not in dims_b]
    rows = math.prod(input.shape[d] for d in free_a)
    columns = math.prod(other.shape[d] for d in free_b)
    contracted = math.prod(input.shape[d] for d in dims_a)
    a = reshape(permute(input, *free_a, *dims_a), (rows, contracted))
    b = reshape(permute(other, *dims_b, *free_b), (contracted, columns))
    shape = tuple(input.shape[d] for d in free_a) + tuple(other.shape[d] for d in free_b)
    return reshape(matmul(a, b), shape)


def _component(t: Tensor, axis: int, k: int) -> Tensor:
    return t[(slice(None),) * axis + (k,)]


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The vector product of the 3-vectors along ``dim``: y = (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂,
    a₀b₁ − a₁b₀), the other dims broadcast (both tensors have the same number of dims and
    one dtype). Composed of products and differences of components, whose gradients are
    the other operand's components: ∂y₀/∂a₁ = b₂, ∂y₀/∂a₂ = −b₁, and so on."""
    if input.dtype != other.dtype:
        raise RuntimeError(
            f"linalg.cross: expected both inputs to have the same dtype, got {input.dtype} "
            f"and {other.dtype}"
        )
    if input.dtype == np.bool_:
        raise NotImplementedError("linalg.cross: not implemented for bool tensors")
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions, got shapes "
            f"{input.shape} and {other.shape}"
        )
    axis = dim_index(dim, input.ndim, "linalg.cross")
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3, got "
            f"{input.shape[axis]} and {other.shape[axis]}"
        )
    a0, a1, a2 = (_component(input, axis, k) for k in range(3))
    b0, b1, b2 = (_component(other, axis, k) for k in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=axis)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The vector product along ``dim`` (``linalg_cross``); with dim None, the first dim of
    ``input`` of size 3, as PyTorch (which warns that this default may surprise)."""
    if dim is None:
        sizes = [i for i, size in enumerate(input.shape) if size == 3]
        if not sizes:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {input.shape}")
        dim = sizes[0]
    return linalg_cross(input, other, dim=dim)


def trace(input: Tensor) -> Tensor:
    """Σᵢ aᵢᵢ of a matrix (2-d only); integer matrices give int64, as PyTorch."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got a tensor of {input.ndim} dimensions")
    if input.dtype == np.bool_:
        raise NotImplementedError("trace: not implemented for bool tensors")
    return _sum(diagonal(input))


class CDist(Function):
    """D[.., i, j] = ‖a[.., i, :] − b[.., j, :]‖_p over the last dim, from d = aᵢ − bⱼ.

    ∂D/∂d, as PyTorch's cdist: p = 0: 0; p = 1: sgn d; p = 2: d / D (0 where D = 0);
    p = ∞: sgn d where |d| = D (every tie gets it whole), 0 elsewhere; other p:
    sgn d·|d|^(p−1) / D^(p−1), 0 where D = 0 and, for p < 1, where d = 0.
    ∂/∂a sums that over j, ∂/∂b is minus its sum over i.
    """

    def forward(self, a, b, p=2.0):
        self.p = p
        distance = self._norm(get_array_module(a), a[..., :, None, :] - b[..., None, :, :])
        self.save_for_backward(a, b, distance)
        return distance

    def _norm(self, xp, difference):
        magnitude, p = xp.abs(difference), self.p
        if p == 0:
            return (difference != 0).sum(axis=-1).astype(difference.dtype)
        if p == 1:
            return magnitude.sum(axis=-1)
        if p == 2:
            return xp.sqrt((magnitude * magnitude).sum(axis=-1))
        if math.isinf(p):
            if not magnitude.shape[-1]:  # no coordinates: every distance is 0
                return xp.zeros(magnitude.shape[:-1], dtype=magnitude.dtype)
            return magnitude.max(axis=-1)
        return (magnitude**p).sum(axis=-1) ** difference.dtype.type(1 / p)

    def backward(self, grad):
        a, b, distance = self.saved_tensors
        xp = get_array_module(grad)
        difference = a[..., :, None, :] - b[..., None, :, :]
        norm = distance[..., None]
        sign, magnitude, p = xp.sign(difference), xp.abs(difference), self.p
        with np.errstate(divide="ignore", invalid="ignore"):  # masked by the where()s
            if p == 0:
                partial = xp.zeros_like(difference)
            elif p == 1:
                partial = sign
            elif p == 2:
                partial = xp.where(norm == 0, 0, difference / norm)
            elif math.isinf(p):
                partial = sign * (magnitude == norm)
            else:
                partial = xp.where(norm == 0, 0, sign * magnitude ** (p - 1) / norm ** (p - 1))
                if p < 1:
                    partial = xp.where(difference == 0, 0, partial)
        weighted = grad[..., None] * partial
        grad_a = unbroadcast(weighted.sum(axis=-2), a.shape) if self.needs[0] else None
        grad_b = unbroadcast(-weighted.sum(axis=-3), b.shape) if self.needs[1] else None
        return grad_a, grad_b


_COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """The p-norm distance between each row of x1 (.., P, M) and each row of x2 (.., R, M):
    D[.., i, j] = (Σₖ |x1[.., i, k] − x2[.., j, k]|^p)^(1/p), of shape (.., P, R), the batch
    dims broadcast; p ≥ 0 (0 counts the differing coordinates, ∞ takes the largest).

    Always computed from the differences, whatever ``compute_mode`` says: PyTorch's matmul
    path for p = 2 (taken by default past 25 rows) rounds differently, and its gradient at
    zero distance is not 0; here it is 0, as in PyTorch's direct path."""
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: {compute_mode} is not a valid value for compute_mode")
    for name, x in (("x1", x1), ("x2", x2)):
        if not is_floating(x.dtype):
            raise RuntimeError(
                f"cdist: only floating-point dtypes are supported, {name} got {x.dtype}"
            )
        if x.ndim < 2:
            raise RuntimeError(
                f"cdist: only tensors of at least 2 dimensions are supported, {name} got {x.ndim}"
            )
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected x1 and x2 of one dtype, got {x1.dtype} and {x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"cdist: x1 and x2 must have the same number of columns, got x1 {x1.shape} and "
            f"x2 {x2.shape}"
        )
    if p < 0:
        raise RuntimeError(f"cdist: only non-negative p values are supported, got {p}")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"cdist: the batch dims of x1 {x1.shape} and x2 {x2.shape} do not broadcast"
        ) from None
    return CDist.apply(x1, x2, p=float(p))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """‖input − other‖_p over all elements (broadcast), a 0-d tensor: ``vector_norm`` of the
    difference, with its gradients (0 at zero distance for p = 2)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist: expected other to be a Tensor, got {type(other).__name__}")
    difference = input - other
    if not is_floating(difference.dtype):
        raise RuntimeError(f"dist: expected floating point tensors, got {difference.dtype}")
    return vector_norm(difference, p)


class BlockDiag(Function):
    """Matrices A₁, .., A_k (rᵢ × cᵢ) on the diagonal of a (Σrᵢ) × (Σcᵢ) matrix of zeros;
    the gradient of each is its block of the output's gradient."""

    def forward(self, *matrices):
        xp = get_array_module(matrices[0])
        self.rows = np.cumsum([0] + [m.shape[0] for m in matrices]).tolist()
        self.columns = np.cumsum([0] + [m.shape[1] for m in matrices]).tolist()
        out = xp.zeros((self.rows[-1], self.columns[-1]), dtype=matrices[0].dtype)
        for k, m in enumerate(matrices):
            out[self._block(k)] = m
        return out

    def _block(self, k: int) -> tuple[slice, slice]:
        rows, columns = self.rows, self.columns
        return slice(rows[k], rows[k + 1]), slice(columns[k], columns[k + 1])

    def backward(self, grad):
        return tuple(
            grad[self._block(k)] if needed else None for k, needed in enumerate(self.needs)
        )


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors on the diagonal of one matrix, zeros elsewhere: a 0-d tensor counts as a
    1 × 1 block and a vector (n,) as a 1 × n row; the dtype is PyTorch's promotion of all of
    them. No tensors give a 1 × 0 matrix, as PyTorch."""
    if not tensors:
        return Tensor._make(np.zeros((1, 0), dtype=get_default_dtype()), False)
    for position, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(
                f"block_diag: input tensors must have 2 or fewer dimensions, input {position} "
                f"has {t.ndim}"
            )
    dtype = _common_dtype(tensors)
    matrices = [reshape(t, (1, -1) if t.ndim < 2 else t.shape) for t in tensors]
    return BlockDiag.apply(*(_to_dtype(m, dtype) for m in matrices))


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple (x₁[j₁], .., x_k[j_k]) of the 1-D tensors, one row each in lexicographic
    order: shape (n₁·..·n_k, k); a single tensor is returned as it is (shape (n₁,))."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expected 1-D tensors, got shape {t.shape}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], dim=1)
