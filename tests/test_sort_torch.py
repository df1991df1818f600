"""Sorting and searching against PyTorch: values, indices, dtypes and gradients.

Rows with ties compare indices only where PyTorch defines them (``stable=True`` sorts);
``topk`` and ``kthvalue`` among ties are checked by their values and by the gradient reaching
elements of those values.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

RNG = np.random.default_rng(1)
M = RNG.standard_normal((3, 5))
T = RNG.standard_normal((2, 3, 4))
S = np.array(2.5)
E = np.zeros((2, 0))
TIES = np.array([[1.0, 3.0, 1.0, 3.0, 2.0], [0.0, 0.0, 0.0, 1.0, -1.0], [4.0, 4.0, 4.0, 4.0, 4.0]])
NAN = np.array([[3.0, np.nan, 1.0, np.nan, 2.0], [0.5, -1.0, np.inf, -np.inf, 0.0]])
INTS = np.array([[3, 1, 2, 1, 3], [0, -2, 7, 7, 5]])
BOOLS = np.array([True, False, True, False])
SEQ = np.array([-1.0, 0.5, 0.5, 2.0, 3.0])
EVENS = np.arange(0, 10, 2)
SEQ2 = np.array([[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]])
F, D = "float32", "float64"

ROWS = [
    ("sort", lambda ns, a: a.sort(), [M], D),
    ("sort-dim0", lambda ns, a: ns.sort(a, 0), [M], F),
    ("sort-descending", lambda ns, a: a.sort(1, descending=True), [T], D),
    ("sort-neg-dim", lambda ns, a: a.sort(-2), [T], D),
    ("sort-stable-ties", lambda ns, a: a.sort(stable=True), [TIES], D),
    ("sort-stable-descending-ties", lambda ns, a: a.sort(descending=True, stable=True), [TIES], D),
    ("sort-stable-nan", lambda ns, a: a.sort(stable=True), [NAN], D),
    ("sort-nan-desc", lambda ns, a: a.sort(dim=1, descending=True, stable=True), [NAN], D),
    ("sort-int", lambda ns, a: a.sort(stable=True), [INTS], "int64"),
    ("sort-bool", lambda ns, a: a.sort(stable=True), [BOOLS], "bool"),
    ("sort-0d", lambda ns, a: a.sort(), [S], D),
    ("sort-empty", lambda ns, a: a.sort(1), [E], D),
    ("sort-transposed", lambda ns, a: a.t().sort(0), [M], D),
    ("sort-slice", lambda ns, a: a[:, ::2].sort(descending=True), [M], F),
    ("argsort", lambda ns, a: a.argsort(0), [M], D),
    ("argsort-desc", lambda ns, a: ns.argsort(a, descending=True, stable=True), [TIES], D),
    ("argsort-int32", lambda ns, a: a.argsort(stable=True), [INTS], "int32"),
    ("msort", lambda ns, a: ns.msort(a), [T], D),
    ("topk", lambda ns, a: a.topk(2), [M], D),
    ("topk-smallest", lambda ns, a: a.topk(3, dim=0, largest=False), [M], D),
    ("topk-dim", lambda ns, a: ns.topk(a, 2, 1), [T], F),
    ("topk-nan", lambda ns, a: a.topk(2), [NAN[:, :3]], D),
    ("topk-k0", lambda ns, a: a.topk(0), [M], D),
    ("topk-all", lambda ns, a: a.topk(5), [M], D),
    ("topk-int", lambda ns, a: a[:, :3].topk(2), [np.array([[3, 1, 2], [0, 9, 4]])], "int64"),
    ("topk-0d", lambda ns, a: a.topk(1), [S], D),
    ("topk-transposed", lambda ns, a: a.t().topk(2, 0), [M], D),
    ("kthvalue", lambda ns, a: a.kthvalue(2), [M], D),
    ("kthvalue-keepdim", lambda ns, a: a.kthvalue(3, 0, keepdim=True), [M], F),
    ("kthvalue-neg-dim", lambda ns, a: ns.kthvalue(a, 4, -1), [T], D),
    ("kthvalue-nan", lambda ns, a: a[0].kthvalue(4), [NAN], D),
    ("kthvalue-int", lambda ns, a: a.kthvalue(1), [np.array([[3, 1, 2], [0, 9, 4]])], "int64"),
    ("kthvalue-0d", lambda ns, a: a.kthvalue(1), [S], D),
    ("unique", lambda ns, a: a.unique(), [INTS], "int64"),
    (
        "unique-all",
        lambda ns, a: a.detach().unique(return_inverse=True, return_counts=True),
        [TIES],
        D,
    ),
    ("unique-counts", lambda ns, a: ns.unique(a, return_counts=True), [INTS], "int32"),
    ("unique-dim", lambda ns, a: ns.unique(a.detach(), dim=1, return_inverse=True), [TIES], D),
    ("unique-dim0", lambda ns, a: a[[0, 1, 0]].unique(dim=0, return_counts=True), [INTS], "int64"),
    ("unique-nan", lambda ns, a: ns.unique(a.detach()), [NAN], D),
    ("unique-0d", lambda ns, a: ns.unique(a.detach(), return_inverse=True), [S], D),
    ("unique-bool", lambda ns, a: ns.unique(a, return_counts=True), [BOOLS], "bool"),
    ("searchsorted", lambda ns, s, v: ns.searchsorted(s, v), [SEQ, M], D),
    ("searchsorted-right", lambda ns, s, v: ns.searchsorted(s, v, right=True), [SEQ, SEQ], D),
    ("searchsorted-side", lambda ns, s, v: ns.searchsorted(s, v, side="right"), [SEQ, SEQ], F),
    ("searchsorted-scalar", lambda ns, s: ns.searchsorted(s, 0.5), [SEQ], D),
    ("searchsorted-rows", lambda ns, s, v: ns.searchsorted(s, v[:2, :3] * 4 + 4), [SEQ2, M], D),
    ("searchsorted-rows-right", lambda ns, s, v: ns.searchsorted(s, v, right=True), [SEQ2] * 2, D),
    ("searchsorted-int32", lambda ns, s, v: ns.searchsorted(s, v, out_int32=True), [SEQ, M], D),
    ("searchsorted-ints", lambda ns, s, v: ns.searchsorted(s, v), [EVENS, INTS], "int64"),
    (
        "searchsorted-sorter",
        lambda ns, s, v, o: ns.searchsorted(s, v, sorter=o),
        [np.array([3.0, -1.0, 2.0, 0.5]), M, np.array([1, 3, 2, 0])],
        [D, D, "int64"],
    ),
]


@pytest.mark.parametrize("op, arrays, dtype", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_matches_torch(op, arrays, dtype):
    compare(op, arrays, dtype)


REFUSED = [
    ("topk-k-too-large", lambda ns, a: a.topk(6), [M], D),
    ("topk-k-negative", lambda ns, a: a.topk(-1), [M], D),
    ("kthvalue-k0", lambda ns, a: a.kthvalue(0), [M], D),
    ("kthvalue-k-too-large", lambda ns, a: a.kthvalue(6), [M], D),
    ("sort-dim-out-of-range", lambda ns, a: a.sort(2), [M], D),
    ("searchsorted-rows-mismatch", lambda ns, s, v: ns.searchsorted(s, v), [SEQ2, SEQ], D),
    (
        "searchsorted-side-conflict",
        lambda ns, s: ns.searchsorted(s, 1, right=True, side="left"),
        [SEQ],
        D,
    ),
]


@pytest.mark.parametrize("op, arrays, dtype", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refuses_like_torch(op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


@pytest.mark.parametrize(
    "op",
    [
        lambda ns, a: a.topk(2, 1),
        lambda ns, a: a.topk(3, 1, largest=False),
        lambda ns, a: a.kthvalue(2, 1),
        lambda ns, a: a.kthvalue(4, 1),
    ],
    ids=["topk", "topk-smallest", "kthvalue-2", "kthvalue-4"],
)
def test_ties_give_torch_values_and_indices_of_equal_elements(op):
    """Among ties PyTorch picks some index: the values must match, and each index must point
    at an element with the returned value (so the gradient reaches an element of it)."""
    ours = op(aprende, aprende.tensor(TIES, requires_grad=True))
    theirs = op(torch, torch.tensor(TIES))
    np.testing.assert_array_equal(ours.values.detach().numpy(), theirs.values.numpy())
    picked = np.take_along_axis(TIES, ours.indices.numpy().reshape(3, -1), axis=1)
    np.testing.assert_array_equal(picked.reshape(ours.values.shape), ours.values.detach().numpy())


def test_sort_gradient_scatters_back_through_the_indices_like_torch():
    upstream = np.arange(15.0).reshape(3, 5)
    a, b = aprende.tensor(TIES, requires_grad=True), torch.tensor(TIES, requires_grad=True)
    (a.sort(descending=True, stable=True).values * aprende.tensor(upstream)).sum().backward()
    (b.sort(descending=True, stable=True).values * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_unique_is_not_differentiable():
    out = aprende.unique(aprende.tensor(M, requires_grad=True))
    assert not out.requires_grad
    assert math.isclose(out.sum().item(), M.sum())
