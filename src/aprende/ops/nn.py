"""Fused neural-network operations: one graph node each, with a hand-written backward.

Each of these could be composed from elementwise ops and reductions (the tests check that the
composition gives the same numbers), but every composed step is a graph node that allocates and
reads a full array. The fused versions make fewer passes over memory, save only what their
backward needs, and are stable where the naive composition is not (log-softmax + NLL, binary
cross-entropy with logits). Kernels ask ``xp`` for their array module, so they run on NumPy
and CuPy alike; everything stays in the input's dtype (float32 by default), and Python numbers
are turned into scalars of that dtype before they meet an array.

Shapes: N samples, C classes or features, d1, ... extra positions (pixels, time steps).
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende.autograd import Function
from aprende.creation import as_tensor
from aprende.ops.elementwise import ACTIVATIONS
from aprende.ops.reduce import max_keepdims
from aprende.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
#: Signed integer dtypes and their unsigned twins, to check label ranges in one comparison.
_UNSIGNED = {np.dtype(f"int{bits}"): np.dtype(f"uint{bits}") for bits in (8, 16, 32, 64)}


def _as_unsigned(labels):
    """Integer labels seen as their unsigned twin (no copy): a negative label becomes huge, so
    a single ``>= C`` test checks both ends of [0, C)."""
    return labels.view(_UNSIGNED[labels.dtype]) if labels.dtype in _UNSIGNED else labels


def _xp(array):
    return backend.get_array_module(array)


def _check_tensor(value, name: str, op: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")
    return value


def _check_floating(value: Tensor, name: str, op: str) -> None:
    if value.dtype.kind != "f":  # np.issubdtype costs ~1 µs: too much on every batch
        raise TypeError(
            f"{op}: expected a floating point {name}, got {value.dtype}; use .float() first"
        )


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction "
            "(expected 'mean', 'sum' or 'none')"
        )


def _as_target(target, input: Tensor, op: str) -> Tensor:
    """A target as a tensor; a floating target takes the input's dtype (no silent upcast)."""
    target = target if isinstance(target, Tensor) else as_tensor(target)
    if target.dtype.kind == "f" and target.dtype != input.dtype:
        target = target.to(input.dtype)
    return target


def _constant(value: Tensor | None, dtype, name: str, op: str):
    """The array of a weight tensor in the input's dtype; weights are constants of the loss."""
    if value is None:
        return None
    value = value if isinstance(value, Tensor) else as_tensor(value)
    _check_floating(value, name, op)
    return value.data.astype(dtype, copy=False)


def _reduce(loss, reduction: str, count):
    """The per-element losses, their sum, or their sum divided by ``count``."""
    if reduction == "none":
        return loss
    return _total(_xp(loss).add.reduce(loss, axis=None), reduction, count, loss)


def _total(total, reduction: str, count, like):
    """A summed loss as a 0-d array of ``like``'s dtype, divided by ``count`` for a mean."""
    if reduction == "mean":
        total = total / like.dtype.type(count) if count else like.dtype.type(np.nan)  # 0/0 = nan
    return _xp(like).asarray(total, dtype=like.dtype)


def _upstream(grad, reduction: str, count):
    """∂L/∂ℓ_n for every element: the incoming gradient, divided by ``count`` for a mean."""
    if reduction == "mean":
        return grad / grad.dtype.type(count)
    return grad


def _log_softmax(x, axis: int):
    """log softmax along ``axis``: x − m − log Σ e^(x − m), m the max (nothing overflows)."""
    xp = _xp(x)
    shifted = x - max_keepdims(x, axis)
    # ufunc.reduce directly: ndarray.sum adds a Python-level wrapper per call
    shifted -= xp.log(xp.add.reduce(xp.exp(shifted), axis=axis, keepdims=True))
    return shifted


def _along_classes(values):
    """A per-element array of shape (N, d1, ...) as (N, 1, d1, ...): it broadcasts over C."""
    return values if values.ndim == 0 else _xp(values).expand_dims(values, 1)


def _class_shape(weight, ndim: int):
    """A per-class array of shape (C,) as (1, C, 1, ...): it broadcasts over N and d1, ..."""
    return weight.reshape((1, weight.shape[0]) + (1,) * (ndim - 2))


