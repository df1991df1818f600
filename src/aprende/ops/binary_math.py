"""Elementwise functions of two or three tensors, broadcast: interpolation (lerp), the
optimizer's fused updates (addcmul, addcdiv), signs
(copysign), log-sum-exp of two (logaddexp), lengths and angles (hypot, atan2), nan-ignoring
extremes (fmax, fmin), clamping to tensor bounds, the step (heaviside), powers in float64
(float_power), and closeness tests (isclose, allclose).

Each node writes both partial derivatives beside its forward and sums each back over the
dimensions its input was broadcast along. Promotion follows PyTorch (``result_type``).
"""

from __future__ import annotations

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast, unpack_optional
from aprende.backend import get_array_module, is_floating
from aprende.ops.elementwise import TensorLike, _pair, _scalar_tensor, _to_dtype, as_tensor_like
from aprende.ops.elementwise import pow as _pow
from aprende.ops.elementwise import result_type as _result_type
from aprende.ops.elementwise import to_floating as _to_floating

TENSOR_METHODS = (
    "lerp", "addcmul", "addcdiv", "copysign", "logaddexp", "logaddexp2", "hypot", "atan2",
    "arctan2", "fmax", "fmin", "clamp", "clip", "clamp_min", "clamp_max", "isclose", "allclose",
    "heaviside", "float_power",
)  # fmt: skip


def _floating_pair(name: str, a: TensorLike, b: TensorLike, integers: bool) -> tuple:
    """Both operands promoted, then in the default float dtype when they are integers (or
    PyTorch's NotImplementedError where the op has no integer kernel: ``integers=False``)."""
    a, b = _pair(a, b)
    if not is_floating(a.dtype) and not integers:
        raise NotImplementedError(f"{name}: not implemented for {a.dtype} tensors")
    return _to_floating(a), _to_floating(b)


class Lerp(Function):
    """start + w·(end − start), written as end − (end − start)(1 − w) for w ≥ ½ so that w = 1
    gives end exactly (PyTorch's two branches); ∂/∂start = 1 − w, ∂/∂end = w,
    ∂/∂w = end − start."""

    def forward(self, start, end, weight):
        self.save_for_backward(start, end, weight)
        xp = get_array_module(start)
        step = end - start
        return xp.where(xp.abs(weight) < 0.5, start + weight * step, end - step * (1 - weight))

    def backward(self, grad):
        start, end, weight = self.saved_tensors
        grad_start = unbroadcast(grad * (1 - weight), start.shape) if self.needs[0] else None
        grad_end = unbroadcast(grad * weight, end.shape) if self.needs[1] else None
        grad_weight = unbroadcast(grad * (end - start), weight.shape) if self.needs[2] else None
        return grad_start, grad_end, grad_weight


def lerp(input: Tensor, end: Tensor, weight: TensorLike) -> Tensor:
    """input + weight·(end − input), broadcast; ``weight`` a number or a tensor. The tensors
    share one floating dtype (a 0-d weight of another float dtype is cast), as PyTorch."""
    if not is_floating(input.dtype):
        raise NotImplementedError(f"lerp: not implemented for {input.dtype} tensors")
    end = as_tensor_like(end, input)
    if end.dtype != input.dtype:
        raise RuntimeError(f"lerp: expected dtype {input.dtype} for `end` but got {end.dtype}")
    if isinstance(weight, Tensor):
        if weight.dtype != input.dtype and (weight.ndim or not is_floating(weight.dtype)):
            raise RuntimeError(
                f"lerp: expected dtype {input.dtype} for `weight` but got {weight.dtype}"
            )
        weight = _to_dtype(weight, input.dtype)
    else:
        weight = _scalar_tensor(float(weight), input.dtype, get_array_module(input.data))
    return Lerp.apply(input, end, weight)


