"""Loss functions as modules: J = the reduction (mean by default) of ℓ over the batch.

Each wraps its function of ``aprende.nn.functional``; ``reduction`` is 'mean', 'sum' or
'none' (the per-element losses; 'batchmean' too for ``KLDivLoss``), and weight tensors are
registered as buffers, so ``criterion.to(device)`` moves them with the model. The arguments
PyTorch lists after its deprecated ``size_average``/``reduce`` are keyword-only here.
"""

from __future__ import annotations

from collections.abc import Callable

from aprende._tensor import Tensor
from aprende.creation import as_tensor
from aprende.nn import functional as F
from aprende.nn.module import Module
from aprende.ops.losses import check_reduction


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def _register_weight(self, name: str, weight) -> None:
        self.register_buffer(name, None if weight is None else as_tensor(weight))

    def _weight(self, name: str = "weight"):
        # The registry directly: self.weight goes through Module.__getattr__ (~0.4 µs a batch).
        return self._buffers[name]


class MSELoss(_Loss):
    """Mean squared error: ℓ = (x − y)² per element, input and target of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ℓ = |x − y| per element, input and target of the same shape."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities: ℓ = −w·[y log x + (1 − y) log(1 − x)].

    The input is a sigmoid output in [0, 1] (anything else raises); logs are clamped at −100.
    ``weight`` broadcasts to the input's shape. ``BCEWithLogitsLoss`` on the raw scores is the
    stabler choice.
    """

    def __init__(self, weight: Tensor | None = None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self._weight(), reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy from logits x, stably:
    ℓ = w·[max(x, 0) − x·y + log(1 + e^(−|x|))].

    For binary and multi-label outputs (one independent sigmoid per column). ``pos_weight``
    (one per class, broadcast along the last dim) multiplies the loss of positive targets, e.g.
    n_negative/n_positive for an imbalanced label.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self._weight(),
            reduction=self.reduction,
            pos_weight=self._weight("pos_weight"),
        )


class CrossEntropyLoss(_Loss):
    """Softmax + categorical cross-entropy from logits: ℓ_n = −w_yn log softmax(x_n)_yn.

    Input (N, C) logits (or (C,), or (N, C, d1, ...) for a class per position); target class
    indices (N,) / (N, d1, ...) in [0, C), or class probabilities / one-hot rows of the input's
    shape. ``weight`` (C,) rescales classes, ``ignore_index`` skips targets, ``label_smoothing``
    ε trains against (1 − ε)·onehot + ε/C. The mean is PyTorch's weighted mean Σ ℓ_n / Σ w_yn.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            self._weight(),
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities: ℓ_n = −w_yn·x_n,yn.

    Put a ``LogSoftmax(dim=1)`` before it; together they equal ``CrossEntropyLoss``. Shapes,
    ``weight`` and ``ignore_index`` as ``CrossEntropyLoss`` with class indices.
    """

    def __init__(
        self, weight: Tensor | None = None, *, ignore_index: int = -100, reduction: str = "mean"
    ):
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, self._weight(), ignore_index=self.ignore_index, reduction=self.reduction
        )


class HuberLoss(_Loss):
    """Huber loss: ℓ = ½(x − y)² where |x − y| < δ, else δ·(|x − y| − ½δ)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: ℓ = ½(x − y)²/β where |x − y| < β, else |x − y| − ½β (β = 0: L1)."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(Module):
    """Kullback-Leibler divergence of log-probabilities x from y: ℓ = y·(log y − x), or
    e^y·(y − x) with ``log_target``. ``reduction='batchmean'`` gives KL's definition (the sum
    over a sample, averaged over the batch); 'mean' averages over elements and warns."""

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__()
        if reduction != "batchmean":
            check_reduction(reduction, "KLDivLoss")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood: ℓ = e^x − y·x for log-rates x (``log_input``), else
    λ − y·log(λ + ε); ``full`` adds Stirling's y·log y − y + ½·log(2πy) where y > 1."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        *,
        eps: float = 1e-8,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(
            log_input,
            target,
            self.log_input,
            self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of y under N(x, var):
    ℓ = ½·(log max(var, ε) + (x − y)² / max(var, ε)) (+ ½·log 2π with ``full``)."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MarginRankingLoss(_Loss):
    """Ranking hinge: ℓ = max(0, −y·(x₁ − x₂) + margin) for y = ±1."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """ℓ = x where y = 1, max(0, margin − x) where y = −1 (x a distance)."""

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss: ℓ = log(1 + e^(−y·x)) for y = ±1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """One logistic loss per class, averaged over the C classes:
    ℓ_n = −(1/C) Σ_c w_c·[y_nc log σ(x_nc) + (1 − y_nc) log σ(−x_nc)]."""

    def __init__(self, weight: Tensor | None = None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(
            input, target, self._weight(), reduction=self.reduction
        )


class MultiMarginLoss(_Loss):
    """Multi-class hinge: ℓ_n = (1/C) Σ_{i ≠ y_n} w_yn·max(0, margin − x_n,yn + x_n,i)^p."""

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        *,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got p={p}")
        if weight is not None and as_tensor(weight).ndim != 1:
            raise ValueError("MultiMarginLoss: weight must be one-dimensional")
        self.p, self.margin = p, margin
        self._register_weight("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(
            input, target, self.p, self.margin, self._weight(), reduction=self.reduction
        )


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge over (target class, other class) pairs:
    ℓ_n = (1/C) Σ_{j ∈ targets} Σ_{i ∉ targets} max(0, 1 − (x_n,j − x_n,i)); a target row
    lists its classes and ends at the first −1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """ℓ = 1 − cos(x₁, x₂) where y = 1, max(0, cos(x₁, x₂) − margin) where y = −1."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(
            input1, input2, target, self.margin, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    """ℓ = max(0, ‖a − p + ε‖_p − ‖a − n + ε‖_p + margin); ``swap`` takes the harder of the
    distances a–n and p–n."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        *,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            self.margin,
            self.p,
            self.eps,
            self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(_Loss):
    """ℓ = max(0, d(a, p) − d(a, n) + margin) for a distance function d
    (``pairwise_distance`` by default); ``swap`` as ``TripletMarginLoss``."""

    def __init__(
        self,
        *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ):
        super().__init__(reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                f"{margin} instead"
            )
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )
