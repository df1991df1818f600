"""Batch normalisation over (N, C, d1, ...) per channel C, as one graph node."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.autograd import Function, unpack_optional
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor


class BatchNorm(Function):
    """y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + eps), per channel (axis 1) over N and d1, ...;
    equals ``(x - mean) / (var + eps).sqrt() * weight + bias`` with the statistics shaped
    (1, C, 1, ...), in one node.

    Training: μ, σ² are the batch's mean and biased variance, and (with M values per channel)
    ∂L/∂x = γ/√(σ² + eps) · (g − mean(g) − x̂·mean(g·x̂)). Evaluation: μ, σ² are the running
    statistics, constants, so y = x·scale + shift and ∂L/∂x = g·scale.
    ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g in both modes.
    """

    def forward(self, x, *optional, present, training, momentum, eps):
        weight, bias, mean, var = unpack_optional(optional, present)
        self.present = present
        xp, dtype = get_array_module(x), x.dtype
        axes = (0, *range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.axes, self.shape, self.training = axes, shape, training
        if training:
            batch_mean = x.mean(axis=axes)
            centered = x - batch_mean.reshape(shape)
            batch_var = xp.square(centered).mean(axis=axes)  # biased: normalises the batch
            if mean is not None:
                _update_running(mean, var, batch_mean, batch_var, x.size // x.shape[1], momentum)
            inv_std = 1 / xp.sqrt(batch_var + dtype.type(eps))
            centered *= inv_std.reshape(shape)  # x̂
            self.save_for_backward(centered, inv_std, weight)
            out = centered * weight.reshape(shape) if weight is not None else centered.copy()
            if bias is not None:
                out += bias.reshape(shape)
            return out
        inv_std = 1 / xp.sqrt(var + dtype.type(eps))
        scale = inv_std if weight is None else inv_std * weight
        shift = -mean * scale
        if bias is not None:
            shift += bias
        self.save_for_backward(x, mean, inv_std, scale)
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        return out

    def backward(self, grad):
        shape, axes, needs = self.shape, self.axes, self.needs
        if self.training:
            normalized, inv_std, weight = self.saved_tensors
        else:
            x, mean, inv_std, scale = self.saved_tensors
            normalized = (x - mean.reshape(shape)) * inv_std.reshape(shape)
        grad_sum = grad.sum(axis=axes)  # Σ g per channel
        grad_dot = (grad * normalized).sum(axis=axes)  # Σ g·x̂ per channel
        grad_x = None
        if needs[0]:
            if self.training:
                count = grad.dtype.type(grad.size // grad.shape[1])
                scale = inv_std if weight is None else inv_std * weight
                grad_x = grad * scale.reshape(shape)
                grad_x -= normalized * (scale * grad_dot / count).reshape(shape)
                grad_x -= (scale * grad_sum / count).reshape(shape)
            else:
                grad_x = grad * scale.reshape(shape)
        has_weight, has_bias = self.present[:2]
        grads = [grad_x] + [grad_dot] * has_weight + [grad_sum] * has_bias
        return tuple(grads) + (None,) * (len(needs) - len(grads))


def _update_running(mean, var, batch_mean, batch_var, count: int, momentum: float) -> None:
    """Exponential moving averages, in place: r ← (1 − momentum)·r + momentum·batch, with the
    unbiased batch variance σ²·M/(M − 1) as PyTorch."""
    xp = get_array_module(mean)
    keep, take = mean.dtype.type(1 - momentum), mean.dtype.type(momentum)
    xp.multiply(mean, keep, out=mean)
    mean += take * batch_mean
    xp.multiply(var, keep, out=var)
    var += (take * batch_var.dtype.type(count / (count - 1))) * batch_var


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of ``input`` (N, C, d1, ...) per channel C.

    Training (or without running statistics): normalise with the batch's mean and biased
    variance, and update ``running_mean``/``running_var`` in place (when given) with
    ``momentum``, using the unbiased variance for the running one. Evaluation: normalise with
    the running statistics. Then scale by ``weight`` γ and shift by ``bias`` β, each (C,).
    """
    op = "batch_norm"
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    for name, value in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if value is not None and value.shape != (channels,):
            raise RuntimeError(
                f"{op}: {name} should have shape ({channels},) for an input of shape "
                f"{input.shape}, got {value.shape}"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError(f"{op}: evaluation (training=False) needs running_mean and running_var")
    if training and input.numel() // max(channels, 1) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got input of shape "
            f"{input.shape}"
        )
    for p in (weight, bias):
        if p is not None and p.dtype != input.dtype:
            raise RuntimeError(
                f"{op}: input ({input.dtype}) and parameters ({p.dtype}) must have the same dtype"
            )
    if training and running_mean is not None:  # the forward pass updates them in place
        running_mean._version += 1
        running_var._version += 1
    optional = (weight, bias, running_mean, running_var)
    return BatchNorm.apply(
        input,
        *(t for t in optional if t is not None),
        present=tuple(t is not None for t in optional),
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )
