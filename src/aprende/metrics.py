"""How a model is judged: the confusion matrix and every metric of the course.

Names, signatures and results follow scikit-learn (``sklearn.metrics``) wherever it has the
metric; the slides' rates it lacks (FNR, TNR, FPR, NPV) follow the same conventions.
Inputs may be lists, NumPy arrays or ``aprende.Tensor`` objects; predictions are labels, not
scores (``predictions_from_scores`` turns scores into labels).

The binary confusion matrix of the slides, rows = true class, columns = predicted class::

                     predicted P        predicted N
    true P (P=TP+FN)     TP                 FN (miss, type II)      -> TPR = TP/P, FNR = FN/P
    true N (N=FP+TN)     FP (false alarm)   TN                      -> TNR = TN/N, FPR = FP/N
                          |                  |
                   PPV = TP/(TP+FP)   NPV = TN/(TN+FN)

Read by row (what happened to the examples of a true class) you get TPR = 1 - FNR and
TNR = 1 - FPR; read by column (how trustworthy a prediction is) you get PPV and NPV.
ACC = (TP + TN) / (P + N). With C classes each class is, in turn, the positive class against
the rest ("one-vs-rest"), giving per-class TP, FP, FN, TN and per-class rates, which
``average=`` combines: "macro" (plain mean over classes), "weighted" (mean weighted by the
class support TP + FN), "micro" (rates of the summed counts) or None (one value per class).

Zero divisions (a class never predicted, never present) never raise: the value is
``zero_division`` (0.0 by default, with an ``UndefinedMetricWarning``, as scikit-learn's
``"warn"``).
"""

from __future__ import annotations

import itertools
import sys
import warnings
from typing import Any, NamedTuple

import numpy as np

from aprende import backend

__all__ = [
    "UndefinedMetricWarning",
    "ConfusionCounts",
    "confusion_matrix",
    "multilabel_confusion_matrix",
    "confusion_counts",
    "true_positives",
    "false_positives",
    "false_negatives",
    "true_negatives",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "tpr",
    "sensitivity",
    "recall",
    "fnr",
    "miss_rate",
    "tnr",
    "specificity",
    "fpr",
    "false_alarm_rate",
    "ppv",
    "precision",
    "npv",
    "jaccard_score",
    "accuracy_score",
    "accuracy",
    "balanced_accuracy_score",
    "hamming_loss",
    "pixel_accuracy",
    "per_class_iou",
    "mean_iou",
    "roc_curve",
    "auc",
    "roc_auc_score",
    "mean_squared_error",
    "mse",
    "root_mean_squared_error",
    "rmse",
    "mean_absolute_error",
    "mae",
    "r2_score",
    "classification_report",
    "course_report",
    "print_classification_report",
    "print_confusion_matrix",
    "predictions_from_scores",
]

ArrayLike = Any  # a list, a NumPy array or an aprende.Tensor

_AVERAGES = (None, "micro", "macro", "weighted", "samples")


class UndefinedMetricWarning(UserWarning):
    """A metric was ill-defined (e.g. a division by zero) and set to a fixed value."""


class ConfusionCounts(NamedTuple):
    """TP, FP, FN, TN of each class (one-vs-rest), each an array of shape (n_classes,)."""

    tp: Any
    fp: Any
    fn: Any
    tn: Any


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


class _Targets(NamedTuple):
    kind: str  # "binary", "multiclass" or "multilabel-indicator"
    classes: np.ndarray  # sorted labels present in y_true or y_pred (column indices: multilabel)
    y_true: np.ndarray
    y_pred: np.ndarray


def _as_numpy(y) -> np.ndarray:
    """A NumPy array of a list, an array (NumPy or CuPy) or a Tensor."""
    return backend.to_numpy(y)


def _is_text(array: np.ndarray) -> bool:
    return array.dtype.kind in "USO"


def _check_lengths(name: str, **arrays: np.ndarray) -> int:
    """The common number of samples; raises naming every length when they differ."""
    for which, array in arrays.items():
        if array.ndim == 0:
            raise ValueError(f"{name}: {which} must be an array of samples, got a scalar")
    lengths = {which: array.shape[0] for which, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = " and ".join(f"{which} has {n}" for which, n in lengths.items())
        raise ValueError(f"{name}: inconsistent numbers of samples: {described}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"{name}: empty input: {' and '.join(arrays)} hold no samples")
    return n


def _check_weight(sample_weight, n: int, name: str) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weight = _as_numpy(sample_weight)
    if weight.shape != (n,):
        raise ValueError(
            f"{name}: sample_weight must hold one weight per sample, shape ({n},); "
            f"got shape {weight.shape}"
        )
    return weight


def _target_type(y: np.ndarray, which: str, name: str) -> str:
    """scikit-learn's ``type_of_target`` for the forms the metrics accept."""
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] == 0):
        return "unknown"
    if y.dtype.kind == "O" and not isinstance(y.flat[0], str):
        return "unknown"
    suffix = "-multioutput" if y.ndim == 2 and y.shape[1] > 1 else ""
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name}: {which} contains NaN or infinity")
        if np.any(y != np.floor(y)):
            return "continuous" + suffix
    values = np.unique(y)
    if suffix:
        binary = y.dtype.kind in "biuf" and np.isin(values, [0, 1]).all()
        return "multilabel-indicator" if binary else "multiclass-multioutput"
    return "multiclass" if values.size > 2 else "binary"


def _check_label_types(name: str, *arrays: np.ndarray) -> None:
    if len({_is_text(a) for a in arrays}) > 1:
        raise ValueError(
            f"{name}: mix of label input types (string and number); "
            f"got dtypes {', '.join(str(a.dtype) for a in arrays)}"
        )


def _check_targets(y_true, y_pred, name: str) -> _Targets:
    """Both label arrays checked to be the same classification task, 1-D or 0/1 (N, L)."""
    y_true, y_pred = _as_numpy(y_true), _as_numpy(y_pred)
    _check_lengths(name, y_true=y_true, y_pred=y_pred)
    type_true = _target_type(y_true, "y_true", name)
    type_pred = _target_type(y_pred, "y_pred", name)
    kinds = {type_true, type_pred}
    if kinds == {"binary", "multiclass"}:
        kinds = {"multiclass"}
    if len(kinds) > 1:
        raise ValueError(
            f"{name}: classification metrics can't handle a mix of {type_true} (y_true) "
            f"and {type_pred} (y_pred) targets"
        )
    kind = kinds.pop()
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(
            f"{name}: {kind} targets are not supported (y_true of shape {y_true.shape}, "
            f"dtype {y_true.dtype}); expected class labels of shape (N,) or a 0/1 indicator "
            "of shape (N, L); for per-element labels of shape (N, d1, ...) use "
            "pixel_accuracy / per_class_iou or flatten them; for scores use "
            "predictions_from_scores first"
        )
    if kind == "multilabel-indicator":
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{name}: y_true and y_pred have different shapes {y_true.shape} and {y_pred.shape}"
            )
        return _Targets(kind, np.arange(y_true.shape[1]), (y_true != 0), (y_pred != 0))
    y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    _check_label_types(name, y_true, y_pred)
    classes = np.union1d(y_true, y_pred)
    if kind == "binary" and classes.size > 2:
        kind = "multiclass"
    return _Targets(kind, classes, y_true, y_pred)


