"""Elementwise losses: binary cross-entropy (of probabilities and of logits), squared and
absolute error, and the reductions every loss shares ('mean', 'sum', 'none').

Each loss is one graph node with a hand-written backward; everything stays in the input's
dtype (float32 by default), and Python numbers become scalars of that dtype before they meet
an array. Class weights and targets are node inputs, so in-place changes to them before
backward are caught.
"""

from __future__ import annotations

import warnings

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast, unpack_optional
from aprende.backend import get_array_module
from aprende.creation import as_tensor
from aprende.ops._checks import check_floating, check_tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, op: str) -> None:
    """A ValueError unless ``reduction`` is 'mean', 'sum' or 'none'."""
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction "
            "(expected 'mean', 'sum' or 'none')"
        )


def as_target(target, input: Tensor) -> Tensor:
    """A target as a tensor; a floating target takes the input's dtype (no silent upcast)."""
    target = target if isinstance(target, Tensor) else as_tensor(target)
    if target.dtype.kind == "f" and target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


def constant_input(value, dtype, name: str, op: str) -> Tensor | None:
    """A weight as a node input in the input's dtype: the tensor itself when its dtype fits
    (so an in-place change to it is caught), else a converted copy. Weights are constants of
    the loss: no gradient flows to them."""
    if value is None:
        return None
    value = value if isinstance(value, Tensor) else as_tensor(value)
    check_floating(value, name, op)
    return value if value.dtype == dtype else Tensor._make(value.data.astype(dtype), False)


def reduce_loss(loss, reduction: str, count):
    """The per-element losses, their sum, or their sum divided by ``count``."""
    if reduction == "none":
        return loss
    return reduced_total(get_array_module(loss).add.reduce(loss, axis=None), reduction, count, loss)


def reduced_total(total, reduction: str, count, like):
    """A summed loss as a 0-d array of ``like``'s dtype, divided by ``count`` for a mean."""
    xp = get_array_module(like)
    if reduction == "mean" and _on_device(count):
        total = total / count  # a count still on the GPU is not read; 0/0 gives nan there too
    elif reduction == "mean":
        total = total / like.dtype.type(count) if count else like.dtype.type(np.nan)  # 0/0 = nan
    return xp.asarray(total, dtype=like.dtype)


def upstream(grad, reduction: str, count):
    """∂L/∂ℓ_n for every element: the incoming gradient, divided by ``count`` for a mean."""
    if reduction == "mean":
        return grad / (count if _on_device(count) else grad.dtype.type(count))
    return grad


def _on_device(count) -> bool:
    """A count computed on a GPU (Σ w_yn over the labels), used there without a host read."""
    return not isinstance(count, int | float | np.number) and get_array_module(count) is not np


class BinaryCrossEntropy(Function):
    """ℓ = −w·[y log x + (1 − y) log(1 − x)], each log clamped at −100 as PyTorch (x = 0 or 1
    gives a finite loss). ∂ℓ/∂x = w·(x − y) / max(x(1 − x), 10⁻¹²), ∂ℓ/∂y = w·(log(1 − x) − log x).
    Equals ``-(w * (y * x.log() + (1 - y) * (1 - x).log()))`` reduced, where no log is −inf.
    """

    def forward(self, x, y, weight=None, *, reduction):
        xp = get_array_module(x)
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100 next
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        log_odds = log_x - log_1mx
        loss = y * log_odds
        loss += log_1mx
        loss *= -1 if weight is None else -weight
        self.save_for_backward(x, y, log_odds, weight)
        self.reduction, self.count = reduction, loss.size
        return reduce_loss(loss, reduction, self.count)

    def backward(self, grad):
        x, y, log_odds, weight = self.saved_tensors
        xp = get_array_module(grad)
        scale = upstream(grad, self.reduction, self.count)  # ∂L/∂ℓ
        if weight is not None:
            scale = scale * weight
        grad_x = grad_y = None
        if self.needs[0]:
            grad_x = x - y
            grad_x /= xp.maximum(x * (1 - x), 1e-12)
            grad_x *= scale
        if self.needs[1]:
            grad_y = log_odds * -scale
        return (grad_x, grad_y) + (None,) * (len(self.needs) - 2)


