"""Losses over class indices: cross-entropy (log-softmax + negative log-likelihood in one
node, with class weights, ignore_index and label smoothing; against probabilities too) and NLL.

Shapes: N samples, C classes, d1, ... extra positions (pixels, time steps): logits (N, C, d1,
...), class-index targets (N, d1, ...). Targets and class weights are node inputs, saved for
backward and version-checked, as PyTorch's ``nll_loss`` saves its target.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_floating, check_tensor
from aprende.ops.losses import (
    REDUCTIONS,
    as_target,
    check_reduction,
    constant_input,
    reduce_loss,
    upstream,
)
from aprende.ops.reduce import max_keepdims

#: Signed integer dtypes and their unsigned twins, to check label ranges in one comparison.
_UNSIGNED = {np.dtype(f"int{bits}"): np.dtype(f"uint{bits}") for bits in (8, 16, 32, 64)}


def _as_unsigned(labels):
    """Integer labels seen as their unsigned twin (no copy): a negative label becomes huge, so
    a single ``>= C`` test checks both ends of [0, C)."""
    return labels.view(_UNSIGNED[labels.dtype]) if labels.dtype in _UNSIGNED else labels


def _log_softmax(x, axis: int):
    """log softmax along ``axis``: x − m − log Σ e^(x − m), m the max (nothing overflows)."""
    xp = get_array_module(x)
    shifted = x - max_keepdims(x, axis)
    # ufunc.reduce directly: ndarray.sum adds a Python-level wrapper per call
    shifted -= xp.log(xp.add.reduce(xp.exp(shifted), axis=axis, keepdims=True))
    return shifted


def _along_classes(values):
    """A per-element array of shape (N, d1, ...) as (N, 1, d1, ...): it broadcasts over C."""
    return values if values.ndim == 0 else get_array_module(values).expand_dims(values, 1)


def _class_shape(weight, ndim: int):
    """A per-class array of shape (C,) as (1, C, 1, ...): it broadcasts over N and d1, ..."""
    return weight.reshape((1, weight.shape[0]) + (1,) * (ndim - 2))


def _class_index(xp, target) -> tuple:
    """The index that picks x[n, target[n, d...], d...] from an (N, C, d1, ...) array."""
    nd = target.ndim
    if nd == 1:  # (N, C) logits, the common case
        return xp.arange(target.shape[0]), target
    grids = [
        xp.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - i - 1))
        for i, n in enumerate(target.shape)
    ]
    return (grids[0], target, *grids[1:])


def _target_weights(target, weight, ignore_index: int | None, dtype, classes: int):
    """The picking index, each element's class weight w_yn (0 where ignored), the valid mask.

    The weights are None when every element counts 1 (no weight, nothing ignored), and the
    mask is None when nothing is ignored: the common case pays for neither.
    """
    xp = get_array_module(target)
    valid = None if ignore_index is None else target != ignore_index
    if xp is not np and valid is not None:
        # A GPU reports a bad label later (_check_labels_on_device); until then it must not
        # read outside the logits, so such a label counts as ignored.
        valid &= _as_unsigned(target) < classes
    # Checking for nothing ignored saves two masks on the CPU; a GPU would have to wait for it.
    if valid is None or (xp is np and valid.all()):
        valid, safe = None, target
    else:
        safe = xp.where(valid, target, 0)
    if weight is not None:
        picked = weight[safe]
        if valid is not None:
            picked = picked * valid
    else:
        picked = None if valid is None else valid.astype(dtype)
    return _class_index(xp, safe), picked, valid


def _mean_count(target, picked):
    """PyTorch's weighted mean divides by Σ w_yn over non-ignored elements (their count)."""
    return target.size if picked is None else picked.sum()