def _check_zero_division(zero_division, name: str) -> float:
    """The value a 0/0 takes: 0.0 for "warn", else 0.0, 1.0 or NaN as given."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, int | float) and (
        zero_division in (0, 1) or np.isnan(zero_division)
    ):
        return float(zero_division)
    raise ValueError(
        f"{name}: zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}"
    )


def _warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside this module (the user's line),
    however deep inside the metrics the warning arises."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _index_in(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each value in ``labels`` (any order), or -1 where it is not a label."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    position = np.clip(np.searchsorted(sorted_labels, values), 0, labels.size - 1)
    return np.where(sorted_labels[position] == values, order[position], -1)


# ---------------------------------------------------------------------------------------------
# Confusion matrices and counts
# ---------------------------------------------------------------------------------------------


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


def _check_average(average, name: str, allowed=(*_AVERAGES, "binary")) -> None:
    if average not in allowed:
        raise ValueError(f"{name}: average has to be one of {allowed}, got {average!r}")


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


# ---------------------------------------------------------------------------------------------
# Rates from the counts: TPR, FNR, TNR, FPR, PPV, NPV, F-beta, Jaccard
# ---------------------------------------------------------------------------------------------

# rate = numerator / (numerator + complement); the name and the kind of sample whose absence
# makes it undefined, for the warning (scikit-learn's wording for precision and recall).
_RATES = {
    "tpr": ("tp", "fn", "Recall", "true"),
    "fnr": ("fn", "tp", "FNR", "true"),
    "tnr": ("tn", "fp", "Specificity", "actual negative"),
    "fpr": ("fp", "tn", "FPR", "actual negative"),
    "ppv": ("tp", "fp", "Precision", "predicted"),
    "npv": ("tn", "fn", "NPV", "predicted negative"),
}


def _divide(numerator, denominator, zero_division, what: str, modifier: str, average, warn=True):
    """``numerator / denominator`` with 0/0 set to ``zero_division`` (and a warning)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    undefined = denominator == 0
    result = numerator / np.where(undefined, 1.0, denominator)
    if not undefined.any():
        return result
    result[undefined] = _check_zero_division(zero_division, what)
    if warn and isinstance(zero_division, str):
        axis0, axis1 = ("label", "sample") if average == "samples" else ("sample", "label")
        where = "due to" if result.size == 1 else f"in {axis1}s with"
        _warn(
            f"{what} is ill-defined and being set to 0.0 {where} no {modifier} {axis0}s. "
            "Use `zero_division` parameter to control this behavior.",
            UndefinedMetricWarning,
        )
    return result


def _nanaverage(values: np.ndarray, weights=None) -> float:
    """Weighted mean ignoring NaN (zero_division=np.nan); plain mean if weights sum to 0."""
    kept = ~np.isnan(values)
    if not kept.any():
        return float("nan")
    if weights is None:
        return float(values[kept].mean())
    try:
        return float(np.average(values[kept], weights=np.asarray(weights)[kept]))
    except ZeroDivisionError:
        return float(values[kept].mean())


def _average_values(values: np.ndarray, counts: ConfusionCounts, average, weight):
    """Per-label values as asked: kept (None), or one float ("binary", macro, ...)."""
    if average is None:
        return values
    if average == "weighted":
        return _nanaverage(values, counts.tp + counts.fn)
    return _nanaverage(values, weight if average == "samples" else None)


def _rate_values(counts: ConfusionCounts, rate: str, zero_division, average, warn=True):
    numerator, complement, what, modifier = _RATES[rate]
    num = getattr(counts, numerator)
    den = num + getattr(counts, complement)
    return _divide(num, den, zero_division, what, modifier, average, warn)


def _fbeta_values(counts: ConfusionCounts, beta: float, zero_division, average, warn=True):
    """F_beta = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP), 0/0 only if the label is absent.

    beta = inf is recall and beta = 0 is precision, taken without a warning of their own
    (as scikit-learn, which warns there only for the rates asked in ``warn_for``).
    """
    if np.isposinf(beta):
        return _rate_values(counts, "tpr", zero_division, average, warn=False)
    if beta == 0:
        return _rate_values(counts, "ppv", zero_division, average, warn=False)
    beta2 = beta**2
    denominator = beta2 * np.asarray(counts.tp + counts.fn, np.float64) + (counts.tp + counts.fp)
    numerator = (1 + beta2) * np.asarray(counts.tp, np.float64)
    return _divide(
        numerator, denominator, zero_division, "F-score", "true nor predicted", average, warn
    )


def _rate_score(rate: str, name: str, y_true, y_pred, labels, pos_label, average, w, zd):
    _check_zero_division(zd, name)
    counts, weight = _set_wise_counts(y_true, y_pred, labels, pos_label, average, w, name)
    return _average_values(_rate_values(counts, rate, zd, average), counts, average, weight)


