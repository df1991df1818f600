"""Convolution and transposed convolution over (N, C, H, W) and (N, C, L), each one graph node.

Both run as im2col + GEMM (the column machinery is in ``aprende.ops.im2col``): the convolution
is the matrix product W (O, C·K_H·K_W) @ cols of each block of samples, which lands directly in
NCHW; its input gradient, and the transposed convolution, are col2im of Wᵀ g (or, at stride 1
where that is cheaper, a convolution of g with the flipped kernel). A 1-d convolution is the
2-d one over a height of 1 (reshapes only, the same numbers); an unbatched input is a batch of
one.
"""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor
from aprende.ops.im2col import (
    Geometry,
    bias_gradient,
    col2im,
    conv_size,
    im2col,
    kernel_gradient,
    narrowed,
    widened,
    widened_buffer,
)


def _convolve(x, weight, geometry: Geometry, groups: int, bias=None):
    """y = W im2col(x) + b, (N, O, OH, OW) from x (N, C, H, W) and W (O, C/groups, K_H, K_W),
    block by block."""
    xp = get_array_module(x)
    n, out_channels = x.shape[0], weight.shape[0]
    length = geometry.length
    kernel = weight.reshape(groups, out_channels // groups, -1)
    if not geometry.wide:
        out = xp.empty((n, groups, out_channels // groups, length), x.dtype)
        for start, stop, cols in im2col(x, geometry):
            rows = cols.reshape(stop - start, groups, -1, length)
            xp.matmul(kernel, rows, out=out[start:stop])
        out = out.reshape(n, out_channels, *geometry.out)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        return out
    out = xp.empty((n, out_channels, *geometry.out), x.dtype)
    products = None
    for start, stop, cols in im2col(x, geometry):
        m = stop - start
        if products is None:  # one buffer for every block, the first block the largest
            products = xp.empty((m, groups, out_channels // groups, length), x.dtype)
        xp.matmul(kernel, cols.reshape(m, groups, -1, length), out=products[:m])
        wide = narrowed(products[:m].reshape(m, out_channels, length), geometry)
        if bias is None:
            out[start:stop] = wide
        else:  # the bias joins the copy that drops the wide columns: no pass of its own
            xp.add(wide, bias.reshape(-1, 1, 1), out=out[start:stop])
    return out


def _input_gradient(weight, g, geometry: Geometry, groups: int, channels: int):
    """∂L/∂x of a convolution, (N, C, H, W), from g (N, groups, O/groups, OH·OW).

    At stride 1, when the layer does not widen the channels (O ≤ C) and its padding is at most
    d·(K − 1), it is itself a convolution: of g zero-padded by d·(K − 1) − p on each side, with
    the kernel flipped and its channel axes swapped,
    ∂L/∂x[n, c, h, w] = Σ_{o, i, j} W[o, c, K_H−1−i, K_W−1−j] g̃[n, o, h + i·d_H, w + j·d_W]:
    im2col of g and one product per block, where ``col2im`` makes a K_H·K_W times
    larger product and then adds it up. Measured on U-Net layers (16 → 16 and 32 → 16
    channels, 32 × 32): 0.65 and 0.51 of col2im's time; where O > C (6 → 16, 32 → 64) col2im
    is 5 % faster, and is kept."""
    out_channels = weight.shape[0]
    kernel = weight.reshape(groups, out_channels // groups, -1)
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    top, bottom, left, right = geometry.pads
    pads = (
        dh * (kh - 1) - top,
        dh * (kh - 1) - bottom,
        dw * (kw - 1) - left,
        dw * (kw - 1) - right,
    )
    if not geometry.wide or out_channels > channels or min(pads) < 0:
        return col2im(kernel, g, geometry, channels)
    n = g.shape[0]
    flipped = weight.reshape(groups, out_channels // groups, channels // groups, kh, kw)
    flipped = flipped.transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1].reshape(
        channels, out_channels // groups, kh, kw
    )
    adjoint = Geometry(
        geometry.out, geometry.kernel, (1, 1), geometry.dilation, pads, geometry.size
    )
    return _convolve(g.reshape(n, out_channels, *geometry.out), flipped, adjoint, groups)


class Convolution(Function):
    """y[n, o] = b[o] + Σ_{c ∈ group(o), i, j} W[o, c, i, j] · x̃[n, c, p·s + i·d, q·s + j·d]
    (x̃ the zero-padded input, ``groups`` independent blocks of channels), as the GEMM
    y = W cols with cols = im2col(x); equals ``torch.nn.functional.conv2d``.

    ∂L/∂W = Σₙ gₙ colsₙᵀ, ∂L/∂x = col2im(Wᵀ g) (the transposed convolution of g),
    ∂L/∂b = Σ_{n, p, q} g. Shapes inside: x (N, C, H, W), W (O, C/groups, K_H, K_W).
    """

    def forward(
        self, x, weight, bias=None, *, shape, weight_shape, stride, pads, dilation, groups, dims
    ):
        self.save_for_backward(x, weight)
        self.shape, self.groups = shape, groups
        n, c, h, w = shape
        out_channels, _, kh, kw = weight_shape
        out_size = conv_size((h, w), (kh, kw), stride, pads, dilation)
        self.geometry = geometry = Geometry((h, w), (kh, kw), stride, dilation, pads, out_size)
        out = _convolve(x.reshape(shape), weight, geometry, groups, bias)
        return _finish(out, None, x.shape, dims)

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs, groups, geometry = self.needs, self.groups, self.geometry
        n, c = self.shape[:2]
        out_channels = weight.shape[0]
        xp = get_array_module(grad)
        length = geometry.out[0] * geometry.out[1]
        g = grad.reshape(n, groups, out_channels // groups, length)
        kernel = weight.reshape(groups, out_channels // groups, -1)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = _input_gradient(weight, g, geometry, groups, c).reshape(x.shape)
        if needs[1]:
            total = xp.zeros(kernel.transpose(0, 2, 1).shape, x.dtype)
            wide = None
            for start, stop, cols in im2col(x.reshape(self.shape), geometry):
                rows = cols.reshape(stop - start, groups, -1, geometry.length)
                if wide is None:
                    wide = widened_buffer((stop - start, *g.shape[1:]), geometry, g.dtype, xp)
                kernel_gradient(widened(g[start:stop], geometry, wide), rows, total)
            grad_w = total.transpose(0, 2, 1).reshape(weight.shape)
        if len(needs) == 3 and needs[2]:
            grad_b = bias_gradient(g.reshape(n * out_channels, length), out_channels)
        return (grad_x, grad_w, grad_b)[: len(needs)]


class ConvolutionTranspose(Function):
    """y = col2im(Wᵀ x) + b: the gradient of ``Convolution`` with respect to its input, taken
    as an op of its own (each input value spreads over the output through the kernel);
    equals ``torch.nn.functional.conv_transpose2d``. W has shape (C_in, C_out/groups, K_H, K_W).

    ∂L/∂x = W im2col(g) (the convolution of g with W), ∂L/∂W = Σₙ xₙ im2col(g)ₙᵀ,
    ∂L/∂b = Σ_{n, p, q} g.
    """

    def forward(
        self,
        x,
        weight,
        bias=None,
        *,
        shape,
        weight_shape,
        stride,
        pads,
        dilation,
        groups,
        size,
        dims,
    ):
        self.save_for_backward(x, weight)
        self.shape, self.groups = shape, groups
        n, c, h, w = shape
        _, out_per_group, kh, kw = weight_shape
        # The convolution this one is the adjoint of maps the output (size) to the input (h, w).
        self.geometry = geometry = Geometry(size, (kh, kw), stride, dilation, pads, (h, w))
        kernel = weight.reshape(groups, c // groups, -1)
        rows = x.reshape(n, groups, c // groups, h * w)
        out = col2im(kernel, rows, geometry, groups * out_per_group)
        return _finish(out, bias, x.shape, dims)

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs, groups, geometry = self.needs, self.groups, self.geometry
        n, c, h, w = self.shape
        xp = get_array_module(grad)
        kernel = weight.reshape(groups, c // groups, -1)
        rows = x.reshape(n, groups, c // groups, h * w)
        # the channels named, not -1: an empty batch leaves -1 undetermined
        g = grad.reshape(n, groups * weight.shape[1], *geometry.size)
        grad_x = xp.empty(rows.shape, grad.dtype) if needs[0] else None
        total = xp.zeros(kernel.transpose(0, 2, 1).shape, grad.dtype) if needs[1] else None
        products = wide = None
        if needs[0] or needs[1]:
            for start, stop, cols in im2col(g, geometry):
                m = stop - start
                block = cols.reshape(m, groups, -1, geometry.length)
                if needs[0] and not geometry.wide:
                    xp.matmul(kernel, block, out=grad_x[start:stop])
                elif needs[0]:
                    if products is None:
                        products = xp.empty((m, *rows.shape[1:-1], geometry.length), grad.dtype)
                    xp.matmul(kernel, block, out=products[:m])
                    grad_x[start:stop].reshape(m, *rows.shape[1:-1], h, w)[...] = narrowed(
                        products[:m], geometry
                    )
                if needs[1]:
                    if wide is None:
                        wide = widened_buffer((m, *rows.shape[1:]), geometry, grad.dtype, xp)
                    kernel_gradient(widened(rows[start:stop], geometry, wide), block, total)
        grad_b = None
        if len(needs) == 3 and needs[2]:
            grad_b = bias_gradient(g.reshape(n * g.shape[1], math.prod(geometry.size)), g.shape[1])
        return (
            None if grad_x is None else grad_x.reshape(x.shape),
            None if total is None else total.transpose(0, 2, 1).reshape(weight.shape),
            grad_b,
        )[: len(needs)]

    @classmethod
    def name(cls) -> str:
        return "conv_transpose"


def _finish(out, bias, input_shape: tuple, dims: int):
    """The (N, C, H, W) result plus the bias, shaped as the input came: without N when
    unbatched, without H in 1-d. ``out`` is fresh: adding in place saves a pass."""
    if bias is not None:
        out += bias.reshape(-1, 1, 1)
    return out.reshape(input_shape[: -dims - 1] + out.shape[1:2] + out.shape[4 - dims :])


# ---------------------------------------------------------------------------------------------
# Arguments: checked as PyTorch checks them, then brought to the 2-d batched case
# ---------------------------------------------------------------------------------------------


def _ints(value, dims: int, name: str, op: str) -> tuple[int, ...]:
    """An int, or a sequence of ``dims`` ints, as a tuple of ``dims`` ints."""
    values = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(values) != dims or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise RuntimeError(
            f"{op}: expected {name} to be a single integer value or a list of {dims} values to "
            f"match the convolution dimensions, got {name}={value!r}"
        )
    return values


def _positive(value, dims: int, name: str, op: str) -> tuple[int, ...]:
    values = _ints(value, dims, name, op)
    if min(values) < 1:
        raise RuntimeError(f"{op}: non-positive {name} is not supported, got {name}={value!r}")
    return values


def _padding(padding, dims: int, op: str) -> tuple[int, ...]:
    values = _ints(padding, dims, "padding", op)
    if min(values) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={padding!r}")
    return values


def _pads(op: str, padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple[int, ...]:
    """(before, after) per spatial dim, flat: an int or tuple pads both sides alike; "valid" is
    no padding; "same" pads d·(K − 1) in total, the odd one at the end, as PyTorch."""
    dims = len(kernel)
    if not isinstance(padding, str):
        return tuple(p for p in _padding(padding, dims, op) for _ in range(2))
    if padding == "valid":
        return (0,) * (2 * dims)
    if padding != "same":
        raise RuntimeError(
            f"{op}: invalid padding string {padding!r}, expected 'same' or 'valid' "
            "(or an int or a tuple of ints)"
        )
    if any(s != 1 for s in stride):
        raise RuntimeError(
            f"{op}: padding='same' is not supported for strided convolutions, got stride={stride}"
        )
    pads = ()
    for k, d in zip(kernel, dilation, strict=True):
        total = d * (k - 1)
        pads += (total // 2, total - total // 2)
    return pads


def _layout(op: str, dims: int, input: Tensor, weight: Tensor, bias, groups, transposed: bool):
    """Checks the operands; returns the 4-d shapes of input and weight and the output channels."""
    check_tensor(input, "input", op)
    check_tensor(weight, "weight", op)
    if bias is not None:
        check_tensor(bias, "bias", op)
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) input, got "
            f"an input of shape {input.shape}"
        )
    layout = (
        "in_channels, out_channels/groups" if transposed else "out_channels, in_channels/groups"
    )
    if weight.ndim != dims + 2:
        raise RuntimeError(
            f"{op}: expected a {dims + 2}-D weight of shape ({layout}, *kernel_size), got a "
            f"weight of shape {weight.shape}"
        )
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups!r}")
    channels = input.shape[-dims - 1]
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: expected weight.shape[0] to be divisible by groups={groups}, got a weight of "
            f"shape {weight.shape}"
        )
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        rule = (
            "weight.shape[0]"
            if transposed
            else f"weight.shape[1]·groups = {weight.shape[1]}·{groups}"
        )
        raise RuntimeError(
            f"{op}: groups={groups} and a weight of shape {weight.shape} expect an input with "
            f"{expected} channels ({rule}), got an input of shape {input.shape} with "
            f"{channels} channels"
        )
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    for name, other in (("weight", weight), ("bias", bias)):
        if other is not None and other.dtype != input.dtype:
            raise RuntimeError(
                f"{op}: input ({input.dtype}) and {name} ({other.dtype}) must have the same "
                "dtype; convert the input (x.float()) or the model (model.double())"
            )
    if bias is not None and bias.shape != (out_channels,):
        raise RuntimeError(
            f"{op}: expected a bias of shape ({out_channels},) for a weight of shape "
            f"{weight.shape}, got a bias of shape {bias.shape}"
        )
    batch = input.shape[:1] if input.ndim == dims + 2 else (1,)
    shape = batch + (channels,) + (1,) * (2 - dims) + input.shape[-dims:]
    weight_shape = weight.shape[:2] + (1,) * (2 - dims) + weight.shape[2:]
    return shape, weight_shape, out_channels


def _planar(values: tuple, fill: int) -> tuple:
    """A 1-d setting as the 2-d one over a height of 1."""
    return values if len(values) == 2 else (fill, *values)


def _apply(node: type[Function], input: Tensor, weight: Tensor, bias, **options) -> Tensor:
    """The node over (input, weight) or (input, weight, bias)."""
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return node.apply(*inputs, **options)


def _convolution(op: str, dims: int, input, weight, bias, stride, padding, dilation, groups):
    shape, weight_shape, _ = _layout(op, dims, input, weight, bias, groups, transposed=False)
    stride = _positive(stride, dims, "stride", op)
    dilation = _positive(dilation, dims, "dilation", op)
    pads = _pads(op, padding, weight.shape[2:], stride, dilation)
    size = input.shape[-dims:]
    padded = tuple(size[k] + pads[2 * k] + pads[2 * k + 1] for k in range(dims))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation, strict=True))
    if any(p < r for p, r in zip(padded, reach, strict=True)):
        raise RuntimeError(
            f"{op}: the padded input is {' x '.join(map(str, padded))} per channel, smaller "
            f"than the kernel, which spans {' x '.join(map(str, reach))} with dilation "
            f"{dilation}: expected a padded input at least as large as the dilated kernel"
        )
    return _apply(
        Convolution,
        input,
        weight,
        bias,
        shape=shape,
        weight_shape=weight_shape,
        stride=_planar(stride, 1),
        pads=pads if dims == 2 else (0, 0, *pads),
        dilation=_planar(dilation, 1),
        groups=groups,
        dims=dims,
    )


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation, as PyTorch):
    y[n, o, p, q] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x̃[n, g(o)·C/groups + c, p·s_H + i·d_H,
    q·s_W + j·d_W], with x̃ the input zero-padded by ``padding``.

    ``input`` (N, C, H, W) or unbatched (C, H, W); ``weight`` (O, C/groups, K_H, K_W); ``bias``
    (O,) or None. ``stride``, ``padding`` and ``dilation`` are an int or a pair (H, W);
    ``padding`` may also be "valid" (none) or "same" (output as large as the input, stride 1
    only; an odd total padding puts the extra row/column at the end). ``groups`` splits the
    channels into independent blocks (groups = C: depthwise). The output has shape
    (N, O, ⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1, ...).
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution:
    y[n, o, p] = b[o] + Σ_{c, j} W[o, c, j] · x̃[n, g(o)·C/groups + c, p·s + j·d].

    ``input`` (N, C, L) or unbatched (C, L); ``weight`` (O, C/groups, K); the arguments as
    ``conv2d``'s, with one value per setting. Computed as ``conv2d`` over a height of 1.
    """
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """Transposed 2-d convolution: the gradient of ``conv2d`` with respect to its input, as an op.

    Every input value x[n, c, p, q] adds x · W[c, o, i, j] to y[n, o, p·s_H + i·d_H − p_H,
    q·s_W + j·d_W − p_W] (then + b[o]). ``input`` (N, C_in, H, W) or unbatched;
    ``weight`` (C_in, C_out/groups, K_H, K_W) (note the order); output
    (N, C_out, (H − 1)·s − 2p + d·(K − 1) + output_padding + 1, ...). ``output_padding``
    (smaller than the stride or the dilation) adds rows/columns at the end, to reach the input
    size of a strided ``conv2d`` whose division was not exact.
    """
    return _transposed_convolution(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """Transposed 1-d convolution: every input value x[n, c, p] adds x · W[c, o, j] to
    y[n, o, p·s + j·d − p_L] (then + b[o]).

    ``input`` (N, C_in, L) or unbatched (C_in, L); ``weight`` (C_in, C_out/groups, K); output
    (N, C_out, (L − 1)·s − 2p + d·(K − 1) + output_padding + 1); the arguments as
    ``conv_transpose2d``'s, with one value per setting. Computed as ``conv_transpose2d`` over
    a height of 1.
    """
    return _transposed_convolution(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def _transposed_convolution(
    op: str, dims: int, input, weight, bias, stride, padding, output_padding, groups, dilation
):
    shape, weight_shape, _ = _layout(op, dims, input, weight, bias, groups, transposed=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    stride = _positive(stride, dims, "stride", op)
    dilation = _positive(dilation, dims, "dilation", op)
    padding = _padding(padding, dims, op)
    extra = _padding(output_padding, dims, op)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation, strict=True)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, got "
            f"output_padding={extra}, stride={stride}, dilation={dilation}"
        )
    length = input.shape[-dims:]
    size = tuple(
        (length[k] - 1) * stride[k]
        - 2 * padding[k]
        + dilation[k] * (weight.shape[2 + k] - 1)
        + extra[k]
        + 1
        for k in range(dims)
    )
    if min(size) < 1:
        raise RuntimeError(
            f"{op}: an input of {' x '.join(map(str, length))} per channel gives an output of "
            f"{' x '.join(map(str, size))}: the output size is too small (reduce the padding)"
        )
    return _apply(
        ConvolutionTranspose,
        input,
        weight,
        bias,
        shape=shape,
        weight_shape=weight_shape,
        stride=_planar(stride, 1),
        pads=tuple(p for p in _planar(padding, 0) for _ in range(2)),
        dilation=_planar(dilation, 1),
        groups=groups,
        size=_planar(size, 1),
        dims=dims,
    )
