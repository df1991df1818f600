"""Rates from the confusion counts: TPR (recall), FNR, TNR, FPR, PPV (precision), NPV,
F-beta, F1 and Jaccard, with the slides' names for them; accuracy, balanced accuracy and the
Hamming loss. Also the division that sets a 0/0 to ``zero_division`` and the averages over
classes (``average=``) that every rate shares."""

from __future__ import annotations

import numpy as np

from aprende.metrics._checks import (
    ArrayLike,
    UndefinedMetricWarning,
    _check_targets,
    _check_weight,
    _check_zero_division,
    _warn,
)
from aprende.metrics.confusion import ConfusionCounts, _set_wise_counts, confusion_matrix

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