class CrossEntropy(Function):
    """Fused log-softmax + negative log-likelihood over class indices, with label smoothing.

    With p = softmax(x) over the class axis, for each element n (a sample, or one position of
    an (N, C, d1, ...) input) and the target distribution
    q_nc = (1 − ε)·w_yn·[c = y_n] + (ε/C)·w_c (all 0 where y_n = ignore_index),
    the loss is ℓ_n = −Σ_c q_nc log p_nc and ∂ℓ_n/∂x_nc = p_nc·Σ_c' q_nc' − q_nc
    (p − onehot(y) without weights or smoothing: the classic softmax + cross-entropy gradient).
    Equals ``nll_loss(log_softmax(x, 1), y)`` when ε = 0.
    """

    def forward(self, logits, target, weight=None, *, ignore_index, reduction, smoothing):
        xp, dtype, classes = get_array_module(logits), logits.dtype, logits.shape[1]
        logp = _log_softmax(logits, axis=1)
        index, picked, valid = _target_weights(target, weight, ignore_index, dtype, classes)
        loss = -logp[index]
        if picked is not None:
            loss *= picked
        if smoothing:
            # Σ_c w_c log p_nc: a matrix-vector product when the classes are weighted.
            total = logp.sum(axis=1) if weight is None else xp.tensordot(weight, logp, ([0], [1]))
            if valid is not None:
                total *= valid
            loss *= dtype.type(1 - smoothing)
            loss -= dtype.type(smoothing / classes) * total
        self.save_for_backward(logp, target, index, picked, valid, weight)
        self.reduction, self.smoothing = reduction, smoothing
        self.count = _mean_count(target, picked)
        return reduce_loss(loss, reduction, self.count)

    def backward(self, grad):
        logp, _, index, picked, valid, weight = self.saved_tensors  # the target is in index
        xp, dtype, ndim = get_array_module(grad), grad.dtype, logp.ndim
        classes, eps = logp.shape[1], self.smoothing
        per_element = upstream(grad, self.reduction, self.count)  # ∂L/∂ℓ_n
        hit = per_element * dtype.type(1 - eps)  # the one-hot part of q, times ∂L/∂ℓ_n
        if picked is not None:
            hit = hit * picked
        total = hit  # Σ_c q_nc, times ∂L/∂ℓ_n
        if eps:
            spread = per_element * dtype.type(eps / classes)  # the uniform part of q
            if valid is not None:
                spread = spread * valid
            total = hit + spread * (classes if weight is None else weight.sum())
        grad_x = xp.exp(logp)
        grad_x *= _along_classes(total)
        if eps:
            spread = _along_classes(spread)
            grad_x -= spread if weight is None else spread * _class_shape(weight, ndim)
        grad_x[index] -= hit
        return (grad_x,) + (None,) * (len(self.needs) - 1)


class PlainCrossEntropy(Function):
    """``CrossEntropy`` in its most common form, on the CPU: (N, C) logits, class indices,
    no class weights, no smoothing, nothing to ignore.

    With s = x − max x per row, z_n = Σ_c e^(s_nc): ℓ_n = log z_n − s_n,yn and
    ∂ℓ_n/∂x_nc = e^(s_nc)/z_n − [c = y_n]. Row sums are a matrix-vector product and the loss
    never forms the full log-softmax: fewer passes than the general node. ``cross_entropy``
    has checked that every label is in [0, C). Equals ``nll_loss(log_softmax(x, 1), y)``.
    """

    def forward(self, logits, target, *, reduction):
        xp, (count, classes) = np, logits.shape
        shifted = logits - max_keepdims(logits, 1)
        # where each x_n,yn sits in the flattened (N, C) array: a take, not a 2-D fancy index
        picks = xp.arange(0, count * classes, classes)
        picks += target
        exps = xp.exp(shifted)
        sums = exps @ backend.constant(1, classes, logits.dtype, xp)
        loss = xp.log(sums)
        loss -= shifted.reshape(-1).take(picks)
        # The target is saved beside the positions made from it, as PyTorch's nll_loss saves
        # it: changing it in place before backward raises, whichever path the loss took.
        self.save_for_backward(exps, sums, picks, target)
        self.reduction, self.count = reduction, count
        return reduce_loss(loss, reduction, count)

    def backward(self, grad):
        exps, sums, picks, _ = self.saved_tensors
        per_element = upstream(grad, self.reduction, self.count)  # ∂L/∂ℓ_n
        grad_x = exps * (per_element / sums)[:, None]
        grad_x.reshape(-1)[picks] -= per_element
        return grad_x, None


