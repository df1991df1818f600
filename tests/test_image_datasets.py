"""Image data sets: the digits as images (against scikit-learn's own 8×8 images), the digit
canvases (against a pixel-by-pixel painter written here), the reconstruction canvases, the LFW
faces (against scikit-image's array), and the IDX folders on files written here."""

import gzip
import importlib.util
import struct
import sys

import numpy as np
import pytest

from aprende import datasets
from aprende.datasets import (
    IMAGE_DATASETS,
    canvas_source_digits,
    load_digits_images,
    load_faces,
    load_idx_images,
    make_digit_canvases,
    make_reconstruction_canvases,
)
from aprende.datasets import canvases as canvases_module

has_sklearn = importlib.util.find_spec("sklearn") is not None
has_skimage = importlib.util.find_spec("skimage") is not None
needs_sklearn = pytest.mark.skipif(not has_sklearn, reason="the digits need scikit-learn")

# ---- digits as images --------------------------------------------------------------------------


@needs_sklearn
def test_digits_images_are_sklearns_images_scaled_to_one():
    from sklearn.datasets import load_digits

    X, y, info = load_digits_images()
    reference = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    np.testing.assert_array_equal(X[:, 0], reference.images / 16)
    np.testing.assert_array_equal(y, reference.target)
    assert X.min() == 0 and X.max() == 1
    assert info.task == "multiclass" and info.n_classes == 10
    assert info.input_shape == (1, 8, 8) and info.image_shape == (8, 8)
    assert info.n_features == 64 and info.n_samples == 1797


# ---- source digits of the canvases -------------------------------------------------------------


@needs_sklearn
def test_canvas_sources_are_disjoint_covering_stratified_and_fixed():
    _, y, _ = load_digits_images()
    parts = {kind: canvas_source_digits(kind) for kind in ("train", "val", "test")}
    assert [len(p) for p in parts.values()] == [1257, 270, 270]
    everything = np.concatenate(list(parts.values()))
    assert len(np.unique(everything)) == len(everything) == len(y)
    for part in parts.values():
        share = np.bincount(y[part], minlength=10) / len(part)
        np.testing.assert_allclose(share, np.bincount(y) / len(y), atol=0.01)
    np.testing.assert_array_equal(canvas_source_digits("test"), parts["test"])
    with pytest.raises(ValueError, match=r"kind should be one of .* got 'valid'"):
        canvas_source_digits("valid")


# ---- segmentation canvases ---------------------------------------------------------------------


def paint(images, classes, order, rows, cols, size, scale, threshold):
    """The canvases and labels of a layout, pixel by pixel: each later digit's non-zero pixels
    cover what lies beneath; a pixel's label is 1 + the class of the digit shown there when
    its value reaches the threshold, else 0."""
    n = len(order)
    X, y = np.zeros((n, size, size), np.float32), np.zeros((n, size, size), np.int64)
    for i in range(n):
        for k in range(order.shape[1]):
            if order[i, k] < 0:
                continue
            digit = np.kron(images[order[i, k]], np.ones((scale, scale), np.float32))
            for a in range(digit.shape[0]):
                for b in range(digit.shape[1]):
                    if digit[a, b] > 0:
                        X[i, rows[i, k] + a, cols[i, k] + b] = digit[a, b]
                        label = 1 + classes[order[i, k]] if digit[a, b] >= threshold else 0
                        y[i, rows[i, k] + a, cols[i, k] + b] = label
    return X, y


def layout(kind, n, seed, size=32, digits_per_canvas=(2, 4), scale=2, threshold=0.25):
    """What make_digit_canvases drew: canvases, labels, digits (as indices into load_digits)
    and corners, from the same seeded generator."""
    images, classes, _ = load_digits_images()
    sources = canvas_source_digits(kind)
    X, y, order, rows, cols = canvases_module._compose(
        images[sources, 0],
        classes[sources],
        n,
        size,
        digits_per_canvas,
        scale,
        threshold,
        canvases_module._generator(seed, kind),
    )
    return X, y, np.where(order >= 0, sources[order], -1), rows, cols


