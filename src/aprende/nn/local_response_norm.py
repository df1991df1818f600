"""Local response normalisation (AlexNet): each activation divided by a power of the energy of
its neighbouring channels at the same position."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.backend import is_floating
from aprende.nn.module import Module
from aprende.ops.resample import pad


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """y_c = x_c / (k + α/n · Σ_{c'} x²_{c'})^β for an input (N, C, ...), the sum over the n =
    ``size`` channels c − ⌊n/2⌋ ≤ c' ≤ c + ⌈n/2⌉ − 1 that exist (missing ones count as 0, and
    the sum is still divided by n, as PyTorch). Integer inputs give the default float dtype,
    with PyTorch's integer (truncated) mean of the squares. Composed of differentiable ops."""
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: Expected 3D or higher dimensionality input (got "
            f"{input.ndim} dimensions, shape {input.shape})"
        )
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = (input * input).unsqueeze(1)  # (N, 1, C, ...): pad C as a spatial dimension
    widths = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)
    padded = pad(squares, widths).squeeze(1)
    energy = sum(padded[:, start : start + channels] for start in range(size))
    if is_floating(input.dtype):
        mean = energy * (1 / size)
    else:  # PyTorch's average pooling of an integer tensor divides in integers
        mean = energy // size
    return input / (mean * alpha + k) ** beta


class LocalResponseNorm(Module):
    """y_c = x_c / (k + α/n · Σ x²_{c'})^β over the n = ``size`` neighbouring channels c'
    (``F.local_response_norm``); inputs (N, C, ...) with at least 3 dimensions."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
