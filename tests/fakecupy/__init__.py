"""A strict, CPU-only stand-in for CuPy: the test suite runs the "cuda" code path without a GPU.

Its ``ndarray`` wraps a NumPy array but is not one, and it is as strict as real CuPy where code
usually breaks on a GPU:

- ``np.asarray(device_array)`` raises TypeError (CuPy's message);
- mixing a host ``np.ndarray`` with a device array in an operator or a function raises TypeError
  (Python and NumPy scalars are fine);
- reductions and scalar indexing give 0-d device arrays, not Python numbers;
- a name the real CuPy does not have raises AttributeError (see ``cupy_names``).

It counts what would cost a GPU a host round-trip: ``counters.syncs`` (``float()``, ``int()``,
``bool()``, ``.item()``, ``.get()``, ``.tolist()``, ``__index__``, ``asnumpy``, printing) and
``counters.uploads`` (``asarray``/``array`` of host data). Install it with
``sys.modules["cupy"] = fakecupy`` (the ``device`` fixture in ``tests/conftest.py`` does).
"""

from __future__ import annotations

import types

import numpy as np

from fakecupy import cupy_names

_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


class Counters:
    """Host round-trips since the last ``reset()``."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.syncs = 0
        self.uploads = 0

    def __repr__(self) -> str:
        return f"Counters(syncs={self.syncs}, uploads={self.uploads})"


counters = Counters()
_current_device = [0]
_DEVICE_COUNT = 1


def _unwrap(value):
    """The NumPy array inside a device array; a host array raises, as CuPy does."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray):
        raise TypeError(
            f"Unsupported type {type(value)}: a host numpy.ndarray cannot be mixed with "
            "cupy.ndarray; move it with cupy.asarray first"
        )
    if isinstance(value, list | tuple):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    """Device arrays for NumPy results; a NumPy scalar becomes a 0-d device array, as in CuPy."""
    if isinstance(value, np.ndarray | np.generic):
        return ndarray._of(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _call(function, args, kwargs):
    out = kwargs.get("out")
    result = function(*_unwrap(args), **_unwrap(kwargs))
    return out if isinstance(out, ndarray) else _wrap(result)


class _Device:
    """``array.device`` and ``cupy.cuda.Device(i)``: a context manager that makes ``i`` current."""

    def __init__(self, device=None):
        self.id = _current_device[0] if device is None else int(device)
        self._previous = []

    def __enter__(self):
        if not 0 <= self.id < _DEVICE_COUNT:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")
        self._previous.append(_current_device[0])
        _current_device[0] = self.id
        return self

    def __exit__(self, *exc):
        _current_device[0] = self._previous.pop()

    def use(self):
        _current_device[0] = self.id

    def synchronize(self):
        pass

    def __eq__(self, other):
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: a NumPy array behind CuPy's interface, never a NumPy array itself."""

    __slots__ = ("_a", "_device_id")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype, order=order)
        self._device_id = _current_device[0]

    @classmethod
    def _of(cls, array: np.ndarray) -> ndarray:
        self = object.__new__(cls)
        self._a = array
        self._device_id = _current_device[0]
        return self

    def __getattr__(self, name):
        if name not in cupy_names.NDARRAY or not hasattr(self._a, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        attribute = getattr(self._a, name)
        if callable(attribute):
            return lambda *args, **kwargs: _call(attribute, args, kwargs)
        return _wrap(attribute)

    @property
    def device(self) -> _Device:
        return _Device(self._device_id)

    @property
    def __cuda_array_interface__(self) -> dict:
        return {"shape": self._a.shape, "typestr": self._a.dtype.str, "data": (0, False)}

    # --- host round-trips: each is counted
    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        counters.syncs += 1
        return self._a.copy()

    def item(self):
        counters.syncs += 1
        return self._a.item()

    def tolist(self):
        counters.syncs += 1
        return self._a.tolist()

    def __float__(self):
        counters.syncs += 1
        return float(self._a)

    def __int__(self):
        counters.syncs += 1
        return int(self._a)

    def __complex__(self):
        counters.syncs += 1
        return complex(self._a)

    def __bool__(self):
        counters.syncs += 1
        return bool(self._a)

    def __index__(self):
        counters.syncs += 1
        return self._a.__index__()

    def __repr__(self):
        counters.syncs += 1
        return repr(self._a)

    def __str__(self):
        counters.syncs += 1
        return str(self._a)

    def __format__(self, spec):
        counters.syncs += 1
        return format(self._a, spec)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    # --- NumPy protocols: NumPy functions on device arrays stay on the device
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _call(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ not in cupy_names.CUPY:
            return NotImplemented
        return _call(func, args, kwargs)

    # --- sequence protocol
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ndarray._of(row) for row in self._a)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key)] = _unwrap(value)

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    def __reduce__(self):
        raise TypeError("a device array is not pickled by the fake CuPy")


def _binary(name):
    def method(self, other):
        return _wrap(getattr(self._a, name)(_unwrap(other)))

    method.__name__ = name
    return method


