"""The CSV files of ``aprende predict``: the feature rows it reads and the predictions it
writes (one row per input row: the class and each class's probability, or the values);
``write_csv`` writes ``aprende lr-find``'s table too."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

from aprende.cli.errors import UsageError
from aprende.cli.scoring import as_columns, predicted_labels, probabilities
from aprende.datasets.csv_format import is_missing, read_text, sniff_delimiter, to_number
from aprende.datasets.info import is_regression
from aprende.datasets.spec import DataSpec

if TYPE_CHECKING:
    from aprende.data import TableEncoder


def read_feature_rows(path: Path, spec: DataSpec, columns: TableEncoder | None = None):
    """The feature table (N, D) of a CSV file: columns picked by the training feature names
    when the first row is a header holding them, else all columns in order.

    Float32 numbers when the run has no ``columns`` (a ``TableEncoder``: imputation, text
    columns); with one, an object table of numbers (NaN where missing, imputed by it) and the
    text columns' strings. A missing value the run cannot impute, text in a numeric column or a
    category the run never saw is a ``UsageError`` naming the column, the row (as a
    spreadsheet counts them, the header being row 1) and the value."""
    if not path.is_file():
        raise UsageError(f"INPUT: the file {str(path)!r} does not exist")
    text = read_text(path)
    delimiter = sniff_delimiter(text)
    rows = [[c.strip() for c in row] for row in csv.reader(text.splitlines(), delimiter=delimiter)]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise UsageError(f"INPUT: {path} is empty")
    names = spec.feature_names
    text_columns = (
        dict(zip(columns.text_columns, columns.categories_, strict=True)) if columns else {}
    )
    imputes = columns is not None and columns.statistics_ is not None
    named = set(names) <= set(rows[0])
    has_header = named or (not text_columns and not _all_numbers(rows[0], delimiter))
    header, body = (rows[0], rows[1:]) if has_header else (None, rows)
    if named:
        picked = [header.index(name) for name in names]
    elif len(rows[0]) == len(names):
        picked = list(range(len(names)))
    else:
        raise UsageError(
            f"INPUT: {path} has {len(rows[0])} columns; the run expects its {len(names)} "
            f"features, by name in a header ({', '.join(names[:4])}, ...) or in order"
        )
    first = 2 if has_header else 1
    table = np.empty((len(body), len(names)), dtype=object)
    for i, row in enumerate(body):
        if len(row) <= max(picked):
            raise UsageError(
                f"INPUT: {path} row {i + first} has {len(row)} fields, expected {len(rows[0])}"
            )
        for k, j in enumerate(picked):
            where = f"INPUT: column {names[k]!r} row {i + first}"
            table[i, k] = _cell(row[j], where, text_columns.get(k), imputes, delimiter)
    return table if columns is not None else table.astype(np.float32)


def _cell(cell: str, where: str, categories: list[str] | None, imputes: bool, delimiter: str):
    """One cell of ``aprende predict``'s input, checked as the training split was: a number
    (NaN when missing and ``imputes``), or one of a text column's ``categories``."""
    if is_missing(cell):
        if categories is not None:
            raise UsageError(f"{where} is missing; a text column is not imputed: fill it in")
        if not imputes:
            raise UsageError(
                f"{where} has a missing value ({cell!r}), and the run was trained without "
                "--impute mean|median: fill it in"
            )
        return np.nan
    if categories is not None:
        if cell not in categories:
            # scikit-learn's OneHotEncoder default (handle_unknown="error"): an unseen category
            # has no one-hot column, and a row of zeros would be a silent guess.
            raise UsageError(
                f"{where}: unknown category {cell!r}; the run was trained on {categories}"
            )
        return cell
    number = to_number(cell, decimal_comma=delimiter == ";")
    if number is None or not np.isfinite(number):
        raise UsageError(f"{where}: expected a number, got {cell!r}")
    return number


def _all_numbers(row: list[str], delimiter: str) -> bool:
    """Whether a first row is data, not a header: numbers, or gaps (a row with a gap is data)."""
    return all(is_missing(c) or to_number(c, delimiter == ";") is not None for c in row)


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
