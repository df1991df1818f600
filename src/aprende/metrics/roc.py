"""Metrics of scores rather than labels: the ROC curve, the area under a curve and ROC AUC
(binary, multiclass one-vs-rest or one-vs-one, multilabel); and ``predictions_from_scores``,
the threshold or argmax that turns scores into the labels the other metrics take."""

from __future__ import annotations

import itertools

import numpy as np

from aprende.metrics._checks import (
    ArrayLike,
    UndefinedMetricWarning,
    _as_numpy,
    _check_average,
    _check_lengths,
    _check_weight,
    _is_text,
    _target_type,
    _warn,
)


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
