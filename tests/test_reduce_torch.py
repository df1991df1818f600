"""Reductions, statistics and norms against PyTorch: values, dtypes, shapes and gradients.

Each row is the PyTorch expression written once against a namespace ``ns`` (aprende or torch);
``compare`` runs it in both and checks every output and every input gradient.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 4))  # distinct values: no ties
T = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)
S = np.array(1.5)
E = np.zeros((2, 0))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 5.0], [-1.0, 4.0, -1.0, 4.0]])
NAN = np.array([[1.0, np.nan, 3.0, 2.0], [0.5, 0.2, 0.1, 0.4], [np.nan, np.nan, 1.0, 1.0]])
ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [2.0, 0.5, -3.0, 1.0]])
INTS = np.array([[3, -1, 2, 7], [0, 5, 5, -2]])
BOOLS = np.array([[True, False, True], [False, False, True]])
F, D = "float32", "float64"
INF = math.inf

ROWS = [
    # sum / mean: dim forms, dtype=, integer and bool promotion
    ("sum-all", lambda ns, a: ns.sum(a), [T], D),
    ("sum-tuple-neg", lambda ns, a: a.sum((-1, 0)), [T], D),
    ("sum-empty-tuple", lambda ns, a: a.sum(()), [M], F),
    ("sum-keepdim", lambda ns, a: a.sum(1, keepdim=True), [T], F),
    ("sum-dtype", lambda ns, a: a.sum(1, dtype=ns.float64), [M], F),
    ("sum-int32", lambda ns, a: a.sum(0), [INTS], "int32"),
    ("sum-uint8", lambda ns, a: a.sum(), [np.abs(INTS)], "uint8"),
    ("sum-bool", lambda ns, a: a.sum(1), [BOOLS], "bool"),
    ("sum-dtype-int32", lambda ns, a: a.detach().sum(1, dtype=ns.int32), [M * 10], F),
    ("prod-dtype-int32", lambda ns, a: a.prod(1, dtype=ns.int32), [INTS], "int64"),
    ("logsumexp-int", lambda ns, a: a.logsumexp(1), [INTS], "int64"),
    ("sum-int-dtype", lambda ns, a: a.sum(dtype=ns.float32), [INTS], "int64"),
    ("sum-empty", lambda ns, a: a.sum(1), [E], D),
    ("sum-0d", lambda ns, a: a.sum(0), [S], D),
    ("sum-float16", lambda ns, a: a.sum(), [M], "float16"),
    ("sum-noncontiguous", lambda ns, a: a.t().sum(0), [M], D),
    ("mean-dtype-int", lambda ns, a: a.mean(dtype=ns.float64), [INTS], "int64"),
    ("mean-dtype", lambda ns, a: a.mean((0, 2), dtype=ns.float64), [T], F),
    ("mean-empty", lambda ns, a: a.mean(), [E], D),
    ("mean-empty-dim", lambda ns, a: a.mean(1), [E], D),
    ("mean-slice", lambda ns, a: a[:, ::2].mean(-1), [M], F),
    # prod: zeros (none, one, several per row), dims, integer promotion
    ("prod-all", lambda ns, a: a.prod(), [M], D),
    ("prod-dim", lambda ns, a: a.prod(1), [T], D),
    ("prod-neg-keepdim", lambda ns, a: a.prod(-2, keepdim=True), [T], F),
    ("prod-zeros-dim1", lambda ns, a: a.prod(1), [ZEROS], D),
    ("prod-zeros-dim0", lambda ns, a: a.prod(0), [ZEROS], D),
    ("prod-one-zero-all", lambda ns, a: a[0].prod(), [ZEROS], D),
    ("prod-two-zeros-all", lambda ns, a: a.prod(), [ZEROS], D),
    ("prod-empty", lambda ns, a: a.prod(), [E], D),
    ("prod-empty-dim", lambda ns, a: a.prod(1), [E], D),
    ("prod-0d", lambda ns, a: a.prod(0), [S], D),
    ("prod-int32", lambda ns, a: a.prod(1), [INTS], "int32"),
    ("prod-bool", lambda ns, a: a.prod(), [BOOLS], "bool"),
    ("prod-dtype", lambda ns, a: a.prod(0, dtype=ns.float64), [M], F),
    ("prod-transposed", lambda ns, a: a.t().prod(1), [ZEROS], D),
    # amax / amin / aminmax / max / min: ties share the gradient, max(dim) sends it to the index
    ("amax-all", lambda ns, a: a.amax(), [TIES], D),
    ("amax-dim", lambda ns, a: a.amax(1), [TIES], D),
    ("amin-tuple", lambda ns, a: ns.amin(a, (0, 2), keepdim=True), [T], F),
    ("amax-nan", lambda ns, a: a.amax(1), [NAN], D),
    ("amax-nan-all", lambda ns, a: a.amax(), [NAN], D),
    ("amax-int", lambda ns, a: a.amax(0), [INTS], "int64"),
    ("amin-bool", lambda ns, a: a.amin(), [BOOLS], "bool"),
    ("amax-empty-other-dim", lambda ns, a: a.amax(0), [E], D),
    ("amax-0d", lambda ns, a: a.amax(-1), [S], D),
    ("aminmax", lambda ns, a: ns.aminmax(a), [TIES], D),
    ("aminmax-dim", lambda ns, a: ns.aminmax(a, dim=-1, keepdim=True), [TIES], F),
    ("max-all-ties", lambda ns, a: a.max(), [TIES], D),
    ("max-all-nan", lambda ns, a: a.max(), [NAN], D),
    ("min-dim", lambda ns, a: a.min(1), [M], D),
    ("max-dim-keepdim", lambda ns, a: a.max(-1, keepdim=True), [T], F),
    ("max-dim-nan", lambda ns, a: a.max(1), [NAN], D),
    ("max-0d-dim", lambda ns, a: a.max(0), [S], D),
    ("min-int-dim", lambda ns, a: a.min(0), [INTS], "int64"),
    ("argmax-nan", lambda ns, a: a.argmax(1), [NAN], D),
    ("argmin-all-keepdim", lambda ns, a: a.argmin(keepdim=True), [M], D),
    ("argmax-0d", lambda ns, a: a.argmax(0), [S], D),
    ("argmax-transposed", lambda ns, a: a.t().argmax(0), [M], D),
    # nan-aware reductions and counts
    ("nansum", lambda ns, a: ns.nansum(a, 1), [NAN], D),
    ("nansum-all", lambda ns, a: a.nansum(), [NAN], F),
    ("nansum-int", lambda ns, a: ns.nansum(a), [INTS], "int32"),
    ("nansum-empty", lambda ns, a: ns.nansum(a), [E], D),
    ("nanmean", lambda ns, a: ns.nanmean(a, 1, keepdim=True), [NAN], D),
    ("nanmean-all", lambda ns, a: a.nanmean(), [NAN], F),
    ("nanmean-all-nan", lambda ns, a: ns.nanmean(a), [np.full(3, np.nan)], D),
    ("count_nonzero", lambda ns, a: ns.count_nonzero(a), [ZEROS], D),
    ("count_nonzero-dim", lambda ns, a: a.count_nonzero(-1), [ZEROS], D),
    ("count_nonzero-tuple", lambda ns, a: ns.count_nonzero(a, (0, 1)), [INTS], "int64"),
    ("var_mean", lambda ns, a: ns.var_mean(a, 1), [M], D),
    ("var_mean-correction", lambda ns, a: ns.var_mean(a, (0, 2), correction=0), [T], D),
    ("std_mean", lambda ns, a: ns.std_mean(a, 0, keepdim=True), [M], F),
    ("std_mean-unbiased", lambda ns, a: ns.std_mean(a, 0, False), [M], D),
    # median / nanmedian / mode: the lower middle value, nan propagates in median
    ("median-all-even", lambda ns, a: a.median(), [M], D),
    ("median-all-ties", lambda ns, a: a.median(), [TIES], D),
    ("median-all-nan", lambda ns, a: a.median(), [NAN], D),
    ("median-all-empty", lambda ns, a: a.median(), [E], D),
    ("median-dim", lambda ns, a: a.median(1), [M], D),
    ("median-dim-odd", lambda ns, a: a.median(0, keepdim=True), [M], F),
    ("median-dim-ties", lambda ns, a: a.median(1), [TIES], D),
    ("median-dim-nan", lambda ns, a: a.median(1), [NAN], D),
    ("median-int", lambda ns, a: a.median(-1), [INTS], "int64"),
    ("median-0d", lambda ns, a: a.median(0), [S], D),
    ("median-transposed", lambda ns, a: a.t().median(0), [M], D),
    ("nanmedian-all", lambda ns, a: a.nanmedian(), [NAN], D),
    ("nanmedian-dim", lambda ns, a: a[:2].nanmedian(1), [NAN], D),
    ("mode", lambda ns, a: a.mode(1), [TIES], D),
    ("mode-dim0", lambda ns, a: a.mode(0), [TIES], F),
    ("mode-int", lambda ns, a: ns.mode(a, -1, keepdim=True), [INTS], "int64"),
    ("mode-0d", lambda ns, a: a.mode(), [S], D),
    # norms
    ("norm-fro", lambda ns, a: a.norm(), [M], D),
    ("norm-p3-dim", lambda ns, a: ns.norm(a, 3, dim=1), [M], D),
    ("norm-fro-dim", lambda ns, a: ns.norm(a, "fro", dim=(0, 2), keepdim=True), [T], F),
    ("norm-dtype", lambda ns, a: a.norm(dtype=ns.float64), [M], F),
    ("vector_norm-2", lambda ns, a: ns.linalg.vector_norm(a, dim=-1), [ZEROS], D),
    ("vector_norm-1", lambda ns, a: ns.linalg.vector_norm(a, 1, 0), [ZEROS], D),
    ("vector_norm-inf", lambda ns, a: ns.linalg.vector_norm(a, INF, 1), [TIES], D),
    ("vector_norm-neg-inf", lambda ns, a: ns.linalg.vector_norm(a, -INF), [ZEROS], D),
    ("vector_norm-0", lambda ns, a: ns.linalg.vector_norm(a, 0, 1), [ZEROS], D),
    ("vector_norm-half", lambda ns, a: ns.linalg.vector_norm(a, 0.5, 1), [ZEROS], D),
    ("vector_norm-1.5", lambda ns, a: ns.linalg.vector_norm(a, 1.5), [ZEROS], D),
    ("vector_norm-neg-1", lambda ns, a: ns.linalg.vector_norm(a, -1, 1), [M], D),
    ("vector_norm-at-zero", lambda ns, a: ns.linalg.vector_norm(a * 0, dim=1), [M], D),
    ("vector_norm-p3-at-zero", lambda ns, a: ns.linalg.vector_norm(a * 0, 3, 1), [M], D),
    ("vector_norm-empty", lambda ns, a: ns.linalg.vector_norm(a), [E], D),
    ("vector_norm-float32", lambda ns, a: ns.linalg.vector_norm(a, 4, (0, 1)), [T], F),
    ("vector_norm-slice", lambda ns, a: ns.linalg.vector_norm(a[:, 1::2]), [M], F),
    ("linalg.norm-vector", lambda ns, a: ns.linalg.norm(a, INF), [V], D),
    ("linalg.norm-matrix", lambda ns, a: ns.linalg.norm(a), [M], D),
    ("linalg.norm-matrix-1", lambda ns, a: ns.linalg.norm(a, 1), [M], D),
    ("linalg.norm-matrix-inf", lambda ns, a: ns.linalg.norm(a, INF), [M], D),
    ("linalg.norm-dim", lambda ns, a: ns.linalg.norm(a, 3, dim=-1), [T], D),
    ("matrix_norm-2", lambda ns, a: ns.linalg.matrix_norm(a, 2), [T], D),
    ("matrix_norm-neg2-dims", lambda ns, a: ns.linalg.matrix_norm(a, -2, (2, 0), True), [T], D),
    ("matrix_norm-nuc", lambda ns, a: ns.linalg.matrix_norm(a, "nuc", keepdim=True), [T], F),
    ("norm-nuc", lambda ns, a: ns.norm(a, "nuc"), [M], D),
    ("linalg.norm-2", lambda ns, a: ns.linalg.norm(a, 2), [M], D),
    ("matrix_norm-fro", lambda ns, a: ns.linalg.matrix_norm(a), [T], D),
    ("matrix_norm-neg1", lambda ns, a: ns.linalg.matrix_norm(a, -1, keepdim=True), [T], D),
    ("matrix_norm-neg-inf", lambda ns, a: ns.linalg.matrix_norm(a, -INF, (0, 2)), [T], F),
]


@pytest.mark.parametrize("op, arrays, dtype", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_matches_torch(op, arrays, dtype):
    compare(op, arrays, dtype)


REFUSED = [
    ("mean-int", lambda ns, a: a.mean(), [INTS], "int64"),
    ("mean-bool", lambda ns, a: a.mean(0), [BOOLS], "bool"),
    ("sum-duplicate-dim", lambda ns, a: a.sum((1, 1)), [T], D),
    ("sum-dim-out-of-range", lambda ns, a: a.sum(3), [T], D),
    ("prod-tuple", lambda ns, a: a.prod((0, 1)), [M], D),
    ("amax-empty", lambda ns, a: a.amax(), [E], D),
    ("amax-empty-dim", lambda ns, a: a.amax(1), [E], D),
    ("max-empty", lambda ns, a: a.max(), [E], D),
    ("max-empty-dim", lambda ns, a: a.max(1), [E], D),
    ("max-tuple", lambda ns, a: a.max((0, 1)), [M], D),
    ("argmax-empty", lambda ns, a: a.argmax(), [E], D),
    ("argmax-empty-dim", lambda ns, a: a.argmax(1), [E], D),
    ("argmax-bool", lambda ns, a: a.argmax(), [BOOLS], "bool"),
    ("aminmax-empty", lambda ns, a: ns.aminmax(a), [E], D),
    ("nanmean-int", lambda ns, a: ns.nanmean(a), [INTS], "int64"),
    ("var-int", lambda ns, a: a.var(), [INTS], "int64"),
    ("median-empty-dim", lambda ns, a: a.median(1), [E], D),
    ("mode-empty-dim", lambda ns, a: a.mode(1), [E], D),
    ("vector_norm-int", lambda ns, a: ns.linalg.vector_norm(a), [INTS], "int64"),
    ("vector_norm-inf-empty", lambda ns, a: ns.linalg.vector_norm(a, INF), [E], D),
    ("linalg.norm-3d-ord", lambda ns, a: ns.linalg.norm(a, 2), [T], D),
    ("matrix_norm-ord3", lambda ns, a: ns.linalg.matrix_norm(a, 3), [M], D),
    ("matrix_norm-1d", lambda ns, a: ns.linalg.matrix_norm(a), [V], D),
]


@pytest.mark.parametrize("op, arrays, dtype", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refuses_like_torch(op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


def test_nanmedian_of_an_all_nan_row_is_nan_and_points_at_a_nan():
    """PyTorch leaves which nan unspecified: the value and that it indexes a nan are checked."""
    data = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]])
    import aprende

    values, indices = aprende.tensor(data).nanmedian(1)
    expected = torch.tensor(data).nanmedian(1)
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    assert np.isnan(data[1, indices.numpy()[1]])
    assert indices.numpy()[0] == expected.indices.numpy()[0]
