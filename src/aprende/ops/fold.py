"""unfold (im2col) and fold (col2im) as ops of their own, each one graph node and each the
other's gradient, on the column machinery of the convolutions (``aprende.ops.im2col``).

unfold gathers every sliding K_H × K_W block of a zero-padded (N, C, H, W) input into a column,
(N, C·K_H·K_W, L) with L = OH·OW blocks; fold is its adjoint, adding each column back onto
its block of an (N, C, H, W) output (values of overlapping blocks sum up).
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor
from aprende.ops.im2col import Geometry, add_windows, conv_size, im2col, narrowed

TENSOR_METHODS = ()


def _columns(x, geometry: Geometry):
    """cols[n, c, i, j, p, q] = x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W], (N, C, K_H, K_W, OH, OW)
    from x (N, C, H, W), x̃ zero-padded."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    out = xp.empty((n, c, *geometry.kernel, *geometry.out), x.dtype)
    for start, stop, cols in im2col(x, geometry):
        out[start:stop] = narrowed(cols.reshape(stop - start, c, *geometry.kernel, -1), geometry)
    return out


def _image(cols, geometry: Geometry):
    """x[n, c, p·s_H + i·d_H, q·s_W + j·d_W] += cols[n, c, i, j, p, q] over the zero-padded
    x, cropped: (N, C, H, W) from cols (N, C, K_H, K_W, OH, OW)."""
    xp = get_array_module(cols)
    padded = xp.zeros((*cols.shape[:2], *geometry.padded_size), cols.dtype)
    add_windows(cols, geometry, padded)
    return xp.ascontiguousarray(geometry.crop(padded))


class Unfold(Function):
    """cols[n, (c, i, j), (p, q)] = x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W]: x (N, C, H, W) to
    (N, C·K_H·K_W, OH·OW); equals ``torch.nn.functional.unfold``.

    ∂L/∂x = fold(g): each column's gradient added back onto the block it came from.
    """

    def forward(self, x, *, geometry):
        self.geometry = geometry
        return _flat(_columns(x, geometry))

    def backward(self, grad):
        return (_image(_blocks(grad, self.geometry), self.geometry),)


class Fold(Function):
    """x[n, c, p·s_H + i·d_H, q·s_W + j·d_W] += cols[n, (c, i, j), (p, q)] over the zero-padded
    output, cropped to ``output_size``: (N, C·K_H·K_W, L) to (N, C, H, W); equals
    ``torch.nn.functional.fold``.

    ∂L/∂cols = unfold(g): each column reads the gradient of the block it was added onto.
    """

    def forward(self, cols, *, geometry):
        self.geometry = geometry
        return _image(_blocks(cols, geometry), geometry)

    def backward(self, grad):
        return (_flat(_columns(grad, self.geometry)),)


def _flat(cols):
    """(N, C, K_H, K_W, OH, OW) as unfold's (N, C·K_H·K_W, OH·OW)."""
    n, c, kh, kw, oh, ow = cols.shape
    return cols.reshape(n, c * kh * kw, oh * ow)


