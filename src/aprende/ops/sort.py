"""Sorting and searching: sort, argsort, msort, topk, kthvalue, unique, searchsorted.

Orders follow PyTorch: nan sorts as the largest value, and equal elements keep their original
order (a stable sort; PyTorch guarantees it only with ``stable=True``, and so do the indices of
``topk`` and ``kthvalue`` here, which PyTorch leaves unspecified among ties). Values picked
along a dim carry the gradient back to the positions they came from (``SelectAlongDim``).
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.ops.reduce import ValuesIndices, normalize_dims, select_along_dim

TENSOR_METHODS = ("sort", "argsort", "msort", "topk", "kthvalue", "unique")


def stable_argsort(data, axis: int, descending: bool = False):
    """Indices that sort ``data`` along ``axis``, ties in their original order, nan last
    (first when descending). Descending sorts the reversed array ascending and reverses the
    result back, so that ties stay in their original order."""
    xp = get_array_module(data)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    flipped = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1) - xp.flip(flipped, axis)


def _dim(input: Tensor, dim: int, op: str) -> int:
    """``dim`` as a non-negative axis; 0 for a 0-d tensor (PyTorch takes dim 0 or −1 there)."""
    return normalize_dims(dim, input.ndim, op)[0] if input.ndim else 0


def _on_one_dim(input: Tensor, pick) -> ValuesIndices:
    """Run ``pick`` (a 1-d tensor → (values, indices)) on a 0-d tensor seen as one element;
    both results are 0-d, as PyTorch's (keepdim or not)."""
    values, indices = pick(input.reshape(1))
    return ValuesIndices(values.reshape(()), indices.reshape(()))


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> ValuesIndices:
    """``(values, indices)``: the elements along ``dim`` in ascending order (descending when
    asked), ``values = input.gather(dim, indices)``; ∂/∂input scatters the gradient back
    through ``indices``. Always stable (``stable`` is accepted for PyTorch's signature)."""
    if input.ndim == 0:
        return _on_one_dim(input, lambda flat: sort(flat, 0, descending))
    axis = _dim(input, dim, "sort")
    return select_along_dim(input, stable_argsort(input.data, axis, descending), axis)


def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dimension (``sort(input, dim=0).values``)."""
    return sort(input, 0).values


def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> ValuesIndices:
    """``(values, indices)`` of the ``k`` largest elements along ``dim`` (the smallest when
    ``largest=False``), always in sorted order (``sorted=False`` allows any order, so this one
    too); nan counts as the largest. The gradient goes back to the chosen positions."""
    if input.ndim == 0:
        return _on_one_dim(input, lambda flat: topk(flat, k, 0, largest))
    axis = _dim(input, dim, "topk")
    if not 0 <= k <= input.shape[axis]:
        raise RuntimeError(
            f"topk(): selected index k={k} out of range for a dimension of size {input.shape[axis]}"
        )
    order = stable_argsort(input.data, axis, descending=largest)
    xp = get_array_module(input.data)
    return select_along_dim(input, xp.take(order, xp.arange(k), axis=axis), axis)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """``(values, indices)`` of the k-th smallest element along ``dim`` (k counts from 1; nan
    counts as the largest); the gradient goes to the returned index."""
    axis = _dim(input, dim, "kthvalue")
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(
            f"kthvalue(): selected number k={k} out of range for dimension {dim} of size {size}"
        )
    if input.ndim == 0:
        return _on_one_dim(input, lambda flat: kthvalue(flat, k, 0, keepdim=True))
    order = stable_argsort(input.data, axis)
    xp = get_array_module(input.data)
    return select_along_dim(input, xp.take(order, xp.arange(k - 1, k), axis=axis), axis, keepdim)


def unique(
    input: Tensor,
    sorted: bool = True,  # noqa: A002 - PyTorch's name
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """The distinct elements in ascending order (distinct slices along ``dim`` when given);
    with ``return_inverse`` where each element went (input = output[inverse]), with
    ``return_counts`` how often each occurs. nan values stay distinct, as in PyTorch. Not
    differentiable. Always sorted (``sorted`` is accepted for PyTorch's signature)."""
    xp = get_array_module(input.data)
    data = input.data
    options = {"return_inverse": True, "return_counts": True}
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), **options, equal_nan=False)
        inverse = inverse.reshape(data.shape)
    else:
        axis = _dim(input, dim, "unique")
        values, inverse, counts = xp.unique(data, axis=axis, **options, equal_nan=False)
        inverse = inverse.reshape(-1)
    results = [Tensor._make(values, False)]
    if return_inverse:
        results.append(Tensor._make(inverse.astype(np.int64), False))
    if return_counts:
        results.append(Tensor._make(counts.astype(np.int64), False))
    return results[0] if len(results) == 1 else tuple(results)


def searchsorted(
    sorted_sequence: Tensor,
    input: Tensor | float | int,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each value v, the index i such that inserting v at i keeps the innermost dimension
    of ``sorted_sequence`` sorted: the first i with seq[i] ≥ v (``side="left"``), or > v
    (``right=True`` / ``side="right"``). A sequence with more than one dimension is searched
    row by row: its leading dimensions must equal those of ``input``. ``sorter`` gives the
    indices that sort an unsorted sequence."""
    if side is not None:
        if side not in ("left", "right") or (right and side == "left"):
            raise RuntimeError(
                f"searchsorted(): side must be 'left' or 'right' and agree with right={right}, "
                f"got side={side!r}"
            )
        right = side == "right"
    xp = get_array_module(sorted_sequence.data)
    sequence = sorted_sequence.data
    if sorter is not None:
        sequence = xp.take_along_axis(sequence, sorter.data, axis=-1)
    values = input.data if isinstance(input, Tensor) else xp.asarray(input)
    dtype = np.int32 if out_int32 else np.int64
    if sequence.ndim == 1:
        found = xp.searchsorted(sequence, values, side="right" if right else "left")
        return Tensor._make(xp.asarray(found).astype(dtype), False)
    if sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "searchsorted(): the boundaries must be 1-d or have the leading dimensions of the "
            f"input: got boundaries of shape {tuple(sequence.shape)} and input of shape "
            f"{tuple(values.shape)}"
        )
    # Row by row without a loop: count the boundaries before each value (a sorted row makes
    # that count the insertion index).
    before = xp.less_equal if right else xp.less
    found = before(sequence[..., None, :], values[..., :, None]).sum(axis=-1)
    return Tensor._make(found.astype(dtype), False)
