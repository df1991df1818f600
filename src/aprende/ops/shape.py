"""Shape operations: reshape, ravel, transpose, permute, squeeze, expand, broadcasting
(broadcast_to, broadcast_tensors, broadcast_shapes), numel; joining (cat, stack, hstack,
vstack, dstack, column_stack, atleast_nd) and splitting (split, chunk, unbind).

They move numbers around without changing them, so each backward moves the gradient back.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from aprende import autograd
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module
from aprende.ops.elementwise import _CATEGORY, _to_dtype
from aprende.ops.reduce import normalize_dims

TENSOR_METHODS = ("broadcast_to", "unbind", "ravel")


def dim_index(dim: int, ndim: int, op: str) -> int:
    """One dimension as a non-negative axis (IndexError out of range); a 0-d tensor takes
    0 and −1, as PyTorch."""
    axes = normalize_dims(dim, ndim, op)
    return 0 if axes is None else axes[0]


def dim_list(dims, ndim: int, op: str) -> list[int]:
    """Several dimensions as non-negative axes, in the order given (repeats kept: the caller
    says what a repeat means)."""
    return [dim_index(d, ndim, op) for d in ((dims,) if isinstance(dims, int) else dims)]


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


def ravel(input: Tensor) -> Tensor:
    """The elements as one vector (n,), in row-major order; a 0-d tensor gives shape (1,)."""
    return flatten(input)


def numel(input: Tensor) -> int:
    """The number of elements (a Python int): the product of the shape."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel: expected a Tensor, got {type(input).__name__}")
    return input.numel()


def permute(input: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """Reorder the dimensions: output dim i is input dim ``dims[i]``."""
    dims = _shape_args(dims)
    normalized = tuple(dim_list(dims, input.ndim, "permute")) if input.ndim else dims
    if len(dims) != input.ndim or len(set(normalized)) != len(normalized):
        raise RuntimeError(
            f"permute: expected a permutation of the {input.ndim} dimensions of a tensor of "
            f"shape {input.shape} (each once), got {dims}"
        )
    return Permute.apply(input, dims=normalized)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (also ``swapaxes``, ``swapdims``)."""
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    order = list(range(input.ndim))
    a, b = (normalize_dims(d, input.ndim, "transpose")[0] for d in (dim0, dim1))
    order[a], order[b] = order[b], order[a]
    return Permute.apply(input, dims=tuple(order))


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; a 0-d or 1-D tensor as it is."""
    if input.ndim > 2:
        raise RuntimeError(f"t: expected a tensor of at most 2 dimensions, got {input.ndim}")
    return transpose(input, 0, -1)


def squeeze(input: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given; a no-op if it is not 1)."""
    if dim is None:
        shape = tuple(s for s in input.shape if s != 1)
    else:
        dims = dim_list(dim, input.ndim, "squeeze")
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"squeeze: dim {dim} names a dimension more than once")
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
    """``expand`` to ``shape`` (−1 keeps a dimension's size)."""
    return expand(input, *tuple(shape))


def broadcast_shapes(*shapes: int | Sequence[int]) -> tuple[int, ...]:
    """The shape that tensors of these shapes broadcast to (an int n is the shape (n,)):
    shapes aligned at the right, each dimension the one size other than 1 (a tuple, where
    PyTorch gives a ``torch.Size``)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    for shape in shapes:
        if any(size < 0 for size in shape):
            raise ValueError(f"broadcast_shapes: a dimension has negative length in {shape}")
    try:
        return tuple(int(size) for size in np.broadcast_shapes(*shapes))
    except ValueError:
        listed = ", ".join(str(shape) for shape in shapes)
        raise RuntimeError(f"broadcast_shapes: shapes {listed} do not broadcast") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Each tensor expanded to the shape they broadcast to together (``broadcast_shapes``);
    the gradient of each is summed back to its own shape."""
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"broadcast_tensors: expected Tensors, got {type(t).__name__} at position "
                f"{position}"
            )
    try:
        shape = broadcast_shapes(*(t.shape for t in tensors))
    except RuntimeError:
        listed = ", ".join(str(t.shape) for t in tensors)
        raise RuntimeError(f"broadcast_tensors: shapes {listed} do not broadcast") from None
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


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


def _common_dtype(tensors) -> np.dtype:
    """PyTorch's promotion of tensors with dimensions: the highest category (bool < integer <
    floating) wins, and within it the widest dtype (int64 with float32 is float32, where NumPy
    gives float64)."""
    top = max(_CATEGORY[t.dtype.kind] for t in tensors)
    dtypes = [t.dtype for t in tensors if _CATEGORY[t.dtype.kind] == top]
    return functools.reduce(np.promote_types, dtypes)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; the others must match. Mixed dtypes promote
    as in PyTorch; a 1-D empty tensor joins anything (PyTorch's legacy rule)."""
    tensors = tuple(tensors)
    _check_joinable(tensors, "cat")
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {position}) cannot be concatenated; "
                "use stack, or reshape it to (1,)"
            )
    dtype = _common_dtype(tensors)
    joined = [t for t in tensors if t.shape != (0,)] or [tensors[0]]
    axis = dim_index(dim, joined[0].ndim, "cat")
    for t in joined[1:]:
        if t.ndim != joined[0].ndim or any(
            t.shape[i] != joined[0].shape[i] for i in range(t.ndim) if i != axis
        ):
            shapes = ", ".join(str(x.shape) for x in tensors)
            raise RuntimeError(
                f"cat: tensors must match in every dimension except {dim}, got shapes {shapes}"
            )
    empty = joined[0].shape[:axis] + (0,) + joined[0].shape[axis + 1 :]
    tensors = [reshape(t, empty) if t.shape == (0,) else t for t in tensors]
    return Cat.apply(*(_to_dtype(t, dtype) for t in tensors), dim=axis)


