"""isin, bucketize, bincount, histc, argwhere, unique_consecutive, unravel_index and
tril_indices/triu_indices against PyTorch: values, dtypes and shapes (none is differentiable),
each row written once against a namespace ``ns`` (aprende or torch), and the errors PyTorch
raises."""

import numpy as np
import pytest

import aprende

torch = pytest.importorskip("torch")
from torch_reference import assert_same_tensor, compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 4))
I = np.array
NAN = np.nan
BOUNDS = np.array([-1.0, 0.0, 0.5, 2.0])
RUNS = I([1, 1, 2, 2, 3, 1, 1, 2])
ROWS = I([[1, 1, 2, 2], [1, 1, 3, 3], [0, 0, 1, 0]])

F64, F32, I64, I32, B = "float64", "float32", "int64", "int32", "bool"

CASES = [
    # ---- isin
    ("isin", lambda ns, a, t: ns.isin(a, t), [I([[1, 2], [3, 4]]), I([4, 1, 9])], I64),
    (
        "isin-invert",
        lambda ns, a, t: ns.isin(a, t, invert=True),
        [I([[1, 2], [3, 4]]), I([[4, 1]])],
        I64,
    ),
    ("isin-promotes", lambda ns, a, t: ns.isin(a, t), [I([1, 2, 3]), I([2.0, 2.5])], [I64, F64]),
    ("isin-nan", lambda ns, a, t: ns.isin(a, t), [I([1.0, NAN, 2.0]), I([NAN, 2.0])], F32),
    ("isin-number-test", lambda ns, a: ns.isin(a, 2), [I([1, 2, 3])], I64),
    ("isin-number-elements", lambda ns, t: ns.isin(2, t), [I([1, 2, 3])], I64),
    (
        "isin-unique",
        lambda ns, a, t: ns.isin(a, t, assume_unique=True),
        [I([5, 1, 3]), I([3, 4])],
        I64,
    ),
    ("isin-empty", lambda ns, a, t: ns.isin(a, t), [np.zeros((0, 2)), I([1.0])], F64),
    # ---- bucketize: right=False is boundaries[j-1] < v <= boundaries[j]
    (
        "bucketize",
        lambda ns, a, b: ns.bucketize(a, b),
        [I([[-2.0, -1.0], [0.2, 0.5], [2.0, 3.0]]), BOUNDS],
        F64,
    ),
    (
        "bucketize-right",
        lambda ns, a, b: ns.bucketize(a, b, right=True),
        [I([-1.0, 0.0, 0.3, 2.0, 9.0]), BOUNDS],
        F64,
    ),
    ("bucketize-int32", lambda ns, a, b: ns.bucketize(a, b, out_int32=True), [X, BOUNDS], F32),
    (
        "bucketize-int-input",
        lambda ns, a, b: ns.bucketize(a, b),
        [I([0, 1, 2]), BOUNDS],
        [I64, F64],
    ),
    ("bucketize-number", lambda ns, b: ns.bucketize(0.5, b), [BOUNDS], F64),
    ("bucketize-0d", lambda ns, a, b: ns.bucketize(a, b, right=True), [np.array(0.5), BOUNDS], F64),
    ("bucketize-empty-boundaries", lambda ns, a, b: ns.bucketize(a, b), [X, np.zeros(0)], F64),
    # ---- bincount
    ("bincount", lambda ns, a: ns.bincount(a), [I([0, 2, 2, 5, 2])], I64),
    ("bincount-minlength", lambda ns, a: ns.bincount(a, minlength=9), [I([0, 2, 2, 5])], I64),
    ("bincount-minlength-short", lambda ns, a: a.bincount(minlength=2), [I([0, 2, 2, 5])], I64),
    (
        "bincount-float32-weights",
        lambda ns, a, w: ns.bincount(a, w),
        [I([0, 2, 2, 5]), I([0.5, 1, 2, 3])],
        [I64, F32],
    ),
    (
        "bincount-float64-weights",
        lambda ns, a, w: ns.bincount(a, weights=w),
        [I([3, 1, 3]), I([0.5, 1, 2])],
        [I64, F64],
    ),
    (
        "bincount-int-weights",
        lambda ns, a, w: ns.bincount(a, w),
        [I([3, 1, 3]), I([1, 2, 4])],
        [I64, I64],
    ),
    (
        "bincount-bool-weights",
        lambda ns, a, w: ns.bincount(a, w),
        [I([3, 1, 3]), I([1, 0, 1])],
        [I64, B],
    ),
    ("bincount-int32", lambda ns, a: ns.bincount(a), [I([1, 1, 4])], I32),
    ("bincount-uint8", lambda ns, a: ns.bincount(a), [I([1, 1, 4])], "uint8"),
    ("bincount-empty", lambda ns, a: ns.bincount(a), [np.zeros(0, np.int64)], I64),
    (
        "bincount-empty-minlength",
        lambda ns, a: ns.bincount(a, minlength=3),
        [np.zeros(0, np.int64)],
        I64,
    ),
    (
        "bincount-empty-weights",
        lambda ns, a, w: ns.bincount(a, w, minlength=2),
        [np.zeros(0, np.int64), np.zeros(0)],
        [I64, F32],
    ),
    # ---- histc
    ("histc-data-range", lambda ns, a: ns.histc(a, bins=4), [I([1.0, 2, 1, 4])], F32),
    (
        "histc-range",
        lambda ns, a: ns.histc(a, bins=4, min=0, max=3),
        [I([1.0, 2, 1, 4, -1, 3])],
        F32,
    ),
    ("histc-float64", lambda ns, a: a.histc(bins=7, min=-1, max=1.5), [X], F64),
    ("histc-default-bins", lambda ns, a: ns.histc(a), [RNG.standard_normal(500)], F32),
    ("histc-one-value", lambda ns, a: ns.histc(a, bins=4), [I([2.0, 2.0])], F32),
    ("histc-min-equals-max", lambda ns, a: ns.histc(a, bins=4, min=3, max=3), [I([1.0, 2.0])], F32),
    ("histc-empty", lambda ns, a: ns.histc(a, bins=3), [np.zeros(0)], F32),
    (
        "histc-nan-skipped",
        lambda ns, a: ns.histc(a, bins=4, min=0, max=2),
        [I([1.0, NAN, 2.0])],
        F32,
    ),
    ("histc-2d", lambda ns, a: ns.histc(a, bins=2), [I([[1.0, 2], [3, 4]])], F64),
    ("histc-0d", lambda ns, a: ns.histc(a, bins=2), [np.array(2.0)], F32),
    # ---- argwhere
    ("argwhere", lambda ns, a: ns.argwhere(a), [I([[1, 0, 2], [0, 0, 3]])], I64),
    ("argwhere-method-float", lambda ns, a: a.argwhere(), [I([[0.0, NAN], [-0.0, 1.0]])], F64),
    ("argwhere-bool-3d", lambda ns, a: ns.argwhere(a), [RNG.standard_normal((2, 3, 2)) > 0], B),
    ("argwhere-0d", lambda ns, a: ns.argwhere(a), [np.array(1.0)], F64),
    ("argwhere-0d-zero", lambda ns, a: ns.argwhere(a), [np.array(0.0)], F64),
    ("argwhere-empty", lambda ns, a: ns.argwhere(a), [np.zeros((0, 3))], F64),
    # ---- unique_consecutive
    ("unique_consecutive", lambda ns, a: ns.unique_consecutive(a), [RUNS], I64),
    (
        "unique_consecutive-inverse",
        lambda ns, a: ns.unique_consecutive(a, return_inverse=True),
        [RUNS],
        I64,
    ),
    (
        "unique_consecutive-counts",
        lambda ns, a: ns.unique_consecutive(a, return_counts=True),
        [RUNS],
        I64,
    ),
    (
        "unique_consecutive-both-2d",
        lambda ns, a: ns.unique_consecutive(a, True, True),
        [RUNS.reshape(2, 4)],
        F32,
    ),
    (
        "unique_consecutive-dim1",
        lambda ns, a: ns.unique_consecutive(a, True, True, dim=1),
        [ROWS],
        I64,
    ),
    (
        "unique_consecutive-dim-negative",
        lambda ns, a: a.unique_consecutive(True, True, dim=-2),
        [ROWS[[0, 0, 1, 2, 2]]],
        F64,
    ),
    (
        "unique_consecutive-nan",
        lambda ns, a: ns.unique_consecutive(a, True, True),
        [I([1.0, NAN, NAN, 1.0])],
        F64,
    ),
    (
        "unique_consecutive-bool",
        lambda ns, a: ns.unique_consecutive(a, return_counts=True),
        [I([1, 1, 0, 1])],
        B,
    ),
    (
        "unique_consecutive-0d",
        lambda ns, a: ns.unique_consecutive(a, True, True),
        [np.array(3.0)],
        F64,
    ),
    (
        "unique_consecutive-empty",
        lambda ns, a: ns.unique_consecutive(a, True, True),
        [np.zeros(0)],
        F64,
    ),
    (
        "unique_consecutive-empty-dim",
        lambda ns, a: ns.unique_consecutive(a, True, True, dim=0),
        [np.zeros((0, 3))],
        F64,
    ),
    # ---- unravel_index
    ("unravel_index", lambda ns, i: ns.unravel_index(i, (3, 4)), [I([[4, 5], [0, 11]])], I64),
    ("unravel_index-0d", lambda ns, i: ns.unravel_index(i, (2, 3, 4)), [np.array(17)], I64),
    ("unravel_index-int-shape", lambda ns, i: ns.unravel_index(i, 12), [I([5, 0])], I64),
    ("unravel_index-wraps", lambda ns, i: ns.unravel_index(i, [3, 4]), [I([12, -1, -13, 30])], I64),
    ("unravel_index-int32", lambda ns, i: ns.unravel_index(i, (3, 4)), [I([7])], I32),
    ("unravel_index-empty-shape", lambda ns, i: ns.unravel_index(i, ()), [I([0])], I64),
]


