"""The one place that knows the array library: devices, dtypes and random generators.

Every kernel asks ``get_array_module(array)`` for ``xp`` (NumPy on "cpu", CuPy on "cuda"), so the
same code runs on either device. GPU support lives here and nowhere else.
"""

from __future__ import annotations

import sys

import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")
float = float32  # noqa: A001 - PyTorch's alias: torch.float is float32
double = float64
long = int64

_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype new floating tensors get (float32, as PyTorch)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the dtype new floating tensors get; float32 or float64."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    _default_dtype = dtype


def is_floating(dtype) -> bool:
    """True for a floating dtype (float16/32/64); a kind test, where np.issubdtype costs ~1 µs
    on every op."""
    return dtype.kind == "f"


def to_dtype(dtype) -> np.dtype | None:
    """Normalise a dtype given as numpy dtype, type or name; None stays None."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"expected a dtype such as aprende.float32, got {dtype!r}") from error


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------


class device:  # noqa: N801 - PyTorch's name
    """A device: ``device("cpu")`` or ``device("cuda")`` / ``device("cuda:0")``.

    Compares equal to its string form, so ``t.device == "cpu"`` reads as in PyTorch.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | device = "cpu"):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda', got {spec!r}")
        kind, _, index = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got {spec!r}")
        self.type = kind
        self.index = int(index) if index else (0 if kind == "cuda" else None)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")"
        )

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = device("cpu")


def _cupy():
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(
            "device 'cuda' needs CuPy: pip install 'aprende[gpu]' (cupy-cuda12x) on a machine "
            "with an NVIDIA GPU"
        ) from error
    return cupy


def cuda_unavailable_reason() -> str | None:
    """Why device "cuda" cannot be used here, in one line; None when it can (CuPy imports and
    sees at least one GPU). Never raises: any CUDA failure is a reason."""
    try:
        import cupy
    except ModuleNotFoundError as error:
        if error.name == "cupy":
            return "CuPy is not installed: pip install 'aprende[gpu]'"
        return f"CuPy is installed but failed to import: {error}"
    except Exception as error:  # noqa: BLE001 - a broken CuPy (missing CUDA libraries) is a reason
        return f"CuPy is installed but failed to import: {error}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # noqa: BLE001 - CUDARuntimeError, or the driver library missing
        return f"CuPy found no NVIDIA driver or GPU: {error or type(error).__name__}"
    if count < 1:
        return "CuPy found no NVIDIA GPU (device count 0)"
    return None


