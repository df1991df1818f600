"""Preprocessing, fitted on the training split only: normalisation, decorrelation, label coding.

The slides' normalisation of the inputs: z-norm (``StandardScaler``), min-max (``MinMaxScaler``)
and decorrelation (``PCAWhitening``). Each learns its statistics with ``fit`` on the training data
and applies them unchanged to validation and test data (fitting on all the data would leak the
test split into training). scikit-learn's names and semantics: ``fit``, ``transform``,
``fit_transform``, ``inverse_transform``, fitted attributes ending in ``_``.

Inputs are NumPy arrays or Tensors; outputs are of the same kind, with the input's floating dtype
(integer inputs give float64 arrays or default-dtype Tensors). Statistics are computed in float64.
``state_dict()`` returns the parameters and the fitted statistics as NumPy arrays and JSON-able
values, saved with a model's checkpoint; ``load_state_dict`` restores them.
"""

from __future__ import annotations

import numpy as np

from aprende import backend
from aprende._tensor import Tensor


class NotFittedError(RuntimeError):
    """A preprocessor was used before ``fit`` (scikit-learn's NotFittedError)."""


def _handle_zeros_in_scale(scale: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scales of constant features become 1, so they map to a constant, not to NaN."""
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(reference), 1.0)
    return np.where(scale <= tiny, 1.0, scale)


def _state_value(value):
    """A fitted value as a numeric NumPy array or a JSON-able Python value: arrays of strings
    and sequences (of arrays) become lists, NumPy scalars Python numbers."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.copy()
    if isinstance(value, tuple | list):
        return [v.tolist() if isinstance(v, np.ndarray) else _state_value(v) for v in value]
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


class _Fitted:
    """Shared machinery: the not-fitted check and the state dict of params and statistics."""

    _params: tuple[str, ...] = ()
    _statistics: tuple[str, ...] = ()

    def _check_fitted(self) -> None:
        if not hasattr(self, self._statistics[0]):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet: call fit with the "
                "training data before using it"
            )

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def state_dict(self) -> dict:
        """Parameters and fitted statistics: NumPy arrays and JSON-able values."""
        self._check_fitted()
        return {name: _state_value(getattr(self, name)) for name in self._params + self._statistics}

    def load_state_dict(self, state: dict) -> None:
        """Restores what ``state_dict`` returned (every key expected, no other)."""
        expected = set(self._params + self._statistics)
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for name in self._params + self._statistics:
            value = state[name]
            setattr(self, name, np.array(value) if isinstance(value, np.ndarray) else value)
        self._restore()

    def _restore(self) -> None:
        """Rebuilds derived values after ``load_state_dict`` (nothing by default)."""


class _Scaler(_Fitted):
    """Numeric preprocessors on (N, D) data: input checks and output of the input's kind."""

    def _input(self, X, fitting: bool = False, width: str = "n_features_in_"):
        """X as float64 (N, D), and a function giving a result of X's kind and dtype.

        Unless fitting, X must have as many columns as the fitted attribute ``width`` says.
        """
        name = type(self).__name__
        is_tensor = isinstance(X, Tensor)
        array = np.asarray(backend.to_numpy(X.data if is_tensor else X))
        if array.ndim != 2:
            raise ValueError(
                f"{name}: expected a 2-D array (n_samples, n_features), got shape {array.shape}; "
                "reshape a single feature with X.reshape(-1, 1)"
            )
        if not fitting:
            self._check_fitted()
            expected = getattr(self, width)
            if array.shape[1] != expected:
                raise ValueError(
                    f"{name}: X has {array.shape[1]} features, but {name} is expecting "
                    f"{expected} features as input"
                )
        if np.issubdtype(array.dtype, np.floating):
            dtype = array.dtype
        else:
            dtype = backend.get_default_dtype() if is_tensor else np.float64
        device = X.device if is_tensor else None

        def wrap(result: np.ndarray):
            result = result.astype(dtype, copy=False)
            return Tensor(backend.move(result, device)) if is_tensor else result

        array = array.astype(np.float64)
        if fitting and not np.all(np.isfinite(array)):
            raise ValueError(f"{name}.fit: X contains NaN or infinity")
        return array, wrap


