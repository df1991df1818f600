"""Reductions beyond sum and mean: prod, amax / amin, nan-aware sums, counts, median, mode, the
fused pairs var_mean / std_mean, and the covariance and correlation matrices (cov, corrcoef),
with PyTorch's dtypes and gradients.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating
from aprende.ops.binary_math import clamp
from aprende.ops.elementwise import to_floating, where
from aprende.ops.linalg import matmul
from aprende.ops.reduce import (
    Dims,
    MaxMin,
    ValuesIndices,
    accumulation_input,
    check_nonempty_dim,
    expand_back,
    normalize_dims,
    reduction_dims,
    select_along_dim,
)
from aprende.ops.reduce import sum as _sum
from aprende.ops.sort import stable_argsort
from aprende.ops.triangular import diag

TENSOR_METHODS = (
    "prod",
    "amax",
    "amin",
    "aminmax",
    "nansum",
    "nanmean",
    "count_nonzero",
    "median",
    "nanmedian",
    "mode",
    "cov",
    "corrcoef",
)

#: What ``aminmax`` returns, as ``torch.return_types.aminmax``.
MinMax = namedtuple("MinMax", ["min", "max"])


def _exclusive_cumprod(a, axis: int, reverse: bool = False):
    """Π of the elements before each position along ``axis`` (after it when ``reverse``)."""
    xp = get_array_module(a)
    if reverse:
        return xp.flip(_exclusive_cumprod(xp.flip(a, axis), axis), axis)
    ones = xp.ones_like(xp.take(a, xp.arange(1), axis=axis))
    shifted = xp.concatenate([ones, xp.take(a, xp.arange(a.shape[axis] - 1), axis=axis)], axis)
    return xp.cumprod(shifted, axis=axis)


class Prod(Function):
    """Π a along ``axis`` (all elements when None); ∂/∂aᵢ = Π_{j≠i} aⱼ, computed as the product
    of the elements before i times those after it, with no division: one zero gets the
    product of the others and every other element 0; two zeros give 0 everywhere (PyTorch's
    values, which dividing the product by aᵢ would turn into nan)."""

    def forward(self, a, axis=None, keepdim=False):
        self.save_for_backward(a)
        self.axis, self.keepdim = axis, keepdim
        out = a.prod(axis=axis, keepdims=keepdim, dtype=a.dtype)
        return get_array_module(a).asarray(out)

    def backward(self, grad):
        (a,) = self.saved_tensors
        axis = self.axis
        if a.size == 0:
            return (get_array_module(a).zeros(a.shape, dtype=grad.dtype),)
        flat = a.reshape(-1) if axis is None else a
        along = 0 if axis is None else axis
        others = _exclusive_cumprod(flat, along) * _exclusive_cumprod(flat, along, reverse=True)
        axes = None if axis is None else (axis,)
        return (expand_back(grad, a.shape, axes, self.keepdim) * others.reshape(a.shape),)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Π over all elements, or along the single dim ``dim``; bool and integer tensors multiply
    in int64 (as PyTorch), ``dtype`` casts the input first."""
    if dim is not None and not isinstance(dim, int | np.integer):
        raise TypeError(f"prod(): expected dim to be a single int, got {dim!r}")
    input = accumulation_input(input, dtype)
    axis = None if dim is None else (normalize_dims(dim, input.ndim, "prod") or (None,))[0]
    return Prod.apply(input, axis=axis, keepdim=keepdim and axis is not None)


def _amax_or_amin(input: Tensor, dim: Dims, keepdim: bool, op: str) -> Tensor:
    axes = reduction_dims(dim, input.ndim, op)
    for axis in axes or (None,):
        check_nonempty_dim(input, axis, op)
    xp = get_array_module(input.data)
    pick = xp.max if op == "amax" else xp.min
    return MaxMin.apply(input, axes=axes, keepdim=keepdim, pick=pick)


def amax(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """The largest element over ``dim`` (all dims when ``()``); ∂/∂a is shared evenly by the
    elements equal to the maximum (nan where the maximum is nan, as PyTorch)."""
    return _amax_or_amin(input, dim, keepdim, "amax")


def amin(input: Tensor, dim: Dims = (), keepdim: bool = False) -> Tensor:
    """The smallest element over ``dim`` (all dims when ``()``); ties share the gradient."""
    return _amax_or_amin(input, dim, keepdim, "amin")


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
    """``(min, max)`` over all elements or along ``dim``: ``(amin(...), amax(...))``."""
    if input.numel() == 0 and (dim is None or input.shape[dim] == 0):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
            "no identity"
        )
    dims = () if dim is None else dim
    return MinMax(amin(input, dims, keepdim), amax(input, dims, keepdim))


