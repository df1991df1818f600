"""Reductions, statistics, norms and sorting without PyTorch: finite-difference gradient checks,
the gradient rules at ties and zeros written out, and random shapes drawn by hypothesis against
NumPy's reference functions.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aprende
from aprende.autograd import gradcheck

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
RNG = np.random.default_rng(3)
M = RNG.standard_normal((3, 4))  # distinct values: every op is differentiable there
T = RNG.standard_normal((2, 3, 4))
ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [2.0, 0.5, -3.0, 1.0]])
NAN = np.array([[1.0, np.nan, 3.0, 2.0], [0.5, 0.2, np.nan, 0.4]])
INF = math.inf


def leaf(array):
    return aprende.tensor(np.array(array, dtype=np.float64), requires_grad=True)


GRADCHECKS = [
    ("mean-dtype", lambda a: a.mean((0, 2), dtype=aprende.float64), T),
    ("prod-all", lambda a: a.prod(), M),
    ("prod-dim", lambda a: a.prod(1, keepdim=True), T),
    ("prod-zeros", lambda a: a.prod(1), ZEROS),
    ("prod-zeros-dim0", lambda a: a.prod(0), ZEROS),
    ("prod-two-zeros-all", lambda a: a.prod(), ZEROS),
    ("amax", lambda a: a.amax((0, 2)), T),
    ("amin", lambda a: aprende.amin(a, -1, keepdim=True), M),
    ("aminmax", lambda a: aprende.aminmax(a, dim=0), M),
    ("max-dim", lambda a: a.max(1).values, M),
    ("min-all", lambda a: a.min(), M),
    ("nansum", lambda a: aprende.nansum(a, 1), NAN),
    ("nanmean", lambda a: aprende.nanmean(a, 0), NAN),
    ("var_mean", lambda a: aprende.var_mean(a, 1), M),
    ("std_mean", lambda a: aprende.std_mean(a, (0, 1), correction=0), T),
    ("median-all", lambda a: a.median(), M),
    ("median-dim", lambda a: a.median(0).values, M),
    ("nanmedian-dim", lambda a: a.nanmedian(1).values, NAN),
    ("mode", lambda a: a.mode(1).values, M),
    ("kthvalue", lambda a: a.kthvalue(2, 1).values, M),
    ("sort", lambda a: a.sort(0, descending=True).values, M),
    ("topk", lambda a: a.topk(2, -1).values, T),
    ("msort", lambda a: aprende.msort(a), M),
    ("vector_norm-2", lambda a: aprende.linalg.vector_norm(a, dim=1), M),
    ("vector_norm-1", lambda a: aprende.linalg.vector_norm(a, 1), M),
    ("vector_norm-inf", lambda a: aprende.linalg.vector_norm(a, INF, 0), M),
    ("vector_norm-neg-inf", lambda a: aprende.linalg.vector_norm(a, -INF, 1), M),
    ("vector_norm-half", lambda a: aprende.linalg.vector_norm(a, 0.5), M),
    ("vector_norm-3", lambda a: aprende.linalg.vector_norm(a, 3, (0, 2)), T),
    ("vector_norm-neg-1", lambda a: aprende.linalg.vector_norm(a, -1, 1), M),
    ("norm", lambda a: a.norm(dim=1, keepdim=True), M),
    ("matrix_norm-1", lambda a: aprende.linalg.matrix_norm(a, 1), T),
    ("matrix_norm-inf", lambda a: aprende.linalg.norm(a, INF), M),
    ("matrix_norm-2", lambda a: aprende.linalg.matrix_norm(a, 2), T),
    ("matrix_norm-neg2", lambda a: aprende.linalg.matrix_norm(a, -2, (0, 2)), T),
    ("matrix_norm-nuc", lambda a: aprende.norm(a, "nuc"), M),
    ("matrix_norm-fro", lambda a: aprende.linalg.norm(a, dim=(0, 2)), T),
]


@pytest.mark.parametrize("fn, array", [r[1:] for r in GRADCHECKS], ids=[r[0] for r in GRADCHECKS])
def test_gradient_matches_finite_differences(fn, array):
    assert gradcheck(fn, (leaf(array),))


# ---- the gradient rules at ties, zeros and nan, written out -------------------------------------


def grad_of(fn, array):
    a = leaf(array)
    fn(a).sum().backward()
    return a.grad.numpy()


def test_amax_ties_share_the_gradient_and_max_dim_sends_it_to_the_returned_index():
    ties = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    np.testing.assert_allclose(grad_of(lambda a: a.amax(1), ties), [[0, 0.5, 0.5], [1 / 3] * 3])
    np.testing.assert_allclose(grad_of(lambda a: a.max(1).values, ties), [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(grad_of(lambda a: a.max(), ties), [[0, 0.5, 0.5], [0, 0, 0]])


def test_max_of_a_nan_tensor_shares_the_gradient_among_the_nans_and_amax_gives_nan():
    values = [1.0, np.nan, 3.0, np.nan]
    np.testing.assert_allclose(grad_of(lambda a: a.max(), values), [0, 0.5, 0, 0.5])
    assert np.isnan(grad_of(lambda a: a.amax(), values)).all()


def test_prod_gradient_with_one_zero_and_with_two():
    np.testing.assert_allclose(grad_of(lambda a: a.prod(), [2.0, 0.0, 3.0]), [0, 6, 0])
    np.testing.assert_allclose(grad_of(lambda a: a.prod(), [2.0, 0.0, 0.0]), [0, 0, 0])
    np.testing.assert_allclose(grad_of(lambda a: a.prod(), [2.0, 4.0, 3.0]), [12, 6, 8])


def test_median_of_an_even_count_is_the_lower_middle_value():
    a = aprende.tensor([4.0, 1.0, 3.0, 2.0])
    assert a.median().item() == 2.0
    assert aprende.tensor([[4, 1, 3, 2]]).median(1).values.tolist() == [2]


def test_norm_gradient_at_zero_is_zero():
    for p in (2, 3, 1.5):
        np.testing.assert_array_equal(
            grad_of(lambda a, p=p: aprende.linalg.vector_norm(a, p), [0.0, 0.0]), [0, 0]
        )


def test_sort_is_stable_and_puts_nan_last_ascending_and_first_descending():
    a = aprende.tensor([3.0, np.nan, 1.0, np.nan, 1.0])
    assert a.sort(stable=True).indices.tolist() == [2, 4, 0, 1, 3]
    assert a.sort(descending=True, stable=True).indices.tolist() == [1, 3, 0, 2, 4]


def test_changing_the_returned_indices_in_place_makes_backward_raise():
    values, indices = leaf(M).sort(1)
    indices[0, 0] = 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        values.sum().backward()


def test_the_result_kinds_have_torch_names():
    out = aprende.aminmax(aprende.tensor(M))
    assert out.min.item() == M.min() and out.max.item() == M.max()
    values, indices = aprende.tensor(M).topk(2)
    assert values.shape == indices.shape == (3, 2)


def test_errors_name_the_op_and_what_came():
    with pytest.raises(RuntimeError, match=r"mean\(\).*int64"):
        aprende.tensor([1, 2]).mean()
    with pytest.raises(IndexError, match=r"amax\(\): expected reduction dim 1"):
        aprende.zeros(2, 0).amax(1)
    with pytest.raises(RuntimeError, match=r"topk\(\): selected index k=4 .* size 3"):
        aprende.zeros(3).topk(4)
    with pytest.raises(RuntimeError, match=r"matrix_norm: ord must be one of .* got 3"):
        aprende.linalg.matrix_norm(aprende.zeros(2, 2), 3)


# ---- random shapes against NumPy ----------------------------------------------------------------


@st.composite
def array_and_dim(draw, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    values = draw(
        hnp.arrays(np.float64, shape, elements=st.integers(-4, 4).map(float), unique=False)
    )
    return values, draw(st.integers(-len(shape), len(shape) - 1))


@SETTINGS
@given(case=array_and_dim())
def test_sort_and_topk_agree_with_numpy(case):
    values, dim = case
    out = aprende.tensor(values).sort(dim, stable=True)
    np.testing.assert_array_equal(out.indices.numpy(), np.argsort(values, dim, kind="stable"))
    np.testing.assert_array_equal(out.values.numpy(), np.sort(values, dim))
    k = values.shape[dim] // 2 + 1
    top = aprende.tensor(values).topk(k, dim, largest=False)
    np.testing.assert_array_equal(
        top.values.numpy(), np.take(np.sort(values, dim), np.arange(k), axis=dim)
    )


@SETTINGS
@given(case=array_and_dim())
def test_order_statistics_agree_with_numpy(case):
    values, dim = case
    size = values.shape[dim]
    lower_median = np.take(np.sort(values, dim), (size - 1) // 2, axis=dim)
    np.testing.assert_array_equal(aprende.tensor(values).median(dim).values.numpy(), lower_median)
    kth = aprende.tensor(values).kthvalue(size, dim).values.numpy()
    np.testing.assert_array_equal(kth, values.max(axis=dim))
    modes = aprende.tensor(values).mode(dim).values.numpy()
    counts = (np.expand_dims(modes, dim) == values).sum(axis=dim)
    np.testing.assert_array_equal(counts, np.apply_along_axis(_most_common_count, dim, values))


def _most_common_count(row):
    return np.unique(row, return_counts=True)[1].max()


@SETTINGS
@given(case=array_and_dim(min_side=0), p=st.sampled_from([1, 2, 3, INF, -INF, 0, 0.5]))
def test_reductions_agree_with_numpy(case, p):
    values, dim = case
    a = aprende.tensor(values)
    np.testing.assert_allclose(a.prod(dim).numpy(), values.prod(axis=dim))
    np.testing.assert_array_equal(a.count_nonzero(dim).numpy(), np.count_nonzero(values, dim))
    if values.shape[dim] and values.size:
        np.testing.assert_array_equal(a.amax(dim).numpy(), values.max(axis=dim))
        np.testing.assert_allclose(
            aprende.linalg.vector_norm(a, p, dim).numpy(), np.linalg.norm(values, p, axis=dim)
        )


@SETTINGS
@given(case=array_and_dim(), right=st.booleans())
def test_searchsorted_and_unique_agree_with_numpy(case, right):
    values, _ = case
    rows = np.sort(values.reshape(-1, values.shape[-1]), axis=-1)
    queries = rows[::-1] + 0.5
    found = aprende.searchsorted(aprende.tensor(rows), aprende.tensor(queries), right=right)
    side = "right" if right else "left"
    expected = [np.searchsorted(r, q, side=side) for r, q in zip(rows, queries, strict=True)]
    np.testing.assert_array_equal(found.numpy(), expected)
    unique, inverse, counts = aprende.unique(
        aprende.tensor(values), return_inverse=True, return_counts=True
    )
    np.testing.assert_array_equal(unique.numpy()[inverse.numpy()], values)
    assert counts.sum().item() == values.size