# ---------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------


class Linear(Function):
    """y = x Wᵀ + b for x of shape (..., in), W (out, in), b (out,).

    ∂L/∂x = g W, ∂L/∂W = gᵀ x (one GEMM over all leading dims), ∂L/∂b = Σₙ gₙ = 1ᵀg.
    """

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        if x.ndim == 2:  # the common case: no reshapes
            out = x @ weight.T
        else:
            out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
        if bias is not None:
            out += bias  # a fresh array from the GEMM: adding in place saves a pass
        return out

    def backward(self, grad):
        needs, x = self.needs, self.x
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        grad_x = (g2 @ self.weight).reshape(x.shape) if needs[0] else None
        grad_w = g2.T @ x2 if needs[1] else None
        if len(needs) == 2:
            return grad_x, grad_w
        if not needs[2]:
            return grad_x, grad_w, None
        # Σₙ gₙ as the matrix-vector product 1ᵀG: BLAS beats a NumPy reduction here (~2x).
        return grad_x, grad_w, backend.constant(1, g2.shape[0], g2.dtype, _xp(g2)) @ g2


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map y = x Wᵀ + b (the neuron's weighted sum plus bias, for a whole layer).

    ``input`` (..., in_features), ``weight`` (out_features, in_features), ``bias``
    (out_features,) or None; the result has shape (..., out_features).
    """
    return Linear.apply(*_linear_inputs(input, weight, bias))


class LinearActivation(Linear):
    """y = f(x Wᵀ + b) in one node, for f = ReLU, tanh or sigmoid (``ACTIVATIONS``).

    The same numbers as ``linear`` followed by the activation, with one graph node and one
    array fewer: f runs in place over the fresh output of the matrix product, and its
    derivative comes from y alone (1[y > 0], 1 − y², y(1 − y)), so z = x Wᵀ + b is never
    kept. ``nn.Sequential`` uses it for a Linear layer followed by such an activation.
    """

    def forward(self, x, weight, bias=None, *, activation):
        values, self.derivative = ACTIVATIONS[activation]
        z = super().forward(x, weight, bias)
        self.out = values(z, out=z)
        return self.out

    def backward(self, grad):
        return super().backward(self.derivative(grad, self.out))

    @classmethod
    def name(cls) -> str:
        return "linear+activation"


def linear_activation(
    input: Tensor, weight: Tensor, bias: Tensor | None, activation: str
) -> Tensor:
    """f(x Wᵀ + b) as one node (``LinearActivation``); ``activation`` is "relu", "tanh" or
    "sigmoid"."""
    inputs = _linear_inputs(input, weight, bias)
    return LinearActivation.apply(*inputs, activation=activation)


def _linear_inputs(input: Tensor, weight: Tensor, bias: Tensor | None) -> tuple:
    """(input, weight) or (input, weight, bias), checked to fit together."""
    _check_tensor(input, "input", "linear")
    _check_tensor(weight, "weight", "linear")
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape} "
            f"(expected an input of shape (..., {weight.shape[-1] if weight.ndim else '?'}) "
            "and a weight of shape (out_features, in_features))"
        )
    if bias is None:
        if w.dtype != x.dtype:
            _linear_dtype_error(input, weight, bias)
        return input, weight
    b = bias.data
    if b.shape != (w.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {bias.shape} does not fit weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))"
        )
    if w.dtype != x.dtype or b.dtype != x.dtype:
        _linear_dtype_error(input, weight, bias)
    return input, weight, bias


def _linear_dtype_error(input: Tensor, weight: Tensor, bias: Tensor | None):
    raise RuntimeError(
        f"linear: input ({input.dtype}), weight ({weight.dtype})"
        + (f" and bias ({bias.dtype})" if bias is not None else "")
        + " must have the same dtype; convert the input (x.float()) or the model "
        "(model.double())"
    )


# ---------------------------------------------------------------------------------------------
# class targets: cross-entropy and NLL
# ---------------------------------------------------------------------------------------------


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


def _target_weights(target, weight, ignore_index: int | None, dtype):
    """The picking index, each element's class weight w_yn (0 where ignored), the valid mask.

    The weights are None when every element counts 1 (no weight, nothing ignored), and the
    mask is None when nothing is ignored: the common case pays for neither.
    """
    xp = _xp(target)
    valid = None if ignore_index is None else target != ignore_index
    if valid is None or valid.all():
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
    """

    saves_inputs = False

    def forward(self, logits, *, target, weight, ignore_index, reduction, smoothing):
        xp, dtype, classes = _xp(logits), logits.dtype, logits.shape[1]
        logp = _log_softmax(logits, axis=1)
        index, picked, valid = _target_weights(target, weight, ignore_index, dtype)
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
        self.logp, self.index, self.picked, self.valid = logp, index, picked, valid
        self.weight, self.reduction, self.smoothing = weight, reduction, smoothing
        self.count = _mean_count(target, picked)
        return _reduce(loss, reduction, self.count)

    def backward(self, grad):
        xp, dtype, ndim = _xp(grad), grad.dtype, self.logp.ndim
        classes, eps = self.logp.shape[1], self.smoothing
        upstream = _upstream(grad, self.reduction, self.count)
        hit = upstream * dtype.type(1 - eps)  # the one-hot part of q, times ∂L/∂ℓ_n
        if self.picked is not None:
            hit = hit * self.picked
        total = hit  # Σ_c q_nc, times ∂L/∂ℓ_n
        if eps:
            spread = upstream * dtype.type(eps / classes)  # the uniform part of q
            if self.valid is not None:
                spread = spread * self.valid
            total = hit + spread * (classes if self.weight is None else self.weight.sum())
        grad_x = xp.exp(self.logp)
        grad_x *= _along_classes(total)
        if eps:
            spread = _along_classes(spread)
            grad_x -= spread if self.weight is None else spread * _class_shape(self.weight, ndim)
        grad_x[self.index] -= hit
        return (grad_x,)


class PlainCrossEntropy(Function):
    """``CrossEntropy`` in its most common form, on the CPU: (N, C) logits, class indices,
    no class weights, no smoothing, nothing to ignore.

    With s = x − max x per row, z_n = Σ_c e^(s_nc): ℓ_n = log z_n − s_n,yn and
    ∂ℓ_n/∂x_nc = e^(s_nc)/z_n − [c = y_n]. Row sums are a matrix-vector product and the loss
    never forms the full log-softmax: fewer passes than the general node. ``cross_entropy``
    has checked that every label is in [0, C).
    """

    saves_inputs = False

    def forward(self, logits, *, target, reduction):
        xp, (count, classes) = np, logits.shape
        shifted = logits - max_keepdims(logits, 1)
        # where each x_n,yn sits in the flattened (N, C) array: a take, not a 2-D fancy index
        picks = xp.arange(0, count * classes, classes)
        picks += target
        exps = xp.exp(shifted)
        sums = exps @ backend.constant(1, classes, logits.dtype, xp)
        loss = xp.log(sums)
        loss -= shifted.reshape(-1).take(picks)
        self.exps, self.sums, self.picks = exps, sums, picks
        self.reduction, self.count = reduction, count
        return _reduce(loss, reduction, count)

    def backward(self, grad):
        upstream = _upstream(grad, self.reduction, self.count)  # ∂L/∂ℓ_n
        grad_x = self.exps * (upstream / self.sums)[:, None]
        grad_x.reshape(-1)[self.picks] -= upstream
        return (grad_x,)


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
    return PlainCrossEntropy.apply(input, target=labels, reduction=reduction)


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities q of the input's shape (soft or one-hot).

    ℓ_n = −Σ_c w_c q_nc log p_nc with p = softmax(x); label smoothing first mixes q with the
    uniform distribution, q ← (1 − ε)q + ε/C. ∂ℓ_n/∂x_nc = p_nc·Σ_c' w_c' q_nc' − w_c q_nc and
    ∂ℓ_n/∂q_nc = −(1 − ε)·w_c log p_nc.
    """

    def forward(self, logits, target, *, weight, reduction, smoothing):
        dtype, classes = logits.dtype, logits.shape[1]
        logp = _log_softmax(logits, axis=1)
        if smoothing:
            target = target * dtype.type(1 - smoothing) + dtype.type(smoothing / classes)
        if weight is not None:
            weight = _class_shape(weight, logits.ndim)
            target = target * weight
        loss = -(logp * target).sum(axis=1)
        self.logp, self.weighted_target, self.weight = logp, target, weight
        self.reduction, self.smoothing, self.count = reduction, smoothing, loss.size
        return _reduce(loss, reduction, self.count)

    def backward(self, grad):
        xp = _xp(grad)
        upstream = _along_classes(_upstream(grad, self.reduction, self.count))
        grad_x = grad_q = None
        if self.needs[0]:
            q = self.weighted_target
            grad_x = xp.exp(self.logp)
            grad_x *= q.sum(axis=1, keepdims=True)
            grad_x -= q
            grad_x *= upstream
        if self.needs[1]:
            grad_q = self.logp * (-upstream * grad.dtype.type(1 - self.smoothing))
            if self.weight is not None:
                grad_q *= self.weight
        return grad_x, grad_q


class NLLLoss(Function):
    """ℓ_n = −w_yn · x_n,yn for x holding log-probabilities; ∂ℓ_n/∂x is −w_yn at (n, y_n), 0
    elsewhere."""

    saves_inputs = False

    def forward(self, logp, *, target, weight, ignore_index, reduction):
        index, picked, _ = _target_weights(target, weight, ignore_index, logp.dtype)
        loss = -logp[index]
        if picked is not None:
            loss *= picked
        self.shape, self.dtype, self.index, self.picked = logp.shape, logp.dtype, index, picked
        self.reduction, self.count = reduction, _mean_count(target, picked)
        return _reduce(loss, reduction, self.count)

    def backward(self, grad):
        hit = _upstream(grad, self.reduction, self.count)
        if self.picked is not None:
            hit = hit * self.picked
        grad_x = _xp(grad).zeros(self.shape, dtype=self.dtype)
        grad_x[self.index] = -hit
        return (grad_x,)


def _check_class_input(input: Tensor, op: str) -> None:
    _check_tensor(input, "input", op)
    _check_floating(input, "input", op)
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
        raise ValueError(
            f"{op}: expected class-index targets of an integer dtype and shape {expected} "
            f"for an input of shape {input.shape}"
            + (" (or class probabilities of the input's shape)" if op == "cross_entropy" else "")
            + f", got a {target.dtype} target of shape {target.shape}"
        )
    labels, classes = target.data, input.shape[1]
    outside = _as_unsigned(labels) >= classes  # one pass catches both ends of the range
    if not outside.any():
        ignorable = 0 <= ignore_index < classes and bool((labels == ignore_index).any())
        return ignore_index if ignorable else None
    bad = labels[outside & (labels != ignore_index)]
    if bad.size:
        raise IndexError(
            f"{op}: target label {int(bad.reshape(-1)[0])} is out of range for {classes} "
            f"classes (expected labels in [0, {classes - 1}], or ignore_index={ignore_index})"
        )
    return ignore_index


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
    if weight is None and not label_smoothing and reduction in _REDUCTIONS:
        loss = _plain_cross_entropy(input, target, ignore_index, reduction)
        if loss is not None:
            return loss
    op = "cross_entropy"
    _check_class_input(input, op)
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _as_target(target, input, op)
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
    weight = _constant(weight, input.dtype, "weight", op)
    if target.shape == input.shape:
        if not np.issubdtype(target.dtype, np.floating):
            raise ValueError(
                f"{op}: a target of the input's shape {input.shape} holds class probabilities "
                f"and must be floating point, got {target.dtype}; use target.float()"
            )
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets")
        return SoftCrossEntropy.apply(
            input, target, weight=weight, reduction=reduction, smoothing=float(label_smoothing)
        )
    ignore_index = _check_class_target(input, target, ignore_index, op)
    return CrossEntropy.apply(
        input,
        target=target.data,
        weight=weight,
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
    _check_reduction(reduction, op)
    target = _as_target(target, input, op)
    if input.ndim == 1:
        return _unbatched(
            nll_loss, input, target, reduction, weight=weight, ignore_index=ignore_index
        )
    _check_class_weight(weight, input.shape[1], op)
    ignore_index = _check_class_target(input, target, ignore_index, op)
    return NLLLoss.apply(
        input,
        target=target.data,
        weight=_constant(weight, input.dtype, "weight", op),
        ignore_index=ignore_index,
        reduction=reduction,
    )


# ---------------------------------------------------------------------------------------------
# elementwise losses: binary cross-entropy, squared and absolute error
# ---------------------------------------------------------------------------------------------


class BinaryCrossEntropy(Function):
    """ℓ = −w·[y log x + (1 − y) log(1 − x)], each log clamped at −100 as PyTorch (x = 0 or 1
    gives a finite loss). ∂ℓ/∂x = w·(x − y) / max(x(1 − x), 10⁻¹²), ∂ℓ/∂y = w·(log(1 − x) − log x).
    """

    def forward(self, x, y, *, weight, reduction):
        xp = _xp(x)
        with np.errstate(divide="ignore"):  # log 0 = −inf, clamped to −100 next
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        log_odds = log_x - log_1mx
        loss = y * log_odds
        loss += log_1mx
        loss *= -1 if weight is None else -weight
        self.x, self.y, self.log_odds, self.weight = x, y, log_odds, weight
        self.reduction, self.count = reduction, loss.size
        return _reduce(loss, reduction, self.count)

    def backward(self, grad):
        xp = _xp(grad)
        upstream = _upstream(grad, self.reduction, self.count)
        if self.weight is not None:
            upstream = upstream * self.weight
        grad_x = grad_y = None
        if self.needs[0]:
            grad_x = self.x - self.y
            grad_x /= xp.maximum(self.x * (1 - self.x), 1e-12)
            grad_x *= upstream
        if self.needs[1]:
            grad_y = self.log_odds * -upstream
        return grad_x, grad_y


class BinaryCrossEntropyWithLogits(Function):
    """BCE of σ(x) computed from the logit x without ever forming σ(x):

    ℓ = w·[(1 − y)·x + L·softplus(−x)], L = 1 + (pos_weight − 1)·y, where
    softplus(−x) = −log σ(x) = max(−x, 0) + log(1 + e^(−|x|)) never overflows; without
    pos_weight, ℓ = max(x, 0) − x·y + log(1 + e^(−|x|)). ∂ℓ/∂x = w·[(1 − y) − L·(1 − σ(x))]
    (w·(σ(x) − y) without pos_weight) and ∂ℓ/∂y = w·[(pos_weight − 1)·softplus(−x) − x].
    """

    def forward(self, x, y, *, weight, pos_weight, reduction):
        xp = _xp(x)
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
        self.x, self.y, self.exp_neg_abs, self.softplus = x, y, exp_neg_abs, softplus
        self.log_weight, self.pos_weight, self.weight = log_weight, pos_weight, weight
        self.reduction, self.count = reduction, loss.size
        return _reduce(loss, reduction, self.count)

    def backward(self, grad):
        xp = _xp(grad)
        upstream = _upstream(grad, self.reduction, self.count)
        if self.weight is not None:
            upstream = upstream * self.weight
        grad_x = grad_y = None
        if self.needs[0]:
            e = self.exp_neg_abs
            if self.log_weight is None:
                grad_x = xp.where(self.x >= 0, 1, e)  # σ(x)·(1 + e)
                grad_x /= 1 + e
                grad_x -= self.y
            else:
                grad_x = xp.where(self.x >= 0, e, 1)  # (1 − σ(x))·(1 + e)
                grad_x /= 1 + e
                grad_x *= -self.log_weight
                grad_x += 1 - self.y
            grad_x *= upstream
        if self.needs[1]:
            if self.pos_weight is None:
                grad_y = -self.x * upstream
            else:
                grad_y = (self.pos_weight - 1) * self.softplus
                grad_y -= self.x
                grad_y *= upstream
        return grad_x, grad_y


class MSELoss(Function):
    """ℓ = (x − y)²; ∂ℓ/∂x = 2(x − y) = −∂ℓ/∂y."""

    saves_inputs = False

    def forward(self, x, y, *, reduction):
        diff = x - y
        self.diff, self.reduction = diff, reduction
        if reduction == "none":
            return diff * diff
        flat = diff.reshape(-1)
        # Σ (x − y)² in one BLAS pass, without a temporary array of squares.
        return _total(_xp(x).dot(flat, flat), reduction, diff.size, x)

    def backward(self, grad):
        grad_x = self.diff * _upstream(grad * grad.dtype.type(2), self.reduction, self.diff.size)
        return grad_x, (-grad_x if self.needs[1] else None)


class L1Loss(Function):
    """ℓ = |x − y|; ∂ℓ/∂x = sign(x − y) = −∂ℓ/∂y (0 where x = y, as PyTorch)."""

    saves_inputs = False

    def forward(self, x, y, *, reduction):
        self.diff, self.reduction = x - y, reduction
        return _reduce(_xp(x).abs(self.diff), reduction, self.diff.size)

    def backward(self, grad):
        grad_x = _xp(grad).sign(self.diff)
        grad_x *= _upstream(grad, self.reduction, self.diff.size)
        return grad_x, (-grad_x if self.needs[1] else None)


def _check_same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match input of shape {input.shape}; "
            "they must have the same shape (broadcasting them is almost always a bug: reshape "
            "the target, e.g. target.reshape(input.shape))"
        )


def _check_elementwise(input: Tensor, target, reduction: str, op: str) -> Tensor:
    _check_tensor(input, "input", op)
    _check_floating(input, "input", op)
    _check_reduction(reduction, op)
    target = _as_target(target, input, op)
    if not np.issubdtype(target.dtype, np.floating):
        target = target.to(input.dtype)  # 0/1 labels stored as integers
    _check_same_shape(input, target, op)
    return target


def _broadcast_weight(weight, input: Tensor, name: str, op: str):
    """A weight that broadcasts to the input's shape (per element, per class, ...)."""
    array = _constant(weight, input.dtype, name, op)
    if array is not None:
        try:
            fits = np.broadcast_shapes(array.shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"{op}: {name} of shape {array.shape} cannot be broadcast to the input's "
                f"shape {input.shape}"
            )
    return array


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, *, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities: ℓ = −w·[y log x + (1 − y) log(1 − x)].

    ``input`` holds probabilities in [0, 1] (a sigmoid output), ``target`` values in [0, 1] of
    the same shape; ``weight`` broadcasts to the input's shape. Logs are clamped at −100.
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
    return BinaryCrossEntropy.apply(input, target, weight=weight, reduction=reduction)


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
    return BinaryCrossEntropyWithLogits.apply(
        input,
        target,
        weight=_broadcast_weight(weight, input, "weight", op),
        pos_weight=_broadcast_weight(pos_weight, input, "pos_weight", op),
        reduction=reduction,
    )


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Squared error ℓ = (x − y)²; 'mean' divides by the number of elements (not of samples)."""
    target = _check_elementwise(input, target, reduction, "mse_loss")
    return MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Absolute error ℓ = |x − y|; 'mean' divides by the number of elements."""
    target = _check_elementwise(input, target, reduction, "l1_loss")
    return L1Loss.apply(input, target, reduction=reduction)


# ---------------------------------------------------------------------------------------------
# batch normalisation
# ---------------------------------------------------------------------------------------------


class BatchNorm(Function):
    """y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + eps), per channel (axis 1) over N and d1, ...

    Training: μ, σ² are the batch's mean and biased variance, and (with M values per channel)
    ∂L/∂x = γ/√(σ² + eps) · (g − mean(g) − x̂·mean(g·x̂)). Evaluation: μ, σ² are the running
    statistics, constants, so y = x·scale + shift and ∂L/∂x = g·scale.
    ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g in both modes.
    """

    def forward(self, x, *params, has_weight, has_bias, mean, var, training, momentum, eps):
        xp, dtype = _xp(x), x.dtype
        params = list(params)
        weight = params.pop(0) if has_weight else None
        bias = params.pop(0) if has_bias else None
        axes = (0, *range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        self.axes, self.shape, self.training = axes, shape, training
        self.has_weight, self.has_bias, self.weight = has_weight, has_bias, weight
        if training:
            batch_mean = x.mean(axis=axes)
            centered = x - batch_mean.reshape(shape)
            batch_var = xp.square(centered).mean(axis=axes)  # biased: normalises the batch
            if mean is not None:
                _update_running(mean, var, batch_mean, batch_var, x.size // x.shape[1], momentum)
            inv_std = 1 / xp.sqrt(batch_var + dtype.type(eps))
            centered *= inv_std.reshape(shape)
            self.normalized, self.inv_std = centered, inv_std
            out = centered * weight.reshape(shape) if weight is not None else centered.copy()
            if bias is not None:
                out += bias.reshape(shape)
            return out
        inv_std = 1 / xp.sqrt(var + dtype.type(eps))
        scale = inv_std if weight is None else inv_std * weight
        shift = -mean * scale
        if bias is not None:
            shift += bias
        self.x, self.mean, self.inv_std, self.scale = x, mean, inv_std, scale
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        return out

    def backward(self, grad):
        shape, axes = self.shape, self.axes
        if self.training:
            normalized = self.normalized
        else:
            normalized = (self.x - self.mean.reshape(shape)) * self.inv_std.reshape(shape)
        grad_sum = grad.sum(axis=axes)
        grad_dot = (grad * normalized).sum(axis=axes)  # Σ g·x̂ per channel
        grads = []
        if self.needs[0]:
            if self.training:
                count = grad.dtype.type(grad.size // grad.shape[1])
                scale = self.inv_std if self.weight is None else self.inv_std * self.weight
                grad_x = grad * scale.reshape(shape)
                grad_x -= normalized * (scale * grad_dot / count).reshape(shape)
                grad_x -= (scale * grad_sum / count).reshape(shape)
            else:
                grad_x = grad * self.scale.reshape(shape)
            grads.append(grad_x)
        else:
            grads.append(None)
        if self.has_weight:
            grads.append(grad_dot)
        if self.has_bias:
            grads.append(grad_sum)
        return tuple(grads)


def _update_running(mean, var, batch_mean, batch_var, count: int, momentum: float) -> None:
    """Exponential moving averages, in place: r ← (1 − momentum)·r + momentum·batch, with the
    unbiased batch variance σ²·M/(M − 1) as PyTorch."""
    xp = _xp(mean)
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
    _check_tensor(input, "input", op)
    _check_floating(input, "input", op)
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
    params = [p for p in (weight, bias) if p is not None]
    for p in params:
        if p.dtype != input.dtype:
            raise RuntimeError(
                f"{op}: input ({input.dtype}) and parameters ({p.dtype}) must have the same dtype"
            )
    return BatchNorm.apply(
        input,
        *params,
        has_weight=weight is not None,
        has_bias=bias is not None,
        mean=None if running_mean is None else running_mean.data,
        var=None if running_var is None else running_var.data,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


# ---------------------------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------------------------


class Dropout(Function):
    """Inverted dropout: y = x·m/(1 − p) with m ~ Bernoulli(1 − p); ∂L/∂x = g·m/(1 − p)."""

    saves_inputs = False

    def forward(self, x, *, p):
        xp = _xp(x)
        draws = backend.default_generator().random(x.shape, dtype=np.float32)
        keep = backend.move(draws >= np.float32(p), backend.device_of(x))
        self.keep = keep
        self.scale = x.dtype.type(0 if p == 1 else 1 / (1 - p))
        out = xp.multiply(x, keep)
        out *= self.scale
        return out

    def backward(self, grad):
        grad_x = grad * self.keep
        grad_x *= self.scale
        return (grad_x,)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the survivors by 1/(1 − p), so the
    expected value is unchanged (inverted dropout); the identity when not ``training``.

    The mask is drawn from the global generator (seeded by ``aprende.manual_seed``).
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check_tensor(input, "input", "dropout")
    if not training or p == 0:
        return input
    return Dropout.apply(input, p=float(p))


__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "l1_loss",
    "linear",
    "mse_loss",
    "nll_loss",
]
