"""Preprocessing (z-norm, min-max, PCA whitening, label coding) against hand formulas and
scikit-learn, and the augmentation transforms."""

import json

import numpy as np
import pytest

import aprende
from aprende.data import (
    Compose,
    GaussianNoise,
    LabelEncoder,
    MinMaxScaler,
    NotFittedError,
    OneHotEncoder,
    PCAWhitening,
    RandomRotation,
    RandomShift,
    StandardScaler,
    one_hot,
)


def data(n=50, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(3.0, [1.0, 5.0, 0.1, 20.0][:d], size=(n, d))


# ---- StandardScaler ----------------------------------------------------------------------------


def test_standard_scaler_is_the_z_norm_formula():
    X = data()
    Z = StandardScaler().fit_transform(X)
    np.testing.assert_allclose(Z, (X - X.mean(0)) / X.std(0))  # population σ (ddof 0)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(0), 1)


def test_standard_scaler_matches_sklearn():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X_train, X_test = data(seed=1), data(seed=2)
    X_train[:, 2] = 7.0  # a constant feature
    for kwargs in [{}, {"with_mean": False}, {"with_std": False}]:
        ours = StandardScaler(**kwargs).fit(X_train)
        theirs = preprocessing.StandardScaler(**kwargs).fit(X_train)
        np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test))
        np.testing.assert_allclose(ours.inverse_transform(X_test), theirs.inverse_transform(X_test))


def test_scalers_are_fitted_on_the_training_split_only():
    X_train, X_test = data(seed=3), data(seed=4) + 10.0
    scaler = StandardScaler().fit(X_train)
    np.testing.assert_allclose(scaler.mean_, X_train.mean(0))
    np.testing.assert_allclose(
        scaler.transform(X_test), (X_test - X_train.mean(0)) / X_train.std(0)
    )
    assert np.all(scaler.transform(X_test).mean(0) > 0.5)  # shifted data stay shifted
    minmax = MinMaxScaler().fit(X_train)
    np.testing.assert_allclose(minmax.data_min_, X_train.min(0))


def test_constant_features_give_no_nan():
    X = np.column_stack([np.full(10, 0.1), np.arange(10.0)])
    for scaler in [StandardScaler(), MinMaxScaler(feature_range=(-1, 1))]:
        Z = scaler.fit_transform(X)
        assert np.all(np.isfinite(Z))
        assert np.all(Z[:, 0] == Z[0, 0])
        np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    np.testing.assert_allclose(StandardScaler().fit(X).scale_[0], 1.0)


# ---- MinMaxScaler ------------------------------------------------------------------------------


def test_min_max_scaler_formula_and_range():
    X = data()
    a, b = -2.0, 3.0
    Z = MinMaxScaler(feature_range=(a, b)).fit_transform(X)
    expected = a + (X - X.min(0)) * (b - a) / (X.max(0) - X.min(0))
    np.testing.assert_allclose(Z, expected)
    np.testing.assert_allclose(Z.min(0), a)
    np.testing.assert_allclose(Z.max(0), b)


def test_min_max_scaler_matches_sklearn_with_clip():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X_train, X_test = data(seed=5), data(seed=6) * 2
    ours = MinMaxScaler((0, 2), clip=True).fit(X_train)
    theirs = preprocessing.MinMaxScaler((0, 2), clip=True).fit(X_train)
    np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test))
    for name in ["data_min_", "data_max_", "scale_", "min_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name))


# ---- PCAWhitening ------------------------------------------------------------------------------


def correlated(n=500, seed=0):
    rng = np.random.default_rng(seed)
    mixing = np.array([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [-1.0, 0.3, 0.8]])
    return rng.standard_normal((n, 3)) @ mixing.T + np.array([5.0, -1.0, 2.0])


def test_whitened_training_data_has_identity_covariance():
    X = correlated()
    assert abs(np.corrcoef(X.T)[0, 1]) > 0.9  # the input is strongly correlated
    Z = PCAWhitening().fit_transform(X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(3), atol=1e-4)


def test_whitening_inverse_round_trip_and_dimension_reduction():
    X = correlated()
    full = PCAWhitening().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-10)
    reduced = PCAWhitening(n_components=2).fit(X)
    Z = reduced.transform(X)
    assert Z.shape == (500, 2)
    np.testing.assert_allclose(np.cov(Z.T), np.eye(2), atol=1e-4)
    assert reduced.inverse_transform(Z).shape == (500, 3)
    assert PCAWhitening(n_components=0.999).fit(X).n_components_ == 3
    assert PCAWhitening(n_components=0.5).fit(X).n_components_ == 1


