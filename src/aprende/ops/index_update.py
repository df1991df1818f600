"""Index-based updates: a copy of the input with whole slices written at the positions an index
vector names along one dimension, as ``torch.index_add`` / ``index_copy`` / ``index_fill``, and
``masked_scatter``, which writes a source's elements where a mask holds (dim = 0 shown)::

    index_add:       out[index[i]] = input[index[i]] + alpha · source[i]  (repeats add up)
    index_copy:      out[index[i]] = source[i]
    index_fill:      out[index[i]] = value
    masked_scatter:  out[mask] = source.flatten()[:mask.sum()]  (in row-major order)

Each is written with differentiable ops (``scatter_add``, ``scatter``, ``masked_fill``, ``take``,
``where``), whose gradients are exactly PyTorch's for these: index_add sends ∂L/∂out to input and
α·∂L/∂out[index] to source; index_copy and index_fill zero input's gradient at the written
slices; masked_scatter gives source the masked gradient in order, zero past the elements used.
The in-place twins (``index_add_``, ...) compute the same result and write it back, unrecorded.
"""

from __future__ import annotations

import numpy as np

from aprende import autograd
from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.ops import inplace
from aprende.ops._checks import check_tensor
from aprende.ops.elementwise import where
from aprende.ops.indexing import _check_mask, _fill_tensor, masked_fill, take
from aprende.ops.scatter import INDEX_DTYPES, fill_value, scatter, scatter_add, single_dim
from aprende.ops.shape import cat

TENSOR_METHODS = (
    "index_add", "index_copy", "index_fill", "masked_scatter",
    "index_add_", "index_copy_", "index_fill_", "masked_scatter_",
)  # fmt: skip

LONG = (np.dtype(np.int64),)


def _index_vector(index, op: str, dtypes: tuple, dtype_error: type, shape_error: type) -> None:
    """PyTorch's checks of the index: a tensor of one of ``dtypes``, of at most one dimension
    (each op raises its own exception types for these, as PyTorch's do)."""
    check_tensor(index, "index", op)
    if index.dtype not in dtypes:
        wanted = " or ".join(str(d) for d in dtypes)
        raise dtype_error(f"{op}: expected an index of dtype {wanted}, got {index.dtype}")
    if index.ndim > 1:
        raise shape_error(f"{op}: index is supposed to be a vector, got shape {index.shape}")


def _check_range(index, size: int, dim: int, op: str, error: type, negative: bool) -> None:
    """Every index in [0, size), or in [−size, size) where negative indices count from the end."""
    if index.numel():
        low, high = int(index.data.min()), int(index.data.max())
        lowest = -size if negative else 0
        if low < lowest or high >= size:
            raise error(
                f"{op}: index {low if low < lowest else high} is out of bounds for dimension "
                f"{dim} with size {size}"
            )


def _check_source(input: Tensor, dim: int, index: Tensor, source, op: str, count_error: type):
    """source has input's dtype and shape, but for len(index) slices along ``dim``."""
    check_tensor(source, "source", op)
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"{op}: expected source to have the input's dtype {input.dtype}, got {source.dtype}"
        )
    shape, source_shape = input.shape or (1,), source.shape or (1,)
    if len(source_shape) != len(shape):
        raise count_error(
            f"{op}: expected source with {len(shape)} dimension(s) like the input, got shape "
            f"{source.shape} for an input of shape {input.shape}"
        )
    if source_shape[dim] != index.numel():
        raise count_error(
            f"{op}: the number of indices ({index.numel()}) should equal source.size({dim}) "
            f"({source_shape[dim]})"
        )
    if any(n != m for d, (n, m) in enumerate(zip(shape, source_shape, strict=True)) if d != dim):
        raise RuntimeError(
            f"{op}: source of shape {source.shape} must match the input's shape {input.shape} "
            f"apart from dimension {dim}"
        )


def _spread(index: Tensor, dim: int, shape: tuple) -> Tensor:
    """The index vector laid along ``dim`` and repeated over every other dimension of
    ``shape``: the index ``scatter`` reads to write whole slices."""
    view = (1,) * dim + (-1,) + (1,) * (len(shape) - dim - 1)
    spread = get_array_module(index.data).broadcast_to(index.data.reshape(view), shape)
    return Tensor._make(spread.astype(np.int64), False)


def _as_rows(input: Tensor, source: Tensor | None = None) -> tuple:
    """A 0-d input (and source) as vectors of one element, as PyTorch indexes them."""
    if input.ndim:
        return input, source
    return input.reshape(1), None if source is None else source.reshape(1)


# ---- index_add, index_copy -------------------------------------------------------------------


def _index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, alpha, op: str) -> Tensor:
    _index_vector(index, op, INDEX_DTYPES, RuntimeError, IndexError)
    dim = single_dim(dim, input.ndim, op)
    _check_source(input, dim, index, source, op, RuntimeError)
    _check_range(index, (input.shape or (1,))[dim], dim, op, RuntimeError, negative=False)
    rows, source_rows = _as_rows(input, source)
    if alpha != 1:  # alpha in source's dtype: an integer tensor truncates it, as PyTorch
        factor = fill_value(alpha, source.dtype, op)
        source_rows = source_rows * Tensor._make(get_array_module(source.data).asarray(factor))
    out = scatter_add(rows, dim, _spread(index, dim, source_rows.shape), source_rows)
    return out.reshape(input.shape)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """out = input with α·source[i] added to the slice index[i] along ``dim``
    (out[index[i]] += α·source[i] for dim 0); repeated indices add up. index: int64/int32
    positions in [0, input.size(dim)); source: input's shape with len(index) along dim.
    ∂L/∂input = ∂L/∂out, ∂L/∂source = α · index_select(∂L/∂out, dim, index)."""
    return _index_add(input, dim, index, source, alpha, "index_add")


