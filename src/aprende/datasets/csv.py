"""A table of numbers in a CSV file as features and targets."""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aprende.datasets.csv_format import (
    has_header,
    missing_mask,
    read_text,
    sniff_delimiter,
    to_number,
)
from aprende.datasets.info import DataBundle, DatasetInfo

_SEPARATORS = {",": "','", ";": "';'", "\t": "tabs"}


def _read_rows(
    path: Path, delimiter: str | None, header: bool | None
) -> tuple[list[str], list[list[str]], str, bool]:
    """Column names, data rows (text cells), the delimiter and whether a header line was read."""
    text = read_text(path)
    delimiter = delimiter or sniff_delimiter(text)
    rows = [row for row in csv.reader(text.splitlines(), delimiter=delimiter) if any(row)]
    if header is None:
        header = has_header(rows, decimal_comma=delimiter == ";")
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
                f"load_csv: {path} line {line} has {len(row)} fields, expected {len(names)} "
                f"(fields separated by {delimiter!r}; give the delimiter if it is another)"
            )
    return names, rows, delimiter, header


def _rows_text(rows: list[int], shown: int = 5) -> str:
    listed = ", ".join(str(r) for r in rows[:shown])
    return listed + (f" (and {len(rows) - shown} more)" if len(rows) > shown else "")


def _column_numbers(
    cells: np.ndarray, name: str, lines: np.ndarray, delimiter: str, text_ok: bool = False
) -> np.ndarray | None:
    """One column of text cells as float64, a missing cell (``MISSING``) as NaN; a ValueError
    naming the column and row (``lines``: each cell's line of the file) for text or for a
    decimal comma the delimiter cannot hold; None for a text column where ``text_ok``."""
    gaps = missing_mask(cells)
    present, at = cells[~gaps], lines[~gaps]
    result = np.full(len(cells), np.nan)
    try:  # the fast path: plain numbers
        result[~gaps] = present.astype(np.float64)
        return _finite(result, cells, name, lines)
    except ValueError:
        pass
    decimal_comma = delimiter == ";"
    numbers = [to_number(cell, decimal_comma) for cell in present]
    bad = [i for i, x in enumerate(numbers) if x is None]
    if not bad:
        result[~gaps] = numbers
        return _finite(result, cells, name, lines)
    comma = [i for i in bad if to_number(present[i], decimal_comma=True) is not None]
    if comma and len(comma) == len(bad):
        cell = str(present[comma[0]])
        raise ValueError(
            f"column {name!r} row {at[comma[0]]}: {cell!r} has a decimal comma, read "
            f"only in ';'-separated files (this one is separated by {delimiter!r}); write "
            f"{cell.replace(',', '.')!r} or save the file with ';' between fields"
        )
    if text_ok:
        return None
    values = list(dict.fromkeys(str(present[i]).strip() for i in bad))
    shown = ", ".join(repr(v) for v in values[:4]) + (", ..." if len(values) > 4 else "")
    raise ValueError(
        f"line {at[bad[0]]}, column {name!r}: expected a number, got "
        f"{str(present[bad[0]]).strip()!r}; the column holds text ({shown}): one-hot encode it "
        "or drop it (only the target column may hold text labels)"
    )


def _finite(numbers: np.ndarray, cells: np.ndarray, name: str, lines: np.ndarray) -> np.ndarray:
    """``numbers`` unless a cell overflowed to infinity (``1e999``): a ValueError naming it."""
    huge = np.flatnonzero(np.isinf(numbers))
    if huge.size:
        i = huge[0]
        raise ValueError(
            f"column {name!r} row {lines[i]}: {cells[i].strip()!r} is beyond float64's range "
            "(about 1.8e308)"
        )
    return numbers


def _drop_rows(
    cells: np.ndarray, lines: np.ndarray, drop: np.ndarray, why: str
) -> tuple[np.ndarray, np.ndarray]:
    """The cells and line numbers without the rows ``drop``, said in a warning."""
    warnings.warn(
        f"load_csv: dropped {int(drop.sum())} row(s) {why} "
        f"(rows {_rows_text(lines[drop].tolist())})",
        stacklevel=3,
    )
    if drop.all():
        raise ValueError(f"load_csv: no row is left once the rows {why} are dropped")
    return cells[~drop], lines[~drop]


