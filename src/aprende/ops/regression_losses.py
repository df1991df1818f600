"""Regression and likelihood losses: Huber, smooth L1, Kullback-Leibler divergence, Poisson and
Gaussian negative log-likelihood, as ``torch.nn.functional``.

Each is a composition of differentiable ops whose gradient is PyTorch's, including at the
kinks (|x − y| = δ or β gives the linear piece's slope, x = y gives 0).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from aprende._tensor import Tensor
from aprende.creation import as_tensor, full_like
from aprende.ops._checks import check_floating, check_on_device, check_tensor
from aprende.ops.distances import clamp_min_pass_gradient
from aprende.ops.elementwise import abs as _abs
from aprende.ops.elementwise import exp, log, where
from aprende.ops.indexing import masked_fill
from aprende.ops.losses import _check_regression, as_target, check_reduction, l1_loss
from aprende.ops.reduce import mean as _mean
from aprende.ops.reduce import sum as _sum
from aprende.ops.shape import broadcast_tensors, unsqueeze
from aprende.ops.special import xlogy


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """The per-element losses ('none'), their sum ('sum') or their mean ('mean'; nan if empty)."""
    if reduction == "none":
        return loss
    return _sum(loss) if reduction == "sum" else _mean(loss)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Huber loss: ℓ = ½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ); times ``weight``
    (of the input's shape) when given.

    Quadratic near the target, linear (slope ±δ) far from it. The result has the input's
    dtype (a float64 target with a float32 input gives float32, as PyTorch); shapes broadcast
    with a UserWarning, as ``mse_loss``; δ must be positive.
    """
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got {delta}"
        )
    check_tensor(input, "input", "huber_loss")
    # PyTorch's huber_loss computes in the input's dtype, where the other losses promote.
    input, target = _check_regression(input, as_target(target, input), reduction, "huber_loss")
    input, target = broadcast_tensors(input, target)
    diff = input - target
    size = _abs(diff)
    loss = where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else as_tensor(weight)
        if weight.shape != input.shape:
            raise ValueError(
                f"huber_loss: weight of shape {weight.shape} must have the input's shape "
                f"{input.shape} (Weights and input must have the same size)"
            )
        loss = loss * weight
    return apply_reduction(loss, reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, *, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """Smooth L1 loss: ℓ = ½(x − y)²/β where |x − y| < β, else |x − y| − ½β.

    Equals ``huber_loss(x, y, delta=β) / β``; β = 0 is the L1 loss |x − y| (its gradient
    sign(x − y), 0 at x = y). Dtypes promote and shapes broadcast as ``mse_loss``.
    """
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _check_regression(input, target, reduction, "smooth_l1_loss")
    diff = input - target
    size = _abs(diff)
    loss = where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta)
    return apply_reduction(loss, reduction)


KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def kl_div(
    input: Tensor, target: Tensor, *, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Kullback-Leibler divergence of log-probabilities x from a target distribution y:
    ℓ = y·(log y − x) (0 where y = 0), or e^y·(y − x) with ``log_target`` (y given as logs).

    'batchmean' divides the sum by the batch size (the first dim; KL's definition); 'mean'
    divides by the number of elements and warns, as PyTorch. Shapes broadcast.
    """
    op = "kl_div"
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if reduction == "mean":
        warnings.warn(KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction != "batchmean":
        check_reduction(reduction, op)
    target = target if isinstance(target, Tensor) else as_tensor(target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction != "batchmean":
        return apply_reduction(loss, reduction)
    total = _sum(loss)
    return total / input.shape[0] if input.ndim else total


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a Poisson target y with rate λ:
    ℓ = e^x − y·x when the input is log λ (``log_input``), else ℓ = λ − y·log(λ + ε).

    ``full`` adds the Stirling approximation of log(y!), y·log y − y + ½·log(2πy), where
    y > 1 (0 elsewhere). Shapes broadcast.
    """
    op = "poisson_nll_loss"
    check_tensor(input, "input", op)
    check_reduction(reduction, op)
    target = target if isinstance(target, Tensor) else as_tensor(target)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 where y = 0, masked next
            stirling = target * log(target) - target + 0.5 * log(2 * math.pi * target)
        loss = loss + masked_fill(stirling, target <= 1, 0)
    return apply_reduction(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of a target y under N(μ = x, σ² = var):
    ℓ = ½·(log max(var, ε) + (x − y)² / max(var, ε)), plus ½·log 2π with ``full``.

    ``var`` has the input's shape (one variance per output), or one dim fewer, or a 1 in one
    of its dims (one variance shared along it), or is a number. The clamp at ε passes the
    gradient unchanged, as PyTorch's no-grad clamp. Negative variances raise ValueError (on a
    GPU at the next read from it, so the step does not wait).
    """
    op = "gaussian_nll_loss"
    check_tensor(input, "input", op)
    if isinstance(var, float | int):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries, got {var}")
        var = full_like(input.detach(), float(var))
    else:
        error = ValueError(f"{op}: var has negative entry/entries")
        check_on_device(var.data < 0, lambda: error)
    var = _variance_shape(var, input, op)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction} is not valid (expected 'mean', 'sum' or 'none')")
    var = clamp_min_pass_gradient(var, eps)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)


def _variance_shape(var: Tensor, input: Tensor, op: str) -> Tensor:
    """``var`` as PyTorch shapes it against the input: as is when it has the input's shape or
    differs in one dim where it has 1; unsqueezed at the end when it lacks the last dim."""
    if var.shape == input.shape:
        return var
    if input.shape[:-1] == var.shape:
        return unsqueeze(var, -1)
    mismatched = [v for i, v in zip(input.shape, var.shape, strict=False) if i != v]
    if var.ndim == input.ndim and sum(mismatched) == 1:
        return var
    raise ValueError(
        f"{op}: var is of incorrect size: got {var.shape} for input of shape {input.shape} "
        "(expected the input's shape, or it without the last dim, or with a 1 in one dim)"
    )
