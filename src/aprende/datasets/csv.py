"""A table of numbers in a CSV file as features and targets."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aprende.datasets.info import DataBundle, DatasetInfo


def _read_rows(path: Path, delimiter: str, header: bool) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as file:
        rows = [row for row in csv.reader(file, delimiter=delimiter) if row]
    if header:
        if not rows:
            raise ValueError(f"load_csv: {path} is empty, expected a header line")
        names, rows = [name.strip() for name in rows[0]], rows[1:]
    else:
        names = [f"column{i}" for i in range(len(rows[0]))] if rows else []
    if not rows:
        raise ValueError(f"load_csv: {path} has no data rows")
    for line, row in enumerate(rows, start=2 if header else 1):
        if len(row) != len(names):
            raise ValueError(
                f"load_csv: {path} line {line} has {len(row)} fields, expected {len(names)}"
            )
    return names, rows


def _column_index(target: str | int, names: list[str], path: Path, header: bool) -> int:
    if isinstance(target, str):
        if not header:
            raise ValueError(
                f"load_csv: target {target!r} is a column name, but {path} is read with "
                "header=False; give the column's index"
            )
        if target not in names:
            raise ValueError(f"load_csv: no column {target!r} in {path}; columns: {names}")
        return names.index(target)
    if not -len(names) <= target < len(names):
        raise ValueError(
            f"load_csv: target column index {target} out of range for {len(names)} columns"
        )
    return target % len(names)


def _to_float(cells: np.ndarray, names: list[str], path: Path, header: bool) -> np.ndarray:
    """String cells (N, K) as float64, or a ValueError naming the first bad cell."""
    try:
        return cells.astype(np.float64)
    except ValueError:
        for j in range(cells.shape[1]):
            for i, cell in enumerate(cells[:, j]):
                try:
                    float(cell)
                except ValueError:
                    raise ValueError(
                        f"load_csv: {path} line {i + 1 + header}, column {names[j]!r}: expected a "
                        f"number, got {str(cell)!r} (only the target column may hold text labels)"
                    ) from None
        raise


def _encode_classes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Labels (numbers or text) to 0..C−1 in sorted order, and the class names."""
    try:
        numeric = values.astype(np.float64)
    except ValueError:
        classes, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64), [str(c) for c in classes]
    classes, codes = np.unique(numeric, return_inverse=True)
    names = [str(int(c)) if float(c).is_integer() else str(c) for c in classes]
    return codes.astype(np.int64), names


def _single_target_task(values: np.ndarray) -> str:
    """Text or whole numbers are classes, other numbers regression (sklearn's type_of_target)."""
    try:
        numeric = values.astype(np.float64)
    except ValueError:
        return "binary" if len(np.unique(values)) <= 2 else "multiclass"
    if not np.all(np.isfinite(numeric)) or not np.all(numeric == np.round(numeric)):
        return "regression"
    return "binary" if len(np.unique(numeric)) <= 2 else "multiclass"


def load_csv(
    path: str | os.PathLike,
    target: str | int | Sequence[str | int] = -1,
    delimiter: str = ",",
    header: bool = True,
    task: str | None = None,
) -> DataBundle:
    """Features and targets from a CSV file: ``X, y, info = load_csv("data.csv", target="class")``.

    Args:
        path: the CSV file.
        target: the target column, by name (needs ``header``) or index (negative counts from the
            end; default the last column); a list of columns for several targets.
        delimiter: the field separator.
        header: whether the first line names the columns.
        task: the task (see ``DatasetInfo``), or None to infer it as scikit-learn's
            ``type_of_target`` does: text labels or whole numbers are classes ("binary" for 2,
            else "multiclass"), other numbers "regression"; several columns of 0/1 are
            "multilabel", other several columns "multioutput_regression".

    Every other column is a numeric feature: X (N, D) float32. Class labels are encoded as
    0..C−1 in sorted order, y (N,) int64, ``info.target_names`` holding the original labels;
    regression targets are float32, multi-label targets float32 0/1 (N, L).
    """
    path = Path(path)
    names, rows = _read_rows(path, delimiter, header)
    targets = [target] if isinstance(target, str | int) else list(target)
    columns = [_column_index(t, names, path, header) for t in targets]
    cells = np.array(rows, dtype=str)
    features = [j for j in range(len(names)) if j not in columns]
    X = _to_float(cells[:, features], [names[j] for j in features], path, header)
    values = cells[:, columns]
    if len(columns) == 1:
        allowed = ("binary", "multiclass", "regression")
        task = task or _single_target_task(values[:, 0])
        if task not in allowed:
            raise ValueError(f"load_csv: one target column allows task in {allowed}, got {task!r}")
        if task == "regression":
            y = _to_float(values, [names[columns[0]]], path, header)[:, 0].astype(np.float32)
            target_names = [names[columns[0]]]
        else:
            y, target_names = _encode_classes(values[:, 0])
            if task == "binary" and len(target_names) > 2:
                raise ValueError(
                    f"load_csv: task 'binary' but column {names[columns[0]]!r} holds "
                    f"{len(target_names)} classes"
                )
    else:
        allowed = ("multilabel", "multioutput_regression")
        y = _to_float(values, [names[j] for j in columns], path, header).astype(np.float32)
        task = task or ("multilabel" if np.isin(y, (0, 1)).all() else "multioutput_regression")
        if task not in allowed:
            raise ValueError(
                f"load_csv: several target columns allow task in {allowed}, got {task!r}"
            )
        target_names = [names[j] for j in columns]
    return DataBundle(
        X.astype(np.float32),
        y,
        DatasetInfo(
            name=path.stem,
            task=task,
            feature_names=[names[j] for j in features],
            target_names=target_names,
            description=f"Read from {path}: {len(features)} numeric features, target "
            f"column(s) {[names[j] for j in columns]}.",
            n_samples=len(rows),
        ),
    )
