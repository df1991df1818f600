"""Reductions (sum, mean, var, std, max, min, logsumexp) and softmax / log-softmax.

``dim`` and ``keepdim`` as in PyTorch; NumPy's ``axis`` / ``keepdims`` are accepted as aliases.
The two gradient rules of value-picking reductions live here too: ``MaxMin`` (ties share the
gradient) and ``SelectAlongDim`` (the gradient goes to the returned index).
"""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating, to_dtype

#: What ``max(dim)`` / ``min(dim)`` return, as ``torch.return_types.max``.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
#: A dimension or several (None: all of them).
Dims = int | tuple[int, ...] | None


def normalize_dims(dim, ndim: int, op: str) -> tuple | None:
    """``dim`` (int, tuple or None) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    out = []
    for d in dims:
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise IndexError(
                f"{op}: dimension {d} out of range for a tensor of {ndim} dimensions "
                f"(expected a value in [{-builtins.max(ndim, 1)}, {builtins.max(ndim, 1) - 1}])"
            )
        out.append(d % builtins.max(ndim, 1))
    return tuple(sorted(set(out))) if ndim else None


def reduction_dims(dim, ndim: int, op: str) -> tuple | None:
    """The axes a reduction runs over: as ``normalize_dims``, and as PyTorch an empty tuple
    means all of them and a dimension named twice is an error."""
    if dim is None or (not isinstance(dim, int | np.integer) and len(dim) == 0):
        return None
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    axes = normalize_dims(dims, ndim, op)
    if axes is not None and len(axes) != len(dims):
        raise RuntimeError(f"{op}: a dimension appears more than once in dim={dim!r}")
    return axes


def _resolve(dim, keepdim, aliases: dict, op: str):
    """Merge NumPy-style aliases (axis=, keepdims=) into PyTorch's dim / keepdim."""
    if "axis" in aliases:
        dim = aliases.pop("axis")
    if "keepdims" in aliases:
        keepdim = aliases.pop("keepdims")
    if aliases:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(aliases)}")
    return dim, bool(keepdim)


def expand_back(grad, shape: tuple, axes: tuple | None, keepdim: bool):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    xp = get_array_module(grad)
    if axes is not None and not keepdim:
        grad = xp.expand_dims(grad, axes)
    return xp.broadcast_to(grad, shape)


def _count(shape: tuple, axes: tuple | None) -> int:
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axes]))


