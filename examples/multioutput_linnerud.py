"""Multi-output regression: several numbers per example (the slides' "regresión múltiple").

Linnerud: from three exercise counts (chin-ups, sit-ups, jumps) of 20 men, predict three
physiological measurements (weight, waist, pulse). One network with three linear outputs, trained
on the squared error averaged over every output; inputs and targets are z-normalised on the
training split. Scored per output (R², RMSE) on the test split, in the targets' units, beside
linear least squares on the same split. With 20 examples the test split holds 5, and the exercise
counts barely predict the measurements: expect R² near or below 0 for both models (0 is what
predicting the training mean scores). The point here is the shape of the problem: one network,
several outputs, one metric per output.

    python examples/multioutput_linnerud.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import load_linnerud
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

    X, Y, info = load_linnerud()  # X (20, 3), Y (20, 3)
    X_train, Y_train, X_val, Y_val, X_test, Y_test = train_val_test_split(
        X, Y, val_size=0.2, test_size=0.25, seed=0
    )
    x_scaler, y_scaler = StandardScaler().fit(X_train), StandardScaler().fit(Y_train)

    def loader(X, Y, shuffle=False):
        data = TensorDataset(
            aprende.tensor(x_scaler.transform(X)), aprende.tensor(y_scaler.transform(Y))
        )
        return DataLoader(data, batch_size=4, shuffle=shuffle, generator=0)

    model = nn.MLP(X.shape[1], [8], Y.shape[1], activation="tanh")
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2),
        nn.MSELoss(),  # mean over the N examples and the 3 outputs
        loader(X_train, Y_train, shuffle=True),
        loader(X_val, Y_val),
        epochs=5 if quick else 200,
        metrics=["r2"],
        callbacks=[EarlyStopping(patience=20, restore_best_weights=True)],
        verbose=0,
    )

    predicted = y_scaler.inverse_transform(np.asarray(predict(model, x_scaler.transform(X_test))))
    r2 = metrics.r2_score(Y_test, predicted, multioutput="raw_values")
    rmse = metrics.root_mean_squared_error(Y_test, predicted, multioutput="raw_values")
    design = np.column_stack([np.vstack([X_train, X_val]), np.ones(len(X_train) + len(X_val))])
    w, *_ = np.linalg.lstsq(design, np.vstack([Y_train, Y_val]), rcond=None)
    linear = np.column_stack([X_test, np.ones(len(X_test))]) @ w
    linear_r2 = metrics.r2_score(Y_test, linear, multioutput="raw_values")
    print(f"epochs: {len(history)}")
    print("linear least squares: test R² " + ", ".join(f"{v:.2f}" for v in linear_r2))
    for name, r2_value, rmse_value in zip(info.target_names, r2, rmse, strict=True):
        print(f"test_r2_{name.lower()}: {r2_value:.4f}  (RMSE {rmse_value:.2f})")
    print(f"test_r2: {np.mean(r2):.4f}")

    plots.plot_learning_curves(history, ("loss", "r2"), path=out / "linnerud_curves.png")
    plots.plot_regression(
        Y_test, predicted, output_names=info.target_names, path=out / "linnerud_predictions.png"
    )


if __name__ == "__main__":
    main()