def _index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor, op: str) -> Tensor:
    _index_vector(index, op, LONG, RuntimeError, IndexError)
    dim = single_dim(dim, input.ndim, op)
    _check_source(input, dim, index, source, op, IndexError)
    _check_range(index, (input.shape or (1,))[dim], dim, op, IndexError, negative=False)
    rows, source_rows = _as_rows(input, source)
    out = scatter(rows, dim, _spread(index, dim, source_rows.shape), source_rows)
    return out.reshape(input.shape)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """out = input with its slice index[i] along ``dim`` replaced by source[i]
    (out[index[i]] = source[i] for dim 0). index: int64 positions in [0, input.size(dim));
    source: input's shape with len(index) along dim. With a repeated index one of the copies
    wins (PyTorch leaves which unspecified). ∂L/∂input is ∂L/∂out with the copied slices zeroed;
    ∂L/∂source = index_select(∂L/∂out, dim, index)."""
    return _index_copy(input, dim, index, source, "index_copy")


# ---- index_fill ------------------------------------------------------------------------------


def _index_fill(input: Tensor, dim: int, index: Tensor, value, op: str) -> Tensor:
    _index_vector(index, op, LONG, IndexError, RuntimeError)
    dim = single_dim(dim, input.ndim, op)
    size = (input.shape or (1,))[dim]
    _check_range(index, size, dim, op, IndexError, negative=True)
    value = _fill_tensor(value, input, op)
    xp = get_array_module(input.data)
    filled = xp.zeros(size, dtype=bool)
    filled[index.data] = True
    view = (1,) * dim + (-1,) + (1,) * (input.ndim - dim - 1)
    return masked_fill(input, Tensor._make(filled.reshape(view if input.ndim else ())), value)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """out = input with every element of the slices index[i] along ``dim`` set to ``value``
    (a number, or a 0-d tensor cast to input's dtype); index: int64 positions in
    [−input.size(dim), input.size(dim)), negative ones counting from the end. ∂L/∂input is
    ∂L/∂out with the filled slices zeroed; a 0-d tensor value receives the sum of ∂L/∂out over
    them (each filled element once, however often its index repeats)."""
    return _index_fill(input, dim, index, value, "index_fill")


# ---- masked_scatter --------------------------------------------------------------------------


def _masked_scatter(input: Tensor, mask: Tensor, source, shape: tuple, op: str) -> Tensor:
    """The elements of source in order, at the positions where ``mask`` (broadcast to
    ``shape``) holds; input's elsewhere."""
    check_tensor(source, "source", op)
    if source.dtype != input.dtype:
        raise RuntimeError(
            f"{op}: expected source to have the input's dtype {input.dtype}, got {source.dtype}"
        )
    xp = get_array_module(mask.data)
    spread = xp.broadcast_to(mask.data, shape)
    used = int(spread.sum())
    if used > source.numel():
        raise RuntimeError(
            f"{op}: the mask is true at {used} positions but source has only {source.numel()} "
            "elements"
        )
    # The k-th masked position (row-major) reads source's k-th element; the others read a
    # zero appended to source, which where discards: no gradient reaches source from them.
    padded = cat([source.reshape(-1), Tensor._make(xp.zeros(1, dtype=source.dtype))])
    counted = xp.cumsum(spread.reshape(-1)).reshape(shape) - 1
    order = xp.where(spread, counted, source.numel()).astype(np.int64)
    picked = take(padded, Tensor._make(order))
    return where(mask, picked, input)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """out = input with the elements of source, taken in order, written where the bool mask
    holds (row-major): out[mask] = source.flatten()[:mask.sum()]. Mask and input broadcast
    against each other; source needs at least mask.sum() elements. ∂L/∂input is ∂L/∂out where
    mask is false; ∂L/∂source holds the masked elements of ∂L/∂out in order, zeros past them."""
    shape = _check_mask(mask, input, "masked_scatter")
    return _masked_scatter(input, mask, source, shape, "masked_scatter")


# ---- in place --------------------------------------------------------------------------------


def _write(self: Tensor, op: str, others: tuple, compute) -> Tensor:
    """The out-of-place result ``compute()`` written into self (not recorded in the graph)."""
    inplace.check_inplace(self, op, *others)
    with autograd.no_grad():
        result = compute()
    return inplace.write_inplace(self, result.data)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place ``index_add`` (not recorded in the graph)."""
    op = "index_add_"
    return _write(self, op, (source,), lambda: _index_add(self, dim, index, source, alpha, op))


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place ``index_copy`` (not recorded in the graph)."""
    op = "index_copy_"
    return _write(self, op, (source,), lambda: _index_copy(self, dim, index, source, op))


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place ``index_fill`` (not recorded in the graph)."""
    op = "index_fill_"
    return _write(self, op, (value,), lambda: _index_fill(self, dim, index, value, op))


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place ``masked_scatter``: the mask broadcasts to self's shape, never self to the
    mask's (not recorded in the graph)."""
    op = "masked_scatter_"
    if _check_mask(mask, self, op) != self.shape:
        raise RuntimeError(
            f"{op}: mask of shape {mask.shape} does not broadcast to the shape {self.shape}"
        )
    return _write(self, op, (source,), lambda: _masked_scatter(self, mask, source, self.shape, op))
