"""Multi-output regression: several numbers per example (the slides' "regresión múltiple").

From seven baseline measurements of 442 diabetes patients (age, sex, body-mass index, blood
pressure, total cholesterol, HDL cholesterol and log-triglycerides) predict three numbers at once:
LDL cholesterol, the total/HDL cholesterol ratio (a non-linear function of two inputs, where a
network beats a linear model) and the disease progression one year on. One network with three
linear outputs, trained on the squared error averaged over every output; inputs and targets are
z-normalised on the training split. Scored per output on the test split, in the targets' units
(the two lipids centred and scaled as scikit-learn ships them), by R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²
and RMSE, beside two baselines: predicting the training mean (R² ≈ 0) and linear least squares
fitted on the training split.

    python examples/multioutput_diabetes.py [--quick] [--out DIR]
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

INPUTS = ["age", "sex", "bmi", "bp", "s1", "s3", "s5"]  # s1 total, s3 HDL cholesterol, s5 log TG
OUTPUTS = {"ldl": "s2", "tc_hdl": "s4"}  # LDL cholesterol; total / HDL cholesterol
NAMES = ["ldl", "tc_hdl", "progression"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plots")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    X, progression, info = load_diabetes()
    column = {name: i for i, name in enumerate(info.feature_names)}
    inputs = X[:, [column[name] for name in INPUTS]]  # (442, 7)
    targets = np.column_stack([X[:, [column[c] for c in OUTPUTS.values()]], progression])
    X_train, Y_train, X_val, Y_val, X_test, Y_test = train_val_test_split(inputs, targets, seed=0)
    x_scaler, y_scaler = StandardScaler().fit(X_train), StandardScaler().fit(Y_train)

    def loader(X, Y, shuffle=False):
        data = TensorDataset(
            aprende.tensor(x_scaler.transform(X)), aprende.tensor(y_scaler.transform(Y))
        )
        return DataLoader(data, batch_size=16, shuffle=shuffle, generator=0)

    model = nn.MLP(inputs.shape[1], [32], targets.shape[1], activation="tanh")
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4),
        nn.MSELoss(),  # mean over the N examples and the 3 outputs
        loader(X_train, Y_train, shuffle=True),
        loader(X_val, Y_val),
        epochs=5 if quick else 300,
        metrics=["r2"],
        callbacks=[EarlyStopping(patience=25, restore_best_weights=True)],
        verbose=0,
    )

    predicted = y_scaler.inverse_transform(np.asarray(predict(model, x_scaler.transform(X_test))))
    r2 = metrics.r2_score(Y_test, predicted, multioutput="raw_values")
    rmse = metrics.root_mean_squared_error(Y_test, predicted, multioutput="raw_values")
    # Baselines on the same split: the training mean of each output, and least squares.
    mean = np.broadcast_to(Y_train.mean(axis=0), Y_test.shape)
    mean_r2 = metrics.r2_score(Y_test, mean, multioutput="raw_values")
    design = np.column_stack([X_train, np.ones(len(X_train))])
    w, *_ = np.linalg.lstsq(design, Y_train, rcond=None)
    linear = np.column_stack([X_test, np.ones(len(X_test))]) @ w
    linear_r2 = metrics.r2_score(Y_test, linear, multioutput="raw_values")

    print(f"epochs: {len(history)}")
    print(f"{'test R²':<12} {'network':>8} {'linear':>8} {'mean':>8}")
    for name, values in zip(NAMES, zip(r2, linear_r2, mean_r2, strict=True), strict=True):
        print(f"{name:<12} " + " ".join(f"{v:8.4f}" for v in values))
    for name, r2_value, rmse_value in zip(NAMES, r2, rmse, strict=True):
        print(f"test_r2_{name}: {r2_value:.4f}  (RMSE {rmse_value:.4f})")
    print(f"test_r2: {np.mean(r2):.4f}")
    print(f"linear_test_r2: {np.mean(linear_r2):.4f}  (linear least squares)")
    print(f"baseline_test_r2: {np.mean(mean_r2):.4f}  (predicting the training mean)")

    plots.plot_learning_curves(history, ("loss", "r2"), path=out / "multioutput_curves.png")
    plots.plot_regression(
        Y_test, predicted, output_names=NAMES, path=out / "multioutput_predictions.png"
    )


if __name__ == "__main__":
    main()