def _inplace(name):
    def method(self, other):
        getattr(self._a, name)(_unwrap(other))
        return self

    method.__name__ = name
    return method


def _unary(name):
    def method(self):
        return _wrap(getattr(self._a, name)())

    method.__name__ = name
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
            "xor", "lshift", "rshift", "divmod"):  # fmt: skip
    setattr(ndarray, f"__{_op}__", _binary(f"__{_op}__"))
    setattr(ndarray, f"__r{_op}__", _binary(f"__r{_op}__"))
    if _op != "divmod":
        setattr(ndarray, f"__i{_op}__", _inplace(f"__i{_op}__"))
for _op in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, f"__{_op}__", _binary(f"__{_op}__"))
for _op in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_op}__", _unary(f"__{_op}__"))


class ufunc:  # noqa: N801 - CuPy's name
    """A NumPy ufunc over device arrays, with CuPy's methods (``reduce``, ``at``, ...)."""

    def __init__(self, numpy_ufunc):
        self._u = numpy_ufunc
        self.__name__ = numpy_ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._u, args, kwargs)

    def __getattr__(self, name):
        if name not in cupy_names.UFUNC:
            raise AttributeError(f"'cupy.ufunc' object has no attribute '{name}'")
        attribute = getattr(self._u, name)
        if callable(attribute):
            return lambda *args, **kwargs: _call(attribute, args, kwargs)
        return attribute


def _function(numpy_function):
    def function(*args, **kwargs):
        return _call(numpy_function, args, kwargs)

    function.__name__ = numpy_function.__name__
    function.__doc__ = numpy_function.__doc__
    return function


# --- moving data: the only ways onto and off the device
def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    counters.uploads += 1
    return ndarray._of(np.array(a, dtype=dtype, order=order or "K"))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return ndarray._of(np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    counters.uploads += 1
    return ndarray._of(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(a, ndarray):
        return a.get()
    return np.asarray(a, order=order)


def get_array_module(*args):
    return _this if any(isinstance(a, ndarray) for a in args) else np


# --- cupy.cuda and cupy.random as small namespaces
def _namespace(name, allowed, **members):
    module = types.ModuleType(f"cupy.{name}")
    for key, value in members.items():
        assert key in allowed, f"{name}.{key} is not in the real CuPy"
        setattr(module, key, value)
    return module


runtime = types.ModuleType("cupy.cuda.runtime")
runtime.getDeviceCount = lambda: _DEVICE_COUNT
# (free, total) bytes of the current device: a large GPU, unless a test lowers them
memory = {"free": 64 << 30, "total": 80 << 30}
runtime.memGetInfo = lambda: (memory["free"], memory["total"])
cuda = _namespace(
    "cuda", cupy_names.CUDA, Device=_Device, runtime=runtime, is_available=lambda: True
)


class _Sampler:
    """Draws with a NumPy generator and hands back device arrays; only CuPy's method names."""

    _names: frozenset = frozenset()

    def __init__(self, numpy_generator):
        self._g = numpy_generator

    def __getattr__(self, name):
        if name not in self._names or not hasattr(self._g, name):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        method = getattr(self._g, name)
        return lambda *args, **kwargs: _call(method, args, kwargs)


class Generator(_Sampler):
    """``cupy.random.Generator``: its methods, drawing on the device."""

    _names = cupy_names.GENERATOR

    def random(self, size=None, dtype=np.float64, out=None):
        # CuPy draws float32 directly; NumPy's float32 stream is its own, so the fake does too.
        return _wrap(self._g.random(size, dtype=dtype))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return _wrap(self._g.standard_normal(size, dtype=dtype))


class RandomState(_Sampler):
    """``cupy.random.RandomState``: the legacy interface."""

    _names = cupy_names.RANDOM_STATE

    def __init__(self, seed=None):
        super().__init__(np.random.RandomState(seed))


def default_rng(seed=None):
    return Generator(np.random.default_rng(seed))


_global_state = [RandomState(None)]


def _seed(seed=None):
    _global_state[0] = RandomState(seed)


def _module_draw(name):
    return lambda *args, **kwargs: getattr(_global_state[0], name)(*args, **kwargs)


random = _namespace(
    "random",
    cupy_names.RANDOM,
    Generator=Generator,
    RandomState=RandomState,
    default_rng=default_rng,
    seed=_seed,
    get_random_state=lambda: _global_state[0],
    **{n: _module_draw(n) for n in ("rand", "randn", "randint", "random", "normal", "uniform")},
)

_cache: dict = {}


def __getattr__(name):
    """Every other CuPy name: its NumPy namesake over device arrays; a name CuPy lacks raises."""
    if name in _cache:
        return _cache[name]
    if name not in cupy_names.CUPY or not hasattr(np, name):
        raise AttributeError(f"module 'cupy' has no attribute '{name}'")
    value = getattr(np, name)
    if isinstance(value, np.ufunc):
        value = ufunc(value)
    elif callable(value) and not isinstance(value, type):
        value = _function(value)
    _cache[name] = value
    return value


def __dir__():
    return sorted(cupy_names.CUPY)


_this = __import__(__name__)