class StandardScaler(_Scaler):
    """z-norm: x' = (x − μ) / σ per feature, μ and σ (ddof 0) from the training data.

    As ``sklearn.preprocessing.StandardScaler(with_mean=True, with_std=True)``: a constant
    feature (σ = 0) gets scale 1, so it maps to 0 instead of NaN.
    Fitted: ``mean_`` (D,), ``var_`` (D,), ``scale_`` (D,), ``n_features_in_``,
    ``n_samples_seen_``.
    """

    _params = ("with_mean", "with_std")
    _statistics = ("mean_", "var_", "scale_", "n_features_in_", "n_samples_seen_")

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X) -> StandardScaler:
        """Learn μ and σ from the training data X (N, D)."""
        X, _ = self._input(X, fitting=True)
        self.mean_ = X.mean(axis=0)
        self.var_ = X.var(axis=0)
        self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_), self.mean_)
        self.n_features_in_, self.n_samples_seen_ = X.shape[1], X.shape[0]
        return self

    def transform(self, X):
        """(x − μ) / σ."""
        X, wrap = self._input(X)
        if self.with_mean:
            X = X - self.mean_
        return wrap(X / self.scale_ if self.with_std else X)

    def inverse_transform(self, X):
        """x' · σ + μ."""
        X, wrap = self._input(X)
        if self.with_std:
            X = X * self.scale_
        return wrap(X + self.mean_ if self.with_mean else X)


class MinMaxScaler(_Scaler):
    """Min-max: x' = a + (x − min) · (b − a) / (max − min), per feature, into (a, b).

    As ``sklearn.preprocessing.MinMaxScaler(feature_range=(0, 1), clip=False)``: a constant
    feature (max = min) maps to a, not NaN; ``clip`` clips transformed values to the range.
    Fitted: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_`` (each (D,)),
    with x' = x · ``scale_`` + ``min_``.
    """

    _params = ("feature_range", "clip")
    _statistics = ("data_min_", "data_max_", "data_range_", "scale_", "min_", "n_features_in_")

    def __init__(self, feature_range: tuple[float, float] = (0, 1), clip: bool = False):
        if feature_range[0] >= feature_range[1]:
            raise ValueError(
                "MinMaxScaler: minimum of desired feature range must be smaller than maximum, "
                f"got {tuple(feature_range)}"
            )
        self.feature_range = tuple(feature_range)
        self.clip = clip

    def fit(self, X) -> MinMaxScaler:
        """Learn each feature's min and max from the training data X (N, D)."""
        X, _ = self._input(X, fitting=True)
        low, high = self.feature_range
        self.data_min_, self.data_max_ = X.min(axis=0), X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _handle_zeros_in_scale(self.data_range_, self.data_max_)
        self.min_ = low - self.data_min_ * self.scale_
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """x · scale + min (values outside the training range fall outside (a, b))."""
        X, wrap = self._input(X)
        X = X * self.scale_ + self.min_
        return wrap(np.clip(X, *self.feature_range) if self.clip else X)

    def inverse_transform(self, X):
        """(x' − min) / scale."""
        X, wrap = self._input(X)
        return wrap((X - self.min_) / self.scale_)

    def _restore(self) -> None:
        self.feature_range = tuple(self.feature_range)


