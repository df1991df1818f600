"""Gather and scatter: reading and writing a tensor at the positions an index tensor names along
one dimension, as ``torch.gather`` / ``torch.scatter`` (dim = 0 shown; any dim alike)::

    gather:          out[i][j] = input[index[i][j]][j]
    scatter:         out[index[i][j]][j] = src[i][j]            (out starts as a copy of input)
    scatter_reduce:  out[p] = reduce(input[p], every src[i][j] with (index[i][j], j) = p)

Along every other dimension the index may be shorter than the input (and than ``src``): only its
extent is read or written. Index tensors are inputs of the graph nodes, saved for backward, so
changing one in place before backward raises instead of sending gradients to the wrong places.
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module, is_floating
from aprende.ops import inplace
from aprende.ops._checks import check_tensor
from aprende.ops.reduce import normalize_dims

TENSOR_METHODS = (
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "take_along_dim",
    "scatter_",
    "scatter_add_",
)

INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))
#: scatter_reduce's reductions and the ufunc that folds one src element into the result.
_FOLD = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def single_dim(dim: int, ndim: int, op: str) -> int:
    """``dim`` as an axis in [0, ndim); a 0-d tensor takes 0 or −1, as a vector of one element."""
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
        raise TypeError(f"{op}: expected dim to be an int, got {dim!r}")
    axes = normalize_dims(dim, ndim, op)
    return axes[0] if axes else 0


def rows(array):
    """A 0-d array as one of shape (1,): a 0-d tensor is indexed like a vector of one element."""
    return array.reshape(1) if array.ndim == 0 else array


def coordinates(index, dim: int, xp) -> tuple:
    """The positions ``index`` names, as a NumPy index: its values along ``dim``, and along each
    other dimension d the position itself (an arange shaped to broadcast on d). ``a[coords]``
    is ``gather(a, dim, index)``; ``ufunc.at(a, coords, src)`` is a scatter-reduce."""
    ndim = index.ndim
    return tuple(
        index if d == dim else xp.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1))
        for d, n in enumerate(index.shape)
    )


def _leading(src, shape: tuple):
    """The leading block of ``src`` of ``shape``: a scatter reads src only where index is."""
    return src[tuple(slice(0, n) for n in shape)]


def _widen(part, shape: tuple, xp):
    """The gradient of src's leading block, padded with zeros back to src's shape."""
    if part.shape == shape:
        return part
    full = xp.zeros(shape, dtype=part.dtype)
    full[tuple(slice(0, n) for n in part.shape)] = part
    return full


def check_bounds(index, size: int, dim: int, op: str) -> None:
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= size:
            raise RuntimeError(
                f"{op}: index {low if low < 0 else high} is out of bounds for dimension {dim} "
                f"with size {size}"
            )


def _check_index(input: Tensor, dim: int, index, op: str, src: Tensor | None = None) -> int:
    """The axis ``dim`` names, after PyTorch's checks of ``index`` (and ``src``): an int32/int64
    tensor with the input's number of dimensions, no larger than the input apart from ``dim``
    (nor than src), every value in [0, input.size(dim))."""
    check_tensor(index, "index", op)
    if index.dtype not in INDEX_DTYPES:
        raise RuntimeError(f"{op}: expected an index of dtype int64 or int32, got {index.dtype}")
    dim = single_dim(dim, input.ndim, op)
    shape, index_shape = input.shape or (1,), index.shape or (1,)
    if len(index_shape) != len(shape) or (src is not None and len(src.shape or (1,)) != len(shape)):
        raise RuntimeError(
            f"{op}: index and input must have the same number of dimensions"
            + (" as src" if src is not None else "")
            + f", got index of shape {index.shape} and input of shape {input.shape}"
            + (f" and src of shape {src.shape}" if src is not None else "")
        )
    larger = any(n > m for d, (n, m) in enumerate(zip(index_shape, shape, strict=True)) if d != dim)
    if larger or (src is not None and any(map(int.__gt__, index_shape, src.shape or (1,)))):
        raise RuntimeError(
            f"{op}: expected index of shape {index.shape} to be no larger than the input "
            f"{input.shape} apart from dimension {dim}"
            + (f" and no larger than src {src.shape}" if src is not None else "")
        )
    check_bounds(index.data, shape[dim], dim, op)
    return dim


def fill_value(value, dtype: np.dtype, op: str):
    """A Python number as a 0-d array of ``dtype`` (floats truncate into integers, as PyTorch);
    a number an integer dtype cannot hold is a RuntimeError, not a silent wrap."""
    if not isinstance(value, bool | int | float):
        raise TypeError(f"{op}: expected value to be a number, got {type(value).__name__}")
    if dtype.kind in "iu" and not isinstance(value, bool):
        limits = np.iinfo(dtype)
        if not (math.isfinite(value) and limits.min <= value <= limits.max):
            raise RuntimeError(
                f"{op}: value {value} cannot be converted to {dtype} without overflow"
            )
    return np.asarray(value).astype(dtype)


# ---- gather ---------------------------------------------------------------------------------


class Gather(Function):
    """out[i][j] = a[index[i][j]][j] (dim 0; likewise along any dim). ∂L/∂a is zero but at the
    positions read, which receive the gradient of every output that read them (a scatter-add).

    For take_along_dim the index is read flattened (``flat``), or broadcast against a's
    broadcast ``shape`` apart from ``dim`` with negative values counted from the end; the
    gradient is then summed back over the broadcast dimensions."""

    def forward(self, a, index, dim=0, shape=None, flat=False):
        self.save_for_backward(index)
        self.a_shape, self.dim, self.shape, self.flat = a.shape, dim, shape, flat
        xp = get_array_module(a)
        a = rows(a) if shape is None else xp.broadcast_to(a, shape)
        picked = a[coordinates(self._index(index, xp), dim, xp)]
        return picked.reshape(index.shape) if shape is None and not flat else picked

    def _index(self, index, xp):
        """The index as read: as given, flattened, or broadcast with negatives wrapped."""
        if self.flat:
            return index.reshape(-1)
        if self.shape is None:
            return rows(index)
        d, shape = self.dim, self.shape
        index = xp.broadcast_to(index, shape[:d] + (index.shape[d],) + shape[d + 1 :])
        return xp.where(index < 0, index + shape[d], index)

    def backward(self, grad):
        (index,) = self.saved_tensors
        xp = get_array_module(grad)
        full = xp.zeros(self.shape or self.a_shape or (1,), dtype=grad.dtype)
        xp.add.at(full, coordinates(self._index(index, xp), self.dim, xp), rows(grad))
        return unbroadcast(full.reshape(self.shape or self.a_shape), self.a_shape), None


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[index[i][j]][j] for dim 0 (input[i][index[i][j]] for dim 1, ...): the
    output has index's shape. The gradient is the scatter-add of ∂L/∂out at index (dense:
    ``sparse_grad`` is accepted for PyTorch's signature and changes nothing)."""
    dim = _check_index(input, dim, index, "gather")
    return Gather.apply(input, index, dim=dim)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """NumPy's ``take_along_axis``: ``gather`` after broadcasting input and indices against each
    other apart from ``dim``, negative indices counting from the end. Without ``dim``, both are
    flattened: ``input.flatten().gather(0, indices.flatten())``."""
    op = "take_along_dim"
    check_tensor(indices, "indices", op)
    if indices.dtype != np.int64:
        raise RuntimeError(f"{op}: expected indices of dtype int64, got {indices.dtype}")
    if dim is None:
        check_bounds(indices.data, input.numel(), 0, op)
        return Gather.apply(input.reshape(-1), indices, dim=0, flat=True)
    if input.ndim != indices.ndim:
        raise RuntimeError(
            f"{op}: input and indices should have the same number of dimensions, got "
            f"{input.ndim} for input and {indices.ndim} for indices"
        )
    if input.ndim == 0:
        return gather(input, dim, indices)
    dim = single_dim(dim, input.ndim, op)
    size = input.shape[dim]
    try:
        shape = np.broadcast_shapes(
            input.shape[:dim] + (1,) + input.shape[dim + 1 :],
            indices.shape[:dim] + (1,) + indices.shape[dim + 1 :],
        )
    except ValueError:
        raise RuntimeError(
            f"{op}: input of shape {input.shape} and indices of shape {indices.shape} do not "
            f"broadcast apart from dimension {dim}"
        ) from None
    if indices.numel():
        low, high = int(indices.data.min()), int(indices.data.max())
        if low < -size or high >= size:
            raise RuntimeError(
                f"{op}: index {low if low < -size else high} is out of bounds for dimension "
                f"{dim} with size {size}"
            )
    shape = shape[:dim] + (size,) + shape[dim + 1 :]
    return Gather.apply(input, indices, dim=dim, shape=shape)


