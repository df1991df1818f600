"""index_add, index_copy, index_fill, masked_scatter, take and select without PyTorch: values
against NumPy loops written out beside each op, finite-difference gradient checks in float64,
and the in-place twins' rules."""

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck

RNG = np.random.default_rng(5)


def leaf(*shape):
    return aprende.tensor(RNG.standard_normal(shape), dtype=aprende.float64, requires_grad=True)


def index(values):
    return aprende.tensor(np.asarray(values, np.int64))


def test_index_add_adds_each_source_slice_at_its_index():
    a, s = RNG.standard_normal((4, 3)), RNG.standard_normal((5, 3))
    positions = [3, 0, 3, 1, 3]
    expected = a.copy()
    for i, p in enumerate(positions):
        expected[p] += -0.5 * s[i]
    out = aprende.index_add(aprende.tensor(a), 0, index(positions), aprende.tensor(s), alpha=-0.5)
    np.testing.assert_allclose(out.numpy(), expected)


def test_index_copy_replaces_the_slices_along_dim():
    a, s = RNG.standard_normal((2, 5)), RNG.standard_normal((2, 2))
    expected = a.copy()
    expected[:, 4], expected[:, 1] = s[:, 0], s[:, 1]
    out = aprende.index_copy(aprende.tensor(a), 1, index([4, 1]), aprende.tensor(s))
    np.testing.assert_array_equal(out.numpy(), expected)


def test_index_fill_sets_the_slices_and_counts_negative_indices_from_the_end():
    a = RNG.standard_normal((3, 2, 4))
    expected = a.copy()
    expected[:, :, [0, 3]] = 2.5
    out = aprende.index_fill(aprende.tensor(a), 2, index([0, -1]), 2.5)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_masked_scatter_writes_source_in_row_major_order():
    a, s = RNG.standard_normal((3, 4)), RNG.standard_normal(20)
    mask = RNG.random((3, 4)) < 0.5
    expected = a.copy()
    expected[mask] = s[: mask.sum()]  # NumPy's boolean assignment also walks row-major
    out = aprende.masked_scatter(aprende.tensor(a), aprende.tensor(mask), aprende.tensor(s))
    np.testing.assert_array_equal(out.numpy(), expected)


def test_take_reads_the_flattened_input_and_select_one_slice():
    a = RNG.standard_normal((2, 3, 4))
    picks = np.array([[0, 23], [-1, 7]])
    np.testing.assert_array_equal(
        aprende.take(aprende.tensor(a), index(picks)).numpy(), a.reshape(-1)[picks]
    )
    np.testing.assert_array_equal(aprende.select(aprende.tensor(a), 1, -1).numpy(), a[:, -1])


MASK = np.array([[True, False, True], [False, True, True]])

GRADCHECKS = [
    (
        "index_add",
        lambda a, s: aprende.index_add(a, 1, index([2, 0, 2, 3]), s, alpha=1.5),
        [(3, 4), (3, 4)],
    ),
    ("index_add-0d", lambda a, s: aprende.index_add(a, 0, index([0]), s), [(), ()]),
    ("index_copy", lambda a, s: aprende.index_copy(a, 0, index([2, 0]), s), [(3, 4), (2, 4)]),
    ("index_copy-3d", lambda a, s: a.index_copy(-1, index([1]), s), [(2, 3, 4), (2, 3, 1)]),
    ("index_fill-number", lambda a: aprende.index_fill(a, 1, index([1, 1, 3]), 0.5), [(3, 4)]),
    ("index_fill-tensor", lambda a, v: a.index_fill(0, index([0, 2, 0]), v), [(3, 4), ()]),
    (
        "masked_scatter",
        lambda a, s: aprende.masked_scatter(a, aprende.tensor(MASK), s),
        [(2, 3), (7,)],
    ),
    (
        "masked_scatter-broadcast",
        lambda a, s: aprende.masked_scatter(a, aprende.tensor(MASK), s),
        [(1, 3), (2, 3)],
    ),
    ("take", lambda a: aprende.take(a, index([[0, -1], [4, 4]])), [(2, 3)]),
    ("select", lambda a: aprende.select(a, 1, -2), [(2, 3, 4)]),
]


@pytest.mark.parametrize("name, fn, shapes", GRADCHECKS, ids=[c[0] for c in GRADCHECKS])
def test_gradients_match_finite_differences(name, fn, shapes):
    assert gradcheck(fn, [leaf(*shape) for shape in shapes])


def test_masked_scatter_source_gradient_is_the_masked_gradient_then_zeros():
    a, s = leaf(2, 3), leaf(6)
    upstream = RNG.standard_normal((2, 3))
    out = aprende.masked_scatter(a, aprende.tensor(MASK), s)
    (out * aprende.tensor(upstream)).sum().backward()
    used = MASK.sum()
    np.testing.assert_array_equal(s.grad.numpy()[:used], upstream[MASK])
    np.testing.assert_array_equal(s.grad.numpy()[used:], 0)
    np.testing.assert_array_equal(a.grad.numpy(), np.where(MASK, 0, upstream))


def test_index_fill_tensor_value_gets_each_filled_element_once():
    a, v = leaf(3, 4), aprende.tensor(1.0, dtype=aprende.float64, requires_grad=True)
    upstream = RNG.standard_normal((3, 4))
    (a.index_fill(0, index([2, 2]), v) * aprende.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), upstream[2].sum())


@pytest.mark.parametrize(
    "twin, out_of_place, args",
    [
        (
            "index_add_",
            aprende.index_add,
            (0, index([1, 1]), aprende.ones(2, 3, dtype=aprende.float64)),
        ),
        (
            "index_copy_",
            aprende.index_copy,
            (1, index([2]), aprende.ones(2, 1, dtype=aprende.float64)),
        ),
        ("index_fill_", aprende.index_fill, (1, index([0, -1]), 7.0)),
        (
            "masked_scatter_",
            aprende.masked_scatter,
            (aprende.tensor(MASK[0]), aprende.arange(6.0).double()),
        ),
    ],
)
def test_in_place_twins_write_the_out_of_place_result_into_self(twin, out_of_place, args):
    base = RNG.standard_normal((2, 3))
    a = aprende.tensor(base.copy())
    memory, version = a.data, a._version
    assert getattr(a, twin)(*args) is a
    assert a.data is memory and a._version == version + 1
    np.testing.assert_array_equal(a.numpy(), out_of_place(aprende.tensor(base), *args).numpy())


def test_in_place_twins_refuse_what_would_corrupt_a_gradient():
    a = leaf(2, 3)
    with pytest.raises(RuntimeError, match="index_copy_: in-place operation on a leaf"):
        a.index_copy_(0, index([0]), aprende.ones(1, 3, dtype=aprende.float64))
    b = aprende.zeros(2, 3, dtype=aprende.float64)
    with pytest.raises(RuntimeError, match="index_add_: in-place operation with an argument"):
        b.index_add_(0, index([0]), leaf(1, 3))
    with pytest.raises(RuntimeError, match="masked_scatter_: mask of shape"):
        aprende.zeros(3).masked_scatter_(aprende.tensor(MASK), aprende.zeros(6))


def test_index_tensors_are_saved_for_backward():
    a = leaf(3, 2)
    positions = index([1])
    out = aprende.take(a, positions)
    positions.add_(1)
    with pytest.raises(RuntimeError):
        out.sum().backward()
