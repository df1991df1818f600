"""Shape operations: reshape, transpose, permute, squeeze, expand, cat, stack, split.

They move numbers around without changing them, so each backward moves the gradient back.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module
from aprende.ops.reduce import normalize_dims


def _shape_args(shape: tuple) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    """The same elements in another shape; the gradient is reshaped back."""

    def forward(self, a, shape=()):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class Permute(Function):
    """The dimensions reordered; the gradient takes the inverse permutation."""

    def forward(self, a, dims=()):
        self.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    def backward(self, grad):
        return (grad.transpose(self.inverse),)


class Expand(Function):
    """A broadcast view to a larger shape; the gradient is summed back to the input's shape."""

    def forward(self, a, shape=()):
        self.shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    def backward(self, grad):
        return (unbroadcast(grad, self.shape),)


def reshape(input: Tensor, *shape: int | tuple[int, ...]) -> Tensor:
    """The same elements in a new shape (one dimension may be −1: inferred)."""
    shape = _shape_args(shape)
    try:
        new_shape = tuple(int(s) for s in shape)
        if new_shape.count(-1) > 1:
            raise ValueError("only one dimension can be inferred")
        known = int(np.prod([s for s in new_shape if s != -1]))
        if -1 in new_shape:
            if known == 0 or input.numel() % known:
                raise ValueError("sizes do not divide")
            new_shape = tuple(input.numel() // known if s == -1 else s for s in new_shape)
        if int(np.prod(new_shape)) != input.numel():
            raise ValueError("sizes differ")
    except ValueError:
        raise RuntimeError(
            f"reshape: shape {shape} is invalid for a tensor of shape {input.shape} "
            f"({input.numel()} elements)"
        ) from None
    if new_shape == input.shape:
        return input
    return Reshape.apply(input, shape=new_shape)


view = reshape


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = (normalize_dims(d, input.ndim, "flatten")[0] for d in (start_dim, end_dim))
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape[:start] + (-1,) + input.shape[end + 1 :]
    return reshape(input, *shape)


def permute(input: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """Reorder the dimensions: output dim i is input dim ``dims[i]``."""
    dims = _shape_args(dims)
    normalized = tuple(d % max(input.ndim, 1) for d in dims)
    if sorted(normalized) != list(range(input.ndim)):
        raise RuntimeError(
            f"permute: expected a permutation of {input.ndim} dimensions, got {dims}"
        )
    return Permute.apply(input, dims=normalized)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    order = list(range(input.ndim))
    a, b = (normalize_dims(d, input.ndim, "transpose")[0] for d in (dim0, dim1))
    order[a], order[b] = order[b], order[a]
    return Permute.apply(input, dims=tuple(order))


def squeeze(input: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given; a no-op if it is not 1)."""
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        dims = normalize_dims(dim, input.ndim, "squeeze") or ()
        shape = tuple(s for i, s in enumerate(input.shape) if not (i in dims and s == 1))
    return reshape(input, shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    if not -input.ndim - 1 <= dim <= input.ndim:
        raise IndexError(
            f"unsqueeze: dimension {dim} out of range for a tensor of {input.ndim} dimensions "
            f"(expected a value in [{-input.ndim - 1}, {input.ndim}])"
        )
    dim = dim % (input.ndim + 1)
    return reshape(input, input.shape[:dim] + (1,) + input.shape[dim:])


def expand(input: Tensor, *sizes: int | tuple[int, ...]) -> Tensor:
    """Broadcast to a larger shape without copying (−1 keeps a dimension's size)."""
    sizes = _shape_args(sizes)
    extra = len(sizes) - input.ndim
    if extra < 0:
        raise RuntimeError(f"expand: cannot expand shape {input.shape} to fewer dims {sizes}")
    shape = tuple(
        input.shape[i - extra] if s == -1 and i >= extra else s for i, s in enumerate(sizes)
    )
    try:
        valid = np.broadcast_shapes(input.shape, shape) == shape
    except ValueError:
        valid = False
    if not valid:
        raise RuntimeError(f"expand: cannot expand shape {input.shape} to {sizes}")
    return Expand.apply(input, shape=shape)


def broadcast_to(input: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``expand`` with NumPy's name."""
    return expand(input, *tuple(shape))


# ---- joining and splitting --------------------------------------------------------------------


class Cat(Function):
    """Tensors joined along ``dim``; each input gets its slice of the gradient back."""

    def forward(self, *arrays, dim=0):
        self.dim = dim
        self.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1].tolist()  # split points
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    def backward(self, grad):
        return tuple(get_array_module(grad).split(grad, self.bounds, axis=self.dim))


def _check_joinable(tensors, op: str) -> None:
    if not tensors:
        raise RuntimeError(f"{op}: expected a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of Tensors, got {type(t).__name__}")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; the others must match."""
    tensors = tuple(tensors)
    _check_joinable(tensors, "cat")
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {position}) cannot be concatenated; "
                "use stack, or reshape it to (1,)"
            )
    axis = normalize_dims(dim, tensors[0].ndim, "cat")[0]
    for t in tensors[1:]:
        if t.ndim != tensors[0].ndim or any(
            t.shape[i] != tensors[0].shape[i] for i in range(t.ndim) if i != axis
        ):
            shapes = ", ".join(str(x.shape) for x in tensors)
            raise RuntimeError(
                f"cat: tensors must match in every dimension except {dim}, got shapes {shapes}"
            )
    return Cat.apply(*tensors, dim=axis)


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = tuple(tensors)
    _check_joinable(tensors, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            shapes = ", ".join(str(x.shape) for x in tensors)
            raise RuntimeError(f"stack: expected tensors of equal shape, got {shapes}")
    return cat([unsqueeze(t, dim) for t in tensors], dim=dim)


def split(
    input: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    axis = normalize_dims(dim, input.ndim, "split")[0]
    length = input.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise RuntimeError(
                f"split: sizes {sizes} sum to {sum(sizes)}, but dimension {dim} has length {length}"
            )
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(input[index])
        start += size
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = input.shape[normalize_dims(dim, input.ndim, "chunk")[0]]
    return split(input, max(-(-length // chunks), 1), dim)
