"""Convolution and transposed convolution over (N, C, H, W) and (N, C, L), each one graph node.

Both run as im2col + GEMM. ``im2col`` gathers, for every output position, the K_H·K_W input
values the kernel sees: a (N, C, K_H, K_W, OH, OW) array filled by one strided-slice copy per
kernel offset (a loop over the K_H·K_W offsets, never over samples or pixels). The convolution is
then one batched matrix product W (O, C·K_H·K_W) @ cols (N, C·K_H·K_W, OH·OW) that lands
directly in NCHW. ``col2im`` is its adjoint: the same loop of strided adds. A 1-d convolution is
the 2-d one over a height of 1 (reshapes only, the same numbers); an unbatched input is a batch
of one.
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor


def _is_pointwise(kernel: tuple, stride: tuple, pads: tuple) -> bool:
    """A 1×1 kernel at stride 1 without padding: im2col is the input itself, reshaped."""
    return kernel == (1, 1) and stride == (1, 1) and not any(pads)


def _im2col(x, kernel: tuple, stride: tuple, dilation: tuple, pads: tuple, out_size: tuple):
    """cols[n, c, i, j, p, q] = x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W] for x̃ = x zero-padded by
    ``pads`` (top, bottom, left, right); shape (N, C, K_H, K_W, OH, OW)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    n, c, h, w = x.shape
    top, bottom, left, right = pads
    if _is_pointwise(kernel, stride, pads) and (h, w) == out_size:
        return x.reshape(n, c, 1, 1, h, w)
    xp = get_array_module(x)
    if any(pads):
        padded = xp.zeros((n, c, h + top + bottom, w + left + right), x.dtype)
        padded[:, :, top : top + h, left : left + w] = x
    else:
        padded = x
    cols = xp.empty((n, c, kh, kw, oh, ow), x.dtype)
    for i in range(kh):
        row = i * dh
        for j in range(kw):
            col = j * dw
            cols[:, :, i, j] = padded[
                :, :, row : row + sh * (oh - 1) + 1 : sh, col : col + sw * (ow - 1) + 1 : sw
            ]
    return cols


