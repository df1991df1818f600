"""Per-element classification (a class per pixel or position, e.g. segmentation masks):
pixel accuracy, the IoU of each class and the mean IoU."""

from __future__ import annotations

import numpy as np

from aprende.metrics._checks import ArrayLike, _as_numpy, _check_zero_division
from aprende.metrics.rates import _divide, _nanaverage


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