class Copysign(Function):
    """|a| with the sign of b (−0.0 counts as negative); ∂/∂a = y/a (±1; 0 at a = 0 and nan
    at a = ±inf, as PyTorch), ∂/∂b = 0."""

    def forward(self, a, b):
        out = get_array_module(a).copysign(a, b)
        self.save_for_backward(a, out)
        self.b_shape = b.shape
        return out

    def backward(self, grad):
        a, out = self.saved_tensors
        xp = get_array_module(grad)
        with np.errstate(invalid="ignore"):  # inf/inf = nan, as PyTorch's gradient at ±inf
            ratio = xp.where(a == 0, 0, out / a).astype(grad.dtype)
        grad_a = unbroadcast(grad * ratio, a.shape) if self.needs[0] else None
        grad_b = xp.zeros(self.b_shape, dtype=grad.dtype) if self.needs[1] else None
        return grad_a, grad_b


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value·tensor1·tensor2, broadcast (Adam's v ← β₂v + (1 − β₂)g² is
    ``v.mul_(β₂).addcmul_(g, g, value=1 − β₂)``); differentiable through its parts. With
    integer tensors ``value`` is cast to an integer (0.5 is 0), as PyTorch casts it."""
    if all(t.dtype == np.bool_ for t in (input, tensor1, tensor2)):
        raise NotImplementedError("addcmul: not implemented for bool tensors")
    if not is_floating(_result_type(input, tensor1, tensor2)):
        value = int(value)
    return input + (tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value·tensor1/tensor2, broadcast (Adam's θ ← θ − η·m̂/(√v̂ + ε) is
    ``p.addcdiv_(m, denom, value=−η)``); two integer tensors are refused, as PyTorch does."""
    if not is_floating(tensor1.dtype) and not is_floating(tensor2.dtype):
        raise RuntimeError(
            "addcdiv: integer division of tensor1 by tensor2 is not supported; "
            "use div(tensor1, tensor2) and add the result instead"
        )
    return input + (tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2)


def copysign(input: TensorLike, other: TensorLike) -> Tensor:
    """|input| with the sign of other, broadcast (integers give floats); gradient sign(y·x)
    to input (0 where x = 0), none to other."""
    return Copysign.apply(*_floating_pair("copysign", input, other, integers=True))


