"""The search and counting ops without PyTorch: each against its definition written out in
Python or NumPy beside it, and none of them recorded in the graph."""

import itertools

import numpy as np
import pytest

import aprende

RNG = np.random.default_rng(11)


def test_isin_is_membership_of_each_element():
    elements, tests = RNG.integers(0, 10, (4, 5)), RNG.integers(0, 10, 6)
    expected = np.array([[v in set(tests) for v in row] for row in elements])
    out = aprende.isin(aprende.tensor(elements), aprende.tensor(tests))
    np.testing.assert_array_equal(out.numpy(), expected)
    inverted = aprende.isin(aprende.tensor(elements), aprende.tensor(tests), invert=True)
    np.testing.assert_array_equal(inverted.numpy(), ~expected)


@pytest.mark.parametrize("right", [False, True])
def test_bucketize_finds_the_bucket_of_each_value(right):
    boundaries = np.array([-1.0, 0.0, 0.0, 1.5, 3.0])
    values = np.concatenate([boundaries, RNG.uniform(-2, 4, 20)])

    def bucket(v):  # right=False: boundaries[j-1] < v <= boundaries[j]; right=True: <= v <
        inside = (lambda b: b <= v) if right else (lambda b: b < v)
        return sum(inside(b) for b in boundaries)

    out = aprende.bucketize(aprende.tensor(values), aprende.tensor(boundaries), right=right)
    np.testing.assert_array_equal(out.numpy(), [bucket(v) for v in values])
    assert out.dtype == aprende.int64


def test_bincount_counts_and_sums_weights():
    values, weights = RNG.integers(0, 6, 40), RNG.standard_normal(40)
    counts = [sum(v == k for v in values) for k in range(8)]
    sums = [sum(w for v, w in zip(values, weights, strict=True) if v == k) for k in range(8)]
    x = aprende.tensor(values)
    np.testing.assert_array_equal(aprende.bincount(x, minlength=8).numpy(), counts)
    weighted = aprende.bincount(x, aprende.tensor(weights), minlength=8)
    np.testing.assert_allclose(weighted.numpy(), sums)


def test_histc_puts_each_value_in_its_bin_and_max_in_the_last():
    values = np.concatenate([[0.0, 2.0, 4.0, -0.5, 4.5], RNG.uniform(0, 4, 30)])
    bins, low, high = 8, 0.0, 4.0
    expected = np.zeros(bins)
    for v in values:
        if low <= v <= high:
            expected[min(int((v - low) * bins / (high - low)), bins - 1)] += 1
    out = aprende.histc(aprende.tensor(values), bins=bins, min=low, max=high)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == aprende.float64


def test_histc_uses_the_data_range_when_min_equals_max():
    values = RNG.uniform(-3, 5, 50)
    out = aprende.histc(aprende.tensor(values), bins=5)
    counts, _ = np.histogram(values, bins=5, range=(values.min(), values.max()))
    assert out.numpy().sum() == 50
    np.testing.assert_array_equal(out.numpy(), counts)


def test_argwhere_lists_the_nonzero_positions_row_major():
    x = RNG.integers(0, 2, (3, 2, 4))
    expected = [list(p) for p in itertools.product(range(3), range(2), range(4)) if x[p] != 0]
    out = aprende.argwhere(aprende.tensor(x))
    np.testing.assert_array_equal(out.numpy().reshape(-1, 3), np.array(expected).reshape(-1, 3))


def test_unique_consecutive_collapses_runs():
    x = RNG.integers(0, 3, 30)
    runs = [(k, len(list(group))) for k, group in itertools.groupby(x)]
    values, inverse, counts = aprende.unique_consecutive(aprende.tensor(x), True, True)
    np.testing.assert_array_equal(values.numpy(), [k for k, _ in runs])
    np.testing.assert_array_equal(counts.numpy(), [n for _, n in runs])
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], x)


def test_unique_consecutive_along_a_dim_compares_whole_slices():
    x = np.array([[1, 1, 2, 2, 1], [0, 0, 3, 3, 0], [5, 5, 5, 4, 5]])
    values, inverse, counts = aprende.unique_consecutive(aprende.tensor(x), True, True, dim=1)
    np.testing.assert_array_equal(values.numpy(), x[:, [0, 2, 3, 4]])
    np.testing.assert_array_equal(inverse.numpy(), [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(counts.numpy(), [2, 1, 1, 1])


def test_unravel_index_inverts_the_row_major_flat_index():
    shape = (3, 4, 5)
    flat = RNG.integers(0, 60, (2, 7))
    coords = aprende.unravel_index(aprende.tensor(flat), shape)
    assert len(coords) == 3
    for got, expected in zip(coords, np.unravel_index(flat, shape), strict=True):
        np.testing.assert_array_equal(got.numpy(), expected)
        assert got.dtype == aprende.int64


@pytest.mark.parametrize("row, col, offset", [(4, 4, 0), (3, 5, 1), (5, 3, -2), (0, 2, 0)])
def test_triangle_indices_are_numpys_triangles(row, col, offset):
    lower = aprende.tril_indices(row, col, offset).numpy()
    upper = aprende.triu_indices(row, col, offset).numpy()
    np.testing.assert_array_equal(lower, np.tril_indices(row, offset, col))
    np.testing.assert_array_equal(upper, np.triu_indices(row, offset, col))
    assert lower.dtype == np.int64 and lower.shape[0] == 2


def test_none_of_them_is_recorded_in_the_graph():
    x = aprende.tensor(RNG.standard_normal(12), requires_grad=True)
    outputs = [
        aprende.isin(x, x[:3]),
        aprende.bucketize(x, aprende.tensor([0.0, 1.0])),
        aprende.histc(x, bins=4),
        aprende.argwhere(x),
        *aprende.unique_consecutive(x, True, True),
    ]
    assert not any(out.requires_grad for out in outputs)
