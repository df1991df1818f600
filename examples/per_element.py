"""Per-element classification: a class for every position of a signal (the slides' "a class per
pixel, zone or fragment").

The model reads the whole noisy signal x (N, L) and gives C scores at each of the L positions,
(N, C, L) with the class dimension second, as PyTorch's ``CrossEntropyLoss`` takes it for targets
of shape (N, L): the loss is the cross-entropy averaged over every position of every example.
Scored by pixel accuracy and intersection-over-union (IoU) per class, beside the baseline that
gives every position the most frequent class.

    python examples/per_element.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, TensorDataset, train_val_test_split
from aprende.datasets import make_segmentation
from aprende.training import EarlyStopping, fit, predict


class PerPositionClassifier(nn.Module):
    """An MLP from the signal (N, L) to C·L scores, read as (N, C, L)."""

    def __init__(self, length: int, n_classes: int, hidden: int = 256):
        super().__init__()
        self.n_classes, self.length = n_classes, length
        self.body = nn.MLP(length, [hidden], n_classes * length)

    def forward(self, x):
        return self.body(x).reshape(x.shape[0], self.n_classes, self.length)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plots")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    X, Y, info = make_segmentation(n_samples=1500, shape=(32,), n_classes=3, seed=0)
    X_train, Y_train, X_val, Y_val, X_test, Y_test = train_val_test_split(X, Y, seed=0)

    def loader(X, Y, shuffle=False):
        data = TensorDataset(aprende.tensor(X), aprende.tensor(Y))
        return DataLoader(data, batch_size=32, shuffle=shuffle, generator=0)

    n_classes = len(info.class_names)
    model = PerPositionClassifier(X.shape[1], n_classes)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=1e-3),
        nn.CrossEntropyLoss(),  # over (N, C, L) scores and (N, L) labels
        loader(X_train, Y_train, shuffle=True),
        loader(X_val, Y_val),
        epochs=3 if quick else 60,
        metrics=["accuracy"],
        callbacks=[EarlyStopping(patience=8, restore_best_weights=True)],
        verbose=0,
    )

    scores = np.asarray(predict(model, X_test))  # (N, C, L)
    predicted = scores.argmax(axis=1)  # (N, L): the class of each position
    iou = metrics.per_class_iou(Y_test, predicted, num_classes=n_classes)
    for name, value in zip(info.class_names, iou, strict=True):
        print(f"IoU of class {name}: {value:.4f}")
    print(f"epochs: {len(history)}")
    print(f"test_pixel_accuracy: {metrics.pixel_accuracy(Y_test, predicted):.4f}")
    print(f"test_mean_iou: {metrics.mean_iou(Y_test, predicted, num_classes=n_classes):.4f}")
    majority = np.full_like(Y_test, np.bincount(Y_train.ravel()).argmax())
    print(
        f"baseline_test_pixel_accuracy: {metrics.pixel_accuracy(Y_test, majority):.4f}  "
        f"(every position the training split's most frequent class; mean IoU "
        f"{metrics.mean_iou(Y_test, majority, num_classes=n_classes):.4f})"
    )

    plots.plot_learning_curves(history, ("loss", "accuracy"), path=out / "per_element_curves.png")
    plots.plot_confusion_matrix(
        metrics.confusion_matrix(Y_test.ravel(), predicted.ravel()),
        info.class_names,
        normalize="true",
        path=out / "per_element_confusion_matrix.png",
    )


if __name__ == "__main__":
    main()