# ---- scatter ---------------------------------------------------------------------------------


def _scatter_rows(a, index, src, dim: int, value, reduce: str | None):
    """``scatter``'s result on arrays: a copy of a with src (or value) written at index, or
    added / multiplied in with reduce="add" / "multiply"."""
    xp = get_array_module(a)
    out = rows(a).copy()
    index = rows(index)
    coords = coordinates(index, dim, xp)
    values = xp.asarray(value) if src is None else _leading(rows(src), index.shape)
    if reduce is None:
        out[coords] = values
    else:
        ufunc = xp.add if reduce == "add" else xp.multiply
        ufunc.at(out, coords, xp.broadcast_to(values, index.shape))
    return out.reshape(a.shape)


class Scatter(Function):
    """out = a with out[index[i][j]][j] = src[i][j] (dim 0), or a number ``value`` there.
    ∂L/∂a is g with zeros where something was written; ∂L/∂src = gather(g, dim, index)."""

    def forward(self, a, index, *src, dim=0, value=None, reduce=None):
        self.save_for_backward(index)
        self.shape, self.dim, self.reduce = a.shape, dim, reduce
        self.src_shape = src[0].shape if src else None
        return _scatter_rows(a, index, src[0] if src else None, dim, value, reduce)

    def backward(self, grad):
        if self.reduce is not None:
            raise RuntimeError(
                f"scatter: the derivative with reduce={self.reduce!r} is not implemented (as in "
                "PyTorch); use scatter_add or scatter_reduce"
            )
        (index,) = self.saved_tensors
        xp = get_array_module(grad)
        coords = coordinates(rows(index), self.dim, xp)
        grad_a = rows(grad).copy()
        grad_a[coords] = 0
        grads = [grad_a.reshape(self.shape), None]
        if self.src_shape is not None:
            src_rows = self.src_shape or (1,)
            grads.append(_widen(rows(grad)[coords], src_rows, xp).reshape(self.src_shape))
        return tuple(grads)


