"""The CSV files of ``aprende predict``: the feature rows it reads and the predictions it
writes (one row per input row: the class and each class's probability, or the values);
``write_csv`` writes ``aprende lr-find``'s table too."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from aprende.cli.errors import UsageError
from aprende.cli.scoring import as_columns, predicted_labels, probabilities
from aprende.datasets.info import is_regression
from aprende.datasets.spec import DataSpec


def read_feature_rows(path: Path, spec: DataSpec) -> np.ndarray:
    """The feature matrix (N, D) of a CSV file: columns picked by the training feature names
    when the first row is a header holding them, else all columns in order."""
    if not path.is_file():
        raise UsageError(f"INPUT: the file {str(path)!r} does not exist")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise UsageError(f"INPUT: {path} is empty")
    names = spec.feature_names
    header, body = (rows[0], rows[1:]) if not _all_numbers(rows[0]) else (None, rows)
    if header is not None and set(names) <= set(header):
        columns = [header.index(name) for name in names]
    elif len(rows[0]) == len(names):
        columns = list(range(len(names)))
    else:
        raise UsageError(
            f"INPUT: {path} has {len(rows[0])} columns; the run expects its {len(names)} "
            f"features, by name in a header ({', '.join(names[:4])}, ...) or in order"
        )
    try:
        return np.array([[float(row[j]) for j in columns] for row in body], dtype=np.float32)
    except (ValueError, IndexError) as error:
        raise UsageError(f"INPUT: {path}: a row is not numeric or too short ({error})") from None


def _all_numbers(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


def prediction_table(spec: DataSpec, outputs: np.ndarray) -> tuple[list[str], list[list]]:
    """(header, rows) of the predictions CSV for each task."""
    task, names = spec.task, spec.target_names
    if is_regression(task):
        return list(names), as_columns(outputs).tolist()
    labels = predicted_labels(task, outputs)
    p = probabilities(task, outputs)
    if task == "binary":
        header = ["prediction", *(f"p_{n}" for n in names)]
        rows = [[names[k], 1 - q, q] for k, q in zip(labels, p[:, 0], strict=True)]
        return header, rows
    if task == "multiclass":
        header = ["prediction", *(f"p_{n}" for n in names)]
        return header, [[names[k], *q] for k, q in zip(labels, p.tolist(), strict=True)]
    if task == "multilabel":
        header = [*names, *(f"p_{n}" for n in names)]
        return header, [[*k, *q] for k, q in zip(labels.tolist(), p.tolist(), strict=True)]
    header = [f"y{i}" for i in range(labels.shape[1])]
    return header, [[names[k] for k in row] for row in labels]


def write_csv(handle: TextIO, header: Sequence[str], rows: Sequence[Sequence]) -> None:
    """``header`` then ``rows`` as CSV lines, floats to 6 significant digits."""
    writer = csv.writer(handle)
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])
