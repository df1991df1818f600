"""Argument checks shared by the fused ops: each error names the op and what came."""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.backend import get_array_module


def check_tensor(value, name: str, op: str) -> Tensor:
    """``value`` itself when it is a Tensor, else a TypeError naming the argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")
    return value


def check_floating(value: Tensor, name: str, op: str) -> None:
    """A TypeError unless ``value`` holds floating point numbers."""
    if value.dtype.kind != "f":  # np.issubdtype costs ~1 µs: too much on every batch
        raise TypeError(
            f"{op}: expected a floating point {name}, got {value.dtype}; use .float() first"
        )


def check_on_device(bad, error) -> None:
    """Raise ``error()`` where any of ``bad`` holds: now for a host array, at the next host
    read for a GPU array (``backend.defer_check``), so a training step never waits for it."""
    if get_array_module(bad) is np:
        if bad.any():
            raise error()
    elif bad.size:
        backend.defer_check(bad.any(), error)
