"""What a model trained on a data set needs to know of it: ``DataSpec``.

``aprende train`` saves a ``DataSpec`` in every checkpoint (as ``to_dict()`` writes it, under the
key ``"dataset"`` of the checkpoint's config), so that ``aprende evaluate`` and ``aprende
predict`` can rebuild the model and read its outputs from the checkpoint alone::

    spec = DataSpec.from_dict(saved["config"]["dataset"])
    spec.n_features, spec.n_outputs, spec.target_names
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from aprende.datasets.info import TASKS


@dataclass
class DataSpec:
    """A data set as a model trained on it sees it: its task, the names of its inputs and
    outputs, their numbers, and the sizes of its train/validation/test splits.

    Attributes:
        name: the data set's name ("iris"; a CSV file's stem).
        task: one of ``aprende.datasets.info.TASKS``.
        description: a few sentences on where the data come from and what they measure.
        feature_names: one name per input column, in the order the model takes them (``aprende
            predict`` picks a CSV's columns by these names).
        target_names: the class names (index c names class c; label names for "multilabel"),
            or the output names of a regression.
        n_features: D, the number of inputs of the model (each example flattened).
        n_outputs: the number of outputs of the network: 1 (binary, regression), C (multiclass,
            multilabel), C·L (per-element: C class scores at each of L positions), K
            (multi-output regression).
        positions: L, the positions of a per-element task (each gets one of the C classes);
            None for the other tasks.
        sizes: the number of examples of each split, ``{"train": ..., "val": ..., "test": ...}``.
        input_shape: (C, H, W) when each example is an image (its D = C·H·W inputs are the
            pixels, row by row), else None; a convolutional model reshapes its input to it.
        pixel_max: for images, the value of full ink in the training data (16 for the
            bundled digits, 1 for the canvases), by which a PNG's [0, 1] values are scaled.
    """

    name: str
    task: str
    description: str
    feature_names: list[str]
    target_names: list[str]
    n_features: int
    n_outputs: int
    positions: int | None
    sizes: dict[str, int]
    input_shape: list[int] | None = None
    pixel_max: float | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"DataSpec: task should be one of {TASKS}, got {self.task!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict a checkpoint holds: one key per field, in the order above
        (``input_shape`` and ``pixel_max`` only for images, so tabular checkpoints keep their
        exact text)."""
        values = dataclasses.asdict(self)
        for key in ("input_shape", "pixel_max"):
            if values[key] is None:
                del values[key]
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DataSpec:
        """The spec ``to_dict`` wrote; a ValueError naming any missing or unknown key."""
        fields = dataclasses.fields(cls)
        keys = [f.name for f in fields]
        required = [f.name for f in fields if f.default is dataclasses.MISSING]
        missing = [key for key in required if key not in values]
        unknown = [key for key in values if key not in keys]
        problems = [
            f"{kind} key{'s' if len(names) > 1 else ''} {', '.join(map(repr, names))}"
            for kind, names in (("missing", missing), ("unknown", unknown))
            if names
        ]
        if problems:
            raise ValueError(f"DataSpec: {'; '.join(problems)} (expected {', '.join(keys)})")
        return cls(**values)