class PCAWhitening(_Scaler):
    """Decorrelation by PCA whitening: z = Uₖᵀ (x − μ) / √(λ + eps).

    Σ = (X − μ)ᵀ(X − μ) / (N − 1) is the training data's covariance, λ its eigenvalues in
    decreasing order and U the eigenvectors (each flipped so its largest entry is positive). The
    whitened training data has identity covariance (up to λ / (λ + eps), eps keeps
    near-constant directions finite). ``n_components`` keeps the k leading directions
    (dimension reduction): an int k, or a fraction in (0, 1) of the variance to keep.

    Fitted: ``mean_`` (D,), ``components_`` (k, D) (rows are directions), ``explained_variance_``
    (k,) (λ), ``explained_variance_ratio_`` (k,), ``n_components_``, ``n_features_in_``.
    ``inverse_transform`` maps z back to x (exactly when k = D, else the projection onto the
    kept directions).
    """

    _params = ("n_components", "eps")
    _statistics = (
        "mean_",
        "components_",
        "explained_variance_",
        "explained_variance_ratio_",
        "n_components_",
        "n_features_in_",
    )

    def __init__(self, n_components: int | float | None = None, eps: float = 1e-5):
        if eps < 0:
            raise ValueError(f"PCAWhitening: eps should be non-negative, got {eps}")
        self.n_components = n_components
        self.eps = eps

    def _keep(self, variances: np.ndarray) -> int:
        """How many directions ``n_components`` keeps."""
        d, k = len(variances), self.n_components
        if k is None:
            return d
        if isinstance(k, float) and 0 < k < 1:
            ratios = np.cumsum(variances) / max(variances.sum(), np.finfo(np.float64).tiny)
            return int(min(np.searchsorted(ratios, k) + 1, d))
        if isinstance(k, int | np.integer) and not isinstance(k, bool) and 1 <= k <= d:
            return int(k)
        raise ValueError(
            f"PCAWhitening: n_components should be None, an int in [1, {d}] or a fraction in "
            f"(0, 1), got {k!r}"
        )

    def fit(self, X) -> PCAWhitening:
        """Learn μ, the eigenvectors and eigenvalues of Σ from the training data X (N, D)."""
        X, _ = self._input(X, fitting=True)
        if X.shape[0] < 2:
            raise ValueError(f"PCAWhitening.fit: needs at least 2 samples, got {X.shape[0]}")
        self.mean_ = X.mean(axis=0)
        centered = X - self.mean_
        variances, vectors = np.linalg.eigh(centered.T @ centered / (X.shape[0] - 1))
        variances, vectors = np.clip(variances[::-1], 0.0, None), vectors[:, ::-1]
        signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])])
        vectors = vectors * np.where(signs == 0, 1.0, signs)
        k = self._keep(variances)
        self.components_ = vectors[:, :k].T.copy()
        self.explained_variance_ = variances[:k]
        total = variances.sum()
        self.explained_variance_ratio_ = variances[:k] / total if total > 0 else np.zeros(k)
        self.n_components_, self.n_features_in_ = k, X.shape[1]
        return self

    def transform(self, X):
        """z = (x − μ) Uₖ / √(λ + eps): (N, D) -> (N, k)."""
        X, wrap = self._input(X)
        projected = (X - self.mean_) @ self.components_.T
        return wrap(projected / np.sqrt(self.explained_variance_ + self.eps))

    def inverse_transform(self, Z):
        """x = z · √(λ + eps) Uₖᵀ + μ: (N, k) -> (N, D)."""
        Z, wrap = self._input(Z, width="n_components_")
        scaled = Z * np.sqrt(self.explained_variance_ + self.eps)
        return wrap(scaled @ self.components_ + self.mean_)


def _labels(y, owner: str, ndim: tuple[int, ...] = (1,)):
    """Labels as a NumPy array (any dtype: ints, strings, ...), and whether they were a Tensor."""
    is_tensor = isinstance(y, Tensor)
    array = np.asarray(backend.to_numpy(y.data if is_tensor else y))
    if array.ndim not in ndim:
        raise ValueError(
            f"{owner}: expected a {' or '.join(f'{d}-D' for d in ndim)} array, "
            f"got shape {array.shape}"
        )
    return array, is_tensor


