"""aprende.cuda (torch.cuda's namespace) on a machine without a GPU, and with stand-in CuPy
modules that fail the way a real one does: each reason is one line, nothing raises.

A stand-in is a plain module put in ``sys.modules["cupy"]``, so ``import cupy`` finds it; no
real CuPy is needed (or used) here.
"""

import builtins
import sys
import types

import pytest

import aprende
from aprende import backend


def stand_in_cupy(monkeypatch, get_device_count, names=("GPU zero",)):
    """Install a module named cupy whose runtime answers with ``get_device_count``."""
    synchronized = []

    class Device:
        def __init__(self, index=0):
            self.id = index

        def synchronize(self):
            synchronized.append(self.id)

    runtime = types.SimpleNamespace(
        getDeviceCount=get_device_count,
        getDeviceProperties=lambda index: {"name": names[index].encode()},
    )
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=runtime, Device=Device)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    return synchronized


class CUDARuntimeError(RuntimeError):
    """What CuPy raises when the driver or the device is missing."""


def no_driver():
    raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")


def test_cupy_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail as if absent
    assert aprende.cuda.is_available() is False
    assert backend.cuda_is_available() is False
    assert aprende.cuda.unavailable_reason() == "CuPy is not installed: pip install 'aprende[gpu]'"
    assert aprende.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=r"get_device_name: CUDA is not available: CuPy is not"):
        aprende.cuda.get_device_name()
    with pytest.raises(RuntimeError, match=r"synchronize: CUDA is not available"):
        aprende.cuda.synchronize()


def test_no_driver(monkeypatch):
    stand_in_cupy(monkeypatch, no_driver)
    assert aprende.cuda.is_available() is False
    assert aprende.cuda.unavailable_reason() == (
        "CuPy found no NVIDIA driver or GPU: "
        "cudaErrorInsufficientDriver: CUDA driver version is insufficient"
    )
    assert aprende.cuda.device_count() == 0


def test_no_gpu(monkeypatch):
    stand_in_cupy(monkeypatch, lambda: 0)
    assert aprende.cuda.is_available() is False
    assert aprende.cuda.unavailable_reason() == "CuPy found no NVIDIA GPU (device count 0)"


def test_cupy_dependency_missing_is_not_called_cupy_missing(monkeypatch):
    def failing_import(name, *args, **kwargs):
        if name == "cupy":
            raise ModuleNotFoundError("No module named 'fastrlock'", name="fastrlock")
        return real_import(name, *args, **kwargs)

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", failing_import)
    assert backend.cuda_unavailable_reason() == (
        "CuPy is installed but failed to import: No module named 'fastrlock'"
    )


def test_two_gpus(monkeypatch):
    synchronized = stand_in_cupy(monkeypatch, lambda: 2, names=("GPU zero", "GPU one"))
    assert aprende.cuda.is_available() is True
    assert aprende.cuda.unavailable_reason() is None
    assert aprende.cuda.device_count() == 2
    assert aprende.cuda.get_device_name() == "GPU zero"  # the current device
    assert aprende.cuda.get_device_name(1) == "GPU one"
    assert aprende.cuda.get_device_name("cuda:1") == "GPU one"
    assert aprende.cuda.get_device_name(aprende.device("cuda")) == "GPU zero"
    aprende.cuda.synchronize()
    aprende.cuda.synchronize("cuda:1")
    assert synchronized == [0, 1]
    with pytest.raises(
        ValueError, match=r"expected a device index in 0\.\.1 \(2 GPU\(s\)\), got 2"
    ):
        aprende.cuda.get_device_name(2)
    with pytest.raises(ValueError, match="expected a CUDA device, got 'cpu'"):
        aprende.cuda.synchronize("cpu")


def test_train_on_cuda_without_gpu_says_why_in_one_line(monkeypatch, capsys):
    from aprende.cli import main

    stand_in_cupy(monkeypatch, no_driver)
    assert main(["train", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err == (
        "aprende train: error: device: 'cuda' is not available here (CuPy found no NVIDIA "
        "driver or GPU: cudaErrorInsufficientDriver: CUDA driver version is insufficient); "
        "use --device cpu"
    )


def test_train_on_cuda_without_cupy(monkeypatch, capsys):
    from aprende.cli import main

    monkeypatch.setitem(sys.modules, "cupy", None)
    assert main(["train", "--device", "cuda:0"]) == 2
    assert "(CuPy is not installed: pip install 'aprende[gpu]')" in capsys.readouterr().err
