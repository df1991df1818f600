"""``aprende.nn.functional`` (import as ``F``): the stateless form of every layer and loss.

Activations re-export the core ops; ``linear``, the convolutions, ``dropout``, ``batch_norm``
and the cross-entropy, BCE, MSE and L1 losses are the fused ops of ``aprende.ops`` (one graph
node each, hand-written backward); the other losses and the distances are compositions of
differentiable ops; ``embedding`` and ``layer_norm`` live beside their modules. Names, arguments and
defaults follow ``torch.nn.functional``.
"""

from __future__ import annotations

import warnings

from aprende import autograd as _autograd
from aprende._tensor import Tensor
from aprende.nn.embedding import embedding
from aprende.nn.group_norm import group_norm
from aprende.nn.instance_norm import instance_norm
from aprende.nn.local_response_norm import local_response_norm
from aprende.nn.normalization import layer_norm
from aprende.nn.rms_norm import rms_norm
from aprende.ops import activation as _activation
from aprende.ops import activation_shrink as _activation_shrink
from aprende.ops import activation_smooth as _activation_smooth
from aprende.ops import reduce as _reduce
from aprende.ops.activation import (
    celu,
    elu,
    hardsigmoid,
    hardswish,
    hardtanh,
    relu6,
    selu,
    sigmoid,
    tanh,
)
from aprende.ops.activation_shrink import (
    hardshrink,
    prelu,
    rrelu,
    softshrink,
    tanhshrink,
    threshold,
)
from aprende.ops.activation_smooth import gelu, glu, logsigmoid, mish, silu, softplus, softsign
from aprende.ops.adaptive_pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
)
from aprende.ops.attention import scaled_dot_product_attention
from aprende.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from aprende.ops.cross_entropy import cross_entropy, nll_loss
from aprende.ops.distances import cosine_similarity, pairwise_distance, pdist
from aprende.ops.dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    feature_alpha_dropout,
)
from aprende.ops.elementwise import sign
from aprende.ops.fold import fold, unfold
from aprende.ops.inplace import check_inplace, write_result
from aprende.ops.linear import bilinear, linear
from aprende.ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    l1_loss,
    mse_loss,
)
from aprende.ops.margin_losses import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from aprende.ops.multi_head_attention import multi_head_attention_forward
from aprende.ops.normalization import batch_norm
from aprende.ops.normalize import normalize
from aprende.ops.pool import avg_pool2d, max_pool2d, max_unpool1d, max_unpool2d
from aprende.ops.pool1d import (
    avg_pool1d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
)
from aprende.ops.regression_losses import (
    gaussian_nll_loss,
    huber_loss,
    kl_div,
    poisson_nll_loss,
    smooth_l1_loss,
)
from aprende.ops.resample import interpolate, pad
from aprende.ops.scatter import one_hot
from aprende.ops.shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x); derivative the step 1[x > 0]. ``inplace`` is accepted for PyTorch
    compatibility; the result is always a new tensor."""
    return _activation.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope·x otherwise; derivative 1 or negative_slope. ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor."""
    return _activation.leaky_relu(input, negative_slope)


def _implicit_dim(name: str, ndim: int) -> int:
    """PyTorch's legacy choice when no dim is given: 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(x)ᵢ = eˣⁱ / Σⱼ eˣʲ along ``dim`` (stable: the max is subtracted first)."""
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim)
    return _reduce.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmin(x) = softmax(−x) along ``dim``: weights that favour the smallest entries."""
    if dim is None:
        dim = _implicit_dim("softmin", input.ndim)
    return _activation_smooth.softmin(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """log softmax(x) = x − logsumexp(x) along ``dim``; pair it with ``nll_loss``."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim)
    return _reduce.log_softmax(input, dim, dtype=dtype)


def _in_place(input: Tensor, op: str, function, *args) -> Tensor:
    """Write ``function(input, *args)`` into ``input`` under aprende's in-place rules (refused
    on a tensor that requires grad while gradients are on; one version later); returns it."""
    check_inplace(input, op)
    with _autograd.no_grad():
        result = function(input, *args)
    return write_result(input, op, result)


def relu_(input: Tensor) -> Tensor:
    """In place: x ← max(0, x); returns ``input``."""
    return _in_place(input, "relu_", _activation.relu)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In place: x ← x for x > 0, negative_slope·x otherwise; returns ``input``."""
    return _in_place(input, "leaky_relu_", _activation.leaky_relu, negative_slope)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In place: x ← x for x > 0, α(eˣ − 1) otherwise; returns ``input``."""
    return _in_place(input, "elu_", elu, alpha)


def selu_(input: Tensor) -> Tensor:
    """In place: x ← λx for x > 0, λα(eˣ − 1) otherwise (SELU's λ, α); returns ``input``."""
    return _in_place(input, "selu_", selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In place: x ← x for x > 0, α(e^(x/α) − 1) otherwise; returns ``input``."""
    return _in_place(input, "celu_", celu, alpha)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In place: x ← clip(x, min_val, max_val); returns ``input``."""
    return _in_place(input, "hardtanh_", hardtanh, min_val, max_val)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In place: x ← x where x > threshold, ``value`` elsewhere; returns ``input``."""
    return _in_place(input, "threshold_", _activation_shrink.threshold, threshold, value)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "sign",
    "softmax",
    "tanh",
    "dropout2d",
    "interpolate",
    "pad",
    "celu",
    "elu",
    "gelu",
    "glu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "logsigmoid",
    "mish",
    "normalize",
    "relu6",
    "selu",
    "silu",
    "softmin",
    "softplus",
    "softsign",
    "one_hot",
    "scaled_dot_product_attention",
    "embedding",
    "layer_norm",
    "multi_head_attention_forward",
    "celu_",
    "channel_shuffle",
    "elu_",
    "hardshrink",
    "hardtanh_",
    "leaky_relu_",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "relu_",
    "rrelu",
    "selu_",
    "softshrink",
    "tanhshrink",
    "threshold",
    "threshold_",
    "group_norm",
    "instance_norm",
    "local_response_norm",
    "rms_norm",
    "alpha_dropout",
    "dropout1d",
    "feature_alpha_dropout",
    "cosine_similarity",
    "pairwise_distance",
    "pdist",
    "gaussian_nll_loss",
    "huber_loss",
    "kl_div",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "fold",
    "unfold",
    "bilinear",
]
