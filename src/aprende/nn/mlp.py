"""The course's multilayer perceptron in one line: ``MLP(4, [16, 16], 3)``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

from aprende.nn.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LeakyReLU,
    LogSigmoid,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    Sign,
    SiLU,
    Softplus,
    Softsign,
    Tanh,
)
from aprende.nn.container import Sequential
from aprende.nn.dropout import Dropout
from aprende.nn.linear import Linear
from aprende.nn.module import Module
from aprende.nn.noise import GaussianNoise
from aprende.nn.normalization import BatchNorm1d

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "sign": Sign,
    "identity": Identity,
    "linear": Identity,
    "gelu": GELU,
    "silu": SiLU,
    "mish": Mish,
    "softplus": Softplus,
    "elu": ELU,
    "selu": SELU,
    "celu": CELU,
    "hardtanh": Hardtanh,
    "relu6": ReLU6,
    "hardsigmoid": Hardsigmoid,
    "hardswish": Hardswish,
    "softsign": Softsign,
    "logsigmoid": LogSigmoid,
}


def _activation_factory(activation) -> Callable[[], Module]:
    """A function that makes a fresh activation module for each hidden layer."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; expected one of "
                f"{', '.join(sorted(ACTIVATIONS))}, a Module, or a function returning one"
            )
        return ACTIVATIONS[activation]
    if isinstance(activation, Module):
        return lambda: copy.deepcopy(activation)
    if callable(activation):
        return activation
    raise TypeError(
        f"MLP: activation should be a name, a Module or a function returning one, "
        f"got {type(activation).__name__}"
    )


class MLP(Sequential):
    """A multilayer perceptron: input → hidden layers → output, as one ``Sequential``.

    Each width in ``hidden`` adds ``Linear`` → [``BatchNorm1d``] → activation → [``Dropout``];
    ``GaussianNoise(noise)`` comes first when ``noise > 0`` (input noise, a regulariser); a
    final ``Linear`` gives ``out_features`` raw scores (logits: pair them with
    ``CrossEntropyLoss`` or ``BCEWithLogitsLoss``, or use them as a regression output).
    ``activation``: a name of ``ACTIVATIONS`` ("relu", "leaky_relu", "sigmoid", "tanh", "gelu",
    "silu", "elu", ..., "sign", "identity"/"linear"), a Module (copied per layer) or a function
    returning one (e.g. ``lambda: nn.LeakyReLU(0.2)``).
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str | Module | Callable[[], Module] = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        noise: float = 0.0,
    ):
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        for width in (in_features, *hidden, out_features):
            if not isinstance(width, int) or width <= 0:
                raise ValueError(
                    f"MLP: layer widths must be positive integers, got in_features="
                    f"{in_features}, hidden={hidden}, out_features={out_features}"
                )
        make_activation = _activation_factory(activation)
        layers: list[Module] = [GaussianNoise(noise)] if noise > 0 else []
        width = in_features
        for next_width in hidden:
            layers.append(Linear(width, next_width))
            if batch_norm:
                layers.append(BatchNorm1d(next_width))
            layer = make_activation()
            if not isinstance(layer, Module):
                raise TypeError(f"MLP: the activation factory returned {type(layer).__name__}")
            layers.append(layer)
            if dropout > 0:
                layers.append(Dropout(dropout))
            width = next_width
        layers.append(Linear(width, out_features))
        super().__init__(*layers)
        self.in_features = in_features
        self.hidden = hidden
        self.out_features = out_features