@needs_sklearn
@pytest.mark.parametrize(("size", "scale", "kind"), [(32, 2, "train"), (40, 3, "test")])
def test_canvas_pixels_show_the_digit_drawn_there_and_its_class(size, scale, kind):
    X, y, info = make_digit_canvases(40, size=size, scale=scale, kind=kind, seed=3)
    assert X.shape == (40, 1, size, size) and X.dtype == np.float32
    assert y.shape == (40, size, size) and y.dtype == np.int64
    assert 0 <= X.min() and X.max() <= 1 and 0 <= y.min() and y.max() <= 10
    assert info.task == "per_element" and info.n_classes == 11
    assert info.target_names[0] == "background" and info.input_shape == (1, size, size)
    _, _, order, rows, cols = layout(kind, 40, 3, size=size, scale=scale)
    digits, classes, _ = load_digits_images()
    X_ref, y_ref = paint(digits[:, 0], classes, order, rows, cols, size, scale, 0.25)
    np.testing.assert_array_equal(X[:, 0], X_ref)
    np.testing.assert_array_equal(y, y_ref)
    # Ink is labelled, and only ink: background is exactly where the value shown is faint.
    np.testing.assert_array_equal(y > 0, X[:, 0] >= 0.25)
    counts = (order >= 0).sum(axis=1)
    assert counts.min() == 2 and counts.max() == 4
    assert (rows + 8 * scale <= size).all() and (cols + 8 * scale <= size).all()


@needs_sklearn
def test_canvases_are_seeded():
    first, again = make_digit_canvases(30, seed=5), make_digit_canvases(30, seed=5)
    np.testing.assert_array_equal(first.data, again.data)
    np.testing.assert_array_equal(first.target, again.target)
    assert not np.array_equal(first.data, make_digit_canvases(30, seed=6).data)
    generator = np.random.default_rng(5)
    np.testing.assert_array_equal(
        make_digit_canvases(30, seed=generator).data,
        make_digit_canvases(30, seed=np.random.default_rng(5)).data,
    )
    # One seed, two kinds: another layout, down to the number of digits on each canvas.
    counts = {kind: (layout(kind, 30, 5)[2] >= 0).sum(axis=1) for kind in ("train", "test")}
    assert not np.array_equal(counts["train"], counts["test"])


@needs_sklearn
def test_test_canvases_never_show_a_training_digit():
    digits, _, _ = load_digits_images()
    drawn = {kind: layout(kind, 300, 0)[2] for kind in ("train", "test")}
    for kind, order in drawn.items():
        assert np.isin(order[order >= 0], canvas_source_digits(kind)).all()
    train_images = {digits[i].tobytes() for i in canvas_source_digits("train")}
    test_images = {digits[i].tobytes() for i in np.unique(drawn["test"][drawn["test"] >= 0])}
    assert not train_images & test_images


@needs_sklearn
@pytest.mark.parametrize(("size", "most"), [(32, 2), (40, 4)])
def test_digits_seldom_cover_one_another_where_there_is_room(size, most):
    X, y, order, rows, cols = layout("train", 200, 1, size=size, digits_per_canvas=(2, most))
    digits, classes, _ = load_digits_images()
    kept = []  # the share of each digit's ink that still shows its class
    for i, k in zip(*np.nonzero(order >= 0), strict=True):
        ink = np.kron(digits[order[i, k], 0], np.ones((2, 2))) >= 0.25
        shown = y[i, rows[i, k] : rows[i, k] + 16, cols[i, k] : cols[i, k] + 16][ink]
        kept.append((shown == 1 + classes[order[i, k]]).mean())
    assert np.mean(np.array(kept) < 0.8) < 0.01


@needs_sklearn
def test_canvas_arguments_are_checked():
    with pytest.raises(ValueError, match=r"make_digit_canvases: kind should be one of"):
        make_digit_canvases(5, kind="validation")
    with pytest.raises(ValueError, match=r"1 <= low <= high, got \(3, 2\)"):
        make_digit_canvases(5, digits_per_canvas=(3, 2))
    with pytest.raises(ValueError, match=r"size >= 8 \* scale .* got size=20, scale=3"):
        make_digit_canvases(5, size=20, scale=3)
    with pytest.raises(ValueError, match=r"n_samples should be an int >= 1, got 0"):
        make_digit_canvases(0)
    with pytest.raises(ValueError, match=r"ink_threshold should be in \(0, 1\], got 0"):
        make_digit_canvases(5, ink_threshold=0)


# ---- reconstruction canvases -------------------------------------------------------------------