class BinaryCrossEntropyWithLogits(Function):
    """BCE of σ(x) computed from the logit x without ever forming σ(x): equals
    ``binary_cross_entropy(sigmoid(x), y, w)`` where σ(x) neither rounds to 0 nor to 1.

    ℓ = w·[(1 − y)·x + L·softplus(−x)], L = 1 + (pos_weight − 1)·y, where
    softplus(−x) = −log σ(x) = max(−x, 0) + log(1 + e^(−|x|)) never overflows; without
    pos_weight, ℓ = max(x, 0) − x·y + log(1 + e^(−|x|)). ∂ℓ/∂x = w·[(1 − y) − L·(1 − σ(x))]
    (w·(σ(x) − y) without pos_weight) and ∂ℓ/∂y = w·[(pos_weight − 1)·softplus(−x) − x].
    """

    def forward(self, x, y, *constants, present, reduction):
        weight, pos_weight = unpack_optional(constants, present)
        xp = get_array_module(x)
        exp_neg_abs = xp.exp(-xp.abs(x))  # e^(−|x|) ∈ (0, 1]: σ(x) comes from it in backward
        softplus = xp.log1p(exp_neg_abs)
        softplus += xp.maximum(-x, 0)
        loss = x * (1 - y)
        if pos_weight is None:
            loss += softplus
            log_weight = None
        else:
            log_weight = (pos_weight - 1) * y
            log_weight += 1
            loss += log_weight * softplus
        if weight is not None:
            loss *= weight
        self.save_for_backward(x, y, exp_neg_abs, softplus, log_weight, pos_weight, weight)
        self.reduction, self.count = reduction, loss.size
        return reduce_loss(loss, reduction, self.count)

    def backward(self, grad):
        x, y, e, softplus, log_weight, pos_weight, weight = self.saved_tensors
        xp = get_array_module(grad)
        scale = upstream(grad, self.reduction, self.count)  # ∂L/∂ℓ
        if weight is not None:
            scale = scale * weight
        grad_x = grad_y = None
        if self.needs[0]:  # e = e^(−|x|)
            if log_weight is None:
                grad_x = xp.where(x >= 0, 1, e)  # σ(x)·(1 + e)
                grad_x /= 1 + e
                grad_x -= y
            else:
                grad_x = xp.where(x >= 0, e, 1)  # (1 − σ(x))·(1 + e)
                grad_x /= 1 + e
                grad_x *= -log_weight
                grad_x += 1 - y
            grad_x *= scale
        if self.needs[1]:
            if pos_weight is None:
                grad_y = -x * scale
            else:
                grad_y = (pos_weight - 1) * softplus
                grad_y -= x
                grad_y *= scale
        return (grad_x, grad_y) + (None,) * (len(self.needs) - 2)


class MSELoss(Function):
    """ℓ = (x − y)²; ∂ℓ/∂x = 2(x − y) = −∂ℓ/∂y, each summed back to its operand's shape when
    x and y broadcast; equals ``((x - y) ** 2).mean()`` for 'mean'. Backward reads only x − y,
    made in forward."""

    def forward(self, x, y, *, reduction):
        diff = x - y
        self.save_for_backward(diff)
        self.reduction, self.shapes = reduction, (x.shape, y.shape)
        if reduction == "none":
            return diff * diff
        flat = diff.reshape(-1)
        # Σ (x − y)² in one BLAS pass, without a temporary array of squares.
        return reduced_total(get_array_module(x).dot(flat, flat), reduction, diff.size, x)

    def backward(self, grad):
        (diff,) = self.saved_tensors
        grad_diff = diff * upstream(grad * grad.dtype.type(2), self.reduction, diff.size)
        return _split_difference(grad_diff, self.shapes, self.needs)


class L1Loss(Function):
    """ℓ = |x − y|; ∂ℓ/∂x = sign(x − y) = −∂ℓ/∂y (0 where x = y, as PyTorch), each summed back
    to its operand's shape when x and y broadcast; equals ``(x - y).abs().mean()`` for 'mean'.
    Backward reads only x − y, made in forward."""

    def forward(self, x, y, *, reduction):
        diff = x - y
        self.save_for_backward(diff)
        self.reduction, self.shapes = reduction, (x.shape, y.shape)
        return reduce_loss(get_array_module(x).abs(diff), reduction, diff.size)

    def backward(self, grad):
        (diff,) = self.saved_tensors
        grad_diff = get_array_module(grad).sign(diff)
        grad_diff *= upstream(grad, self.reduction, diff.size)
        return _split_difference(grad_diff, self.shapes, self.needs)


def _split_difference(grad_diff, shapes, needs):
    """∂L/∂x = ∂L/∂(x − y) and ∂L/∂y = −∂L/∂(x − y), each summed back to its operand's shape."""
    grad_x = unbroadcast(grad_diff, shapes[0]) if needs[0] else None
    grad_y = unbroadcast(-grad_diff, shapes[1]) if needs[1] else None
    return grad_x, grad_y


def _check_same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match input of shape {input.shape}; "
            "they must have the same shape (broadcasting them is almost always a bug: reshape "
            "the target, e.g. target.reshape(input.shape))"
        )


def _check_elementwise(input: Tensor, target, reduction: str, op: str) -> Tensor:
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    check_reduction(reduction, op)
    target = as_target(target, input)
    if not np.issubdtype(target.dtype, np.floating):
        target = target.to(input.dtype)  # 0/1 labels stored as integers
    _check_same_shape(input, target, op)
    return target


