"""Activation functions as modules (the f of o = f(a) for a neuron's weighted sum a).

Each docstring gives f and its derivative f′, the factor backpropagation multiplies by.
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class ReLU(Module):
    """f(a) = max(0, a); f′(a) = 1 for a > 0, else 0.

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """f(a) = a for a > 0, negative_slope·a otherwise; f′ = 1 or negative_slope (no dead units).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """The logistic f(a) = 1/(1 + e⁻ᵃ) ∈ (0, 1); f′ = f(1 − f) (at most 1/4: it saturates)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """f(a) = tanh(a) ∈ (−1, 1), zero-centred; f′ = 1 − f²."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sign(Module):
    """The perceptron's step f(a) = sign(a) ∈ {−1, 0, 1}.

    Its derivative is 0 wherever it exists, so the gradient through it is zero: a network of
    sign units cannot learn by backpropagation (the reason for sigmoid, tanh and ReLU).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sign(input)


class Identity(Module):
    """f(a) = a, the linear activation (f′ = 1); also a placeholder layer.

    Accepts and ignores any arguments, as PyTorch's.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Softmax(Module):
    """f(a)ᵢ = e^aᵢ / Σⱼ e^aⱼ along ``dim``: class probabilities that sum to one.

    ∂fᵢ/∂aⱼ = fᵢ([i = j] − fⱼ). For training, feed the raw scores to ``CrossEntropyLoss``
    instead: it fuses log-softmax and the loss stably.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """f(a)ᵢ = aᵢ − log Σⱼ e^aⱼ along ``dim`` (log-probabilities, for ``NLLLoss``);
    ∂fᵢ/∂aⱼ = [i = j] − softmax(a)ⱼ."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
