"""Indexing: ``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks,
read as PyTorch reads them (ints are basic indexing, also beside index arrays); ``index_select``
(``x[:, index]`` along one dim), ``select`` (``x[:, i]``) and ``take`` (``x.flatten()[index]``);
and the mask ops ``masked_fill``, ``masked_select``, ``nonzero``.

The arrays in an index (integer or boolean tensors, lists, NumPy arrays) are inputs of the
graph node, not options: they are saved for backward, so changing one in place before backward
raises instead of scattering the gradient to the wrong elements.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module
from aprende.ops import inplace
from aprende.ops._checks import check_tensor
from aprende.ops.elementwise import _to_dtype, where
from aprende.ops.scatter import (
    INDEX_DTYPES,
    Gather,
    check_bounds,
    fill_value,
    rows,
    single_dim,
)

TENSOR_METHODS = (
    "index_select", "select", "take", "masked_fill", "masked_select", "nonzero", "masked_fill_",
    "__setitem__",
)  # fmt: skip

#: Marks where an index array sits in the index (the arrays themselves are node inputs).
_ARRAY = object()


def array_index(index):
    """An index with Tensors replaced by their arrays and lists by integer/bool arrays."""
    if isinstance(index, tuple):
        return tuple(array_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def index_on_device_of(index, array):
    """The index with its host arrays copied to ``array``'s GPU: as in PyTorch, lists and CPU
    tensors index a GPU tensor."""
    if isinstance(index, tuple):
        return tuple(index_on_device_of(i, array) for i in index)
    if isinstance(index, np.ndarray):
        return backend.move(index, backend.device_of(array))
    return index


def _split_index(index) -> tuple[tuple, list[Tensor], bool]:
    """(template, index tensors, whether the index was a tuple): each array of the index is
    taken out as a tensor and its place in the template marked ``_ARRAY``. An array that is not
    a Tensor is copied, as PyTorch copies a NumPy index: nothing the caller holds is kept."""
    parts = index if isinstance(index, tuple) else (index,)
    template, arrays = [], []
    for part in parts:
        if isinstance(part, Tensor):
            arrays.append(part)
        elif isinstance(part, list):
            arrays.append(Tensor._make(np.asarray(part), False))
        elif hasattr(part, "dtype") and getattr(part, "ndim", 0) > 0:
            arrays.append(Tensor._make(part.copy(), False))
        else:
            template.append(part)
            continue
        template.append(_ARRAY)
    return tuple(template), arrays, isinstance(index, tuple)


def _join_index(template: tuple, arrays, as_tuple: bool):
    """The index back from its template and arrays (the inverse of ``_split_index``)."""
    arrays = iter(arrays)
    parts = tuple(next(arrays) if part is _ARRAY else part for part in template)
    return parts if as_tuple else parts[0]


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "dtype") and p.ndim > 0 for p in parts)


def _is_int(part) -> bool:
    return isinstance(part, int | np.integer) and not isinstance(part, bool | np.bool_)


def ints_first(index) -> tuple[tuple, tuple] | None:
    """PyTorch's reading of an index that mixes ints with index arrays: the ints are basic
    indexing, applied first (``x[1, :, d]`` is ``x[1][:, d]``), where NumPy would count them
    as index arrays and, when a slice separates them from the others, move the indexed
    dimensions to the front. Returns the two steps (ints, the rest), or None when the index
    has no int or no index array (NumPy and PyTorch agree then)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not (any(map(_is_int, parts)) and _is_advanced(parts)):
        return None
    ints, rest = [], []
    for part in parts:
        if _is_int(part):
            ints.append(part)
        elif part is None:
            rest.append(part)
        elif part is Ellipsis:
            ints.append(part)
            rest.append(part)
        else:  # a slice or an index array: one dimension each, a boolean mask one per axis
            ints.extend(
                [slice(None)] * (part.ndim if getattr(part, "dtype", None) == np.bool_ else 1)
            )
            rest.append(part)
    return tuple(ints), tuple(rest)


class GetItem(Function):
    """y = a[index]. ∂L/∂a is zero except at the picked elements, which receive ∂L/∂y; it is
    scattered back with ``add.at``, so an element picked several times (repeated indices)
    receives the sum of its gradients."""

    def forward(self, a, *index_arrays, template=(), as_tuple=False):
        self.save_for_backward(*index_arrays)
        self.shape, self.dtype = a.shape, a.dtype
        self.template, self.as_tuple = template, as_tuple
        index = _join_index(template, index_arrays, as_tuple)
        self.advanced = _is_advanced(index)
        steps = ints_first(index)
        return a[index] if steps is None else a[steps[0]][steps[1]]

    def backward(self, grad):
        index = _join_index(self.template, self.saved_tensors, self.as_tuple)
        xp = get_array_module(grad)
        full = xp.zeros(self.shape, dtype=self.dtype)
        steps = ints_first(index)
        target, index = (full, index) if steps is None else (full[steps[0]], steps[1])
        if self.advanced:  # target is full or a view into it: add.at writes through
            xp.add.at(target, _bool_to_int(index), grad)
        else:
            target[index] = grad
        return (full,) + (None,) * len(self.saved_tensors)