def _missing_error(gaps: np.ndarray, names: list[str], lines: np.ndarray) -> ValueError:
    """One line naming each column with missing values and its first rows."""
    parts = [
        f"{names[k]!r} in rows {_rows_text(lines[gaps[:, k]].tolist())}"
        for k in range(gaps.shape[1])
        if gaps[:, k].any()
    ]
    first = parts[0].replace(" in rows", " has missing values in rows", 1)
    more = "; column " + "; column ".join(parts[1:]) if parts[1:] else ""
    return ValueError(f"column {first}{more}: fill them in or drop those rows")


def _text_column(
    cells: np.ndarray, name: str, lines: np.ndarray, delimiter: str, max_categories: int = 50
) -> np.ndarray:
    """A text feature column, checked to be one of categories: each cell stripped, no cell
    missing, no stray number (a numeric column with a typo), at most ``max_categories`` distinct
    values and at most half as many as rows (more is an id or free text)."""
    column = np.char.strip(cells)
    gaps = missing_mask(column)
    if gaps.any():
        raise ValueError(
            f"column {name!r} holds text with missing values in rows "
            f"{_rows_text(lines[gaps].tolist())}: fill them in or drop those rows (text is "
            "not imputed)"
        )
    if any(to_number(c, delimiter == ";") is not None for c in column):
        _column_numbers(cells, name, lines, delimiter)  # raises, naming the first text cell
    distinct = len(np.unique(column))
    if distinct > max_categories or distinct > len(column) / 2:
        raise ValueError(
            f"column {name!r} holds text with {distinct} distinct values in {len(column)} rows, "
            f"too many categories to one-hot encode (at most {max_categories} and half the rows; "
            "an id or free text?): drop the column"
        )
    return column.astype(object)


