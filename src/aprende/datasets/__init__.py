"""Data sets that work offline: bundled real data, synthetic generators, IDX and CSV readers.

Every loader returns a ``DataBundle``, a named tuple ``(data, target, info)``::

    X, y, info = load_iris()            # or: bundle = load_iris(); bundle.data, bundle.info
    info.task                           # "multiclass"
    info.feature_names, info.class_names

Features are float32 (the framework's default dtype), class labels int64 (what
``CrossEntropyLoss`` takes), multi-label targets float32 0/1 (what ``BCEWithLogitsLoss`` takes),
regression targets float32 ((N,) for one output, as scikit-learn; (N, K) for K outputs).
``info`` is a ``DatasetInfo``: name, task ("binary", "multiclass", "multilabel", "per_element",
"regression", "multioutput_regression"), feature and target names, description, sample count.

- Bundled (the copies scikit-learn ships; ``pip install 'aprende[datasets]'``): ``load_iris``
  (150×4, 3 classes), ``load_wine`` (178×13, 3 classes), ``load_breast_cancer`` (569×30,
  binary), ``load_digits`` (1797×64 = 8×8 images, 10 classes), ``load_diabetes`` (442×10,
  regression), ``load_linnerud`` (20×3 -> 20×3, multi-output regression).
- Synthetic, seeded: ``make_xor``, ``make_moons``, ``make_circles``, ``make_spirals``,
  ``make_blobs`` (``linearly_separable=True`` for the perceptron), ``make_sine``,
  ``make_segmentation`` (a class per position), ``make_multilabel``.
- Images, X (N, C, H, W) float32 in [0, 1] (``aprende.datasets.images``, ``.canvases``):
  ``load_digits_images`` (1797×1×8×8, 10 classes), ``load_faces`` (200×1×25×25, faces vs
  non-faces; ``pip install 'aprende[images]'``), ``load_idx_images(path)`` (MNIST or
  Fashion-MNIST, N×1×28×28), and canvases of real digits with a fixed train/val/test split of
  their source digits: ``make_digit_canvases`` (a class per pixel: background or the digit's)
  and ``make_reconstruction_canvases`` (noisy, holed canvas -> clean canvas).
- Files: ``load_mnist(path)`` / ``load_fashion_mnist(path)`` (IDX files, ``.gz`` or not, in a
  folder you give; nothing is downloaded), ``read_idx``, ``load_csv(path, target=...)``.
"""

from aprende.datasets.bundled import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_linnerud,
    load_wine,
)
from aprende.datasets.canvases import (
    canvas_source_digits,
    make_digit_canvases,
    make_reconstruction_canvases,
)
from aprende.datasets.csv import load_csv
from aprende.datasets.idx import load_fashion_mnist, load_mnist, read_idx
from aprende.datasets.images import (
    IMAGE_DATASETS,
    load_digits_images,
    load_faces,
    load_idx_images,
)
from aprende.datasets.info import DataBundle, DatasetInfo
from aprende.datasets.synthetic import (
    make_blobs,
    make_circles,
    make_moons,
    make_multilabel,
    make_segmentation,
    make_sine,
    make_spirals,
    make_xor,
)

__all__ = [
    "DataBundle",
    "DatasetInfo",
    "IMAGE_DATASETS",
    "canvas_source_digits",
    "load_breast_cancer",
    "load_csv",
    "load_diabetes",
    "load_digits",
    "load_digits_images",
    "load_faces",
    "load_fashion_mnist",
    "load_idx_images",
    "load_iris",
    "load_linnerud",
    "load_mnist",
    "load_wine",
    "make_blobs",
    "make_circles",
    "make_digit_canvases",
    "make_moons",
    "make_multilabel",
    "make_reconstruction_canvases",
    "make_segmentation",
    "make_sine",
    "make_spirals",
    "make_xor",
    "read_idx",
]
