"""Splits: random_split as PyTorch's; the train/validation/test design, stratified, disjoint,
covering and seeded."""

import math

import numpy as np
import pytest

import aprende
from aprende.data import Subset, TensorDataset, random_split, train_val_test_split


def indices_of(subsets):
    return [set(np.asarray(s.indices).tolist()) for s in subsets]


# ---- random_split ------------------------------------------------------------------------------


def test_random_split_lengths_are_disjoint_and_cover():
    data = TensorDataset(np.arange(10.0))
    parts = random_split(data, [3, 7], generator=0)
    assert [len(p) for p in parts] == [3, 7] and all(isinstance(p, Subset) for p in parts)
    a, b = indices_of(parts)
    assert not a & b and a | b == set(range(10))


def test_random_split_fractions_deal_the_remainder_as_torch():
    torch = pytest.importorskip("torch")
    for n, fractions in [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7])]:
        ours = [len(p) for p in random_split(range(n), fractions, generator=0)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fractions)]
        assert ours == theirs


def test_random_split_is_seeded():
    first = indices_of(random_split(range(20), [0.5, 0.5], generator=4))
    second = indices_of(random_split(range(20), [0.5, 0.5], generator=4))
    assert first == second


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"sum of input lengths \(9\) does not equal .* \(10\)"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


# ---- train_val_test_split ----------------------------------------------------------------------


def test_split_order_sizes_disjoint_and_covering():
    X = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    X_tr, y_tr, X_va, y_va, X_te, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.1)
    # sizes: ⌈0.2·50⌉ = 10, ⌈0.1·50⌉ = 5, the rest for training
    assert (len(y_tr), len(y_va), len(y_te)) == (35, 10, 5)
    parts = [set(y_tr.tolist()), set(y_va.tolist()), set(y_te.tolist())]
    assert sum(len(p) for p in parts) == 50 and set.union(*parts) == set(range(50))
    for Xp, yp in [(X_tr, y_tr), (X_va, y_va), (X_te, y_te)]:
        np.testing.assert_array_equal(Xp, X[yp])  # rows stay paired


def test_split_is_seeded_and_shuffle_false_keeps_order():
    y = np.arange(40)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            train_val_test_split(y, seed=3), train_val_test_split(y, seed=3), strict=True
        )
    )
    assert not np.array_equal(
        train_val_test_split(y, seed=3)[0], train_val_test_split(y, seed=4)[0]
    )
    train, val, test = train_val_test_split(y, val_size=10, test_size=5, shuffle=False)
    assert train.tolist() == list(range(25))
    assert val.tolist() == list(range(25, 35)) and test.tolist() == list(range(35, 40))


@pytest.mark.parametrize("seed", range(5))
def test_stratified_split_keeps_each_class_share_within_one_example(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 60, size=6)  # unbalanced classes, some tiny
    y = rng.permutation(np.repeat(np.arange(6), counts))
    n = len(y)
    y_tr, y_va, y_te = train_val_test_split(y, val_size=0.15, test_size=0.2, stratify=y, seed=seed)
    sizes = [len(y_tr), len(y_va), len(y_te)]
    assert sizes == [
        n - math.ceil(0.15 * n) - math.ceil(0.2 * n),
        math.ceil(0.15 * n),
        math.ceil(0.2 * n),
    ]
    for part, size in zip([y_tr, y_va, y_te], sizes, strict=True):
        got = np.bincount(part, minlength=6)
        ideal = counts * size / n  # class c's proportional share of this split
        assert np.all(np.abs(got - ideal) < 1), (got, ideal)


def test_stratified_split_rows_are_disjoint_and_covering_with_string_labels():
    labels = np.array(["cat"] * 30 + ["dog"] * 12 + ["eel"] * 3)
    ids = np.arange(len(labels))
    id_tr, l_tr, id_va, l_va, id_te, l_te = train_val_test_split(ids, labels, stratify=labels)
    assert sorted(np.concatenate([id_tr, id_va, id_te]).tolist()) == ids.tolist()
    for i, l in [(id_tr, l_tr), (id_va, l_va), (id_te, l_te)]:
        np.testing.assert_array_equal(labels[i], l)


def test_split_keeps_the_kind_of_each_input():
    X = aprende.randn(20, 3)
    names = [f"n{i}" for i in range(20)]
    X_tr, n_tr, X_va, n_va, X_te, n_te = train_val_test_split(X, names, seed=0)
    assert isinstance(X_tr, aprende.Tensor) and X_tr.shape == (14, 3)
    assert isinstance(n_tr, list) and len(n_te) == 3
    np.testing.assert_array_equal(np.asarray(X_te), np.asarray(X)[[int(s[1:]) for s in n_te]])


def test_split_errors_name_what_came():
    y = np.arange(10)
    with pytest.raises(ValueError, match=r"different lengths: \[10, 9\]"):
        train_val_test_split(y, y[:9])
    with pytest.raises(ValueError, match="leave no training examples out of 10"):
        train_val_test_split(y, val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match=r"test_size=1.5 should be a fraction in \[0, 1\)"):
        train_val_test_split(y, test_size=1.5)
    with pytest.raises(ValueError, match="stratify has 9 labels, expected 10"):
        train_val_test_split(y, stratify=y[:9])
    with pytest.raises(
        ValueError, match=r"stratify should be 1-D class labels, got shape \(10, 1\)"
    ):
        train_val_test_split(y, stratify=y[:, None])
