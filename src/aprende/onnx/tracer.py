"""Recording a forward pass: every op (autograd ``Function``) applied, with its inputs, options
and output.

Tracing at the level of ops rather than modules covers any ``Module``, whatever its
``forward`` does (a U-Net's ``cat`` of skips, a residual ``x + f(x)``, a ``view``): every
layer and every tensor operation of aprende runs through ``Function.apply``, which calls the
tracer while one is installed. Modules that compute nothing (Identity, Dropout in eval mode)
return their input and leave no trace, exactly as they should.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

from aprende import autograd
from aprende._tensor import Tensor


class Op(NamedTuple):
    """One op applied during the traced forward pass."""

    function: type  # the Function subclass
    inputs: tuple  # the input tensors, in the order forward received them
    options: dict  # the keyword options of forward (shapes, strides, dims, ...)
    output: Tensor


@contextmanager
def tracing():
    """Record the ops applied inside the block into the yielded list (nested tracing is an
    error: one recording at a time)."""
    if autograd._tracer is not None:
        raise RuntimeError("aprende.onnx: a forward pass is already being traced")
    ops: list[Op] = []

    def record(function, inputs, options, output):
        ops.append(Op(function, inputs, options, output))

    autograd._tracer = record
    try:
        yield ops
    finally:
        autograd._tracer = None
