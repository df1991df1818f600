"""How floating-point numbers are represented, elementwise: nan and infinities replaced by
numbers (nan_to_num), the sign bit (signbit), the next representable number (nextafter), and
the split x = m·2ᵉ with its inverse (frexp, ldexp).

Shapes: every op is elementwise; the two-tensor ones broadcast as PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module, is_floating
from aprende.ops.elementwise import _pair, _to_dtype, result_type
from aprende.ops.elementwise import pow as power

TENSOR_METHODS = ("nan_to_num", "signbit", "nextafter", "frexp", "ldexp")

#: What ``frexp`` returns, as ``torch.return_types.frexp``.
Frexp = namedtuple("Frexp", ["mantissa", "exponent"])


def _require_tensor(op: str, name: str, value) -> None:
    """PyTorch's TypeError where its signature takes only a tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def _require_floating(op: str, value: Tensor, error: type[Exception]) -> None:
    if not is_floating(value.dtype):
        raise error(f"{op}: expected a floating-point tensor, got {value.dtype}")


class NanToNum(Function):
    """a with nan, +inf and −inf replaced by the numbers given (cast to a's dtype);
    ∂/∂a = 1 where a is finite, 0 where it was replaced."""

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.save_for_backward(a)
        xp, limits = get_array_module(a), np.finfo(a.dtype)
        posinf = limits.max if posinf is None else posinf
        neginf = limits.min if neginf is None else neginf
        with np.errstate(over="ignore"):  # a number beyond the dtype's range becomes ±inf
            nan, posinf, neginf = (xp.asarray(v, dtype=a.dtype) for v in (nan, posinf, neginf))
        out = xp.where(xp.isnan(a), nan, a)
        return xp.where(a == np.inf, posinf, xp.where(a == -np.inf, neginf, out))

    def backward(self, grad):
        (a,) = self.saved_tensors
        xp = get_array_module(a)
        return (xp.where(xp.isfinite(a), grad, grad.dtype.type(0)),)


def nan_to_num(
    input: Tensor,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """x with nan replaced by ``nan``, +inf by ``posinf`` and −inf by ``neginf``, elementwise;
    None means the dtype's largest (smallest) finite value. An integer or bool tensor is
    returned as a copy. The gradient passes where x is finite and is 0 where it was replaced."""
    if not is_floating(input.dtype):
        return Tensor._make(input.data.copy(), False)
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (bool tensor): x < 0, and also −0.0 and a negative nan;
    never for bool tensors. No gradient."""
    xp = get_array_module(input.data)
    if is_floating(input.dtype):
        return Tensor._make(xp.signbit(input.data), False)
    return Tensor._make(input.data < 0, False)


class Nextafter(Function):
    """The representable number next to a in the direction of b (b itself where a = b);
    ∂/∂a = 1 where a ≠ b and 0 where a = b (the step is taken only where they differ),
    ∂/∂b = 0, as PyTorch."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).nextafter(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(grad)
        grad_a = grad_b = None
        if self.needs[0]:
            grad_a = unbroadcast(xp.where(a == b, grad.dtype.type(0), grad), a.shape)
        if self.needs[1]:
            grad_b = xp.zeros(b.shape, dtype=grad.dtype)
        return grad_a, grad_b


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The floating-point number after x toward y, elementwise, broadcast (both tensors, of a
    floating dtype after promotion); gradient 1 to x where x ≠ y (else 0), 0 to y."""
    _require_tensor("nextafter", "other", other)
    input, other = _pair(input, other)
    _require_floating("nextafter", input, NotImplementedError)
    return Nextafter.apply(input, other)


class Mantissa(Function):
    """m of a = m·2ᵉ, ½ ≤ |m| < 1 (0, ±inf and nan kept, with e = 0); ∂/∂a = 2⁻ᵉ, where the
    exponent e (an int32 array, not differentiable) is the second input."""

    def forward(self, a, exponent):
        self.save_for_backward(exponent)
        return get_array_module(a).frexp(a)[0]

    def backward(self, grad):
        (exponent,) = self.saved_tensors
        with np.errstate(over="ignore"):  # inf at a subnormal float64, as PyTorch gives
            return get_array_module(grad).ldexp(grad, -exponent), None


def frexp(input: Tensor) -> Frexp:
    """(mantissa, exponent) with x = mantissa·2^exponent and ½ ≤ |mantissa| < 1 elementwise
    (0, ±inf and nan have exponent 0): the mantissa in x's dtype, the exponent int32, both of
    x's shape. Gradient 2^−exponent to x through the mantissa."""
    _require_floating("frexp", input, RuntimeError)
    xp = get_array_module(input.data)
    exponent = Tensor._make(xp.frexp(input.data)[1].astype(np.int32, copy=False), False)
    return Frexp(Mantissa.apply(input, exponent), exponent)


class Ldexp(Function):
    """a·2ᵉ for an integer e, exact (no 2ᵉ is formed, so a float64 a keeps its range);
    ∂/∂a = 2ᵉ, applied to the gradient the same way."""

    def forward(self, a, exponent):
        self.save_for_backward(exponent)
        self.shape = a.shape
        with np.errstate(over="ignore"):
            return get_array_module(a).ldexp(a, exponent)

    def backward(self, grad):
        (exponent,) = self.saved_tensors
        with np.errstate(over="ignore"):
            scaled = get_array_module(grad).ldexp(grad, exponent)
        return unbroadcast(scaled, self.shape), None


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """x·2^y elementwise, broadcast, in the promotion of x and y (the default float for two
    integer tensors). An integer y scales exactly; a floating y is ``input * pow(2.0, other)``
    with 2^y in the result's dtype, as PyTorch (0·2^y is nan where 2^y overflows). Gradients
    2^y to x and x·2^y·ln 2 to a floating y. For an integer y PyTorch's gradient to x is 2^y
    formed in int64 (0 for y < 0, wrapped for y ≥ 63); here it is 2^y."""
    _require_tensor("ldexp", "other", other)
    dtype = result_type(input, other)
    dtype = dtype if is_floating(dtype) else backend.get_default_dtype()
    if is_floating(other.dtype):
        return input * power(2.0, _to_dtype(other, dtype))
    exponent = Tensor._make(other.data.astype(np.int64, copy=False), False)
    return Ldexp.apply(_to_dtype(input, dtype), exponent)
