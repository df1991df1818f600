"""Reports: scikit-learn's ``classification_report``, the slides' ``course_report`` (counts
and every rate, per class and averaged), and both, or the confusion matrix, printed as tables
with ``rich``."""

from __future__ import annotations

import numpy as np

from aprende.metrics._checks import (
    ArrayLike,
    _as_numpy,
    _check_targets,
    _check_weight,
    _check_zero_division,
    _Targets,
    _warn,
)
from aprende.metrics.confusion import ConfusionCounts, _class_counts, confusion_matrix
from aprende.metrics.rates import (
    _average_values,
    _divide,
    _fbeta_values,
    _nanaverage,
    _rate_values,
    accuracy_score,
    precision_recall_fscore_support,
)
from aprende.terminal import print_table


def _report_labels(targets: _Targets, labels, target_names, name: str):
    """The labels, their display names, and whether the micro average is the accuracy."""
    labels_given = labels is not None
    labels = targets.classes if labels is None else _as_numpy(labels).reshape(-1)
    # the micro average equals accuracy only for single-label targets over every class present
    micro_is_accuracy = targets.kind != "multilabel-indicator" and (
        not labels_given or set(labels.tolist()) >= set(targets.classes.tolist())
    )
    if target_names is not None and len(target_names) != labels.size:
        if not labels_given:
            raise ValueError(
                f"{name}: number of classes, {labels.size}, does not match size of "
                f"target_names, {len(target_names)}. Try specifying the labels parameter"
            )
        _warn(
            f"labels size, {labels.size}, does not match size of target_names, {len(target_names)}",
            UserWarning,
        )
    if target_names is None:
        target_names = [str(label) for label in labels.tolist()]
    return labels, list(target_names), micro_is_accuracy


def _average_options(targets: _Targets) -> tuple[str, ...]:
    multilabel = targets.kind == "multilabel-indicator"
    return (
        ("micro", "macro", "weighted", "samples") if multilabel else ("micro", "macro", "weighted")
    )


def _report_rows(y_true, y_pred, labels, target_names, sample_weight, zero_division, name):
    """scikit-learn's report: rows (heading, precision, recall, f1, support), per class then
    per average (the micro row headed "accuracy" when it is one); and how many are classes."""
    targets = _check_targets(y_true, y_pred, name)
    labels, target_names, micro_is_accuracy = _report_labels(targets, labels, target_names, name)
    common = {"labels": labels, "sample_weight": sample_weight, "zero_division": zero_division}
    p, r, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, **common)
    rows = list(zip(target_names, p, r, f1, support, strict=False))
    n_classes = len(rows)
    for average in _average_options(targets):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        averaged = precision_recall_fscore_support(y_true, y_pred, average=average, **common)
        rows.append((heading, *averaged[:3], np.sum(support)))
    return rows, n_classes


def classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    digits: int = 2,
    output_dict: bool = False,
    zero_division="warn",
):
    """Precision (PPV), recall (TPR), F1 and support of every class, and their averages.

    As scikit-learn's: a text table, or with ``output_dict=True`` a dict
    ``{class name: {"precision", "recall", "f1-score", "support"}, "accuracy": float,
    "macro avg": {...}, "weighted avg": {...}}`` ("micro avg" instead of "accuracy" when
    ``labels`` leaves classes out or the target is multilabel, plus "samples avg" then).
    ``course_report`` adds the slides' TN-based rates (TNR, FPR, NPV) and the counts;
    ``print_classification_report`` prints either as a table.

    Args:
        y_true, y_pred: labels (N,) or multilabel 0/1 indicators (N, L).
        labels: the classes to report, in this order (default: all present, sorted).
        target_names: display names of ``labels``.
        sample_weight: weights of shape (N,).
        digits: decimals of the text table.
        zero_division: as in ``precision_recall_fscore_support``.
    """
    rows, n_classes = _report_rows(
        y_true, y_pred, labels, target_names, sample_weight, zero_division, "classification_report"
    )
    headers = ("precision", "recall", "f1-score", "support")
    if output_dict:
        report = {row[0]: dict(zip(headers, map(float, row[1:]), strict=True)) for row in rows}
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    width = max(*(len(row[0]) for row in rows[:n_classes]), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_format = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for i, row in enumerate(rows):
        if i == n_classes:
            text += "\n"
        if row[0] == "accuracy":  # accuracy is one number: shown in the F1 column
            accuracy_format = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n"
            text += accuracy_format.format("accuracy", "", "", *row[3:], width=width, digits=digits)
        else:
            text += row_format.format(*row, width=width, digits=digits)
    return text


_COURSE_RATES = ("tpr", "fnr", "tnr", "fpr", "ppv", "npv")


def _course_rates(counts: ConfusionCounts, average, zero_division) -> dict:
    rates = {rate: _rate_values(counts, rate, zero_division, average) for rate in _COURSE_RATES}
    rates["f1-score"] = _fbeta_values(counts, 1.0, zero_division, average)
    return rates


def course_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    zero_division="warn",
) -> dict:
    """Every quantity of the slides, per class (one-vs-rest) and averaged, as a dict.

    Per class: the counts "tp", "fp", "fn", "tn"; read by row "tpr" (recall, sensitivity)
    = TP/(TP+FN) and "fnr" (miss rate) = 1 - TPR, "tnr" (specificity) = TN/(TN+FP) and "fpr"
    (false alarm rate) = 1 - TNR; read by column "ppv" (precision) = TP/(TP+FP) and "npv" =
    TN/(TN+FN); "f1-score" and "support" (TP + FN). Then "accuracy" (subset accuracy for
    multilabel targets) and the rates averaged: "micro avg", "macro avg", "weighted avg"
    (by support) and, multilabel, "samples avg". Parameters as in ``classification_report``.
    """
    name = "course_report"
    _check_zero_division(zero_division, name)
    targets = _check_targets(y_true, y_pred, name)
    weight = _check_weight(sample_weight, targets.y_true.shape[0], name)
    labels, target_names, _ = _report_labels(targets, labels, target_names, name)
    counts = _class_counts(targets, labels, weight, False, name)
    per_class = {**counts._asdict(), **_course_rates(counts, None, zero_division)}
    per_class["support"] = counts.tp + counts.fn
    report = {
        class_name: {key: values[i].item() for key, values in per_class.items()}
        for i, class_name in enumerate(target_names)
    }
    report["accuracy"] = accuracy_score(y_true, y_pred, sample_weight=sample_weight)
    support = float(np.sum(per_class["support"]))
    rate_keys = (*_COURSE_RATES, "f1-score")
    for average in _average_options(targets):
        if average == "micro":
            summed = ConfusionCounts(*(c.sum(keepdims=True) for c in counts))
            rates = _course_rates(summed, average, zero_division)
            averaged = {key: float(rates[key][0]) for key in rate_keys}
        elif average == "samples":
            by_sample = _class_counts(targets, labels, weight, True, name)
            rates = _course_rates(by_sample, average, zero_division)
            averaged = {key: _nanaverage(rates[key], weight) for key in rate_keys}
        else:
            averaged = {
                key: _average_values(per_class[key], counts, average, weight) for key in rate_keys
            }
        report[f"{average} avg"] = {**averaged, "support": support}
    return report


