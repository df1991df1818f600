"""Overfitting, and the slides' four cures: weight decay, dropout, noise, early stopping.

A wide MLP (two hidden layers of 256) learns handwritten digits from 300 training examples whose
labels are 30% wrong (each flipped to another digit at random, as careless annotation would).
Unregularised, it memorises every label, wrong ones included: training accuracy 1.0 on those
labels, while the test accuracy (on correct labels) falls far below it; the gap is overfitting,
also visible in the learning curves as a validation loss that turns up. The same network, from
the same initial weights and with the same batches, is trained again with each regulariser:
weight decay (L2 on every weight, w ← w − η(∂J/∂w + λw), λ = 0.05), dropout (p = 0.5 after each
hidden layer), Gaussian noise on the inputs (σ = 1, in standardised units), early stopping
(patience 10, restoring the best validation weights), and the cure of more data, made up by data
augmentation (each training image shifted by up to one pixel, afresh every epoch). A table gives
each one's training accuracy, test accuracy and the gap between them; a regulariser that does not
beat the plain run on the test split is said so. One plot shows the learning curves of all six.

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
    "noise": ("input noise σ=1", {"mlp": {"noise": 1.0}}),
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
    X_train, y_train = X_train[:300], y_train[:300]  # little data: room to overfit
    # 30% of the training labels wrong: what a network memorises but cannot generalise.
    rng = np.random.default_rng(0)
    wrong = rng.permutation(len(y_train))[: len(y_train) * 3 // 10]
    y_train = y_train.copy()
    y_train[wrong] = (y_train[wrong] + rng.integers(1, 10, len(wrong))) % 10  # another digit
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
    rows = {}
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
            epochs=5 if quick else 60,
            metrics=["accuracy"],
            callbacks=[EarlyStopping(patience=patience, restore_best_weights=True)]
            if patience
            else [],
            verbose=0,
        )
        plots.plot_learning_curves(history, ("loss",), ax=axis)
        axis.set_title(title)

        train, test = (
            metrics.accuracy_score(
                t, np.asarray(predict(model, scaler.transform(x))).argmax(axis=1)
            )
            for x, t in ((X_train, y_train), (X_test, y_test))
        )
        rows[key] = (title, len(history), train, test)

    print(f"{len(y_train)} training digits ({len(wrong)} labels wrong), {len(y_test)} test digits")
    print(f"{'regulariser':<15} {'train':>6} {'test':>6} {'gap':>6} {'epochs':>6}  setting")
    for key, (title, epochs, train, test) in rows.items():
        print(f"{key:<15} {train:6.4f} {test:6.4f} {train - test:6.4f} {epochs:6d}  {title}")
    print("train: accuracy on the training labels as given, wrong ones included (1.0 = memorised)")
    plain = rows["none"][3]
    for key, (_, _, _, test) in list(rows.items())[1:]:
        verdict = "helps" if test > plain else "does not help here"
        print(f"{key}: {verdict} (test accuracy {test - plain:+.4f} against no regularisation)")
    figure.savefig(out / "regularisation.png", dpi=100)


if __name__ == "__main__":
    main()
