"""Filling in missing values with a statistic of the training data: ``SimpleImputer``."""

from __future__ import annotations

import numpy as np

from aprende.data.preprocessing import _Fitted

STRATEGIES = ("mean", "median")


class SimpleImputer(_Fitted):
    """Missing values (NaN) replaced by a per-column statistic of the training data.

    As ``sklearn.impute.SimpleImputer(missing_values=np.nan, strategy=...)``: ``fit`` learns, for
    each column j, sⱼ = mean or median of its observed (non-NaN) values; ``transform`` gives
    x'ᵢⱼ = sⱼ where xᵢⱼ is NaN, else xᵢⱼ. Fitted on the training split only, applied unchanged
    to validation, test and new rows. A column with no observed value in the training data is
    a ValueError (scikit-learn drops it with a warning, which would change the width).
    Fitted: ``statistics_`` (D,), ``n_features_in_``.
    """

    _params = ("strategy",)
    _statistics = ("statistics_", "n_features_in_")

    def __init__(self, strategy: str = "mean"):
        if strategy not in STRATEGIES:
            raise ValueError(
                f"SimpleImputer: strategy should be one of {STRATEGIES}, got {strategy!r}"
            )
        self.strategy = strategy

    @staticmethod
    def _array(X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"SimpleImputer: expected a 2-D array (N, D), got shape {X.shape}")
        if np.isinf(X).any():
            raise ValueError("SimpleImputer: X contains infinity (only NaN is a missing value)")
        return X

    def fit(self, X) -> SimpleImputer:
        """Learn each column's mean or median over its non-NaN values in X (N, D)."""
        X = self._array(X)
        empty = np.flatnonzero(np.isnan(X).all(axis=0))
        if empty.size:
            raise ValueError(
                f"SimpleImputer.fit: column(s) {empty.tolist()} have no observed value to take "
                f"the {self.strategy} of"
            )
        reduce = np.nanmean if self.strategy == "mean" else np.nanmedian
        self.statistics_ = reduce(X, axis=0)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """X (N, D) with each NaN replaced by its column's statistic (float64)."""
        self._check_fitted()
        X = self._array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"SimpleImputer: X has {X.shape[1]} features, but SimpleImputer is expecting "
                f"{self.n_features_in_} features as input"
            )
        return np.where(np.isnan(X), self.statistics_, X)