def precision_recall_fscore_support(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float = 1.0,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = None,
    warn_for=("precision", "recall", "f-score"),
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """Precision (PPV), recall (TPR), F-beta and support per class, or averaged.

    PPV = TP / (TP + FP), TPR = TP / (TP + FN),
    F_beta = (1 + b^2) PPV TPR / (b^2 PPV + TPR) = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP),
    support = TP + FN (the number of true samples of the class).

    The parameters every rate function of this module shares:
        y_true, y_pred: labels of shape (N,) (ints, strings, bools) or multilabel 0/1
            indicators of shape (N, L).
        labels: the classes to compute (default: all present in y_true or y_pred, sorted);
            for multilabel targets, column indices.
        pos_label: the positive class when ``average="binary"``.
        average: "binary" (the value for ``pos_label``; binary targets only), None (one value
            per class), "macro" (mean over classes), "weighted" (mean weighted by support),
            "micro" (the rate of the counts summed over classes; for single-label multiclass
            micro PPV = micro TPR = accuracy), "samples" (multilabel: mean over samples of the
            per-sample rate).
        sample_weight: weights of shape (N,).
        zero_division: the value of a 0/0 ("warn": 0.0 plus an ``UndefinedMetricWarning``;
            or 0.0, 1.0, np.nan; NaN values are left out of averages).

    Returns:
        ``(precision, recall, fbeta, support)``: arrays of shape (n_classes,) when
        ``average=None``, else three floats and ``support=None``.
    """
    name = "precision_recall_fscore_support"
    _check_zero_division(zero_division, name)
    if not beta >= 0:
        raise ValueError(f"{name}: beta must be >= 0, got {beta!r}")
    counts, weight = _set_wise_counts(
        y_true, y_pred, labels, pos_label, average, sample_weight, name
    )
    precision_values = _rate_values(
        counts, "ppv", zero_division, average, warn="precision" in warn_for
    )
    recall_values = _rate_values(counts, "tpr", zero_division, average, warn="recall" in warn_for)
    f_values = _fbeta_values(counts, beta, zero_division, average, warn="f-score" in warn_for)
    if average is None:
        return precision_values, recall_values, f_values, counts.tp + counts.fn
    return (
        _average_values(precision_values, counts, average, weight),
        _average_values(recall_values, counts, average, weight),
        _average_values(f_values, counts, average, weight),
        None,
    )


def precision_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """Precision = PPV (positive predictive value) = TP / (TP + FP).

    Read by column of the confusion matrix: of the samples predicted as the class, the
    fraction that truly are. Undefined (0/0) when the class is never predicted. Parameters
    as in ``precision_recall_fscore_support``; a float, or an array of shape (n_classes,)
    when ``average=None``.
    """
    return _rate_score(
        "ppv",
        "precision_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def recall_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """Recall = sensitivity = TPR (true positive rate) = TP / (TP + FN) = TP / P = 1 - FNR.

    Read by row of the confusion matrix: of the samples truly of the class, the fraction
    found. Undefined (0/0) when the class never occurs in y_true. Parameters as in
    ``precision_recall_fscore_support``; a float, or an array of shape (n_classes,) when
    ``average=None``.
    """
    return _rate_score(
        "tpr",
        "recall_score",
        y_true,
        y_pred,
        labels,
        pos_label,
        average,
        sample_weight,
        zero_division,
    )


def fnr(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """FNR (false negative rate, miss rate) = FN / (TP + FN) = FN / P = 1 - TPR.

    Read by row: of the samples truly of the class, the fraction missed (type II errors).
    Parameters as in ``precision_recall_fscore_support``.
    """
    return _rate_score(
        "fnr", "fnr", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def tnr(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """TNR (true negative rate, specificity) = TN / (TN + FP) = TN / N = 1 - FPR.

    Read by row, over the rows of the other classes: of the samples not of the class, the
    fraction correctly not assigned to it. Parameters as in
    ``precision_recall_fscore_support`` ("weighted" weighs by the class support TP + FN,
    like every rate here).
    """
    return _rate_score(
        "tnr", "tnr", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def fpr(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """FPR (false positive rate, false alarm rate) = FP / (FP + TN) = FP / N = 1 - TNR.

    Read by row, over the rows of the other classes: of the samples not of the class, the
    fraction wrongly assigned to it (type I errors). Parameters as in
    ``precision_recall_fscore_support``.
    """
    return _rate_score(
        "fpr", "fpr", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def npv(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """NPV (negative predictive value) = TN / (TN + FN).

    Read by column, over the columns of the other classes: of the samples predicted as not
    the class, the fraction that truly are not. Parameters as in
    ``precision_recall_fscore_support``.
    """
    return _rate_score(
        "npv", "npv", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def fbeta_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """F_beta = (1 + b^2) PPV TPR / (b^2 PPV + TPR) = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP).

    Recall weighs beta times as much as precision. 0/0 only for a class neither present nor
    predicted. Parameters as in ``precision_recall_fscore_support``.
    """
    name = "fbeta_score"
    _check_zero_division(zero_division, name)
    if not beta >= 0:
        raise ValueError(f"{name}: beta must be >= 0, got {beta!r}")
    counts, weight = _set_wise_counts(
        y_true, y_pred, labels, pos_label, average, sample_weight, name
    )
    values = _fbeta_values(counts, beta, zero_division, average)
    return _average_values(values, counts, average, weight)


def f1_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """F1 = 2 PPV TPR / (PPV + TPR) = 2 TP / (2 TP + FN + FP), the harmonic mean.

    Parameters as in ``precision_recall_fscore_support``.
    """
    return fbeta_score(
        y_true,
        y_pred,
        beta=1.0,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


# The slides' names for the same rates.
tpr = sensitivity = recall = recall_score
ppv = precision = precision_score
specificity = tnr
miss_rate = fnr
false_alarm_rate = fpr


def jaccard_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    pos_label=1,
    average: str | None = "binary",
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
):
    """Jaccard index = IoU (intersection over union) = TP / (TP + FP + FN).

    Parameters as in ``precision_recall_fscore_support``; as scikit-learn, NaN values
    (``zero_division=np.nan``) are not left out of averages here.
    """
    name = "jaccard_score"
    _check_zero_division(zero_division, name)
    counts, weight = _set_wise_counts(
        y_true, y_pred, labels, pos_label, average, sample_weight, name
    )
    union = counts.tp + counts.fp + counts.fn
    values = _divide(counts.tp, union, zero_division, "Jaccard", "true or predicted", average)
    if average is None:
        return values
    weights = None
    if average == "weighted":
        support = counts.tp + counts.fn
        weights = support if np.any(support) else None
    elif average == "samples":
        weights = weight
    return float(np.average(values, weights=weights))


# ---------------------------------------------------------------------------------------------
# Accuracy, balanced accuracy, Hamming loss
# ---------------------------------------------------------------------------------------------


def accuracy_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    normalize: bool = True,
    sample_weight: ArrayLike | None = None,
) -> float:
    """ACC = (TP + TN) / (P + N): the fraction of samples predicted correctly.

    With C classes, the diagonal of the confusion matrix over its total. For multilabel
    0/1 indicators of shape (N, L) this is the subset accuracy: a sample counts as correct
    only if all its L labels are. ``normalize=False`` gives the (weighted) number correct.
    """
    name = "accuracy_score"
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    correct = targets.y_true == targets.y_pred
    if targets.kind == "multilabel-indicator":
        correct = correct.all(axis=1)
    if normalize:
        return float(np.average(correct, weights=weight))
    return float(correct.sum() if weight is None else correct @ weight)


accuracy = accuracy_score


def balanced_accuracy_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    adjusted: bool = False,
) -> float:
    """Balanced accuracy: the mean over classes of TPR_c = M[c, c] / (row c of M).

    For two classes, (TPR + TNR) / 2. Classes that occur only in y_pred are left out (with a
    warning). ``adjusted=True`` rescales so that chance scores 0: (score - 1/C) / (1 - 1/C).
    """
    matrix = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.diag(matrix) / matrix.sum(axis=1)
    if np.isnan(per_class).any():
        _warn("y_pred contains classes not in y_true", UserWarning)
        per_class = per_class[~np.isnan(per_class)]
    score = per_class.mean()
    if adjusted:
        chance = 1 / per_class.size
        score = (score - chance) / (1 - chance)
    return float(score)


def hamming_loss(
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    """The fraction of wrong labels: mean over samples and labels of [y_true != y_pred].

    For multilabel indicators (N, L): wrong entries / (N L); for labels (N,): 1 - accuracy.
    """
    name = "hamming_loss"
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    wrong = targets.y_true != targets.y_pred
    if targets.kind == "multilabel-indicator":
        wrong = wrong.mean(axis=1)
    return float(np.average(wrong, weights=weight))


# ---------------------------------------------------------------------------------------------
# Per-element classification (a class per pixel / position)
# ---------------------------------------------------------------------------------------------


def _element_labels(y_true, y_pred, num_classes, ignore_index, name: str):
    """Flat class indices of the elements that count, and the number of classes."""
    y_true, y_pred = _as_numpy(y_true), _as_numpy(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true and y_pred must have the same shape (N, d1, ...), got "
            f"{y_true.shape} and {y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError(f"{name}: empty input: y_true and y_pred hold no elements")
    for which, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.dtype.kind not in "biu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
            raise ValueError(
                f"{name}: {which} must hold integer class indices, got dtype {y.dtype}; "
                "for scores use predictions_from_scores first"
            )
    y_true, y_pred = y_true.reshape(-1).astype(np.int64), y_pred.reshape(-1).astype(np.int64)
    if ignore_index is not None:
        kept = y_true != ignore_index
        y_true, y_pred = y_true[kept], y_pred[kept]
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    for which, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            bad = y[(y < 0) | (y >= num_classes)][0]
            raise ValueError(
                f"{name}: {which} holds class {bad}, outside [0, {num_classes}) for "
                f"num_classes={num_classes}"
            )
    return y_true, y_pred, num_classes


def pixel_accuracy(
    y_true: ArrayLike, y_pred: ArrayLike, *, ignore_index: int | None = None
) -> float:
    """The fraction of elements (pixels, positions) whose class is predicted correctly.

    Args:
        y_true, y_pred: integer classes of the same shape (N, d1, ...), e.g. a class per pixel.
        ignore_index: elements whose true class is this value do not count (as PyTorch's
            ``CrossEntropyLoss(ignore_index=)``).
    """
    name = "pixel_accuracy"
    y_true, y_pred, _ = _element_labels(y_true, y_pred, None, ignore_index, name)
    return float(_divide(np.sum(y_true == y_pred), y_true.size, "warn", name, "counted", "binary"))


def per_class_iou(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
    zero_division=np.nan,
) -> np.ndarray:
    """IoU_c = TP_c / (TP_c + FP_c + FN_c) for every class c over all elements.

    The per-element Jaccard index: |true c and predicted c| / |true c or predicted c|, counted
    over every pixel/position of every sample. A class neither present nor predicted is 0/0:
    NaN by default, so that ``mean_iou`` leaves it out (set ``zero_division`` to 0.0, 1.0 or
    "warn" to change that).

    Args:
        y_true, y_pred: integer classes of the same shape (N, d1, ...).
        num_classes: C (default: the largest class present + 1).
        ignore_index: elements whose true class is this value do not count.

    Returns:
        An array of shape (C,).
    """
    name = "per_class_iou"
    _check_zero_division(zero_division, name)
    y_true, y_pred, c = _element_labels(y_true, y_pred, num_classes, ignore_index, name)
    matrix = np.bincount(c * y_true + y_pred, minlength=c * c).reshape(c, c)
    tp = np.diag(matrix)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - tp
    return _divide(tp, union, zero_division, "IoU", "true or predicted", None)


def mean_iou(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> float:
    """mIoU: the mean of ``per_class_iou`` over the classes present in y_true or y_pred."""
    iou = per_class_iou(y_true, y_pred, num_classes=num_classes, ignore_index=ignore_index)
    return _nanaverage(iou)


# ---------------------------------------------------------------------------------------------
# ROC curve and AUC
# ---------------------------------------------------------------------------------------------


def _column(y: np.ndarray, which: str, name: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        return y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"{name}: {which} must have shape (N,), got {y.shape}")
    return y


def _roc_pos_label(pos_label, y_true: np.ndarray, name: str):
    """``pos_label``, or 1 when y_true takes values in {0, 1} or {-1, 1} (as scikit-learn)."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y_true)
    usual = ([0, 1], [-1, 1], [0], [-1], [1])
    if _is_text(classes) or not any(np.array_equal(classes, values) for values in usual):
        shown = ", ".join(repr(c) for c in classes.tolist())
        raise ValueError(
            f"{name}: y_true takes value in {{{shown}}} and pos_label is not specified: either "
            "make y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
        )
    return 1


def _binary_clf_curve(positive: np.ndarray, y_score: np.ndarray, weight: np.ndarray | None):
    """FP and TP counts at each distinct score, taken as threshold in decreasing order."""
    if weight is not None:
        nonzero = weight != 0  # zero-weight samples would only add thresholds
        positive, y_score, weight = positive[nonzero], y_score[nonzero], weight[nonzero]
    order = np.argsort(y_score, kind="stable")[::-1]
    y_score, positive = y_score[order], positive[order].astype(np.float64)
    # the last index of each run of tied scores: a threshold moves past the whole run at once
    ends = np.r_[np.flatnonzero(np.diff(y_score)), y_score.size - 1]
    if weight is None:
        tps = np.cumsum(positive)[ends]
        fps = 1 + ends - tps
    else:
        weight = weight[order].astype(np.float64)
        tps = np.cumsum(positive * weight)[ends]
        fps = np.cumsum((1 - positive) * weight)[ends]
    return fps, tps, y_score[ends]


def roc_curve(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    pos_label=None,
    sample_weight: ArrayLike | None = None,
    drop_intermediate: bool = True,
):
    """The ROC curve: FPR (false alarm rate) against TPR (recall) as the threshold varies.

    A sample is predicted positive when its score >= threshold; each distinct score is a
    threshold, in decreasing order, preceded by ``inf`` so the curve starts at (0, 0).
    ``drop_intermediate`` drops thresholds whose point lies on a straight segment between
    its neighbours (it changes neither the plot nor the AUC).

    Args:
        y_true: binary labels (N,); for labels other than {0, 1} or {-1, 1}, name the
            positive class with ``pos_label``.
        y_score: scores (N,), larger = more positive (probabilities or logits).
        sample_weight: weights of shape (N,).

    Returns:
        ``(fpr, tpr, thresholds)``, arrays of the same length (NaN rates, with a warning,
        when y_true has no negatives or no positives).
    """
    name = "roc_curve"
    y_true, y_score = _as_numpy(y_true), _as_numpy(y_score)
    n = _check_lengths(name, y_true=y_true, y_score=y_score)
    y_true, y_score = _column(y_true, "y_true", name), _column(y_score, "y_score", name)
    weight = _check_weight(sample_weight, n, name)
    kind = _target_type(y_true, "y_true", name)
    if not (kind == "binary" or (kind == "multiclass" and pos_label is not None)):
        raise ValueError(
            f"{name}: y_true must hold two classes, got {kind} targets; for a multiclass "
            "y_true pass pos_label (the class scored), or use roc_auc_score(multi_class=...)"
        )
    if y_score.dtype.kind not in "biuf" or not np.all(np.isfinite(y_score)):
        raise ValueError(f"{name}: y_score must be finite numbers, got dtype {y_score.dtype}")
    positive = y_true == _roc_pos_label(pos_label, y_true, name)
    fps, tps, thresholds = _binary_clf_curve(positive, y_score, weight)
    if drop_intermediate and fps.size > 2:
        corner = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds.astype(np.float64)]
    return _rate_curve(fps, "negative", "false"), _rate_curve(tps, "positive", "true"), thresholds


