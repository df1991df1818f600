"""Loss functions as modules: J = the reduction (mean by default) of ℓ over the batch.

Each wraps the fused op of ``aprende.nn.functional``; ``reduction`` is 'mean', 'sum' or
'none' (the per-element losses), and weight tensors are registered as buffers, so
``criterion.to(device)`` moves them with the model.
"""

from __future__ import annotations

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
