"""ONNX nodes for the fused layer ops: linear, convolution, pooling, batch norm, resampling.

Each converter reads the geometry the op recorded (pads, strides, dilations, sizes) and writes
the ONNX node with the same arithmetic; what ONNX cannot express the same way is refused with
the op's name rather than exported approximately.
"""

from __future__ import annotations

import numpy as np

from aprende.autograd import unpack_optional
from aprende.onnx.graph import GraphBuilder
from aprende.onnx.tracer import Op
from aprende.ops import adaptive_pool, conv, dropout, linear, normalization, pool, resample

_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _linear(g: GraphBuilder, op: Op) -> str:
    """y = x Wᵀ + b: Gemm for a matrix x, else MatMul with Wᵀ (+ Add)."""
    x, weight, *bias = op.inputs
    names = [g.value(x), g.value(weight), *(g.value(b) for b in bias)]
    if x.ndim == 2:
        out = g.one("Gemm", names, transB=1)
    else:
        out = g.one("MatMul", [names[0], g.one("Transpose", [names[1]], perm=[1, 0])])
        if bias:
            out = g.one("Add", [out, names[2]])
    activation = op.options.get("activation")
    return g.one(_ACTIVATIONS[activation], [out]) if activation else out


def _unsupported(op: Op, why: str) -> NotImplementedError:
    return NotImplementedError(f"aprende.onnx.export: {op.function.name()}: {why}")


def _check_batched(op: Op) -> None:
    dims = op.options["dims"]
    if op.inputs[0].ndim != dims + 2:
        raise _unsupported(op, f"expected a batched input of {dims + 2} dims")


def _conv_attributes(op: Op) -> dict:
    """kernel_shape, strides, pads, dilations, group of a (transposed) convolution; aprende
    records 1-d convolutions as 2-d ones over a height of 1."""
    options, dims = op.options, op.options["dims"]
    top, bottom, left, right = options["pads"]
    pads = [top, left, bottom, right] if dims == 2 else [left, right]
    return {
        "kernel_shape": list(options["weight_shape"][-dims:]),
        "strides": list(options["stride"][-dims:]),
        "pads": pads,
        "dilations": list(options["dilation"][-dims:]),
        "group": int(options["groups"]),
    }


def _convolution(g: GraphBuilder, op: Op) -> str:
    _check_batched(op)
    return g.one("Conv", [g.value(t) for t in op.inputs], **_conv_attributes(op))


def _convolution_transpose(g: GraphBuilder, op: Op) -> str:
    """output_padding is what the recorded output size adds to the size the geometry gives."""
    _check_batched(op)
    attributes = _conv_attributes(op)
    dims = op.options["dims"]
    begins, ends = attributes["pads"][:dims], attributes["pads"][dims:]
    extra = []
    for i in range(dims):
        n, s, d = op.inputs[0].shape[2 + i], attributes["strides"][i], attributes["dilations"][i]
        k = attributes["kernel_shape"][i]
        extra.append(op.output.shape[2 + i] - ((n - 1) * s - begins[i] - ends[i] + d * (k - 1) + 1))
    names = [g.value(t) for t in op.inputs]
    return g.one("ConvTranspose", names, output_padding=extra, **attributes)


def _pool_attributes(op: Op) -> dict:
    windows = op.options["windows"]
    floor_out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(
            windows.size,
            windows.padding,
            windows.dilation,
            windows.kernel,
            windows.stride,
            strict=True,
        )
    )
    return {
        "kernel_shape": list(windows.kernel),
        "strides": list(windows.stride),
        "pads": [*windows.padding, *windows.padding],
        "ceil_mode": int(tuple(windows.out) != floor_out),
    }


def _max_pool(g: GraphBuilder, op: Op) -> str:
    attributes = _pool_attributes(op) | {"dilations": list(op.options["windows"].dilation)}
    return g.one("MaxPool", [g.value(op.inputs[0])], **attributes)


def _avg_pool(g: GraphBuilder, op: Op) -> str:
    if op.options.get("divisor_override") is not None:
        raise _unsupported(op, "divisor_override has no ONNX equivalent")
    include = int(bool(op.options["count_include_pad"]))
    attributes = _pool_attributes(op) | {"count_include_pad": include}
    return g.one("AveragePool", [g.value(op.inputs[0])], **attributes)