def _rate_curve(counts: np.ndarray, kind: str, rate: str) -> np.ndarray:
    if counts[-1] > 0:
        return counts / counts[-1]
    _warn(
        f"No {kind} samples in y_true, {rate} positive value should be meaningless",
        UndefinedMetricWarning,
    )
    return np.full(counts.shape, np.nan)


def auc(x: ArrayLike, y: ArrayLike) -> float:
    """The area under a curve given by points (x, y), by the trapezoidal rule.

    ``x`` must be monotonic (increasing or decreasing). ``auc(fpr, tpr)`` of ``roc_curve``
    is the ROC AUC.
    """
    name = "auc"
    x, y = _as_numpy(x).astype(np.float64), _as_numpy(y).astype(np.float64)
    _check_lengths(name, x=x, y=y)
    x, y = _column(x, "x", name), _column(y, "y", name)
    if x.size < 2:
        raise ValueError(f"{name}: at least 2 points are needed, got x of shape {x.shape}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(f"{name}: x is neither increasing nor decreasing: {x}")
        direction = -1.0
    return float(direction * np.trapezoid(y, x))


def _binary_roc_auc(positive: np.ndarray, y_score: np.ndarray, weight) -> float:
    if np.unique(positive).size != 2:
        _warn(
            "Only one class is present in y_true. ROC AUC score is not defined in that case.",
            UndefinedMetricWarning,
        )
        return float("nan")
    false_rate, true_rate, _ = roc_curve(positive, y_score, sample_weight=weight)
    return auc(false_rate, true_rate)


def _average_binary_roc_auc(indicator: np.ndarray, y_score: np.ndarray, average, weight):
    """One ROC AUC per column of a 0/1 indicator (N, L), averaged as asked."""
    if average == "micro":
        repeated = None if weight is None else np.repeat(weight, indicator.shape[1])
        return _binary_roc_auc(indicator.ravel(), y_score.ravel(), repeated)
    scores = np.array(
        [_binary_roc_auc(indicator[:, c], y_score[:, c], weight) for c in range(y_score.shape[1])]
    )
    if average is None:
        return scores
    if average == "weighted":
        support = indicator.sum(axis=0) if weight is None else weight @ indicator
        if np.isclose(support.sum(), 0.0):
            return 0.0
        return float(np.average(np.where(support == 0, 0.0, scores), weights=support))
    return float(scores.mean())


def _ovo_roc_auc(codes: np.ndarray, y_score: np.ndarray, average) -> float:
    """Hand & Till (2001): mean over class pairs (a, b) of (AUC(a vs b) + AUC(b vs a)) / 2."""
    pairs = list(itertools.combinations(np.unique(codes), 2))
    scores, prevalence = np.empty(len(pairs)), np.empty(len(pairs))
    for i, (a, b) in enumerate(pairs):
        in_pair = (codes == a) | (codes == b)
        prevalence[i] = in_pair.mean()
        is_a = codes[in_pair] == a
        score_a = _binary_roc_auc(is_a, y_score[in_pair, a], None)
        score_b = _binary_roc_auc(~is_a, y_score[in_pair, b], None)
        scores[i] = (score_a + score_b) / 2
    return float(np.average(scores, weights=prevalence if average == "weighted" else None))


def _multiclass_roc_auc(y_true, y_score, labels, multi_class, average, weight, name: str):
    if y_score.ndim != 2:
        raise ValueError(
            f"{name}: y_score needs shape (n_samples, n_classes) since y_true holds several "
            f"classes, got {y_score.shape}"
        )
    if not np.allclose(1, y_score.sum(axis=1)):
        raise ValueError(
            f"{name}: target scores need to be probabilities for multiclass roc_auc, i.e. "
            "they should sum up to 1.0 over classes (apply softmax first)"
        )
    if multi_class not in ("ovr", "ovo"):
        raise ValueError(f"{name}: multi_class must be in ('ovo', 'ovr'), got {multi_class!r}")
    allowed = (
        ("micro", "macro", "weighted", None) if multi_class == "ovr" else ("macro", "weighted")
    )
    if average not in allowed:
        raise ValueError(
            f"{name}: average must be one of {allowed} for multiclass problems with "
            f"multi_class={multi_class!r}, got {average!r}"
        )
    if labels is None:
        classes = np.unique(y_true)
        if classes.size != y_score.shape[1]:
            raise ValueError(
                f"{name}: number of classes in y_true ({classes.size}) not equal to the "
                f"number of columns in y_score ({y_score.shape[1]})"
            )
    else:
        classes = _as_numpy(labels).reshape(-1)
        if not np.array_equal(np.unique(classes), classes):
            raise ValueError(f"{name}: parameter 'labels' must be unique and ordered")
        if classes.size != y_score.shape[1]:
            raise ValueError(
                f"{name}: number of given labels, {classes.size}, not equal to the number of "
                f"columns in 'y_score', {y_score.shape[1]}"
            )
        if np.setdiff1d(y_true, classes).size:
            raise ValueError(f"{name}: 'y_true' contains labels not in parameter 'labels'")
    codes = np.searchsorted(classes, y_true)
    if multi_class == "ovo":
        if weight is not None:
            raise ValueError(
                f"{name}: sample_weight is not supported for multiclass one-vs-one ROC AUC"
            )
        return _ovo_roc_auc(codes, y_score, average)
    indicator = (codes[:, None] == np.arange(classes.size)).astype(np.int64)
    return _average_binary_roc_auc(indicator, y_score, average, weight)


def roc_auc_score(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    average: str | None = "macro",
    sample_weight: ArrayLike | None = None,
    multi_class: str = "raise",
    labels: ArrayLike | None = None,
):
    """Area under the ROC curve: the probability that a random positive outscores a random
    negative (ties count one half). 0.5 is chance, 1.0 a perfect ranking.

    Binary: ``y_true`` (N,) with two classes, ``y_score`` (N,) the score of the greater
    label. Multiclass: ``y_score`` (N, C) class probabilities (rows summing to 1), with
    ``multi_class="ovr"`` (each class against the rest; average "macro", "weighted" by
    prevalence, "micro" or None) or ``"ovo"`` (Hand & Till: mean over pairs of classes;
    "macro" or "weighted"); ``labels`` names the columns (default: sorted classes of y_true).
    Multilabel: ``y_true`` 0/1 (N, L) and ``y_score`` (N, L): one AUC per label, averaged
    ("macro", "weighted", "micro" or None). A label with a single class in y_true gives
    NaN with an ``UndefinedMetricWarning``.
    """
    name = "roc_auc_score"
    y_true, y_score = _as_numpy(y_true), _as_numpy(y_score)
    n = _check_lengths(name, y_true=y_true, y_score=y_score)
    weight = _check_weight(sample_weight, n, name)
    _check_average(average, name, allowed=(None, "micro", "macro", "weighted"))
    if y_score.dtype.kind not in "biuf" or not np.all(np.isfinite(y_score)):
        raise ValueError(f"{name}: y_score must be finite numbers, got dtype {y_score.dtype}")
    kind = _target_type(y_true, "y_true", name)
    if kind == "multilabel-indicator":
        if y_score.shape != y_true.shape:
            raise ValueError(
                f"{name}: y_score must have the shape of the multilabel y_true {y_true.shape}, "
                f"got {y_score.shape}"
            )
        return _average_binary_roc_auc(y_true, y_score, average, weight)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"{name}: {kind} format is not supported for y_true")
    y_true = _column(y_true, "y_true", name)
    if kind == "multiclass" or (y_score.ndim == 2 and y_score.shape[1] > 2):
        return _multiclass_roc_auc(y_true, y_score, labels, multi_class, average, weight, name)
    if y_score.ndim != 1 and y_score.shape[1:] != (1,):
        raise ValueError(
            f"{name}: for a binary y_true, y_score must hold one score per sample, shape "
            f"(N,): the score of the greater label; got {y_score.shape}"
        )
    return _binary_roc_auc(y_true == np.unique(y_true)[-1], y_score.reshape(-1), weight)


