"""Regression metrics: MSE, RMSE, MAE and R^2, per output and averaged over outputs."""

from __future__ import annotations

import numpy as np

from aprende.metrics._checks import (
    ArrayLike,
    UndefinedMetricWarning,
    _as_numpy,
    _check_lengths,
    _check_weight,
    _warn,
)


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
