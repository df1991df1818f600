"""Layout operations: flip, rot90, roll, movedim, narrow, unflatten, meshgrid.

Each puts the same elements in other places, so its backward is the inverse permutation of the
gradient (a flip flips it back, a roll rolls it back by −shift); the rest are compositions of
permute, reshape, expand and indexing, whose gradients those nodes already move.
"""

from __future__ import annotations

from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops.indexing import getitem
from aprende.ops.shape import _shape_args, dim_index, dim_list, expand, permute, reshape, transpose

TENSOR_METHODS = (
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "roll",
    "movedim",
    "moveaxis",
    "swapaxes",
    "swapdims",
    "narrow",
    "unflatten",
)


class Flip(Function):
    """y = a reversed along ``dims``. A flip is its own inverse: ∂L/∂a = flip(∂L/∂y)."""

    def forward(self, a, dims=()):
        self.dims = dims
        return _reversed(a, dims).copy()  # PyTorch's flip copies

    def backward(self, grad):
        return (_reversed(grad, self.dims),)


def _reversed(a, dims: tuple):
    """A view of ``a`` read backwards along ``dims`` (an array even when 0-d: the leading
    Ellipsis keeps NumPy from returning a scalar)."""
    step = tuple(slice(None, None, -1) if i in dims else slice(None) for i in range(a.ndim))
    return a[(Ellipsis, *step)]


class Roll(Function):
    """y[(i + shift) mod n] = a[i] along each dim (over the flattened tensor when dims is
    None); ∂L/∂a = roll(∂L/∂y, −shift)."""

    def forward(self, a, shifts=(), dims=None):
        self.shifts, self.dims = shifts, dims
        return get_array_module(a).roll(a, shifts, axis=dims)

    def backward(self, grad):
        back = tuple(-s for s in self.shifts) if self.dims is not None else -self.shifts
        return (get_array_module(grad).roll(grad, back, axis=self.dims),)


def flip(input: Tensor, *dims: int | tuple[int, ...]) -> Tensor:
    """Reverse the order of the elements along each of ``dims``."""
    dims = _shape_args(dims)
    axes = dim_list(dims, input.ndim, "flip")
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dims {dims} name a dimension more than once")
    return Flip.apply(input, dims=tuple(axes) if input.ndim else ())


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor of at least 2 dimensions."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be at least 2-D, got shape {input.shape}")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor of at least 1 dimension."""
    if input.ndim < 1:
        raise RuntimeError("flipud: input must be at least 1-D, got a 0-d tensor")
    return flip(input, (0,))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by k·90° in the plane of ``dims``, from the first dim towards the second
    (k < 0 the other way; k is taken mod 4): k = 1 is flip(dims[1]) then transpose, k = 2
    flips both, k = 3 is flip(dims[0]) then transpose, k = 0 a copy."""
    if not isinstance(k, int):
        raise TypeError(f"rot90: expected k to be an int, got {type(k).__name__}")
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected 2 rotation dims, got {len(dims)} ({dims})")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected a tensor of at least 2 dims, got {input.ndim}")
    first, second = dim_list(dims, input.ndim, "rot90")
    if first == second:
        raise RuntimeError(f"rot90: expected two different rotation dims, got {dims}")
    turns = k % 4
    if turns == 0:
        return input.clone()
    if turns == 2:
        return flip(input, (first, second))
    return transpose(flip(input, (second if turns == 1 else first,)), first, second)


def roll(
    input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
) -> Tensor:
    """Shift the elements cyclically by ``shifts[i]`` along ``dims[i]``; with ``dims=None``
    the tensor is rolled as if flattened and keeps its shape."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll: without dims, shifts must be one number, got {len(shifts)} ({shifts})"
            )
        return Roll.apply(input, shifts=shifts[0], dims=None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if not shifts or len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dims must align, got {len(shifts)} shifts and {len(dims)} dims"
        )
    if input.ndim == 0:
        raise IndexError(f"roll: dimension {dims[0]} given, but the tensor has no dimensions")
    return Roll.apply(input, shifts=shifts, dims=tuple(dim_list(dims, input.ndim, "roll")))


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dimension ``source[i]`` to position ``destination[i]``; the other dimensions keep
    their order in the places left."""
    source_dims = dim_list(source, input.ndim, "movedim")
    target_dims = dim_list(destination, input.ndim, "movedim")
    if len(source_dims) != len(target_dims):
        raise RuntimeError(
            f"movedim: source {source} and destination {destination} must name the same number "
            "of dims"
        )
    for name, dims, given in (
        ("source", source_dims, source),
        ("destination", target_dims, destination),
    ):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in {name} ({given})")
    if input.ndim == 0:
        return input
    order = [None] * input.ndim
    for s, d in zip(source_dims, target_dims, strict=True):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in source_dims)
    return permute(input, tuple(next(rest) if o is None else o for o in order))


moveaxis = movedim
swapaxes = swapdims = transpose


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """``length`` elements along ``dim`` from ``start`` (negative counts from the end)."""
    if input.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    axis = dim_index(dim, input.ndim, "narrow")
    size, start = input.shape[axis], int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start {start} out of range for dimension {dim} of length {size} "
            f"(expected a value in [{-size}, {size}])"
        )
    start %= max(size, 1)
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > size:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension {dim}'s size ({size})"
        )
    return getitem(input, (slice(None),) * axis + (slice(start, start + length),))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one of them may be −1: inferred)."""
    sizes = tuple(sizes)
    if input.ndim == 0:
        raise RuntimeError("unflatten: cannot unflatten a 0-d tensor")
    axis = dim_index(dim, input.ndim, "unflatten")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    length = input.shape[axis]
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if sizes.count(-1) > 1 or (
        -1 in sizes and (known == 0 or length % known) or -1 not in sizes and known != length
    ):
        raise RuntimeError(
            f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({length}) of a tensor of shape {input.shape}"
        )
    sizes = tuple(length // known if s == -1 else s for s in sizes)
    return reshape(input, input.shape[:axis] + sizes + input.shape[axis + 1 :])


def meshgrid(*tensors: Tensor | Sequence[Tensor], indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors x₁..x_k (0-d counts as length 1): output i has shape
    (n₁, .., n_k) and G_i[j₁, .., j_k] = x_i[j_i]. ``indexing="xy"`` swaps the first two
    dimensions of every output (Cartesian, as NumPy's default); PyTorch's default is "ij"."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid: expected a non-empty sequence of tensors")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-d or 1-D tensors, got shape {t.shape}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(
                f"meshgrid: expects all tensors to have the same dtype, got {tensors[0].dtype} "
                f"and {t.dtype}"
            )
    positions = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        positions[0], positions[1] = 1, 0
    shape = [0] * len(tensors)
    for t, p in zip(tensors, positions, strict=True):
        shape[p] = t.numel()
    grids = []
    for t, p in zip(tensors, positions, strict=True):
        along = [1] * len(tensors)
        along[p] = -1
        grids.append(expand(reshape(t, tuple(along)), tuple(shape)))
    return tuple(grids)
