"""Repetition and sliding windows: repeat, tile, repeat_interleave, unfold.

Each output element is a copy of one input element, so the gradient of an input element is the
sum of the gradients of all its copies: repeat sums the tiles back; repeat_interleave and unfold
pick elements by an index array and scatter-add the gradient back (``GetItem``), which sums
the copies a repeat made and the overlaps of windows.
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops.indexing import getitem
from aprende.ops.layout import movedim
from aprende.ops.shape import _shape_args, dim_index, reshape

TENSOR_METHODS = ("repeat", "tile", "repeat_interleave", "unfold")


class Repeat(Function):
    """y = a tiled ``sizes[i]`` times along dim i (a viewed with leading 1s to len(sizes)
    dims). ∂L/∂a: the gradient split into its tiles, (s₀, n₀, s₁, n₁, ..), summed over each sᵢ."""

    def forward(self, a, sizes=()):
        self.shape, self.sizes = a.shape, sizes
        padded = (1,) * (len(sizes) - a.ndim) + a.shape
        return get_array_module(a).tile(a.reshape(padded), sizes)

    def backward(self, grad):
        padded = (1,) * (len(self.sizes) - len(self.shape)) + self.shape
        tiles = [n for pair in zip(self.sizes, padded, strict=True) for n in pair]
        summed = grad.reshape(tiles).sum(axis=tuple(range(0, len(tiles), 2)))
        return (summed.reshape(self.shape),)


def repeat(input: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim i; extra leading sizes add dimensions:
    shape (2, 3).repeat(4, 1, 2) is (4, 2, 6)."""
    sizes = tuple(int(s) for s in _shape_args(sizes))
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"repeat: the number of repeat dims ({len(sizes)}) can not be smaller than the "
            f"number of dimensions of the tensor ({input.ndim}, shape {input.shape})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeat sizes must be non-negative, got {sizes}")
    return Repeat.apply(input, sizes=sizes)


def tile(input: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """``repeat`` with ``dims`` padded by leading 1s when it has fewer entries than the tensor
    has dimensions (shape (2, 3) tiled by (2,) is (2, 6))."""
    dims = _shape_args(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + tuple(dims))


def _repeat_counts(repeats: int | Tensor, length: int) -> np.ndarray:
    """The number of copies of each of ``length`` elements, checked as PyTorch checks them."""
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError(
                f"repeat_interleave: repeats must be a 0-d or 1-D tensor, got shape {repeats.shape}"
            )
        if repeats.dtype.kind not in "iu":
            raise RuntimeError(
                f"repeat_interleave: repeats must be an integer tensor, got {repeats.dtype}"
            )
        counts = np.asarray(repeats.tolist(), dtype=np.int64).reshape(-1)
    else:
        counts = np.array([int(repeats)])
    if counts.size == 1:
        counts = np.repeat(counts, length)
    elif counts.size != length:
        raise RuntimeError(
            f"repeat_interleave: repeats must have the same size as input along dim, but got "
            f"{counts.size} repeats for a dimension of length {length}"
        )
    if (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats can not be negative, got {counts}")
    return counts


def repeat_interleave(
    input: Tensor,
    repeats: int | Tensor | None = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """Repeat element j along ``dim`` ``repeats[j]`` times in place (``[a, b]`` with 2 gives
    ``[a, a, b, b]``); ``dim=None`` works on the flattened tensor. ``repeat_interleave(r)``
    alone is ``repeat_interleave(arange(len(r)), r)``. ∂L/∂a[j] is the sum of the gradients
    of its copies."""
    if repeats is None:
        counts = _repeat_counts(input, input.numel())
        values = np.repeat(np.arange(counts.size), counts)
        xp = get_array_module(input.data)
        return Tensor._make(xp.asarray(values, dtype=input.dtype), False)
    if dim is None:
        input, dim = reshape(input, -1), 0
    if input.ndim == 0:
        raise IndexError(f"repeat_interleave: dim {dim} given, but the tensor has no dimensions")
    axis = dim_index(dim, input.ndim, "repeat_interleave")
    length = input.shape[axis]
    counts = _repeat_counts(repeats, length)
    if output_size is not None and output_size != counts.sum():
        raise RuntimeError(
            f"repeat_interleave: invalid output_size, expected {counts.sum()} but got {output_size}"
        )
    source = np.repeat(np.arange(length), counts)  # which element each output element copies
    index = Tensor._make(get_array_module(input.data).asarray(source), False)
    return getitem(input, (slice(None),) * axis + (index,))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Sliding windows of ``size`` elements every ``step`` along ``dimension``: that dimension
    becomes the window count ⌊(n − size) / step⌋ + 1 and a new last dimension holds the
    window, y[.., w, .., k] = a[.., w·step + k, ..]. Overlapping windows share elements, whose
    gradients add up."""
    axis = dim_index(dimension, input.ndim, "unfold")
    length = input.shape[axis] if input.ndim else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(
            f"unfold: maximum size for tensor at dimension {dimension} is {length} but size "
            f"is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        return getitem(reshape(input, 1), slice(0, size))
    count = (length - size) // step + 1
    windows = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    index = Tensor._make(get_array_module(input.data).asarray(windows), False)
    picked = getitem(input, (slice(None),) * axis + (index,))  # (.., count, size, ..)
    return movedim(picked, axis + 1, -1)
