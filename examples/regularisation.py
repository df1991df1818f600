"""Overfitting, and the slides' four cures: weight decay, dropout, noise, early stopping.

A large MLP (two hidden layers of 256) learns handwritten digits from only 120 training examples,
so it can memorise them: its training loss goes to zero while the validation loss turns up
(overfitting, visible in the learning curves). The same network, from the same initial weights,
is trained again with each regulariser: weight decay (L2, w ← w − η λ w on every step), dropout
(p = 0.5 after each hidden layer), Gaussian noise on the inputs (σ = 0.5) and early stopping
(patience 10, restoring the best validation weights); and the cure of more data, made up by data
augmentation (each training image shifted by up to one pixel, afresh every epoch). One plot
shows the learning curves of all six; the test accuracy of each is printed.

    python examples/regularisation.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import (
    DataLoader,
    RandomShift,
    StandardScaler,
    TensorDataset,
    train_val_test_split,
)
from aprende.datasets import load_digits
from aprende.training import EarlyStopping, fit, predict

VARIANTS = {  # key: (title, what changes from the plain run)
    "none": ("no regularisation", {}),
    "weight_decay": ("weight decay λ=0.05", {"weight_decay": 0.05}),
    "dropout": ("dropout p=0.5", {"mlp": {"dropout": 0.5}}),
    "noise": ("input noise σ=0.5", {"mlp": {"noise": 0.5}}),
    "augmentation": ("more data: shifts of ±1 pixel", {"augment": True}),
    "early_stopping": ("early stopping (patience 10)", {"patience": 10}),
}


def linear_layers(model) -> list:
    """The model's Linear layers in order (dropout and noise layers have no weights)."""
    return [module for module in model.modules() if isinstance(module, nn.Linear)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plot")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    X, y, _ = load_digits()
    X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(
        X, y, val_size=300, test_size=0.4, stratify=y, seed=0
    )
    X_train, y_train = X_train[:120], y_train[:120]  # little data: room to overfit
    scaler = StandardScaler().fit(X_train)

    shift = RandomShift(max_shift=1, generator=0)

    def shifted(batch):
        """Each 8×8 digit of a batch moved by up to a pixel, then standardised."""
        return scaler.transform(shift(batch.reshape(-1, 8, 8)).reshape(len(batch), 64))

    def loader(X, y, shuffle=False, augment=False):
        if augment:  # raw images in, shifted and standardised as each batch is drawn
            data = TensorDataset(aprende.tensor(X), aprende.tensor(y), transform=shifted)
        else:
            data = TensorDataset(aprende.tensor(scaler.transform(X)), aprende.tensor(y))
        return DataLoader(data, batch_size=16, shuffle=shuffle, generator=0)

    start = [layer.state_dict() for layer in linear_layers(nn.MLP(64, [256, 256], 10))]
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12.6, 7.2), layout="constrained")
    axes = figure.subplots(2, 3, sharey=True).ravel()
    for axis, (key, (title, change)) in zip(axes, VARIANTS.items(), strict=True):
        model = nn.MLP(64, [256, 256], 10, **change.get("mlp", {}))
        for layer, weights in zip(linear_layers(model), start, strict=True):
            layer.load_state_dict(weights)  # the same initial weights for every run
        patience = change.get("patience")
        history = fit(
            model,
            optim.Adam(model.parameters(), lr=1e-3, weight_decay=change.get("weight_decay", 0)),
            nn.CrossEntropyLoss(),
            loader(X_train, y_train, shuffle=True, augment=change.get("augment", False)),
            loader(X_val, y_val),
            epochs=5 if quick else 100,
            metrics=["accuracy"],
            callbacks=[EarlyStopping(patience=patience, restore_best_weights=True)]
            if patience
            else [],
            verbose=0,
        )
        plots.plot_learning_curves(history, ("loss",), ax=axis)
        axis.set_title(title)
        predicted = np.asarray(predict(model, scaler.transform(X_test))).argmax(axis=1)
        gap = history["val_loss"][-1] - history["loss"][-1]
        print(
            f"test_accuracy_{key}: {metrics.accuracy_score(y_test, predicted):.4f}  "
            f"({len(history)} epochs; last validation − training loss {gap:.3f})"
        )
    figure.savefig(out / "regularisation.png", dpi=100)


if __name__ == "__main__":
    main()
