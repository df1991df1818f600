"""The classic single neurons: Rosenblatt's perceptron (1957) and Widrow & Hoff's ADALINE (1960).

Both compute the slides' affine combination a = wᵀx + b and draw the hyperplane wᵀx + b = 0;
they differ in what they learn from. The perceptron corrects its weights only on the examples it
misclassifies (ŷ = step(a)); ADALINE minimises the squared error of its linear output o = a
(the LMS / delta rule, gradient descent on the MSE) and thresholds o only to predict.

Plain NumPy, no autograd: the update rules are the point, written out as on the slides.
The API follows scikit-learn (``fit``/``predict``/``decision_function``/``score``, fitted
attributes ending in ``_``), since PyTorch has no such models. Inputs may be NumPy arrays,
lists or ``aprende`` tensors.
"""

from __future__ import annotations

import warnings

import numpy as np

from aprende.backend import generator_for


class ConvergenceWarning(UserWarning):
    """A model stopped before converging (as scikit-learn's ``ConvergenceWarning``)."""


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` (as scikit-learn's ``NotFittedError``)."""


def _check_X(X, name: str, n_features: int | None = None) -> np.ndarray:  # noqa: N802
    """``X`` as a float64 array of shape (N, D); a clear ValueError otherwise."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name}: expected X of shape (N, D), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name}: expected X of shape (N, {n_features}) as in fit, got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: X contains NaN or infinity")
    return X


class _LinearBinaryClassifier:
    """What the perceptron and ADALINE share: labels, the affine output and the threshold.

    ``fit`` maps the two labels ``classes_ = [c0, c1]`` (sorted) to the targets −1 and +1;
    ``predict`` maps a > 0 back to ``c1`` and a ≤ 0 to ``c0``. ``coef_`` has shape (D,) and
    ``intercept_`` is a float (scikit-learn uses (1, D) and (1,) for binary models).
    """

    def __init__(self, lr: float, max_epochs: int, shuffle: bool, seed, fit_intercept: bool):
        if not lr > 0:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr > 0)")
        if int(max_epochs) != max_epochs or max_epochs < 1:
            raise ValueError(f"Invalid max_epochs: {max_epochs} (expected an integer >= 1)")
        self.lr = lr
        self.max_epochs = int(max_epochs)
        self.shuffle = shuffle
        self.seed = seed
        self.fit_intercept = fit_intercept

    def _prepare(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        """Check shapes, set ``classes_`` and zero weights; return X and targets in {−1, +1}."""
        name = f"{type(self).__name__}.fit"
        X = _check_X(X, name)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{name}: expected y of shape ({X.shape[0]},) to match X of shape {X.shape}, "
                f"got shape {y.shape}"
            )
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(
                f"{name}: expected labels of exactly 2 classes (e.g. {{0, 1}} or {{-1, 1}}), "
                f"got {classes.size}: {classes.tolist()}"
            )
        self.classes_ = classes
        self.coef_ = np.zeros(X.shape[1])
        self.intercept_ = 0.0
        return X, np.where(y == classes[1], 1.0, -1.0)

    def _epoch_order(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The order of the examples in one epoch: reshuffled every epoch when ``shuffle``."""
        return rng.permutation(n) if self.shuffle else np.arange(n)

    def decision_function(self, X) -> np.ndarray:
        """The affine output a = wᵀx + b for each row of X (N, D); shape (N,)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(X, y) first"
            )
        X = _check_X(X, f"{type(self).__name__}.decision_function", self.coef_.shape[0])
        return X @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        """The class labels: ``classes_[1]`` where wᵀx + b > 0, else ``classes_[0]``; shape (N,)."""
        return np.where(self.decision_function(X) > 0, self.classes_[1], self.classes_[0])

    def score(self, X, y) -> float:
        """Accuracy: the fraction of rows of X whose predicted label equals y."""
        return float(np.mean(self.predict(X) == np.asarray(y).reshape(-1)))


class Perceptron(_LinearBinaryClassifier):
    """Rosenblatt's perceptron: ŷ = step(wᵀx + b), learned by correcting its mistakes.

    For each example, in a (re)shuffled order each epoch, the rule is
    ``w ← w + η (y − ŷ) x`` and ``b ← b + η (y − ŷ)``, with y, ŷ ∈ {0, 1}: nothing moves on a
    correct example, and a mistake pushes the hyperplane towards the right side of x. Written
    with targets t ∈ {−1, +1} this is ``w ← w + η t x`` on every mistake t·(wᵀx + b) ≤ 0; a point
    exactly on the hyperplane counts as a mistake, so learning starts from w = 0 (as in
    scikit-learn). Any two labels are accepted ({0, 1}, {−1, 1}, strings ...).

    On linearly separable data the rule converges (perceptron convergence theorem): an epoch
    with no mistake ends training (``converged_ = True``). Otherwise, after ``max_epochs`` it
    emits a ``ConvergenceWarning`` and keeps the *best* weights seen, those that misclassified
    the fewest training examples at the end of an epoch (the "pocket" algorithm, Gallant 1990),
    rather than the last ones, which keep jumping on non-separable data.

    Fitted attributes: ``coef_`` (D,), ``intercept_``, ``classes_``, ``n_epochs_``,
    ``converged_`` and ``errors_`` (the number of mistakes, i.e. updates, in each epoch).
    """

    def __init__(
        self,
        lr: float = 1.0,
        max_epochs: int = 100,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = 0,
        fit_intercept: bool = True,
    ):
        super().__init__(lr, max_epochs, shuffle, seed, fit_intercept)

    def fit(self, X, y) -> Perceptron:
        """Learn w and b from X (N, D) and labels y (N,) of two classes; returns ``self``."""
        X, t = self._prepare(X, y)
        rng = generator_for(self.seed)
        w, b = self.coef_, 0.0
        best_errors, best = X.shape[0] + 1, (w.copy(), b)
        self.errors_, self.converged_ = [], False
        for epoch in range(1, self.max_epochs + 1):
            mistakes = 0
            for n in self._epoch_order(rng, X.shape[0]):
                if t[n] * (X[n] @ w + b) <= 0:
                    w += self.lr * t[n] * X[n]
                    if self.fit_intercept:
                        b += self.lr * t[n]
                    mistakes += 1
            self.errors_.append(mistakes)
            self.n_epochs_ = epoch
            if mistakes == 0:
                self.converged_ = True
                break
            errors_now = int(np.sum((X @ w + b > 0) != (t > 0)))  # what predict gets wrong
            if errors_now < best_errors:
                best_errors, best = errors_now, (w.copy(), b)
        if not self.converged_:
            w, b = best
            warnings.warn(
                f"Perceptron did not converge in {self.max_epochs} epochs (still "
                f"{self.errors_[-1]} mistakes in the last epoch): the data seem not linearly "
                f"separable. Keeping the weights with the fewest training errors "
                f"({best_errors} of {X.shape[0]}).",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_, self.intercept_ = w, float(b)
        return self


class Adaline(_LinearBinaryClassifier):
    """ADALINE (Widrow & Hoff): a linear neuron trained by the LMS / delta rule.

    Forward pass in the slides' notation: a = wᵀx + b, o = f(a) = a (linear activation),
    e = y − o, with targets y ∈ {−1, +1} (the two labels mapped). The rule descends the cost
    J = 1/(2N) Σₙ eₙ²:

    - ``mode="online"`` (instantaneous gradient, one example at a time, reshuffled each epoch):
      ``w ← w + η e x``, ``b ← b + η e``;
    - ``mode="batch"`` (global gradient, one update per epoch): ``w ← w + η (1/N) Σₙ eₙ xₙ``,
      ``b ← b + η (1/N) Σₙ eₙ``; this converges to the least-squares solution for η small enough.

    ``cost_`` holds the MSE (1/N) Σₙ eₙ² of the weights at the end of each epoch. Training stops
    when the cost improves by less than ``tol`` (``converged_ = True``). When the cost turns
    non-finite, or grows above the cost of the starting weights w = 0, the learning rate is too
    large: training stops with a ``ConvergenceWarning`` that says so. ``predict`` thresholds o at
    0; ``decision_function`` returns o itself.
    """

    def __init__(
        self,
        lr: float = 0.01,
        max_epochs: int = 100,
        tol: float = 1e-6,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = 0,
        mode: str = "online",
        fit_intercept: bool = True,
    ):
        super().__init__(lr, max_epochs, shuffle, seed, fit_intercept)
        if mode not in ("online", "batch"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'online' or 'batch')")
        self.tol = tol
        self.mode = mode

    def _online_epoch(self, X, t, w, b, order) -> float:
        for n in order:
            e = t[n] - (X[n] @ w + b)
            w += self.lr * e * X[n]
            if self.fit_intercept:
                b += self.lr * e
        return b

    def _batch_epoch(self, X, t, w, b) -> float:
        e = t - (X @ w + b)
        w += self.lr * (X.T @ e) / X.shape[0]
        if self.fit_intercept:
            b += self.lr * float(np.mean(e))
        return b

    def fit(self, X, y) -> Adaline:
        """Learn w and b from X (N, D) and labels y (N,) of two classes; returns ``self``."""
        X, t = self._prepare(X, y)
        rng = generator_for(self.seed)
        w, b = self.coef_, 0.0
        start_cost = float(np.mean(t**2))  # the MSE of w = 0, b = 0
        self.cost_, self.converged_ = [], False
        diverged = False
        # A too large rate overflows on purpose here; it is reported below as one clear warning.
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, self.max_epochs + 1):
                if self.mode == "online":
                    b = self._online_epoch(X, t, w, b, self._epoch_order(rng, X.shape[0]))
                else:
                    b = self._batch_epoch(X, t, w, b)
                cost = float(np.mean((t - (X @ w + b)) ** 2))
                previous = self.cost_[-1] if self.cost_ else start_cost
                self.cost_.append(cost)
                self.n_epochs_ = epoch
                if not np.isfinite(cost) or (cost > start_cost and cost > previous):
                    diverged = True
                    break
                if abs(previous - cost) < self.tol:
                    self.converged_ = True
                    break
        self.coef_, self.intercept_ = w, float(b)
        if diverged:
            warnings.warn(
                f"Adaline diverged at epoch {self.n_epochs_}: the cost (MSE) rose to {cost:.3g} "
                f"(it was {start_cost:.3g} at w = 0). The learning rate lr={self.lr} is too "
                f"large: try a smaller lr, or standardise the inputs.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif not self.converged_:
            warnings.warn(
                f"Adaline did not converge in {self.max_epochs} epochs (the cost still changed "
                f"by more than tol={self.tol}): raise max_epochs or lr.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self