@pytest.mark.parametrize("name, op, arrays, dtype", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype, grad=False)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_histc_bins_match_torch_on_random_data(dtype):
    data = RNG.uniform(-3, 3, 5000).astype(dtype)
    data[:40] = np.linspace(-3, 3, 40)  # values on bin edges
    for bins, low, high in [(10, -3, 3), (7, -2.5, 1.25), (33, 0, 0), (100, -1, 1)]:
        theirs = torch.histc(torch.tensor(data), bins=bins, min=low, max=high)
        ours = aprende.histc(aprende.tensor(data), bins=bins, min=low, max=high)
        assert_same_tensor(ours, theirs, 0, 0)


@pytest.mark.parametrize(
    "row, col, offset",
    [(3, 4, 0), (4, 3, 1), (3, 3, -1), (0, 4, 0), (5, 2, -10), (2, 5, 10), (1, 1, 0)],
)
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_match_torch(name, row, col, offset):
    assert_same_tensor(
        getattr(aprende, name)(row, col, offset), getattr(torch, name)(row, col, offset), 0, 0
    )


def test_triangle_indices_take_an_integer_dtype():
    ours = aprende.tril_indices(3, 3, dtype=aprende.int32)
    assert_same_tensor(ours, torch.tril_indices(3, 3, dtype=torch.int32), 0, 0)