# ---------------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------------


def _check_regression(y_true, y_pred, sample_weight, multioutput, name, allowed):
    """Both targets as float arrays (N, n_outputs), the weights and the output weights."""
    arrays = {}
    for which, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = _as_numpy(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{name}: {which} must be numeric, got dtype {y.dtype}")
        if y.ndim not in (1, 2):
            raise ValueError(
                f"{name}: {which} must have shape (N,) or (N, n_outputs), got {y.shape}"
            )
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name}: {which} contains NaN or infinity")
        arrays[which] = y.astype(np.float64).reshape(y.shape[0], -1)
    n = _check_lengths(name, **arrays)
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    if y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(
            f"{name}: y_true and y_pred have different number of outputs "
            f"({y_true.shape[1]} != {y_pred.shape[1]})"
        )
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(
                f"{name}: multioutput must be one of {allowed} or an array of weights, "
                f"got {multioutput!r}"
            )
    else:
        multioutput = _as_numpy(multioutput).astype(np.float64).reshape(-1)
        if y_true.shape[1] == 1:
            raise ValueError(f"{name}: custom multioutput weights need several outputs")
        if multioutput.size != y_true.shape[1]:
            raise ValueError(
                f"{name}: there must be equally many multioutput weights ({multioutput.size}) "
                f"as outputs ({y_true.shape[1]})"
            )
    return y_true, y_pred, _check_weight(sample_weight, n, name), multioutput