class Sum(Function):
    """Σ a over ``axes``; ∂/∂a = 1, the gradient broadcast back over the summed axes."""

    def forward(self, a, axes=None, keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return a.sum(axis=axes, keepdims=keepdim, dtype=a.dtype)  # NumPy would widen int32

    def backward(self, grad):
        return (expand_back(grad, self.shape, self.axes, self.keepdim),)


class Mean(Function):
    """(1/N) Σ a over ``axes``; ∂/∂a = 1/N, broadcast back over the averaged axes."""

    def forward(self, a, axes=None, keepdim=False):
        self.shape, self.axes, self.keepdim = a.shape, axes, keepdim
        if a.size == 0:  # the mean of nothing is nan (NumPy would warn)
            return get_array_module(a).full(
                a.sum(axis=axes, keepdims=keepdim).shape, np.nan, a.dtype
            )
        return a.mean(axis=axes, keepdims=keepdim)

    def backward(self, grad):
        scale = grad.dtype.type(1 / builtins.max(_count(self.shape, self.axes), 1))
        return (expand_back(grad * scale, self.shape, self.axes, self.keepdim),)


class Var(Function):
    """Σ(x − x̄)² / max(0, N − correction); ∂/∂x = 2(x − x̄) / (N − correction).

    With N − correction ≤ 0 it follows PyTorch to the letter: the forward pass divides by 0
    (inf, or nan for 0/0); the gradient of a reduction over all elements is inf (nan where
    x = x̄), and along dims it keeps the formula with the unclamped N − correction.
    """

    def forward(self, a, axes=None, keepdim=False, correction=1):
        count = _count(a.shape, axes)
        dof = count - correction
        with np.errstate(invalid="ignore", divide="ignore"):
            if count:
                centered = a - a.mean(axis=axes, keepdims=True)
            else:  # an empty axis: nothing to centre (its mean would warn and be nan)
                centered = a.copy()
            self.save_for_backward(centered)
            self.axes, self.keepdim, self.dof = axes, keepdim, dof
            squares = (centered * centered).sum(axis=axes, keepdims=keepdim)
            return squares / a.dtype.type(builtins.max(dof, 0))

    def backward(self, grad):
        (centered,) = self.saved_tensors
        xp = get_array_module(grad)
        grad = expand_back(grad, centered.shape, self.axes, self.keepdim)
        with np.errstate(invalid="ignore", divide="ignore"):  # inf · 0 and 2/0 are intended
            return self._local(grad, centered, xp)

    def _local(self, grad, centered, xp):
        if self.axes is None and self.dof <= 0:
            return (
                grad * xp.where(centered == 0, grad.dtype.type(np.nan), grad.dtype.type(np.inf)),
            )
        return (grad * centered * (grad.dtype.type(2) / grad.dtype.type(self.dof)),)


class MaxMin(Function):
    """max / min over ``axes`` (all elements when None); ∂/∂a is 1/k at each of the k elements
    equal to the result along the reduced axes, 0 elsewhere (ties share the gradient evenly,
    as PyTorch).

    A nan result: with ``nan_shares`` the nan elements share the gradient (PyTorch's rule for
    ``max()``, ``min()`` and ``median()``); without it no element equals nan, so the count is 0
    and the gradient nan (PyTorch's rule for ``amax`` / ``amin``).
    """

    def forward(self, a, axes=None, keepdim=False, pick=None, nan_shares=False):
        out = get_array_module(a).asarray(pick(a, axis=axes, keepdims=keepdim))
        self.save_for_backward(a, out)
        self.axes, self.keepdim, self.nan_shares = axes, keepdim, nan_shares
        return out

    def backward(self, grad):
        a, out = self.saved_tensors
        xp = get_array_module(grad)
        out = expand_back(out, a.shape, self.axes, self.keepdim)
        hits = a == out
        if self.nan_shares:
            hits |= xp.isnan(a) & xp.isnan(out)
        count = hits.sum(axis=self.axes, keepdims=True)
        grad = expand_back(grad, a.shape, self.axes, self.keepdim)
        with np.errstate(invalid="ignore", divide="ignore"):  # no hit: 0 · (g/0) = nan, intended
            return ((grad / count.astype(grad.dtype)) * hits,)


class SelectAlongDim(Function):
    """The elements of ``a`` at ``indices`` along ``dim`` (max/min/median/mode/kthvalue along a
    dim, sort, topk): out = take_along_dim(a, indices, dim); ∂/∂a is the gradient scattered
    back to those positions, 0 elsewhere. ``indices`` is shaped as the output (``dim`` squeezed
    unless ``keepdim``) and is an input: changing the returned indices in place makes backward
    raise."""

    def forward(self, a, indices, dim=0, keepdim=True):
        xp = get_array_module(a)
        self.save_for_backward(indices)
        self.shape, self.dim, self.keepdim = a.shape, dim, keepdim
        kept = indices if keepdim else xp.expand_dims(indices, dim)
        values = xp.take_along_axis(a, kept, axis=dim)
        return values if keepdim else values.squeeze(dim)

    def backward(self, grad):
        (indices,) = self.saved_tensors
        xp = get_array_module(grad)
        full = xp.zeros(self.shape, dtype=grad.dtype)
        if not self.keepdim:
            grad, indices = xp.expand_dims(grad, self.dim), xp.expand_dims(indices, self.dim)
        xp.put_along_axis(full, indices, grad, axis=self.dim)
        return (full, None)


def select_along_dim(input: Tensor, indices, dim: int, keepdim: bool = True) -> ValuesIndices:
    """``(values, indices)`` for the ``indices`` (shaped as the output with ``dim`` kept) that
    a value-picking op chose along ``dim``; indices are int64, as PyTorch's."""
    indices = indices.astype(np.int64, copy=False)
    index = Tensor._make(indices if keepdim else indices.squeeze(dim), False)
    return ValuesIndices(SelectAlongDim.apply(input, index, dim=dim, keepdim=keepdim), index)


def check_nonempty_dim(input: Tensor, dim: int | None, op: str) -> None:
    """PyTorch's errors for a value-picking reduction of nothing: IndexError along an empty
    dim, RuntimeError over all elements of an empty tensor."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{op}(): expected reduction dim to be specified for input.numel() == 0"
            )
    elif input.ndim and input.shape[dim] == 0:
        raise IndexError(f"{op}(): expected reduction dim {dim} to have non-zero size")


def max_keepdims(a, axis: int):
    """max along ``axis``, keeping it with size 1 (the shift of a stable softmax).

    On the last axis of a C-contiguous NumPy matrix of 32 rows or more the maxima are picked by
    ``argmax``, whose inner loop is vectorised, while ``maximum.reduce`` along short rows pays a
    loop call per row: measured 1.8 µs instead of 3.2 µs on (64, 10) logits, 3.2 µs instead of
    10.8 µs on (256, 10); below 32 rows the reduction is the faster. NaN rows give NaN either
    way (argmax points at the first NaN).
    """
    if (
        type(a) is np.ndarray
        and a.ndim == 2
        and axis in (1, -1)
        and a.shape[0] >= 32
        and a.shape[1]
        and a.flags.c_contiguous
    ):
        at = a.argmax(axis=1)
        at += np.arange(0, a.size, a.shape[1])  # each row's offset in the flat array
        return a.reshape(-1).take(at).reshape(-1, 1)
    return a.max(axis=axis, keepdims=True)


class LogSumExp(Function):
    """y = log Σ eˣ, computed as m + log Σ e^(x − m) with m = max x so nothing overflows;
    ∂y/∂x = e^(x − y) = softmax(x)."""

    def forward(self, a, axes=None, keepdim=False):
        xp = get_array_module(a)
        peak = a.max(axis=axes, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        total = xp.exp(a - peak).sum(axis=axes, keepdims=True)
        with np.errstate(divide="ignore"):  # all −inf: log 0 = −inf is the right answer
            kept = xp.log(total) + peak
        out = kept if keepdim else (kept.reshape(()) if axes is None else kept.squeeze(axes))
        self.save_for_backward(a, out)
        self.axes, self.keepdim = axes, keepdim
        return out

    def backward(self, grad):
        a, out = self.saved_tensors
        softmax = get_array_module(grad).exp(a - expand_back(out, a.shape, self.axes, self.keepdim))
        return (expand_back(grad, a.shape, self.axes, self.keepdim) * softmax,)


class Softmax(Function):
    """yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m) (m the max); ∂L/∂x = y ⊙ (g − Σ g ⊙ y), from the output."""

    def forward(self, a, dim=-1):
        xp = get_array_module(a)
        e = xp.exp(a - max_keepdims(a, dim))
        out = e / e.sum(axis=dim, keepdims=True)
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (y,) = self.saved_tensors
        return (y * (grad - (grad * y).sum(axis=self.dim, keepdims=True)),)


class LogSoftmax(Function):
    """log yᵢ = xᵢ − logsumexp(x); ∂L/∂x = g − softmax ⊙ Σ g, softmax = e^(output)."""

    def forward(self, a, dim=-1):
        xp = get_array_module(a)
        shifted = a - max_keepdims(a, dim)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.save_for_backward(out)
        self.dim = dim
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        softmax = get_array_module(grad).exp(out)
        return (grad - softmax * grad.sum(axis=self.dim, keepdims=True),)


def sum(  # noqa: A001 - PyTorch's name
    input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None, **aliases
) -> Tensor:
    """Σ over ``dim`` (all elements when None or ()); bool and integer tensors sum to int64,
    as PyTorch; ``dtype`` casts the input first (the gradient is cast back)."""
    dim, keepdim = _resolve(dim, keepdim, aliases, "sum")
    input = accumulation_input(input, dtype)
    return Sum.apply(input, axes=reduction_dims(dim, input.ndim, "sum"), keepdim=keepdim)


def accumulation_input(input: Tensor, dtype) -> Tensor:
    """The input of a sum or product: cast to ``dtype`` when given, else integers as int64."""
    from aprende.ops.elementwise import cast

    if dtype is not None:
        return cast(input, to_dtype(dtype))
    return input if is_floating(input.dtype) else cast(input, np.dtype(np.int64))


def mean(
    input: Tensor, dim: Dims = None, keepdim: bool = False, *, dtype=None, **aliases
) -> Tensor:
    """(1/N) Σ over ``dim`` (all elements when None or ()); ``dtype`` casts the input first.
    A bool or integer tensor needs a floating ``dtype`` (PyTorch's RuntimeError otherwise)."""
    from aprende.ops.elementwise import cast

    dim, keepdim = _resolve(dim, keepdim, aliases, "mean")
    if dtype is not None:
        input = cast(input, to_dtype(dtype))
    if not is_floating(input.dtype):
        raise RuntimeError(
            "mean(): could not infer output dtype: expected a floating point input or dtype=, "
            f"got {input.dtype}; use .float() or mean(dtype=aprende.float32)"
        )
    return Mean.apply(input, axes=reduction_dims(dim, input.ndim, "mean"), keepdim=keepdim)


def _correction(unbiased, options: dict) -> int:
    correction = options.pop("correction", None)
    if "ddof" in options:
        correction = options.pop("ddof")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return correction


def var(
    input: Tensor,
    dim: Dims = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    **options,
) -> Tensor:
    """Variance Σ(x − x̄)² / (N − correction); unbiased (correction=1) by default, as PyTorch."""
    correction = _correction(unbiased, options)
    dim, keepdim = _resolve(dim, keepdim, options, "var")
    if not is_floating(input.dtype):
        raise RuntimeError(f"std and var only support floating point dtypes, got {input.dtype}")
    axes = reduction_dims(dim, input.ndim, "var")
    return Var.apply(input, axes=axes, keepdim=keepdim, correction=correction)


def std(
    input: Tensor,
    dim: Dims = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    **options,
) -> Tensor:
    """Standard deviation √var (unbiased by default, as PyTorch)."""
    return var(input, dim, unbiased, keepdim, **options).sqrt()


def _max_or_min(input, dim, keepdim, aliases, op: str):
    dim, keepdim = _resolve(dim, keepdim, aliases, op)
    xp = get_array_module(input.data)
    pick = xp.max if op == "max" else xp.min
    if dim is None:
        check_nonempty_dim(input, None, op)
        return MaxMin.apply(input, pick=pick, nan_shares=True)
    if not isinstance(dim, int | np.integer):
        raise TypeError(f"{op}(): expected a single int dim, got {dim!r}")
    (axis,) = normalize_dims(dim, input.ndim, op) or (0,)
    check_nonempty_dim(input, axis, op)
    if input.ndim == 0:  # dim 0 or −1 of a 0-d tensor, as PyTorch
        values = MaxMin.apply(input, pick=pick, nan_shares=True)
        return ValuesIndices(values, Tensor._make(xp.zeros((), dtype=np.int64), False))
    arg = xp.argmax if op == "max" else xp.argmin
    return select_along_dim(input, xp.expand_dims(arg(input.data, axis=axis), axis), axis, keepdim)


def max(  # noqa: A001 - PyTorch's name
    input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, **aliases
):
    """The largest element, or ``(values, indices)`` along ``dim`` (as ``torch.max``)."""
    if isinstance(dim, Tensor):
        from aprende.ops.elementwise import maximum

        return maximum(input, dim)
    return _max_or_min(input, dim, keepdim, aliases, "max")


def min(  # noqa: A001 - PyTorch's name
    input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, **aliases
):
    """The smallest element, or ``(values, indices)`` along ``dim`` (as ``torch.min``)."""
    if isinstance(dim, Tensor):
        from aprende.ops.elementwise import minimum

        return minimum(input, dim)
    return _max_or_min(input, dim, keepdim, aliases, "min")


def _arg(input, dim, keepdim, aliases, op: str) -> Tensor:
    dim, keepdim = _resolve(dim, keepdim, aliases, op)
    if input.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    xp = get_array_module(input.data)
    function = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{op}(): expected reduction dim to be specified for an empty input")
        index = function(input.data)
        shape = (1,) * input.ndim if keepdim else ()
        return Tensor._make(xp.asarray(index, dtype=np.int64).reshape(shape), False)
    (axis,) = normalize_dims(dim, input.ndim, op) or (0,)
    check_nonempty_dim(input, axis, op)
    if input.ndim == 0:
        return Tensor._make(xp.zeros((), dtype=np.int64), False)
    index = function(input.data, axis=axis)
    index = xp.expand_dims(index, axis) if keepdim else index
    return Tensor._make(index.astype(np.int64), False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, **aliases) -> Tensor:
    """Index of the largest element (of the flattened tensor when dim is None)."""
    return _arg(input, dim, keepdim, aliases, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, **aliases) -> Tensor:
    """Index of the smallest element (of the flattened tensor when dim is None)."""
    return _arg(input, dim, keepdim, aliases, "argmin")


def logsumexp(input: Tensor, dim: Dims, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim``, stable for inputs of any size; integers give the default float."""
    from aprende.ops.elementwise import to_floating

    input = to_floating(input)
    return LogSumExp.apply(
        input, axes=normalize_dims(dim, input.ndim, "logsumexp"), keepdim=keepdim
    )


def _single_dim(dim, ndim: int, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim is required (the dimension that sums to one)")
    return normalize_dims(dim, ndim, op)[0] if ndim else 0


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ along ``dim``; stable (the max is subtracted first)."""
    if dtype is not None:
        input = input.to(dtype)
    _floating_only(input, "softmax")
    return Softmax.apply(input, dim=_single_dim(dim, input.ndim, "softmax"))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log softmax(x) = x − logsumexp(x) along ``dim``; stable for inputs of ±1000."""
    if dtype is not None:
        input = input.to(dtype)
    _floating_only(input, "log_softmax")
    return LogSoftmax.apply(input, dim=_single_dim(dim, input.ndim, "log_softmax"))


def _floating_only(input: Tensor, op: str) -> None:
    if input.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}: not implemented for {input.dtype} (a floating tensor is needed; pass "
            f"dtype=aprende.float32 to convert)"
        )


def any(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element along ``dim`` is nonzero."""
    axes = normalize_dims(dim, input.ndim, "any")
    return Tensor._make(
        get_array_module(input.data).asarray(input.data.any(axis=axes, keepdims=keepdim))
    )


def all(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element along ``dim`` is nonzero."""
    axes = normalize_dims(dim, input.ndim, "all")
    return Tensor._make(
        get_array_module(input.data).asarray(input.data.all(axis=axes, keepdims=keepdim))
    )
