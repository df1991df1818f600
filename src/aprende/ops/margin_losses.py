"""Margin and embedding losses: ranking, hinge embedding, soft margin, multi-class and
multi-label margins, cosine embedding and triplet losses, as ``torch.nn.functional``.

Each is a composition of differentiable ops. A hinge max(0, z) is ``clamp_min`` where PyTorch
composes it that way (its gradient passes at z = 0) and ``relu`` where PyTorch's kernel tests
z > 0 (no gradient at z = 0), so the gradients at the kink are PyTorch's.
"""

from __future__ import annotations

from collections.abc import Callable

from aprende._tensor import Tensor
from aprende.autograd import is_grad_enabled
from aprende.backend import get_array_module
from aprende.creation import as_tensor
from aprende.ops._checks import check_on_device
from aprende.ops.activation import relu
from aprende.ops.activation_smooth import logsigmoid
from aprende.ops.binary_math import clamp_min
from aprende.ops.distances import pairwise_distance
from aprende.ops.elementwise import exp, minimum, sqrt, where
from aprende.ops.losses import check_reduction
from aprende.ops.math import log1p
from aprende.ops.reduce import sum as _sum
from aprende.ops.regression_losses import apply_reduction


def _tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else as_tensor(value)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, *, reduction: str = "mean"
) -> Tensor:
    """ℓ = max(0, −y·(x₁ − x₂) + margin): y = 1 asks for x₁ ranked above x₂, y = −1 below.

    The three tensors must have the same number of dims; their shapes broadcast.
    """
    op = "margin_ranking_loss"
    check_reduction(reduction, op)
    input1, input2, target = _tensor(input1), _tensor(input2), _tensor(target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(
            f"{op}: all input tensors should have the same dimension, but got sizes: input1: "
            f"{input1.shape}, input2: {input2.shape}, target: {target.shape}"
        )
    return apply_reduction(clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, *, reduction: str = "mean"
) -> Tensor:
    """ℓ = x where y = 1, max(0, margin − x) where y = −1 (x typically a distance).

    A y neither 1 nor −1 takes both terms, as PyTorch. Shapes broadcast.
    """
    check_reduction(reduction, "hinge_embedding_loss")
    input, target = _tensor(input), _tensor(target)
    zero = input.dtype.type(0)
    hinge = where(target != 1, clamp_min(margin - input, 0), zero)
    return apply_reduction(hinge + where(target != -1, input, zero), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ℓ = log(1 + e^(−y·x)) for targets y = ±1 of the input's shape.

    As in PyTorch, a target that requires grad is refused (RuntimeError).
    """
    op = "soft_margin_loss"
    check_reduction(reduction, op)
    input, target = _tensor(input), _tensor(target)
    _check_same_numel(input, target, op)
    _refuse_gradient(target, "target", op)
    return apply_reduction(log1p(exp(-input * target)), reduction)


def _refuse_gradient(value: Tensor, name: str, op: str) -> None:
    """A RuntimeError, as PyTorch, for an argument the op does not differentiate that asks for
    a gradient."""
    if value.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op} is not differentiable with respect to argument '{name}'; pass "
            f"{name}.detach(), or create it without requires_grad"
        )


def _check_same_numel(input: Tensor, target: Tensor, op: str) -> None:
    if input.numel() != target.numel():
        raise RuntimeError(
            f"{op}: target of shape {target.shape} does not match input of shape {input.shape}; "
            "they must have the same number of elements"
        )


def multilabel_soft_margin_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, *, reduction: str = "mean"
) -> Tensor:
    """ℓ_n = −(1/C) Σ_c w_c·[y_nc log σ(x_nc) + (1 − y_nc) log σ(−x_nc)] for (N, C) inputs:
    one independent logistic loss per class, averaged over the C classes (the last dim).

    ``target`` holds 0/1 labels of the input's shape; ``weight`` broadcasts to it.
    """
    check_reduction(reduction, "multilabel_soft_margin_loss")
    input, target = _tensor(input), _tensor(target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1] if input.ndim else 1
    return apply_reduction(_sum(loss, input.ndim - 1) / classes, reduction)


def _check_class_target(input: Tensor, target: Tensor, op: str) -> Tensor:
    """An (N, C) or (C,) input and its (N,) or () class indices, checked in range."""
    if input.ndim not in (1, 2) or target.ndim != input.ndim - 1:
        raise RuntimeError(
            f"{op}: expected an (N, C) input with (N,) targets or a (C,) input with a 0-d "
            f"target, got input of shape {input.shape} and target of shape {target.shape}"
        )
    if input.ndim == 2 and target.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"{op}: inconsistent target size: got {target.shape} for input of shape {input.shape}"
        )
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected integer class indices as target, got {target.dtype}")
    classes = input.shape[-1]
    labels = target.data
    check_on_device(
        (labels < 0) | (labels >= classes),
        lambda: RuntimeError(
            f"{op}: target out of range: class indices must lie in [0, {classes}), got values "
            f"in [{int(labels.min())}, {int(labels.max())}]"
        ),
    )
    return target


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss of (N, C) scores x and class indices y:
    ℓ_n = (1/C) Σ_{i ≠ y_n} w_yn·max(0, margin − x_n,yn + x_n,i)^p, p = 1 or 2.

    ``weight`` (C,) rescales each sample by its class (a constant: one that requires grad is
    refused, as PyTorch). A (C,) input takes a 0-d target.
    """
    op = "multi_margin_loss"
    check_reduction(reduction, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"{op}: weight must be one-dimensional, got shape {weight.shape}")
    if weight is not None:
        _refuse_gradient(weight, "weight", op)
    target = _check_class_target(input, _tensor(target), op)
    rows = input.reshape(-1, input.shape[-1])
    labels = target.data.reshape(-1, 1).clip(0, rows.shape[1] - 1)  # range checked above
    is_label = labels == _class_indices(rows)  # (N, C)
    zero = rows.dtype.type(0)
    hinge = relu(margin - _sum(where(_mask(is_label), rows, zero), 1, keepdim=True) + rows) ** p
    if weight is not None:
        hinge = hinge * _mask(weight.data[labels].astype(rows.dtype))
    loss = _sum(where(_mask(~is_label), hinge, zero), 1) / rows.shape[1]
    return apply_reduction(loss.reshape(target.shape), reduction)


def _class_indices(rows: Tensor):
    """The class indices 0..C−1 of an (N, C) tensor, as a (1, C) array on its device."""
    return get_array_module(rows.data).arange(rows.shape[1]).reshape(1, -1)


def _mask(array) -> Tensor:
    return Tensor._make(array, False)


def multilabel_margin_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss of (N, C) scores x: each sample's target row lists its classes,
    ended by the first −1 (padding after it is ignored);
    ℓ_n = (1/C) Σ_{j ∈ targets} Σ_{i ∉ targets} max(0, 1 − (x_n,j − x_n,i)).

    A (C,) input takes a (C,) target.
    """
    op = "multilabel_margin_loss"
    check_reduction(reduction, op)
    target = _tensor(target)
    if input.ndim not in (1, 2) or target.shape != input.shape:
        raise RuntimeError(
            f"{op}: expected an (N, C) or (C,) input and a target of its shape, got input of "
            f"shape {input.shape} and target of shape {target.shape}"
        )
    rows, labels = input.reshape(-1, input.shape[-1]), target.data.reshape(-1, input.shape[-1])
    classes = _class_indices(rows)
    listed = _before_first_negative(labels)  # (N, K): k comes before the first −1
    check_on_device(
        (labels >= input.shape[-1]) & listed,
        lambda: RuntimeError(
            f"{op}: target out of range: class indices must lie in [-1, {input.shape[-1]}), "
            f"got the largest {int(labels.max())}"
        ),
    )
    picked = labels.clip(0)
    picks = picked[:, :, None] == classes[None]  # (N, K, C): one-hot of each listed j
    is_target = (picks & listed[:, :, None]).any(1)  # (N, C)
    scores = _sum(where(_mask(picks), rows.unsqueeze(1), rows.dtype.type(0)), 2)  # x_n,j
    hinge = relu(1 - scores.unsqueeze(2) + rows.unsqueeze(1))  # (N, K, C)
    pairs = listed[:, :, None] & ~is_target[:, None, :]
    loss = _sum(where(_mask(pairs), hinge, rows.dtype.type(0)), (1, 2)) / rows.shape[1]
    return apply_reduction(loss.reshape(input.shape[:-1]), reduction)


def _before_first_negative(labels):
    """True at the entries of each row before its first negative one."""
    return get_array_module(labels).cumprod(labels >= 0, axis=-1).astype(bool)


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, *, reduction: str = "mean"
) -> Tensor:
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1, with
    cos = x₁·x₂ / √((‖x₁‖² + 10⁻¹²)(‖x₂‖² + 10⁻¹²)) along the last dim of (N, D) or (D,) inputs.
    """
    op = "cosine_embedding_loss"
    check_reduction(reduction, op)
    input1, input2, target = _tensor(input1), _tensor(input2), _tensor(target)
    if input1.ndim not in (1, 2) or input1.shape != input2.shape:
        raise RuntimeError(
            f"{op}: expected inputs of the same shape (N, D) or (D,), got {input1.shape} and "
            f"{input2.shape}"
        )
    if target.ndim != input1.ndim - 1:
        raise RuntimeError(
            f"{op}: expected a target with {input1.ndim - 1} dims for inputs of shape "
            f"{input1.shape}, got target of shape {target.shape}"
        )
    dim = input1.ndim - 1
    eps = 1e-12
    squares1 = _sum(input1 * input1, dim) + eps
    squares2 = _sum(input2 * input2, dim) + eps
    cos = _sum(input1 * input2, dim) / sqrt(squares1 * squares2)
    zero = cos.dtype.type(0)
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, clamp_min(cos - margin, 0), zero)
    return apply_reduction(loss, reduction)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    *,
    reduction: str = "mean",
) -> Tensor:
    """ℓ = max(0, d(a, p) − d(a, n) + margin), d the ``pairwise_distance`` ‖u − v + ε‖_p.

    With ``swap``, d(a, n) becomes min(d(a, n), d(p, n)) (the harder negative). Inputs (N, D)
    or (D,), all with the same number of dims.
    """
    check_reduction(reduction, "triplet_margin_loss")
    _check_triplet_dims(anchor, positive, negative)
    if anchor.ndim not in (1, 2):
        raise RuntimeError(
            f"triplet_margin_loss: expected 1D or 2D inputs, got {anchor.ndim}D inputs"
        )
    return _triplet(
        anchor,
        positive,
        negative,
        margin,
        swap,
        reduction,
        lambda u, v: pairwise_distance(u, v, p, eps),
    )


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """ℓ = max(0, d(a, p) − d(a, n) + margin) for any distance d (``pairwise_distance`` by
    default); ``swap`` as ``triplet_margin_loss``. The margin must be positive."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"triplet_margin_with_distance_loss: {reduction} is not a valid value for reduction"
        )
    if margin <= 0:
        raise ValueError(
            f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}"
        )
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, margin, swap, reduction, distance)


def _triplet(anchor, positive, negative, margin, swap, reduction, distance) -> Tensor:
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = minimum(to_negative, distance(positive, negative))
    return apply_reduction(clamp_min(margin + to_positive - to_negative, 0), reduction)
