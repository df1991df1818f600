"""``aprende.onnx.export``: a model as an ONNX file, with ``torch.onnx.export``'s arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import onnx
from onnx import helper

from aprende._tensor import Tensor
from aprende.autograd import no_grad
from aprende.nn.module import Module
from aprende.onnx import activation_ops, layer_ops, tensor_ops
from aprende.onnx.graph import GraphBuilder
from aprende.onnx.tracer import Op, tracing

CONVERTERS = tensor_ops.CONVERTERS | layer_ops.CONVERTERS | activation_ops.CONVERTERS
MIN_OPSET = 17


def _as_tuple(args) -> tuple[Tensor, ...]:
    args = args if isinstance(args, tuple | list) else (args,)
    for arg in args:
        if not isinstance(arg, Tensor):
            raise TypeError(
                f"aprende.onnx.export: args must be Tensors (or a tuple of them), got "
                f"{type(arg).__name__}"
            )
    return tuple(args)


def _dims(tensor: Tensor, axes) -> list:
    """The declared shape: a name (dim_param) on each dynamic axis, the size elsewhere."""
    named = axes if isinstance(axes, Mapping) else {axis: f"dim_{axis}" for axis in axes}
    return [named.get(axis, size) for axis, size in enumerate(tensor.shape)]


def _value_info(name: str, tensor: Tensor, axes) -> onnx.ValueInfoProto:
    element = tensor_ops.onnx_type(tensor.data.dtype)
    return helper.make_tensor_value_info(name, element, _dims(tensor, axes))


def _convert(g: GraphBuilder, op: Op) -> None:
    converter = CONVERTERS.get(op.function)
    if converter is None:
        supported = sorted({function.name() for function in CONVERTERS})
        raise NotImplementedError(
            f"aprende.onnx.export: no ONNX conversion for the op {op.function.name()!r} "
            f"({op.function.__name__}); the ops exported are: {', '.join(supported)}"
        )
    g.bind(op.output, converter(g, op))


def export(
    model: Module,
    args: Tensor | tuple[Tensor, ...],
    f,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping[str, Mapping[int, str] | Sequence[int]] | None = None,
    opset_version: int = MIN_OPSET,
) -> onnx.ModelProto:
    """Trace ``model(*args)`` in eval mode and write it as an ONNX model to ``f`` (a path or a
    binary file); returns the ``onnx.ModelProto`` too.

    As ``torch.onnx.export``: ``input_names``/``output_names`` name the graph's inputs and
    outputs (default ``input``/``output``, numbered when several), ``dynamic_axes`` maps a name
    to the axes whose size may change ({name: {0: "batch"}} or {name: [0]}); by default axis 0
    (the batch) of every input and output is dynamic. Every op of the forward pass is recorded
    (``aprende.onnx.tracer``), so custom modules export as long as their ops have an ONNX
    conversion; shapes computed in Python other than the batch are fixed at their traced values.
    The model's train/eval flags are restored afterwards.
    """
    if not isinstance(model, Module):
        raise TypeError(f"aprende.onnx.export: expected a Module, got {type(model).__name__}")
    if opset_version < MIN_OPSET:
        raise ValueError(f"aprende.onnx.export: opset_version must be >= {MIN_OPSET}")
    inputs = _as_tuple(args)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad(), tracing() as ops:
            result = model(*inputs)
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
    outputs = _as_tuple(result)
    input_names = list(input_names or _default_names("input", len(inputs)))
    output_names = list(output_names or _default_names("output", len(outputs)))
    if len(input_names) != len(inputs) or len(output_names) != len(outputs):
        raise ValueError(
            f"aprende.onnx.export: {len(input_names)} input names for {len(inputs)} inputs, "
            f"{len(output_names)} output names for {len(outputs)} outputs"
        )
    if dynamic_axes is None:
        dynamic_axes = {name: {0: "batch"} for name in [*input_names, *output_names]}
    state_names = {id(value): key for key, value in model.state_dict(keep_vars=True).items()}
    g = GraphBuilder(opset_version, state_names)
    for tensor, name in zip(inputs, input_names, strict=True):
        g.bind(tensor, name)
    for op in ops:
        _convert(g, op)
    for tensor, name in zip(outputs, output_names, strict=True):
        if not g.has(tensor):
            raise RuntimeError(
                f"aprende.onnx.export: the output {name!r} was not computed by recorded ops "
                "from the inputs (computed on raw arrays, or a constant)"
            )
        g.nodes.append(helper.make_node("Identity", [g.value(tensor)], [name]))
    declared = [
        [_value_info(n, t, dynamic_axes.get(n, {})) for t, n in zip(ts, ns, strict=True)]
        for ts, ns in ((inputs, input_names), (outputs, output_names))
    ]
    graph = helper.make_graph(g.nodes, type(model).__name__, *declared, g.initializers)
    proto = helper.make_model(
        graph,
        producer_name="aprende",
        opset_imports=[helper.make_opsetid("", opset_version)],
    )
    onnx.checker.check_model(proto)
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, str(Path(f)))
    return proto


def _default_names(stem: str, count: int) -> list[str]:
    return [stem] if count == 1 else [f"{stem}{i}" for i in range(count)]
