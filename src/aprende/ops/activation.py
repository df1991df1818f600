"""Activation functions: ReLU, leaky ReLU, the logistic sigmoid and tanh, and the piecewise
family (ELU, SELU, CELU, hardtanh, ReLU6, hardsigmoid, hardswish), with their derivatives.

Each derivative is written beside its function; those of ReLU, sigmoid and tanh are functions of
the output y, so backward keeps only y (and a fused linear + activation node can compute y in
place over the layer's output). The others read the input x (``Pointwise``). At a kink the
derivative is PyTorch's: the one-sided value its kernels pick, noted on each function.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module, is_floating
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


#: The unsigned integer type of each floating size, to mask a float's bits.
_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def relu_derivative(grad, y):
    """g · 1[y > 0] (the step), g itself where y is nan (as PyTorch: 0 where y ≤ 0, else g).

    Computed on g's bits: AND with all ones where y ≤ 0 is false, all zeros where it is true,
    so the result is exactly g or +0 even where g is inf or nan (a product 0 · inf would give
    nan). ``where(y <= 0, 0, g)`` on the random masks a ReLU makes measured 3-10x slower
    (131 against 40 µs on 64 × 128, 6.4 against 0.9 ms on 16 × 16 × 32 × 32)."""
    xp = get_array_module(grad)
    unsigned = _BITS.get(grad.dtype.itemsize) if grad.dtype.kind == "f" else None
    if unsigned is None or y.shape != grad.shape or grad.ndim == 0:
        return xp.where(y <= 0, 0, grad)
    mask = xp.less_equal(y, 0).view(np.uint8).astype(unsigned)  # 1 where the step is 0
    xp.subtract(mask, 1, out=mask)  # 1 → 0, 0 → all ones (unsigned wrap-around)
    return xp.bitwise_and(grad.view(unsigned), mask).view(grad.dtype)


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
    """a for a > 0, s·a otherwise; ∂/∂a = 1 for a > 0, s otherwise (s at the kink a = 0)."""

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
    """max(0, a); derivative the step 1[a > 0] (0 at a = 0). Integer tensors keep their dtype."""
    if a.dtype == np.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return Relu.apply(a)


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """a for a > 0, negative_slope·a otherwise (derivative negative_slope at a = 0)."""
    require_floating(a, "leaky_relu")
    return LeakyRelu.apply(a, negative_slope=negative_slope)


def sigmoid(a: Tensor) -> Tensor:
    """The logistic σ(a) = 1/(1+e⁻ᵃ); derivative σ(1−σ) (the slides' f(1−f))."""
    return Sigmoid.apply(to_floating(a))


def tanh(a: Tensor) -> Tensor:
    """tanh(a); derivative 1 − tanh² (the slides' 1 − f²)."""
    return Tanh.apply(to_floating(a))


# ---- the piecewise family: f and f′ of the input --------------------------------------------


def require_floating(a: Tensor, op: str) -> None:
    """PyTorch's NotImplementedError for an integer or bool tensor given to a float kernel."""
    if not is_floating(a.dtype):
        raise NotImplementedError(f"{op}: expected a floating-point tensor, got {a.dtype}")


def _in_opmath(function, x, *more):
    """``function(x, *more)`` with float16 computed in float32 and rounded once, as PyTorch's
    CPU kernels do; ±inf and nan give PyTorch's values without NumPy's warnings."""
    dtype = x.dtype
    if dtype == np.float16:
        x, *more = (array.astype(np.float32) for array in (x, *more))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return function(x, *more).astype(dtype, copy=False)


class Pointwise(Function):
    """y = f(x) elementwise; ∂L/∂x = g · f′(x). A subclass writes ``values(x)`` (f) and
    ``slope(x)`` (f′) on arrays; the keyword options of ``apply`` become its attributes."""

    def forward(self, x, **options):
        self.__dict__.update(options)
        self.save_for_backward(x)
        return _in_opmath(self.values, x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return (_in_opmath(lambda x, g: g * self.slope(x), x, grad),)

    def values(self, x):
        raise NotImplementedError

    def slope(self, x):
        raise NotImplementedError


class Elu(Pointwise):
    """s·x for x > 0, s·α(e^(c·x) − 1) otherwise (ELU: s = c = 1; SELU: s, α fixed; CELU:
    c = 1/α); f′ = s for x > 0, s·α·c·e^(c·x) otherwise (so s·α·c at the kink x = 0, and
    nan at nan, as PyTorch's vectorised kernel)."""

    def values(self, x):
        xp = get_array_module(x)
        negative = self.scale * self.alpha * xp.expm1(xp.minimum(x, 0) * self.input_scale)
        return xp.where(x > 0, x * self.scale, negative)

    def slope(self, x):
        xp = get_array_module(x)
        negative = self.scale * self.alpha * self.input_scale
        return xp.where(x > 0, self.scale, negative * xp.exp(xp.minimum(x, 0) * self.input_scale))


class Hardtanh(Pointwise):
    """clip(x, lo, hi); f′ = 1 strictly inside (lo, hi), 0 outside, at both bounds and at nan
    (PyTorch's vectorised kernel)."""

    def values(self, x):
        return get_array_module(x).clip(x, self.min_val, self.max_val)

    def slope(self, x):
        return ((x > self.min_val) & (x < self.max_val)).astype(x.dtype)


class Hardsigmoid(Pointwise):
    """clip(x + 3, 0, 6) / 6; f′ = 1/6 strictly inside (−3, 3), else 0."""

    def values(self, x):
        return get_array_module(x).clip(x + 3, 0, 6) / 6

    def slope(self, x):
        return ((x > -3) & (x < 3)).astype(x.dtype) / 6


class Hardswish(Pointwise):
    """x · clip(x + 3, 0, 6) / 6; f′ = 0 for x ≤ −3, x/3 + 1/2 on (−3, 3), 1 for x ≥ 3
    (PyTorch's values at the kinks ±3; nan at nan)."""

    def values(self, x):
        return x * get_array_module(x).clip(x + 3, 0, 6) / 6

    def slope(self, x):
        xp = get_array_module(x)
        return xp.where(x >= 3, 1, xp.where(x <= -3, 0, x / 3 + 0.5)).astype(x.dtype)


#: SELU's constants (Klambauer et al. 2017): the fixed point of mean 0 and variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU: x for x > 0, α(eˣ − 1) otherwise; f′ = 1 or αeˣ (α at x = 0). ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor."""
    require_floating(input, "elu")
    return Elu.apply(input, alpha=alpha, scale=1.0, input_scale=1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU: λx for x > 0, λα(eˣ − 1) otherwise, λ ≈ 1.0507, α ≈ 1.6733 (self-normalising);
    f′ = λ or λαeˣ (λα at x = 0). ``inplace``: accepted, the result is a new tensor."""
    require_floating(input, "selu")
    return Elu.apply(input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU: x for x > 0, α(e^(x/α) − 1) otherwise; f′ = 1 or e^(x/α) (1 at x = 0: C¹).
    ``inplace``: accepted, the result is a new tensor."""
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    require_floating(input, "celu")
    return Elu.apply(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """clip(x, min_val, max_val); f′ = 1 strictly between the bounds, 0 at and beyond them.
    Integer tensors keep their dtype (the bounds truncated to integers, as PyTorch).
    ``inplace``: accepted, the result is a new tensor."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}"
        )
    if input.dtype == np.bool_:
        raise RuntimeError("hardtanh: Bool inputs not supported for hardtanh")
    if not is_floating(input.dtype):
        min_val, max_val = int(min_val), int(max_val)
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6) = hardtanh(x, 0, 6); f′ = 1 on (0, 6), 0 at 0 and 6.
    ``inplace``: accepted, the result is a new tensor."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """The piecewise-linear sigmoid clip(x/6 + 1/2, 0, 1); f′ = 1/6 on (−3, 3), else 0.
    ``inplace``: accepted, the result is a new tensor."""
    require_floating(input, "hardsigmoid")
    return Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · hardsigmoid(x) (MobileNetV3); f′ = 0 up to −3, x/3 + 1/2 on (−3, 3), 1 from 3 on.
    ``inplace``: accepted, the result is a new tensor."""
    require_floating(input, "hardswish")
    return Hardswish.apply(input)
