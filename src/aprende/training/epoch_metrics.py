"""From a model's outputs to predictions and metrics: how ``fit`` and ``evaluate`` score an
epoch (labels by argmax or threshold, as the loss the model is trained with implies)."""

from __future__ import annotations

import math

import numpy as np

from aprende.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss


def output_kind(criterion, outputs=None, targets=None) -> str:
    """How to read a model's outputs, from the loss it is trained with (without one: class
    scores when integer targets have one dimension fewer than the outputs)."""
    if criterion is None and outputs is not None:
        integer_targets = np.issubdtype(targets.dtype, np.integer)
        if integer_targets and outputs.ndim == targets.ndim + 1:
            return "multiclass"
    if isinstance(criterion, CrossEntropyLoss | NLLLoss):
        return "multiclass"
    if isinstance(criterion, BCEWithLogitsLoss):
        return "logits"
    if isinstance(criterion, BCELoss):
        return "probabilities"
    return "regression"


def predictions(outputs: np.ndarray, kind: str) -> np.ndarray:
    """Class labels from scores (argmax over dim 1, or a threshold), values for regression."""
    if kind == "multiclass":
        return outputs.argmax(axis=1)
    if kind == "logits":
        return (outputs > 0).astype(np.int64)
    if kind == "probabilities":
        return (outputs > 0.5).astype(np.int64)
    return outputs


def _labels(targets: np.ndarray, outputs: np.ndarray, kind: str) -> np.ndarray:
    if kind == "multiclass" and targets.shape == outputs.shape:  # probability / one-hot targets
        return targets.argmax(axis=1)
    if kind in ("logits", "probabilities"):
        return (targets > 0.5).astype(np.int64)
    return targets


def _accuracy(y_true, y_pred) -> float:
    """Fraction of labels predicted right, over every element (per-element and multi-label
    tasks included: there it is the per-label accuracy, 1 − Hamming loss)."""
    return float(np.mean(y_true.reshape(y_pred.shape) == y_pred))


def _metric_function(name: str, kind: str):
    if name in ("accuracy", "acc"):
        return _accuracy
    from aprende import metrics

    average = "binary" if kind in ("logits", "probabilities") else "macro"
    table = {
        "precision": lambda t, p: metrics.precision_score(t, p, average=average),
        "recall": lambda t, p: metrics.recall_score(t, p, average=average),
        "f1": lambda t, p: metrics.f1_score(t, p, average=average),
        "mse": metrics.mean_squared_error,
        "mae": metrics.mean_absolute_error,
        "rmse": lambda t, p: math.sqrt(metrics.mean_squared_error(t, p)),
        "r2": metrics.r2_score,
    }
    if name not in table:
        raise ValueError(
            f"unknown metric {name!r}; expected one of {['accuracy', *table]} or a callable "
            "metric(y_true, y_pred)"
        )
    return table[name]


def compute_metrics(metrics, targets, outputs, kind: str) -> dict:
    """Each metric on the epoch's targets and outputs (labels for classification)."""
    if not metrics:
        return {}
    y_pred = predictions(outputs, kind)
    y_true = _labels(targets, outputs, kind)
    if kind != "regression":
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    results = {}
    for metric in metrics:
        name = metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")
        function = _metric_function(metric, kind) if isinstance(metric, str) else metric
        results[name] = float(function(y_true, y_pred))
    return results
