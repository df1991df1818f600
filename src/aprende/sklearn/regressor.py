"""``MLPRegressor``: scikit-learn's multilayer-perceptron regressor, trained by aprende."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from aprende import nn
from aprende.sklearn._mlp import BaseMLP


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multilayer perceptron regressor with ``sklearn.neural_network.MLPRegressor``'s
    parameters, trained with aprende's ``nn.MLP`` (linear output units) and ``MSELoss``.

    y of shape (n_samples,) gives one output, (n_samples, k) k outputs (multi-output
    regression); ``predict`` returns the same shape (a single column as (n_samples,), as
    scikit-learn). ``alpha`` is the L2 penalty as PyTorch's ``weight_decay``. Fitted
    attributes as ``MLPClassifier``'s, without ``classes_``.
    """

    _stratify = False

    def _validate_targets(self, X, y, first: bool, classes=None):
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
        )
        dtype = np.float64 if X.dtype == np.float64 else np.float32
        y = np.asarray(y, dtype=dtype)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self._n_outputs = y.shape[1]
        elif y.shape[1] != self._n_outputs:
            raise ValueError(f"y has {y.shape[1]} outputs; the model was fitted with "
                             f"{self._n_outputs}")  # fmt: skip
        return X, y

    def _criterion(self) -> nn.Module:
        return nn.MSELoss()

    def partial_fit(self, X, y):
        """One epoch over (X, y), building the network at the first call; returns self."""
        return self._fit(X, y, incremental=hasattr(self, "model_"), epochs=1)

    def predict(self, X) -> np.ndarray:
        """The predicted values: (n_samples,) for one output, else (n_samples, n_outputs)."""
        out = self._outputs(X)
        return out.ravel() if out.shape[1] == 1 else out
