"""The fully connected layer (every output unit a neuron over every input) and the bilinear one."""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.functional import bilinear, linear
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


class Bilinear(Module):
    """yₒ = x₁ᵀ Aₒ x₂ + bₒ: ``out_features`` units, each a bilinear form of the two inputs.

    ``weight`` A (out_features, in1_features, in2_features) and ``bias`` (out_features,) start,
    as in PyTorch, uniform in ±1/√in1_features. Inputs (..., in1_features) and
    (..., in2_features), output (..., out_features).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights and biases uniform in ±1/√in1_features, as PyTorch."""
        if self.in1_features <= 0:
            raise ValueError(
                f"in1_features must be > 0, but got (in1_features={self.in1_features})"
            )
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
