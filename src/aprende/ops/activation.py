"""Activation functions: ReLU, leaky ReLU, the logistic sigmoid and tanh, with their derivatives.

Each derivative is written beside its function; those of ReLU, sigmoid and tanh are functions of
the output y, so backward keeps only y (and a fused linear + activation node can compute y in
place over the layer's output).
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops.elementwise import to_floating

# Activations whose derivative is a function of their output y: the backward pass needs only
# y, and a fused linear + activation node (``aprende.ops.linear.LinearActivation``) can compute y in
# place over the layer's fresh output. Each forward takes ``out=`` for that; each derivative
# returns ∂L/∂a from ∂L/∂y and y.


def relu_values(a, out=None):
    """max(a, 0)."""
    xp = get_array_module(a)
    # NumPy's maximum is vectorised for two arrays, not for an array and a scalar:
    # max(a, zeros) measured 0.8 µs against 3.0 µs for max(a, 0) on (64, 128).
    zero = backend.constant(0, a.shape, a.dtype) if xp is np and a.size >= 1024 else 0
    return xp.maximum(a, zero, out=out)


def relu_derivative(grad, y):
    """g · 1[y > 0] (the step)."""
    return grad * (y > 0)


def sigmoid_values(a, out=None):
    """σ(a) = 1/(1+e⁻ᵃ), in two branches so that exp never overflows (``out`` unused)."""
    xp = get_array_module(a)
    e = xp.exp(-xp.abs(a))  # σ(a) = 1/(1+e⁻ᵃ) = eᵃ/(1+eᵃ)
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(grad, y):
    """g · y(1 − y) (the slides' f(1 − f))."""
    return grad * y * (1 - y)


def tanh_values(a, out=None):
    """tanh(a)."""
    return get_array_module(a).tanh(a, out=out)


def tanh_derivative(grad, y):
    """g · (1 − y²) (the slides' 1 − f²)."""
    return grad * (1 - y * y)


#: name -> (values, derivative) of the activations above.
ACTIVATIONS = {
    "relu": (relu_values, relu_derivative),
    "sigmoid": (sigmoid_values, sigmoid_derivative),
    "tanh": (tanh_values, tanh_derivative),
}


class Relu(Function):
    """max(a, 0); ∂/∂a = 1[a > 0], read from the output (1[y > 0])."""

    def forward(self, a):
        out = relu_values(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (relu_derivative(grad, out),)


class LeakyRelu(Function):
    """a for a > 0, s·a otherwise; ∂/∂a = 1 for a > 0, s otherwise."""

    def forward(self, a, negative_slope=0.01):
        self.save_for_backward(a)
        self.slope = negative_slope
        return get_array_module(a).where(a > 0, a, a * a.dtype.type(negative_slope))

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (get_array_module(grad).where(a > 0, grad, grad * grad.dtype.type(self.slope)),)


class Sigmoid(Function):
    """σ(a) = 1/(1 + e⁻ᵃ); ∂/∂a = σ(1 − σ), read from the output."""

    def forward(self, a):
        out = sigmoid_values(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (sigmoid_derivative(grad, out),)


class Tanh(Function):
    """tanh(a); ∂/∂a = 1 − tanh², read from the output."""

    def forward(self, a):
        out = tanh_values(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (tanh_derivative(grad, out),)


def relu(a: Tensor) -> Tensor:
    """max(0, a); derivative the step 1[a > 0]."""
    return Relu.apply(a)


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """a for a > 0, negative_slope·a otherwise."""
    return LeakyRelu.apply(a, negative_slope=negative_slope)


def sigmoid(a: Tensor) -> Tensor:
    """The logistic σ(a) = 1/(1+e⁻ᵃ); derivative σ(1−σ) (the slides' f(1−f))."""
    return Sigmoid.apply(to_floating(a))


def tanh(a: Tensor) -> Tensor:
    """tanh(a); derivative 1 − tanh² (the slides' 1 − f²)."""
    return Tanh.apply(to_floating(a))