concatenate = concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = tuple(tensors)
    _check_joinable(tensors, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            shapes = ", ".join(str(x.shape) for x in tensors)
            raise RuntimeError(f"stack: expected tensors of equal shape, got {shapes}")
    return cat([unsqueeze(t, dim) for t in tensors], dim=dim)


def _at_least(ndim: int, tensors: tuple) -> Tensor | tuple[Tensor, ...]:
    """Each tensor viewed with at least ``ndim`` dimensions: a vector (n,) becomes (1, n),
    and for 3 dimensions (1, n, 1); a matrix (m, n) becomes (m, n, 1)."""
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    tensors = tensors[0] if len(tensors) == 1 and not single else tensors
    out = []
    for t in tensors:
        if t.ndim == 0:
            shape = (1,) * ndim
        elif t.ndim == 1 and ndim > 1:
            shape = (1, *t.shape) + (1,) * (ndim - 2)
        else:
            shape = t.shape + (1,) * (ndim - t.ndim)
        out.append(reshape(t, shape))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """A 0-d tensor as shape (1,); others unchanged (a tuple for several or a sequence)."""
    return _at_least(1, tensors)


def atleast_2d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """At least 2 dimensions: () → (1, 1), (n,) → (1, n)."""
    return _at_least(2, tensors)


def atleast_3d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """At least 3 dimensions: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    return _at_least(3, tensors)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the columns: ``cat`` along dim 1, or dim 0 for vectors (0-d as (1,))."""
    tensors = atleast_1d(tuple(tensors))
    _check_joinable(tensors, "hstack")
    return cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join as rows: ``cat`` along dim 0 of the tensors made at least 2-D."""
    tensors = atleast_2d(tuple(tensors))
    _check_joinable(tensors, "vstack")
    return cat(tensors, dim=0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join in depth: ``cat`` along dim 2 of the tensors made at least 3-D."""
    tensors = atleast_3d(tuple(tensors))
    _check_joinable(tensors, "dstack")
    return cat(tensors, dim=2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join as columns: 0-d and 1-D tensors become (n, 1) columns, then ``cat`` along dim 1."""
    tensors = tuple(tensors)
    _check_joinable(tensors, "column_stack")
    return cat([reshape(t, (t.numel(), 1)) if t.ndim < 2 else t for t in tensors], dim=1)


def split(
    input: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller; an empty dimension gives
    one empty piece), or of the given sizes."""
    axis = dim_index(dim, input.ndim, "split")
    if input.ndim == 0:
        raise RuntimeError("split: expected a tensor with at least one dimension, got a 0-d one")
    length = input.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split: split_size must be non-negative, got {size}")
        if size == 0 and length:
            raise RuntimeError(
                f"split: split_size can only be 0 if the dimension is empty, but dimension {dim} "
                f"has length {length}"
            )
        sizes = [size] * (length // size) if size else []
        if not sizes or length % size:
            sizes.append(length % size if size else 0)
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split: sizes {sizes} sum to {sum(sizes)}, but dimension {dim} has length {length}"
            )
    starts = np.cumsum([0, *sizes[:-1]], dtype=int).tolist()
    slices = [slice(start, start + size) for start, size in zip(starts, sizes, strict=True)]
    return pieces_of(input, [(slice(None),) * axis + (piece,) for piece in slices])


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ⌈n / chunks⌉ along ``dim`` (the last may be smaller, so there may be fewer
    than ``chunks``: 6 into 4 gives 2, 2, 2); an empty dimension gives ``chunks`` empty pieces."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: expected chunks greater than 0, got {chunks}")
    axis = dim_index(dim, input.ndim, "chunk")
    length = input.shape[axis] if input.ndim else 0
    if length == 0 and input.ndim:
        return split(input, [0] * chunks, dim)
    return split(input, -(-length // chunks), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension."""
    if input.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but the tensor has no dimensions")
    axis = dim_index(dim, input.ndim, "unbind")
    return pieces_of(input, [(slice(None),) * axis + (i,) for i in range(input.shape[axis])])


class Whole(Function):
    """The tensor that ``split``/``unbind`` cut: the identity, whose gradient the pieces
    write into one shared array (``PieceGradients``) instead of one full-size array each.
    A sequence of T steps then back-propagates in O(T) memory traffic, not O(T²)."""

    def forward(self, a, gradients=None):
        self.gradients = gradients
        return a

    def backward(self, grad):
        self.gradients.buffer = None  # the engine holds it now
        return (grad,)

    def release(self) -> None:
        """Nothing saved, nothing to free: the pieces may back-propagate again (as PyTorch's
        unbind, which saves no tensor)."""


class Piece(Function):
    """One piece ``a[index]`` (basic indexing: a view); ∂/∂a is ``grad`` at ``index`` and 0
    elsewhere, written into the whole's shared gradient array."""

    def forward(self, a, gradients=None, index=None):
        self.gradients, self.index = gradients, index
        return a[index]

    def backward(self, grad):
        return (self.gradients.add(self.index, grad),)

    def release(self) -> None:
        """Nothing saved: see ``Whole.release``."""


class PieceGradients:
    """The gradient of a tensor cut into disjoint pieces, gathered in one array per backward
    pass: the first piece to back-propagate in a pass allocates it and hands it on (the
    engine then holds it for the whole), the others write their part into it and hand on
    nothing. The whole, older than its pieces, runs after all of them, so the array is
    complete when it is read."""

    def __init__(self, shape: tuple, dtype):
        self.shape, self.dtype = shape, dtype
        self.buffer, self.pass_number = None, None

    def add(self, index, grad):
        first = self.pass_number != autograd.backward_pass_number()
        if first:
            self.pass_number = autograd.backward_pass_number()
            self.buffer = get_array_module(grad).zeros(self.shape, dtype=grad.dtype)
        self.buffer[index] = grad
        return self.buffer if first else None


def pieces_of(input: Tensor, indices: list) -> tuple[Tensor, ...]:
    """``input[index]`` for each of the disjoint basic ``indices``, sharing one gradient
    array when a gradient is needed (see ``Whole``)."""
    if not (autograd.is_grad_enabled() and input.requires_grad):
        return tuple(input[index] for index in indices)
    gradients = PieceGradients(input.shape, input.dtype)
    whole = Whole.apply(input, gradients=gradients)
    return tuple(Piece.apply(whole, gradients=gradients, index=index) for index in indices)