def _average_outputs(per_output: np.ndarray, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        multioutput = None  # "uniform_average"
    return float(np.average(per_output, weights=multioutput))


def _mean_error(y_true, y_pred, sample_weight, multioutput, name: str, error):
    """The weighted mean over samples of ``error(y - o)``, per output; the output weights."""
    y_true, y_pred, weight, multioutput = _check_regression(
        y_true, y_pred, sample_weight, multioutput, name, ("raw_values", "uniform_average")
    )
    return np.average(error(y_true - y_pred), axis=0, weights=weight), multioutput


def mean_squared_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput="uniform_average",
):
    """MSE = (1/N) sum_n (y_n - o_n)^2, per output, then averaged over outputs.

    Args:
        y_true, y_pred: targets and predictions of shape (N,) or (N, n_outputs).
        sample_weight: weights of shape (N,) (a weighted mean over samples).
        multioutput: "uniform_average" (mean over outputs), "raw_values" (an array of shape
            (n_outputs,)) or an array of output weights.
    """
    per_output, multioutput = _mean_error(
        y_true, y_pred, sample_weight, multioutput, "mean_squared_error", np.square
    )
    return _average_outputs(per_output, multioutput)


def root_mean_squared_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput="uniform_average",
):
    """RMSE = sqrt(MSE), per output (in the targets' units), then averaged over outputs.

    Parameters as in ``mean_squared_error``.
    """
    per_output, multioutput = _mean_error(
        y_true, y_pred, sample_weight, multioutput, "root_mean_squared_error", np.square
    )
    return _average_outputs(np.sqrt(per_output), multioutput)


def mean_absolute_error(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput="uniform_average",
):
    """MAE = (1/N) sum_n |y_n - o_n|, per output, then averaged over outputs.

    Parameters as in ``mean_squared_error``.
    """
    per_output, multioutput = _mean_error(
        y_true, y_pred, sample_weight, multioutput, "mean_absolute_error", np.abs
    )
    return _average_outputs(per_output, multioutput)


mse = mean_squared_error
rmse = root_mean_squared_error
mae = mean_absolute_error


