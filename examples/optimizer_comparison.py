"""Which optimizer? SGD, SGD with momentum, AdaGrad, RMSProp and Adam on one problem.

The slides' answer is "no hay consenso" (there is no consensus): this example lets you look. The
same MLP, from the same initial weights and with the same mini-batches, is trained on the two
spirals with each optimizer at a usual learning rate for it; the training loss per epoch of all
five is drawn on one set of axes (log scale), and each one's test accuracy is printed beside
chance (0.5: the majority class of two balanced spirals).

    python examples/optimizer_comparison.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import make_spirals
from aprende.training import fit, predict

OPTIMIZERS = {  # key: (label, make the optimizer for these parameters)
    "sgd": ("SGD (η=0.05)", lambda p: optim.SGD(p, lr=0.05)),
    "momentum": ("SGD + momentum 0.9", lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
    "adagrad": ("AdaGrad (η=0.05)", lambda p: optim.Adagrad(p, lr=0.05)),
    "rmsprop": ("RMSProp (η=0.003)", lambda p: optim.RMSprop(p, lr=3e-3)),
    "adam": ("Adam (η=0.003)", lambda p: optim.Adam(p, lr=3e-3)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the plot")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    X, y, _ = make_spirals(n_samples=600, noise=0.05, seed=0)
    X_train, y_train, _, _, X_test, y_test = train_val_test_split(X, y, stratify=y, seed=0)
    scaler = StandardScaler().fit(X_train)
    train = TensorDataset(aprende.tensor(scaler.transform(X_train)), aprende.tensor(y_train))
    start = nn.MLP(2, [64, 64], 2, activation="tanh").state_dict()  # one set of initial weights

    curves = {}
    for key, (label, make_optimizer) in OPTIMIZERS.items():
        model = nn.MLP(2, [64, 64], 2, activation="tanh")
        model.load_state_dict(start)
        history = fit(
            model,
            make_optimizer(model.parameters()),
            nn.CrossEntropyLoss(),
            DataLoader(train, batch_size=32, shuffle=True, generator=0),  # same batches for all
            epochs=5 if quick else 100,
            verbose=0,
        )
        curves[label] = history["loss"]
        predicted = np.asarray(predict(model, scaler.transform(X_test))).argmax(axis=1)
        print(
            f"test_accuracy_{key}: {metrics.accuracy_score(y_test, predicted):.4f}  "
            f"(final training loss {curves[label][-1]:.4f})"
        )
    majority = np.full_like(y_test, np.bincount(y_train).argmax())
    print(
        f"baseline_test_accuracy: {metrics.accuracy_score(y_test, majority):.4f}  "
        "(always the training split's majority class: chance on two balanced spirals)"
    )
    plots.plot_optimizer_comparison(curves, path=out / "optimizer_comparison.png")


if __name__ == "__main__":
    main()
