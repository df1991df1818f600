"""Pooling over the last two dims of (N, C, H, W) or (C, H, W): max and average over sliding
windows, and max unpooling (2-d and 1-d); each is one graph node with a hand-written backward
(the 1-d poolings are in ``pool1d``, the adaptive forms in ``adaptive_pool``).

Window geometry as PyTorch: with kernel k, stride s, padding p and dilation d per dim, the
output has ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1 positions (⌈·⌉ with ``ceil_mode``, dropping a last
window that would start in the right padding); window o covers o·s − p + j·d, j = 0..k−1.
Kernels loop over the k×k offsets of a window, each a strided view of the padded input: no
loop over samples or pixels.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

from aprende._tensor import Tensor
from aprende.autograd import Function, is_grad_enabled
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor

IntPair = int | tuple[int, int]


@dataclass(frozen=True)
class Windows:
    """Where the windows of a 2-d pooling lie, per dim (height, width): the kernel size,
    stride, padding and dilation, the input size and the output size."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    size: tuple[int, int]
    out: tuple[int, int]

    def padded_size(self) -> tuple[int, int]:
        """(height, width) of the input with ``padding`` before, and after as far as the last
        window reaches."""
        return tuple(
            max((o - 1) * s + (k - 1) * d + 1, n + p)
            for o, s, k, d, n, p in zip(
                self.out,
                self.stride,
                self.kernel,
                self.dilation,
                self.size,
                self.padding,
                strict=True,
            )
        )

    def padded(self, x, fill):
        """``x`` inside a border of ``fill`` (``x`` itself when no window leaves it)."""
        (ph, pw), (h, w) = self.padding, self.size
        size = self.padded_size()
        if size == (h, w):
            return x
        out = get_array_module(x).full((*x.shape[:2], *size), fill, dtype=x.dtype)
        out[:, :, ph : ph + h, pw : pw + w] = x
        return out

    def offsets(self):
        """(i, j) for every offset of the kernel, in PyTorch's scan order (row by row)."""
        return [(i, j) for i in range(self.kernel[0]) for j in range(self.kernel[1])]

    def view(self, padded, i: int, j: int):
        """The element at offset (i, j) of every window: a strided (N, C, OH, OW) view."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        return padded[
            ..., i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw
        ]

    def disjoint(self) -> bool:
        """True when no input element lies in two windows."""
        return all(
            s >= (k - 1) * d + 1
            for s, k, d in zip(self.stride, self.kernel, self.dilation, strict=True)
        )

    def scatter(self, piece, planes: tuple[int, int], dtype, xp):
        """The (N, C, H, W) sum over the kernel's offsets k of ``piece(k, out)`` placed at
        offset k of every window: the backward pass of a pooling. ``piece`` writes an
        (N, C, OH, OW) array into ``out``, or returns it when ``out`` is None.

        Offset i along a dim lands on the lattice of positions ≡ i·d (mod s), shifted by
        ⌊i·d/s⌋ windows. The offsets sharing a lattice are summed in a contiguous block
        first, and the block is written to its strided lattice once: with overlapping
        windows that replaces a strided read-modify-write per offset (measured ~1.1 ms per
        offset on 64×32×14×14) by a contiguous add.
        """
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        padded = xp.zeros((*planes, *self.padded_size()), dtype=dtype)
        lattices: dict = {}
        for k, (i, j) in enumerate(self.offsets()):
            (qh, rh), (qw, rw) = divmod(i * dh, sh), divmod(j * dw, sw)
            lattices.setdefault((rh, rw), []).append((k, qh, qw))
        for (rh, rw), members in lattices.items():
            lattice = padded[..., rh::sh, rw::sw]
            if len(members) == 1 and members[0][1:] == (0, 0):  # one piece: write it there
                piece(members[0][0], lattice[..., :oh, :ow])
                continue
            block = lattice if (sh, sw) == (1, 1) else xp.zeros(lattice.shape, dtype=dtype)
            for k, qh, qw in members:
                block[..., qh : qh + oh, qw : qw + ow] += piece(k, None)
            if block is not lattice:
                lattice[...] = block
        (ph, pw), (h, w) = self.padding, self.size
        return padded if padded.shape[2:] == (h, w) else padded[..., ph : ph + h, pw : pw + w]


def _output_length(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: floor (or ceil) of the window count, where with
    ``ceil_mode`` the last window must start inside the input or the left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _ints(value, count: int, name: str, op: str) -> tuple[int, ...]:
    """An int, or a sequence of ``count`` ints (or of one, repeated), as a tuple of ``count``
    ints; RuntimeError otherwise, as PyTorch."""
    try:
        return (operator.index(value),) * count
    except TypeError:
        pass
    try:
        values = tuple(operator.index(v) for v in value)
    except TypeError:
        values = ()
    if len(values) == 1:
        values *= count
    if len(values) != count:
        expected = "a tuple of two ints" if count == 2 else "a tuple of one int"
        raise RuntimeError(f"{op}: {name} must either be a single int, or {expected}")
    return values


def _pair(value, name: str, op: str) -> tuple[int, int]:
    return _ints(value, 2, name, op)


def _single(value, name: str, op: str) -> int:
    return _ints(value, 1, name, op)[0]


def _no_stride(stride) -> bool:
    """PyTorch takes None or an empty sequence as "the kernel size"."""
    return stride is None or (not isinstance(stride, int) and len(stride) == 0)


def _check_input(input: Tensor, op: str, dims: int = 2) -> None:
    """(C, spatial...) or (N, C, spatial...) of a floating dtype, only the batch may be empty."""
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if input.ndim not in (dims + 1, dims + 2) or 0 in input.shape[-dims - 1 :]:
        raise RuntimeError(
            f"{op}: expected a {dims + 1}D or {dims + 2}D (batch mode) tensor with non-zero "
            f"sizes except an optional 0 batch size for input, but got shape {input.shape}"
        )


def _batched(input: Tensor) -> tuple[Tensor, bool]:
    """A 4-d input as it is, a 3-d (unbatched) one with a batch of 1; and which it was."""
    return (input, True) if input.ndim == 4 else (input.unsqueeze(0), False)


def _windows(
    input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, op: str
) -> Windows:
    """The checked geometry of a 2-d pooling, with PyTorch's rules and errors."""
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if _no_stride(stride) else _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got {kernel}")
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got {stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got {dilation}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: pad must be non-negative, but got pad: {padding}")
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    size = input.shape[-2:]
    out = tuple(
        _output_length(*args, ceil_mode)
        for args in zip(size, kernel, stride, padding, dilation, strict=True)
    )
    if min(out) < 1:
        channels = input.shape[-3]
        raise RuntimeError(
            f"{op}: given input size ({channels}x{size[0]}x{size[1]}), the calculated output "
            f"size ({channels}x{out[0]}x{out[1]}) is too small"
        )
    return Windows(kernel, stride, padding, dilation, tuple(size), out)


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------


class MaxPool2d(Function):
    """y[o] = max over window o of x (padding counts as −∞); equals ``x.unfold`` into windows
    followed by ``max(dim=-1)``, in one node. Given a list as ``sink``, forward appends the
    int64 indices to it (their own array: changing them cannot reach what backward reads).

    ∂L/∂x at the window's first maximum in PyTorch's scan order (row by row; a NaN wins at
    once, the last NaN last) is g[o], summed over the windows that picked it; 0 elsewhere.
    The scan runs over the k×k offsets: a running maximum m and the offset a that last raised
    it (m ← max(m, v), a ← k where v > m); since k grows, a = max over raising k of k, which
    costs two passes over bytes. Backward writes g·1[a = k] into each offset's view when the
    windows are disjoint, and otherwise scatter-adds g at the maxima's flat indices.
    """

    def forward(self, x, *, windows, track, sink=None):
        xp = get_array_module(x)
        padded = windows.padded(x, -math.inf)
        offsets = windows.offsets()
        best = windows.view(padded, *offsets[0]).copy()
        self.windows, self.planes = windows, x.shape[:2]
        if not track:  # values only: no grad and no indices asked for
            for i, j in offsets[1:]:
                xp.maximum(best, windows.view(padded, i, j), out=best)
            return best
        arg_type = xp.int8 if len(offsets) < 128 else xp.int16
        arg = xp.broadcast_to(_first_inside(windows, xp).astype(arg_type), best.shape).copy()
        raised, nan = xp.empty(best.shape, bool), xp.empty(best.shape, bool)
        v = xp.empty_like(best)
        for k, (i, j) in enumerate(offsets[1:], 1):
            # One strided read into a contiguous buffer: the four passes below then run at
            # contiguous speed (measured 0.85 ms instead of 1.3 ms per offset on 64×32×14×14).
            xp.copyto(v, windows.view(padded, i, j))
            xp.greater(v, best, out=raised)
            raised |= xp.isnan(v, out=nan)
            xp.maximum(best, v, out=best)  # NaN-propagating, as the scan
            xp.maximum(arg, raised.view(xp.int8) * arg_type(k), out=arg)
        self.save_for_backward(arg)
        if sink is not None:
            sink.append(_flat_indices(arg, windows, xp))
        return best

    def backward(self, grad):
        (arg,) = self.saved_tensors
        xp, windows = get_array_module(grad), self.windows
        if windows.disjoint():  # one pass per offset, each writing places of its own

            def picked(k, out):  # g where offset k holds the window's maximum, 0 elsewhere
                return xp.multiply(grad, arg == k, out=out)

            return (windows.scatter(picked, self.planes, grad.dtype, xp),)
        # Overlapping windows: one scatter-add of g onto the flat index of every window's
        # maximum in the whole input (repeats add up); measured 0.9 ms on 64×32×14×14, where
        # the pass per kernel offset took ~1.5 ms each.
        planes, plane = math.prod(self.planes), windows.size[0] * windows.size[1]
        where = _flat_indices(arg, windows, xp)
        where += (xp.arange(planes, dtype=xp.int64) * plane).reshape(*self.planes, 1, 1)
        out = xp.zeros(planes * plane, dtype=grad.dtype)
        xp.add.at(out, where.reshape(-1), grad.reshape(-1))
        return (out.reshape(*self.planes, *windows.size),)

    @classmethod
    def name(cls) -> str:
        return "max_pool2d"


def _first_inside(windows: Windows, xp):
    """(OH, OW): the offset of each window's first element inside the input (PyTorch's start
    index, kept when every element of the window is −∞)."""
    first = []
    for n, s, p, d in zip(
        windows.out, windows.stride, windows.padding, windows.dilation, strict=True
    ):
        start = xp.arange(n) * s - p
        first.append(xp.maximum(-(start // d), 0))  # ⌈−start/d⌉ steps of d past the padding
    return first[0][:, None] * windows.kernel[1] + first[1][None, :]


def _flat_indices(arg, windows: Windows, xp):
    """int64 index into each H×W plane of the element at offset ``arg`` of each window."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
        windows.kernel,
        windows.stride,
        windows.padding,
        windows.dilation,
    )
    oh, ow = windows.out
    offset = xp.arange(kh * kw, dtype=xp.int64)
    rows = (xp.arange(oh, dtype=xp.int64) * sh - ph)[:, None] + xp.take(offset // kw * dh, arg)
    cols = (xp.arange(ow, dtype=xp.int64) * sw - pw)[None, :] + xp.take(offset % kw * dw, arg)
    return rows * windows.size[1] + cols


def max_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-d max pooling: y[n, c, oh, ow] = max over i, j < k of
    x[n, c, oh·s − p + i·d, ow·s − p + j·d] (−∞ outside the input), for (N, C, H, W) or
    (C, H, W) input; ``stride`` defaults to ``kernel_size``. With ``return_indices`` also the
    int64 index of each maximum in its H×W plane (for ``max_unpool2d``)."""
    op = "max_pool2d"
    _check_input(input, op)
    windows = _windows(input, kernel_size, stride, padding, dilation, ceil_mode, op)
    return _max_pool(input, windows, return_indices)


def _max_pool(input: Tensor, windows: Windows, return_indices: bool):
    x, batched = _batched(input)
    sink = [] if return_indices else None
    track = return_indices or (input.requires_grad and is_grad_enabled())
    out = MaxPool2d.apply(x, windows=windows, track=track, sink=sink)
    out = out if batched else out.squeeze(0)
    if not return_indices:
        return out
    indices = sink[0] if batched else sink[0][0]
    return out, Tensor._make(indices, False)


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------


class AvgPool2d(Function):
    """y[o] = (Σ over window o of x, zero padding) / D[o]; equals the window sums of
    ``x.unfold`` divided by D, in one node. ∂L/∂x = Σ over the windows holding x of g[o]/D[o].

    D[o] is ``divisor_override`` when given, else the window's size clipped to the padded
    input (``count_include_pad``, so a ceil_mode window hanging past the padding counts only
    its part inside) or to the input itself (``count_include_pad=False``).
    """

    def forward(self, x, *, windows, count_include_pad, divisor_override):
        xp = get_array_module(x)
        padded = windows.padded(x, 0)
        offsets = windows.offsets()
        out = windows.view(padded, *offsets[0]).copy()
        for i, j in offsets[1:]:
            out += windows.view(padded, i, j)
        if divisor_override is not None:
            divisor = xp.asarray(divisor_override, dtype=x.dtype)
        else:
            h, w = (_window_counts(windows, dim, count_include_pad, xp) for dim in (0, 1))
            divisor = (h[:, None] * w[None, :]).astype(x.dtype)
        out /= divisor
        self.windows, self.planes = windows, x.shape[:2]
        self.save_for_backward(divisor)
        return out

    def backward(self, grad):
        (divisor,) = self.saved_tensors
        xp = get_array_module(grad)
        share = grad / divisor

        def spread(k, out):  # every element of a window gets its share g/D
            if out is None:
                return share
            out[...] = share

        return (self.windows.scatter(spread, self.planes, grad.dtype, xp),)

    @classmethod
    def name(cls) -> str:
        return "avg_pool2d"


def _window_counts(windows: Windows, dim: int, count_include_pad: bool, xp):
    """How many elements each window along ``dim`` counts: its span clipped to the padded
    input, or to the input when the padding does not count (PyTorch's avg_pool2d rule)."""
    k, s, p, n = windows.kernel[dim], windows.stride[dim], windows.padding[dim], windows.size[dim]
    start = xp.arange(windows.out[dim]) * s - p
    end = xp.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return xp.minimum(end, n) - xp.maximum(start, 0)


def avg_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-d average pooling: y[n, c, oh, ow] = Σ over i, j < k of x[n, c, oh·s − p + i,
    ow·s − p + j] / D (zero padding), for (N, C, H, W) or (C, H, W) input; ``stride`` defaults
    to ``kernel_size``. D is ``divisor_override``, or the number of elements the window covers
    within the padded input (``count_include_pad=True``) or within the input itself."""
    op = "avg_pool2d"
    _check_input(input, op)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    windows = _windows(input, kernel_size, stride, padding, 1, ceil_mode, op)
    return _avg_pool(input, windows, count_include_pad, divisor_override)


def _avg_pool(input: Tensor, windows: Windows, count_include_pad, divisor_override) -> Tensor:
    x, batched = _batched(input)
    out = AvgPool2d.apply(
        x,
        windows=windows,
        count_include_pad=bool(count_include_pad),
        divisor_override=divisor_override,
    )
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------------------------------------
# Max unpooling: the maxima back to where they came from
# ---------------------------------------------------------------------------------------------


class MaxUnpool2d(Function):
    """y[n, c, indices[n, c, o]] = x[n, c, o], zero elsewhere (the partial inverse of
    ``max_pool2d``); ∂L/∂x[o] = g[n, c, indices[n, c, o]], a gather."""

    def forward(self, x, indices, *, out_size):
        xp = get_array_module(x)
        planes, count = x.shape[:-2], x.shape[-2] * x.shape[-1]
        out = xp.zeros((*planes, out_size[0] * out_size[1]), dtype=x.dtype)
        flat = indices.reshape(*planes, count)
        xp.put_along_axis(out, flat, x.reshape(*planes, count), axis=-1)
        self.save_for_backward(indices)
        return out.reshape(*planes, *out_size)

    def backward(self, grad):
        (indices,) = self.saved_tensors
        xp = get_array_module(grad)
        planes, count = grad.shape[:-2], indices.shape[-2] * indices.shape[-1]
        flat = indices.reshape(*planes, count)
        grad = grad.reshape(*planes, grad.shape[-2] * grad.shape[-1])
        return xp.take_along_axis(grad, flat, axis=-1).reshape(indices.shape), None

    @classmethod
    def name(cls) -> str:
        return "max_unpool2d"


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    output_size=None,
) -> Tensor:
    """Place each value of ``input`` at its ``indices`` (from ``max_pool2d(...,
    return_indices=True)``) in a zero plane of size ``output_size``, by default
    ((H − 1)·s − 2p + k) per dim; (N, C, H, W) or (C, H, W)."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    output_size=None,
) -> Tensor:
    """Place each value of ``input`` at its ``indices`` (positions along L, from
    ``max_pool1d(..., return_indices=True)``) in a zero row of length ``output_size``, by
    default (L − 1)·s − 2p + k; (N, C, L) or (C, L). ``max_unpool2d`` over a height of 1."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def _max_unpool(op: str, dims: int, input, indices, kernel_size, stride, padding, output_size):
    check_tensor(input, "input", op)
    check_tensor(indices, "indices", op)
    check_floating(input, "input", op)
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{op}: expected a {dims + 1}D or {dims + 2}D input, but got a tensor of shape "
            f"{input.shape}"
        )
    if indices.shape != input.shape:
        raise RuntimeError(
            f"{op}: expected indices of the input's shape {input.shape}, but got indices of "
            f"shape {indices.shape}"
        )
    if indices.dtype.kind != "i" or indices.dtype.itemsize != 8:
        raise RuntimeError(
            f"{op}: elements in indices should be type int64 but got {indices.dtype}"
        )
    kernel = _ints(kernel_size, dims, "kernel_size", op)
    stride = kernel if _no_stride(stride) else _ints(stride, dims, "stride", op)
    padding = _ints(padding, dims, "padding", op)
    size = _unpool_size(input.shape[-dims:], kernel, stride, padding, output_size, op)
    if indices.numel():
        outside = (indices.data < 0) | (indices.data >= math.prod(size))
        if outside.any():
            bad = int(indices.data[outside].reshape(-1)[0])
            raise RuntimeError(
                f"{op}: found an invalid max index {bad} (output planes are of size "
                f"{'x'.join(map(str, size))})"
            )
    if dims == 2:
        return MaxUnpool2d.apply(input, indices, out_size=size)
    rows = MaxUnpool2d.apply(input.unsqueeze(-2), indices.unsqueeze(-2), out_size=(1, *size))
    return rows.squeeze(-2)


def _unpool_size(size, kernel, stride, padding, output_size, op: str) -> tuple[int, ...]:
    """PyTorch's rule: the default size, or ``output_size`` (one size per spatial dim, or
    those after N and C) within one stride of it."""
    dims = len(kernel)
    default = [
        (n - 1) * s + k - 2 * p for n, k, s, p in zip(size, kernel, stride, padding, strict=True)
    ]
    if output_size is None:
        return tuple(default)
    sizes = tuple(output_size)
    if len(sizes) == dims + 2:
        sizes = sizes[2:]
    if len(sizes) != dims:
        raise ValueError(
            f"{op}: output_size should be a sequence containing {dims} or {dims + 2} elements, "
            f"but it has a length of {len(sizes)}"
        )
    for dim, (n, d, s) in enumerate(zip(sizes, default, stride, strict=True)):
        if not d - s < n < d + s:
            raise ValueError(
                f"{op}: invalid output_size {sizes} (dim {dim} must be between {d - s} and "
                f"{d + s}, exclusive)"
            )
    return tuple(int(n) for n in sizes)