def _count_text(value, digits: int) -> str:
    """A count as an integer when it is one (weighted counts may not be)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.{digits}f}"


def print_classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    digits: int = 2,
    zero_division="warn",
    course: bool = False,
    file=None,
    width: int | None = None,
) -> None:
    """Print ``classification_report`` (or, with ``course=True``, ``course_report``: counts
    and every rate of the slides) as a table, with ``rich``.

    Args:
        file: where to print (default: standard output).
        width: the most columns a line may take (``aprende.terminal.terminal_width()`` for a
            terminal's); too narrow, the rates that others imply go first (FNR = 1 − TPR,
            FPR = 1 − TNR), then the counts, and last comes one ``name: value`` list per
            class. None: the table's natural width.
        Other parameters as in ``classification_report``.
    """
    common = {
        "labels": labels,
        "target_names": target_names,
        "sample_weight": sample_weight,
        "zero_division": zero_division,
    }
    if course:
        report = course_report(y_true, y_pred, **common)
        columns = ("tp", "fp", "fn", "tn", *_COURSE_RATES, "f1-score", "support")
        headers = (*(column.upper() for column in columns[:10]), "F1", "support")
        caption = (
            f"accuracy = {report.pop('accuracy'):.{digits}f}; by row: TPR = TP/(TP+FN) = "
            "1 - FNR, TNR = TN/(TN+FP) = 1 - FPR; by column: PPV = TP/(TP+FP), NPV = TN/(TN+FN)"
        )
        title = "Course report (one-vs-rest per class)"
    else:
        report = classification_report(y_true, y_pred, output_dict=True, **common)
        columns = headers = ("precision", "recall", "f1-score", "support")
        accuracy_row = report.get("accuracy")
        if accuracy_row is not None:
            report["accuracy"] = {
                "f1-score": accuracy_row,
                "support": report["macro avg"]["support"],
            }
        caption, title = None, "Classification report"
    rows, section = [], None
    for key, row in report.items():
        if section is None and (key == "accuracy" or key.endswith(" avg")):
            section = len(rows)
        cells = []
        for column in columns:
            if column not in row:
                cells.append("")
            elif column in ("tp", "fp", "fn", "tn", "support"):
                cells.append(_count_text(row[column], digits))
            else:
                cells.append(f"{row[column]:.{digits}f}")
        rows.append([str(key), *cells])
    print_table(
        ("class", *headers),
        rows,
        title=title,
        caption=caption,
        section=section,
        width=width,
        drop=_REPORT_DROP,
        short={"support": "n", "precision": "prec", "f1-score": "F1"},
        file=file,
    )


# The report's columns a narrow terminal goes without, first to last: the rates that others
# imply (FNR = 1 − TPR, FPR = 1 − TNR), the negatives' counts and rates, then the positives'.
_REPORT_DROP = ("FNR", "FPR", "TN", "NPV", "FN", "FP", "TP", "TNR", "support")


def print_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    target_names: list[str] | None = None,
    sample_weight: ArrayLike | None = None,
    normalize: str | None = None,
    digits: int = 2,
    file=None,
    width: int | None = None,
) -> None:
    """Print the confusion matrix (rows: true class, columns: predicted) as a table, with
    each row's TPR (recall: read by row) in the last column and each column's PPV
    (precision: read by column) in the last row. ``width``: the most columns a line may take
    (too narrow: borderless, then one ``predicted: count`` list per true class; None: the
    natural width). Other parameters as in ``confusion_matrix``."""
    targets = _check_targets(y_true, y_pred, "print_confusion_matrix")
    labels = targets.classes if labels is None else _as_numpy(labels).reshape(-1)
    names = [str(label) for label in labels.tolist()] if target_names is None else target_names
    if len(names) != labels.size:
        raise ValueError(
            f"print_confusion_matrix: {len(names)} target_names for {labels.size} classes"
        )
    common = {"labels": labels, "sample_weight": sample_weight}
    counts = confusion_matrix(y_true, y_pred, **common)
    shown = confusion_matrix(y_true, y_pred, normalize=normalize, **common)
    diagonal = np.diag(counts)
    row_tpr = _divide(diagonal, counts.sum(axis=1), 0.0, "TPR", "true", None)
    column_ppv = _divide(diagonal, counts.sum(axis=0), 0.0, "PPV", "predicted", None)
    rows = []
    for class_name, row, rate in zip(names, shown, row_tpr, strict=True):
        if normalize is None:
            cells = [_count_text(value, digits) for value in row.tolist()]
        else:
            cells = [f"{value:.{digits}f}" for value in row.tolist()]
        rows.append([class_name, *cells, f"{rate:.{digits}f}"])
    rows.append(["PPV (column)", *(f"{rate:.{digits}f}" for rate in column_ppv), ""])
    print_table(
        ("true \\ predicted", *names, "TPR (row)"),
        rows,
        title="Confusion matrix (rows: true class, columns: predicted class)",
        section=len(rows) - 1,
        width=width,
        short={"true \\ predicted": "true\\pred", "TPR (row)": "TPR"},
        file=file,
    )