def _positions(categories: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each value in the sorted ``categories``, and whether it is there at all."""
    index = np.searchsorted(categories, values)
    clipped = np.minimum(index, len(categories) - 1)
    known = (index < len(categories)) & (categories[clipped] == values)
    return clipped, known


def one_hot(labels, num_classes: int = -1):
    """One-hot coding of class indices, as ``torch.nn.functional.one_hot``.

    ``labels`` (*) of integers in [0, C) gives (*, C) int64 with a 1 at each label's position;
    ``num_classes=-1`` takes C = max(labels) + 1. A Tensor gives a Tensor, an array an array.
    """
    is_tensor = isinstance(labels, Tensor)
    array = labels.data if is_tensor else np.asarray(labels)
    xp = backend.get_array_module(array)
    if not np.issubdtype(array.dtype, np.integer):
        raise RuntimeError(f"one_hot: expected integer class indices, got dtype {array.dtype}")
    if num_classes == -1:
        num_classes = int(array.max()) + 1 if array.size else 0
    if array.size and (int(array.min()) < 0 or int(array.max()) >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, num_classes={num_classes}), got values in "
            f"[{int(array.min())}, {int(array.max())}]"
        )
    coded = xp.eye(num_classes, dtype=np.int64)[array]
    return Tensor(coded) if is_tensor else coded


class OneHotEncoder(_Fitted):
    """One-hot coding of categorical values (numbers or strings), as scikit-learn's encoder.

    ``fit`` learns the sorted categories of each column; ``transform`` maps X (N, F) to
    (N, K₁ + ... + K_F) with a 1 in each column's block at its category. A 1-D X (N,) of labels
    is taken as one column (scikit-learn asks for (N, 1)), giving the {0,1}ᶜ targets of the
    slides. ``handle_unknown="ignore"`` codes an unseen category as all zeros ("error" raises).
    Output dtype ``dtype`` (float32, the framework's default, where scikit-learn uses float64);
    a Tensor in gives a Tensor out. Fitted: ``categories_``, a list of arrays, one per column.
    """

    _params = ("handle_unknown", "dtype")
    _statistics = ("categories_", "n_features_in_", "input_is_1d_")

    def __init__(self, handle_unknown: str = "error", dtype=np.float32):
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(
                "OneHotEncoder: handle_unknown should be 'error' or 'ignore', "
                f"got {handle_unknown!r}"
            )
        self.handle_unknown = handle_unknown
        self.dtype = np.dtype(dtype).name

    def _columns(self, X) -> tuple[np.ndarray, bool]:
        X, is_tensor = _labels(X, "OneHotEncoder", ndim=(1, 2))
        return (X[:, None] if X.ndim == 1 else X), is_tensor

    def fit(self, X) -> OneHotEncoder:
        """Learn the categories of each column of X (N, F) or (N,)."""
        input_is_1d = np.ndim(np.asarray(X)) == 1
        X, _ = self._columns(X)
        self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
        self.n_features_in_, self.input_is_1d_ = X.shape[1], input_is_1d
        return self

    def transform(self, X):
        """(N, F) or (N,) -> (N, ΣKⱼ) one-hot blocks."""
        self._check_fitted()
        X, is_tensor = self._columns(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"OneHotEncoder: X has {X.shape[1]} features, but OneHotEncoder is expecting "
                f"{self.n_features_in_} features as input"
            )
        blocks = []
        for j, categories in enumerate(self.categories_):
            index, known = _positions(categories, X[:, j])
            if self.handle_unknown == "error" and not known.all():
                raise ValueError(
                    f"OneHotEncoder: found unknown categories {np.unique(X[~known, j]).tolist()} "
                    f"in column {j} during transform; known: {categories.tolist()}"
                )
            block = np.zeros((len(X), len(categories)), dtype=self.dtype)
            block[np.flatnonzero(known), index[known]] = 1
            blocks.append(block)
        coded = np.concatenate(blocks, axis=1)
        return Tensor(coded) if is_tensor else coded

    def inverse_transform(self, Y):
        """One-hot blocks back to categories (the arg-max of each block); an all-zero block
        (an unknown category under ``handle_unknown="ignore"``) gives None."""
        self._check_fitted()
        Y, _ = _labels(Y, "OneHotEncoder.inverse_transform", ndim=(2,))
        widths = [len(c) for c in self.categories_]
        if Y.shape[1] != sum(widths):
            raise ValueError(
                f"OneHotEncoder.inverse_transform: expected {sum(widths)} columns, got {Y.shape[1]}"
            )
        columns = []
        for categories, block in zip(
            self.categories_, np.split(Y, np.cumsum(widths)[:-1], axis=1), strict=True
        ):
            values = categories[block.argmax(axis=1)]
            empty = block.max(axis=1) <= 0
            if empty.any():
                values = values.astype(object)
                values[empty] = None
            columns.append(values)
        X = np.stack(columns, axis=1) if len(columns) > 1 else columns[0][:, None]
        return X[:, 0] if self.input_is_1d_ else X

    def _restore(self) -> None:
        self.categories_ = [np.asarray(c) for c in self.categories_]


class LabelEncoder(_Fitted):
    """Class labels (numbers or strings) to indices 0..C−1, as scikit-learn's LabelEncoder.

    ``classes_`` holds the sorted distinct labels; ``transform`` gives each label's position there
    (int64), ``inverse_transform`` the labels back. A Tensor in gives a Tensor out.
    """

    _statistics = ("classes_",)

    def fit(self, y) -> LabelEncoder:
        """Learn the sorted distinct labels of y (N,)."""
        y, _ = _labels(y, "LabelEncoder")
        self.classes_ = np.unique(y)
        return self

    def transform(self, y):
        """Labels (N,) -> indices (N,) in [0, C)."""
        self._check_fitted()
        y, is_tensor = _labels(y, "LabelEncoder")
        index, known = _positions(self.classes_, y)
        if not known.all():
            unseen = np.unique(y[~known]).tolist()
            raise ValueError(f"LabelEncoder: y contains previously unseen labels: {unseen}")
        index = index.astype(np.int64)
        return Tensor(index) if is_tensor else index

    def inverse_transform(self, y):
        """Indices (N,) in [0, C) -> labels (N,)."""
        self._check_fitted()
        y, _ = _labels(y, "LabelEncoder.inverse_transform")
        if y.size and (
            not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(self.classes_)
        ):
            raise ValueError(
                f"LabelEncoder.inverse_transform: expected indices in [0, {len(self.classes_)}), "
                f"got {np.unique(y).tolist()[:10]}"
            )
        return self.classes_[y]

    def _restore(self) -> None:
        self.classes_ = np.asarray(self.classes_)
