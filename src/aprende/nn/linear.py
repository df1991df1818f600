"""The fully connected layer: every output unit a neuron over every input."""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.functional import linear
from aprende.nn.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b: ``out_features`` neurons, each a weighted sum of the inputs plus a bias.

    ``weight`` (out_features, in_features) and ``bias`` (out_features,) start, as in PyTorch,
    uniform in ±1/√in_features (``kaiming_uniform_`` with a = √5). Input (..., in_features),
    output (..., out_features).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights and biases from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
