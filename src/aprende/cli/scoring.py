"""What a run's outputs score: predictions from the model's outputs, the test metrics, and the
tables ``aprende train`` and ``aprende evaluate`` print.

``score`` turns a model's outputs on a split into the metrics of the slides (a JSON-able dict,
saved as the run folder's ``metrics.json``), ``print_scores`` prints them as tables and
``headline`` as the one parseable result line.
"""

from __future__ import annotations

import numpy as np

from aprende.datasets.info import ZERO_ONE_TASKS, is_regression
from aprende.datasets.spec import DataSpec
from aprende.terminal import records, terminal_width


def as_columns(y) -> np.ndarray:
    """Targets or outputs as float32 (N, K): one column per output."""
    y = np.asarray(y, dtype=np.float32)
    return y.reshape(len(y), -1)


def predicted_labels(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class labels from outputs: a logit > 0 (binary, each label of multi-label), or the
    largest score along the class dimension 1 (one-of-C, per element)."""
    if task == "binary":
        return (outputs[:, 0] > 0).astype(np.int64)
    if task == "multilabel":
        return (outputs > 0).astype(np.int64)
    return outputs.argmax(axis=1).astype(np.int64)


def probabilities(task: str, outputs: np.ndarray) -> np.ndarray:
    """Class probabilities: sigmoid of the logits (binary: P(class 1); multi-label: each
    label's), softmax over the classes (one-of-C, per element)."""
    if task in ZERO_ONE_TASKS:
        return 1.0 / (1.0 + np.exp(-outputs))
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def score(spec: DataSpec, y_true: np.ndarray, outputs: np.ndarray) -> dict:
    """The test metrics of the slides, as a JSON-able dict.

    Classification: the confusion matrix and, per class (one-vs-rest) and averaged, TP, FP,
    FN, TN, ACC = (TP+TN)/(TP+FP+FN+TN), TPR, FNR, TNR, FPR, PPV, NPV and F1; per-element
    tasks also pixel accuracy and IoU. Regression: MSE, RMSE, MAE and R² per output and
    averaged. ``metric``/``value`` is the headline (accuracy or R²).
    """
    from aprende import metrics

    task = spec.task
    if is_regression(task):
        return _regression_scores(spec, as_columns(y_true), as_columns(outputs))
    y_pred = predicted_labels(task, outputs)
    names = spec.target_names
    common = {"target_names": names, "zero_division": 0.0}
    if task == "multilabel":
        y_true = np.asarray(y_true).astype(np.int64)
        report = metrics.course_report(y_true, y_pred, **common)
        matrices = metrics.multilabel_confusion_matrix(y_true, y_pred)
        result = {
            "confusion_matrices": {n: m.tolist() for n, m in zip(names, matrices, strict=True)}
        }
    else:
        labels = np.arange(len(names))
        flat_true, flat_pred = np.ravel(y_true), np.ravel(y_pred)
        report = metrics.course_report(flat_true, flat_pred, labels=labels, **common)
        matrix = metrics.confusion_matrix(flat_true, flat_pred, labels=labels)
        result = {"confusion_matrix": matrix.tolist()}
        if task == "per_element":
            iou = metrics.per_class_iou(flat_true, flat_pred, num_classes=len(names))
            result["per_class_iou"] = dict(zip(names, map(_finite_or_none, iou), strict=True))
            result["mean_iou"] = metrics.mean_iou(flat_true, flat_pred, num_classes=len(names))
    for name in names:
        row = report[name]
        total = row["tp"] + row["fp"] + row["fn"] + row["tn"]
        row["acc"] = (row["tp"] + row["tn"]) / total if total else 0.0
    accuracy = report.pop("accuracy")
    return {
        "task": task,
        "metric": "accuracy",
        "value": float(accuracy),
        "accuracy": float(accuracy),
        "class_names": names,
        "classes": {name: report[name] for name in names},
        "averages": {k: v for k, v in report.items() if k not in names},
        **result,
    }


def _finite_or_none(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def is_image_regression(spec: DataSpec) -> bool:
    """A number per pixel of an image (a reconstruction): scored over all pixels at once."""
    return (
        spec.task == "multioutput_regression"
        and spec.input_shape is not None
        and spec.n_outputs == int(np.prod(spec.input_shape[1:]))
    )


def _image_regression_scores(spec: DataSpec, y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Per-pixel MSE, RMSE, MAE and R² over all pixels, and the PSNR
    10·log₁₀(range² / MSE) with the range of the true pixel values (higher is better)."""
    from aprende import metrics

    flat_true, flat_pred = y_true.reshape(-1), y_pred.reshape(-1)
    mse = float(metrics.mean_squared_error(flat_true, flat_pred))
    value_range = float(flat_true.max() - flat_true.min()) if flat_true.size else 0.0
    psnr = 10 * np.log10(value_range**2 / mse) if mse > 0 and value_range > 0 else float("inf")
    average = {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(metrics.mean_absolute_error(flat_true, flat_pred)),
        "r2": float(metrics.r2_score(flat_true, flat_pred)),
        "psnr": float(psnr),
    }
    return {
        "task": spec.task,
        "metric": "psnr",
        "value": average["psnr"],
        "outputs": {},
        "average": average,
    }


def _regression_scores(spec: DataSpec, y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    from aprende import metrics

    if is_image_regression(spec):
        return _image_regression_scores(spec, y_true, y_pred)

    raw = {"multioutput": "raw_values"}
    columns = {
        "mse": metrics.mean_squared_error(y_true, y_pred, **raw),
        "rmse": metrics.root_mean_squared_error(y_true, y_pred, **raw),
        "mae": metrics.mean_absolute_error(y_true, y_pred, **raw),
        "r2": metrics.r2_score(y_true, y_pred, **raw),
    }
    outputs = {
        name: {key: float(values[i]) for key, values in columns.items()}
        for i, name in enumerate(spec.target_names)
    }
    average = {key: float(np.mean(values)) for key, values in columns.items()}
    return {
        "task": spec.task,
        "metric": "r2",
        "value": average["r2"],
        "outputs": outputs,
        "average": average,
    }


def print_scores(spec: DataSpec, y_true: np.ndarray, outputs: np.ndarray, scores: dict) -> None:
    """The slides' metrics table and the confusion matrix (or the regression table), each in
    the terminal's width."""
    from aprende import metrics

    width = terminal_width()
    task = spec.task
    if is_regression(task):
        print(regression_table(scores, width))
        return
    y_pred = predicted_labels(task, outputs)
    names = spec.target_names
    if task == "multilabel":
        metrics.print_classification_report(
            np.asarray(y_true).astype(np.int64),
            y_pred,
            target_names=names,
            zero_division=0.0,
            course=True,
            width=width,
        )
        return
    flat_true, flat_pred = np.ravel(y_true), np.ravel(y_pred)
    labels = np.arange(len(names))
    common = {"labels": labels, "target_names": names, "width": width}
    metrics.print_classification_report(
        flat_true, flat_pred, zero_division=0.0, course=True, **common
    )
    metrics.print_confusion_matrix(flat_true, flat_pred, **common)


# The regression table's columns a narrow terminal goes without, first to last.
_REGRESSION_DROP = ("mae", "rmse", "mse")


def regression_table(scores: dict, width: int | None = None) -> str:
    """MSE, RMSE, MAE and R² per output, then their mean, as aligned text in at most
    ``width`` columns (too narrow: without MAE, then RMSE, then MSE; then one
    ``name: value`` list per output)."""
    rows = [(name, values) for name, values in scores["outputs"].items()]
    rows.append(("average", scores["average"]))
    keys = ["mse", "rmse", "mae", "r2"] + (["psnr"] if "psnr" in scores["average"] else [])
    titles = {"mse": "MSE", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "psnr": "PSNR (dB)"}
    cells = [[name, *(f"{values[k]:.4f}" for k in keys)] for name, values in rows]
    header = ["output", *(titles[k] for k in keys)]

    def lines(shown: list[int]) -> list[str]:
        widths = [max(len(row[i]) for row in [header, *cells]) for i in shown]
        gap = [0] + [2] * (len(shown) - 1)
        return [
            "".join(" " * g + row[i].rjust(w) for i, w, g in zip(shown, widths, gap, strict=True))
            for row in [header, *cells]
        ]

    shown = list(range(len(header)))
    text = lines(shown)
    for key in _REGRESSION_DROP:
        if width is None or max(map(len, text)) <= width:
            break
        shown.remove(keys.index(key) + 1)
        text = lines(shown)
    if width is not None and max(map(len, text)) > width:
        text = records(header, cells, width)
    return "\n".join(text)


def headline(scores: dict, split: str = "test") -> str:
    """The parseable result line: ``test_accuracy: 0.9815``."""
    return f"{split}_{scores['metric']}: {scores['value']:.4f}"
