"""Tensor: an n-dimensional array that remembers how it was computed.

A tensor holds ``data`` (a NumPy array, or CuPy on "cuda"), and when it requires grad, the node
(``grad_fn``) of the computational graph that produced it. ``backward()`` runs the chain rule
back through that graph and leaves ∂loss/∂x in ``x.grad`` for every leaf x, as in the course's
slide on computational graphs (micrograd's ``Value``, at tensor scale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aprende import backend

if TYPE_CHECKING:
    from aprende.autograd import Function
    from aprende.ops.elementwise import TensorLike
    from aprende.ops.reduce import Dims, ValuesIndices


def _is_cpu(spec) -> bool:
    """True for "cpu" or device("cpu") (cheap: no parsing)."""
    kind = type(spec)
    return (kind is str and spec == "cpu") or (kind is backend.device and spec.type == "cpu")


def to_arguments(args: tuple, kwargs: dict) -> tuple:
    """(device, dtype) from the arguments of ``.to()``, either of them None when not given:
    ``to("cuda")``, ``to(aprende.float64)``, ``to(other_tensor)``, ``to(device=, dtype=)``."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, backend.device) or (
            isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda")
        ):
            device = arg
        else:
            dtype = arg
    return device, dtype


def _is_dtype(value) -> bool:
    """A dtype given as ``np.dtype`` or a NumPy scalar type (``aprende.int32``, ``np.int32``)."""
    return isinstance(value, np.dtype) or (
        isinstance(value, type) and issubclass(value, np.generic)
    )


