"""In-place operations: ``x.add_(y)`` writes x + y into x's own memory, as ``torch.Tensor.add_``.

Each ``name_`` computes ``x.name(...)`` out of place, with PyTorch's type promotion and
broadcasting, and writes the result back into x: the same object and memory (a view of x sees
the change), one version later, so a graph node that saved x refuses to back-propagate through
the changed values. The write follows PyTorch's two rules:

- the result's dtype must cast to x's without changing kind: no floating result into an integer
  tensor, no number into a bool tensor (``torch.tensor([1, 2]).div_(2)`` raises); within a kind
  it rounds (a float64 operand added into float32 gives float32);
- the result must have x's shape: broadcasting may stretch the other operand, never x.

They are not recorded in the graph: on a tensor that requires grad, or with an argument that
does, they raise unless gradients are off (``with aprende.no_grad():``, as in an optimizer's
step). ``x += y`` is in place where ``x.add_(y)`` may be, and otherwise rebinds x to x + y.
"""

from __future__ import annotations

import numpy as np

from aprende import autograd, backend
from aprende._tensor import Tensor
from aprende.ops.elementwise import TensorLike

#: Out-of-place methods whose in-place twin ``name_`` computes ``self.name(...)`` and writes it
#: back: every elementwise op (and the shape-keeping ones along a dim) PyTorch has a twin of.
ELEMENTWISE = (
    "add", "sub", "mul", "div", "pow", "neg", "abs", "sign", "sgn", "square", "sqrt", "rsqrt",
    "reciprocal", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
    "sigmoid", "relu", "erf", "erfc", "erfinv", "logit", "xlogy", "sinc",
    "deg2rad", "rad2deg", "nan_to_num", "heaviside", "float_power", "ldexp", "nextafter",
    "floor", "ceil", "trunc", "fix", "round", "frac",
    "clamp", "clip", "clamp_min", "clamp_max", "lerp", "copysign", "hypot", "atan2", "arctan2",
    "fmod", "remainder", "floor_divide", "addcmul", "addcdiv",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "multiply", "subtract", "divide", "true_divide", "absolute", "negative",
    "cumsum", "cumprod", "tril", "triu",
)  # fmt: skip

TENSOR_METHODS = (
    *(f"{name}_" for name in ELEMENTWISE),
    "zero_", "fill_", "copy_", "uniform_", "normal_",
    "__iadd__", "__isub__", "__imul__", "__itruediv__",
)  # fmt: skip

_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
#: Twins that PyTorch has no kernel for on a bool tensor (its out-of-place op gives int64).
_NO_BOOL_KERNEL = {"cumsum", "cumprod"}
#: Twins whose result must already have the tensor's dtype: float_power_ computes in float64
#: and PyTorch refuses to round that into a float32 tensor.
_EXACT_DTYPE = {"float_power"}


def check_inplace(tensor: Tensor, op: str, *others) -> None:
    """Refuse an in-place change that would corrupt a gradient (grad mode on only)."""
    if not autograd._grad_enabled:
        return
    if tensor.requires_grad:
        what = (
            "a leaf tensor that requires grad"
            if tensor._ctx is None
            else "a tensor that is part of the computational graph"
        )
        raise RuntimeError(
            f"{op}: in-place operation on {what} would corrupt the gradient; do it under "
            "aprende.no_grad() (as optimizers do) or use the out-of-place op"
        )
    for other in others:
        if isinstance(other, Tensor) and other.requires_grad:
            raise RuntimeError(
                f"{op}: in-place operation with an argument that requires grad is not "
                "recorded; use the out-of-place op"
            )


def write_inplace(tensor: Tensor, value) -> Tensor:
    """Write ``value`` (an array or number, cast to the tensor's dtype) into the tensor's
    memory and bump its version."""
    tensor.data[...] = value
    tensor._version += 1
    return tensor


