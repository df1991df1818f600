"""Instance normalisation: each channel of each sample normalised over its own positions (the
statistics of one image's feature map), then scaled and shifted per channel."""

from __future__ import annotations

import warnings

from aprende import autograd
from aprende._tensor import Tensor
from aprende.nn.normalization import _BatchNorm
from aprende.ops.activation import require_floating
from aprende.ops.math import rsqrt


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ)/√(σ² + eps) · γ + β per sample and channel of an input (N, C, d1, ...).

    ``use_input_stats``: μ_nc and σ²_nc are the mean and biased variance of x[n, c] over its
    positions, and the running statistics (when given) move towards their mean over the batch,
    r ← (1 − momentum)·r + momentum·mean_n(batch), with the unbiased variance for
    ``running_var``. Otherwise ``running_mean`` and ``running_var`` (C,) replace them.
    γ (``weight``) and β (``bias``) have shape (C,). Composed of differentiable ops.
    """
    op = "instance_norm"
    require_floating(input, op)
    if input.ndim < 3:
        raise ValueError(
            f"{op}: expected an input of shape (N, C, d1, ...) with at least 3 dimensions, "
            f"got {input.shape}"
        )
    channels, per_channel = input.shape[1], (input.shape[1],) + (1,) * (input.ndim - 2)
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if value is not None and tuple(value.shape) != (channels,):
            raise RuntimeError(
                f"{op}: {name} should have shape ({channels},) for an input of shape "
                f"{input.shape}, got {tuple(value.shape)}"
            )
    if use_input_stats:
        positions = input[0, 0].numel()
        if positions <= 1:
            raise ValueError(
                f"{op}: expected more than 1 spatial element when training, got input of "
                f"shape {input.shape}"
            )
        dims = tuple(range(2, input.ndim))
        mean = input.mean(dim=dims, keepdim=True)
        var = input.var(dim=dims, keepdim=True, correction=0)
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, positions, momentum)
    elif running_mean is None:
        raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
    else:
        mean, var = running_mean.reshape(per_channel), running_var.reshape(per_channel)
    out = (input - mean) * rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def _update_running(running_mean, running_var, mean, var, positions: int, momentum: float):
    """r ← (1 − momentum)·r + momentum·mean over the batch of each instance's statistic, the
    variance unbiased (σ²·M/(M − 1) over M positions), in place."""
    with autograd.no_grad():
        batch_mean = mean.detach().reshape(mean.shape[:2]).mean(dim=0)
        batch_var = var.detach().reshape(var.shape[:2]).mean(dim=0) * (positions / (positions - 1))
        running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
        running_var.mul_(1 - momentum).add_(batch_var * momentum)


class _InstanceNorm(_BatchNorm):
    """Instance normalisation per channel C of each sample of an input (N, C, ...) or an
    unbatched (C, ...):

        y = (x − E[x]) / √(Var[x] + eps) · γ + β

    E and the biased Var over the sample's positions in that channel. With
    ``track_running_stats`` the running estimates move towards the batch's mean statistics in
    training (r ← (1 − momentum)·r + momentum·batch; ``momentum=None`` counts as 0, as PyTorch)
    and replace the instance statistics in evaluation; without it, instance statistics are
    used in both modes. ``affine=True`` learns γ (from 1) and β (from 0, unless ``bias=False``).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )

    def forward(self, input: Tensor) -> Tensor:
        name, unbatched = type(self).__name__, self.dims[0]  # (C, ...) without N
        if input.ndim not in self.dims:
            raise ValueError(
                f"{name}: expected {self.dims_text} input (got {input.ndim}D input of shape "
                f"{input.shape})"
            )
        feature_dim = input.ndim - unbatched
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"{name}: expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}."
                )
            warnings.warn(
                f"{name}: input's size at dim={feature_dim} does not match num_features. You "
                "can silence this warning by not passing in num_features, which is not used "
                "because affine=False",
                stacklevel=2,
            )
        batched = input.unsqueeze(0) if input.ndim == unbatched else input
        out = instance_norm(
            batched,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out.squeeze(0) if input.ndim == unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of sequences: inputs (N, C, L) or unbatched (C, L), statistics
    per sample and channel over L; see ``_InstanceNorm``."""

    dims, dims_text = (2, 3), "2D or 3D"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of images (style transfer): inputs (N, C, H, W) or unbatched
    (C, H, W), statistics per sample and channel over H and W; see ``_InstanceNorm``."""

    dims, dims_text = (3, 4), "3D or 4D"
