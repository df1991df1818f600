"""Batch normalisation: normalise each feature (or channel) over the mini-batch, then scale and
shift."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.creation import empty, ones, tensor, zeros
from aprende.nn import functional as F
from aprende.nn import init
from aprende.nn.module import Module, Parameter


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
        return F.batch_norm(
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
