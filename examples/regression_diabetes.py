"""Single-output regression: disease progression of diabetes patients one year on.

One linear output unit (no activation: ŷ ∈ ℝ), trained on the squared error (``MSELoss``). The
inputs are z-normalised and so is the target (both with statistics of the training split: the
loss then starts near 1 whatever the target's units), and predictions are mapped back to the
target's units before scoring: MSE, RMSE, MAE and R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² on the test
split. Two baselines are printed beside it: predicting the training mean (R² ≈ 0) and a linear
least-squares fit on the training split.

    python examples/regression_diabetes.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import load_diabetes
from aprende.training import EarlyStopping, fit, predict


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plots")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    X, y, info = load_diabetes()
    y = y[:, None]  # (N, 1): one column per output, as the model's
    X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(X, y, seed=0)
    x_scaler, y_scaler = StandardScaler().fit(X_train), StandardScaler().fit(y_train)

    def loader(X, y, shuffle=False):
        data = TensorDataset(
            aprende.tensor(x_scaler.transform(X)), aprende.tensor(y_scaler.transform(y))
        )
        return DataLoader(data, batch_size=16, shuffle=shuffle, generator=0)

    model = nn.MLP(X.shape[1], [16], 1, dropout=0.1)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3),
        nn.MSELoss(),
        loader(X_train, y_train, shuffle=True),
        loader(X_val, y_val),
        epochs=5 if quick else 300,
        metrics=["r2"],
        callbacks=[EarlyStopping(patience=25, restore_best_weights=True)],
        verbose=0,
    )

    standardised = np.asarray(predict(model, x_scaler.transform(X_test)))
    predicted = y_scaler.inverse_transform(standardised)  # back to the target's units
    design = np.column_stack([X_train, np.ones(len(X_train))])
    w, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    linear = np.column_stack([X_test, np.ones(len(X_test))]) @ w
    print(f"epochs: {len(history)}")
    print(f"test_mse: {metrics.mean_squared_error(y_test, predicted):.2f}")
    print(f"test_rmse: {metrics.root_mean_squared_error(y_test, predicted):.2f}")
    print(f"test_mae: {metrics.mean_absolute_error(y_test, predicted):.2f}")
    print(f"test_r2: {metrics.r2_score(y_test, predicted):.4f}")
    print(f"linear_test_r2: {metrics.r2_score(y_test, linear):.4f}  (linear least squares)")
    mean = np.full_like(y_test, y_train.mean())
    print(
        f"baseline_test_r2: {metrics.r2_score(y_test, mean):.4f}  (predicting the training mean; "
        f"RMSE {metrics.root_mean_squared_error(y_test, mean):.2f})"
    )

    plots.plot_learning_curves(history, ("loss", "r2"), path=out / "diabetes_curves.png")
    plots.plot_regression(
        y_test, predicted, output_names=info.target_names, path=out / "diabetes_predictions.png"
    )


if __name__ == "__main__":
    main()
