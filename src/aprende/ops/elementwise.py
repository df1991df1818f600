"""Elementwise operations and their derivatives; broadcasting included.

Each ``Function`` keeps its backward rule right beside its forward: the local derivative of the
operation times the gradient that arrives from above (the chain rule).
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module, is_floating

#: What the ops accept where PyTorch takes a tensor or a number.
TensorLike = Tensor | np.ndarray | float | int | bool


def as_tensor_like(value: TensorLike, like: Tensor | None = None) -> Tensor:
    """A Tensor from a tensor, array or Python number.

    A Python number takes the dtype of the tensor it meets (``x * 2`` stays float32, as in
    PyTorch), except that a float meeting an integer tensor becomes the default float dtype.
    """
    if isinstance(value, Tensor):
        return value
    xp = np if like is None else get_array_module(like.data)
    if isinstance(value, bool | int | float) and like is not None:
        dtype = like.dtype
        if isinstance(value, float) and dtype.kind != "f":
            dtype = backend.get_default_dtype()
        elif isinstance(value, int) and dtype == np.bool_ and not isinstance(value, bool):
            dtype = backend.int64
        return Tensor._make(xp.asarray(value, dtype=dtype), False)
    array = xp.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray | np.generic):
        array = array.astype(backend.get_default_dtype())
    return Tensor._make(array, False)


def _pair(a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """Two operands as tensors; an integer tensor meeting a float one takes the float's dtype
    (PyTorch's promotion; NumPy would make int64 + float32 a float64)."""
    if isinstance(a, Tensor):
        b = as_tensor_like(b, a)
    else:
        b = as_tensor_like(b)
        a = as_tensor_like(a, b)
    if a.dtype != b.dtype:
        a_float, b_float = is_floating(a.dtype), is_floating(b.dtype)
        if a_float and not b_float:
            b = Tensor._make(b.data.astype(a.dtype), False)
        elif b_float and not a_float:
            a = Tensor._make(a.data.astype(b.dtype), False)
    return a, b


# ---- arithmetic -------------------------------------------------------------------------------


class Add(Function):
    """a + b; ∂/∂a = ∂/∂b = 1, each gradient summed back over its broadcast dims."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    """a − b; ∂/∂a = 1, ∂/∂b = −1. One node: a + (−b) would record two and allocate −b."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad):
        grad_b = unbroadcast(-grad, self.shapes[1]) if self.needs[1] else None
        return unbroadcast(grad, self.shapes[0]), grad_b


class Mul(Function):
    """a · b; ∂/∂a = b, ∂/∂b = a."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        grad_a = unbroadcast(grad * b, a.shape) if self.needs[0] else None
        grad_b = unbroadcast(grad * a, b.shape) if self.needs[1] else None
        return grad_a, grad_b


class Div(Function):
    """a / b; ∂/∂a = 1/b, ∂/∂b = −a/b². Its own node: a · b⁻¹ would round twice, and PyTorch
    divides."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved_tensors
        grad_a = grad / b
        grad_b = unbroadcast(-grad_a * a / b, b.shape) if self.needs[1] else None
        return unbroadcast(grad_a, a.shape), grad_b


class Pow(Function):
    """a ** b; ∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a (taken as 0 where a = 0, as PyTorch)."""

    def forward(self, a, b):
        out = a**b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved_tensors
        grad_a = grad_b = None
        if self.needs[0]:
            grad_a = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if self.needs[1]:
            xp = get_array_module(a)
            log_a = xp.log(xp.where(a == 0, 1, a))
            grad_b = unbroadcast(grad * out * log_a, b.shape)
        return grad_a, grad_b


class Neg(Function):
    """−a; ∂/∂a = −1."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


def add(a: TensorLike, b: TensorLike) -> Tensor:
    """a + b, broadcast."""
    return Add.apply(*_pair(a, b))


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    """a − b, broadcast."""
    return Sub.apply(*_pair(a, b))


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """a · b elementwise, broadcast."""
    return Mul.apply(*_pair(a, b))


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """a / b elementwise, broadcast (true division: integers give floats)."""
    a, b = _pair(a, b)
    if not is_floating(a.dtype) and not is_floating(b.dtype):
        a, b = a.to(backend.get_default_dtype()), b.to(backend.get_default_dtype())
    return Div.apply(a, b)


def pow(a: TensorLike, b: TensorLike) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b elementwise, broadcast."""
    return Pow.apply(*_pair(a, b))


def neg(a: Tensor) -> Tensor:
    """−a."""
    return Neg.apply(a)


# ---- unary functions --------------------------------------------------------------------------


class Exp(Function):
    """eᵃ; ∂/∂a = eᵃ, read from the output."""

    def forward(self, a):
        out = get_array_module(a).exp(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (grad * out,)


class Log(Function):
    """ln a; ∂/∂a = 1/a."""

    def forward(self, a):
        self.save_for_backward(a)
        return get_array_module(a).log(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (grad / a,)


class Sqrt(Function):
    """√a; ∂/∂a = 1/(2√a), read from the output. Its own node: a ** 0.5 would pay Pow's
    a^(b−1) in backward."""

    def forward(self, a):
        out = get_array_module(a).sqrt(a)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return (grad / (2 * out),)


class Square(Function):
    """a²; ∂/∂a = 2a. Its own node: a * a would be a Mul that saves a twice and forms two
    products in backward."""

    def forward(self, a):
        self.save_for_backward(a)
        return a * a

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (2 * grad * a,)


class Abs(Function):
    """|a|; ∂/∂a = sign(a) (0 at 0, as PyTorch)."""

    def forward(self, a):
        self.save_for_backward(a)
        return get_array_module(a).abs(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return (grad * get_array_module(a).sign(a),)


class Sign(Function):
    """sign(a): its derivative is 0 everywhere it exists (and taken as 0 at 0, as PyTorch)."""

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return get_array_module(a).sign(a)

    def backward(self, grad):
        return (get_array_module(grad).zeros(self.shape, dtype=self.dtype),)


class Clamp(Function):
    """Clip to [low, high]; ∂/∂a = 1 inside the range (bounds included), 0 outside."""

    def forward(self, a, low=None, high=None):
        self.save_for_backward(a)
        self.low, self.high = low, high
        return get_array_module(a).clip(a, low, high)

    def backward(self, grad):
        (a,) = self.saved_tensors
        inside = True
        if self.low is not None:
            inside = a >= self.low
        if self.high is not None:
            inside = inside & (a <= self.high)
        return (grad * inside,)


class Maximum(Function):
    """max(a, b) elementwise; ∂/∂a = 1 where a > b, 0 where a < b, and at a tie each input
    gets half the gradient (as PyTorch)."""

    pick_first = staticmethod(np.greater)

    def forward(self, a, b):
        self.save_for_backward(a, b)
        xp = get_array_module(a)
        return xp.maximum(a, b) if self.pick_first is np.greater else xp.minimum(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(grad)
        first = self.pick_first(a, b)
        share_a = xp.where(a == b, 0.5, first.astype(grad.dtype)).astype(grad.dtype)
        grad_a = unbroadcast(grad * share_a, a.shape) if self.needs[0] else None
        grad_b = unbroadcast(grad * (1 - share_a), b.shape) if self.needs[1] else None
        return grad_a, grad_b


class Minimum(Maximum):
    """min(a, b) elementwise; the gradient as ``Maximum``'s with the roles swapped."""

    pick_first = staticmethod(np.less)


class Where(Function):
    """a where the condition holds, else b; the gradient goes to the side that was chosen.
    The condition is an input (not differentiable) so that it is saved and version-checked."""

    def forward(self, condition, a, b):
        self.save_for_backward(condition)
        self.shapes = a.shape, b.shape
        return get_array_module(a).where(condition, a, b)

    def backward(self, grad):
        (condition,) = self.saved_tensors
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        grad_a = unbroadcast(xp.where(condition, grad, zero), self.shapes[0])
        grad_b = unbroadcast(xp.where(condition, zero, grad), self.shapes[1])
        return None, grad_a, grad_b


def exp(a: Tensor) -> Tensor:
    """eᵃ; derivative eᵃ."""
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    """ln a; derivative 1/a."""
    return Log.apply(a)


def sqrt(a: Tensor) -> Tensor:
    """√a; derivative 1/(2√a)."""
    return Sqrt.apply(a)


def square(a: Tensor) -> Tensor:
    """a²; derivative 2a."""
    return Square.apply(a)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|; derivative sign(a)."""
    return Abs.apply(a)


def sign(a: Tensor) -> Tensor:
    """sign(a) ∈ {−1, 0, 1}; zero gradient (the step has no useful derivative)."""
    return Sign.apply(a)


def clamp(
    a: Tensor, min: float | Tensor | None = None, max: float | Tensor | None = None
) -> Tensor:  # noqa: A002 - PyTorch's names
    """a clipped to [min, max] (either may be None)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    min = min.item() if isinstance(min, Tensor) else min
    max = max.item() if isinstance(max, Tensor) else max
    return Clamp.apply(a, low=min, high=max)


clip = clamp


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum of a and b, broadcast."""
    return Maximum.apply(*_pair(a, b))


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum of a and b, broadcast."""
    return Minimum.apply(*_pair(a, b))


def where(condition: Tensor | np.ndarray, a: TensorLike, b: TensorLike) -> Tensor:
    """a where condition holds, else b (broadcast); gradient flows to the chosen side."""
    condition = as_tensor_like(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: expected a bool condition, got {condition.dtype}")
    a, b = _pair(a, b)
    return Where.apply(condition, a, b)


# ---- copies, casts, devices -------------------------------------------------------------------


class Clone(Function):
    """A copy with its own memory; ∂/∂a = 1."""

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return (grad,)


class Cast(Function):
    """a in another dtype; the gradient is cast back to a's dtype."""

    def forward(self, a, dtype=None):
        self.dtype = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return (grad.astype(self.dtype),)


class ToDevice(Function):
    """a on another device; the gradient is moved back to a's device."""

    def forward(self, a, device=None):
        self.device = backend.device_of(a)
        return backend.move(a, device)

    def backward(self, grad):
        return (backend.move(grad, self.device),)


def clone(a: Tensor) -> Tensor:
    """A copy with its own memory; gradient passes through."""
    return Clone.apply(a)


def cast(a: Tensor, dtype) -> Tensor:
    """a converted to dtype; the gradient is converted back."""
    if a.requires_grad and not np.issubdtype(dtype, np.floating):
        return Tensor._make(a.data.astype(dtype), False)
    return Cast.apply(a, dtype=dtype)


def to_device(a: Tensor, device) -> Tensor:
    """a copied to another device; the gradient is copied back."""
    return ToDevice.apply(a, device=device)


# ---- comparisons and logic: no gradient -------------------------------------------------------


def _compare(ufunc, a: TensorLike, b: TensorLike) -> Tensor:
    a, b = _pair(a, b)
    try:
        return Tensor._make(ufunc(a.data, b.data), False)
    except ValueError:
        raise RuntimeError(
            f"{ufunc.__name__}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def eq(a: TensorLike, b: TensorLike) -> Tensor:
    """a == b elementwise (bool tensor)."""
    return _compare(np.equal, a, b)


def ne(a: TensorLike, b: TensorLike) -> Tensor:
    """a != b elementwise (bool tensor)."""
    return _compare(np.not_equal, a, b)


def lt(a: TensorLike, b: TensorLike) -> Tensor:
    """a < b elementwise (bool tensor)."""
    return _compare(np.less, a, b)


def le(a: TensorLike, b: TensorLike) -> Tensor:
    """a <= b elementwise (bool tensor)."""
    return _compare(np.less_equal, a, b)


def gt(a: TensorLike, b: TensorLike) -> Tensor:
    """a > b elementwise (bool tensor)."""
    return _compare(np.greater, a, b)


def ge(a: TensorLike, b: TensorLike) -> Tensor:
    """a >= b elementwise (bool tensor)."""
    return _compare(np.greater_equal, a, b)


def logical_and(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(np.logical_and, a, b)


def logical_or(a: TensorLike, b: TensorLike) -> Tensor:
    return _compare(np.logical_or, a, b)


def logical_not(a: Tensor) -> Tensor:
    return Tensor._make(np.logical_not(a.data) if a.dtype == np.bool_ else ~a.data, False)


def isnan(a: Tensor) -> Tensor:
    return Tensor._make(get_array_module(a.data).isnan(a.data), False)


def isfinite(a: Tensor) -> Tensor:
    return Tensor._make(get_array_module(a.data).isfinite(a.data), False)


def allclose(a: TensorLike, b: TensorLike, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    a, b = _pair(a, b)
    return bool(get_array_module(a.data).allclose(a.data, b.data, rtol=rtol, atol=atol))
