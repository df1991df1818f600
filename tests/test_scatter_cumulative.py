"""Gather/scatter, the mask ops and the cumulative ops without PyTorch: finite-difference
gradient checks in float64, hypothesis-drawn shapes against NumPy written out beside the op,
and the in-place variants' rules."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aprende
from aprende.autograd import gradcheck
from aprende.nn import functional as F

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
RNG = np.random.default_rng(3)


def leaf(*shape, values=None):
    data = RNG.standard_normal(shape) if values is None else np.asarray(values, np.float64)
    return aprende.tensor(data, dtype=aprende.float64, requires_grad=True)


def index(values):
    return aprende.tensor(np.asarray(values, np.int64))


# Distinct values for amax/amin (finite differences need no ties); zeros for prod, whose
# product stays smooth through them.
BASE = [[3.0, 0.0, 7.0], [2.0, 5.0, 1.0]]
SRC = [[3.5, 2.5, 1.0, 2.0], [2.2, 0.0, 4.0, 5.5]]
TWO_ZEROS = [[0.0, 2.0, 0.0, 1.0], [1.0, 3.0, 2.0, 0.0]]
REDUCE_INDEX = [[0, 0, 1, 1], [1, 1, 1, 0]]
ZEROS = [[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, 2.0, -1.0, 3.0]]

GRADCHECKS = [
    ("gather", lambda a: aprende.gather(a, 1, index([[0, 1, 1], [2, 0, 3], [3, 3, 3]])), [(3, 4)]),
    ("gather-dim0-smaller", lambda a: a.gather(0, index([[2, 0], [2, 2]])), [(3, 4)]),
    ("gather-0d", lambda a: aprende.gather(a, 0, index(0)), [()]),
    ("take_along_dim", lambda a: aprende.take_along_dim(a, index([[-1, 0, 2]]), 1), [(3, 4)]),
    (
        "take_along_dim-flat",
        lambda a: aprende.take_along_dim(a, index([[5, 5], [0, 11]])),
        [(3, 4)],
    ),
    (
        "scatter-src",
        lambda a, s: aprende.scatter(a, 1, index([[0, 2], [3, 1], [1, 0]]), s),
        [(3, 4), (3, 2)],
    ),
    ("scatter-src-larger", lambda a, s: a.scatter(0, index([[2, 0], [1, 1]]), s), [(3, 4), (3, 3)]),
    (
        "scatter-value",
        lambda a: aprende.scatter(a, 1, index([[0, 2], [3, 1], [1, 0]]), 2.5),
        [(3, 4)],
    ),
    (
        "scatter_add",
        lambda a, s: aprende.scatter_add(a, 1, index([[0, 0, 3], [1, 1, 1]]), s),
        [(2, 4), (2, 3)],
    ),
    (
        "scatter_add-src-larger",
        lambda a, s: a.scatter_add(0, index([[1, 1], [0, 1]]), s),
        [(3, 4), (3, 3)],
    ),
    *[
        (
            f"scatter_reduce-{reduce}-{include}",
            lambda a, s, r=reduce, inc=include: aprende.scatter_reduce(
                a, 1, index(REDUCE_INDEX), s, r, include_self=inc
            ),
            [BASE, TWO_ZEROS if reduce == "prod" else SRC],
        )
        for reduce in ("sum", "prod", "mean", "amax", "amin")
        for include in (True, False)
    ],
    (
        "scatter_reduce-prod-zero-input",
        lambda a, s: aprende.scatter_reduce(a, 1, index(REDUCE_INDEX), s, "prod"),
        [BASE, SRC],
    ),
    ("index_select", lambda a: aprende.index_select(a, 1, index([3, 0, 3])), [(3, 4)]),
    ("index_select-0d", lambda a: a.index_select(0, index([0])), [()]),
    (
        "masked_fill",
        lambda a: aprende.masked_fill(a, aprende.tensor([True, False, True, False]), 1.0),
        [(3, 4)],
    ),
    (
        "masked_fill-value",
        lambda a, v: a.masked_fill(aprende.tensor([[True], [False]]), v),
        [(2, 3), ()],
    ),
    (
        "masked_fill-broadcast",
        lambda a: a.masked_fill(aprende.tensor([[True, False, False]] * 2), 0.0),
        [(3,)],
    ),
    (
        "masked_select",
        lambda a: aprende.masked_select(a, aprende.tensor([[True, False, True]] * 2)),
        [(3,)],
    ),
    ("cumsum", lambda a: aprende.cumsum(a, 1), [(3, 4)]),
    ("cumsum-0d", lambda a: a.cumsum(0), [()]),
    ("cumprod", lambda a: aprende.cumprod(a, -1), [(3, 4)]),
    ("cumprod-zeros", lambda a: aprende.cumprod(a, 1), [ZEROS]),
    ("cumprod-zeros-dim0", lambda a: a.cumprod(0), [np.transpose(ZEROS)]),
    ("cummax", lambda a: aprende.cummax(a, 1).values, [(3, 5)]),
    ("cummin", lambda a: a.cummin(0).values, [(4, 3)]),
    ("logcumsumexp", lambda a: aprende.logcumsumexp(a, 1), [(3, 4)]),
    ("logcumsumexp-spread", lambda a: a.logcumsumexp(0), [[-30.0, 0.0, -30.0, 25.0]]),
]


@pytest.mark.parametrize("name, fn, inputs", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_gradient_matches_finite_differences(name, fn, inputs):
    tensors = [leaf(*spec) if isinstance(spec, tuple) else leaf(values=spec) for spec in inputs]
    assert gradcheck(fn, tensors)


# ---- shapes drawn by hypothesis, against NumPy ------------------------------------------------


@st.composite
def gather_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(
        draw(st.integers(0, 4)) if d == dim % len(shape) else draw(st.integers(0, n))
        for d, n in enumerate(shape)
    )
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, shape[dim], size=index_shape)
    return rng.standard_normal(shape), dim, idx


@SETTINGS
@given(case=gather_case())
def test_gather_is_take_along_axis_and_its_gradient_is_add_at(case):
    x, dim, idx = case
    a = aprende.tensor(x, requires_grad=True)
    out = aprende.gather(a, dim, aprende.tensor(idx))
    # the reference: NumPy's take_along_axis on the block of x the index covers
    block = tuple(
        slice(0, n) if d != dim % x.ndim else slice(None) for d, n in enumerate(idx.shape)
    )
    np.testing.assert_array_equal(out.detach().numpy(), np.take_along_axis(x[block], idx, dim))
    upstream = np.random.default_rng(0).standard_normal(idx.shape)
    out.backward(aprende.tensor(upstream))
    expected = np.zeros_like(x)
    np.add.at(expected, _coordinates(idx, dim % x.ndim), upstream)
    np.testing.assert_allclose(a.grad.numpy(), expected)


def _coordinates(idx, dim):
    """The full NumPy index of gather's reads, written out with np.indices."""
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = idx
    return tuple(grid)


