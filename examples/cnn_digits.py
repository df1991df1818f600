"""Weight sharing: a convolutional network against the MLP on the same handwritten digits.

The 8×8 digits as images (N, 1, 8, 8). A LeNet-style CNN slides each 3×3 filter over every
position of the image (one small set of weights shared by all positions: the slides' "varias
unidades comparten sus pesos"), pools, and classifies; the MLP sees the same 64 pixels as a flat
vector with a weight per pixel and unit. Same split, same optimizer, same early stopping; the
test split is scored once with the best validation weights of each. The MLP is the CNN's
baseline, and always answering the most frequent digit is the baseline of both.

    python examples/cnn_digits.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, models, nn, optim, plots
from aprende.data import DataLoader, TensorDataset, train_val_test_split
from aprende.datasets import load_digits_images
from aprende.training import EarlyStopping, fit, predict


def train(model, splits, epochs: int):
    """Adam with early stopping on the validation loss; the history and the test accuracy."""
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = splits

    def loader(X, y, shuffle=False):
        return DataLoader(
            TensorDataset(aprende.tensor(X), aprende.tensor(y)),
            batch_size=32,
            shuffle=shuffle,
            generator=0,
        )

    history = fit(
        model,
        optim.Adam(model.parameters(), lr=2e-3),
        nn.CrossEntropyLoss(),
        loader(X_train, y_train, shuffle=True),
        loader(X_val, y_val),
        epochs=epochs,
        metrics=["accuracy"],
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True)],
        verbose=0,
    )
    predicted = np.asarray(predict(model, X_test)).argmax(axis=1)
    return history, metrics.accuracy_score(y_test, predicted)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plots")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = 4 if quick else 60

    X, y, info = load_digits_images()  # (1797, 1, 8, 8) in [0, 1]
    parts = train_val_test_split(X, y, stratify=y, seed=0)
    images = list(zip(parts[0::2], parts[1::2], strict=True))
    flat = [(x.reshape(len(x), -1), t) for x, t in images]

    aprende.manual_seed(0)
    cnn = models.LeNet(1, 10, image_size=8, channels=(16, 32), hidden=(128,), kernel_size=3)
    cnn_history, cnn_accuracy = train(cnn, images, epochs)
    aprende.manual_seed(0)
    mlp = nn.MLP(64, [128], 10)
    _, mlp_accuracy = train(mlp, flat, epochs)

    count = sum(p.numel() for p in cnn.parameters())
    print(f"cnn: {count} weights, {len(cnn_history)} epochs")
    print(f"mlp: {sum(p.numel() for p in mlp.parameters())} weights")
    print(f"test_accuracy_cnn: {cnn_accuracy:.4f}")
    print(f"test_accuracy_mlp: {mlp_accuracy:.4f}")
    y_train, y_test = parts[1], parts[5]
    majority = np.full_like(y_test, np.bincount(y_train).argmax())
    print(
        f"baseline_test_accuracy: {metrics.accuracy_score(y_test, majority):.4f}  "
        "(always the most frequent digit)"
    )

    plots.plot_learning_curves(cnn_history, ("loss", "accuracy"), path=out / "cnn_curves.png")
    plots.plot_filters(cnn.features[0].weight, path=out / "cnn_filters.png")


if __name__ == "__main__":
    main()