def _feature_kinds(values_of: list) -> str:
    text = sum(v is None for v in values_of)
    numeric = f"{len(values_of) - text} numeric features"
    return numeric + (f" and {text} text (categorical)" if text else "")


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
    delimiter: str | None = None,
    header: bool | None = None,
    task: str | None = None,
    missing: str = "error",
    text_features: str = "error",
) -> DataBundle:
    """Features and targets from a CSV file: ``X, y, info = load_csv("data.csv", target="class")``.

    Args:
        path: the CSV file, UTF-8 (with or without a byte-order mark) or Windows-1252.
        target: the target column, by name (needs a header) or index (negative counts from the
            end; default the last column); a list of columns for several targets.
        delimiter: the field separator, or None to find it among ``,`` ``;`` and tab from the
            first lines. In a ``;``-separated file a decimal comma (``3,5``) reads as 3.5.
        header: whether the first line names the columns, or None to detect it: it does when a
            cell of it is text in a column of numbers. Without one, columns are ``column0``, ...
        task: the task (see ``DatasetInfo``), or None to infer it as scikit-learn's
            ``type_of_target`` does: text labels or whole numbers are classes ("binary" for 2,
            else "multiclass"), other numbers "regression"; several columns of 0/1 are
            "multilabel", other several columns "multioutput_regression".

        missing: what a missing feature value (an empty cell, ``nan``, ``NA``, ``?``, ``null``,
            ``inf``) does: "error" (a ValueError naming the columns and rows), "drop" (the
            row is dropped, with a warning saying how many) or "keep" (it reads as NaN, for an
            imputer fitted on the training split: ``TableEncoder``, ``SimpleImputer``). A row
            whose target is missing is always dropped, with a warning: a target is never
            imputed.
        text_features: what a feature column of text does: "error" (a ValueError naming it
            and its values) or "keep" (its stripped cells stay strings in an object array X,
            for a one-hot encoding fitted on the training split; a column of more than 50
            distinct values, or more than half as many as rows, is refused as an id or free
            text).

    Every other column is a numeric feature: X (N, D) float32 (object, numbers and strings,
    where ``text_features="keep"`` keeps a text column). Class labels are encoded as 0..C−1 in
    sorted order, y (N,) int64, ``info.target_names`` holding the original labels; regression
    targets are float32, multi-label targets float32 0/1 (N, L). A target of one value is a
    ValueError; errors name the column and the rows (lines of the file, counting the header).
    """
    if missing not in ("error", "drop", "keep"):
        raise ValueError(f"load_csv: missing should be 'error', 'drop' or 'keep', got {missing!r}")
    if text_features not in ("error", "keep"):
        raise ValueError(
            f"load_csv: text_features should be 'error' or 'keep', got {text_features!r}"
        )
    path = Path(path)
    names, rows, delimiter, header = _read_rows(path, delimiter, header)
    targets = [target] if isinstance(target, str | int) else list(target)
    columns = [_column_index(t, names, path, header) for t in targets]
    cells = np.array(rows, dtype=str)
    lines = np.arange(len(rows)) + (2 if header else 1)
    features = [j for j in range(len(names)) if j not in columns]
    if not features:
        raise ValueError(
            f"load_csv: {path} has {len(names)} column(s), all of them target(s), expected at "
            f"least one feature column besides (fields read as separated by {delimiter!r})"
        )
    gaps = missing_mask(cells)
    if gaps[:, columns].any():
        target_names_ = ", ".join(repr(names[j]) for j in columns)
        why = f"whose target {target_names_} is missing"
        cells, lines = _drop_rows(cells, lines, gaps[:, columns].any(axis=1), why)
        gaps = missing_mask(cells)
    if gaps[:, features].any() and missing == "error":
        raise _missing_error(gaps[:, features], [names[j] for j in features], lines)
    if gaps[:, features].any() and missing == "drop":
        cells, lines = _drop_rows(
            cells, lines, gaps[:, features].any(axis=1), "with a missing value"
        )

    def numbers(j: int, text_ok: bool = False) -> np.ndarray | None:
        return _column_numbers(cells[:, j], names[j], lines, delimiter, text_ok)

    keep_text = text_features == "keep"
    values_of = [numbers(j, text_ok=keep_text) for j in features]
    if any(v is None for v in values_of):
        X = np.empty((len(cells), len(features)), dtype=object)
        for k, (j, v) in enumerate(zip(features, values_of, strict=True)):
            X[:, k] = _text_column(cells[:, j], names[j], lines, delimiter) if v is None else v
    else:
        X = np.stack(values_of, axis=1).astype(np.float32)
    if len(columns) == 1:
        j = columns[0]
        numeric = numbers(j, text_ok=True)
        values = numeric if numeric is not None else np.char.strip(cells[:, j])
        if len(np.unique(values)) == 1:
            raise ValueError(
                f"the target column {names[j]!r} holds a single value ({cells[0, j].strip()!r}): "
                "nothing to learn"
            )
        allowed = ("binary", "multiclass", "regression")
        task = task or _single_target_task(values)
        if task not in allowed:
            raise ValueError(f"load_csv: one target column allows task in {allowed}, got {task!r}")
        if task == "regression":
            if numeric is None:
                numbers(j)  # raises, naming the text cells
            y = values.astype(np.float32)
            target_names = [names[j]]
        else:
            y, target_names = _encode_classes(values)
            if task == "binary" and len(target_names) > 2:
                raise ValueError(
                    f"load_csv: task 'binary' but column {names[j]!r} holds "
                    f"{len(target_names)} classes"
                )
    else:
        allowed = ("multilabel", "multioutput_regression")
        y = np.stack([numbers(j) for j in columns], axis=1).astype(np.float32)
        task = task or ("multilabel" if np.isin(y, (0, 1)).all() else "multioutput_regression")
        if task not in allowed:
            raise ValueError(
                f"load_csv: several target columns allow task in {allowed}, got {task!r}"
            )
        target_names = [names[j] for j in columns]
    return DataBundle(
        X,
        y,
        DatasetInfo(
            name=path.stem,
            task=task,
            feature_names=[names[j] for j in features],
            target_names=target_names,
            description=f"Read from {path} (fields separated by {_SEPARATORS[delimiter]}, "
            f"{'a header line' if header else 'no header line'}): {_feature_kinds(values_of)}, "
            f"target column(s) {', '.join(repr(names[j]) for j in columns)}.",
            n_samples=len(cells),
        ),
    )
