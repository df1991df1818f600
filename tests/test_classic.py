"""The perceptron and ADALINE against their rules written out, least squares and sklearn."""

import warnings

import numpy as np
import pytest

import aprende
from aprende.classic import Adaline, ConvergenceWarning, NotFittedError, Perceptron


def blobs(n=40, d=2, gap=2.0, seed=0):
    """Two Gaussian clouds around −gap and +gap: separable for gap = 2 and this seed."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(-gap, 1.0, (n, d)), rng.normal(gap, 1.0, (n, d))])
    return X, np.r_[np.zeros(n), np.ones(n)]


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def test_perceptron_converges_on_separable_blobs():
    X, y = blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converging must not warn
        model = Perceptron().fit(X, y)
    assert model.converged_
    assert model.errors_[-1] == 0 and len(model.errors_) == model.n_epochs_
    assert model.n_epochs_ < model.max_epochs
    assert model.score(X, y) == 1.0
    # Every point lies strictly on its side of the learned hyperplane.
    a = X @ model.coef_ + model.intercept_
    assert np.all(np.where(y == 1, a, -a) > 0)
    np.testing.assert_array_equal(model.decision_function(X), a)


def rosenblatt(X, y, lr, max_epochs):
    """The rule written out, in the {0, 1} form of the slides: w ← w + η (y − ŷ) x, with a point
    on the hyperplane counted as a mistake; examples in order, until an epoch without mistakes.
    Returns the (w, b) at the end of each epoch and the mistakes made in each epoch."""
    w, b, weights, errors = np.zeros(X.shape[1]), 0.0, [], []
    while len(errors) < max_epochs and (not errors or errors[-1] > 0):
        mistakes = 0
        for x_n, y_n in zip(X, y, strict=True):
            a = x_n @ w + b
            y_hat = 1 - y_n if a == 0 else float(a > 0)
            w, b = w + lr * (y_n - y_hat) * x_n, b + lr * (y_n - y_hat)
            mistakes += int(y_hat != y_n)
        weights.append((w, b))
        errors.append(mistakes)
    return weights, errors


def test_perceptron_follows_rosenblatts_rule_step_by_step():
    X, y = blobs(n=15, d=3, gap=1.5, seed=4)
    weights, errors = rosenblatt(X, y, lr=0.5, max_epochs=100)
    model = Perceptron(lr=0.5, shuffle=False).fit(X, y)
    assert len(errors) > 2  # the test exercises several epochs
    assert model.errors_ == errors
    np.testing.assert_allclose(model.coef_, weights[-1][0])
    np.testing.assert_allclose(model.intercept_, weights[-1][1])


def test_perceptron_keeps_the_epoch_weights_with_fewest_errors_when_not_separable():
    X, y = blobs(n=30, gap=0.5, seed=0)  # overlapping clouds
    weights, errors = rosenblatt(X, y, lr=1.0, max_epochs=15)
    train_errors = [np.sum((X @ w + b > 0) != (y == 1)) for w, b in weights]
    best_w, best_b = weights[int(np.argmin(train_errors))]
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        model = Perceptron(shuffle=False, max_epochs=15).fit(X, y)
    assert model.errors_ == errors and not model.converged_
    np.testing.assert_allclose(model.coef_, best_w)
    np.testing.assert_allclose(model.intercept_, best_b)
    assert model.score(X, y) == pytest.approx(1 - min(train_errors) / len(y))


def test_perceptron_warns_on_xor():
    with pytest.warns(ConvergenceWarning, match="not linearly separable"):
        model = Perceptron(max_epochs=20).fit(XOR_X, XOR_Y)
    assert not model.converged_ and model.n_epochs_ == 20
    assert all(e > 0 for e in model.errors_)
    assert model.score(XOR_X, XOR_Y) <= 0.75  # no line gets all four XOR points right


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1), ("no", "sí")])
def test_label_sets_are_mapped_and_returned(labels):
    X, y = blobs()
    y_labels = np.where(y == 1, labels[1], labels[0])
    for model in (Perceptron(), Adaline(mode="batch", lr=0.1, max_epochs=500)):
        model.fit(X, y_labels)
        assert model.classes_.tolist() == sorted(labels)
        np.testing.assert_array_equal(model.predict(X), y_labels)


def test_seeded_shuffling_is_deterministic():
    X, y = blobs(gap=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = Perceptron(max_epochs=5, seed=7).fit(X, y)
        again = Perceptron(max_epochs=5, seed=7).fit(X, y)
        other = Perceptron(max_epochs=5, seed=8).fit(X, y)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert first.errors_ == again.errors_
    assert not np.array_equal(first.coef_, other.coef_)


def test_perceptron_matches_sklearn():
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y = blobs(n=40, d=3, gap=1.5, seed=1)
    ours = Perceptron(shuffle=False, max_epochs=50).fit(X, y)
    theirs = sklearn_linear.Perceptron(shuffle=False, max_iter=50, tol=None).fit(X, y)
    assert ours.score(X, y) == theirs.score(X, y) == 1.0
    # Same rule, same order, same η = 1, both start from zero: the very same hyperplane.
    np.testing.assert_allclose(ours.coef_, theirs.coef_[0])
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_[0])


def least_squares(X, y):
    """The minimiser of Σ (±1 target − (wᵀx + b))², the point the LMS rule converges to."""
    solution = np.linalg.lstsq(np.c_[X, np.ones(len(X))], 2.0 * y - 1.0, rcond=None)[0]
    return solution[:-1], solution[-1]


def standardized_blobs():
    X, y = blobs(n=50, gap=1.0, seed=2)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_adaline_batch_reaches_least_squares_and_cost_decreases():
    X, y = standardized_blobs()
    model = Adaline(lr=0.5, mode="batch", max_epochs=2000, tol=1e-14).fit(X, y)
    w, b = least_squares(X, y)
    np.testing.assert_allclose(model.coef_, w, atol=1e-5)
    np.testing.assert_allclose(model.intercept_, b, atol=1e-5)
    assert model.converged_
    assert np.all(np.diff(model.cost_) <= 0)
    # cost_ is the MSE of the weights at the end of each epoch.
    e = (2.0 * y - 1.0) - (X @ model.coef_ + model.intercept_)
    np.testing.assert_allclose(model.cost_[-1], np.mean(e**2))


def test_adaline_batch_step_is_the_delta_rule():
    # One epoch from w = 0 written out: e = y − o, w ← w + η (1/N) Σ e x, b ← b + η mean(e).
    X, y = standardized_blobs()
    t = 2.0 * y - 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Adaline(lr=0.3, mode="batch", max_epochs=1).fit(X, y)
    np.testing.assert_allclose(model.coef_, 0.3 * X.T @ t / len(X))
    np.testing.assert_allclose(model.intercept_, 0.3 * t.mean())


def test_adaline_online_approaches_least_squares():
    X, y = standardized_blobs()
    model = Adaline(lr=0.002, mode="online", max_epochs=300, tol=1e-9).fit(X, y)
    w, b = least_squares(X, y)
    # Online LMS with a constant rate hovers near the minimum, within about η of it.
    np.testing.assert_allclose(model.coef_, w, atol=0.02)
    np.testing.assert_allclose(model.intercept_, b, atol=0.02)
    assert model.cost_[-1] < model.cost_[0]
    assert model.score(X, y) > 0.85


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_adaline_warns_when_the_rate_is_too_large(mode):
    X, y = blobs()  # not standardised: a large rate overshoots at once
    with pytest.warns(ConvergenceWarning, match="lr=2.0 is too large: try a smaller lr"):
        model = Adaline(lr=2.0, mode=mode).fit(X, y)
    assert model.n_epochs_ < 100  # it stopped as soon as the cost grew


def test_adaline_warns_when_it_runs_out_of_epochs():
    X, y = standardized_blobs()
    with pytest.warns(ConvergenceWarning, match="did not converge in 3 epochs"):
        Adaline(lr=0.001, mode="batch", max_epochs=3).fit(X, y)


def test_accepts_tensors():
    X, y = blobs()
    model = Perceptron().fit(aprende.tensor(X), aprende.tensor(y))
    np.testing.assert_array_equal(model.predict(aprende.tensor(X)), y)


def test_bad_shapes_and_arguments_raise_clear_errors():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"expected X of shape \(N, D\), got shape \(80,\)"):
        Perceptron().fit(X[:, 0], y)
    with pytest.raises(ValueError, match=r"expected y of shape \(80,\).*got shape \(79,\)"):
        Adaline().fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"exactly 2 classes.*got 3: \[0, 1, 2\]"):
        Perceptron().fit(X[:3], np.array([0, 1, 2]))
    model = Perceptron().fit(X, y)
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 2\) as in fit, got shape"):
        model.predict(np.zeros((5, 3)))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Adaline().predict(X)
    with pytest.raises(ValueError, match="contains NaN"):
        Perceptron().fit(np.full((2, 2), np.nan), [0, 1])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        Perceptron(lr=-1)
    with pytest.raises(ValueError, match="Invalid max_epochs: 0"):
        Adaline(max_epochs=0)
    with pytest.raises(ValueError, match="Invalid mode: 'minibatch'"):
        Adaline(mode="minibatch")