def cuda_is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU (``cuda_unavailable_reason`` says
    why not)."""
    return cuda_unavailable_reason() is None


def get_array_module(array):
    """``xp`` for an array: ``numpy`` for NumPy arrays, ``cupy`` for CuPy arrays."""
    if type(array) is np.ndarray:  # the hot path: every op asks, ~10 times per training step
        return np
    if isinstance(array, np.ndarray | np.generic):
        return np
    cupy = sys.modules.get("cupy")  # a CuPy array exists only once CuPy has been imported
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return np


_CONSTANTS: dict = {}


def constant(value: float, shape, dtype, xp=np):
    """A read-only array filled with ``value``, cached for NumPy (the ones of a sum written as
    the product 1ᵀG, the zeros a ReLU compares against): ops that need such an array on every
    step skip its allocation. Only the most recent 64 shapes are kept."""
    if xp is not np:
        return xp.full(shape, value, dtype=dtype)
    key = (value, shape, dtype)
    array = _CONSTANTS.get(key)
    if array is None:
        if len(_CONSTANTS) >= 64:
            _CONSTANTS.pop(next(iter(_CONSTANTS)))
        array = _CONSTANTS[key] = np.full(shape, value, dtype)
        array.flags.writeable = False
    return array


def xp_for(dev) -> object:
    """The array module of a device."""
    return np if device(dev).type == "cpu" else _cupy()


def device_of(array) -> device:
    """The device an array lives on."""
    if get_array_module(array) is np:
        return CPU
    return device(f"cuda:{array.device.id}")


def move(array, dev):
    """Copy an array to a device (no copy when it is already there)."""
    dev = device(dev)
    if device_of(array) == dev:
        return array
    if dev.type == "cpu":
        return to_numpy(array)  # a host read: the device's deferred checks are settled first
    cupy = _cupy()
    with cupy.cuda.Device(dev.index):
        return cupy.asarray(array)


def to_numpy(array) -> np.ndarray:
    """A NumPy array of any backend array (a GPU array is copied to the host, after the checks
    the device deferred, see ``defer_check``)."""
    if isinstance(array, np.ndarray):
        return array
    if get_array_module(array) is np:
        return np.asarray(array)
    run_deferred_checks()
    return array.get()


# ---------------------------------------------------------------------------------------------
# Checks on the device: read once, when the host reads anyway
# ---------------------------------------------------------------------------------------------

_deferred: list = []
_DEFERRED_LIMIT = 256  # checks kept before one read settles them: bounded memory and syncs


def defer_check(failed, error) -> None:
    """Check a condition on the device without waiting for it: ``failed`` is a 0-d device bool
    and ``error()`` builds the exception to raise when it holds. The checks run at the next
    read from the device (``to_numpy``, ``Tensor.item``) in one transfer, or every 256 checks."""
    _deferred.append((failed, error))
    if len(_deferred) >= _DEFERRED_LIMIT:
        run_deferred_checks()


def run_deferred_checks() -> None:
    """Raise the first deferred check that failed (one host read for all of them)."""
    if not _deferred:
        return
    checks = list(_deferred)
    _deferred.clear()
    xp = get_array_module(checks[0][0])
    flags = xp.stack([failed for failed, _ in checks]).get()
    for (_, error), failed in zip(checks, flags, strict=True):
        if failed:
            raise error()


# ---------------------------------------------------------------------------------------------
# Random generators
# ---------------------------------------------------------------------------------------------

_generator = np.random.default_rng(0)
_seed = 0
# Each GPU draws from its own CuPy generator (no host-drawn mask uploaded per step), seeded by
# manual_seed's seed, the device index and the number of times a checkpoint saved the state:
# CuPy's generator state cannot be restored, so saving it starts a fresh, reproducible stream.
_cuda_generators: dict = {}
_cuda_stream = [0, False]  # [streams started by saving the state, drawn since the last start]


def default_generator() -> np.random.Generator:
    """The global generator that ``rand``, ``randn``, init, dropout and shuffling draw from."""
    return _generator


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator, as ``torch.manual_seed``: the same seed gives the same run."""
    global _generator, _seed
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    _seed = int(seed)
    _cuda_generators.clear()
    _cuda_stream[:] = [0, False]
    return _generator


def generator_of(array):
    """The generator that random masks for ``array`` come from: the global NumPy generator for
    a host array, the device's CuPy generator for a GPU array (drawn there, nothing uploaded)."""
    if type(array) is np.ndarray:
        return _generator
    dev = device_of(array)
    if dev.type == "cpu":
        return _generator
    generator = _cuda_generators.get(dev.index)
    if generator is None:
        cupy = _cupy()
        seed = np.random.SeedSequence(_seed, spawn_key=(dev.index, _cuda_stream[0]))
        with cupy.cuda.Device(dev.index):
            generator = _cuda_generators[dev.index] = cupy.random.default_rng(seed)
    _cuda_stream[1] = True
    return generator


def get_rng_state() -> dict:
    """The global generator's state, a JSON-serialisable dict (saved in checkpoints); once a
    GPU has drawn, also ``"cuda"``: the seed and stream its generators restart from."""
    state = _generator.bit_generator.state
    if _cuda_stream[1]:  # saving twice with no draw in between starts no second stream
        _cuda_stream[:] = [_cuda_stream[0] + 1, False]
        _cuda_generators.clear()
    if _cuda_stream[0]:
        state["cuda"] = {"seed": _seed, "stream": _cuda_stream[0]}
    return state


def set_rng_state(state: dict) -> None:
    """Restore the global generator's state from ``get_rng_state()``."""
    global _seed
    state = dict(state)
    cuda = state.pop("cuda", None)
    _generator.bit_generator.state = state
    if cuda is not None:
        _seed = int(cuda["seed"])
        _cuda_stream[:] = [int(cuda["stream"]), False]
        _cuda_generators.clear()


def generator_for(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator from a seed, a generator, or None (the global one)."""
    if seed is None:
        return _generator
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