def _broadcast_weight(weight, input: Tensor, name: str, op: str) -> Tensor | None:
    """A weight that broadcasts to the input's shape (per element, per class, ...)."""
    weight = constant_input(weight, input.dtype, name, op)
    if weight is not None:
        try:
            fits = np.broadcast_shapes(weight.shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"{op}: {name} of shape {weight.shape} cannot be broadcast to the input's "
                f"shape {input.shape}"
            )
    return weight


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, *, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities: ℓ = −w·[y log x + (1 − y) log(1 − x)].

    ``input`` holds probabilities in [0, 1] (a sigmoid output), ``target`` values in [0, 1] of
    the same shape (either outside it: RuntimeError, as PyTorch; a CuPy target is not read);
    ``weight`` broadcasts to the input's shape. Logs are clamped at −100.
    Prefer ``binary_cross_entropy_with_logits`` on the raw scores: it is stabler.
    """
    op = "binary_cross_entropy"
    target = _check_elementwise(input, target, reduction, op)
    weight = _broadcast_weight(weight, input, "weight", op)
    if input.numel():
        low, high = input.data.min(), input.data.max()
        if low < 0 or high > 1:
            raise RuntimeError(
                f"{op}: all elements of input should be between 0 and 1, got values in "
                f"[{float(low):.4g}, {float(high):.4g}]; apply sigmoid first, or use "
                "binary_cross_entropy_with_logits (BCEWithLogitsLoss) on the raw scores"
            )
    # Only host (NumPy) targets are range-checked: on a GPU the comparison would make the
    # step wait for the device.
    if target.numel() and get_array_module(target.data) is np:
        low, high = target.data.min(), target.data.max()
        if low < 0 or high > 1:
            raise RuntimeError(
                f"{op}: all elements of target should be between 0 and 1, got values in "
                f"[{float(low):.4g}, {float(high):.4g}]"
            )
    inputs = (input, target) if weight is None else (input, target, weight)
    return BinaryCrossEntropy.apply(*inputs, reduction=reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, from logits x:
    ℓ = w·[max(x, 0) − x·y + log(1 + e^(−|x|))].

    ``target`` (same shape as ``input``) holds values in [0, 1]; ``weight`` broadcasts to the
    input's shape; ``pos_weight`` (broadcast along the last dim, e.g. one per class of a
    multi-label output) multiplies the positive term:
    ℓ = −w·[pw·y log σ(x) + (1 − y) log(1 − σ(x))].
    """
    op = "binary_cross_entropy_with_logits"
    target = _check_elementwise(input, target, reduction, op)
    weight = _broadcast_weight(weight, input, "weight", op)
    pos_weight = _broadcast_weight(pos_weight, input, "pos_weight", op)
    constants = [c for c in (weight, pos_weight) if c is not None]
    return BinaryCrossEntropyWithLogits.apply(
        input,
        target,
        *constants,
        present=(weight is not None, pos_weight is not None),
        reduction=reduction,
    )


def _check_regression(input: Tensor, target, reduction: str, op: str) -> tuple[Tensor, Tensor]:
    """Input and target of a regression loss, as PyTorch takes them: both in their promoted
    dtype (float16 with float32 computes in float32), and a target of another shape broadcast
    against the input with PyTorch's UserWarning ((N, 1) outputs against (N,) targets give an
    (N, N) table of differences, almost never what was meant)."""
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    check_reduction(reduction, op)
    target = target if isinstance(target, Tensor) else as_tensor(target)
    # An integer or bool target (labels) takes the input's float dtype, as in PyTorch;
    # NumPy's own rule would make float32 with int64 a float64.
    floating = target.dtype.kind == "f"
    dtype = np.result_type(input.dtype, target.dtype) if floating else input.dtype
    input, target = input.to(dtype), target.to(dtype)
    if target.shape != input.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise RuntimeError(
                f"{op}: target of shape {target.shape} cannot be broadcast against input of "
                f"shape {input.shape}; they should have the same shape"
            ) from None
        warnings.warn(
            f"Using a target size {target.shape} that is different to the input size "
            f"{input.shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return input, target


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Squared error ℓ = (x − y)²; 'mean' divides by the number of elements (not of samples).

    The result has the promoted dtype of input and target; a target of another shape is
    broadcast against the input with a UserWarning, as in PyTorch.
    """
    input, target = _check_regression(input, target, reduction, "mse_loss")
    return MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Absolute error ℓ = |x − y|; 'mean' divides by the number of elements.

    Dtypes promote and shapes broadcast (with a UserWarning) as in ``mse_loss``.
    """
    input, target = _check_regression(input, target, reduction, "l1_loss")
    return L1Loss.apply(input, target, reduction=reduction)