class NanSum(Function):
    """Σ a over ``axes`` with nan counted as 0; ∂/∂a = 1 where a is not nan, 0 at a nan (a
    product with the mask, as PyTorch: an infinite upstream gradient gives nan there)."""

    def forward(self, a, axes=None, keepdim=False):
        xp = get_array_module(a)
        self.save_for_backward(a)
        self.axes, self.keepdim = axes, keepdim
        return xp.asarray(xp.nansum(a, axis=axes, keepdims=keepdim))

    def backward(self, grad):
        (a,) = self.saved_tensors
        grad = expand_back(grad, a.shape, self.axes, self.keepdim)
        return (grad * ~get_array_module(a).isnan(a),)


def nansum(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Σ over ``dim`` with nan treated as 0; integers sum to int64, as ``sum``."""
    input = accumulation_input(input, dtype)
    if not is_floating(input.dtype):
        return _sum(input, dim, keepdim)
    return NanSum.apply(input, axes=reduction_dims(dim, input.ndim, "nansum"), keepdim=keepdim)


def nanmean(input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the elements that are not nan: nansum / count of non-nan (nan when all are
    nan). A floating input or ``dtype`` is required, as PyTorch."""
    if dtype is not None:
        input = accumulation_input(input, dtype)
    if not is_floating(input.dtype):
        raise RuntimeError(
            f"nanmean(): expected input to have floating point dtype but got {input.dtype}"
        )
    present = Tensor._make(~get_array_module(input.data).isnan(input.data), False)
    count = _sum(present, dim, keepdim)
    return nansum(input, dim, keepdim) / count.to(input.dtype)


def count_nonzero(input: Tensor, dim: Dims = None) -> Tensor:
    """The number of nonzero elements over ``dim`` (all when None), as int64."""
    xp = get_array_module(input.data)
    axes = reduction_dims(dim, input.ndim, "count_nonzero")
    return Tensor._make(xp.asarray((input.data != 0).sum(axis=axes)).astype(np.int64), False)


def var_mean(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, **options
) -> tuple[Tensor, Tensor]:
    """``(var(input, dim, ...), mean(input, dim))``; ``correction=`` as in ``var``."""
    from aprende.ops.reduce import mean, var

    return var(input, dim, unbiased, keepdim, **options), mean(input, dim, keepdim)


def std_mean(
    input: Tensor, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, **options
) -> tuple[Tensor, Tensor]:
    """``(std(input, dim, ...), mean(input, dim))``; ``correction=`` as in ``std``."""
    from aprende.ops.reduce import mean, std

    return std(input, dim, unbiased, keepdim, **options), mean(input, dim, keepdim)


# ---- median and mode: values picked by sorting -------------------------------------------------


def _median_position(data, axis: int, skip_nan: bool):
    """Where the lower median sits in the sorted order along ``axis`` (kept, size 1): the
    ((n − 1) // 2)-th element; with a nan present, the first nan (``median``), or the median
    of the others (``nanmedian``; the first nan when all are nan)."""
    xp = get_array_module(data)
    size = data.shape[axis]
    if not is_floating(data.dtype):
        return xp.full(data.shape[:axis] + (1,) + data.shape[axis + 1 :], (size - 1) // 2)
    nans = xp.isnan(data).sum(axis=axis, keepdims=True)
    if skip_nan:
        return xp.maximum((size - nans - 1) // 2, 0)
    return xp.where(nans > 0, size - nans, (size - 1) // 2)


def _median_indices(data, axis: int, skip_nan: bool):
    xp = get_array_module(data)
    order = stable_argsort(data, axis)
    return xp.take_along_axis(order, _median_position(data, axis, skip_nan), axis=axis)


def _median_of_all(skip_nan: bool):
    """The pick of ``MaxMin`` for a median over all elements (nan for an empty tensor)."""

    def pick(a, axis=None, keepdims=False):
        xp = get_array_module(a)
        if a.size == 0:
            return xp.asarray(np.nan, dtype=a.dtype)
        flat = a.reshape(-1)
        return flat[_median_indices(flat, 0, skip_nan)].reshape(())

    return pick


def _zero_d(input: Tensor) -> ValuesIndices:
    """A 0-d tensor is its own median and mode, at index 0."""
    index = get_array_module(input.data).zeros((), dtype=np.int64)
    return ValuesIndices(input.clone(), Tensor._make(index, False))


def _median(input: Tensor, dim, keepdim: bool, skip_nan: bool, op: str):
    if dim is None:
        return MaxMin.apply(input, pick=_median_of_all(skip_nan), nan_shares=True)
    (axis,) = normalize_dims(dim, input.ndim, op) or (0,)
    check_nonempty_dim(input, axis, op)
    if input.ndim == 0:
        return _zero_d(input)
    return select_along_dim(input, _median_indices(input.data, axis, skip_nan), axis, keepdim)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median: the ((n − 1) // 2)-th smallest element (of an even count, the lower
    of the two middle ones), nan when a nan is present. Over all elements a tensor, whose
    gradient is shared by the elements equal to it; along ``dim``, ``(values, indices)`` with
    the gradient sent to the returned index."""
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """``median`` of the elements that are not nan (nan where all are)."""
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the index of its last occurrence; the gradient goes to that index."""
    (axis,) = normalize_dims(dim, input.ndim, "mode") or (0,)
    check_nonempty_dim(input, axis, "mode")
    if input.ndim == 0:
        return _zero_d(input)
    xp = get_array_module(input.data)
    order = stable_argsort(input.data, axis)
    ordered = xp.moveaxis(xp.take_along_axis(input.data, order, axis=axis), axis, -1)
    changed = ordered[..., 1:] != ordered[..., :-1]
    if is_floating(ordered.dtype):  # nans count as one value, as PyTorch
        changed &= ~(xp.isnan(ordered[..., 1:]) & xp.isnan(ordered[..., :-1]))
    starts = xp.concatenate([xp.ones_like(ordered[..., :1], dtype=bool), changed], axis=-1)
    positions = xp.arange(ordered.shape[-1])
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1)
    # the first position where a run reaches the longest length ends the smallest such value
    best = xp.argmax(positions - run_start, axis=-1)[..., None]
    chosen = xp.take_along_axis(xp.moveaxis(order, axis, -1), best, axis=-1)
    return select_along_dim(input, xp.moveaxis(chosen, -1, axis), axis, keepdim)


def _check_weights(weights: Tensor | None, name: str, observations: int, integral: bool) -> None:
    if weights is None:
        return
    if weights.ndim > 1:
        raise RuntimeError(
            f"cov: expected {name} to have one or fewer dimensions, got {weights.ndim}"
        )
    if weights.numel() != observations:
        raise RuntimeError(
            f"cov: expected {name} to have one weight per observation ({observations}), got "
            f"{weights.numel()}"
        )
    if integral and (is_floating(weights.dtype) or weights.dtype == np.bool_):
        raise RuntimeError(f"cov: expected {name} of an integral dtype, got {weights.dtype}")
    if not integral and not is_floating(weights.dtype):
        raise RuntimeError(f"cov: expected {name} of a floating dtype, got {weights.dtype}")
    if bool((weights.data < 0).any()):
        raise RuntimeError(f"cov: {name} cannot be negative")


def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (V, N), observations in
    the columns (a vector is one variable): with weights wⱼ = fweightsⱼ·aweightsⱼ (1 when not
    given), x̄ = Σⱼ wⱼxⱼ / Σⱼ wⱼ and

        C = Σⱼ wⱼ (xⱼ − x̄)(xⱼ − x̄)ᵀ / (Σⱼ wⱼ − correction·Σⱼ wⱼ·aweightsⱼ / Σⱼ wⱼ),

    the last sum replaced by 1 without aweights (so correction 1 is Bessel's N − 1). Shape
    (V, V), squeezed (one variable gives a 0-d tensor); where the denominator is ≤ 0 it is
    taken as 0, as PyTorch (inf or nan, without its warning)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov: expected input to have two or fewer dimensions, got {input.ndim}")
    if input.dtype == np.bool_:
        raise RuntimeError("cov: bool dtype is not supported for input")
    if not isinstance(correction, int):
        raise TypeError(f"cov: correction must be an int, got {type(correction).__name__}")
    x = to_floating(input if input.ndim == 2 else input.reshape(1, -1))
    observations = x.shape[1]
    _check_weights(fweights, "fweights", observations, integral=True)
    _check_weights(aweights, "aweights", observations, integral=False)
    weights = fweights
    if aweights is not None:
        weights = aweights if weights is None else weights * aweights
    if weights is None:
        total = observations
        mean = x.mean(1, keepdim=True)
        scale = 1
    else:
        total = weights.sum()
        mean = (x * weights).sum(1, keepdim=True) / total
        scale = 1 if aweights is None else (weights * aweights).sum() / total
    denominator = total - correction * scale
    if isinstance(denominator, Tensor):
        denominator = where(denominator > 0, denominator, 0)
    else:
        denominator = max(denominator, 0)
    centred = x - mean
    weighted = centred if weights is None else centred * weights
    with np.errstate(divide="ignore", invalid="ignore"):  # a denominator of 0: inf or nan
        return (matmul(centred, weighted.t()) / denominator).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation matrix of the variables in the rows of ``input`` (V, N):
    R = C / √(diag C diag Cᵀ) from C = cov(input), clipped to [−1, 1] against rounding;
    one variable gives a 0-d C / C (1, or nan)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    spread = diag(c).sqrt()
    with np.errstate(divide="ignore", invalid="ignore"):  # constant variables give nan
        c = c / spread.reshape(-1, 1) / spread.reshape(1, -1)
    return clamp(c, -1, 1)