def _src_or_value(src, value, op: str) -> tuple[Tensor | None, object]:
    """PyTorch's two overloads: a tensor ``src``, or a number given as src or as ``value``."""
    if isinstance(src, bool | int | float) and value is None:
        return None, src
    if (src is None) == (value is None):
        raise TypeError(f"{op}: expected either src (a tensor) or value (a number)")
    if src is not None:
        check_tensor(src, "src", op)
    return src, value


def _check_same_dtype(input: Tensor, src: Tensor | None, op: str) -> None:
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError(
            f"{op}: expected src to have the input's dtype {input.dtype}, got {src.dtype}"
        )


def _scatter_args(input: Tensor, dim, index, src, value, reduce, op: str) -> tuple:
    """scatter's arguments checked: (dim as an axis, src or None, value as a 0-d array or None)."""
    src, value = _src_or_value(src, value, op)
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(
            f"{op}: reduce argument must be either 'add' or 'multiply', got {reduce!r}"
        )
    _check_same_dtype(input, src, op)
    dim = _check_index(input, dim, index, op, src)
    return dim, src, None if value is None else fill_value(value, input.dtype, op)


def scatter(
    input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None
) -> Tensor:
    """A copy of input with out[index[i][j]][j] = src[i][j] (dim 0; likewise along any dim), or
    the number ``value`` at those positions; ``reduce="add"`` / ``"multiply"`` combines instead
    of overwriting (no gradient then, as in PyTorch). With repeated indices one of the writes
    wins. ∂L/∂input is ∂L/∂out with zeros where something was written; ∂L/∂src is
    gather(∂L/∂out, dim, index)."""
    dim, src, value = _scatter_args(input, dim, index, src, value, reduce, "scatter")
    inputs = (input, index) if src is None else (input, index, src)
    return Scatter.apply(*inputs, dim=dim, value=value, reduce=reduce)


# ---- scatter_reduce --------------------------------------------------------------------------


