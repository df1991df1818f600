"""Triangles and diagonals of matrices: tril, triu, diagonal, diag_embed, diag, diagflat, and
the coordinates of a triangle (tril_indices, triu_indices).

tril/triu keep one side of a diagonal and zero the rest, so the gradient is masked the same way.
``diagonal`` reads a diagonal out of a matrix and ``diag_embed`` writes one into a zero matrix:
each is the other's backward.
"""

from __future__ import annotations

import numbers

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.creation import _finish
from aprende.ops.shape import dim_index, flatten

TENSOR_METHODS = ("tril", "triu", "diagonal", "diag_embed", "diag", "diagflat")


class Tril(Function):
    """y = a where column − row ≤ k, else 0 (over the last two dims); ∂L/∂a = tril(∂L/∂y, k)."""

    @staticmethod
    def keep(xp, a, k):
        return xp.tril(a, k)

    def forward(self, a, diagonal=0):
        self.diagonal = diagonal
        return self.keep(get_array_module(a), a, diagonal)

    def backward(self, grad):
        return (self.keep(get_array_module(grad), grad, self.diagonal),)


class Triu(Tril):
    """y = a where column − row ≥ k, else 0; ∂L/∂a = triu(∂L/∂y, k)."""

    @staticmethod
    def keep(xp, a, k):
        return xp.triu(a, k)


def _triangle(node, input: Tensor, diagonal: int, op: str) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got {input.ndim}")
    return node.apply(input, diagonal=int(diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of each matrix (last two dims): elements with column − row ≤
    ``diagonal`` kept, the others 0."""
    return _triangle(Tril, input, diagonal, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of each matrix: elements with column − row ≥ ``diagonal`` kept."""
    return _triangle(Triu, input, diagonal, "triu")


def _diagonal_positions(xp, rows: int, columns: int, offset: int):
    """(row, column) index arrays of the ``offset`` diagonal of a rows × columns matrix:
    above the main diagonal for offset > 0, below for offset < 0."""
    if offset >= 0:
        n = max(min(rows, columns - offset), 0)
        return xp.arange(n), xp.arange(n) + offset
    n = max(min(rows + offset, columns), 0)
    return xp.arange(n) - offset, xp.arange(n)


class Diagonal(Function):
    """y[.., i] = a[.., r + i, .., c + i, ..] over dims (dim1, dim2), with (r, c) = (0, offset)
    or (−offset, 0); the diagonal becomes the last dim. ∂L/∂a is ∂L/∂y on that diagonal and 0
    elsewhere (``diag_embed`` into a's shape)."""

    def forward(self, a, offset=0, dim1=0, dim2=1):
        self.shape = a.shape
        self.offset, self.dims = offset, (dim1, dim2)
        xp = get_array_module(a)
        matrices = xp.moveaxis(a, self.dims, (-2, -1))
        rows, columns = _diagonal_positions(xp, *matrices.shape[-2:], offset)
        return matrices[..., rows, columns]

    def backward(self, grad):
        xp = get_array_module(grad)
        full = xp.zeros(self.shape, dtype=grad.dtype)
        matrices = xp.moveaxis(full, self.dims, (-2, -1))  # a view: writes land in full
        rows, columns = _diagonal_positions(xp, *matrices.shape[-2:], self.offset)
        matrices[..., rows, columns] = grad
        return (full,)


class DiagEmbed(Function):
    """y: zeros of a's shape with its last dim n replaced by two dims (dim1, dim2) of size
    n + |offset|, and a written on their ``offset`` diagonal. ∂L/∂a is that diagonal of
    ∂L/∂y (``diagonal``)."""

    def forward(self, a, offset=0, dim1=-2, dim2=-1):
        self.offset, self.dims = offset, (dim1, dim2)
        xp = get_array_module(a)
        side = a.shape[-1] + abs(offset)
        matrices = xp.zeros(a.shape[:-1] + (side, side), dtype=a.dtype)
        rows, columns = _diagonal_positions(xp, side, side, offset)
        matrices[..., rows, columns] = a
        return xp.moveaxis(matrices, (-2, -1), self.dims)

    def backward(self, grad):
        xp = get_array_module(grad)
        matrices = xp.moveaxis(grad, self.dims, (-2, -1))
        rows, columns = _diagonal_positions(xp, *matrices.shape[-2:], self.offset)
        return (matrices[..., rows, columns],)


def _two_dims(dim1: int, dim2: int, ndim: int, op: str) -> tuple[int, int]:
    first, second = dim_index(dim1, ndim, op), dim_index(dim2, ndim, op)
    if first == second:
        raise RuntimeError(f"{op}: diagonal dimensions cannot be identical, got {dim1}, {dim2}")
    return first, second


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the matrices spanned by ``dim1`` and ``dim2`` (offset > 0:
    above the main one); those dims are removed and the diagonal appended as the last."""
    if input.ndim < 2:
        raise IndexError(f"diagonal: expected at least 2 dimensions, got shape {input.shape}")
    dims = _two_dims(dim1, dim2, input.ndim, "diagonal")
    return Diagonal.apply(input, offset=int(offset), dim1=dims[0], dim2=dims[1])


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with the last dim of ``input`` on their ``offset`` diagonal, spanning output
    dims ``dim1`` and ``dim2`` (of size n + |offset|); zeros elsewhere."""
    if input.ndim < 1:
        raise IndexError("diag_embed: expected at least 1 dimension, got a 0-d tensor")
    dims = _two_dims(dim1, dim2, input.ndim + 1, "diag_embed")
    return DiagEmbed.apply(input, offset=int(offset), dim1=dims[0], dim2=dims[1])


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's square matrix with the vector on the ``diagonal``-th diagonal, or a matrix's
    ``diagonal``-th diagonal as a vector."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got {input.ndim}-D")


def _triangle_indices(op: str, keep, row: int, col: int, offset: int, dtype, device) -> Tensor:
    """The (row, column) coordinates of the elements ``keep`` (np.tril or np.triu) keeps in a
    row × col matrix, row-major, as a (2, N) tensor of an integer ``dtype``."""
    for name, n in (("row", row), ("col", col)):
        if not isinstance(n, numbers.Integral) or n < 0:
            raise RuntimeError(f"{op}: {name} must be a non-negative int, got {n!r}")
    dtype = backend.to_dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise NotImplementedError(f"{op}: not implemented for {dtype} (integer dtypes only)")
    kept = keep(np.ones((row, col), dtype=bool), offset)
    return _finish(np.stack(np.nonzero(kept)).astype(dtype), None, device, False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The coordinates of the lower triangle of a row × col matrix: a (2, N) tensor of
    (row, column) pairs with column − row ≤ ``offset``, in row-major order; int64 unless
    ``dtype`` names another integer type. ``m[tuple(tril_indices(...))]`` reads the triangle."""
    return _triangle_indices("tril_indices", np.tril, row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The coordinates of the upper triangle of a row × col matrix: (row, column) pairs with
    column − row ≥ ``offset``, as ``tril_indices``."""
    return _triangle_indices("triu_indices", np.triu, row, col, offset, dtype, device)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The square matrix with the elements of ``input`` (flattened, any shape) on its
    ``offset``-th diagonal and zeros elsewhere: n elements give (n + |offset|)²."""
    return diag_embed(flatten(input), offset, 0, 1)
