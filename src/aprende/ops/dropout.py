"""Inverted dropout: zero elements at random in training, scale the survivors."""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor


class Dropout(Function):
    """Inverted dropout: y = x·m/(1 − p) with m ~ Bernoulli(1 − p); ∂L/∂x = g·m/(1 − p).
    Equals ``x * mask / (1 - p)`` in one node, the mask drawn inside."""

    def forward(self, x, *, p):
        xp = get_array_module(x)
        draws = backend.default_generator().random(x.shape, dtype=np.float32)
        keep = backend.move(draws >= np.float32(p), backend.device_of(x))  # m
        self.save_for_backward(keep)
        self.scale = x.dtype.type(0 if p == 1 else 1 / (1 - p))
        out = xp.multiply(x, keep)
        out *= self.scale
        return out

    def backward(self, grad):
        (keep,) = self.saved_tensors
        grad_x = grad * keep
        grad_x *= self.scale
        return (grad_x,)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the survivors by 1/(1 − p), so the
    expected value is unchanged (inverted dropout); the identity when not ``training``.

    The mask is drawn from the global generator (seeded by ``aprende.manual_seed``).
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    check_tensor(input, "input", "dropout")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=float(p))