def _adaptive(global_type: str, window_type: str):
    """A global pooling for a 1×1 output; equal windows when the sizes divide; else refused."""

    def convert(g: GraphBuilder, op: Op) -> str:
        x = op.inputs[0]
        size, out = tuple(x.shape[2:]), tuple(op.options["out_size"])
        if out == (1, 1):
            return g.one(global_type, [g.value(x)])
        if any(n % m for n, m in zip(size, out, strict=True)):
            raise _unsupported(op, f"output {out} does not divide the input {size}")
        kernel = [n // m for n, m in zip(size, out, strict=True)]
        return g.one(window_type, [g.value(x)], kernel_shape=kernel, strides=kernel)

    return convert


def _batch_norm(g: GraphBuilder, op: Op) -> str:
    """Evaluation mode only: the running statistics are the mean and variance."""
    options = op.options
    if options["training"]:
        raise _unsupported(
            op, "batch statistics (training mode, or a layer without running statistics)"
        )
    x, *given = op.inputs
    channels, dtype = x.shape[1], x.data.dtype
    weight, bias, mean, var = unpack_optional(tuple(given), options["present"])
    scale = g.value(weight) if weight is not None else g.constant(np.ones(channels, dtype))
    shift = g.value(bias) if bias is not None else g.constant(np.zeros(channels, dtype))
    names = [g.value(x), scale, shift, g.value(mean), g.value(var)]
    return g.one("BatchNormalization", names, epsilon=float(options["eps"]))


def _interpolate(g: GraphBuilder, op: Op) -> str:
    """Resize with PyTorch's coordinate rules; output sizes follow the input's batch and
    channels (taken from its shape at run time) so the batch stays dynamic."""
    options, x = op.options, op.inputs[0]
    if options["mode"] == "nearest":
        modes = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}  # fmt: skip
    else:
        rule = "align_corners" if options["align_corners"] else "pytorch_half_pixel"
        modes = {"mode": "linear", "coordinate_transformation_mode": rule}
    scales = options["scales"]
    if all(s is not None for s in scales):
        factors = g.constant(np.asarray([1.0, 1.0, *scales], dtype=np.float32))
        return g.one("Resize", [g.value(x), "", factors], **modes)
    leading = g.one("Slice", [g.one("Shape", [g.value(x)]), g.ints([0]), g.ints([2])])
    sizes = g.one("Concat", [leading, g.ints(options["sizes"])], axis=0)
    return g.one("Resize", [g.value(x), "", "", sizes], **modes)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _pad(g: GraphBuilder, op: Op) -> str:
    options, x = op.options, op.inputs[0]
    mode = options["mode"]
    if mode not in _PAD_MODES and not (mode == "circular" and g.opset >= 19):
        raise _unsupported(op, f"mode {mode!r} needs opset 19 (wrap)")
    widths = options["widths"]
    pads = g.ints([b for b, _ in widths] + [a for _, a in widths])
    value = g.constant(x.data.dtype.type(options["value"] or 0))
    return g.one("Pad", [g.value(x), pads, value], mode=_PAD_MODES.get(mode, "wrap"))


def _dropout(g: GraphBuilder, op: Op) -> str:
    raise _unsupported(op, "dropout in training mode; export calls model.eval() first")


CONVERTERS = {
    linear.Linear: _linear,
    linear.LinearActivation: _linear,
    conv.Convolution: _convolution,
    conv.ConvolutionTranspose: _convolution_transpose,
    pool.MaxPool2d: _max_pool,
    pool.AvgPool2d: _avg_pool,
    adaptive_pool.AdaptiveAvgPool2d: _adaptive("GlobalAveragePool", "AveragePool"),
    adaptive_pool.AdaptiveMaxPool2d: _adaptive("GlobalMaxPool", "MaxPool"),
    normalization.BatchNorm: _batch_norm,
    resample.Interpolate: _interpolate,
    resample.Pad: _pad,
    dropout.Dropout: _dropout,
    dropout.FeatureDropout: _dropout,
}