ERRORS = [
    ("isin-bool", lambda ns, a, t: ns.isin(a, t), [I([1, 0]), I([1])], B),
    (
        "bucketize-2d-boundaries",
        lambda ns, a, b: ns.bucketize(a, b),
        [X, BOUNDS.reshape(2, 2)],
        F64,
    ),
    ("bucketize-0d-boundaries", lambda ns, a, b: ns.bucketize(a, b), [X, np.array(1.0)], F64),
    ("bincount-negative", lambda ns, a: ns.bincount(a), [I([0, -2])], I64),
    ("bincount-2d", lambda ns, a: ns.bincount(a), [I([[0, 2]])], I64),
    ("bincount-0d", lambda ns, a: ns.bincount(a), [np.array(2)], I64),
    ("bincount-float", lambda ns, a: ns.bincount(a), [I([0.0, 2.0])], F64),
    ("bincount-bool", lambda ns, a: ns.bincount(a), [I([1, 0])], B),
    ("bincount-minlength", lambda ns, a: ns.bincount(a, minlength=-1), [I([1])], I64),
    (
        "bincount-weights-length",
        lambda ns, a, w: ns.bincount(a, w),
        [I([0, 2]), I([1.0, 2, 3])],
        [I64, F64],
    ),
    (
        "bincount-weights-2d",
        lambda ns, a, w: ns.bincount(a, w),
        [I([0, 2]), I([[1.0, 2]])],
        [I64, F64],
    ),
    ("histc-int", lambda ns, a: ns.histc(a, bins=4), [I([1, 2])], I64),
    ("histc-nan-range", lambda ns, a: ns.histc(a, bins=4), [I([1.0, NAN])], F32),
    ("histc-inf-range", lambda ns, a: ns.histc(a, bins=4), [I([1.0, np.inf])], F32),
    ("histc-inf-max", lambda ns, a: ns.histc(a, bins=4, max=np.inf), [I([1.0])], F32),
    ("histc-zero-bins", lambda ns, a: ns.histc(a, bins=0), [I([1.0])], F32),
    ("histc-min-above-max", lambda ns, a: ns.histc(a, bins=4, min=3, max=1), [I([1.0])], F32),
    ("histc-min-above-default-max", lambda ns, a: ns.histc(a, bins=4, min=1), [I([1.0, 2.0])], F32),
    ("unique_consecutive-dim", lambda ns, a: ns.unique_consecutive(a, dim=2), [ROWS], I64),
    (
        "unique_consecutive-0d-dim",
        lambda ns, a: ns.unique_consecutive(a, dim=0),
        [np.array(1.0)],
        F64,
    ),
    (
        "unique_consecutive-empty-other-dim",
        lambda ns, a: ns.unique_consecutive(a, dim=1),
        [np.zeros((0, 3))],
        F64,
    ),
    ("unravel_index-float", lambda ns, i: ns.unravel_index(i, (3, 4)), [I([1.0])], F64),
    ("unravel_index-bool", lambda ns, i: ns.unravel_index(i, (3, 4)), [I([1])], B),
    ("unravel_index-negative-shape", lambda ns, i: ns.unravel_index(i, (3, -4)), [I([1])], I64),
    ("unravel_index-float-shape", lambda ns, i: ns.unravel_index(i, (2.0, 3)), [I([1])], I64),
    ("unravel_index-zero-size", lambda ns, i: ns.unravel_index(i, (3, 0)), [I([0])], I64),
    ("tril_indices-negative-row", lambda ns: ns.tril_indices(-1, 3), [], I64),
    ("triu_indices-negative-col", lambda ns: ns.triu_indices(3, -2), [], I64),
    ("tril_indices-float-dtype", lambda ns: ns.tril_indices(3, 3, dtype=ns.float32), [], I64),
    ("triu_indices-bool-dtype", lambda ns: ns.triu_indices(3, 3, dtype=ns.bool), [], I64),
]


@pytest.mark.parametrize("name, op, arrays, dtype", ERRORS, ids=[c[0] for c in ERRORS])
def test_refuses_what_torch_refuses(name, op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


def test_isin_refuses_two_numbers_with_a_type_error_as_torch():
    for ns in (aprende, torch):
        with pytest.raises(TypeError):
            ns.isin(2, 3)


def test_tensor_methods_are_where_torch_has_them():
    for name in ("bincount", "histc", "argwhere", "unique_consecutive"):
        assert hasattr(torch.Tensor, name) and hasattr(aprende.Tensor, name)
    for name in ("isin", "bucketize", "unravel_index", "tril_indices"):
        assert not hasattr(torch.Tensor, name) and not hasattr(aprende.Tensor, name)
