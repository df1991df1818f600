"""Data sets: bundled shapes and dtypes, synthetic generators (against scikit-learn and their
formulas), the IDX reader on files written here, and the CSV reader."""

import gzip
import struct
import sys

import numpy as np
import pytest

from aprende import datasets
from aprende.datasets import (
    DatasetInfo,
    load_csv,
    load_fashion_mnist,
    load_mnist,
    make_blobs,
    make_circles,
    make_moons,
    make_multilabel,
    make_segmentation,
    make_sine,
    make_spirals,
    make_xor,
    read_idx,
)

# ---- bundled -----------------------------------------------------------------------------------

BUNDLED = [
    ("load_iris", (150, 4), (150,), "multiclass", 3),
    ("load_wine", (178, 13), (178,), "multiclass", 3),
    ("load_breast_cancer", (569, 30), (569,), "binary", 2),
    ("load_digits", (1797, 64), (1797,), "multiclass", 10),
    ("load_diabetes", (442, 10), (442,), "regression", None),
    ("load_linnerud", (20, 3), (20, 3), "multioutput_regression", None),
]


@pytest.mark.parametrize(("loader", "x_shape", "y_shape", "task", "n_classes"), BUNDLED)
def test_bundled_datasets_have_the_documented_shapes(loader, x_shape, y_shape, task, n_classes):
    sk_datasets = pytest.importorskip("sklearn.datasets")
    X, y, info = getattr(datasets, loader)()
    assert X.shape == x_shape and X.dtype == np.float32
    assert y.shape == y_shape
    assert y.dtype == (np.float32 if n_classes is None else np.int64)
    assert info.task == task and info.n_classes == n_classes
    assert info.n_samples == x_shape[0] and info.n_features == x_shape[1]
    reference = getattr(sk_datasets, loader)()
    np.testing.assert_allclose(X, reference.data, rtol=1e-6)
    np.testing.assert_allclose(y, reference.target, rtol=1e-6)
    if n_classes is not None:
        assert set(np.unique(y).tolist()) == set(range(n_classes))


def test_bundle_reads_as_a_tuple_and_by_name():
    pytest.importorskip("sklearn")
    bundle = datasets.load_breast_cancer()
    X, y, info = bundle
    assert bundle.data is X and bundle.target is y and bundle.info is info
    assert info.class_names == ["malignant", "benign"]
    assert datasets.load_digits().info.image_shape == (8, 8)


def test_missing_scikit_learn_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install 'aprende\[datasets\]'"):
        datasets.load_iris()


def test_dataset_info_rejects_an_unknown_task():
    with pytest.raises(ValueError, match="task should be one of .* got 'clustering'"):
        DatasetInfo("x", "clustering", [], [], "", 0)


# ---- synthetic ---------------------------------------------------------------------------------

GENERATORS = [make_xor, make_moons, make_circles, make_spirals, make_blobs, make_sine]