def _col2im(cols, stride: tuple, dilation: tuple, pads: tuple, size: tuple):
    """The adjoint of ``_im2col``: x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W] += cols[n, c, i, j, p, q]
    over a zero x̃ of the padded size, then cropped by ``pads`` to ``size`` (H, W)."""
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw), (h, w) = stride, dilation, size
    top, bottom, left, right = pads
    if _is_pointwise((kh, kw), stride, pads) and (oh, ow) == (h, w):
        return cols.reshape(n, c, h, w)
    xp = get_array_module(cols)
    padded = xp.zeros((n, c, h + top + bottom, w + left + right), cols.dtype)
    for i in range(kh):
        row = i * dh
        for j in range(kw):
            col = j * dw
            padded[
                :, :, row : row + sh * (oh - 1) + 1 : sh, col : col + sw * (ow - 1) + 1 : sw
            ] += cols[:, :, i, j]
    if not any(pads):
        return padded
    return padded[:, :, top : top + h, left : left + w]


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
        self.input_shape, self.shape, self.weight_shape = x.shape, shape, weight_shape
        self.groups = groups
        self.stride, self.pads, self.dilation = stride, pads, dilation
        n, c, h, w = shape
        out_channels, _, kh, kw = weight_shape
        self.out_size = oh, ow = _conv_size((h, w), (kh, kw), stride, pads, dilation)
        cols = _im2col(x.reshape(shape), (kh, kw), stride, dilation, pads, (oh, ow))
        # A 1×1 kernel's cols is a view of x: keep x itself, so its in-place check applies.
        self.pointwise = _is_pointwise((kh, kw), stride, pads)
        self.save_for_backward(x if self.pointwise else cols, weight)
        rows = cols.reshape(n, groups, c // groups * kh * kw, oh * ow)
        kernel = weight.reshape(groups, out_channels // groups, -1)
        out = get_array_module(x).matmul(kernel, rows).reshape(n, out_channels, oh, ow)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)  # a fresh array from the GEMM: in place saves a pass
        return out.reshape(_output_shape(x.shape, out.shape, dims))

    def backward(self, grad):
        cols, weight = self.saved_tensors
        needs, groups, (oh, ow) = self.needs, self.groups, self.out_size
        n, c, h, w = self.shape
        out_channels, _, kh, kw = self.weight_shape
        xp = get_array_module(grad)
        g = grad.reshape(n, groups, out_channels // groups, oh * ow)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            kernel = weight.reshape(groups, out_channels // groups, -1)
            grad_cols = xp.matmul(kernel.transpose(0, 2, 1), g)  # Wᵀ g: (N, groups, C/g·K·K, L)
            grad_x = _col2im(
                grad_cols.reshape(n, c, kh, kw, oh, ow),
                self.stride,
                self.dilation,
                self.pads,
                (h, w),
            ).reshape(self.input_shape)
        if needs[1]:
            rows = cols.reshape(n, groups, -1, oh * ow)
            # Σₙ gₙ colsₙᵀ: one GEMM per sample (BLAS reads the transposed operand as it is),
            # then a sum over N: cheaper than copying cols into one (C·K·K, N·L) operand.
            grad_w = xp.matmul(g, rows.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
        if len(needs) == 3 and needs[2]:
            grad_b = g.reshape(n, out_channels, oh * ow).sum(axis=(0, 2))
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
        self.input_shape, self.shape, self.weight_shape = x.shape, shape, weight_shape
        self.stride, self.pads, self.dilation, self.groups = stride, pads, dilation, groups
        self.size = size
        self.save_for_backward(x, weight)
        n, c, h, w = shape
        _, out_per_group, kh, kw = weight_shape
        kernel = weight.reshape(groups, c // groups, -1)
        rows = get_array_module(x).matmul(
            kernel.transpose(0, 2, 1), x.reshape(n, groups, c // groups, h * w)
        )  # Wᵀ x: (N, groups, C_out/g·K·K, H·W)
        cols = rows.reshape(n, groups * out_per_group, kh, kw, h, w)
        out = _col2im(cols, stride, dilation, pads, size)
        if any(pads):
            out = out.copy()  # a crop of the padded sum: the output owns its memory, as PyTorch's
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        return out.reshape(_output_shape(x.shape, out.shape, dims))

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs, groups = self.needs, self.groups
        n, c, h, w = self.shape
        _, out_per_group, kh, kw = self.weight_shape
        xp = get_array_module(grad)
        g = grad.reshape(n, groups * out_per_group, *self.size)
        cols = _im2col(g, (kh, kw), self.stride, self.dilation, self.pads, (h, w))
        rows = cols.reshape(n, groups, out_per_group * kh * kw, h * w)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            kernel = weight.reshape(groups, c // groups, -1)
            grad_x = xp.matmul(kernel, rows).reshape(self.input_shape)
        if needs[1]:
            inputs = x.reshape(n, groups, c // groups, h * w)
            grad_w = xp.matmul(inputs, rows.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
        if len(needs) == 3 and needs[2]:
            grad_b = g.reshape(n, groups * out_per_group, -1).sum(axis=(0, 2))
        return (grad_x, grad_w, grad_b)[: len(needs)]

    @classmethod
    def name(cls) -> str:
        return "conv_transpose"


def _output_shape(input_shape: tuple, batched: tuple, dims: int) -> tuple:
    """The (N, C, H, W) result as the input came: without N when unbatched, without H in 1-d."""
    return input_shape[: -dims - 1] + batched[1:2] + batched[4 - dims :]


def _conv_size(size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> tuple:
    """Output (OH, OW) of a convolution: ⌊(H + p_top + p_bottom − d·(K − 1) − 1)/s⌋ + 1."""
    return tuple(
        (size[k] + pads[2 * k] + pads[2 * k + 1] - dilation[k] * (kernel[k] - 1) - 1) // stride[k]
        + 1
        for k in range(2)
    )


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
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return Convolution.apply(
        *inputs,
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
    op = "conv_transpose2d"
    shape, weight_shape, _ = _layout(op, 2, input, weight, bias, groups, transposed=True)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    stride = _positive(stride, 2, "stride", op)
    dilation = _positive(dilation, 2, "dilation", op)
    padding = _padding(padding, 2, op)
    extra = _padding(output_padding, 2, op)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation, strict=True)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, got "
            f"output_padding={extra}, stride={stride}, dilation={dilation}"
        )
    size = tuple(
        (shape[2 + k] - 1) * stride[k]
        - 2 * padding[k]
        + dilation[k] * (weight.shape[2 + k] - 1)
        + extra[k]
        + 1
        for k in range(2)
    )
    if min(size) < 1:
        raise RuntimeError(
            f"{op}: an input of {shape[2]} x {shape[3]} per channel gives an output of "
            f"{size[0]} x {size[1]}: the output size is too small (reduce the padding)"
        )
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return ConvolutionTranspose.apply(
        *inputs,
        shape=shape,
        weight_shape=weight_shape,
        stride=stride,
        pads=tuple(p for p in padding for _ in range(2)),
        dilation=dilation,
        groups=groups,
        size=size,
        dims=2,
    )