def _plain_cross_entropy(input: Tensor, target: Tensor, ignore_index: int, reduction: str):
    """``PlainCrossEntropy`` when it applies and every label is a class, else None (the
    general path then checks everything and explains what is wrong)."""
    if not isinstance(input, Tensor) or not isinstance(target, Tensor):
        return None
    logits, labels = input.data, target.data
    if (
        type(logits) is not np.ndarray
        or logits.dtype.kind != "f"
        or logits.ndim != 2
        or labels.ndim != 1
        or labels.shape[0] != logits.shape[0]
        or labels.dtype.kind not in "iu"
        or 0 <= ignore_index < logits.shape[1]
    ):
        return None
    unsigned = _as_unsigned(labels)  # one max checks both ends of [0, C)
    if unsigned.size and np.maximum.reduce(unsigned) >= logits.shape[1]:
        return None  # a label to ignore, or an error to explain: the general path
    return PlainCrossEntropy.apply(input, target, reduction=reduction)


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities q of the input's shape (soft or one-hot).

    ℓ_n = −Σ_c w_c q_nc log p_nc with p = softmax(x); label smoothing first mixes q with the
    uniform distribution, q ← (1 − ε)q + ε/C; equals ``-(log_softmax(x, 1) * q * w).sum(1)``
    reduced. ∂ℓ_n/∂x_nc = p_nc·Σ_c' w_c' q_nc' − w_c q_nc and
    ∂ℓ_n/∂q_nc = −(1 − ε)·w_c log p_nc.
    """

    def forward(self, logits, target, weight=None, *, reduction, smoothing):
        dtype, classes = logits.dtype, logits.shape[1]
        logp = _log_softmax(logits, axis=1)
        if smoothing:
            target = target * dtype.type(1 - smoothing) + dtype.type(smoothing / classes)
        if weight is not None:
            target = target * _class_shape(weight, logits.ndim)
        loss = -(logp * target).sum(axis=1)
        self.save_for_backward(logp, target, weight)  # target: q, smoothed and weighted
        self.reduction, self.smoothing, self.count = reduction, smoothing, loss.size
        return reduce_loss(loss, reduction, self.count)

    def backward(self, grad):
        logp, q, weight = self.saved_tensors
        xp = get_array_module(grad)
        per_element = _along_classes(upstream(grad, self.reduction, self.count))
        grad_x = grad_q = None
        if self.needs[0]:
            grad_x = xp.exp(logp)
            grad_x *= q.sum(axis=1, keepdims=True)
            grad_x -= q
            grad_x *= per_element
        if self.needs[1]:
            grad_q = logp * (-per_element * grad.dtype.type(1 - self.smoothing))
            if weight is not None:
                grad_q *= _class_shape(weight, logp.ndim)
        return (grad_x, grad_q) + (None,) * (len(self.needs) - 2)


class NLLLoss(Function):
    """ℓ_n = −w_yn · x_n,yn for x holding log-probabilities; ∂ℓ_n/∂x is −w_yn at (n, y_n), 0
    elsewhere. Equals ``-(x[arange(N), y] * weight[y])`` reduced, in one node."""

    def forward(self, logp, target, weight=None, *, ignore_index, reduction):
        index, picked, _ = _target_weights(target, weight, ignore_index, logp.dtype, logp.shape[1])
        loss = -logp[index]
        if picked is not None:
            loss *= picked
        self.save_for_backward(target, index, picked)
        self.shape, self.dtype = logp.shape, logp.dtype
        self.reduction, self.count = reduction, _mean_count(target, picked)
        return reduce_loss(loss, reduction, self.count)

    def backward(self, grad):
        _, index, picked = self.saved_tensors  # the target is in index
        hit = upstream(grad, self.reduction, self.count)
        if picked is not None:
            hit = hit * picked
        grad_x = get_array_module(grad).zeros(self.shape, dtype=self.dtype)
        grad_x[index] = -hit
        return (grad_x,) + (None,) * (len(self.needs) - 1)


def _check_class_input(input: Tensor, op: str) -> None:
    check_tensor(input, "input", op)
    check_floating(input, "input", op)
    if input.ndim == 0:
        raise ValueError(
            f"{op}: expected an input of shape (C,), (N, C) or (N, C, d1, ...), got ()"
        )


def _check_class_target(input: Tensor, target: Tensor, ignore_index: int, op: str):
    """Class indices of shape (N, d1, ...), integers in [0, C) or ignore_index.

    Returns ``ignore_index`` when some target equals it, else None: nothing to ignore, and the
    loss can skip its masks.
    """
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected or target.dtype.kind not in "iu":
        # PyTorch: a RuntimeError for a floating target, a ValueError for mismatched indices
        error = RuntimeError if target.dtype.kind == "f" else ValueError
        raise error(
            f"{op}: expected class-index targets of an integer dtype and shape {expected} "
            f"for an input of shape {input.shape}"
            + (" (or class probabilities of the input's shape)" if op == "cross_entropy" else "")
            + f", got a {target.dtype} target of shape {target.shape}"
        )
    labels, classes = target.data, input.shape[1]
    if get_array_module(labels) is not np:
        return _check_labels_on_device(labels, classes, ignore_index, op)
    outside = _as_unsigned(labels) >= classes  # one pass catches both ends of the range
    if not outside.any():
        ignorable = 0 <= ignore_index < classes and bool((labels == ignore_index).any())
        return ignore_index if ignorable else None
    bad = labels[outside & (labels != ignore_index)]
    if bad.size:
        raise _label_error(op, int(bad.reshape(-1)[0]), classes, ignore_index)
    return ignore_index


def _check_labels_on_device(labels, classes: int, ignore_index: int, op: str):
    """The label range check on a GPU, without waiting for it: computed there and read with
    the next value the host reads (``backend.defer_check``). The loss applies the ignore_index
    masks unconditionally, as finding out whether any label is ignored would be a read too."""
    if labels.size:
        xp = get_array_module(labels)
        bad = ((_as_unsigned(labels) >= classes) & (labels != ignore_index)).reshape(-1)
        first = labels.reshape(-1)[xp.argmax(bad)]  # the first bad label, still on the device
        backend.defer_check(bad.any(), lambda: _label_error(op, int(first), classes, ignore_index))
    return ignore_index


def _label_error(op: str, label: int, classes: int, ignore_index: int) -> IndexError:
    return IndexError(
        f"{op}: target label {label} is out of range for {classes} "
        f"classes (expected labels in [0, {classes - 1}], or ignore_index={ignore_index})"
    )


def _check_class_weight(weight, classes: int, op: str) -> None:
    if weight is not None and weight.shape != (classes,):
        raise RuntimeError(
            f"{op}: weight should hold one value per class, shape ({classes},), "
            f"got shape {weight.shape}"
        )


def _unbatched(fn, input: Tensor, target: Tensor, reduction: str, **options) -> Tensor:
    """Run a class loss on a single sample: input (C,) as (1, C) and its target as a batch."""
    batch = target.reshape(1, *target.shape)
    loss = fn(input.reshape(1, -1), batch, reduction=reduction, **options)
    return loss.reshape(()) if reduction == "none" else loss


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax + cross-entropy in one stable step: ℓ_n = −w_yn log softmax(x_n)_yn.

    ``input``: logits of shape (N, C), (C,) or (N, C, d1, ...) (a class per pixel or position).
    ``target``: class indices of shape (N,) / () / (N, d1, ...) (integers in [0, C)), or class
    probabilities (soft or one-hot labels) of the input's shape. ``weight`` (C,) rescales each
    class; targets equal to ``ignore_index`` contribute nothing; ``label_smoothing`` ε mixes
    the target with the uniform distribution, (1 − ε)·onehot + ε/C. ``reduction``: 'mean'
    (Σ ℓ_n / Σ w_yn over non-ignored elements, PyTorch's weighted mean; for probability
    targets Σ ℓ_n / N·d1·...), 'sum', or 'none' (the losses, shaped like the index targets).
    """
    if weight is None and not label_smoothing and reduction in REDUCTIONS:
        loss = _plain_cross_entropy(input, target, ignore_index, reduction)
        if loss is not None:
            return loss
    op = "cross_entropy"
    _check_class_input(input, op)
    check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = as_target(target, input)
    if input.ndim == 1:
        return _unbatched(
            cross_entropy,
            input,
            target,
            reduction,
            weight=weight,
            ignore_index=ignore_index,
            label_smoothing=label_smoothing,
        )
    classes = input.shape[1]
    _check_class_weight(weight, classes, op)
    weight = constant_input(weight, input.dtype, "weight", op)
    constants = () if weight is None else (weight,)
    if target.shape == input.shape:
        if not np.issubdtype(target.dtype, np.floating):
            raise ValueError(
                f"{op}: a target of the input's shape {input.shape} holds class probabilities "
                f"and must be floating point, got {target.dtype}; use target.float()"
            )
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets")
        return SoftCrossEntropy.apply(
            input, target, *constants, reduction=reduction, smoothing=float(label_smoothing)
        )
    ignore_index = _check_class_target(input, target, ignore_index, op)
    return CrossEntropy.apply(
        input,
        target,
        *constants,
        ignore_index=ignore_index,
        reduction=reduction,
        smoothing=float(label_smoothing),
    )


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood ℓ_n = −w_yn · x_n,yn of log-probabilities x (log_softmax output).

    Shapes, ``weight``, ``ignore_index`` and ``reduction`` as ``cross_entropy`` with class
    indices; ``nll_loss(log_softmax(x, 1), y)`` equals ``cross_entropy(x, y)``.
    """
    op = "nll_loss"
    _check_class_input(input, op)
    check_reduction(reduction, op)
    target = as_target(target, input)
    if input.ndim == 1:
        return _unbatched(
            nll_loss, input, target, reduction, weight=weight, ignore_index=ignore_index
        )
    _check_class_weight(weight, input.shape[1], op)
    ignore_index = _check_class_target(input, target, ignore_index, op)
    weight = constant_input(weight, input.dtype, "weight", op)
    constants = () if weight is None else (weight,)
    return NLLLoss.apply(input, target, *constants, ignore_index=ignore_index, reduction=reduction)