@needs_sklearn
def test_reconstruction_target_is_the_clean_canvas_and_the_hole_a_rectangle():
    X, y, info = make_reconstruction_canvases(60, noise=0.2, mask_size=(4, 10), seed=2)
    assert X.shape == y.shape == (60, 1, 32, 32) and X.dtype == y.dtype == np.float32
    assert info.task == "multioutput_regression" and len(info.target_names) == 32 * 32
    np.testing.assert_array_equal(y, make_digit_canvases(60, seed=2).data)
    hole = X[:, 0] == 0  # noise is never exactly 0 elsewhere
    for mask in hole:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        assert 4 <= len(rows) <= 10 and 4 <= len(cols) <= 10
        assert np.ptp(rows) == len(rows) - 1 and np.ptp(cols) == len(cols) - 1
        assert mask.sum() == len(rows) * len(cols)
    residual = (X - y)[:, 0][~hole]
    assert abs(residual.mean()) < 0.01 and abs(residual.std() - 0.2) < 0.01
    again = make_reconstruction_canvases(60, noise=0.2, mask_size=(4, 10), seed=2)
    np.testing.assert_array_equal(X, again.data)


@needs_sklearn
def test_reconstruction_without_noise_differs_only_in_the_hole():
    X, y, _ = make_reconstruction_canvases(20, noise=0.0, mask_size=(8, 8), kind="val", seed=4)
    changed = X != y
    assert (X[changed] == 0).all()
    assert (changed.sum(axis=(1, 2, 3)) <= 64).all()


@needs_sklearn
def test_reconstruction_arguments_are_checked():
    with pytest.raises(ValueError, match=r"mask_size should be .* <= size=32, got \(6, 40\)"):
        make_reconstruction_canvases(5, mask_size=(6, 40))
    with pytest.raises(ValueError, match=r"noise should be >= 0, got -0.1"):
        make_reconstruction_canvases(5, noise=-0.1)


# ---- faces -------------------------------------------------------------------------------------


def test_faces_are_the_lfw_subset_faces_first():
    skimage_data = pytest.importorskip(
        "skimage.data", reason="load_faces needs scikit-image (pip install 'aprende[images]')"
    )
    X, y, info = load_faces()
    assert X.shape == (200, 1, 25, 25) and X.dtype == np.float32
    assert y.dtype == np.int64 and (y[:100] == 1).all() and (y[100:] == 0).all()
    np.testing.assert_allclose(X[:, 0], skimage_data.lfw_subset(), rtol=1e-6)
    assert 0 <= X.min() and X.max() <= 1
    assert info.task == "binary" and info.class_names == ["non-face", "face"]
    assert info.input_shape == (1, 25, 25)


def test_faces_without_scikit_image_give_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(ImportError, match=r"pip install 'aprende\[images\]'"):
        load_faces()


# ---- IDX folders -------------------------------------------------------------------------------


def write_idx(path, array):
    """An IDX file of unsigned bytes (type 0x08), gzip-compressed when the name ends in .gz."""
    data = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def write_idx_folder(folder, n_train=7, n_test=3):
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def test_idx_folder_keeps_the_official_split_with_a_channel_axis(tmp_path):
    arrays = write_idx_folder(tmp_path)
    X, y, info = load_idx_images(tmp_path)
    assert X.shape == (7, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], arrays["train-images-idx3-ubyte.gz"] / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte.gz"])
    assert info.input_shape == (1, 28, 28) and info.name == "mnist" and info.n_classes == 10
    X, y, info = load_idx_images(tmp_path, kind="test", dataset="fashion_mnist")
    assert X.shape == (3, 1, 28, 28)
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte"])
    assert info.target_names[9] == "Ankle boot"


def test_idx_folder_errors_name_the_missing_file_and_the_expected_ones(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"is not a folder; expected .*t10k-labels"):
        load_idx_images(tmp_path / "nowhere")
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"no t10k-labels-idx1-ubyte\[\.gz\] in .*holds"):
        load_idx_images(tmp_path, kind="test")
    with pytest.raises(ValueError, match=r"kind should be 'train' or 'test', got 'val'"):
        load_idx_images(tmp_path, kind="val")
    with pytest.raises(ValueError, match=r"dataset should be one of .* got 'kmnist'"):
        load_idx_images(tmp_path, dataset="kmnist")


# ---- registration ------------------------------------------------------------------------------


@needs_sklearn
def test_image_datasets_are_exported_and_their_table_names_loaders():
    for name in (
        "load_digits_images",
        "load_faces",
        "load_idx_images",
        "make_digit_canvases",
        "make_reconstruction_canvases",
        "canvas_source_digits",
    ):
        assert name in datasets.__all__ and callable(getattr(datasets, name))
    for entry in IMAGE_DATASETS.values():
        if entry["loader"] == "load_faces" and not has_skimage:
            continue  # test_faces_are_the_lfw_subset_faces_first says it skipped
        options = dict(entry["options"], **({"seed": 0} if entry["synthetic"] else {}))
        X, _, info = getattr(datasets, entry["loader"])(**options)
        assert X.ndim == 4 and X.shape[1:] == info.input_shape