def _bool_to_int(index):
    """``add.at`` wants integer arrays: turn each boolean mask into its nonzero positions."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if hasattr(p, "dtype") and p.dtype == np.bool_ and p.ndim > 0:
            out.extend(p.nonzero())
        else:
            out.append(p)
    return tuple(out)


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]``: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    template, arrays, as_tuple = _split_index(index)
    if type(input.data) is not np.ndarray:  # lists and CPU tensors index a GPU tensor too
        arrays = [a.to(input.device) for a in arrays]
    try:
        return GetItem.apply(input, *arrays, template=template, as_tuple=as_tuple)
    except (IndexError, RuntimeError) as error:
        shown = _join_index(template, [a.data for a in arrays], as_tuple)
        raise IndexError(
            f"index {shown!r} is invalid for a tensor of shape {input.shape}: {error}"
        ) from None


# ---- index_select ----------------------------------------------------------------------------


class IndexSelect(Function):
    """out = the slices of a at ``index`` along ``dim`` (``a.take(index, dim)``). ∂L/∂a: each
    slice's gradient added back where it was taken (index_add), repeated indices summing."""

    def forward(self, a, index, dim=0):
        self.save_for_backward(index)
        self.shape, self.dim = a.shape, dim
        out = get_array_module(a).take(rows(a), rows(index), axis=dim)
        return out.reshape(()) if a.ndim == 0 else out

    def backward(self, grad):
        (index,) = self.saved_tensors
        xp = get_array_module(grad)
        full = xp.zeros(self.shape or (1,), dtype=grad.dtype)
        xp.add.at(full, (slice(None),) * self.dim + (rows(index),), rows(grad))
        return full.reshape(self.shape), None


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of input at ``index`` (a vector of int64/int32 positions) along ``dim``:
    the output has input's shape with size len(index) along dim."""
    op = "index_select"
    check_tensor(index, "index", op)
    if index.dtype not in INDEX_DTYPES:
        raise RuntimeError(f"{op}: expected an index of dtype int64 or int32, got {index.dtype}")
    if index.ndim > 1:
        raise IndexError(f"{op}: index is supposed to be a vector, got shape {index.shape}")
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError(
            f"{op}: index to a 0-d tensor can have only 1 value, got {index.numel()}"
        )
    dim = single_dim(dim, input.ndim, op)
    check_bounds(index.data, (input.shape or (1,))[dim], dim, op)
    return IndexSelect.apply(input, index, dim=dim)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """``input[:, ..., index]`` with the index at dimension ``dim``: the slice at position
    ``index`` (negative counts from the end), with that dimension removed. ∂L/∂input is
    ∂L/∂out in that slice, zero elsewhere."""
    op = "select"
    if input.ndim == 0:
        raise IndexError(f"{op}: cannot be applied to a 0-d tensor")
    if isinstance(index, Tensor) and index.ndim == 0 and index.dtype.kind in "iu":
        index = int(index.item())
    if not isinstance(index, int | np.integer) or isinstance(index, bool):
        raise TypeError(f"{op}: expected index to be an int, got {type(index).__name__}")
    dim = single_dim(dim, input.ndim, op)
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"{op}: index {index} out of range for a tensor of shape {input.shape} at "
            f"dimension {dim}"
        )
    return getitem(input, (slice(None),) * dim + (int(index),))


def take(input: Tensor, index: Tensor) -> Tensor:
    """out[i] = input.flatten()[index[i]]: the elements of input at int64 positions of its
    row-major flattening (negative ones counting from the end), in index's shape. ∂L/∂input
    is ∂L/∂out added back at those positions (repeats summing)."""
    op = "take"
    check_tensor(index, "index", op)
    if index.dtype != np.int64:
        raise RuntimeError(f"{op}: expected an index of dtype int64, got {index.dtype}")
    size = input.numel()
    if index.numel():
        low, high = int(index.data.min()), int(index.data.max())
        if low < -size or high >= size:
            raise IndexError(
                f"{op}: index {low if low < -size else high} is out of range for a tensor of "
                f"{size} elements"
            )
        if low < 0:
            index = Tensor._make(
                get_array_module(index.data).where(index.data < 0, index.data + size, index.data)
            )
    return Gather.apply(input.reshape(-1), index, dim=0, flat=True).reshape(index.shape)