def _counts(shape: tuple, coords: tuple, include_self: bool, dtype, xp):
    """How many values each position of mean's result averages (1 where none: left as is)."""
    count = xp.full(shape, 1 if include_self else 0, dtype=dtype)
    xp.add.at(count, coords, 1)
    count[count == 0] = 1
    return count


def _identity(reduce: str, dtype: np.dtype):
    """The start of a fold that ignores the input (include_self=False)."""
    if reduce in ("sum", "mean", "prod"):
        return int(reduce == "prod")
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    limits = np.iinfo(dtype) if dtype.kind in "iu" else None
    low, high = (limits.min, limits.max) if limits else (False, True)
    return low if reduce == "amax" else high


def _reduce_rows(a, coords: tuple, part, reduce: str, include_self: bool):
    """scatter_reduce on arrays of at least one dimension: every element of ``part`` folded into
    a copy of ``a`` at its position in ``coords``; mean divides by the count (floor division for
    integers, as PyTorch)."""
    xp = get_array_module(a)
    out = a.copy()
    if not include_self:
        out[coords] = _identity(reduce, a.dtype)
    getattr(xp, _FOLD[reduce]).at(out, coords, part)
    if reduce == "mean":
        count = _counts(a.shape, coords, include_self, a.dtype, xp)
        out = out / count if is_floating(a.dtype) else out // count
    return out


def _scatter_reduce_arrays(a, index, src, dim: int, reduce: str, include_self: bool):
    """scatter_reduce's result on arrays of any shape (0-d included)."""
    index_rows = rows(index)
    coords = coordinates(index_rows, dim, get_array_module(a))
    part = _leading(rows(src), index_rows.shape)
    return _reduce_rows(rows(a), coords, part, reduce, include_self).reshape(a.shape)