def r2_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput="uniform_average",
    force_finite: bool = True,
):
    """R^2 = 1 - sum_n (y_n - o_n)^2 / sum_n (y_n - mean(y))^2, per output.

    1.0 is a perfect prediction, 0.0 predicting the mean, negative worse than that. For a
    constant y_true the denominator is 0: with ``force_finite`` (default) R^2 is 1.0 for a
    perfect prediction and 0.0 otherwise (else NaN or -inf). Fewer than two samples give NaN
    with an ``UndefinedMetricWarning``.

    Args:
        y_true, y_pred: shape (N,) or (N, n_outputs).
        sample_weight: weights of shape (N,).
        multioutput: "uniform_average", "raw_values" (shape (n_outputs,)),
            "variance_weighted" (outputs weighted by the variance of y_true) or an array
            of output weights.
    """
    name = "r2_score"
    allowed = ("raw_values", "uniform_average", "variance_weighted")
    y_true, y_pred, weight, multioutput = _check_regression(
        y_true, y_pred, sample_weight, multioutput, name, allowed
    )
    if y_true.shape[0] < 2:
        _warn("R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning)
        return float("nan")
    w = 1.0 if weight is None else weight[:, None]
    numerator = (w * (y_true - y_pred) ** 2).sum(axis=0)
    denominator = (w * (y_true - np.average(y_true, axis=0, weights=weight)) ** 2).sum(axis=0)
    if force_finite:
        # 0/0 (perfect fit of a constant) -> 1.0; x/0 -> 0.0 instead of -inf
        scores = np.ones_like(numerator)
        valid = (denominator != 0) & (numerator != 0)
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[(numerator != 0) & (denominator == 0)] = 0.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        # all outputs constant: every weight is 0, fall back to the plain mean
        multioutput = denominator if np.any(denominator != 0) else "uniform_average"
    with np.errstate(invalid="ignore"):  # -inf scores (force_finite=False) weighted by 0
        return _average_outputs(scores, multioutput)


# ---------------------------------------------------------------------------------------------
# Reports: scikit-learn's classification_report, the slides' course_report, printed tables
# ---------------------------------------------------------------------------------------------


def _report_labels(targets: _Targets, labels, target_names, name: str):
    """The labels, their display names, and whether the micro average is the accuracy."""
    labels_given = labels is not None
    labels = targets.classes if labels is None else _as_numpy(labels).reshape(-1)
    # the micro average equals accuracy only for single-label targets over every class present
    micro_is_accuracy = targets.kind != "multilabel-indicator" and (
        not labels_given or set(labels.tolist()) >= set(targets.classes.tolist())
    )
    if target_names is not None and len(target_names) != labels.size:
        if not labels_given:
            raise ValueError(
                f"{name}: number of classes, {labels.size}, does not match size of "
                f"target_names, {len(target_names)}. Try specifying the labels parameter"
            )
        _warn(
            f"labels size, {labels.size}, does not match size of target_names, {len(target_names)}",
            UserWarning,
        )
    if target_names is None:
        target_names = [str(label) for label in labels.tolist()]
    return labels, list(target_names), micro_is_accuracy


def _average_options(targets: _Targets) -> tuple[str, ...]:
    multilabel = targets.kind == "multilabel-indicator"
    return (
        ("micro", "macro", "weighted", "samples") if multilabel else ("micro", "macro", "weighted")
    )


def _report_rows(y_true, y_pred, labels, target_names, sample_weight, zero_division, name):
    """scikit-learn's report: rows (heading, precision, recall, f1, support), per class then
    per average (the micro row headed "accuracy" when it is one); and how many are classes."""
    targets = _check_targets(y_true, y_pred, name)
    labels, target_names, micro_is_accuracy = _report_labels(targets, labels, target_names, name)
    common = {"labels": labels, "sample_weight": sample_weight, "zero_division": zero_division}
    p, r, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, **common)
    rows = list(zip(target_names, p, r, f1, support, strict=False))
    n_classes = len(rows)
    for average in _average_options(targets):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        averaged = precision_recall_fscore_support(y_true, y_pred, average=average, **common)
        rows.append((heading, *averaged[:3], np.sum(support)))
    return rows, n_classes


def classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division="warn",
):
    """Precision (PPV), recall (TPR), F1 and support of every class, and their averages.

    As scikit-learn's: a text table, or with ``output_dict=True`` a dict
    ``{class name: {"precision", "recall", "f1-score", "support"}, "accuracy": float,
    "macro avg": {...}, "weighted avg": {...}}`` ("micro avg" instead of "accuracy" when
    ``labels`` leaves classes out or the target is multilabel, plus "samples avg" then).
    ``course_report`` adds the slides' TN-based rates (TNR, FPR, NPV) and the counts;
    ``print_classification_report`` prints either as a table.

    Args:
        y_true, y_pred: labels (N,) or multilabel 0/1 indicators (N, L).
        labels: the classes to report, in this order (default: all present, sorted).
        target_names: display names of ``labels``.
        sample_weight: weights of shape (N,).
        digits: decimals of the text table.
        zero_division: as in ``precision_recall_fscore_support``.
    """
    rows, n_classes = _report_rows(
        y_true, y_pred, labels, target_names, sample_weight, zero_division, "classification_report"
    )
    headers = ("precision", "recall", "f1-score", "support")
    if output_dict:
        report = {row[0]: dict(zip(headers, map(float, row[1:]), strict=True)) for row in rows}
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    width = max(*(len(row[0]) for row in rows[:n_classes]), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_format = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for i, row in enumerate(rows):
        if i == n_classes:
            text += "\n"
        if row[0] == "accuracy":  # accuracy is one number: shown in the F1 column
            accuracy_format = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n"
            text += accuracy_format.format("accuracy", "", "", *row[3:], width=width, digits=digits)
        else:
            text += row_format.format(*row, width=width, digits=digits)
    return text


_COURSE_RATES = ("tpr", "fnr", "tnr", "fpr", "ppv", "npv")


def _course_rates(counts: ConfusionCounts, average, zero_division) -> dict:
    rates = {rate: _rate_values(counts, rate, zero_division, average) for rate in _COURSE_RATES}
    rates["f1-score"] = _fbeta_values(counts, 1.0, zero_division, average)
    return rates


def course_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
) -> dict:
    """Every quantity of the slides, per class (one-vs-rest) and averaged, as a dict.

    Per class: the counts "tp", "fp", "fn", "tn"; read by row "tpr" (recall, sensitivity)
    = TP/(TP+FN) and "fnr" (miss rate) = 1 - TPR, "tnr" (specificity) = TN/(TN+FP) and "fpr"
    (false alarm rate) = 1 - TNR; read by column "ppv" (precision) = TP/(TP+FP) and "npv" =
    TN/(TN+FN); "f1-score" and "support" (TP + FN). Then "accuracy" (subset accuracy for
    multilabel targets) and the rates averaged: "micro avg", "macro avg", "weighted avg"
    (by support) and, multilabel, "samples avg". Parameters as in ``classification_report``.
    """
    name = "course_report"
    _check_zero_division(zero_division, name)
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    labels, target_names, _ = _report_labels(targets, labels, target_names, name)
    counts = _class_counts(targets, labels, weight, False, name)
    per_class = {**counts._asdict(), **_course_rates(counts, None, zero_division)}
    per_class["support"] = counts.tp + counts.fn
    report = {
        class_name: {key: values[i].item() for key, values in per_class.items()}
        for i, class_name in enumerate(target_names)
    }
    report["accuracy"] = accuracy_score(y_true, y_pred, sample_weight=sample_weight)
    support = float(np.sum(per_class["support"]))
    rate_keys = (*_COURSE_RATES, "f1-score")
    for average in _average_options(targets):
        if average == "micro":
            summed = ConfusionCounts(*(c.sum(keepdims=True) for c in counts))
            rates = _course_rates(summed, average, zero_division)
            averaged = {key: float(rates[key][0]) for key in rate_keys}
        elif average == "samples":
            by_sample = _class_counts(targets, labels, weight, True, name)
            rates = _course_rates(by_sample, average, zero_division)
            averaged = {key: _nanaverage(rates[key], weight) for key in rate_keys}
        else:
            averaged = {
                key: _average_values(per_class[key], counts, average, weight) for key in rate_keys
            }
        report[f"{average} avg"] = {**averaged, "support": support}
    return report


