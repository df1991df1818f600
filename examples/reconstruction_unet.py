"""Several numbers per pixel: a U-Net reconstructs digit canvases from noisy, masked copies.

The input is a canvas of real handwritten digits with Gaussian noise and a zeroed rectangle; the
target is the clean canvas: one number per pixel (regression), trained with the mean squared
error. The skip connections carry the visible detail straight to the output, so the network
spends its capacity on the noise and the hole. Scored by the per-pixel MSE and the PSNR
(10·log₁₀(range² / MSE), in dB) of the test canvases, against two baselines with no learning: the
noisy input itself, and the input clipped to the clean canvases' range [0, 1] (which removes
the noise beyond it; local mean or median filters score lower still: they blur the strokes).

    python examples/reconstruction_unet.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import models, nn, optim, plots
from aprende.data import DataLoader, TensorDataset
from aprende.datasets import make_reconstruction_canvases
from aprende.training import EarlyStopping, fit, predict


def psnr(target: np.ndarray, estimate: np.ndarray) -> float:
    """10·log₁₀(range² / MSE) with the target's range of values."""
    mse = float(np.mean((target - estimate) ** 2))
    return 10 * np.log10(float(target.max() - target.min()) ** 2 / mse)


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
        {"train": 96, "val": 32, "test": 32} if quick else {"train": 256, "val": 64, "test": 100}
    )
    data = {kind: make_reconstruction_canvases(n, kind=kind, seed=0) for kind, n in sizes.items()}

    def loader(kind, shuffle=False):
        X, y, _ = data[kind]
        return DataLoader(
            TensorDataset(aprende.tensor(X), aprende.tensor(y)),
            batch_size=16,
            shuffle=shuffle,
            generator=0,
        )

    model = models.UNet(1, 1, depth=2, width=8)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=3e-3),
        nn.MSELoss(),
        loader("train", shuffle=True),
        loader("val"),
        epochs=3 if quick else 15,
        callbacks=[EarlyStopping(patience=4, restore_best_weights=True)],
        verbose=0,
    )
    X_test, y_test, _ = data["test"]
    rebuilt = np.asarray(predict(model, X_test))
    print(f"epochs: {len(history)}")
    print(f"test_mse: {float(np.mean((rebuilt - y_test) ** 2)):.4f}")
    print(f"test_psnr: {psnr(y_test, rebuilt):.2f}")
    print(f"input_psnr: {psnr(y_test, X_test):.2f}  (the noisy, masked input as it comes)")
    clipped = np.clip(X_test, y_test.min(), y_test.max())
    print(f"baseline_test_psnr: {psnr(y_test, clipped):.2f}  (the input clipped to [0, 1])")

    plots.plot_learning_curves(history, ("loss",), path=out / "reconstruction_curves.png")
    plots.plot_reconstructions(
        X_test[:4], y_test[:4], rebuilt[:4], path=out / "reconstructions.png"
    )


if __name__ == "__main__":
    main()