def test_whitening_matches_sklearn_pca_whiten():
    decomposition = pytest.importorskip("sklearn.decomposition")
    X = correlated(seed=1)
    ours = PCAWhitening(n_components=2, eps=0.0).fit(X)
    theirs = decomposition.PCA(n_components=2, whiten=True).fit(X)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_)
    # components are defined up to sign: compare the absolute projections
    np.testing.assert_allclose(np.abs(ours.transform(X)), np.abs(theirs.transform(X)), atol=1e-8)


def test_whitening_constant_feature_stays_finite():
    X = correlated()
    X[:, 1] = 4.0
    Z = PCAWhitening().fit_transform(X)
    assert np.all(np.isfinite(Z))


# ---- kinds, dtypes, state and errors -----------------------------------------------------------


def test_tensor_in_tensor_out_with_its_dtype():
    X = aprende.tensor(data().astype(np.float32))
    for scaler in [StandardScaler(), MinMaxScaler(), PCAWhitening()]:
        Z = scaler.fit_transform(X)
        assert isinstance(Z, aprende.Tensor) and Z.dtype == np.float32
        back = scaler.inverse_transform(Z)
        np.testing.assert_allclose(np.asarray(back), np.asarray(X), rtol=1e-4, atol=1e-3)
    assert StandardScaler().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


@pytest.mark.parametrize("make", [StandardScaler, MinMaxScaler, PCAWhitening])
def test_state_dict_round_trip_through_json_and_arrays(make):
    X = correlated()
    fitted = make().fit(X)
    state = fitted.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars = json.loads(json.dumps({k: v for k, v in state.items() if k not in arrays}))
    restored = make()
    restored.load_state_dict({**arrays, **scalars})
    np.testing.assert_allclose(restored.transform(X), fitted.transform(X))
    incomplete = {k: v for k, v in state.items() if k != "n_features_in_"} | {"extra": 1}
    with pytest.raises(KeyError, match=r"missing keys \['n_features_in_'\], unexpected .*'extra'"):
        make().load_state_dict(incomplete)


def test_errors_name_the_class_and_the_shapes():
    with pytest.raises(NotFittedError, match="This StandardScaler instance is not fitted yet"):
        StandardScaler().transform(data())
    with pytest.raises(RuntimeError, match="PCAWhitening instance is not fitted"):
        PCAWhitening().inverse_transform(data())
    scaler = MinMaxScaler().fit(data(d=4))
    with pytest.raises(ValueError, match="X has 3 features, but MinMaxScaler is expecting 4"):
        scaler.transform(data(d=3))
    with pytest.raises(ValueError, match=r"expected a 2-D array .* got shape \(5,\)"):
        StandardScaler().fit(np.arange(5.0))
    with pytest.raises(ValueError, match="contains NaN or infinity"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"must be smaller than maximum, got \(1, 0\)"):
        MinMaxScaler(feature_range=(1, 0))
    with pytest.raises(ValueError, match=r"n_components should be .* got 5"):
        PCAWhitening(n_components=5).fit(correlated())


# ---- one-hot and label coding ------------------------------------------------------------------


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 2], [1, 3]])
    ours = one_hot(aprende.tensor(labels), num_classes=5)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes=5).numpy()
    assert isinstance(ours, aprende.Tensor) and ours.dtype == np.int64
    np.testing.assert_array_equal(np.asarray(ours), theirs)
    np.testing.assert_array_equal(one_hot(labels), np.eye(4, dtype=np.int64)[labels])


def test_one_hot_errors():
    with pytest.raises(
        RuntimeError, match=r"class values must be in \[0, num_classes=3\), got .*\[0, 3\]"
    ):
        one_hot(np.array([0, 3]), num_classes=3)
    with pytest.raises(RuntimeError, match="expected integer class indices, got dtype float"):
        one_hot(np.array([0.0, 1.0]))


