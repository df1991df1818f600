"""Indexing: ``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks,
read as PyTorch reads them (ints are basic indexing, also beside index arrays).

The arrays in an index (integer or boolean tensors, lists, NumPy arrays) are inputs of the
graph node, not options: they are saved for backward, so changing one in place before backward
raises instead of scattering the gradient to the wrong elements.
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module

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
    try:
        return GetItem.apply(input, *arrays, template=template, as_tuple=as_tuple)
    except (IndexError, RuntimeError) as error:
        shown = _join_index(template, [a.data for a in arrays], as_tuple)
        raise IndexError(
            f"index {shown!r} is invalid for a tensor of shape {input.shape}: {error}"
        ) from None
