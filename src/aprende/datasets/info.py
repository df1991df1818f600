"""What a loaded data set is: its arrays and a description of them (Mitchell's T and E), and
the names of the tasks a data set can pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

# The tasks a data set can pose (what each one means: ``DatasetInfo.task``), and their kinds.
TASKS = (
    "binary",
    "multiclass",
    "multilabel",
    "per_element",
    "regression",
    "multioutput_regression",
)
CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel", "per_element")
REGRESSION_TASKS = ("regression", "multioutput_regression")
SINGLE_LABEL_TASKS = ("binary", "multiclass")  # one class label per example: a split can stratify
ZERO_ONE_TASKS = ("binary", "multilabel")  # each output a 0/1 label: a logit, sigmoid and BCE
ONE_OF_C_TASKS = ("multiclass", "per_element")  # one of C classes (per position): softmax, CE


def is_regression(task: str) -> bool:
    """Whether ``task`` predicts numbers ("regression", "multioutput_regression"), not classes."""
    return task in REGRESSION_TASKS


@dataclass
class DatasetInfo:
    """Description of a data set: its task and the names of its features and targets.

    Attributes:
        name: the data set's name ("iris", "mnist", ...).
        task: one of "binary", "multiclass" (one class of C per example), "multilabel" (a 0/1
            vector of independent labels per example), "per_element" (a class per position of
            a signal or grid), "regression" (one number per example), "multioutput_regression"
            (several numbers per example).
        feature_names: one name per feature column (for images, per pixel).
        target_names: class names for the classification tasks (index c names class c), label
            names for "multilabel", output names for the regressions.
        description: a few sentences on where the data come from and what they measure.
        n_samples: number of examples N.
        image_shape: (H, W) when the features are the pixels of small images, else None.
        input_shape: the shape (C, H, W) of one example when the loader returns the images
            unflattened, X (N, C, H, W) (what ``Conv2d`` takes); None when X is (N, D) rows.
            Channels × height × width is then ``n_features``.
    """

    name: str
    task: str
    feature_names: list[str]
    target_names: list[str]
    description: str
    n_samples: int
    image_shape: tuple[int, int] | None = field(default=None)
    input_shape: tuple[int, int, int] | None = field(default=None)

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"DatasetInfo: task should be one of {TASKS}, got {self.task!r}")

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def class_names(self) -> list[str] | None:
        """The class (or label) names of a classification task; None for regression."""
        return self.target_names if self.task in CLASSIFICATION_TASKS else None

    @property
    def n_classes(self) -> int | None:
        """C for a classification task (labels for "multilabel"); None for regression."""
        return len(self.target_names) if self.task in CLASSIFICATION_TASKS else None


class DataBundle(NamedTuple):
    """A loaded data set: unpack it as ``X, y, info = load_iris()``, or read ``.data``,
    ``.target`` and ``.info``."""

    data: np.ndarray
    target: np.ndarray
    info: DatasetInfo
