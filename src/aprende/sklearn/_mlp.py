"""What MLPClassifier and MLPRegressor share: the parameters, the network, the training loop.

The network is an ``aprende.nn.MLP`` trained by the slides' loop over shuffled minibatches
with ``aprende.optim.Adam`` or ``SGD``; the stopping rules (``tol``, ``n_iter_no_change``,
``early_stopping`` on a held-out ``validation_fraction``) are scikit-learn's.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

import aprende
from aprende import nn, optim

#: scikit-learn's activation names -> aprende's.
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
SOLVERS = ("adam", "sgd")


class BaseMLP(BaseEstimator):
    """A multilayer perceptron trained with aprende, behind scikit-learn's estimator API.

    Subclasses say how targets become the loss's input (``_encode``), which loss and how
    outputs become predictions.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

    # ---- subclasses ---------------------------------------------------------------------------

    def _validate_targets(self, X, y, first: bool, classes=None):
        """(X, y) checked by scikit-learn's rules, y encoded as the loss takes it."""
        raise NotImplementedError

    def _criterion(self) -> nn.Module:
        raise NotImplementedError

    # ---- parameters ---------------------------------------------------------------------------

    def _check_parameters(self) -> None:
        """A ValueError naming the parameter, what it accepts and what came."""
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        checks = [
            ("hidden_layer_sizes", all(int(s) == s and s > 0 for s in sizes), "positive ints"),
            ("activation", self.activation in ACTIVATIONS, f"one of {sorted(ACTIVATIONS)}"),
            ("solver", self.solver in SOLVERS, f"one of {list(SOLVERS)}"),
            ("alpha", self.alpha >= 0, "a number >= 0"),
            ("learning_rate_init", self.learning_rate_init > 0, "a number > 0"),
            ("max_iter", self.max_iter >= 1, "an int >= 1"),
            ("n_iter_no_change", self.n_iter_no_change >= 1, "an int >= 1"),
            ("validation_fraction", 0 < self.validation_fraction < 1, "a number in (0, 1)"),
            ("momentum", 0 <= self.momentum <= 1, "a number in [0, 1]"),
            ("beta_1", 0 <= self.beta_1 < 1, "a number in [0, 1)"),
            ("beta_2", 0 <= self.beta_2 < 1, "a number in [0, 1)"),
            ("epsilon", self.epsilon > 0, "a number > 0"),
            (
                "batch_size",
                self.batch_size == "auto" or (int(self.batch_size) >= 1),
                "'auto' or an int >= 1",
            ),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(
                    f"The '{name}' parameter of {type(self).__name__} must be {expected}. "
                    f"Got {getattr(self, name)!r} instead."
                )

    # ---- fitting ------------------------------------------------------------------------------

    def fit(self, X, y):
        """Train a fresh network on (X, y) for up to ``max_iter`` epochs (or continue the
        fitted one with ``warm_start=True``); returns self."""
        return self._fit(X, y, incremental=self.warm_start and hasattr(self, "model_"))

    def _fit(self, X, y, incremental: bool, classes=None, epochs: int | None = None):
        self._check_parameters()
        first = not incremental
        X, target = self._validate_targets(X, y, first, classes)
        dtype = np.float64 if X.dtype == np.float64 else np.float32
        X = np.asarray(X, dtype=dtype)
        if first:
            self._rng = check_random_state(self.random_state)
            self._build(X.shape[1], self._n_outputs, dtype)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.best_loss_ = np.inf
            self._no_improvement = 0
            self.validation_scores_ = [] if self.early_stopping and epochs is None else None
            self.best_validation_score_ = -np.inf if self.validation_scores_ is not None else None
        self._train(X, target, y, epochs or self.max_iter, partial=epochs is not None)
        return self

    def _build(self, n_features: int, n_outputs: int, dtype) -> None:
        """A fresh network and optimizer, seeded from ``random_state`` (the same weights at every
        fit with an int seed) without touching aprende's global generator."""
        hidden = [int(s) for s in np.atleast_1d(self.hidden_layer_sizes)]
        saved = aprende.get_rng_state()
        aprende.manual_seed(int(self._rng.randint(np.iinfo(np.int32).max)))
        try:
            model = nn.MLP(n_features, hidden, n_outputs, activation=ACTIVATIONS[self.activation])
        finally:
            aprende.set_rng_state(saved)
        self.model_ = model.double() if dtype == np.float64 else model
        self._optimizer = self._make_optimizer()

    def _make_optimizer(self) -> optim.Optimizer:
        parameters = self.model_.parameters()
        if self.solver == "adam":
            betas = (self.beta_1, self.beta_2)
            return optim.Adam(parameters, self.learning_rate_init, betas, self.epsilon, self.alpha)
        return optim.SGD(
            parameters,
            self.learning_rate_init,
            momentum=self.momentum,
            weight_decay=self.alpha,
            nesterov=self.nesterovs_momentum and self.momentum > 0,
        )

    def __getstate__(self) -> dict:
        """Pickled with the optimizer's state dict (its scratch buffers are not picklable); a
        ``partial_fit`` after unpickling continues with the same moments."""
        state = dict(super().__getstate__())
        if "_optimizer" in state:
            state["_optimizer"] = state["_optimizer"].state_dict()
        return state

    def __setstate__(self, state: dict) -> None:
        optimizer_state = state.pop("_optimizer", None)
        super().__setstate__(state)
        if optimizer_state is not None:
            self._optimizer = self._make_optimizer()
            self._optimizer.load_state_dict(optimizer_state)

    def _batch_size(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _train(self, X, target, y, epochs: int, partial: bool) -> None:
        """The slides' loop: shuffled minibatches, one optimizer step each, per epoch."""
        validation = None
        if self.validation_scores_ is not None and not partial:
            stratify = target if self._stratify else None
            X, X_val, target, _, _, y_val = train_test_split(
                X, target, y, test_size=self.validation_fraction, random_state=self._rng,
                stratify=stratify,
            )  # fmt: skip
            validation = (X_val, y_val)
        criterion, model, optimizer = self._criterion(), self.model_, self._optimizer
        n, batch = len(X), self._batch_size(len(X))
        best_state = None
        model.train()
        for _ in range(epochs):
            order = self._rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                optimizer.zero_grad()
                loss = criterion(model(aprende.tensor(X[rows])), aprende.tensor(target[rows]))
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            self.n_iter_ += 1
            self.t_ += n
            self.loss_curve_.append(total / n)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_curve_[-1]:.8f}")
            if partial:
                self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
                continue
            if validation is not None:
                if self._track_validation(validation):
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                self._track_loss()
            if self._no_improvement > self.n_iter_no_change:
                if self.verbose:
                    print(f"No improvement more than tol={self.tol} for {self.n_iter_no_change}"
                          " consecutive epochs. Stopping.")  # fmt: skip
                break
        else:
            if not partial:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                    "optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()

    def _track_loss(self) -> None:
        """scikit-learn's rule: an epoch counts as no improvement unless the loss falls by tol."""
        loss = self.loss_curve_[-1]
        self._no_improvement = self._no_improvement + 1 if loss > self.best_loss_ - self.tol else 0
        self.best_loss_ = min(self.best_loss_, loss)

    def _track_validation(self, validation) -> bool:
        """The score on the held-out split; True when it is the best so far."""
        self.model_.eval()
        score = self.score(*validation)
        self.model_.train()
        self.validation_scores_.append(score)
        worse = score < self.best_validation_score_ + self.tol
        self._no_improvement = self._no_improvement + 1 if worse else 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    # ---- predicting ---------------------------------------------------------------------------

    def _outputs(self, X) -> np.ndarray:
        """The network's raw outputs for X, in eval mode, without a graph."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        self.model_.eval()
        dtype = next(iter(self.model_.parameters())).data.dtype
        with aprende.no_grad():
            return self.model_(aprende.tensor(np.asarray(X, dtype=dtype))).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.transformer_tags = None
        return tags
