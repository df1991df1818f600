"""A class for every pixel: a U-Net segments canvases of real handwritten digits.

Each 32×32 canvas holds 2 to 4 digits (the bundled 8×8 digits, enlarged ×2, placed at random);
every pixel is labelled background or the class of the digit whose ink covers it: 11 classes.
Training, validation and test canvases are drawn from disjoint sets of source digits, so the
test measures digits the network never saw. The U-Net halves the image twice and doubles it
back, joining each level with the encoder's output of the same size (the skip connections), and
gives 11 scores per pixel; cross-entropy over (N, 11, 32, 32). Scored by pixel accuracy and
the mean intersection over union (IoU) of the 11 classes, beside the majority predictor (every
pixel background), which most pixels already satisfy.

    python examples/segmentation_unet.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, models, nn, optim, plots
from aprende.data import DataLoader, TensorDataset
from aprende.datasets import make_digit_canvases
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

    sizes = (
        {"train": 96, "val": 32, "test": 32} if quick else {"train": 600, "val": 64, "test": 100}
    )
    data = {kind: make_digit_canvases(n, kind=kind, seed=0) for kind, n in sizes.items()}

    def loader(kind, shuffle=False):
        X, y, _ = data[kind]
        return DataLoader(
            TensorDataset(aprende.tensor(X), aprende.tensor(y)),
            batch_size=16,
            shuffle=shuffle,
            generator=0,
        )

    model = models.UNet(1, 11, depth=2, width=8 if quick else 12)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=3e-3),
        nn.CrossEntropyLoss(),
        loader("train", shuffle=True),
        loader("val"),
        epochs=3 if quick else 15,
        metrics=["accuracy"],
        callbacks=[EarlyStopping(patience=8, restore_best_weights=True)],
        verbose=0,
    )
    X_test, y_test, _ = data["test"]
    predicted = np.asarray(predict(model, X_test)).argmax(axis=1)  # (N, 32, 32)
    print(f"epochs: {len(history)}")
    print(f"test_pixel_accuracy: {metrics.pixel_accuracy(y_test, predicted):.4f}")
    print(f"test_mean_iou: {metrics.mean_iou(y_test, predicted, num_classes=11):.4f}")
    # The majority predictor: every pixel background, right wherever there is no ink.
    background = np.zeros_like(y_test)
    print(
        f"baseline_test_pixel_accuracy: {metrics.pixel_accuracy(y_test, background):.4f}  "
        f"(every pixel background; mean IoU "
        f"{metrics.mean_iou(y_test, background, num_classes=11):.4f})"
    )

    plots.plot_learning_curves(history, ("loss", "accuracy"), path=out / "unet_curves.png")
    plots.plot_masks(
        X_test[:4], y_test[:4], predicted[:4], num_classes=11, path=out / "unet_masks.png"
    )


if __name__ == "__main__":
    main()
