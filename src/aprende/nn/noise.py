"""Gaussian noise injection: a regulariser that perturbs the inputs (or activations) in training."""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.nn.module import Module


class GaussianNoise(Module):
    """y = x + ε with ε ~ N(0, std²) drawn afresh at every call in training; y = x in evaluation.

    As Keras' ``GaussianNoise(stddev)``. The gradient passes through unchanged (∂y/∂x = 1).
    The noise comes from the global generator (``aprende.manual_seed``).
    """

    def __init__(self, std: float):
        super().__init__()
        if not std >= 0:
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std}")
        self.std = std

    def forward(self, input: Tensor) -> Tensor:
        if not self.training or self.std == 0:
            return input
        dtype = input.dtype if input.dtype in (backend.float32, backend.float64) else np.float32
        # drawn where the input lives: on a GPU from its own generator, nothing uploaded
        noise = backend.generator_of(input.data).standard_normal(input.shape, dtype=dtype)
        noise *= noise.dtype.type(self.std)
        noise = noise.astype(input.dtype, copy=False)
        return input + Tensor(noise)

    def extra_repr(self) -> str:
        return f"std={self.std}"