def write_result(tensor: Tensor, op: str, result) -> Tensor:
    """Write an out-of-place result back into ``tensor`` under PyTorch's rules for an
    in-place op: the result's dtype casts to the tensor's within its kind (bool < integer <
    floating < complex), and its shape is the tensor's."""
    result = result.data if isinstance(result, Tensor) else result
    source, target = np.dtype(result.dtype), tensor.dtype
    if _KIND_ORDER[source.kind] > _KIND_ORDER[target.kind]:
        raise RuntimeError(
            f"{op}: result type {_type_name(source)} can't be cast to the desired output type "
            f"{_type_name(target)}"
        )
    if result.shape != tensor.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(tensor.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    return write_inplace(tensor, result)


def _type_name(dtype: np.dtype) -> str:
    """PyTorch's scalar-type names in its cast error (Float, Long, Bool, ...)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long"}
    names |= {"int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(dtype.name, dtype.name)


def _inplace_twin(name: str):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        op = f"{name}_"
        if name in _NO_BOOL_KERNEL and self.dtype == np.bool_:
            raise NotImplementedError(f"{op}: not implemented for bool tensors")
        check_inplace(self, op, *args, *kwargs.values())
        with autograd.no_grad():
            result = getattr(self, name)(*args, **kwargs)
        if name in _EXACT_DTYPE and result.dtype != self.dtype:
            raise RuntimeError(
                f"{op}: the base has dtype {self.dtype} but the operation's result requires "
                f"dtype {result.dtype}"
            )
        return write_result(self, op, result)

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In place: write ``self.{name}(...)`` into this tensor; returns it."
    return method


for _name in ELEMENTWISE:
    globals()[f"{_name}_"] = _inplace_twin(_name)


def zero_(self: Tensor) -> Tensor:
    """Fill with zeros; returns the tensor."""
    check_inplace(self, "zero_")
    return write_inplace(self, 0)


def fill_(self: Tensor, value: TensorLike) -> Tensor:
    """Fill with one value (a number or a 0-d tensor), cast to this tensor's dtype."""
    check_inplace(self, "fill_", value)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions"
            )
        value = value.data
    return write_inplace(self, value)


def copy_(self: Tensor, source: TensorLike) -> Tensor:
    """Copy ``source`` (broadcast to this shape, cast to this dtype) into this tensor."""
    check_inplace(self, "copy_", source)
    source = source.data if isinstance(source, Tensor) else source
    xp = backend.get_array_module(self.data)
    source = backend.move(xp.asarray(source) if xp is np else source, self.device)
    try:
        fits = np.broadcast_shapes(np.shape(source), self.shape) == self.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"copy_: source of shape {np.shape(source)} cannot be broadcast to {self.shape}"
        )
    return write_inplace(self, source)


def _check_floating(self: Tensor, op: str) -> None:
    if not backend.is_floating(self.dtype):
        raise RuntimeError(f"{op}: not implemented for {self.dtype} tensors (a floating dtype)")


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b) from the global (or given) generator."""
    _check_floating(self, "uniform_")
    check_inplace(self, "uniform_")
    values = backend.generator_for(generator).uniform(a, b, size=self.shape)
    return write_inplace(self, backend.move(values.astype(self.dtype), self.device))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std²) from the global (or given) generator."""
    _check_floating(self, "normal_")
    check_inplace(self, "normal_")
    values = backend.generator_for(generator).normal(mean, std, size=self.shape)
    return write_inplace(self, backend.move(values.astype(self.dtype), self.device))


def _inplace_allowed(self: Tensor) -> bool:
    """``x += y`` is in place unless that would corrupt the graph (then it rebinds x)."""
    return not (autograd._grad_enabled and self.requires_grad and self._ctx is not None)


def __iadd__(self: Tensor, other):  # noqa: N807 - installed as the operator
    return self.add_(other) if _inplace_allowed(self) else self + other


def __isub__(self: Tensor, other):  # noqa: N807
    return self.sub_(other) if _inplace_allowed(self) else self - other


def __imul__(self: Tensor, other):  # noqa: N807
    return self.mul_(other) if _inplace_allowed(self) else self * other


def __itruediv__(self: Tensor, other):  # noqa: N807
    return self.div_(other) if _inplace_allowed(self) else self / other
