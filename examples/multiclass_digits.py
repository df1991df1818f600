"""One-of-C classification: handwritten digits (8×8 images, C = 10 classes).

C output units, softmax and categorical cross-entropy (``CrossEntropyLoss`` takes the raw scores
and integer labels 0..C−1; it applies a stable log-softmax itself). Inputs are z-normalised with
statistics of the training split; the split is seeded and stratified; early stopping keeps the
weights of the best validation epoch, which score the test split once. The slides' per-class
table (TP, FP, FN, TN, TPR, TNR, PPV, NPV, F1) and confusion matrix follow, and two baselines:
always the most frequent digit, and scikit-learn's logistic regression (where it is installed).

    python examples/multiclass_digits.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import load_digits
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

    X, y, info = load_digits()
    X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(X, y, stratify=y, seed=0)
    scaler = StandardScaler().fit(X_train)

    def loader(X, y, shuffle=False):
        data = TensorDataset(aprende.tensor(scaler.transform(X)), aprende.tensor(y))
        return DataLoader(data, batch_size=32, shuffle=shuffle, generator=0)

    model = nn.MLP(64, [128], 10, dropout=0.1)
    model.summary(input_size=(1, 64), print_fn=print)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4),
        nn.CrossEntropyLoss(),
        loader(X_train, y_train, shuffle=True),
        loader(X_val, y_val),
        epochs=5 if quick else 100,
        metrics=["accuracy"],
        callbacks=[EarlyStopping(patience=15, restore_best_weights=True)],
        verbose=0,
    )

    scores = np.asarray(predict(model, scaler.transform(X_test)))  # (N, 10) logits
    predicted = scores.argmax(axis=1)  # the class of the largest score (softmax is monotone)
    metrics.print_classification_report(y_test, predicted, course=True)
    print(f"epochs: {len(history)}")
    print(f"test_accuracy: {metrics.accuracy_score(y_test, predicted):.4f}")
    majority = np.full_like(y_test, np.bincount(y_train).argmax())
    print(
        f"baseline_test_accuracy: {metrics.accuracy_score(y_test, majority):.4f}  "
        "(always the training split's most frequent digit)"
    )
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # scikit-learn's model is an optional reference
        print("sklearn_test_accuracy: not run (scikit-learn is not installed)")
    else:
        reference = LogisticRegression(max_iter=2000).fit(scaler.transform(X_train), y_train)
        print(
            f"sklearn_test_accuracy: {reference.score(scaler.transform(X_test), y_test):.4f}  "
            "(scikit-learn's LogisticRegression: no hidden layer)"
        )

    plots.plot_learning_curves(history, ("loss", "accuracy"), path=out / "digits_curves.png")
    plots.plot_confusion_matrix(
        metrics.confusion_matrix(y_test, predicted),
        info.class_names,
        normalize="true",
        path=out / "digits_confusion_matrix.png",
    )


if __name__ == "__main__":
    main()
