"""Rosenblatt's perceptron (1957) and Widrow & Hoff's ADALINE (1960) on separable data.

Both are one neuron, a = wᵀx + b, whose hyperplane wᵀx + b = 0 splits the plane in two; they
differ in how they learn. The perceptron corrects its mistakes only (w ← w + η (y − ŷ) x with
ŷ = step(a)) and stops once an epoch has none: on separable data it converges (the convergence
theorem). ADALINE descends the squared error of the linear output o = a (the LMS / delta rule,
e = y − o; here its batch form, w ← w + η (1/N) Σₙ eₙ xₙ), so every example pulls on it and it
settles on the least-squares hyperplane. The plot draws both hyperplanes over the test points;
the test accuracies are printed beside the majority class's.

    python examples/perceptron_vs_adaline.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

from aprende import plots
from aprende.classic import Adaline, Perceptron
from aprende.data import StandardScaler, train_val_test_split
from aprende.datasets import make_blobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plot")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    X, y, _ = make_blobs(
        n_samples=100 if quick else 400,
        centers=[[-2.0, -1.0], [2.0, 1.5]],
        cluster_std=1.2,
        linearly_separable=True,
        margin=0.3,
        seed=0,
    )
    X_train, y_train, _, _, X_test, y_test = train_val_test_split(X, y, stratify=y, seed=0)
    scaler = StandardScaler().fit(X_train)  # ADALINE's rate depends on the inputs' scale
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    perceptron = Perceptron(lr=1.0, max_epochs=100, seed=0).fit(X_train, y_train)
    adaline = Adaline(lr=0.1, max_epochs=500, mode="batch").fit(X_train, y_train)
    print(
        f"perceptron: converged={perceptron.converged_} after {perceptron.n_epochs_} epochs, "
        f"mistakes per epoch {perceptron.errors_}"
    )
    print(
        f"adaline: converged={adaline.converged_} after {adaline.n_epochs_} epochs, "
        f"final training MSE {adaline.cost_[-1]:.4f}"
    )
    print(f"test_accuracy_perceptron: {perceptron.score(X_test, y_test):.4f}")
    print(f"test_accuracy_adaline: {adaline.score(X_test, y_test):.4f}")
    majority = np.bincount(y_train).argmax()
    print(
        f"baseline_test_accuracy: {np.mean(y_test == majority):.4f}  "
        "(always the training split's majority class)"
    )

    figure = plots.plot_decision_boundary(perceptron, X_test, y_test)
    axis = figure.axes[0]
    plots.plot_hyperplane(
        perceptron.coef_, perceptron.intercept_, ax=axis, label="perceptron", color="k"
    )
    plots.plot_hyperplane(
        adaline.coef_,
        adaline.intercept_,
        ax=axis,
        label="ADALINE",
        color="tab:green",
        linestyle="--",
    )
    axis.set_title("perceptron vs ADALINE: wᵀx + b = 0")
    figure.savefig(out / "perceptron_vs_adaline.png", dpi=100)


if __name__ == "__main__":
    main()
