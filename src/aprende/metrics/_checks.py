"""Input checks shared by every metric: labels, scores and weights made NumPy arrays and
checked, the task a target poses (scikit-learn's ``type_of_target``), the ``average`` and
``zero_division`` arguments, and warnings attributed to the user's line."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, NamedTuple

import numpy as np

from aprende import backend

ArrayLike = Any  # a list, a NumPy array or an aprende.Tensor

_AVERAGES = (None, "micro", "macro", "weighted", "samples")


class UndefinedMetricWarning(UserWarning):
    """A metric was ill-defined (e.g. a division by zero) and set to a fixed value."""


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


_PACKAGE_DIR = os.path.dirname(__file__)


def _warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside this package (the user's
    line), however deep inside the metrics the warning arises."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _check_average(average, name: str, allowed=(*_AVERAGES, "binary")) -> None:
    if average not in allowed:
        raise ValueError(f"{name}: average has to be one of {allowed}, got {average!r}")
