"""Inverted dropout: zero elements (or whole channels) at random in training, scale the
survivors."""

from __future__ import annotations

import math
import warnings

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor
from aprende.ops.activation import SELU_ALPHA, SELU_SCALE


class Dropout(Function):
    """Inverted dropout: y = x·m/(1 − p) with m ~ Bernoulli(1 − p); ∂L/∂x = g·m/(1 − p).
    Equals ``x * mask / (1 - p)`` in one node, the mask drawn inside."""

    def forward(self, x, *, p):
        xp = get_array_module(x)
        # drawn where x lives: on a GPU from its own generator, so no mask is uploaded
        draws = backend.generator_of(x).random(self.mask_shape(x.shape), dtype=np.float32)
        keep = draws >= np.float32(p)  # m
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

    @staticmethod
    def mask_shape(shape: tuple) -> tuple:
        """One draw per element."""
        return shape


class FeatureDropout(Dropout):
    """Channel dropout: y = x·m/(1 − p) with one m ~ Bernoulli(1 − p) per (sample, channel),
    broadcast over the spatial positions; ∂L/∂x = g·m/(1 − p). Equals ``x * mask / (1 - p)``
    with the mask shaped (N, C, 1, 1), in one node."""

    @staticmethod
    def mask_shape(shape: tuple) -> tuple:
        """One draw per (N, C): a whole feature map is kept or dropped."""
        return shape[:2] + (1,) * (len(shape) - 2)

    @classmethod
    def name(cls) -> str:
        return "dropout2d"


class AlphaDropout(Dropout):
    """Alpha dropout (for SELU networks): a dropped element takes SELU's negative saturation
    α′ = −λα ≈ −1.7581 instead of 0, and the result is rescaled so that a standard normal input
    keeps mean 0 and variance 1:

        y = a·(x·m + α′·(1 − m)) + b,  a = ((1 − p)(1 + p·α′²))^(−1/2),  b = −a·α′·p

    with m ~ Bernoulli(1 − p); ∂L/∂x = g·a·m. Equals that composition in one node."""

    def forward(self, x, *, p):
        xp = get_array_module(x)
        draws = backend.generator_of(x).random(self.mask_shape(x.shape), dtype=np.float32)
        keep = draws >= np.float32(p)  # m
        self.save_for_backward(keep)
        alpha = -SELU_ALPHA * SELU_SCALE  # α′
        a = 1 / math.sqrt((1 - p) * (1 + p * alpha * alpha))
        self.scale = x.dtype.type(a)
        out = xp.where(keep, x, x.dtype.type(alpha))
        out *= self.scale
        out += x.dtype.type(-a * alpha * p)
        return out


class FeatureAlphaDropout(AlphaDropout):
    """Alpha dropout of whole channels: one m per (sample, channel), broadcast over the
    positions; the formula of ``AlphaDropout``."""

    mask_shape = staticmethod(FeatureDropout.mask_shape)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


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


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels: each feature map ``input[n, c]`` of an (N, C, H, W) input is
    dropped with probability ``p``, and the kept ones are scaled by 1/(1 − p); the identity
    when not ``training``. Neighbouring pixels are strongly correlated, so dropping single
    pixels regularises little; dropping maps does.

    A 3-D input is taken as (N, C, L), as PyTorch (with its warning); other inputs of at least
    two dimensions are accepted with PyTorch's deprecation warning. The mask comes from the
    global generator (``aprende.manual_seed``); ``inplace`` is accepted for PyTorch
    compatibility, the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    check_tensor(input, "input", "dropout2d")
    ndim = input.ndim
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if ndim < 2:
        raise RuntimeError(
            f"dropout2d: feature dropout requires at least 2 dimensions in the input, got "
            f"shape {input.shape}"
        )
    if not training or p == 0:
        return input
    return FeatureDropout.apply(input, p=float(p))


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of a sequence: each ``input[n, c]`` of an (N, C, L) input (or each
    ``input[c]`` of an unbatched (C, L) one) is dropped with probability ``p`` and the kept
    ones are scaled by 1/(1 − p); the identity when not ``training``. The mask comes from the
    global generator; ``inplace``: accepted, the result is a new tensor."""
    _check_p(p)
    check_tensor(input, "input", "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input of shape "
            f"{input.shape}. Note that dropout1d exists to provide channel-wise dropout on "
            "inputs with 1 spatial dimension, a channel dimension, and an optional batch "
            "dimension (i.e. 2D or 3D inputs)."
        )
    if not training or p == 0:
        return input
    if input.ndim == 2:
        return FeatureDropout.apply(input.unsqueeze(0), p=float(p)).squeeze(0)
    return FeatureDropout.apply(input, p=float(p))


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout (``AlphaDropout``'s formula): dropped elements become SELU's saturation
    value, then an affine map keeps a standard normal input's mean 0 and variance 1; the
    identity when not ``training``. The mask comes from the global generator (PyTorch's
    random stream differs); ``inplace``: accepted, the result is a new tensor."""
    _check_p(p)
    check_tensor(input, "input", "alpha_dropout")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0
    return AlphaDropout.apply(input, p=float(p))


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels ``input[n, c]`` of an (N, C, ...) input; see
    ``alpha_dropout``."""
    _check_p(p)
    check_tensor(input, "input", "feature_alpha_dropout")
    if not training or p == 0 or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError(
            f"feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the "
            f"input, got shape {input.shape}"
        )
    if p == 1:
        return input * 0
    return FeatureAlphaDropout.apply(input, p=float(p))
