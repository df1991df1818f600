"""Normalisation layers: batch normalisation (each feature or channel over the mini-batch) and
layer normalisation (each sample over its last dimensions), then scale and shift."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.creation import empty, ones, tensor, zeros
from aprende.nn import init
from aprende.nn.module import Module, Parameter
from aprende.ops.math import rsqrt
from aprende.ops.normalization import batch_norm


class _BatchNorm(Module):
    """y = γ·(x − μ)/√(σ² + eps) + β per channel C of an input (N, C, ...).

    Training: μ and σ² are the mini-batch's mean and (biased) variance over every dimension
    but C, and the running estimates move towards them: r ← (1 − momentum)·r + momentum·batch,
    with the unbiased variance for ``running_var`` (``momentum=None``: a cumulative average
    over all batches). Evaluation: the running estimates replace the batch statistics, so a sample's
    output no longer depends on its batch. γ (``weight``) starts at 1 and β (``bias``) at 0.
    With ``track_running_stats=False`` batch statistics are used in both modes; with
    ``bias=False`` (and ``affine=True``) only γ is learnt.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """Reset the running statistics, γ to 1 and β to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    #: The input dimensions a subclass accepts, and how its error names them.
    dims: tuple[int, ...] = ()
    dims_text = ""

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if input.ndim not in self.dims:
            raise ValueError(
                f"{name}: expected {self.dims_text} input (got {input.ndim}D input of shape "
                f"{input.shape})"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} features (dimension 1), got input "
                f"of shape {input.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            counter = self.num_batches_tracked.data
            counter += 1  # a 0-d array, updated in place
            if self.momentum is None:
                momentum = 1.0 / int(counter)  # cumulative moving average
        use_batch_stats = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features: inputs (N, C) or (N, C, L), statistics per feature C
    over N (and L); see ``_BatchNorm`` for the formulas and arguments."""

    dims, dims_text = (2, 3), "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of image channels: inputs (N, C, H, W), statistics per channel C
    over N, H and W (each feature map shares one μ, σ², γ and β); see ``_BatchNorm``."""

    dims, dims_text = (4,), "4D"


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ)/√(σ² + eps) · γ + β over the last ``len(normalized_shape)`` dimensions.

    μ and σ² are each sample's mean and biased variance over those dimensions, which must equal
    ``normalized_shape``; γ (``weight``) and β (``bias``) have that shape. Composed of mean, var
    and rsqrt, so the gradient is the chain rule through them (PyTorch's fused kernel gives the
    same numbers to rounding).
    """
    shape = _as_shape(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape) :]) != shape or input.ndim < len(shape):
        raise RuntimeError(
            f"layer_norm: expected input with shape [*, {', '.join(map(str, shape))}], "
            f"got input of shape {tuple(input.shape)}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != shape:
            raise RuntimeError(
                f"layer_norm: expected {name} of shape {shape}, got {tuple(value.shape)}"
            )
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(dim=dims, keepdim=True)
    var = input.var(dim=dims, keepdim=True, correction=0)
    out = (input - mean) * rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _as_shape(normalized_shape) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(size) for size in normalized_shape)


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its last dimensions (those of
    ``normalized_shape``), then scaled by γ and shifted by β element by element.

        y = (x − E[x]) / √(Var[x] + eps) · γ + β

    with E and the biased Var over the normalised dimensions; the same computation in training
    and evaluation (no running statistics). γ (``weight``) starts at 1 and β (``bias``) at 0,
    both of shape ``normalized_shape``; ``elementwise_affine=False`` learns neither,
    ``bias=False`` only γ.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ to 1 and β to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