class Logaddexp(Function):
    """ln(eᵃ + eᵇ) without overflow; ∂/∂a = 1/(1 + e^(b − a)) (the softmax weight of a),
    ∂/∂b = 1/(1 + e^(a − b)). ``base`` 2 is log₂(2ᵃ + 2ᵇ), with 2^(b − a) in the weights."""

    base = np.e

    def forward(self, a, b):
        self.save_for_backward(a, b)
        xp = get_array_module(a)
        return xp.logaddexp(a, b) if self.base == np.e else xp.logaddexp2(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(a)
        power = xp.exp if self.base == np.e else xp.exp2
        with np.errstate(all="ignore"):  # −inf − (−inf) = nan, as PyTorch's gradient
            grad_a = unbroadcast(grad / (1 + power(b - a)), a.shape) if self.needs[0] else None
            grad_b = unbroadcast(grad / (1 + power(a - b)), b.shape) if self.needs[1] else None
        return grad_a, grad_b


class Logaddexp2(Logaddexp):
    """log₂(2ᵃ + 2ᵇ); ∂/∂a = 1/(1 + 2^(b − a)), ∂/∂b = 1/(1 + 2^(a − b))."""

    base = 2


def logaddexp(input: TensorLike, other: TensorLike) -> Tensor:
    """ln(eˣ + eʸ) elementwise, broadcast, exact where either term would overflow."""
    return Logaddexp.apply(*_floating_pair("logaddexp", input, other, integers=False))


def logaddexp2(input: TensorLike, other: TensorLike) -> Tensor:
    """log₂(2ˣ + 2ʸ) elementwise, broadcast."""
    return Logaddexp2.apply(*_floating_pair("logaddexp2", input, other, integers=False))


class Hypot(Function):
    """y = √(a² + b²) without overflow; ∂/∂a = a/y, ∂/∂b = b/y (nan at a = b = 0, as
    PyTorch)."""

    def forward(self, a, b):
        out = get_array_module(a).hypot(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved_tensors
        with np.errstate(all="ignore"):
            grad_a = unbroadcast(grad * a / out, a.shape) if self.needs[0] else None
            grad_b = unbroadcast(grad * b / out, b.shape) if self.needs[1] else None
        return grad_a, grad_b


def hypot(input: TensorLike, other: TensorLike) -> Tensor:
    """√(x² + y²) elementwise, broadcast (floating tensors only)."""
    return Hypot.apply(*_floating_pair("hypot", input, other, integers=False))


class Atan2(Function):
    """The angle of the point (b, a): atan2(a, b) ∈ (−π, π]; ∂/∂a = b/(a² + b²),
    ∂/∂b = −a/(a² + b²), both 0 at the origin (PyTorch's choice)."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return get_array_module(a).arctan2(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(a)
        square = a * a + b * b
        with np.errstate(divide="ignore"):
            scale = grad * xp.where(square == 0, 0, 1 / square)
        grad_a = unbroadcast(scale * b, a.shape) if self.needs[0] else None
        grad_b = unbroadcast(-scale * a, b.shape) if self.needs[1] else None
        return grad_a, grad_b


def atan2(input: TensorLike, other: TensorLike) -> Tensor:
    """atan2(y = input, x = other) elementwise, broadcast (integers give floats)."""
    return Atan2.apply(*_floating_pair("atan2", input, other, integers=True))


arctan2 = atan2


class Fmax(Function):
    """max(a, b), where a nan loses to a number (nan only where both are); the gradient goes
    to a where a ≥ b or b is nan, else to b, as PyTorch (ties to a, not split)."""

    kernel, keeps_first = staticmethod(np.fmax), staticmethod(np.greater_equal)

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return self.kernel(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        xp = get_array_module(grad)
        first = self.keeps_first(a, b) | xp.isnan(b)
        zero = grad.dtype.type(0)
        grad_a = unbroadcast(xp.where(first, grad, zero), a.shape) if self.needs[0] else None
        grad_b = unbroadcast(xp.where(first, zero, grad), b.shape) if self.needs[1] else None
        return grad_a, grad_b


class Fmin(Fmax):
    """min(a, b), where a nan loses to a number; the gradient to a where a ≤ b or b is nan."""

    kernel, keeps_first = staticmethod(np.fmin), staticmethod(np.less_equal)


def fmax(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise maximum ignoring nan (``numpy.fmax``), broadcast."""
    return Fmax.apply(*_pair(input, other))


def fmin(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise minimum ignoring nan (``numpy.fmin``), broadcast."""
    return Fmin.apply(*_pair(input, other))


class Clamp(Function):
    """min(max(a, low), high), each bound a number (option) or a tensor (input, broadcast);
    ∂/∂a = 1 where low ≤ a ≤ high; a tensor bound gets the gradient where it is the result:
    ∂/∂low = 1 where a < low < high, ∂/∂high = 1 where high < a or high < low (PyTorch's
    rules: high wins when the bounds cross)."""

    def forward(self, a, *bounds, present=(False, False), low=None, high=None):
        low_t, high_t = unpack_optional(bounds, present)
        self.save_for_backward(a, low_t, high_t)
        self.low, self.high = low, high  # numbers, or None where the bound is a tensor
        low = low if low_t is None else low_t
        high = high if high_t is None else high_t
        xp = get_array_module(a)
        out = a if low is None else xp.maximum(a, low)
        return out if high is None else xp.minimum(out, high)

    def backward(self, grad):
        a, low_t, high_t = self.saved_tensors
        low = self.low if low_t is None else low_t
        high = self.high if high_t is None else high_t
        xp = get_array_module(grad)
        zero = grad.dtype.type(0)
        inside = True
        if low is not None:
            inside = a >= low
        if high is not None:
            inside = inside & (a <= high)
        grads = [unbroadcast(xp.where(inside, grad, zero), a.shape)]
        if low_t is not None:
            wins = (low > a) if high is None else (low > a) & (low < high)
            grads.append(unbroadcast(xp.where(wins, grad, zero), low.shape))
        if high_t is not None:
            wins = (high < a) if low is None else (high < a) | (high < low)
            grads.append(unbroadcast(xp.where(wins, grad, zero), high.shape))
        return tuple(grads)


def clamp(input: Tensor, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """input clipped to [min, max]: min(max(x, min), max), broadcast; either bound a number,
    a tensor, or None (not both). The dtype is PyTorch's promotion of all three."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min and max must be given")
    dtype = _result_type(input, *(v for v in (min, max) if v is not None))
    input = _to_dtype(input, dtype)
    tensors = [_to_dtype(v, dtype) if isinstance(v, Tensor) else None for v in (min, max)]
    numbers = [  # a number in the result dtype, wrapped as PyTorch wraps it
        None if v is None or isinstance(v, Tensor) else _scalar_tensor(v, dtype, np).data.item()
        for v in (min, max)
    ]
    present = tuple(t is not None for t in tensors)
    given = [t for t in tensors if t is not None]
    return Clamp.apply(input, *given, present=present, low=numbers[0], high=numbers[1])


clip = clamp


def clamp_min(input: Tensor, min: TensorLike) -> Tensor:
    """max(x, min), broadcast: ``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: TensorLike) -> Tensor:
    """min(x, max), broadcast: ``clamp(input, max=max)``."""
    return clamp(input, max=max)


class Heaviside(Function):
    """The step H(a) = 0 for a < 0 (and for nan), b at a = 0, 1 for a > 0. PyTorch records the
    node but defines no derivative: backward raises, as PyTorch's does."""

    def forward(self, a, b):
        return get_array_module(a).where(a == 0, b, a > 0).astype(a.dtype, copy=False)

    def backward(self, grad):
        raise RuntimeError("heaviside: the derivative is not implemented (as in PyTorch)")


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The Heaviside step of x elementwise, broadcast: 0 where x < 0, ``values`` where x = 0,
    1 where x > 0. Both tensors of one dtype (PyTorch's rule); not differentiable."""
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}"
        )
    if input.dtype != values.dtype:
        raise RuntimeError(
            "heaviside is not yet implemented for tensors with different dtypes: got "
            f"{input.dtype} and {values.dtype}"
        )
    return Heaviside.apply(input, values)


def float_power(input: TensorLike, exponent: TensorLike) -> Tensor:
    """input ** exponent elementwise, broadcast, computed in float64 whatever the dtypes (the
    result is float64); either may be a number. The gradient is pow's, cast back to each
    tensor's dtype."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: expected at least one tensor, got two numbers")
    base, power = (
        _to_dtype(v, np.dtype(np.float64)) if isinstance(v, Tensor) else float(v)
        for v in (input, exponent)
    )
    return _pow(base, power)


def isclose(
    input: TensorLike,
    other: TensorLike,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """|x − y| ≤ atol + rtol·|y| elementwise (bool tensor), broadcast; equal infinities are
    close, nan is close to nan only with ``equal_nan``. Both tensors share one dtype, as
    PyTorch requires; integers are compared in the default float dtype."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise RuntimeError(f"isclose: {input.dtype} did not match {other.dtype}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(
            f"isclose: rtol and atol must be greater than or equal to zero, got {rtol}, {atol}"
        )
    a, b = (t.data for t in _pair(input, other))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"isclose: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None
    xp = get_array_module(a)
    close = a == b
    if equal_nan:
        close = close | (xp.isnan(a) & xp.isnan(b))
    if a.dtype.kind != "f":
        a, b = (_to_floating(Tensor._make(v)).data for v in (a, b))
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: settled by a == b above
        error = xp.abs(a - b)
        close = close | (xp.isfinite(error) & (error <= atol + xp.abs(rtol * b)))
    return Tensor._make(close, False)


def allclose(
    input: TensorLike,
    other: TensorLike,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """True when ``isclose`` holds everywhere (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())