def _print_table(table, file) -> None:
    """Print a rich table at least at its natural width: a narrow (or non-terminal, 80
    columns) console would otherwise cut the numbers short."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(file=file)
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if natural > console.width:
        console = Console(file=file, width=natural)
    console.print(table)


def _count_text(value, digits: int) -> str:
    """A count as an integer when it is one (weighted counts may not be)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.{digits}f}"


def print_classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    digits: int = 2,
    zero_division="warn",
    course: bool = False,
    file=None,
) -> None:
    """Print ``classification_report`` (or, with ``course=True``, ``course_report``: counts
    and every rate of the slides) as a table, with ``rich``.

    Args:
        file: where to print (default: standard output).
        Other parameters as in ``classification_report``.
    """
    from rich.markup import escape
    from rich.table import Table

    common = {
        "labels": labels,
        "target_names": target_names,
        "sample_weight": sample_weight,
        "zero_division": zero_division,
    }
    if course:
        report = course_report(y_true, y_pred, **common)
        columns = ("tp", "fp", "fn", "tn", *_COURSE_RATES, "f1-score", "support")
        headers = (*(column.upper() for column in columns[:10]), "F1", "support")
        caption = (
            f"accuracy = {report.pop('accuracy'):.{digits}f}; by row: TPR = TP/(TP+FN) = "
            "1 - FNR, TNR = TN/(TN+FP) = 1 - FPR; by column: PPV = TP/(TP+FP), NPV = TN/(TN+FN)"
        )
        title = "Course report (one-vs-rest per class)"
    else:
        report = classification_report(y_true, y_pred, output_dict=True, **common)
        columns = headers = ("precision", "recall", "f1-score", "support")
        accuracy_row = report.get("accuracy")
        if accuracy_row is not None:
            report["accuracy"] = {
                "f1-score": accuracy_row,
                "support": report["macro avg"]["support"],
            }
        caption, title = None, "Classification report"
    table = Table(title=title, caption=caption)
    table.add_column("class", justify="right", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    in_averages = False
    for key, row in report.items():
        if not in_averages and (key == "accuracy" or key.endswith(" avg")):
            table.add_section()
            in_averages = True
        cells = []
        for column in columns:
            if column not in row:
                cells.append("")
            elif column in ("tp", "fp", "fn", "tn", "support"):
                cells.append(_count_text(row[column], digits))
            else:
                cells.append(f"{row[column]:.{digits}f}")
        table.add_row(escape(str(key)), *cells)
    _print_table(table, file)


def print_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: str | None = None,
    digits: int = 2,
    file=None,
) -> None:
    """Print the confusion matrix (rows: true class, columns: predicted) as a table, with
    each row's TPR (recall: read by row) in the last column and each column's PPV
    (precision: read by column) in the last row. Parameters as in ``confusion_matrix``."""
    from rich.markup import escape
    from rich.table import Table

    targets = _check_targets(y_true, y_pred, "print_confusion_matrix")
    labels = targets.classes if labels is None else _as_numpy(labels).reshape(-1)
    names = [str(label) for label in labels.tolist()] if target_names is None else target_names
    if len(names) != labels.size:
        raise ValueError(
            f"print_confusion_matrix: {len(names)} target_names for {labels.size} classes"
        )
    common = {"labels": labels, "sample_weight": sample_weight}
    counts = confusion_matrix(y_true, y_pred, **common)
    shown = confusion_matrix(y_true, y_pred, normalize=normalize, **common)
    diagonal = np.diag(counts)
    row_tpr = _divide(diagonal, counts.sum(axis=1), 0.0, "TPR", "true", None)
    column_ppv = _divide(diagonal, counts.sum(axis=0), 0.0, "PPV", "predicted", None)
    table = Table(title="Confusion matrix (rows: true class, columns: predicted class)")
    table.add_column("true \\ predicted", justify="right", no_wrap=True)
    for class_name in names:
        table.add_column(escape(class_name), justify="right", no_wrap=True)
    table.add_column("TPR (row)", justify="right", no_wrap=True)
    for class_name, row, rate in zip(names, shown, row_tpr, strict=True):
        if normalize is None:
            cells = [_count_text(value, digits) for value in row.tolist()]
        else:
            cells = [f"{value:.{digits}f}" for value in row.tolist()]
        table.add_row(escape(class_name), *cells, f"{rate:.{digits}f}")
    table.add_section()
    table.add_row("PPV (column)", *(f"{rate:.{digits}f}" for rate in column_ppv), "")
    _print_table(table, file)


def predictions_from_scores(
    scores: ArrayLike, threshold: float = 0.5, *, multilabel: bool = False
) -> np.ndarray:
    """Class labels from a model's scores, for the label-based metrics.

    - (N,) or (N, 1) (a sigmoid output / a binary logit): 1 where score > threshold, else 0
      (for logits use ``threshold=0.0``); (N, 1, d1, ...) likewise, giving (N, d1, ...).
    - (N, C) or (N, C, d1, ...) (softmax outputs or logits, PyTorch's class dimension 1):
      the argmax over the classes, of shape (N,) or (N, d1, ...).
    - ``multilabel=True``: every entry thresholded, 0/1 indicators of the scores' shape.

    Returns:
        An int64 array of labels.
    """
    scores = _as_numpy(scores)
    if scores.ndim == 0:
        raise ValueError(
            "predictions_from_scores: scores must have shape (N,), (N, C) or (N, C, d1, ...), "
            "got a scalar"
        )
    if multilabel or scores.ndim == 1:
        return (scores > threshold).astype(np.int64)
    if scores.shape[1] == 1:
        return (scores[:, 0] > threshold).astype(np.int64)
    return scores.argmax(axis=1).astype(np.int64)