def _blocks(cols, geometry: Geometry):
    """unfold's (N, C·K_H·K_W, OH·OW) as (N, C, K_H, K_W, OH, OW)."""
    (kh, kw), n = geometry.kernel, cols.shape[0]
    return cols.reshape(n, cols.shape[1] // (kh * kw), kh, kw, *geometry.out)


def _pair(value, name: str, op: str) -> tuple[int, int]:
    """An int or a pair of ints, as a pair."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2:
        raise RuntimeError(f"{op}: expected {name} to be an int or a pair, got size {len(values)}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: expected {name} to be an int or a pair of ints, got {value!r}")
    return values


def _settings(op: str, kernel_size, dilation, padding, stride) -> tuple[tuple, ...]:
    """kernel_size, dilation, padding and stride as pairs, checked as PyTorch checks them."""
    kernel = _pair(kernel_size, "kernel_size", op)
    dilation = _pair(dilation, "dilation", op)
    padding = _pair(padding, "padding", op)
    stride = _pair(stride, "stride", op)
    for name, values in (("kernel size", kernel), ("dilation", dilation), ("stride", stride)):
        if min(values) < 1:
            raise RuntimeError(f"{op}: {name} should be greater than zero, got {values}")
    if min(padding) < 0:
        raise RuntimeError(f"{op}: padding should be non-negative, got {padding}")
    return kernel, dilation, padding, stride


def _check_input(input: Tensor, op: str, dims: int) -> None:
    """A (dims − 1)-D unbatched or dims-D batched floating or bool tensor; only N may be 0."""
    check_tensor(input, "input", op)
    if input.ndim not in (dims - 1, dims) or 0 in input.shape[input.ndim - dims + 1 :]:
        raise RuntimeError(
            f"{op}: expected a {dims - 1}-D or {dims}-D (batch mode) input with non-zero "
            f"dimensions except possibly the batch, got an input of shape {input.shape}"
        )
    if input.dtype.kind not in "fb":
        raise NotImplementedError(f"{op}: not implemented for {input.dtype}")


def _batched(node: type[Function], input: Tensor, dims: int, geometry: Geometry) -> Tensor:
    """The node over a batch; an unbatched input goes through as a batch of one."""
    if input.ndim == dims:
        return node.apply(input, geometry=geometry)
    return node.apply(input.unsqueeze(0), geometry=geometry).squeeze(0)


def unfold(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """im2col: every sliding K_H × K_W block of the zero-padded input as a column,
    out[n, c·K_H·K_W + i·K_W + j, p·OW + q] = x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W].

    ``input`` (N, C, H, W) or unbatched (C, H, W); the result is (N, C·K_H·K_W, L) (or
    (C·K_H·K_W, L)) with L = OH·OW, OH = ⌊(H + 2p_H − d_H·(K_H − 1) − 1)/s_H⌋ + 1 and OW alike.
    ``conv2d(x, W)`` is W.view(O, −1) @ unfold(x) reshaped to (N, O, OH, OW).
    """
    op = "unfold"
    _check_input(input, op, 4)
    kernel, dilation, padding, stride = _settings(op, kernel_size, dilation, padding, stride)
    size = input.shape[-2:]
    pads = (padding[0], padding[0], padding[1], padding[1])
    out = conv_size(size, kernel, stride, pads, dilation)
    if min(out) < 1:
        raise RuntimeError(
            f"{op}: given an input of spatial size {size}, kernel_size={kernel}, "
            f"dilation={dilation}, padding={padding} and stride={stride}, expected at least one "
            f"sliding block per dimension, got {out[0]} x {out[1]}"
        )
    return _batched(Unfold, input, 4, Geometry(size, kernel, stride, dilation, pads, out))


def fold(
    input: Tensor,
    output_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """col2im, the adjoint of ``unfold``: each column added back onto its block,
    out[n, c, p·s_H + i·d_H − p_H, q·s_W + j·d_W − p_W] += x[n, c·K_H·K_W + i·K_W + j, p·OW + q]
    (overlapping blocks sum up; what lands in the padding is dropped).

    ``input`` (N, C·K_H·K_W, L) or unbatched (C·K_H·K_W, L), with L = OH·OW the number of blocks
    that ``unfold`` finds in an ``output_size`` (H, W) image; the result is (N, C, H, W) (or
    (C, H, W)). fold(unfold(x)) is x times the number of blocks that cover each pixel.
    """
    op = "fold"
    _check_input(input, op, 3)
    size = _pair(output_size, "output_size", op)
    kernel, dilation, padding, stride = _settings(op, kernel_size, dilation, padding, stride)
    rows, length = input.shape[-2:]
    if rows % (kernel[0] * kernel[1]):
        raise RuntimeError(
            f"{op}: expected the size of the input's dimension {input.ndim - 2} to be divisible "
            f"by the product of kernel_size={kernel}, got {rows}"
        )
    pads = (padding[0], padding[0], padding[1], padding[1])
    out = conv_size(size, kernel, stride, pads, dilation)
    if min(out) < 1 or out[0] * out[1] != length:
        blocks = f"{max(out[0], 0)} * {max(out[1], 0)} = {max(out[0], 0) * max(out[1], 0)}"
        raise RuntimeError(
            f"{op}: given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding} and stride={stride}, expected the size of the input's last "
            f"dimension to match the number of sliding blocks {blocks}, got {length}"
        )
    return _batched(Fold, input, 3, Geometry(size, kernel, stride, dilation, pads, out))
