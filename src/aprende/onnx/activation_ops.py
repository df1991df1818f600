"""ONNX nodes for the activations beyond ReLU, sigmoid and tanh, written with the operators of
opset 17 (ELU-family, hard and smooth activations, GLU)."""

from __future__ import annotations

import math

from aprende.onnx.graph import GraphBuilder
from aprende.onnx.tracer import Op
from aprende.ops import activation, activation_smooth


def _x(g: GraphBuilder, op: Op) -> str:
    return g.value(op.inputs[0])


def _number(g: GraphBuilder, op: Op, value: float) -> str:
    return g.constant(op.output.data.dtype.type(value))


def _elu(g: GraphBuilder, op: Op) -> str:
    """s·relu(x) + s·α(e^(c·min(x, 0)) − 1): ELU, SELU and CELU in one form."""
    x, o = _x(g, op), op.options
    scale, alpha, c = o.get("scale", 1.0), o.get("alpha", 1.0), o.get("input_scale", 1.0)
    low = g.one("Min", [x, _number(g, op, 0)])
    grown = g.one(
        "Sub", [g.one("Exp", [g.one("Mul", [low, _number(g, op, c)])]), _number(g, op, 1)]
    )
    negative = g.one("Mul", [grown, _number(g, op, scale * alpha)])
    positive = g.one("Mul", [g.one("Relu", [x]), _number(g, op, scale)])
    return g.one("Add", [positive, negative])


def _hardtanh(g: GraphBuilder, op: Op) -> str:
    low, high = op.options.get("min_val", -1.0), op.options.get("max_val", 1.0)
    return g.one("Clip", [_x(g, op), _number(g, op, low), _number(g, op, high)])


def _gelu(g: GraphBuilder, op: Op) -> str:
    """x · Φ(x) = x/2 · (1 + erf(x/√2))."""
    x = _x(g, op)
    erf = g.one("Erf", [g.one("Mul", [x, _number(g, op, math.sqrt(0.5))])])
    half = g.one("Mul", [x, _number(g, op, 0.5)])
    return g.one("Mul", [half, g.one("Add", [erf, _number(g, op, 1)])])


def _gelu_tanh(g: GraphBuilder, op: Op) -> str:
    """x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))."""
    x = _x(g, op)
    cube = g.one("Mul", [g.one("Mul", [x, x]), x])
    inner = g.one("Add", [x, g.one("Mul", [cube, _number(g, op, 0.044715)])])
    tanh = g.one("Tanh", [g.one("Mul", [inner, _number(g, op, math.sqrt(2 / math.pi))])])
    half = g.one("Mul", [x, _number(g, op, 0.5)])
    return g.one("Mul", [half, g.one("Add", [tanh, _number(g, op, 1)])])


def _silu(g: GraphBuilder, op: Op) -> str:
    x = _x(g, op)
    return g.one("Mul", [x, g.one("Sigmoid", [x])])


def _softplus(g: GraphBuilder, op: Op) -> str:
    """log(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's linear tail)."""
    x = _x(g, op)
    beta, threshold = op.options.get("beta", 1.0), op.options.get("threshold", 20.0)
    scaled = g.one("Mul", [x, _number(g, op, beta)])
    smooth = g.one("Div", [g.one("Softplus", [scaled]), _number(g, op, beta)])
    linear = g.one("Greater", [scaled, _number(g, op, threshold)])
    return g.one("Where", [linear, x, smooth])


def _mish(g: GraphBuilder, op: Op) -> str:
    x = _x(g, op)
    return g.one("Mul", [x, g.one("Tanh", [g.one("Softplus", [x])])])


def _logsigmoid(g: GraphBuilder, op: Op) -> str:
    return g.one("Neg", [g.one("Softplus", [g.one("Neg", [_x(g, op)])])])


def _glu(g: GraphBuilder, op: Op) -> str:
    """a · σ(b), a and b the two halves of the input along ``dim``."""
    x, dim = op.inputs[0], int(op.options.get("dim", -1))
    half = x.shape[dim] // 2
    a, b = g.node("Split", [g.value(x), g.ints([half, half])], outputs=2, axis=dim)
    return g.one("Mul", [a, g.one("Sigmoid", [b])])


CONVERTERS = {
    activation.Elu: _elu,
    activation.Hardtanh: _hardtanh,
    activation.Hardsigmoid: lambda g, op: g.one("HardSigmoid", [_x(g, op)], alpha=1 / 6, beta=0.5),
    activation.Hardswish: lambda g, op: g.one("HardSwish", [_x(g, op)]),
    activation_smooth.Gelu: _gelu,
    activation_smooth.GeluTanh: _gelu_tanh,
    activation_smooth.Silu: _silu,
    activation_smooth.Softplus: _softplus,
    activation_smooth.Mish: _mish,
    activation_smooth.LogSigmoid: _logsigmoid,
    activation_smooth.Softsign: lambda g, op: g.one("Softsign", [_x(g, op)]),
    activation_smooth.Glu: _glu,
}
