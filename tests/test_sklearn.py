"""aprende.sklearn: MLPClassifier and MLPRegressor as scikit-learn estimators."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
# The short trainings here stop at max_iter on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_classification, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from aprende import nn  # noqa: E402
from aprende.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Small networks and a larger step keep the ~110 checks at a few seconds; the defaults pass
# them too (measured: 8.7 s for both estimators against 5 s with these).
SMALL = {"hidden_layer_sizes": (16,), "learning_rate_init": 0.01, "random_state": 0}


@parametrize_with_checks(
    [MLPClassifier(max_iter=100, **SMALL), MLPRegressor(max_iter=200, **SMALL)],
    expected_failed_checks=lambda estimator: {},
)
def test_scikit_learn_estimator_checks(estimator, check):
    """Every check of scikit-learn's ``check_estimator``; none is expected to fail."""
    check(estimator)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


def test_string_labels_probabilities_and_the_aprende_model():
    X, y = _iris()
    model = MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(model.predict(X)) <= set(model.classes_) and model.score(X, y) > 0.95
    p = model.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(p))
    assert isinstance(model.model_, nn.MLP) and not model.model_.training
    assert model.n_features_in_ == 4 and model.n_iter_ == len(model.loss_curve_)
    assert model.best_loss_ == min(model.loss_curve_)


def test_a_refit_with_the_same_seed_gives_the_same_model():
    X, y = _iris()
    model = MLPClassifier((8,), max_iter=20, random_state=3)
    first = model.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(model.fit(X, y).predict_proba(X), first)
    other = MLPClassifier((8,), max_iter=20, random_state=4).fit(X, y).predict_proba(X)
    assert not np.array_equal(other, first)


def test_binary_multilabel_and_multioutput_targets():
    X, y = make_classification(200, 6, random_state=0)
    binary = MLPClassifier((16,), max_iter=200, learning_rate_init=0.01, random_state=0)
    assert binary.fit(X, y).score(X, y) > 0.9 and binary.predict_proba(X).shape == (200, 2)
    Y = np.column_stack([y, X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    multilabel = clone(binary).fit(X, Y)
    assert multilabel.predict(X).shape == (200, 3) and multilabel.score(X, Y) > 0.6
    assert multilabel.predict_proba(X).shape == (200, 3)
    X, Y = make_regression(200, 5, n_targets=2, noise=1, random_state=0)
    regressor = MLPRegressor((32,), learning_rate_init=0.01, max_iter=500, random_state=0)
    regressor.fit(X, Y / Y.std())
    assert regressor.predict(X).shape == (200, 2) and regressor.score(X, Y / Y.std()) > 0.9


def test_pipeline_grid_search_and_cross_validation():
    X, y = _iris()
    classifier = MLPClassifier(learning_rate_init=0.01, max_iter=100, random_state=0)
    pipeline = make_pipeline(StandardScaler(), classifier)
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3).fit(
        X, y
    )
    assert search.best_score_ > 0.9
    assert cross_val_score(classifier, X, y, cv=3).mean() > 0.9


def test_pickle_and_clone_and_partial_fit_after_unpickling():
    X, y = _iris()
    model = MLPClassifier((8,), max_iter=30, solver="sgd", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    model.partial_fit(X, y)
    restored.partial_fit(X, y)  # the optimizer's momentum came through the pickle
    np.testing.assert_allclose(restored.predict_proba(X), model.predict_proba(X), rtol=1e-10)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "model_")


def test_partial_fit_needs_the_classes_first_and_counts_epochs():
    X, y = _iris()
    model = MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    for _ in range(3):
        model.partial_fit(X, y, classes=np.unique(y))
    assert model.n_iter_ == 3 and len(model.loss_curve_) == 3


def test_early_stopping_scores_a_validation_split():
    X, y = _iris()
    model = MLPClassifier((8,), early_stopping=True, n_iter_no_change=3, random_state=0)
    model.fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ < 200
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_a_bad_parameter_names_itself():
    with pytest.raises(ValueError, match="'activation' parameter of MLPClassifier"):
        MLPClassifier(activation="softplus").fit(*_iris())
