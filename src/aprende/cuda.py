"""``aprende.cuda``: PyTorch's ``torch.cuda`` namespace over CuPy.

Whether a GPU can be used here (and why not), how many there are, their names, and waiting for
the work queued on one. ``import aprende`` never imports CuPy; these functions do, when called.
"""

from __future__ import annotations

from aprende import backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one NVIDIA GPU; never raises."""
    return backend.cuda_is_available()


def unavailable_reason() -> str | None:
    """Why ``is_available()`` is False, in one line (CuPy missing, no driver, no GPU), or None
    when a GPU can be used."""
    return backend.cuda_unavailable_reason()


def device_count() -> int:
    """The number of GPUs CuPy sees; 0 when CUDA is not available (as ``torch.cuda``)."""
    if not is_available():
        return 0
    return int(backend._cupy().cuda.runtime.getDeviceCount())


def _index(function: str, device) -> int:
    """The GPU index of ``device`` (None: the current one; an int; "cuda:N"; a device),
    checked against the GPUs present."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"{function}: CUDA is not available: {reason}")
    cupy = backend._cupy()
    if device is None:
        return int(cupy.cuda.Device().id)
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        spec = backend.device(device)
        if spec.type != "cuda":
            raise ValueError(f"{function}: expected a CUDA device, got {str(spec)!r}")
        index = spec.index
    count = cupy.cuda.runtime.getDeviceCount()
    if not 0 <= index < count:
        raise ValueError(
            f"{function}: expected a device index in 0..{count - 1} ({count} GPU(s)), got {index}"
        )
    return index


def get_device_name(device=None) -> str:
    """The name of a GPU ("NVIDIA H100 80GB HBM3"); ``device`` is None (the current GPU), an
    index, "cuda:N" or an ``aprende.device``."""
    index = _index("get_device_name", device)
    name = backend._cupy().cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Wait until all the work queued on a GPU (default: the current one) has finished: GPU
    calls return before their kernels end, so a timing must synchronize before reading the
    clock."""
    index = _index("synchronize", device)
    backend._cupy().cuda.Device(index).synchronize()