@SETTINGS
@given(case=gather_case())
def test_scatter_add_is_add_at_and_scatter_reduce_amax_is_maximum_at(case):
    x, dim, idx = case
    src = np.random.default_rng(1).standard_normal(idx.shape)
    expected = x.copy()
    np.add.at(expected, _coordinates(idx, dim % x.ndim), src)
    out = aprende.scatter_add(aprende.tensor(x), dim, aprende.tensor(idx), aprende.tensor(src))
    np.testing.assert_allclose(out.numpy(), expected)
    expected = x.copy()
    np.maximum.at(expected, _coordinates(idx, dim % x.ndim), src)
    out = aprende.tensor(x).scatter_reduce(dim, aprende.tensor(idx), aprende.tensor(src), "amax")
    np.testing.assert_array_equal(out.numpy(), expected)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_cumulative_ops_match_numpy_along_any_dim(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float64)  # ties
    a = aprende.tensor(x)
    np.testing.assert_allclose(aprende.cumsum(a, dim).numpy(), np.cumsum(x, dim))
    np.testing.assert_allclose(aprende.cumprod(a, dim).numpy(), np.cumprod(x, dim))
    np.testing.assert_allclose(
        aprende.logcumsumexp(a, dim).numpy(), np.log(np.cumsum(np.exp(x), dim)), rtol=1e-12
    )
    values, indices = aprende.cummax(a, dim)
    np.testing.assert_array_equal(values.numpy(), np.maximum.accumulate(x, dim))
    if x.size:
        np.testing.assert_array_equal(
            indices.numpy(), np.apply_along_axis(_last_running_max, dim, x)
        )


