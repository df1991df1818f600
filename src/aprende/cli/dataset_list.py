"""``aprende datasets``: every dataset name with its task and size, from what is known of each
without loading it (loading the bundled ones needs scikit-learn, over a second to import).

A test loads every dataset and checks these facts against it.
"""

from __future__ import annotations

from typing import NamedTuple

from aprende.config import DATASETS, IDX_DATASETS
from aprende.datasets.info import SINGLE_LABEL_TASKS
from aprende.terminal import records, terminal_width


class DatasetFacts(NamedTuple):
    """What a dataset name gives: its task, N examples (None: the ``n_samples`` of its
    options), D features, the outputs per example and the classes (or labels)."""

    task: str
    n_samples: int | None
    n_features: int
    n_outputs: int = 1
    n_classes: int | None = None


FACTS: dict[str, DatasetFacts] = {
    "iris": DatasetFacts("multiclass", 150, 4, n_classes=3),
    "wine": DatasetFacts("multiclass", 178, 13, n_classes=3),
    "breast_cancer": DatasetFacts("binary", 569, 30, n_classes=2),
    "digits": DatasetFacts("multiclass", 1797, 64, n_classes=10),
    "diabetes": DatasetFacts("regression", 442, 10),
    "linnerud": DatasetFacts("multioutput_regression", 20, 3, n_outputs=3),
    "xor": DatasetFacts("binary", None, 2, n_classes=2),
    "moons": DatasetFacts("binary", None, 2, n_classes=2),
    "circles": DatasetFacts("binary", None, 2, n_classes=2),
    "spirals": DatasetFacts("binary", None, 2, n_classes=2),
    "blobs": DatasetFacts("multiclass", None, 2, n_classes=DATASETS["blobs"].options["centers"]),
    "sine": DatasetFacts("regression", None, 1),
    "segmentation": DatasetFacts("per_element", None, 32, n_outputs=32, n_classes=3),
    "multilabel": DatasetFacts("multilabel", None, 10, n_outputs=4, n_classes=4),
    "digits_images": DatasetFacts("multiclass", 1797, 64, n_classes=10),
    "faces": DatasetFacts("binary", 200, 625, n_classes=2),
    "digit_canvases": DatasetFacts("per_element", None, 1024, n_outputs=1024, n_classes=11),
    "digit_reconstruction": DatasetFacts("multioutput_regression", None, 1024, n_outputs=1024),
    # The official files: 60,000 training and 10,000 test images of 28×28 pixels.
    "mnist": DatasetFacts("multiclass", 70_000, 784, n_classes=10),
    "fashion_mnist": DatasetFacts("multiclass", 70_000, 784, n_classes=10),
}


def dataset_rows() -> list[tuple[str, str, str, str]]:
    """(name, kind, task, size) of every dataset name the CLI accepts; size is
    ``N x D [-> outputs][, C classes]``."""
    rows = []
    for name, choice in DATASETS.items():
        facts = FACTS[name]
        n = facts.n_samples if facts.n_samples is not None else choice.options["n_samples"]
        size = f"{n} x {facts.n_features}"
        if facts.task not in SINGLE_LABEL_TASKS:
            size += f" -> {facts.n_outputs}"
        if facts.n_classes:
            noun = "labels" if facts.task == "multilabel" else "classes"
            size += f", {facts.n_classes} {noun}"
        if name in IDX_DATASETS:
            kind = "your files"
        else:
            kind = "synthetic" if choice.synthetic else "bundled"
        rows.append((name, kind, facts.task, size))
    return rows


def dataset_list(width: int | None = None) -> list[str]:
    """The lines of ``aprende datasets`` in at most ``width`` columns (default: the
    terminal's): a table, without its ``kind`` column if too wide, else one list per name."""
    width = terminal_width() if width is None else width
    header = ("name", "kind", "task", "size (N x D [-> outputs])")
    rows = dataset_rows()

    def table(shown: tuple[int, ...]) -> list[str]:
        widths = [max(len(row[i]) for row in (header, *rows)) for i in shown]
        return [
            "  ".join(row[i].ljust(w) for i, w in zip(shown, widths, strict=True)).rstrip()
            for row in (header, *rows)
        ]

    for shown in ((0, 1, 2, 3), (0, 2, 3)):
        lines = table(shown)
        if max(map(len, lines)) <= width:
            break
    else:
        lines = records((*header[:3], "size"), rows, width)
    note = "Any CSV file too: aprende train --csv FILE --target COLUMN"
    return [*lines, "", note if len(note) <= width else "Any CSV file too: --csv FILE"]
