"""The CSV parts of ``aprende train``'s pipeline: reading the user's file (missing values
refused, imputed or dropped as ``impute`` says; notes printed in one line each), checking its
classes against the split, and fitting its imputation and one-hot coding on the training split.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aprende.cli.errors import UsageError, one_line
from aprende.config import RunConfig
from aprende.datasets.info import SINGLE_LABEL_TASKS, DataBundle, DatasetInfo

if TYPE_CHECKING:
    from aprende.data import TableEncoder


def load_csv_dataset(config: RunConfig) -> DataBundle:
    """``(X, y, info)`` of the configured CSV file; clear one-line errors."""
    from aprende import datasets

    path = Path(config.csv)
    if not path.is_file():
        raise UsageError(f"csv: the file {str(path)!r} does not exist")
    target = config.target or -1
    if isinstance(target, str) and target.lstrip("-").isdigit():
        target = int(target)
    task = None if config.task == "auto" else config.task
    missing = {"none": "error", "drop": "drop"}.get(config.impute, "keep")
    try:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            bundle = datasets.load_csv(
                path,
                target=target,
                delimiter=config.delimiter or None,
                task=task,
                missing=missing,
                text_features="keep",
            )
    except (OSError, ValueError, KeyError, IndexError) as error:
        hint = (
            " (or pass --impute mean|median|drop)"
            if "missing values" in str(error) and config.impute == "none"
            else ""
        )
        raise UsageError(f"csv: cannot read {path}: {one_line(error)}{hint}") from None
    for note in notes:
        print(f"csv: {str(note.message).removeprefix('load_csv: ')}")
    if not config.target:
        print(
            f"csv: {bundle.info.description} The target is the last column "
            "(--target picks another)."
        )
    _warn_many_classes(bundle.info, config)
    _check_classes_split(bundle, config)
    return bundle


def _check_classes_split(bundle: DataBundle, config: RunConfig) -> None:
    """Every class of a CSV's target needs an example in each split the stratified split makes
    (training, validation, test), or the model never sees it or its scores cannot be measured;
    the split is drawn as ``load_data`` will draw it, on the labels alone."""
    from aprende.data import train_val_test_split

    info = bundle.info
    if info.task not in SINGLE_LABEL_TASKS:
        return
    y = np.asarray(bundle.target)
    try:
        parts = train_val_test_split(
            y, val_size=config.val_size, test_size=config.test_size, stratify=y, seed=config.seed
        )
    except ValueError:
        return  # load_data reports the split's own error
    counts = np.array([np.bincount(part, minlength=len(info.target_names)) for part in parts])
    short = np.flatnonzero((counts == 0).any(axis=0))
    if short.size:
        c = short[0]
        per_class = ", ".join(
            f"{name!r} {int(n)}" for name, n in zip(info.target_names, counts.sum(0), strict=True)
        )
        raise UsageError(
            f"csv: class {info.target_names[c]!r} has too few examples ({int(counts[:, c].sum())}) "
            f"to appear in the training, validation and test splits (it gets training "
            f"{counts[0, c]}, validation {counts[1, c]}, test {counts[2, c]}); examples per "
            f"class: {per_class}; "
            "add examples of it, drop its rows, or lower --val-size/--test-size"
        )


def _warn_many_classes(info: DatasetInfo, config: RunConfig) -> None:
    """Whole numbers in a target column read as classes; say so when they look like a
    quantity (more classes than a tenth of the examples)."""
    classes = info.n_classes or 0
    if config.task == "auto" and info.task == "multiclass" and classes > info.n_samples / 10:
        print(
            f"warning: the csv target column {config.target or '(the last one)'} was read as "
            f"{classes} classes (whole numbers); pass --task regression if it is a quantity",
            file=sys.stderr,
        )


def fit_columns(
    config: RunConfig, info: DatasetInfo, X: dict[str, np.ndarray]
) -> TableEncoder | None:
    """A CSV's imputation (``impute`` mean or median) and one-hot coding of its text columns,
    fitted on the training split and checked on the others; None where neither applies."""
    from aprende.data import TableEncoder

    text = X["train"].dtype == object
    strategy = config.impute if config.impute in ("mean", "median") else None
    if config.dataset != "csv" or not (text or strategy):
        return None
    table = X["train"]
    text_columns = [j for j in range(table.shape[1]) if text and isinstance(table[0, j], str)]
    encoder = TableEncoder(info.feature_names, text_columns, strategy)
    try:
        encoder.fit(table)
    except ValueError as error:
        raise UsageError(f"csv: {one_line(error)}") from None
    for j, categories in zip(encoder.text_columns, encoder.categories_, strict=True):
        for split, split_name in (("val", "validation"), ("test", "test")):
            unseen = sorted(set(X[split][:, j].astype(str)) - set(categories))
            if unseen:
                # The training split's categories are what a model can learn; one seen only
                # in another split would be coded as no category at all.
                raise UsageError(
                    f"csv: column {info.feature_names[j]!r}: category {unseen[0]!r} is in the "
                    f"{split_name} split but not in the training split (which holds "
                    f"{categories}): add examples of it, drop its rows or merge it with another"
                )
    for j, categories in zip(encoder.text_columns, encoder.categories_, strict=True):
        print(f"one-hot encoded column {info.feature_names[j]!r} ({len(categories)} categories)")
    return encoder
