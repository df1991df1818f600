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
    if like is not None and isinstance(value, bool | int | float):
        return _scalar_tensor(value, result_type(like, value), get_array_module(like.data))
    array = np.asarray(value) if like is None else get_array_module(like.data).asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray | np.generic):
        array = array.astype(backend.get_default_dtype())
    return Tensor._make(array, False)


# ---- type promotion ---------------------------------------------------------------------------

#: PyTorch's dtype categories: bool < integer < floating.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _priority_and_dtype(value) -> tuple[int, np.dtype]:
    """(0, dtype) for a tensor with dimensions, (1, dtype) for a 0-d tensor, (2, dtype) for a
    Python number (bool, int64 or the default float: the dtype it would have alone)."""
    if isinstance(value, bool):
        return 2, backend.bool_
    if isinstance(value, int):
        return 2, backend.int64
    if isinstance(value, float):
        return 2, backend.get_default_dtype()
    if not isinstance(value, Tensor):
        value = as_tensor_like(value)
    return (0 if value.data.ndim else 1), value.dtype


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """``torch.promote_types``: across categories the higher category's dtype (int64 with
    float32 is float32, where NumPy gives float64); within one, the wider dtype."""
    if _CATEGORY[a.kind] != _CATEGORY[b.kind]:
        return a if _CATEGORY[a.kind] > _CATEGORY[b.kind] else b
    return np.promote_types(a, b)


def result_type(*values: TensorLike) -> np.dtype:
    """The dtype of ``a ⊕ b ⊕ ...`` by PyTorch's promotion rules (``torch.result_type``).

    Within a category (bool < integer < floating) tensors promote to the wider dtype; a 0-d
    tensor or a Python number counts only when its category is higher than that of the
    tensors with dimensions: int64 tensor + 2.5 → the default float (float32); float16 tensor +
    2.5 → float16; float32 tensor + 0-d float64 tensor → float32; int32 tensor + 2**40 →
    int32 (the number wraps, as in PyTorch). NumPy alone would give float64 or an error.
    """
    groups: dict[int, np.dtype] = {}
    for value in values:
        priority, dtype = _priority_and_dtype(value)
        groups[priority] = _promote(groups[priority], dtype) if priority in groups else dtype
    result = None
    for priority in (2, 1, 0):  # numbers, then 0-d tensors, then tensors with dimensions
        if priority in groups:
            dtype = groups[priority]
            higher = result is not None and _CATEGORY[result.kind] > _CATEGORY[dtype.kind]
            result = result if higher else dtype
    return result


def _scalar_tensor(value, dtype: np.dtype, xp) -> Tensor:
    """A Python number as a 0-d tensor of ``dtype``; an integer wraps into a narrower integer
    dtype as PyTorch's scalar conversion does (NumPy would raise OverflowError)."""
    if isinstance(value, int) and not isinstance(value, bool) and dtype.kind in "iu":
        return Tensor._make(xp.asarray(np.asarray(value, dtype=np.int64).astype(dtype)), False)
    return Tensor._make(xp.asarray(value, dtype=dtype), False)


