"""Multi-label classification: several independent yes/no properties per example.

Unlike one-of-C, the L labels are not exclusive: the model has one output per label, each with its
own sigmoid (P(label ℓ | x) = σ(a_ℓ)), trained with binary cross-entropy summed over the labels
(``BCEWithLogitsLoss`` on (N, L) 0/1 targets). Each label is then its own binary problem with its
own confusion matrix; the per-label table and the two accuracies (per label, and "subset": every
label of an example right) are reported, beside the baseline that answers each label with its
most frequent value in the training split.

    python examples/multilabel.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import make_multilabel
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

    X, Y, info = make_multilabel(n_samples=600, n_features=10, n_labels=4, noise=0.5, seed=0)
    X_train, Y_train, X_val, Y_val, X_test, Y_test = train_val_test_split(X, Y, seed=0)
    scaler = StandardScaler().fit(X_train)

    def loader(X, Y, shuffle=False):
        data = TensorDataset(aprende.tensor(scaler.transform(X)), aprende.tensor(Y))
        return DataLoader(data, batch_size=32, shuffle=shuffle, generator=0)

    n_labels = Y.shape[1]
    model = nn.MLP(X.shape[1], [32], n_labels)  # one logit per label
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=3e-3),
        nn.BCEWithLogitsLoss(),
        loader(X_train, Y_train, shuffle=True),
        loader(X_val, Y_val),
        epochs=5 if quick else 100,
        metrics=["accuracy"],  # per-label accuracy: 1 − Hamming loss
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True)],
        verbose=0,
    )

    logits = np.asarray(predict(model, scaler.transform(X_test)))  # (N, L)
    predicted = (logits > 0).astype(np.int64)  # each sigmoid on its own: σ(a) > 0.5
    truth = Y_test.astype(np.int64)
    # An example with no true and no predicted label is right, not undefined: zero_division=1.
    metrics.print_classification_report(
        truth, predicted, target_names=info.target_names, course=True, zero_division=1.0
    )
    print(f"epochs: {len(history)}")
    print(f"test_label_accuracy: {1 - metrics.hamming_loss(truth, predicted):.4f}")
    print(f"test_subset_accuracy: {metrics.accuracy_score(truth, predicted):.4f}")
    # Baseline: each label answered by its most frequent value in the training split.
    majority = np.broadcast_to(Y_train.mean(axis=0) > 0.5, truth.shape).astype(np.int64)
    print(
        f"baseline_test_label_accuracy: {1 - metrics.hamming_loss(truth, majority):.4f}  "
        f"(each label its training majority; subset accuracy "
        f"{metrics.accuracy_score(truth, majority):.4f})"
    )
    plots.plot_learning_curves(history, ("loss", "accuracy"), path=out / "multilabel_curves.png")


if __name__ == "__main__":
    main()