class ScatterReduce(Function):
    """out[p] = reduce(a[p] (with include_self), src[i][j] for every (i, j) that index sends to
    p); PyTorch's gradients, g = ∂L/∂out:

    - sum: ∂/∂a = g, ∂/∂src = gather(g); mean: both divided by the count of each position;
    - amax / amin: g shared evenly among the k values (a's and src's) equal to the result;
    - prod: ∂/∂a = g · out / a and ∂/∂src = gather(g · out) / src, with each zero's gradient
      the product of the others (taken by folding again with that zero set to 1).

    Without include_self, a's gradient is zero wherever src was folded in."""

    def forward(self, a, index, src, dim=0, reduce="sum", include_self=True):
        out = _scatter_reduce_arrays(a, index, src, dim, reduce, include_self)
        saved = (index,) if reduce in ("sum", "mean") else (index, a, src, out)
        self.save_for_backward(*saved)
        self.shape, self.src_shape, self.dim = a.shape, src.shape, dim
        self.reduce, self.include_self = reduce, include_self
        return out

    def backward(self, grad):
        index, *arrays = self.saved_tensors
        xp = get_array_module(grad)
        index = rows(index)
        coords = coordinates(index, self.dim, xp)
        g = rows(grad)
        if self.reduce == "sum":
            grad_a, grad_part = g, g[coords]
        elif self.reduce == "mean":
            grad_a = g / _counts(g.shape, coords, self.include_self, g.dtype, xp)
            grad_part = grad_a[coords]
        else:
            a, src, out = (rows(array) for array in arrays)
            part = _leading(src, index.shape)
            local = self._prod if self.reduce == "prod" else self._extremum
            grad_a, grad_part = local(g, a, part, out, coords, xp)
        if not self.include_self:
            grad_a = grad_a.copy()
            grad_a[coords] = 0
        grad_src = _widen(grad_part, self.src_shape or (1,), xp).reshape(self.src_shape)
        return grad_a.reshape(self.shape), None, grad_src

    @staticmethod
    def _extremum(g, a, part, out, coords, xp):
        a_hit, part_hit = a == out, part == out[coords]
        ties = a_hit.astype(g.dtype)
        xp.add.at(ties, coords, part_hit.astype(g.dtype))
        with np.errstate(divide="ignore", invalid="ignore"):  # nan results: nan, as PyTorch
            shared = g / ties
            return a_hit * shared, part_hit * shared[coords]

    def _prod(self, g, a, part, out, coords, xp):
        fold = self.include_self
        with np.errstate(divide="ignore", invalid="ignore"):
            a_nonzero = xp.where(a == 0, 1, a).astype(a.dtype)
            grad_a = g * _reduce_rows(a_nonzero, coords, part, "prod", fold) / a_nonzero
            part_zero = part == 0
            zeros_there = xp.zeros(a.shape, dtype=g.dtype)
            xp.add.at(zeros_there, coords, part_zero.astype(g.dtype))
            lone_zero = part_zero & (zeros_there[coords] == 1)
            without = _reduce_rows(
                a, coords, xp.where(lone_zero, 1, part).astype(a.dtype), "prod", fold
            )
            grad_part = xp.where(
                lone_zero,
                (g * without)[coords],
                (g * out)[coords] / xp.where(part_zero, 1, part).astype(a.dtype),
            )
        return grad_a, grad_part


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """out[p] = reduce over input[p] (when include_self) and every src[i][j] that index sends to
    position p (dim 0: p = (index[i][j], j)); reduce is "sum", "prod", "mean", "amax" or
    "amin". Differentiable in input and src (see ``ScatterReduce``)."""
    op = "scatter_reduce"
    if reduce not in _FOLD:
        raise RuntimeError(
            f"{op}: reduce argument must be either sum, prod, mean, amax or amin, got {reduce!r}"
        )
    if not isinstance(include_self, bool):
        raise TypeError(f"{op}: include_self must be a bool, got {type(include_self).__name__}")
    check_tensor(src, "src", op)
    _check_same_dtype(input, src, op)
    dim = _check_index(input, dim, index, op, src)
    return ScatterReduce.apply(input, index, src, dim=dim, reduce=reduce, include_self=include_self)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src[i][j] added at out[index[i][j]][j] (dim 0), repeated indices
    adding up: ``scatter_reduce(input, dim, index, src, "sum")``. ∂L/∂input = ∂L/∂out,
    ∂L/∂src = gather(∂L/∂out, dim, index)."""
    check_tensor(src, "src", "scatter_add")
    _check_same_dtype(input, src, "scatter_add")
    dim = _check_index(input, dim, index, "scatter_add", src)
    return ScatterReduce.apply(input, index, src, dim=dim, reduce="sum", include_self=True)


# ---- in place ---------------------------------------------------------------------------------


def scatter_(
    self: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None
) -> Tensor:
    """In-place ``scatter`` (not recorded in the graph)."""
    dim, src, value = _scatter_args(self, dim, index, src, value, reduce, "scatter_")
    inplace.check_inplace(self, "scatter_", src)
    src = None if src is None else src.data
    out = _scatter_rows(self.data, index.data, src, dim, value, reduce)
    return inplace.write_inplace(self, out)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place ``scatter_add`` (not recorded in the graph)."""
    check_tensor(src, "src", "scatter_add_")
    _check_same_dtype(self, src, "scatter_add_")
    dim = _check_index(self, dim, index, "scatter_add_", src)
    inplace.check_inplace(self, "scatter_add_", src)
    out = _scatter_reduce_arrays(self.data, index.data, src.data, dim, "sum", True)
    return inplace.write_inplace(self, out)


# ---- one_hot ----------------------------------------------------------------------------------


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """out[..., c] = 1 where tensor[...] = c, else 0: int64 labels of any shape to an int64
    tensor with one more dimension of size num_classes (−1: the largest label + 1)."""
    op = "one_hot"
    check_tensor(tensor, "tensor", op)
    if tensor.dtype != np.int64:
        raise RuntimeError(f"{op}: expected an index tensor of dtype int64, got {tensor.dtype}")
    labels = tensor.data
    if labels.size == 0:
        if num_classes <= 0:
            raise RuntimeError(f"{op}: cannot infer the number of classes from an empty tensor")
    else:
        low, high = int(labels.min()), int(labels.max())
        if low < 0:
            raise RuntimeError(f"{op}: class values must be non-negative, got {low}")
        num_classes = high + 1 if num_classes == -1 else num_classes
        if high >= num_classes:
            raise RuntimeError(
                f"{op}: class values must be smaller than num_classes={num_classes}, got {high}"
            )
    classes = get_array_module(labels).arange(num_classes)
    return Tensor._make((labels[..., None] == classes).astype(np.int64), False)
