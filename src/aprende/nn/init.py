"""Weight initialisation, as ``torch.nn.init``: fill a tensor in place, without recording a graph.

The course's rule: start from small random values (to break the symmetry between units) with
zero mean and a spread set by the fan-in, so activations neither vanish nor explode through the
layers. Glorot/Xavier keeps Var(w) = 2/(fan_in + fan_out) (for tanh/sigmoid), He/Kaiming
Var(w) = gain²/fan (for ReLU), LeCun Var(w) = 1/fan_in. A uniform U(−a, a) has variance a²/3,
so each uniform variant draws from a = √3·std.

Every function draws from the global generator (``aprende.manual_seed``) unless a
``generator=`` (a ``numpy.random.Generator`` or a seed) is given, and returns the tensor.
"""

from __future__ import annotations

import math
import numbers
import warnings

from aprende._tensor import Tensor
from aprende.autograd import no_grad

_LINEAR_GAINS = (
    "linear",
    "identity",
    "sigmoid",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance stable through a nonlinearity, as PyTorch:
    linear/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)) (slope ``param``,
    default 0.01), selu 3/4."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in·k and out·k, k = Π kernel."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, "
            f"got shape {tensor.shape}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor: Tensor, name: str) -> bool:
    if tensor.numel() == 0:
        warnings.warn(f"Initializing zero-element tensors is a no-op ({name})", stacklevel=3)
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros (BatchNorm's β, biases)."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones (BatchNorm's γ)."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot/Xavier uniform: U(−a, a), a = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot/Xavier normal: N(0, std²), std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He/Kaiming uniform: U(−b, b), b = gain·√(3/fan), gain = ``calculate_gain(nonlinearity, a)``.

    ``mode`` picks fan_in (keeps the forward pass's variance) or fan_out (the backward's).
    ``Linear`` uses a = √5, which gives b = 1/√fan_in.
    """
    if _is_empty(tensor, "kaiming_uniform_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He/Kaiming normal: N(0, std²), std = gain/√fan, gain = calculate_gain(nonlinearity, a)."""
    if _is_empty(tensor, "kaiming_normal_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator=generator)


def lecun_uniform_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun uniform: U(−a, a), a = √(3/fan_in), so Var(w) = 1/fan_in (as Keras' lecun_uniform)."""
    if _is_empty(tensor, "lecun_uniform_"):
        return tensor
    bound = math.sqrt(3.0 / _fan(tensor, "fan_in"))
    return uniform_(tensor, -bound, bound, generator=generator)


def lecun_normal_(tensor: Tensor, generator=None) -> Tensor:
    """LeCun normal: N(0, 1/fan_in).

    Keras' lecun_normal draws from a truncated normal of the same variance; this is the plain
    normal of LeCun et al. (1998), the same as ``kaiming_normal_(t, nonlinearity="linear")``.
    """
    if _is_empty(tensor, "lecun_normal_"):
        return tensor
    return normal_(tensor, 0.0, 1.0 / math.sqrt(_fan(tensor, "fan_in")), generator=generator)
