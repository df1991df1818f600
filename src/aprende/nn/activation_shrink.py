"""Shrinkage and threshold activations, the leaky ReLUs with a learnt (PReLU) or random
(RReLU) slope, and the softmax over channels (Softmax2d), as modules.

Each docstring gives f and its derivative f′.
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import functional as F
from aprende.nn import init
from aprende.nn.module import Module, Parameter


class Threshold(Module):
    """f(x) = x for x > threshold, ``value`` otherwise; f′ = 1 or 0 (0 at the threshold)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        if self.inplace:
            return F.threshold_(input, self.threshold, self.value)
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace}"


class Hardshrink(Module):
    """f(x) = x where |x| > λ, 0 on [−λ, λ]; f′ = 1 or 0."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """f(x) = sign(x)·max(|x| − λ, 0); f′ = 1 where |x| > λ, else 0."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class Tanhshrink(Module):
    """f(x) = x − tanh(x); f′ = tanh²(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Softmax2d(Module):
    """Softmax over the channels at each position: f(x)_c = e^(x_c) / Σ_c' e^(x_c') along
    dimension −3 of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead "
                f"(input of shape {input.shape})"
            )
        return F.softmax(input, -3)


class PReLU(Module):
    """f(x) = x for x > 0, a·x otherwise, with the slope a learnt: ``num_parameters`` = 1
    (shared) or C (one per channel of dimension 1); a starts at ``init``. f′ = 1 or a,
    ∂f/∂a = x for x ≤ 0."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """f(x) = x for x > 0, a·x otherwise; in training a ~ U(lower, upper) per element (from
    aprende's generator), in evaluation a = (lower + upper)/2. f′ = 1 or a. ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
