"""Small real data sets, offline: the copies that scikit-learn ships inside its package.

scikit-learn is an optional dependency (``pip install 'aprende[datasets]'``), imported only when a
loader runs. Features come as float32 (the framework's default dtype), class labels as int64
(what ``CrossEntropyLoss`` takes), regression targets as float32.
"""

from __future__ import annotations

import numpy as np

from aprende.datasets.info import DataBundle, DatasetInfo


def _sklearn_bunch(loader: str, **kwargs):
    """The scikit-learn Bunch of a bundled data set, or a clear ImportError."""
    try:
        from sklearn import datasets
    except ImportError as error:
        raise ImportError(
            f"{loader} reads the copy of the data set that scikit-learn ships, and scikit-learn "
            "is not installed: pip install 'aprende[datasets]'"
        ) from error
    return getattr(datasets, loader)(**kwargs)


def _digits_file():
    """The digits as scikit-learn ships them, read straight from its data file: the same
    arrays as ``sklearn.datasets.load_digits``, without importing scikit-learn (over a second
    on start-up, for the default dataset of ``aprende train``); None when the file is not
    where scikit-learn keeps it."""
    import gzip
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = np.loadtxt(handle, delimiter=",")
    except (OSError, ValueError):
        return None
    if data.shape != (1797, 65):
        return None
    return SimpleNamespace(
        data=data[:, :-1],
        target=data[:, -1].astype(np.int64),
        feature_names=[f"pixel_{i}_{j}" for i in range(8) for j in range(8)],
        target_names=np.arange(10),
    )


def _classification(loader: str, name: str, description: str, **info) -> DataBundle:
    bunch = (_digits_file() if loader == "load_digits" else None) or _sklearn_bunch(loader)
    classes = [str(c) for c in bunch.target_names]
    return DataBundle(
        bunch.data.astype(np.float32),
        bunch.target.astype(np.int64),
        DatasetInfo(
            name=name,
            task="binary" if len(classes) == 2 else "multiclass",
            feature_names=[str(f) for f in bunch.feature_names],
            target_names=classes,
            description=description,
            n_samples=len(bunch.target),
            **info,
        ),
    )


def load_iris() -> DataBundle:
    """Fisher's iris flowers: X (150, 4) float32 (sepal and petal length and width, cm),
    y (150,) int64 in {0: setosa, 1: versicolor, 2: virginica}; multiclass, 50 per class."""
    return _classification(
        "load_iris",
        "iris",
        "Fisher (1936): four measurements of 150 iris flowers of three species.",
    )


def load_wine() -> DataBundle:
    """Wines of three cultivars: X (178, 13) float32 (chemical analysis), y (178,) int64 in
    {0, 1, 2}; multiclass (59, 71 and 48 examples)."""
    return _classification(
        "load_wine",
        "wine",
        "Forina et al.: 13 constituents found by chemical analysis of 178 wines grown in one "
        "region of Italy from three cultivars.",
    )


def load_breast_cancer() -> DataBundle:
    """Wisconsin diagnostic breast cancer: X (569, 30) float32 (features of cell nuclei in a
    fine-needle aspirate image), y (569,) int64 in {0: malignant, 1: benign}; binary (212
    malignant, 357 benign). The slides' medical-diagnosis support."""
    return _classification(
        "load_breast_cancer",
        "breast_cancer",
        "Street, Wolberg and Mangasarian (1993): 30 features (mean, standard error and worst "
        "of 10 measurements) of the cell nuclei in 569 breast-mass aspirates, each diagnosed "
        "malignant or benign.",
    )


def load_digits() -> DataBundle:
    """Handwritten digits: X (1797, 64) float32, the 8×8 images' pixels row by row with values
    0..16 (``X.reshape(-1, 8, 8)`` gives the images), y (1797,) int64 in 0..9; multiclass."""
    return _classification(
        "load_digits",
        "digits",
        "UCI optical recognition of handwritten digits: 1797 images of 8x8 pixels, each pixel "
        "the count (0-16) of set pixels in a 4x4 block of the 32x32 scanned bitmap.",
        image_shape=(8, 8),
    )


def _regression(loader: str, name: str, target_names: list[str], description: str) -> DataBundle:
    bunch = _sklearn_bunch(loader)
    return DataBundle(
        bunch.data.astype(np.float32),
        bunch.target.astype(np.float32),
        DatasetInfo(
            name=name,
            task="regression" if bunch.target.ndim == 1 else "multioutput_regression",
            feature_names=list(bunch.feature_names),
            target_names=target_names,
            description=description,
            n_samples=len(bunch.target),
        ),
    )


def load_diabetes() -> DataBundle:
    """Diabetes progression: X (442, 10) float32 (age, sex, body-mass index, blood pressure and
    six blood serum measurements, each centred and scaled as scikit-learn ships them),
    y (442,) float32, a measure of disease progression one year later; regression."""
    return _regression(
        "load_diabetes",
        "diabetes",
        ["disease_progression"],
        "Efron et al. (2004): 10 baseline variables of 442 diabetes patients and a "
        "quantitative measure of disease progression one year after baseline.",
    )


def load_linnerud() -> DataBundle:
    """Linnerud exercise and physiology: X (20, 3) float32 (chins, sit-ups, jumps),
    y (20, 3) float32 (weight, waist, pulse); multi-output regression."""
    return _regression(
        "load_linnerud",
        "linnerud",
        ["Weight", "Waist", "Pulse"],
        "Tenenhaus (1998): three exercise counts and three physiological measurements of 20 "
        "middle-aged men in a fitness club.",
    )