def _last_running_max(v):
    """cummax's indices written as a loop: a later value equal to the maximum takes over."""
    best, position, out = -np.inf, 0, []
    for j, value in enumerate(v):
        if value >= best:
            best, position = value, j
        out.append(position)
    return out


# ---- semantics ---------------------------------------------------------------------------------


def test_cumprod_gradient_with_one_zero_is_the_product_of_the_others():
    x = leaf(values=[2.0, 0.0, 3.0, 0.0, 4.0])
    aprende.cumprod(x, 0).backward(aprende.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=aprende.float64))
    # ∂/∂x₁ = g₁·x₀ + g₂·x₀x₂ = 2·2 + 3·6; past the first zero every product holds it
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 22.0, 0.0, 0.0, 0.0])


def test_cummax_ties_take_the_last_index():
    values, indices = aprende.cummax(aprende.tensor([1.0, 3.0, 3.0, 2.0, 5.0, 5.0]), 0)
    assert indices.tolist() == [0, 1, 2, 2, 4, 5]
    assert aprende.cummin(aprende.tensor([2.0, 2.0, 3.0, 2.0]), 0).indices.tolist() == [0, 1, 1, 3]


def test_integer_cumsum_is_int64_and_does_not_wrap():
    x = aprende.tensor(np.array([2**30, 2**30], np.int32))
    assert aprende.cumsum(x, 0).dtype == aprende.int64
    assert aprende.cumsum(x, 0).tolist() == [2**30, 2**31]
    assert aprende.cumsum(x, 0, dtype=aprende.int32).dtype == aprende.int32


def test_scatter_reduce_amax_shares_gradient_among_ties():
    a = leaf(values=[[3.0, 1.0]])
    src = leaf(values=[[3.0, 3.0, 0.5]])
    aprende.scatter_reduce(a, 1, index([[0, 0, 1]]), src, "amax").sum().backward()
    # position 0: max(3, 3, 3), three ties; position 1: max(1, 0.5), the input's own value
    np.testing.assert_allclose(a.grad.numpy(), [[1 / 3, 1.0]])
    np.testing.assert_allclose(src.grad.numpy(), [[1 / 3, 1 / 3, 0.0]])


def test_in_place_variants_write_into_the_tensor_and_bump_its_version():
    x = aprende.zeros(2, 3)
    x.scatter_(1, index([[2], [0]]), aprende.ones(2, 1))
    x.scatter_add_(0, index([[1, 1, 1]]), aprende.full((1, 3), 2.0))
    x.masked_fill_(aprende.tensor([True, False, False]), -1.0)
    assert x.tolist() == [[-1.0, 0.0, 1.0], [-1.0, 2.0, 2.0]]
    assert x._version == 3
    x.scatter_(1, index([[0]]), 5.0, reduce="multiply")
    assert x.tolist()[0] == [-5.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.scatter_(0, index([0]), 1.0),
        lambda x: x.scatter_add_(0, index([0]), aprende.ones(1)),
        lambda x: x.masked_fill_(aprende.tensor([True, False]), 1.0),
    ],
)
def test_in_place_variants_refuse_a_leaf_that_requires_grad(call):
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):
        call(aprende.zeros(2, requires_grad=True))


def test_changing_cummax_indices_after_forward_raises():
    x = leaf(4)
    values, indices = aprende.cummax(x, 0)
    indices[0] = 3
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        values.sum().backward()


def test_one_hot_is_the_tensor_op_with_int64_output():
    out = F.one_hot(aprende.tensor([[0, 2], [1, 0]]))
    assert out.dtype == aprende.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 0, 0]]]
    with pytest.raises(
        RuntimeError, match="one_hot: class values must be smaller than num_classes=2, got 2"
    ):
        F.one_hot(aprende.tensor([0, 2]), 2)


def test_nonzero_and_masked_select_need_no_torch():
    x = aprende.tensor([[0.0, 1.5], [2.0, 0.0]])
    assert x.nonzero().tolist() == [[0, 1], [1, 0]]
    rows, cols = aprende.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert aprende.masked_select(x, x > 0).tolist() == [1.5, 2.0]