@pytest.mark.parametrize("make", GENERATORS + [make_segmentation, make_multilabel])
def test_generators_are_seeded_and_typed(make):
    X, y, info = make(seed=3)
    X2, y2, _ = make(seed=3)
    X3, _, _ = make(seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert X.dtype == np.float32 and len(X) == len(y) == info.n_samples
    classification = info.task in ("binary", "multiclass", "per_element")
    assert y.dtype == (np.int64 if classification else np.float32)


def test_xor_truth_table():
    X, y, _ = make_xor(4, noise=0.0, shuffle=False)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


@pytest.mark.parametrize("name", ["make_moons", "make_circles"])
def test_moons_and_circles_match_sklearn_without_noise(name):
    sk_datasets = pytest.importorskip("sklearn.datasets")
    X, y, _ = getattr(datasets, name)(n_samples=51, shuffle=False)
    X_ref, y_ref = getattr(sk_datasets, name)(n_samples=51, shuffle=False)
    np.testing.assert_allclose(X, X_ref, atol=1e-6)
    np.testing.assert_array_equal(y, y_ref)


def test_noise_has_the_requested_spread():
    X0, _, _ = make_moons(2000, noise=0.0, shuffle=False)
    X1, _, _ = make_moons(2000, noise=0.1, shuffle=False, seed=0)
    assert abs((X1 - X0).std() - 0.1) < 0.005


def test_spirals_balance_and_radius():
    X, y, info = make_spirals(301, n_classes=3, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [101, 100, 100] and info.task == "multiclass"
    radius = np.linalg.norm(X, axis=1)
    assert radius.min() == pytest.approx(0.1, abs=1e-6) and radius.max() == pytest.approx(1.0)


def perceptron_converges(X, y, epochs=1000):
    """Rosenblatt's rule, written out: w ← w + η (t − o) x until no mistakes."""
    Xb = np.column_stack([X, np.ones(len(X))])
    t = np.where(y == 1, 1.0, -1.0)
    w = np.zeros(Xb.shape[1])
    for _ in range(epochs):
        mistakes = 0
        for xi, ti in zip(Xb, t, strict=True):
            if ti * (xi @ w) <= 0:
                w += ti * xi
                mistakes += 1
        if mistakes == 0:
            return True
    return False


def test_linearly_separable_blobs_let_the_perceptron_converge():
    X, y, info = make_blobs(200, centers=2, cluster_std=3.0, linearly_separable=True, seed=1)
    assert info.task == "binary" and np.bincount(y).tolist() == [100, 100]
    assert perceptron_converges(X, y)
    X, y, _ = make_blobs(200, centers=[[0, 0], [1, 0]], cluster_std=3.0, seed=1)
    assert not perceptron_converges(X, y, epochs=50)  # overlapping blobs are not separable
    with pytest.raises(ValueError, match="linearly_separable needs exactly 2 centres, got 3"):
        make_blobs(centers=3, linearly_separable=True)


def test_blobs_gather_around_their_centres():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    X, y, _ = make_blobs(4000, centers=centers, cluster_std=0.5, seed=0)
    for c in range(2):
        np.testing.assert_allclose(X[y == c].mean(0), centers[c], atol=0.05)
        np.testing.assert_allclose(X[y == c].std(0), 0.5, atol=0.03)


def test_sine_is_the_sine_of_x():
    X, y, info = make_sine(50, noise=0.0, seed=0)
    assert X.shape == (50, 1) and y.shape == (50,) and info.task == "regression"
    np.testing.assert_allclose(y, np.sin(X[:, 0]), atol=1e-6)


@pytest.mark.parametrize("shape", [(32,), (8, 8)])
def test_segmentation_has_a_class_per_position(shape):
    X, y, info = make_segmentation(100, shape=shape, n_classes=4, noise=0.0, seed=0)
    assert X.shape == y.shape == (100, *shape) and info.task == "per_element"
    assert set(np.unique(y).tolist()) == {0, 1, 2, 3}
    np.testing.assert_allclose(X, np.linspace(-1, 1, 4)[y])  # noise 0: the class levels
    assert (y == 0).mean() > 0.3  # the background stays visible
    assert info.image_shape == (shape if len(shape) == 2 else None)


def test_multilabel_labels_are_independent_and_linear_in_the_features():
    X, y, info = make_multilabel(4000, n_features=8, n_labels=3, p=0.3, noise=0.0, seed=0)
    assert y.shape == (4000, 3) and set(np.unique(y).tolist()) == {0.0, 1.0}
    np.testing.assert_allclose(y.mean(0), 0.3, atol=0.03)
    prototypes, *_ = np.linalg.lstsq(y, X, rcond=None)
    np.testing.assert_allclose(y @ prototypes, X, atol=1e-4)
    assert info.class_names == ["label0", "label1", "label2"]


# ---- IDX (MNIST format) ------------------------------------------------------------------------


def idx_bytes(array, type_code=0x08, dtype=">u1"):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def write_mnist(folder, kind="train", n=5, compress=False):
    prefix = "train" if kind == "train" else "t10k"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 6, 5), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in [("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)]:
        data = idx_bytes(array)
        path = folder / f"{prefix}-{name}" if not compress else folder / f"{prefix}-{name}.gz"
        path.write_bytes(gzip.compress(data) if compress else data)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_raw_and_gzip_idx_files(tmp_path, compress):
    images, labels = write_mnist(tmp_path, "test", compress=compress)
    X, y, info = load_mnist(tmp_path, kind="test")
    assert X.shape == (5, 6, 5) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert info.image_shape == (6, 5) and info.task == "multiclass" and info.n_classes == 10
    assert load_mnist(tmp_path, kind="test", flatten=True).data.shape == (5, 30)


def test_fashion_mnist_in_torchvision_layout(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", "train", compress=True)
    X, y, info = load_fashion_mnist(tmp_path)
    assert len(X) == 5 and info.class_names[9] == "Ankle boot"


def test_read_idx_handles_other_types_in_native_byte_order(tmp_path):
    values = np.array([[1.5, -2.0], [3.25, 1e6]])
    path = tmp_path / "floats.idx"
    path.write_bytes(idx_bytes(values, type_code=0x0E, dtype=">f8"))
    out = read_idx(path)
    assert out.dtype == np.float64 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_truncated_idx_file_is_rejected_with_sizes(tmp_path):
    write_mnist(tmp_path, "train")
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    expected = 16 + 5 * 6 * 5
    message = (
        rf"train-images-idx3-ubyte: IDX size mismatch: .*{expected} bytes.*{expected - 7} bytes"
    )
    with pytest.raises(ValueError, match=message):
        load_mnist(tmp_path)


def test_truncated_gzip_and_foreign_files_are_rejected(tmp_path):
    write_mnist(tmp_path, "train", compress=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: truncated or corrupt gzip"):
        load_mnist(tmp_path)
    foreign = tmp_path / "photo.png"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(ValueError, match=r"photo.png: not an IDX file: .* got 0x89504e47"):
        read_idx(foreign)


def test_missing_mnist_files_say_where_they_were_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte.*does not download"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind should be 'train' or 'test', got 'val'"):
        load_mnist(tmp_path, kind="val")


# ---- CSV ---------------------------------------------------------------------------------------


def test_csv_with_text_labels(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text("length,width,species\n1.0,2.0,setosa\n3.5,4,virginica\n0.5,1e-1,setosa\n")
    X, y, info = load_csv(path, target="species")
    np.testing.assert_allclose(X, [[1.0, 2.0], [3.5, 4.0], [0.5, 0.1]])
    assert X.dtype == np.float32 and y.dtype == np.int64 and y.tolist() == [0, 1, 0]
    assert info.class_names == ["setosa", "virginica"] and info.task == "binary"
    assert info.feature_names == ["length", "width"] and info.name == "flowers"


def test_csv_numeric_targets_by_index_and_task(tmp_path):
    path = tmp_path / "houses.csv"
    path.write_text("price;rooms;area\n120.5;3;80\n99.0;2;60\n250.25;5;140\n")
    X, y, info = load_csv(path, target=0, delimiter=";")
    assert info.task == "regression" and y.dtype == np.float32
    np.testing.assert_allclose(y, [120.5, 99.0, 250.25])
    _, y, info = load_csv(path, target=1, delimiter=";")  # whole numbers: classes
    assert (
        info.task == "multiclass"
        and y.tolist() == [1, 0, 2]
        and info.class_names == ["2", "3", "5"]
    )
    _, y, info = load_csv(path, target=1, delimiter=";", task="regression")
    assert y.tolist() == [3.0, 2.0, 5.0]


def test_csv_without_header_and_multilabel(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("0.5,1,0\n0.25,0,1\n0.75,1,1\n")
    X, y, info = load_csv(path, target=[1, 2], header=False)
    assert X.shape == (3, 1) and y.shape == (3, 2) and info.task == "multilabel"
    assert info.target_names == ["column1", "column2"]


def test_csv_errors_name_the_problem(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(
        ValueError, match=r"no column 'class' in .*; columns: \['a', 'b', 'label'\]"
    ):
        load_csv(path, target="class")
    with pytest.raises(ValueError, match=r"line 3, column 'b': expected a number, got 'oops'"):
        load_csv(path, target="label")
    with pytest.raises(ValueError, match="out of range for 3 columns"):
        load_csv(path, target=5)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="line 3 has 1 fields, expected 2"):
        load_csv(ragged)