class Tensor:
    """An array with reverse-mode automatic differentiation, as ``torch.Tensor``.

    Build tensors with the factories (``aprende.tensor``, ``aprende.zeros``, ``aprende.randn``,
    ...). ``data`` is the raw array; ``grad`` is a Tensor (or None) that ``backward`` fills.
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_ctx",
        "_version",
        "_retains_grad",
        "__weakref__",
    )
    # NumPy defers to our reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False):
        data = data.data if isinstance(data, Tensor) else data
        if not hasattr(data, "dtype") or not hasattr(data, "shape"):
            data = np.asarray(data)
            if data.dtype == np.float64:  # Python floats: the default dtype, as aprende.tensor
                data = data.astype(backend.get_default_dtype())
        self.data = data
        self.grad = None
        self._ctx = None
        self._version = 0
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool = False) -> Tensor:
        """Fast constructor for op outputs: no checks."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._version = 0
        t._retains_grad = False
        return t

    # ---- properties --------------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element type (a NumPy dtype: ``aprende.float32`` by default)."""
        return self.data.dtype

    @property
    def device(self) -> backend.device:
        """Where the data lives: ``device("cpu")`` or ``device("cuda:N")``."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not the output of a recorded op)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The graph node that produced this tensor, or None for a leaf."""
        return self._ctx

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The tensor with its dimensions reversed."""
        return _shape.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The tensor with its last two dimensions swapped (batched matrix transpose)."""
        return _shape.transpose(self, -2, -1)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    def element_size(self) -> int:
        """Bytes per element."""
        return self.data.itemsize

    # ---- autograd ----------------------------------------------------------------------------

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as one whose gradient ``backward`` computes."""
        if requires_grad and not backend.is_floating(self.data.dtype):
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "requires_grad_(False): this tensor is the output of a recorded op; "
                "use .detach() to take it out of the graph"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        self._retains_grad = True

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute ∂self/∂x for every leaf x of the graph and add it to ``x.grad``.

        ``gradient`` is ∂L/∂self; it may be omitted only when self holds a single value.
        The graph is freed afterwards unless ``retain_graph=True``.
        """
        autograd.backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory; requires_grad=False)."""
        return Tensor._make(self.data, False)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (it becomes a leaf)."""
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self) -> Tensor:
        """A differentiable copy with its own memory."""
        return _elementwise.clone(self)

    def zero_grad_(self) -> None:
        """Drop the accumulated gradient."""
        self.grad = None

    # ---- conversion --------------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shares memory on the CPU)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        if self.device.type != "cpu":
            raise TypeError(
                f"can't convert a {self.device} tensor to NumPy; copy it to the host first "
                "with tensor.cpu()"
            )
        return self.data

    def __array__(self, dtype=None, copy=None):
        array = backend.to_numpy(self.data)
        if dtype is not None:
            return array.astype(dtype, copy=bool(copy))
        return array.copy() if copy else array

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to Python scalars, "
                f"got shape {self.shape}"
            )
        if type(self.data) is not np.ndarray:
            backend.run_deferred_checks()  # a host read: settle what the device checked
        return self.data.item()

    def tolist(self) -> list | float | int | bool:
        """The data as nested Python lists (a number for a 0-d tensor)."""
        return backend.to_numpy(self.data).tolist()

    def to(self, *args, **kwargs) -> Tensor:
        """Move to a device and/or cast to a dtype: ``to("cuda")``, ``to(aprende.float64)``."""
        if len(args) == 1 and not kwargs and _is_cpu(args[0]) and type(self.data) is np.ndarray:
            return self  # a training loop's x.to(device) on every batch: nothing to do
        dev, dtype = to_arguments(args, kwargs)
        result = self
        if dtype is not None and backend.to_dtype(dtype) != self.dtype:
            result = _elementwise.cast(result, backend.to_dtype(dtype))
        if dev is not None and backend.device(dev) != self.device:
            result = _elementwise.to_device(result, backend.device(dev))
        return result

    def cpu(self) -> Tensor:
        """A copy on the CPU (self when already there)."""
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Tensor:
        """A copy on a GPU (CuPy backend)."""
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Tensor:
        """Cast to float32 (differentiable)."""
        return self.to(backend.float32)

    def double(self) -> Tensor:
        """Cast to float64 (differentiable)."""
        return self.to(backend.float64)

    def half(self) -> Tensor:
        """Cast to float16 (differentiable)."""
        return self.to(backend.float16)

    def long(self) -> Tensor:
        """Cast to int64 (no gradient)."""
        return self.to(backend.int64)

    def int(self) -> Tensor:
        """Cast to int32 (no gradient)."""
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        """Cast to bool (no gradient)."""
        return self.to(backend.bool_)

    def type(self, dtype=None) -> Tensor | str:
        """The dtype's name when called without arguments, else ``to(dtype)``."""
        return str(self.dtype) if dtype is None else self.to(dtype)

    def contiguous(self) -> Tensor:
        """Self: NumPy arrays need no re-layout here."""
        return self

    # ---- Python protocol ---------------------------------------------------------------------

    def __repr__(self) -> str:
        body = np.array2string(
            backend.to_numpy(self.data), separator=", ", prefix="tensor(", precision=4
        )
        extras = []
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype=aprende.{self.dtype}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self.data.size} values is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if not np.issubdtype(self.dtype, np.integer) or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    # ---- arithmetic (differentiable) ---------------------------------------------------------

    def __add__(self, other):
        return _elementwise.add(self, other)

    def __radd__(self, other):
        return _elementwise.add(other, self)

    def __sub__(self, other):
        return _elementwise.sub(self, other)

    def __rsub__(self, other):
        return _elementwise.sub(other, self)

    def __mul__(self, other):
        return _elementwise.mul(self, other)

    def __rmul__(self, other):
        return _elementwise.mul(other, self)

    def __truediv__(self, other):
        return _elementwise.div(self, other)

    def __rtruediv__(self, other):
        return _elementwise.div(other, self)

    def __floordiv__(self, other):
        return _arithmetic.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _arithmetic.floor_divide(other, self)

    def __mod__(self, other):
        return _arithmetic.remainder(self, other)

    def __rmod__(self, other):
        return _arithmetic.remainder(other, self)

    def __pow__(self, exponent):
        return _elementwise.pow(self, exponent)

    def __rpow__(self, base):
        return _elementwise.pow(base, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _elementwise.abs(self)

    def __getitem__(self, index):
        return _indexing.getitem(self, index)

    # ---- comparisons (no gradient; bool tensors) ---------------------------------------------

    def __eq__(self, other):  # type: ignore[override]
        return _comparison.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _comparison.ne(self, other)

    def __lt__(self, other):
        return _comparison.lt(self, other)

    def __le__(self, other):
        return _comparison.le(self, other)

    def __gt__(self, other):
        return _comparison.gt(self, other)

    def __ge__(self, other):
        return _comparison.ge(self, other)

    def __invert__(self):
        return _comparison.bitwise_not(self)

    def __and__(self, other):
        return _comparison.bitwise_and(self, other)

    def __rand__(self, other):
        return _comparison.bitwise_and(other, self)

    def __or__(self, other):
        return _comparison.bitwise_or(self, other)

    def __ror__(self, other):
        return _comparison.bitwise_or(other, self)

    def __xor__(self, other):
        return _comparison.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _comparison.bitwise_xor(other, self)

    def __lshift__(self, other):
        return _comparison.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return _comparison.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return _comparison.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return _comparison.bitwise_right_shift(other, self)

    def bitwise_and(self, other: TensorLike) -> Tensor:
        """See ``aprende.bitwise_and``."""
        return _comparison.bitwise_and(self, other)

    def bitwise_or(self, other: TensorLike) -> Tensor:
        """See ``aprende.bitwise_or``."""
        return _comparison.bitwise_or(self, other)

    def bitwise_xor(self, other: TensorLike) -> Tensor:
        """See ``aprende.bitwise_xor``."""
        return _comparison.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        """See ``aprende.bitwise_not``."""
        return _comparison.bitwise_not(self)

    def logical_not(self) -> Tensor:
        """See ``aprende.logical_not``."""
        return _comparison.logical_not(self)

    def logical_and(self, other: TensorLike) -> Tensor:
        """See ``aprende.logical_and``."""
        return _comparison.logical_and(self, other)

    def logical_or(self, other: TensorLike) -> Tensor:
        """See ``aprende.logical_or``."""
        return _comparison.logical_or(self, other)

    def eq(self, other: TensorLike) -> Tensor:
        """See ``aprende.eq``."""
        return _comparison.eq(self, other)

    def ne(self, other: TensorLike) -> Tensor:
        """See ``aprende.ne``."""
        return _comparison.ne(self, other)

    def lt(self, other: TensorLike) -> Tensor:
        """See ``aprende.lt``."""
        return _comparison.lt(self, other)

    def le(self, other: TensorLike) -> Tensor:
        """See ``aprende.le``."""
        return _comparison.le(self, other)

    def gt(self, other: TensorLike) -> Tensor:
        """See ``aprende.gt``."""
        return _comparison.gt(self, other)

    def ge(self, other: TensorLike) -> Tensor:
        """See ``aprende.ge``."""
        return _comparison.ge(self, other)

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """See ``aprende.any``."""
        return _reduce.any(self, dim, keepdim)

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """See ``aprende.all``."""
        return _reduce.all(self, dim, keepdim)

    # ---- methods mirroring the functions -----------------------------------------------------

    def add(self, other: TensorLike, *, alpha: float = 1) -> Tensor:
        """See ``aprende.add``."""
        return _elementwise.add(self, other, alpha=alpha)

    def sub(self, other: TensorLike, *, alpha: float = 1) -> Tensor:
        """See ``aprende.sub``."""
        return _elementwise.sub(self, other, alpha=alpha)

    def mul(self, other: TensorLike) -> Tensor:
        """See ``aprende.mul``."""
        return _elementwise.mul(self, other)

    def div(self, other: TensorLike, *, rounding_mode: str | None = None) -> Tensor:
        """See ``aprende.div``."""
        return _elementwise.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent: TensorLike) -> Tensor:
        """See ``aprende.pow``."""
        return _elementwise.pow(self, exponent)

    def matmul(self, other: TensorLike) -> Tensor:
        """See ``aprende.matmul``."""
        return _linalg.matmul(self, other)

    def neg(self) -> Tensor:
        """See ``aprende.neg``."""
        return _elementwise.neg(self)

    def exp(self) -> Tensor:
        """See ``aprende.exp``."""
        return _elementwise.exp(self)

    def log(self) -> Tensor:
        """See ``aprende.log``."""
        return _elementwise.log(self)

    def sqrt(self) -> Tensor:
        """See ``aprende.sqrt``."""
        return _elementwise.sqrt(self)

    def square(self) -> Tensor:
        """See ``aprende.square``."""
        return _elementwise.square(self)

    def abs(self) -> Tensor:
        """See ``aprende.abs``."""
        return _elementwise.abs(self)

    def sign(self) -> Tensor:
        """See ``aprende.sign``."""
        return _elementwise.sign(self)

    def maximum(self, other: TensorLike) -> Tensor:
        """See ``aprende.maximum``."""
        return _elementwise.maximum(self, other)

    def minimum(self, other: TensorLike) -> Tensor:
        """See ``aprende.minimum``."""
        return _elementwise.minimum(self, other)

    def relu(self) -> Tensor:
        """See ``aprende.relu``."""
        return _activation.relu(self)

    def sigmoid(self) -> Tensor:
        """See ``aprende.sigmoid``."""
        return _activation.sigmoid(self)

    def tanh(self) -> Tensor:
        """See ``aprende.tanh``."""
        return _activation.tanh(self)

    def sum(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor:
        """See ``aprende.sum``."""
        return _reduce.sum(self, dim, keepdim, **aliases)

    def mean(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor:
        """See ``aprende.mean``."""
        return _reduce.mean(self, dim, keepdim, **aliases)

    def var(
        self, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, **options
    ) -> Tensor:
        """See ``aprende.var``."""
        return _reduce.var(self, dim, unbiased, keepdim, **options)

    def std(
        self, dim: Dims = None, unbiased: bool | None = None, keepdim: bool = False, **options
    ) -> Tensor:
        """See ``aprende.std``."""
        return _reduce.std(self, dim, unbiased, keepdim, **options)

    def max(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor | ValuesIndices:
        """See ``aprende.max``."""
        return _reduce.max(self, dim, keepdim, **aliases)

    def min(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor | ValuesIndices:
        """See ``aprende.min``."""
        return _reduce.min(self, dim, keepdim, **aliases)

    def argmax(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor:
        """See ``aprende.argmax``."""
        return _reduce.argmax(self, dim, keepdim, **aliases)

    def argmin(self, dim: Dims = None, keepdim: bool = False, **aliases) -> Tensor:
        """See ``aprende.argmin``."""
        return _reduce.argmin(self, dim, keepdim, **aliases)

    def logsumexp(self, dim: int, keepdim: bool = False) -> Tensor:
        """See ``aprende.logsumexp``."""
        return _reduce.logsumexp(self, dim, keepdim)

    def softmax(self, dim: int) -> Tensor:
        """See ``aprende.softmax``."""
        return _reduce.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        """See ``aprende.log_softmax``."""
        return _reduce.log_softmax(self, dim)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """See ``aprende.reshape``."""
        return _shape.reshape(self, *shape)

    def view(self, *shape) -> Tensor:
        """The same elements in another shape (see ``aprende.reshape``); ``view(dtype)`` reads
        the same bytes as another dtype (the last dimension rescaled when the sizes differ)."""
        if len(shape) == 1 and _is_dtype(shape[0]):
            try:
                return Tensor._make(self.data.view(backend.to_dtype(shape[0])), False)
            except ValueError as error:
                raise RuntimeError(
                    f"view: cannot view {self.dtype} as {shape[0]}: {error}"
                ) from None
        return _shape.reshape(self, *shape)

    def view_as(self, other: TensorLike) -> Tensor:
        """See ``aprende.reshape``."""
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other: TensorLike) -> Tensor:
        """See ``aprende.reshape``."""
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """See ``aprende.flatten``."""
        return _shape.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """See ``aprende.transpose``."""
        return _shape.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        """See ``aprende.t``."""
        return _shape.t(self)

    def permute(self, *dims: int | tuple[int, ...]) -> Tensor:
        """See ``aprende.permute``."""
        return _shape.permute(self, *dims)

    def squeeze(self, dim: Dims = None) -> Tensor:
        """See ``aprende.squeeze``."""
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        """See ``aprende.unsqueeze``."""
        return _shape.unsqueeze(self, dim)

    def expand(self, *sizes: int | tuple[int, ...]) -> Tensor:
        """See ``aprende.expand``."""
        return _shape.expand(self, *sizes)

    def expand_as(self, other: TensorLike) -> Tensor:
        """See ``aprende.expand``."""
        return _shape.expand(self, other.shape)

    def split(self, split_size_or_sections: int | list[int], dim: int = 0) -> tuple[Tensor, ...]:
        """See ``aprende.split``."""
        return _shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """See ``aprende.chunk``."""
        return _shape.chunk(self, chunks, dim)


from aprende import autograd  # noqa: E402 - these modules import Tensor from here
from aprende.ops import activation as _activation  # noqa: E402
from aprende.ops import activation_shrink as _activation_shrink  # noqa: E402
from aprende.ops import aliases as _aliases  # noqa: E402
from aprende.ops import arithmetic as _arithmetic  # noqa: E402
from aprende.ops import binary_math as _binary_math  # noqa: E402
from aprende.ops import comparison as _comparison  # noqa: E402
from aprende.ops import cumulative as _cumulative  # noqa: E402
from aprende.ops import decompositions as _decompositions  # noqa: E402
from aprende.ops import elementwise as _elementwise  # noqa: E402
from aprende.ops import floating_point as _floating_point  # noqa: E402
from aprende.ops import index_update as _index_update  # noqa: E402
from aprende.ops import indexing as _indexing  # noqa: E402
from aprende.ops import inplace as _inplace  # noqa: E402
from aprende.ops import layout as _layout  # noqa: E402
from aprende.ops import linalg as _linalg  # noqa: E402
from aprende.ops import math as _math  # noqa: E402
from aprende.ops import norm as _norm  # noqa: E402
from aprende.ops import products as _products  # noqa: E402
from aprende.ops import reduce as _reduce  # noqa: E402
from aprende.ops import repeat as _repeat  # noqa: E402
from aprende.ops import sampling as _sampling  # noqa: E402
from aprende.ops import scatter as _scatter  # noqa: E402
from aprende.ops import search as _search  # noqa: E402
from aprende.ops import shape as _shape  # noqa: E402
from aprende.ops import solve as _solve  # noqa: E402
from aprende.ops import sort as _sort  # noqa: E402
from aprende.ops import special as _special  # noqa: E402
from aprende.ops import statistics as _statistics  # noqa: E402
from aprende.ops import triangular as _triangular  # noqa: E402


def _install_methods(*modules) -> None:
    """Each ops module may list in ``TENSOR_METHODS`` functions that are also Tensor methods
    (``x.sin()`` is ``aprende.sin(x)``): one definition and one docstring for both."""
    for module in modules:
        for name in module.TENSOR_METHODS:
            if name in Tensor.__dict__:
                raise RuntimeError(f"Tensor.{name} is defined twice ({module.__name__})")
            setattr(Tensor, name, getattr(module, name))


_install_methods(
    _norm,
    _sort,
    _statistics,
    _shape,
    _layout,
    _repeat,
    _triangular,
    _cumulative,
    _indexing,
    _index_update,
    _scatter,
    _search,
    _math,
    _special,
    _floating_point,
    _binary_math,
    _arithmetic,
    autograd,
    _linalg,
    _products,
    _solve,
    _decompositions,
    _aliases,
    _inplace,
    _sampling,
    _activation_shrink,
)
