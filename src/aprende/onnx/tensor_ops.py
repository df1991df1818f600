"""ONNX nodes for the tensor ops: arithmetic, activations, reductions, softmax, shapes.

Each converter takes the graph builder and one recorded ``Op`` and returns the name of the
value that holds the op's output. Shapes that would pin the batch size (a ``view(n, -1)``) are
written so that they follow the input's batch instead, which keeps the batch dynamic.
"""

from __future__ import annotations

from onnx import helper

from aprende.onnx.graph import GraphBuilder
from aprende.onnx.tracer import Op
from aprende.ops import activation, binary_math, elementwise, reduce, shape


def onnx_type(dtype) -> int:
    """The ONNX element type of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(dtype)


def inputs_as(g: GraphBuilder, op: Op) -> list[str]:
    """The op's inputs by name, each cast to the output's dtype where it differs (ONNX's
    arithmetic takes operands of one type; NumPy promotes)."""
    names = []
    for tensor in op.inputs:
        name = g.value(tensor)
        if tensor.dtype != op.output.dtype:
            name = g.one("Cast", [name], to=onnx_type(op.output.data.dtype))
        names.append(name)
    return names


def _plain(op_type: str):
    def convert(g: GraphBuilder, op: Op) -> str:
        return g.one(op_type, inputs_as(g, op))

    return convert


def _square(g: GraphBuilder, op: Op) -> str:
    x = g.value(op.inputs[0])
    return g.one("Mul", [x, x])


def _leaky_relu(g: GraphBuilder, op: Op) -> str:
    slope = op.options.get("negative_slope", 0.01)
    return g.one("LeakyRelu", [g.value(op.inputs[0])], alpha=float(slope))


def _clamp(g: GraphBuilder, op: Op) -> str:
    dtype = op.output.data.dtype
    present = op.options.get("present", (False, False))
    if not any(present):  # number bounds: one Clip
        bounds = [op.options.get("low"), op.options.get("high")]
        names = ["" if b is None else g.constant(dtype.type(b)) for b in bounds]
        return g.one("Clip", [g.value(op.inputs[0]), *names])
    tensors = iter(op.inputs[1:])  # tensor bounds (broadcast): Max, then Min
    out = g.value(op.inputs[0])
    for there, number, combine in zip(
        present, (op.options.get("low"), op.options.get("high")), ("Max", "Min"), strict=True
    ):
        if there:
            out = g.one(combine, [out, g.value(next(tensors))])
        elif number is not None:
            out = g.one(combine, [out, g.constant(dtype.type(number))])
    return out


def _cast(g: GraphBuilder, op: Op) -> str:
    return g.one("Cast", [g.value(op.inputs[0])], to=onnx_type(op.output.data.dtype))


def _softmax(op_type: str):
    def convert(g: GraphBuilder, op: Op) -> str:
        return g.one(op_type, [g.value(op.inputs[0])], axis=int(op.options.get("dim", -1)))

    return convert


def _reduction(op_type: str):
    """ReduceSum takes its axes as an input from opset 13, the others from opset 18."""

    def convert(g: GraphBuilder, op: Op) -> str:
        axes = op.options.get("axes")
        keepdims = int(bool(op.options.get("keepdim", False)))
        inputs = [g.value(op.inputs[0])]
        if axes is None:
            return g.one(op_type, inputs, keepdims=keepdims)
        if op_type == "ReduceSum" or g.opset >= 18:
            return g.one(op_type, [*inputs, g.ints(axes)], keepdims=keepdims)
        return g.one(op_type, inputs, axes=list(axes), keepdims=keepdims)

    return convert


def _reshape(g: GraphBuilder, op: Op) -> str:
    """0 in an ONNX shape copies that dimension from the input: the batch stays dynamic."""
    x, out = op.inputs[0], op.output.shape
    target = list(out)
    if x.ndim and out and out[0] == x.shape[0]:
        target[0] = 0
    return g.one("Reshape", [g.value(x), g.ints(target)])


def _permute(g: GraphBuilder, op: Op) -> str:
    return g.one("Transpose", [g.value(op.inputs[0])], perm=list(op.options["dims"]))


def _expand(g: GraphBuilder, op: Op) -> str:
    """A dimension the input already has is written as 1: Expand broadcasts both ways, so the
    input's own (possibly dynamic) size is kept there."""
    x, target = op.inputs[0], list(op.options["shape"])
    offset = len(target) - x.ndim
    for i, size in enumerate(x.shape):
        if target[offset + i] == size:
            target[offset + i] = 1
    return g.one("Expand", [g.value(x), g.ints(target)])


def _cat(g: GraphBuilder, op: Op) -> str:
    return g.one("Concat", inputs_as(g, op), axis=int(op.options.get("dim", 0)))


def _identity(g: GraphBuilder, op: Op) -> str:
    return g.one("Identity", [g.value(op.inputs[0])])


CONVERTERS = {
    elementwise.Add: _plain("Add"),
    elementwise.Sub: _plain("Sub"),
    elementwise.Mul: _plain("Mul"),
    elementwise.Div: _plain("Div"),
    elementwise.Pow: _plain("Pow"),
    elementwise.Neg: _plain("Neg"),
    elementwise.Exp: _plain("Exp"),
    elementwise.Log: _plain("Log"),
    elementwise.Sqrt: _plain("Sqrt"),
    elementwise.Abs: _plain("Abs"),
    elementwise.Sign: _plain("Sign"),
    elementwise.Square: _square,
    binary_math.Clamp: _clamp,
    elementwise.Maximum: _plain("Max"),
    elementwise.Minimum: _plain("Min"),
    elementwise.Where: lambda g, op: g.one("Where", [g.value(t) for t in op.inputs]),
    elementwise.Clone: _identity,
    elementwise.ToDevice: _identity,
    elementwise.Cast: _cast,
    activation.Relu: _plain("Relu"),
    activation.LeakyRelu: _leaky_relu,
    activation.Sigmoid: _plain("Sigmoid"),
    activation.Tanh: _plain("Tanh"),
    reduce.Sum: _reduction("ReduceSum"),
    reduce.Mean: _reduction("ReduceMean"),
    reduce.LogSumExp: _reduction("ReduceLogSumExp"),
    reduce.Softmax: _softmax("Softmax"),
    reduce.LogSoftmax: _softmax("LogSoftmax"),
    shape.Reshape: _reshape,
    shape.Permute: _permute,
    shape.Expand: _expand,
    shape.Cat: _cat,
}
