"""``MLPClassifier``: scikit-learn's multilayer-perceptron classifier, trained by aprende."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from aprende import nn
from aprende.sklearn._mlp import BaseMLP


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multilayer perceptron classifier with ``sklearn.neural_network.MLPClassifier``'s
    parameters (``hidden_layer_sizes``, ``activation``, ``solver`` "adam"/"sgd", ``alpha``,
    ``batch_size``, ``learning_rate_init``, ``max_iter``, ``early_stopping``, ...), trained with
    aprende's ``nn.MLP`` and optimizers.

    Binary targets get one output and ``BCEWithLogitsLoss`` (a logistic output unit), C > 2
    classes C outputs and ``CrossEntropyLoss`` (softmax), an indicator matrix (multi-label) one
    sigmoid output per label. Labels may be any values (strings too): ``classes_`` holds them.
    ``alpha`` is the L2 penalty as PyTorch's ``weight_decay`` (the gradient gains αw).

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_`` (when X has
    column names), ``loss_curve_``, ``best_loss_``, ``n_iter_``, ``t_``, ``validation_scores_``
    and ``best_validation_score_`` (with ``early_stopping``), ``model_`` (the ``nn.MLP``).
    """

    def _validate_targets(self, X, y, first: bool, classes=None):
        X, y = validate_data(
            self, X, y, reset=first, multi_output=True, dtype=(np.float64, np.float32)
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            binarizer = LabelBinarizer().fit(y if classes is None else classes)
            if len(binarizer.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes to train; y has one class, "
                    f"{binarizer.classes_[0]!r}"
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
            self._multilabel = type_of_target(y) == "multilabel-indicator"
            self._n_outputs = (
                1 if len(self.classes_) == 2 and not self._multilabel else len(self.classes_)
            )
        elif not set(np.unique(y)) <= set(self.classes_) and not self._multilabel:
            raise ValueError(
                f"y holds labels {sorted(set(np.unique(y)) - set(self.classes_))} not in "
                f"classes_ {list(self.classes_)}"
            )
        dtype = np.float64 if X.dtype == np.float64 else np.float32
        if self._multilabel:
            return X, np.asarray(y, dtype=dtype)
        if self._n_outputs == 1:
            return X, (y == self.classes_[1]).astype(dtype).reshape(-1, 1)
        return X, np.searchsorted(self.classes_, y).astype(np.int64)

    def _criterion(self) -> nn.Module:
        if self._multilabel or self._n_outputs == 1:
            return nn.BCEWithLogitsLoss()
        return nn.CrossEntropyLoss()

    @property
    def _stratify(self) -> bool:
        """The early-stopping split keeps the class proportions (not for multi-label)."""
        return not self._multilabel

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y) (a network is built at the first call; ``classes``, every label
        that will ever come, is required then); returns self."""
        first = not hasattr(self, "model_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit (every label that "
                "any later call may hold)"
            )
        return self._fit(X, y, incremental=not first, classes=classes, epochs=1)

    def predict_proba(self, X) -> np.ndarray:
        """P(class | x): (n_samples, n_classes), rows summing to 1; multi-label: each label's
        probability, (n_samples, n_labels)."""
        scores = self._outputs(X)
        if self._multilabel:
            return 1 / (1 + np.exp(-scores))
        if self._n_outputs == 1:
            p = 1 / (1 + np.exp(-scores))
            return np.hstack([1 - p, p])
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """log P(class | x), as ``np.log(predict_proba(X))``."""
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row (multi-label: the indicator of p > 0.5)."""
        p = self.predict_proba(X)
        if self._multilabel:
            return (p > 0.5).astype(int)
        return self.classes_[np.argmax(p, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
