"""Resampling a signal or an image: padding its borders and interpolating it to a new size.

Both are linear maps that read each output element from one or two input positions along each
axis, so each backward sends the gradient back to the positions it was read from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _kept(before: int, after: int, size: int) -> tuple[slice, slice]:
    """Where the input's kept part (after cropping by negative pads) lies: (its positions in
    the input, its positions in the output) along one axis."""
    start, stop = max(-before, 0), size - max(-after, 0)
    offset = max(before, 0)
    return slice(start, stop), slice(offset, offset + stop - start)


def _source_index(xp, mode: str, size: int, before: int, after: int):
    """For each output position along one axis, the input position it copies.

    With u = j − before (the output position in the input's coordinates): reflect
    n−1 − |n−1 − |u||, replicate clamp(u, 0, n−1); circular wraps within the part kept
    after cropping, as PyTorch (crop first, then wrap).
    """
    u = xp.arange(-before, size + after)
    if mode == "reflect":
        return (size - 1) - xp.abs((size - 1) - xp.abs(u))
    if mode == "replicate":
        return xp.clip(u, 0, size - 1)
    kept, _ = _kept(before, after, size)
    length = kept.stop - kept.start
    return kept.start + (xp.arange(size + before + after) - max(before, 0)) % length


class Pad(Function):
    """y = x padded along each axis by (before, after) positions; a negative count crops.

    constant: the new positions hold ``value``, so ∂L/∂x is g at the kept positions.
    reflect / replicate / circular: output j copies input s(j) (``_source_index``), so
    ∂L/∂xᵢ = Σ_{j: s(j) = i} g_j: the kept block passes back as a slice and the border
    positions are scatter-added onto the positions they copy, one axis at a time.
    """

    def forward(self, x, *, widths, mode, value):
        xp = get_array_module(x)
        self.widths, self.mode, self.in_shape = widths, mode, x.shape
        if mode == "constant":
            shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths, strict=True))
            out = xp.full(shape, x.dtype.type(value), dtype=x.dtype)
            kept = [_kept(b, a, n) for n, (b, a) in zip(x.shape, widths, strict=True)]
            out[tuple(dst for _, dst in kept)] = x[tuple(src for src, _ in kept)]
            return out
        out = x
        for axis, (b, a) in enumerate(widths):
            if b or a:
                out = xp.take(out, _source_index(xp, mode, x.shape[axis], b, a), axis=axis)
        return out

    def backward(self, grad):
        xp, widths = get_array_module(grad), self.widths
        kept = [_kept(b, a, n) for n, (b, a) in zip(self.in_shape, widths, strict=True)]
        if self.mode == "constant":
            if all(
                src.stop - src.start == n for (src, _), n in zip(kept, self.in_shape, strict=True)
            ):
                return (grad[tuple(dst for _, dst in kept)],)
            grad_x = xp.zeros(self.in_shape, dtype=grad.dtype)
            grad_x[tuple(src for src, _ in kept)] = grad[tuple(dst for _, dst in kept)]
            return (grad_x,)
        for axis in reversed(range(grad.ndim)):
            b, a = widths[axis]
            if not (b or a):
                continue
            size = self.in_shape[axis]
            (src, dst), lead = kept[axis], (slice(None),) * axis
            folded = xp.zeros(grad.shape[:axis] + (size,) + grad.shape[axis + 1 :], grad.dtype)
            folded[lead + (src,)] = grad[lead + (dst,)]
            border = np.r_[0 : dst.start, dst.stop : grad.shape[axis]]
            if border.size:
                border = xp.asarray(border)
                source = _source_index(xp, self.mode, size, b, a)[border]
                xp.add.at(folded, lead + (source,), xp.take(grad, border, axis=axis))
            grad = folded
        return (grad,)


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad ``input``: ``pad`` = (left, right, top, bottom, front, back) counts, last dimension
    first, as PyTorch; a negative count crops that side.

    ``mode``: "constant" (any number of dimensions, new positions = ``value``, default 0);
    "reflect" (x₂ x₁ | x₀ x₁ …, each count smaller than its dimension), "replicate"
    (x₀ x₀ | x₀ x₁ …) and "circular" (…xₙ₋₁ | x₀ x₁ …), which pad the last 1, 2 or 3
    dimensions of an input with one or two more (channels, and optionally a batch).
    """
    op = "pad"
    check_tensor(input, "input", op)
    pad = _check_pad(pad)
    ndim, shape = input.ndim, input.shape
    if mode not in PAD_MODES:
        raise NotImplementedError(
            f"{op}: unrecognised padding mode {mode!r}, expected one of {PAD_MODES}"
        )
    if len(pad) % 2:
        raise RuntimeError(f"{op}: padding length must be divisible by 2, got {len(pad)}")
    if len(pad) > 2 * ndim:
        raise RuntimeError(
            f"{op}: padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of dimension {ndim}"
        )
    padded = len(pad) // 2
    widths = [(0, 0)] * (ndim - padded) + [
        (pad[2 * k], pad[2 * k + 1]) for k in reversed(range(padded))
    ]
    if mode != "constant":
        _check_border_pad(mode, widths, padded, shape, value)
    for axis, ((b, a), n) in enumerate(zip(widths, shape, strict=True)):
        if n + b + a < 0:
            raise RuntimeError(
                f"{op}: the input size {n}, plus negative padding {b} and {a} resulted in a "
                f"negative output size, which is invalid; check dimension {axis} of the input "
                f"of shape {shape}"
            )
    return Pad.apply(input, widths=tuple(widths), mode=mode, value=0.0 if value is None else value)


def _check_pad(pad) -> tuple[int, ...]:
    """``pad`` as a tuple of Python ints, or PyTorch's TypeError."""
    if not isinstance(pad, Sequence):
        raise TypeError(f"pad: expected pad to be a tuple of ints, got {type(pad).__name__}")
    for position, count in enumerate(pad):
        if not isinstance(count, int | np.integer) or isinstance(count, bool):
            raise TypeError(
                f"pad(): argument 'pad' must be tuple of ints, but found element of type "
                f"{type(count).__name__} at pos {position}"
            )
    return tuple(int(count) for count in pad)


def _check_border_pad(mode: str, widths: list, padded: int, shape: tuple, value) -> None:
    """PyTorch's rules for reflect, replicate and circular padding."""
    op, ndim = "pad", len(shape)
    if value is not None and value != 0:
        raise RuntimeError(f'{op}: padding mode "{mode}" doesn\'t take in value argument')
    if padded not in (1, 2, 3) or ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(
            f"{op}: padding size {2 * padded} is not supported for {ndim}D input tensor in "
            f"{mode} mode (expected a {padded + 1}D or {padded + 2}D input: the padded "
            "dimensions after a channel and an optional batch dimension)"
        )
    first = 1 if ndim == padded + 2 else 0  # a batch dimension may be empty
    if 0 in shape[first:]:
        raise RuntimeError(
            f"{op}: {mode} padding expects non-zero dimensions (except the batch), got an "
            f"input of shape {shape}"
        )
    for axis in range(ndim - padded, ndim):
        (b, a), n = widths[axis], shape[axis]
        if mode == "reflect" and (b >= n or a >= n):
            raise RuntimeError(
                f"{op}: padding size should be less than the corresponding input dimension, "
                f"but got: padding ({b}, {a}) at dimension {axis} of input {list(shape)}"
            )
        if mode in ("reflect", "replicate") and n + b + a < 1:
            raise RuntimeError(
                f"{op}: input (size {n} at dimension {axis}) is too small. Calculated output "
                f"size: {n + b + a}"
            )
        if mode == "circular":
            kept = n - max(-b, 0) - max(-a, 0)
            if b > kept or a > kept:
                raise RuntimeError(
                    f"{op}: padding value causes wrapping around more than once: padding "
                    f"({b}, {a}) at dimension {axis} of input {list(shape)}"
                )


# ---------------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------------

INTERPOLATE_MODES = {"nearest": None, "linear": 3, "bilinear": 4, "trilinear": 5}


def _nearest_index(xp, in_size: int, out_size: int, scale: float | None):
    """PyTorch's nearest rule, in float32 as its kernel: s(j) = min(⌊j·r⌋, n − 1) with
    r = 1/scale_factor when a scale factor is given, else in/out."""
    if out_size == in_size:
        return xp.arange(out_size)
    if out_size == 2 * in_size:
        return xp.arange(out_size) // 2
    ratio = (
        np.float32(1.0 / scale)
        if scale is not None and scale > 0
        else np.float32(in_size) / np.float32(out_size)
    )
    source = xp.floor(xp.arange(out_size, dtype=np.float32) * ratio).astype(np.int64)
    return xp.minimum(source, in_size - 1)


def _linear_weights(xp, dtype, in_size: int, out_size: int, scale, align_corners: bool):
    """PyTorch's linear rule, in the input's precision: the source coordinate
    s(j) = r·j (align_corners, r = (n − 1)/(m − 1)) or max(r·(j + ½) − ½, 0) with
    r = 1/scale_factor when given, else n/m; then i₀ = min(⌊s⌋, n − 1), i₁ = i₀ + 1 inside
    the input (else i₀), λ = clamp(s − i₀, 0, 1): the weights are 1 − λ at i₀ and λ at i₁."""
    real = dtype.type
    j = xp.arange(out_size, dtype=dtype)
    if align_corners:
        ratio = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
        source = ratio * j
    else:
        ratio = (
            real(1.0 / scale) if scale is not None and scale > 0 else real(in_size) / real(out_size)
        )
        source = xp.maximum(ratio * (j + real(0.5)) - real(0.5), real(0))
    low = xp.minimum(xp.floor(source).astype(np.int64), in_size - 1)
    lam = xp.clip(source - low.astype(dtype), real(0), real(1))
    high = low + (low < in_size - 1)
    return low, high, 1 - lam, lam


def _along(array, weights, axis: int):
    """Weights of shape (m,) broadcast along ``axis`` of ``array``."""
    return weights.reshape((-1,) + (1,) * (array.ndim - axis - 1))


class Interpolate(Function):
    """y = x ×₂ A₂ ×₃ A₃ …: along each spatial axis d, yⱼ = Σᵢ A_d[j, i]·xᵢ, where row j of
    A_d holds output j's weights: 1 at s(j) for nearest, 1 − λⱼ at i₀ and λⱼ at i₁ for
    (bi/tri)linear; computed as gathers of those one or two positions, axis after axis.

    ∂L/∂x = g ×₂ A₂ᵀ ×₃ A₃ᵀ …: each Aᵀ scatter-adds the gradient with the same weights;
    applied as a small dense matrix product per axis (one GEMM each), in reverse order.
    """

    def forward(self, x, *, sizes, scales, mode, align_corners):
        xp = get_array_module(x)
        self.mode, self.in_sizes = mode, x.shape[2:]
        saved, out = [], x
        for k, (n, m, scale) in enumerate(zip(x.shape[2:], sizes, scales, strict=True)):
            axis = k + 2
            if mode == "nearest":
                index = _nearest_index(xp, n, m, scale)
                out = xp.take(out, index, axis=axis)
                saved.append(index)
                continue
            low, high, w_low, w_high = _linear_weights(xp, x.dtype, n, m, scale, align_corners)
            # (1 − λ)·x[i₀] + λ·x[i₁], in place over the two fresh gathers
            blended = xp.take(out, low, axis=axis)
            blended *= _along(out, w_low, axis)
            upper = xp.take(out, high, axis=axis)
            upper *= _along(out, w_high, axis)
            blended += upper
            out = blended
            saved += [low, high, w_low, w_high]
        self.save_for_backward(*saved)
        return out

    def backward(self, grad):
        xp, saved = get_array_module(grad), self.saved_tensors
        per_axis = 1 if self.mode == "nearest" else 4
        for k in reversed(range(len(self.in_sizes))):
            arrays = saved[per_axis * k : per_axis * (k + 1)]
            rows = xp.arange(grad.shape[k + 2])
            matrix = xp.zeros((rows.size, self.in_sizes[k]), dtype=grad.dtype)
            if per_axis == 1:
                matrix[rows, arrays[0]] = 1
            else:
                low, high, w_low, w_high = arrays
                matrix[rows, low] = w_low
                matrix[rows, high] += w_high  # i₁ = i₀ at the last position: the weights add
            grad = xp.moveaxis(xp.tensordot(grad, matrix, axes=([k + 2], [0])), -1, k + 2)
        return (grad,)


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> Tensor:
    """Resize the spatial dimensions of ``input`` (N, C, d1, ...) to ``size``, or to
    ⌊dᵢ·scale_factor⌋.

    ``mode``: "nearest" (3-, 4- or 5-D input; output j copies input min(⌊j·r⌋, n − 1)),
    "linear" (3-D), "bilinear" (4-D) or "trilinear" (5-D): a weighted mean of the two nearest
    positions along each axis, with the source coordinate r·j (``align_corners=True``: the
    corner pixels' centres meet, r = (n − 1)/(m − 1)) or r·(j + ½) − ½ clamped at 0
    (``align_corners=False``, the default). r is 1/scale_factor when one is given, else the
    ratio of the sizes (also with ``recompute_scale_factor=True``), as PyTorch.
    """
    op = "interpolate"
    check_tensor(input, "input", op)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError(
                f"{op}: align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    else:
        align_corners = bool(align_corners)
    ndim = input.ndim
    if mode not in INTERPOLATE_MODES or ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"{op}: Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for "
            f"the modes: {' | '.join(INTERPOLATE_MODES)} (got {mode})"
        )
    expected_ndim = INTERPOLATE_MODES[mode]
    if expected_ndim is not None and ndim != expected_ndim:
        raise NotImplementedError(
            f"{op}: Got {ndim}D input, but {mode} mode needs {expected_ndim}D input"
        )
    sizes, scales = _output_sizes(input.shape, size, scale_factor, recompute_scale_factor)
    if mode != "nearest":
        check_floating(input, "input", op)
    if min(input.shape[2:]) <= 0 or min(sizes) <= 0:
        raise RuntimeError(
            f"{op}: input and output sizes should be greater than 0, but got input "
            f"{tuple(input.shape[2:])} and output {tuple(sizes)}"
        )
    return Interpolate.apply(
        input, sizes=sizes, scales=scales, mode=mode, align_corners=align_corners
    )


def _output_sizes(shape: tuple, size, scale_factor, recompute: bool | None) -> tuple:
    """(output sizes, the scale factors the coordinate rule uses: None where it uses the
    ratio of the sizes), following PyTorch's checks."""
    op, spatial = "interpolate", len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        if recompute:
            raise ValueError(
                f"{op}: recompute_scale_factor is not meaningful with an explicit size."
            )
        sizes = tuple(size) if isinstance(size, Sequence) else (size,) * spatial
        if len(sizes) != spatial:
            raise ValueError(
                f"{op}: input and output must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(shape[2:])} and output size of "
                f"{size}"
            )
        if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in sizes):
            raise TypeError(
                f"{op}: expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(s) for s in sizes]}"
            )
        return tuple(int(s) for s in sizes), (None,) * spatial
    factors = scale_factor if isinstance(scale_factor, Sequence) else (scale_factor,) * spatial
    if len(factors) != spatial:
        raise ValueError(
            f"{op}: input and scale_factor must have the same number of spatial dimensions, but "
            f"got input with spatial dimensions of {list(shape[2:])} and scale_factor of shape "
            f"{scale_factor}"
        )
    factors = tuple(float(f) for f in factors)
    sizes = tuple(math.floor(float(n) * f) for n, f in zip(shape[2:], factors, strict=True))
    return sizes, (None,) * spatial if recompute else factors