def _to_dtype(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t`` in ``dtype``: a recorded cast when it requires grad (the gradient flows back)."""
    if t.dtype == dtype:
        return t
    return cast(t, dtype) if t.requires_grad else Tensor._make(t.data.astype(dtype), False)


def _pair(a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """Two operands as tensors of the dtype PyTorch's promotion gives them (``result_type``)."""
    if type(a) is Tensor and type(b) is Tensor and a.data.dtype == b.data.dtype:
        return a, b  # the common case: nothing to promote
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is None:
        a = as_tensor_like(a)
        like = a
    dtype = result_type(a, b)
    xp = get_array_module(like.data)
    a, b = (
        _scalar_tensor(v, dtype, xp)
        if isinstance(v, bool | int | float)
        else _to_dtype(as_tensor_like(v, like), dtype)
        for v in (a, b)
    )
    return a, b


def to_floating(a: Tensor) -> Tensor:
    """An integer or bool tensor in the default float dtype, as PyTorch's float functions
    (exp, log, sqrt, sigmoid, ...) take them; a floating tensor unchanged."""
    return a if is_floating(a.dtype) else _to_dtype(a, backend.get_default_dtype())


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
    """a ** b; ∂/∂a = b·a^(b−1) (0 where b = 0, even at a = 0), ∂/∂b = a^b·ln a (0 where a = 0
    and b ≥ 0; −∞ at a = 0, b < 0; nan for a < 0): PyTorch's rules at every edge."""

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** −1 = inf, as PyTorch
            out = a**b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved_tensors
        grad_a = grad_b = None
        xp = get_array_module(a)
        with np.errstate(divide="ignore", invalid="ignore"):  # the edges are set just below
            if self.needs[0]:
                local = xp.where(b == 0, 0, b * a ** (b - 1))
                grad_a = unbroadcast(grad * local.astype(grad.dtype, copy=False), a.shape)
            if self.needs[1]:
                local = xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
                grad_b = unbroadcast(grad * local.astype(grad.dtype, copy=False), b.shape)
        return grad_a, grad_b


class Neg(Function):
    """−a; ∂/∂a = −1."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


def add(a: TensorLike, b: TensorLike, *, alpha: float = 1) -> Tensor:
    """a + α·b, broadcast."""
    if alpha != 1 or type(alpha) is not int:  # the default costs one comparison
        b = _scaled(b, alpha, a, "add")
    return Add.apply(*_pair(a, b))


def sub(a: TensorLike, b: TensorLike, *, alpha: float = 1) -> Tensor:
    """a − α·b, broadcast; not for bool tensors (PyTorch's RuntimeError)."""
    pair = _pair(a, b)
    promoted = pair[0] is not a or pair[1] is not b  # else one dtype: bool only if both are
    if pair[0].data.dtype.kind == "b" or (promoted and (_is_bool(a) or _is_bool(b))):
        both = _is_bool(a) and _is_bool(b)
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported; use the `^` "
            "or logical_xor() operator instead"
            if both
            else "Subtraction, the `-` operator, with a bool tensor is not supported; to invert "
            "a mask, use the `~` or logical_not() operator instead"
        )
    if alpha != 1 or type(alpha) is not int:
        return Sub.apply(*_pair(a, _scaled(b, alpha, a, "sub")))
    return Sub.apply(*pair)


def _is_bool(value: TensorLike) -> bool:
    return type(value) is bool or (isinstance(value, Tensor) and value.data.dtype == np.bool_)


def _scaled(b: TensorLike, alpha: float, a: TensorLike, op: str) -> TensorLike:
    """α·b (b itself for α = 1), as PyTorch: a floating α is refused with integer operands,
    a bool α with others than bool, and with bool operands α counts as true or false."""
    dtype = result_type(a, b)
    if isinstance(alpha, float) and not is_floating(dtype):
        raise RuntimeError(
            f"{op}: for integral input tensors, argument alpha must not be a floating point "
            f"number (got alpha={alpha})"
        )
    if dtype == np.bool_ or type(alpha) is bool:
        if dtype != np.bool_:
            raise RuntimeError(f"{op}: a bool alpha is only supported for bool results")
        return b if alpha else b * False
    return b if alpha == 1 else b * alpha


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """a · b elementwise, broadcast."""
    return Mul.apply(*_pair(a, b))


def div(a: TensorLike, b: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
    """a / b elementwise, broadcast: true division (integers give floats) when
    ``rounding_mode`` is None; ``"trunc"`` and ``"floor"`` round the quotient toward zero or
    down (see ``aprende.ops.arithmetic``)."""
    if rounding_mode is not None:
        return _arithmetic.rounded_div(a, b, rounding_mode)
    a, b = _pair(a, b)
    if not is_floating(a.dtype) and not is_floating(b.dtype):
        a, b = a.to(backend.get_default_dtype()), b.to(backend.get_default_dtype())
    return Div.apply(a, b)


def pow(a: TensorLike, b: TensorLike) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b elementwise, broadcast (not for two bool tensors: no kernel in PyTorch)."""
    a, b = _pair(a, b)
    if a.dtype == np.bool_:
        raise NotImplementedError("pow: not implemented for two bool operands")
    return Pow.apply(a, b)


def neg(a: Tensor) -> Tensor:
    """−a (not for a bool tensor: PyTorch's RuntimeError points to ``~``)."""
    if a.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported; to invert a mask, "
            "use the `~` or logical_not() operator instead"
        )
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


class Step(Function):
    """A piecewise-constant function (sign, floor, round, ...): its derivative is 0 wherever it
    exists, and PyTorch takes it as 0 at the jumps too; ``kernel(xp, a)`` computes it."""

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return self.kernel(get_array_module(a), a)

    def backward(self, grad):
        return (get_array_module(grad).zeros(self.shape, dtype=self.dtype),)


class Sign(Step):
    """sign(a) ∈ {−1, 0, 1}, 0 for nan as in PyTorch; a bool tensor is its own sign."""

    @staticmethod
    def kernel(xp, a):
        if a.dtype.kind != "f":
            return a.copy() if a.dtype == np.bool_ else xp.sign(a)
        return xp.where(xp.isnan(a), 0, xp.sign(a)).astype(a.dtype)


class Maximum(Function):
    """max(a, b) elementwise; ∂/∂a = 1 where a > b, 0 where a < b, ½ at a tie, and where a
    comparison is false both ways (a nan) the whole gradient reaches both inputs, as
    PyTorch's ``where(a == b, g/2, g).masked_fill(a < b, 0)``."""

    loses = staticmethod(np.less)  # a loses to b where loses(a, b)
    kernel = staticmethod(np.maximum)

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.kernel(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(grad)
        zero = grad.dtype.type(0)
        tied = xp.where(a == b, grad / 2, grad)
        grad_a = (
            unbroadcast(xp.where(self.loses(a, b), zero, tied), a.shape) if self.needs[0] else None
        )
        grad_b = (
            unbroadcast(xp.where(self.loses(b, a), zero, tied), b.shape) if self.needs[1] else None
        )
        return grad_a, grad_b


class Minimum(Maximum):
    """min(a, b) elementwise; the gradient as ``Maximum``'s with the roles swapped."""

    loses = staticmethod(np.greater)
    kernel = staticmethod(np.minimum)


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
    return Exp.apply(to_floating(a))


def log(a: Tensor) -> Tensor:
    """ln a; derivative 1/a."""
    return Log.apply(to_floating(a))


def sqrt(a: Tensor) -> Tensor:
    """√a; derivative 1/(2√a)."""
    return Sqrt.apply(to_floating(a))


def square(a: Tensor) -> Tensor:
    """a²; derivative 2a. A bool tensor gives int64 (a ** 2, as PyTorch)."""
    return Square.apply(a.long() if a.dtype == np.bool_ else a)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|; derivative sign(a). Not for bool tensors (no kernel in PyTorch)."""
    if a.dtype == np.bool_:
        raise NotImplementedError("abs: not implemented for bool tensors")
    return Abs.apply(a)


def sign(a: Tensor) -> Tensor:
    """sign(a) ∈ {−1, 0, 1}; zero gradient (the step has no useful derivative)."""
    return Sign.apply(a)


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


def clone(input: Tensor) -> Tensor:
    """A copy with its own memory; gradient passes through."""
    return Clone.apply(input)


def cast(a: Tensor, dtype) -> Tensor:
    """a converted to dtype; the gradient is converted back."""
    if a.requires_grad and not np.issubdtype(dtype, np.floating):
        return Tensor._make(a.data.astype(dtype), False)
    return Cast.apply(a, dtype=dtype)


def to_device(a: Tensor, device) -> Tensor:
    """a copied to another device; the gradient is copied back."""
    return ToDevice.apply(a, device=device)


from aprende.ops import arithmetic as _arithmetic  # noqa: E402 - it builds on this module
