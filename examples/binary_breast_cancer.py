"""Binary classification (C = 2, SÍ/NO): breast-cancer diagnosis from cell-nucleus features.

One output unit and a sigmoid: the model gives a logit a, P(malignant | x) = σ(a), and is trained
with binary cross-entropy (``BCEWithLogitsLoss`` fuses the sigmoid in, for stability). The test
split is scored once with the weights of the best validation epoch, and reported as the slides
read the confusion matrix: TPR (sensitivity), TNR (specificity), PPV and NPV, with "malignant"
as the positive class (the diagnosis we must not miss). Two baselines give the accuracy its
meaning: always answering the majority class, and scikit-learn's logistic regression (where
scikit-learn is installed). These two classes are nearly linearly separable, so the linear model
is as good as the network here, or better: a hidden layer is not always worth its weights.

    python examples/binary_breast_cancer.py [--quick] [--out DIR]
"""

import argparse
import os
from pathlib import Path

import numpy as np

import aprende
from aprende import metrics, nn, optim, plots
from aprende.data import DataLoader, StandardScaler, TensorDataset, train_val_test_split
from aprende.datasets import load_breast_cancer
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

    X, y, info = load_breast_cancer()  # y: 0 = malignant, 1 = benign
    t = (y == 0).astype(np.float32)  # target 1 = malignant: the positive class
    X_train, t_train, X_val, t_val, X_test, t_test = train_val_test_split(X, t, stratify=t, seed=0)
    scaler = StandardScaler().fit(X_train)  # statistics of the training split only

    def loader(X, t, shuffle=False):
        data = TensorDataset(aprende.tensor(scaler.transform(X)), aprende.tensor(t[:, None]))
        return DataLoader(data, batch_size=32, shuffle=shuffle, generator=0)

    model = nn.MLP(X.shape[1], [16], 1, dropout=0.1)
    history = fit(
        model,
        optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4),
        nn.BCEWithLogitsLoss(),
        loader(X_train, t_train, shuffle=True),
        loader(X_val, t_val),
        epochs=10 if quick else 200,
        metrics=["accuracy"],
        callbacks=[EarlyStopping(patience=20, restore_best_weights=True)],
        verbose=0,
    )

    logits = np.asarray(predict(model, scaler.transform(X_test)))[:, 0]
    predicted = (logits > 0).astype(np.int64)  # σ(a) > 0.5  ⇔  a > 0
    truth = t_test.astype(np.int64)
    metrics.print_confusion_matrix(truth, predicted, target_names=["benign", "malignant"])
    print(f"epochs: {len(history)}")
    print(f"test_accuracy: {metrics.accuracy_score(truth, predicted):.4f}")
    print(f"test_tpr: {metrics.tpr(truth, predicted):.4f}  (sensitivity: malignant found)")
    print(f"test_tnr: {metrics.tnr(truth, predicted):.4f}  (specificity: benign cleared)")
    print(f"test_ppv: {metrics.ppv(truth, predicted):.4f}  (precision of 'malignant')")
    print(f"test_npv: {metrics.npv(truth, predicted):.4f}  (trust in 'benign')")
    majority = np.full_like(truth, np.bincount(t_train.astype(np.int64)).argmax())
    print(
        f"baseline_test_accuracy: {metrics.accuracy_score(truth, majority):.4f}  "
        "(always the training split's majority class, benign)"
    )
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # scikit-learn's model is an optional reference
        print("sklearn_test_accuracy: not run (scikit-learn is not installed)")
    else:
        reference = LogisticRegression(max_iter=2000).fit(scaler.transform(X_train), t_train)
        print(
            f"sklearn_test_accuracy: {reference.score(scaler.transform(X_test), t_test):.4f}  "
            "(scikit-learn's LogisticRegression: no hidden layer)"
        )

    plots.plot_learning_curves(history, ("loss", "accuracy"), path=out / "bc_learning_curves.png")
    cm = metrics.confusion_matrix(truth, predicted, labels=[1, 0])  # row/column 0: malignant
    plots.plot_confusion_matrix(
        cm, ["malignant", "benign"], normalize="true", path=out / "bc_confusion_matrix.png"
    )


if __name__ == "__main__":
    main()
