"""The columns of a table as a model's inputs: numbers imputed, text one-hot encoded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aprende.data.impute import SimpleImputer
from aprende.data.preprocessing import _Fitted, _positions


class TableEncoder(_Fitted):
    """A table (N, D) of numeric and text columns to a matrix of numbers (N, D'), fitted on the
    training split only (what ``sklearn.compose.ColumnTransformer`` does with a
    ``SimpleImputer`` on the numeric columns and a ``OneHotEncoder`` on the text ones).

    - A numeric column keeps its place; a missing value (NaN) becomes the column's training
      mean or median (``strategy``, ``SimpleImputer``'s semantics), or, without a strategy,
      is a ValueError naming the column and row.
    - A text column j is replaced in place by its Kⱼ one-hot columns, its categories sorted as
      ``np.unique`` sorts them (``OneHotEncoder``): x = cₖ gives eₖ. An unseen category is a
      ValueError naming the column and value (``handle_unknown="error"``, scikit-learn's
      default), never a silent row of zeros.

    D' = (D − #text) + Σⱼ Kⱼ. ``rows`` in ``transform`` names the rows in errors (default
    1..N). Fitted: ``statistics_`` (the numeric columns' statistics, or None without a
    strategy), ``categories_`` (one sorted list per text column), ``n_features_in_``,
    ``n_features_out_``.
    """

    _params = ("feature_names", "text_columns", "strategy")
    _statistics = ("n_features_in_", "n_features_out_", "statistics_", "categories_")

    def __init__(
        self,
        feature_names: Sequence[str],
        text_columns: Sequence[int] = (),
        strategy: str | None = None,
    ):
        self.feature_names = list(feature_names)
        self.text_columns = sorted(int(j) for j in text_columns)
        self.strategy = strategy
        if strategy is not None:
            SimpleImputer(strategy)  # checks the name

    def _numeric(self) -> list[int]:
        return [j for j in range(len(self.feature_names)) if j not in self.text_columns]

    def _check_width(self, X: np.ndarray) -> None:
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(
                f"TableEncoder: expected a table (N, {len(self.feature_names)}) of columns "
                f"{self.feature_names}, got shape {X.shape}"
            )

    def fit(self, X) -> TableEncoder:
        """Learn the numeric columns' statistics and the text columns' categories from X."""
        X = np.asarray(X, dtype=object)
        self._check_width(X)
        numeric = X[:, self._numeric()].astype(np.float64)
        if self.strategy is not None:
            imputer = SimpleImputer(self.strategy)
            try:
                imputer.fit(numeric)
            except ValueError:
                empty = [self.feature_names[j] for j in self._numeric()][
                    int(np.flatnonzero(np.isnan(numeric).all(axis=0))[0])
                ]
                raise ValueError(
                    f"TableEncoder.fit: column {empty!r} has no value in the training rows to "
                    f"take the {self.strategy} of"
                ) from None
            self.statistics_ = imputer.statistics_
        else:
            self.statistics_ = None
        self.categories_ = [sorted({str(v) for v in X[:, j]}) for j in self.text_columns]
        self.n_features_in_ = len(self.feature_names)
        self.n_features_out_ = len(self._numeric()) + sum(len(c) for c in self.categories_)
        return self

    def transform(self, X, rows: Sequence[int] | None = None) -> np.ndarray:
        """X (N, D) -> (N, D') float32: numbers imputed, text columns as one-hot blocks."""
        self._check_fitted()
        X = np.asarray(X, dtype=object)
        self._check_width(X)
        rows = list(rows) if rows is not None else list(range(1, len(X) + 1))
        numeric = self._numeric()
        values = X[:, numeric].astype(np.float64)
        gaps = np.isnan(values)
        if gaps.any():
            if self.statistics_ is None:
                i, k = (int(a[0]) for a in np.nonzero(gaps))
                raise ValueError(
                    f"column {self.feature_names[numeric[k]]!r} row {rows[i]} has a missing "
                    "value, and the run was trained without imputation"
                )
            values = np.where(gaps, np.asarray(self.statistics_), values)
        blocks = {j: values[:, [k]] for k, j in enumerate(numeric)}
        for j, categories in zip(self.text_columns, self.categories_, strict=True):
            cells = X[:, j].astype(str)
            known_categories = np.asarray(categories)
            index, known = _positions(known_categories, cells)
            if not known.all():
                i = int(np.flatnonzero(~known)[0])
                raise ValueError(
                    f"column {self.feature_names[j]!r} row {rows[i]}: unknown category "
                    f"{str(cells[i])!r}; the training split holds {categories}"
                )
            block = np.zeros((len(X), len(categories)))
            block[np.arange(len(X)), index] = 1
            blocks[j] = block
        out = [blocks[j] for j in range(len(self.feature_names))]
        return np.concatenate(out, axis=1).astype(np.float32) if out else np.zeros((len(X), 0))

    def _restore(self) -> None:
        if self.statistics_ is not None:
            self.statistics_ = np.asarray(self.statistics_, dtype=np.float64)
        self.categories_ = [list(c) for c in self.categories_]