# ---- masks ------------------------------------------------------------------------------------


def _check_mask(mask, input: Tensor, op: str) -> tuple:
    """The shape input and mask broadcast to; a RuntimeError unless mask is a bool tensor."""
    check_tensor(mask, "mask", op)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a mask of dtype bool, got {mask.dtype}")
    try:
        return np.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise RuntimeError(
            f"{op}: mask of shape {mask.shape} does not broadcast with the input's shape "
            f"{input.shape}"
        ) from None


def _fill_tensor(value, input: Tensor, op: str) -> Tensor:
    """masked_fill's value as a 0-d tensor of input's dtype (a tensor stays differentiable)."""
    if not isinstance(value, Tensor):
        array = fill_value(value, input.dtype, op)
        return Tensor._make(get_array_module(input.data).asarray(array), False)
    if value.ndim:
        raise RuntimeError(
            f"{op}: expected a 0-dimensional value tensor, got {value.ndim} dimension(s)"
        )
    return _to_dtype(value, input.dtype)


def masked_fill(input: Tensor, mask: Tensor, value: float | Tensor) -> Tensor:
    """out = value where mask holds, else input (mask broadcast with input), in input's dtype:
    ``where(mask, value, input)``. ∂L/∂input is ∂L/∂out where mask is False; a 0-d tensor value
    receives Σ ∂L/∂out over the mask."""
    _check_mask(mask, input, "masked_fill")
    return where(mask, _fill_tensor(value, input, "masked_fill"), input)


def masked_fill_(self: Tensor, mask: Tensor, value: float | Tensor) -> Tensor:
    """In-place ``masked_fill`` (not recorded in the graph); mask broadcasts to self's shape."""
    op = "masked_fill_"
    if _check_mask(mask, self, op) != self.shape:
        raise RuntimeError(
            f"{op}: mask of shape {mask.shape} does not broadcast to the shape {self.shape}"
        )
    inplace.check_inplace(self, op, value)
    value = _fill_tensor(value, self, op).data
    filled = get_array_module(self.data).where(mask.data, value, self.data)
    return inplace.write_inplace(self, filled)


class MaskedSelect(Function):
    """out = the elements of a where mask holds (both broadcast), in row-major order, 1-D.
    ∂L/∂a: ∂L/∂out put back at those positions, zeros elsewhere, summed over broadcast dims."""

    def forward(self, a, mask):
        self.save_for_backward(mask)
        self.shape = a.shape
        xp = get_array_module(a)
        shape = np.broadcast_shapes(a.shape, mask.shape)
        return rows(xp.broadcast_to(a, shape))[rows(xp.broadcast_to(mask, shape))]

    def backward(self, grad):
        (mask,) = self.saved_tensors
        xp = get_array_module(grad)
        shape = np.broadcast_shapes(self.shape, mask.shape)
        full = xp.zeros(shape or (1,), dtype=grad.dtype)
        full[rows(xp.broadcast_to(mask, shape))] = grad
        return unbroadcast(full.reshape(shape), self.shape), None


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where the bool mask holds, as a 1-D tensor (mask and input
    broadcast against each other)."""
    _check_mask(mask, input, "masked_select")
    return MaskedSelect.apply(input, mask)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The positions of the nonzero elements: an int64 tensor of shape (count, ndim), one row
    per element in row-major order; with ``as_tuple``, one int64 vector per dimension (a 0-d
    input counts as a vector of one element)."""
    xp = get_array_module(input.data)
    if as_tuple:
        return tuple(Tensor._make(p.astype(np.int64), False) for p in rows(input.data).nonzero())
    return Tensor._make(xp.argwhere(input.data).astype(np.int64), False)


def __setitem__(self: Tensor, index, value) -> None:  # noqa: N807 - installed as the operator
    """``x[index] = value``: basic and advanced indexing, as PyTorch's."""
    inplace.check_inplace(self, "__setitem__", value)
    index = array_index(index)
    if type(self.data) is not np.ndarray:
        index = index_on_device_of(index, self.data)
    value = value.data if isinstance(value, Tensor) else value
    steps = ints_first(index)  # ints are basic indexing, as in PyTorch
    try:
        if steps is None:
            self.data[index] = value
        else:
            self.data[steps[0]][steps[1]] = value
    except (ValueError, IndexError) as error:
        raise RuntimeError(
            f"__setitem__: cannot assign a value of shape {np.shape(value)} into a tensor "
            f"of shape {self.shape} at {index!r}: {error}"
        ) from None
    self._version += 1