def test_one_hot_encoder_matches_sklearn():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = np.array([["b", "x"], ["a", "y"], ["c", "x"], ["a", "x"]])
    ours = OneHotEncoder().fit(X)
    theirs = preprocessing.OneHotEncoder(sparse_output=False).fit(X)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)), X)
    for a, b in zip(ours.categories_, theirs.categories_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_hot_encoder_on_labels_unknowns_and_state():
    y = np.array([3, 1, 3, 7])
    encoder = OneHotEncoder().fit(y)
    coded = encoder.transform(y)
    assert coded.shape == (4, 3) and coded.dtype == np.float32
    np.testing.assert_array_equal(encoder.inverse_transform(coded), y)
    with pytest.raises(
        ValueError, match=r"unknown categories \[5\] in column 0 .* known: \[1, 3, 7\]"
    ):
        encoder.transform(np.array([5, 1]))
    lenient = OneHotEncoder(handle_unknown="ignore").fit(y)
    row = lenient.transform(np.array([5]))
    assert row.sum() == 0 and lenient.inverse_transform(row).tolist() == [None]
    restored = OneHotEncoder()
    restored.load_state_dict(json.loads(json.dumps(encoder.state_dict())))
    np.testing.assert_array_equal(restored.transform(y), coded)


def test_label_encoder_matches_sklearn():
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    y = np.array(["dog", "cat", "eel", "cat"])
    ours, theirs = LabelEncoder().fit(y), preprocessing.LabelEncoder().fit(y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.transform(y), theirs.transform(y))
    assert ours.transform(y).dtype == np.int64
    np.testing.assert_array_equal(ours.inverse_transform(np.array([2, 0])), ["eel", "cat"])
    with pytest.raises(ValueError, match=r"previously unseen labels: \['fox'\]"):
        ours.transform(np.array(["fox", "cat"]))
    with pytest.raises(ValueError, match=r"expected indices in \[0, 3\)"):
        ours.inverse_transform(np.array([3]))
    with pytest.raises(NotFittedError, match="LabelEncoder"):
        LabelEncoder().transform(y)
    restored = LabelEncoder()
    restored.load_state_dict(json.loads(json.dumps(ours.state_dict())))
    np.testing.assert_array_equal(restored.transform(y), ours.transform(y))
    labels = aprende.tensor([5, 2, 5])
    coded = LabelEncoder().fit_transform(labels)
    assert isinstance(coded, aprende.Tensor) and coded.tolist() == [1, 0, 1]


# ---- augmentation transforms -------------------------------------------------------------------


def test_gaussian_noise_has_the_requested_spread_and_is_seeded():
    x = np.zeros((200, 50), dtype=np.float32)
    noisy = GaussianNoise(std=0.5, mean=0.1, generator=0)(x)
    assert noisy.dtype == np.float32
    assert abs(noisy.mean() - 0.1) < 0.01 and abs(noisy.std() - 0.5) < 0.01
    np.testing.assert_array_equal(noisy, GaussianNoise(std=0.5, mean=0.1, generator=0)(x))
    t = GaussianNoise(0.1)(aprende.zeros(3, 4))
    assert isinstance(t, aprende.Tensor) and t.shape == (3, 4)


def test_random_shift_moves_each_image_by_at_most_max_shift():
    images = np.zeros((300, 9, 9), dtype=np.float32)
    images[:, 4, 4] = 1.0  # one lit pixel in the centre
    shifted = RandomShift(2, generator=0)(images)
    assert shifted.shape == images.shape and np.all(shifted.sum(axis=(1, 2)) == 1)
    rows, cols = np.nonzero(shifted.reshape(300, 9, 9))[1:]
    dy, dx = rows - 4, cols - 4
    assert set(dy.tolist()) == set(range(-2, 3)) == set(dx.tolist())  # every shift occurs
    one = np.arange(16.0).reshape(4, 4)
    out = RandomShift(1, generator=1)(one)
    found = [
        (a, b)
        for a in (-1, 0, 1)
        for b in (-1, 0, 1)
        if np.array_equal(out, shift_by_hand(one, a, b))
    ]
    assert len(found) == 1


def shift_by_hand(image, dy, dx):
    """out[i, j] = image[i - dy, j - dx], zero outside."""
    out = np.zeros_like(image)
    h, w = image.shape
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[i, j] = image[i - dy, j - dx]
    return out


def test_random_rotation_by_90_degrees_is_rot90_counter_clockwise():
    image = np.arange(25.0).reshape(5, 5)
    rotated = RandomRotation((90, 90), generator=0)(image)
    np.testing.assert_array_equal(rotated, np.rot90(image))
    batch = np.stack([image, image.T])[:, None]  # (N, C, H, W)
    out = RandomRotation((-90, -90))(batch)
    np.testing.assert_array_equal(out[1, 0], np.rot90(image.T, k=-1))


def test_random_rotation_small_angles_keep_the_centre_and_bilinear_is_smooth():
    image = np.zeros((7, 7))
    image[3, 3] = 1.0
    out = RandomRotation(30, generator=0)(np.repeat(image[None], 20, axis=0))
    assert np.all(out[:, 3, 3] == 1.0)  # the centre does not move
    smooth = RandomRotation((45, 45), interpolation="bilinear")(np.ones((6, 6)))
    assert smooth[2:4, 2:4].min() == pytest.approx(1.0) and smooth[0, 0] < 1.0  # corners see fill


def test_compose_and_transform_errors():
    pipeline = Compose([RandomShift(0), GaussianNoise(0.0)])
    x = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(pipeline(x), x)
    assert "RandomShift" in repr(pipeline)
    with pytest.raises(ValueError, match=r"expected images of shape \(H, W\).*got \(784,\)"):
        RandomRotation(10)(np.zeros(784))
    with pytest.raises(ValueError, match="interpolation should be 'nearest' or 'bilinear'"):
        RandomRotation(10, interpolation="cubic")
