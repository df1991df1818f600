"""The confusion matrix and the one-vs-rest counts TP, FP, FN, TN read from it, per class or
of the positive class (the slides' table is in the package docstring)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from aprende.metrics._checks import (
    _AVERAGES,
    ArrayLike,
    _as_numpy,
    _check_average,
    _check_label_types,
    _check_targets,
    _check_weight,
    _Targets,
    _warn,
)


class ConfusionCounts(NamedTuple):
    """TP, FP, FN, TN of each class (one-vs-rest), each an array of shape (n_classes,)."""

    tp: Any
    fp: Any
    fn: Any
    tn: Any


def _index_in(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each value in ``labels`` (any order), or -1 where it is not a label."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    position = np.clip(np.searchsorted(sorted_labels, values), 0, labels.size - 1)
    return np.where(sorted_labels[position] == values, order[position], -1)


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: str | None = None,
) -> np.ndarray:
    """The confusion matrix ``M[i, j]`` = number of samples of true class i predicted as j.

    Rows are the true classes, columns the predicted classes (as scikit-learn). Read by row,
    a row sums to the class's support P_i = TP_i + FN_i and its diagonal entry over the sum is
    TPR_i; read by column, the diagonal entry over the column sum is PPV_i. For a binary
    problem with labels [0, 1]: ``[[TN, FP], [FN, TP]]``.

    Args:
        y_true, y_pred: labels of shape (N,) (ints, strings or bools).
        labels: classes indexing the matrix, in this order (samples of other classes are
            ignored); default: every class present in y_true or y_pred, sorted.
        sample_weight: weights of shape (N,); counts become sums of weights.
        normalize: "true" divides each row by its sum, "pred" each column, "all" the total;
            rows/columns summing to 0 give 0.

    Returns:
        An array of shape (C, C): int64 counts (float64 if weighted by floats or normalised).
    """
    name = "confusion_matrix"
    if normalize not in ("true", "pred", "all", None):
        raise ValueError(
            f"{name}: normalize must be one of 'true', 'pred', 'all' or None, got {normalize!r}"
        )
    targets = _check_targets(y_true, y_pred, name)
    if targets.kind == "multilabel-indicator":
        raise ValueError(
            f"{name}: multilabel-indicator targets are not supported; use "
            "multilabel_confusion_matrix for one 2x2 matrix per label"
        )
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    if labels is None:
        labels = targets.classes
    else:
        labels = _as_numpy(labels).reshape(-1)
        if labels.size == 0:
            raise ValueError(f"{name}: 'labels' should contain at least one label")
        _check_label_types(name, targets.y_true, labels)
        if not np.isin(targets.y_true, labels).any():
            raise ValueError(
                f"{name}: at least one label specified must be in y_true; got labels "
                f"{labels.tolist()} and y_true classes {np.unique(targets.y_true).tolist()}"
            )
    n = labels.size
    true_index = _index_in(targets.y_true, labels)
    pred_index = _index_in(targets.y_pred, labels)
    kept = (true_index >= 0) & (pred_index >= 0)
    cells = n * true_index[kept] + pred_index[kept]
    kept_weight = None if weight is None else weight[kept]
    matrix = np.bincount(cells, weights=kept_weight, minlength=n * n).reshape(n, n)
    integral = weight is None or weight.dtype.kind in "biu"
    matrix = matrix.astype(np.int64 if integral else np.float64)
    if normalize is not None:
        total = {"true": matrix.sum(1, keepdims=True), "pred": matrix.sum(0, keepdims=True)}
        with np.errstate(all="ignore"):
            matrix = np.nan_to_num(matrix / total.get(normalize, matrix.sum()))
    if matrix.shape == (1, 1):
        _warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to "
            "have the correct shape, use the 'labels' parameter to pass all known labels."
        )
    return matrix


def _class_counts(
    targets: _Targets, labels, weight: np.ndarray | None, samplewise: bool, name: str
) -> ConfusionCounts:
    """One-vs-rest TP, FP, FN, TN per label (or per sample of a multilabel target)."""
    if targets.kind == "multilabel-indicator":
        return _multilabel_counts(targets, labels, weight, samplewise, name)
    if samplewise:
        raise ValueError(
            f"{name}: samplewise metrics (average='samples') are not available outside of "
            "multilabel classification"
        )
    labels = targets.classes if labels is None else _as_numpy(labels).reshape(-1)
    _check_label_types(name, targets.y_true, labels)
    classes = np.union1d(targets.classes, labels)
    true_code = np.searchsorted(classes, targets.y_true)
    pred_code = np.searchsorted(classes, targets.y_pred)
    correct = true_code == pred_code
    m = classes.size
    tp = np.bincount(true_code[correct], None if weight is None else weight[correct], minlength=m)
    true_sum = np.bincount(true_code, weight, minlength=m)
    pred_sum = np.bincount(pred_code, weight, minlength=m)
    chosen = np.searchsorted(classes, labels)
    tp, true_sum, pred_sum = tp[chosen], true_sum[chosen], pred_sum[chosen]
    total = targets.y_true.shape[0] if weight is None else weight.sum()
    fp, fn = pred_sum - tp, true_sum - tp
    return ConfusionCounts(tp, fp, fn, total - tp - fp - fn)


def _multilabel_counts(
    targets: _Targets, labels, weight: np.ndarray | None, samplewise: bool, name: str
) -> ConfusionCounts:
    y_true, y_pred = targets.y_true, targets.y_pred
    n_labels = y_true.shape[1]
    if labels is not None:
        labels = _as_numpy(labels).reshape(-1)
        if labels.dtype.kind not in "iu" or labels.max() >= n_labels or labels.min() < 0:
            raise ValueError(
                f"{name}: all labels must be column indices in [0, {n_labels}) for "
                f"multilabel targets, got {labels.tolist()}"
            )
        y_true, y_pred = y_true[:, labels], y_pred[:, labels]
    axis = 1 if samplewise else 0

    def count(indicator: np.ndarray) -> np.ndarray:
        if weight is None:
            return np.count_nonzero(indicator, axis=axis)
        if samplewise:
            return indicator.sum(axis=1) * weight
        return weight @ indicator

    tp = count(y_true & y_pred)
    fp, fn = count(y_pred) - tp, count(y_true) - tp
    if samplewise:
        total = y_true.shape[1] if weight is None else weight * y_true.shape[1]
    else:
        total = y_true.shape[0] if weight is None else weight.sum()
    return ConfusionCounts(tp, fp, fn, total - tp - fp - fn)


def multilabel_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    samplewise: bool = False,
) -> np.ndarray:
    """One 2x2 confusion matrix per label: ``[[TN, FP], [FN, TP]]`` (as scikit-learn).

    For a multilabel target (0/1 indicators of shape (N, L)) each column is a binary problem;
    for class labels of shape (N,) each class is the positive class against the rest.

    Args:
        y_true, y_pred: labels (N,) or 0/1 indicators (N, L).
        sample_weight: weights of shape (N,).
        labels: classes (or, multilabel, column indices) to report, in this order.
        samplewise: multilabel only: one matrix per sample, over the labels.

    Returns:
        An array of shape (n_labels, 2, 2) (or (N, 2, 2) when samplewise).
    """
    name = "multilabel_confusion_matrix"
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    tp, fp, fn, tn = _class_counts(targets, labels, weight, samplewise, name)
    return np.stack([tn, fp, fn, tp], axis=1).reshape(-1, 2, 2)


def _set_wise_labels(targets: _Targets, average, labels, pos_label, name: str):
    """The labels to count: ``[pos_label]`` for a binary average, else ``labels``."""
    if average != "binary":
        if pos_label not in (None, 1):
            _warn(
                f"Note that pos_label (set to {pos_label!r}) is ignored when average != "
                f"'binary' (got {average!r}). You may use labels=[pos_label] to specify a "
                "single positive class.",
                UserWarning,
            )
        return labels
    if targets.kind != "binary":
        options = [a for a in _AVERAGES if targets.kind != "multiclass" or a != "samples"]
        raise ValueError(
            f"{name}: Target is {targets.kind} but average='binary'. Please choose another "
            f"average setting, one of {options}."
        )
    present = targets.classes.tolist()
    if pos_label not in present and len(present) >= 2:
        raise ValueError(
            f"{name}: pos_label={pos_label!r} is not a valid label. It should be one of {present}"
        )
    return [pos_label]


def _set_wise_counts(
    y_true, y_pred, labels, pos_label, average, sample_weight, name: str
) -> tuple[ConfusionCounts, np.ndarray | None]:
    """Per-label counts for ``average`` (summed over labels for "micro"), and the weights."""
    _check_average(average, name)
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    labels = _set_wise_labels(targets, average, labels, pos_label, name)
    counts = _class_counts(targets, labels, weight, average == "samples", name)
    if average == "micro":
        counts = ConfusionCounts(*(np.atleast_1d(np.sum(c)) for c in counts))
    return counts, weight


def confusion_counts(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
) -> ConfusionCounts:
    """TP, FP, FN, TN of the slides, per class (one-vs-rest) or of the positive class.

    For class c: TP = true c predicted c; FP = predicted c but another class (false alarm);
    FN = true c predicted another class (miss); TN = neither true nor predicted c.
    In the confusion matrix M: TP = M[c, c], FN = row c minus TP, FP = column c minus TP,
    TN = everything else; TP + FN = P (the class's support), FP + TN = N.

    Args:
        y_true, y_pred: labels (N,) or 0/1 multilabel indicators (N, L).
        labels: classes to count (default: all present, sorted).
        pos_label: the positive class when ``average="binary"``.
        average: "binary" (counts of ``pos_label``; binary targets only), "micro" (counts
            summed over classes) or None (one count per class).
        sample_weight: weights of shape (N,); counts become sums of weights.

    Returns:
        ``ConfusionCounts(tp, fp, fn, tn)``: Python numbers for "binary"/"micro", arrays of
        shape (n_classes,) for None.
    """
    name = "confusion_counts"
    _check_average(average, name, allowed=(None, "binary", "micro"))
    counts, _ = _set_wise_counts(y_true, y_pred, labels, pos_label, average, sample_weight, name)
    if average is None:
        return counts
    return ConfusionCounts(*(c.item() for c in counts))


def true_positives(y_true: ArrayLike, y_pred: ArrayLike, **kwargs):
    """TP: samples of the positive class predicted positive (see ``confusion_counts``)."""
    return confusion_counts(y_true, y_pred, **kwargs).tp


def false_positives(y_true: ArrayLike, y_pred: ArrayLike, **kwargs):
    """FP (false alarm, type I error): negatives predicted positive (``confusion_counts``)."""
    return confusion_counts(y_true, y_pred, **kwargs).fp


def false_negatives(y_true: ArrayLike, y_pred: ArrayLike, **kwargs):
    """FN (miss, type II error): positives predicted negative (see ``confusion_counts``)."""
    return confusion_counts(y_true, y_pred, **kwargs).fn


def true_negatives(y_true: ArrayLike, y_pred: ArrayLike, **kwargs):
    """TN: samples of the negative class predicted negative (see ``confusion_counts``)."""
    return confusion_counts(y_true, y_pred, **kwargs).tn
