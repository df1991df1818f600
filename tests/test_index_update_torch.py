"""index_add, index_copy, index_fill, masked_scatter (and their in-place twins), take and select
against PyTorch: values, dtypes, shapes and gradients, each row written once against a
namespace ``ns`` (aprende or torch), and the errors PyTorch raises."""

import numpy as np
import pytest

import aprende

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
S2 = RNG.standard_normal((2, 4))
S5 = RNG.standard_normal((3, 5))
I = np.array  # index arrays read as int64
MASK = np.array(
    [[True, False, True, False], [False, False, True, True], [True, True, False, False]]
)

F64, F32, I64, I32, B = "float64", "float32", "int64", "int32", "bool"

CASES = [
    # ---- index_add
    (
        "index_add-dim0",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([2, 0]), S2],
        [F64, I64, F64],
    ),
    (
        "index_add-repeats-alpha",
        lambda ns, a, i, s: ns.index_add(a, 1, i, s, alpha=-2.5),
        [X, I([0, 3, 0, 1, 0]), S5],
        [F64, I64, F64],
    ),
    (
        "index_add-negative-dim-int32",
        lambda ns, a, i, s: ns.index_add(a, -2, i, s),
        [X, I([1, 1]), S2],
        [F32, I32, F32],
    ),
    (
        "index_add-method",
        lambda ns, a, i, s: a.index_add(0, i, s, alpha=3),
        [X, I([1, 2]), S2],
        [F32, I64, F32],
    ),
    (
        "index_add-int-alpha-truncates",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s, alpha=2.5),
        [I([0, 1, 2]), I([1]), I([3])],
        [I64, I64, I64],
    ),
    (
        "index_add-bool",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [I([0, 1, 0]), I([0, 2]), I([1, 0])],
        [B, I64, B],
    ),
    (
        "index_add-3d",
        lambda ns, a, i, s: ns.index_add(a, 2, i, s),
        [X3, I([3, 3, 0]), X3[..., :3]],
        [F64, I64, F64],
    ),
    (
        "index_add-0d",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [np.array(1.5), I([0]), np.array(2.0)],
        [F64, I64, F64],
    ),
    (
        "index_add-0d-index",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, np.array(1), S2[:1]],
        [F64, I64, F64],
    ),
    (
        "index_add-empty-index",
        lambda ns, a, i, s: ns.index_add(a, 1, i, s),
        [X, np.zeros(0, np.int64), np.zeros((3, 0))],
        [F64, I64, F64],
    ),
    (
        "index_add-transposed",
        lambda ns, a, i, s: ns.index_add(a.t(), 0, i, s.t()),
        [X, I([3, 1]), X[:, :2]],
        [F64, I64, F64],
    ),
    # ---- index_copy
    (
        "index_copy-dim0",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([2, 0]), S2],
        [F64, I64, F64],
    ),
    (
        "index_copy-dim1",
        lambda ns, a, i, s: ns.index_copy(a, -1, i, s),
        [X, I([3, 0, 1]), S5[:, :3]],
        [F32, I64, F32],
    ),
    (
        "index_copy-method",
        lambda ns, a, i, s: a.index_copy(1, i, s),
        [X, I([1]), S5[:, :1]],
        [F64, I64, F64],
    ),
    (
        "index_copy-int",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [I([5, 6, 7]), I([2]), I([9])],
        [I64, I64, I64],
    ),
    (
        "index_copy-3d",
        lambda ns, a, i, s: ns.index_copy(a, 1, i, s),
        [X3, I([2, 0]), X3[:, :2] + 1],
        [F64, I64, F64],
    ),
    (
        "index_copy-0d",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [np.array(1.5), I([0]), np.array(2.0)],
        [F64, I64, F64],
    ),
    (
        "index_copy-empty",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, np.zeros(0, np.int64), np.zeros((0, 4))],
        [F64, I64, F64],
    ),
    # ---- index_fill
    (
        "index_fill-number",
        lambda ns, a, i: ns.index_fill(a, 1, i, -1.5),
        [X, I([0, 2])],
        [F64, I64],
    ),
    (
        "index_fill-negative-index",
        lambda ns, a, i: ns.index_fill(a, 0, i, 2.0),
        [X, I([-1, 0])],
        [F64, I64],
    ),
    (
        "index_fill-repeats",
        lambda ns, a, i, v: ns.index_fill(a, 1, i, v),
        [X, I([1, 1, 3]), np.array(0.5)],
        [F64, I64, F64],
    ),
    (
        "index_fill-float32-tensor-value",
        lambda ns, a, i, v: ns.index_fill(a, 0, i, v),
        [X, I([2]), np.array(7.0)],
        [F32, I64, F32],
    ),
    (
        "index_fill-value-other-dtype",
        lambda ns, a, i, v: ns.index_fill(a, 0, i, v),
        [X, I([2]), np.array(7.0)],
        [F32, I64, F64],
    ),
    ("index_fill-method", lambda ns, a, i: a.index_fill(-1, i, 3), [X3, I([3, 0])], [F64, I64]),
    (
        "index_fill-int-truncates",
        lambda ns, a, i: ns.index_fill(a, 0, i, 2.7),
        [I([1, 2, 3]), I([1])],
        [I64, I64],
    ),
    (
        "index_fill-bool",
        lambda ns, a, i: ns.index_fill(a, 0, i, True),
        [I([0, 0, 1]), I([0])],
        [B, I64],
    ),
    (
        "index_fill-0d-index",
        lambda ns, a, i: ns.index_fill(a, 1, i, 0.0),
        [X, np.array(2)],
        [F64, I64],
    ),
    (
        "index_fill-0d",
        lambda ns, a, i: ns.index_fill(a, 0, i, 4.0),
        [np.array(1.5), I([0])],
        [F64, I64],
    ),
    (
        "index_fill-empty-index",
        lambda ns, a, i: ns.index_fill(a, 1, i, 4.0),
        [X, np.zeros(0, np.int64)],
        [F64, I64],
    ),
    # ---- masked_scatter
    (
        "masked_scatter",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK, S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter-source-exact",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK, S5.reshape(-1)[:6]],
        [F32, B, F32],
    ),
    (
        "masked_scatter-mask-broadcasts",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK[:1], S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter-input-broadcasts",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X[:1], MASK, S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter-method",
        lambda ns, a, m, s: a.masked_scatter(m, s),
        [X, MASK, S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter-none",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, ~MASK & MASK, np.zeros(0)],
        [F64, B, F64],
    ),
    (
        "masked_scatter-int",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [I([1, 2, 3]), I([1, 0, 1]), I([7, 8, 9])],
        [I64, B, I64],
    ),
    (
        "masked_scatter-0d",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [np.array(1.0), np.array(True), I([4.0, 5.0])],
        [F64, B, F64],
    ),
    # ---- take, select
    ("take", lambda ns, a, i: ns.take(a, i), [X, I([[0, -1], [5, 5], [11, -12]])], [F64, I64]),
    ("take-method-transposed", lambda ns, a, i: a.t().take(i), [X, I([1, 4, 7])], [F32, I64]),
    ("take-0d", lambda ns, a, i: ns.take(a, i), [np.array(2.5), np.array(0)], [F64, I64]),
    ("take-empty", lambda ns, a, i: ns.take(a, i), [X, np.zeros((0, 2), np.int64)], [F64, I64]),
    ("take-int", lambda ns, a, i: ns.take(a, i), [I([[4, 5], [6, 7]]), I([3, 0])], [I64, I64]),
    ("select", lambda ns, a: ns.select(a, 1, 2), [X], F64),
    ("select-negative", lambda ns, a: ns.select(a, -1, -4), [X3], F64),
    ("select-method", lambda ns, a: a.select(0, 1), [X], F32),
    ("select-1d", lambda ns, a: ns.select(a, 0, -1), [X[0]], F64),
    ("select-bool", lambda ns, a: ns.select(a, 0, 1), [MASK], B),
]

IN_PLACE = [
    (
        "index_add_",
        lambda ns, a, i, s: a.clone().index_add_(1, i, s, alpha=2),
        [X, I([0, 3, 0, 1, 0]), S5],
        [F64, I64, F64],
    ),
    (
        "index_add_-int",
        lambda ns, a, i, s: a.clone().index_add_(0, i, s),
        [I([0, 1, 2]), I([1, 1]), I([3, 4])],
        [I64, I64, I64],
    ),
    (
        "index_copy_",
        lambda ns, a, i, s: a.clone().index_copy_(0, i, s),
        [X, I([2, 0]), S2],
        [F32, I64, F32],
    ),
    (
        "index_fill_",
        lambda ns, a, i: a.clone().index_fill_(1, i, -1.0),
        [X, I([-1, 1])],
        [F64, I64],
    ),
    (
        "index_fill_-tensor",
        lambda ns, a, i, v: a.clone().index_fill_(0, i, v),
        [X, I([1]), np.array(3.0)],
        [F64, I64, F64],
    ),
    (
        "masked_scatter_",
        lambda ns, a, m, s: a.clone().masked_scatter_(m, s),
        [X, MASK, S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter_-mask-broadcasts",
        lambda ns, a, m, s: a.clone().masked_scatter_(m, s),
        [X, MASK[1], S5],
        [F64, B, F64],
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtype", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


@pytest.mark.parametrize("name, op, arrays, dtype", IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_in_place_matches_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype, grad=False)


def test_in_place_writes_the_same_memory_and_bumps_the_version():
    a = aprende.tensor(X.copy())
    view, version = a[0], a._version
    out = a.index_fill_(1, aprende.tensor([0]), 9.0)
    assert out is a and a._version == version + 1
    assert float(view[0]) == 9.0


def test_in_place_refuses_a_tensor_that_requires_grad_as_torch():
    for ns in (aprende, torch):
        a = ns.tensor(X.copy(), requires_grad=True)
        with pytest.raises(RuntimeError):
            a.index_add_(0, ns.tensor([0]), ns.ones(1, 4, dtype=a.dtype))
        with ns.no_grad():
            a.index_add_(0, ns.tensor([0]), ns.ones(1, 4, dtype=a.dtype))


ERRORS = [
    # index_add
    (
        "index_add-float-index",
        lambda ns, a, i, s: ns.index_add(a, 0, i.float(), s),
        [X, I([0, 2]), S2],
        [F64, I64, F64],
    ),
    (
        "index_add-2d-index",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([[0, 2]]), S2],
        [F64, I64, F64],
    ),
    (
        "index_add-too-high",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([0, 3]), S2],
        [F64, I64, F64],
    ),
    (
        "index_add-negative",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([0, -1]), S2],
        [F64, I64, F64],
    ),
    (
        "index_add-count",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([0, 1]), X],
        [F64, I64, F64],
    ),
    (
        "index_add-slice-shape",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([0, 1]), S5[:2]],
        [F64, I64, F64],
    ),
    (
        "index_add-source-ndim",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([1]), X[0]],
        [F64, I64, F64],
    ),
    (
        "index_add-dtype",
        lambda ns, a, i, s: ns.index_add(a, 0, i, s),
        [X, I([0, 1]), S2],
        [F32, I64, F64],
    ),
    (
        "index_add-dim",
        lambda ns, a, i, s: ns.index_add(a, 2, i, s),
        [X, I([0, 1]), S2],
        [F64, I64, F64],
    ),
    # index_copy
    (
        "index_copy-int32-index",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, 2]), S2],
        [F64, I32, F64],
    ),
    (
        "index_copy-2d-index",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([[0, 2]]), S2],
        [F64, I64, F64],
    ),
    (
        "index_copy-too-high",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, 3]), S2],
        [F64, I64, F64],
    ),
    (
        "index_copy-negative",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, -1]), S2],
        [F64, I64, F64],
    ),
    (
        "index_copy-count",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, 1]), X],
        [F64, I64, F64],
    ),
    (
        "index_copy-slice-shape",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, 1]), S5[:2]],
        [F64, I64, F64],
    ),
    (
        "index_copy-source-ndim",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([1]), X[0]],
        [F64, I64, F64],
    ),
    (
        "index_copy-dtype",
        lambda ns, a, i, s: ns.index_copy(a, 0, i, s),
        [X, I([0, 1]), S2],
        [F64, I64, F32],
    ),
    # index_fill
    (
        "index_fill-int32-index",
        lambda ns, a, i: ns.index_fill(a, 0, i, 1.0),
        [X, I([0])],
        [F64, I32],
    ),
    (
        "index_fill-float-index",
        lambda ns, a, i: ns.index_fill(a, 0, i.double(), 1.0),
        [X, I([0])],
        [F64, I64],
    ),
    (
        "index_fill-2d-index",
        lambda ns, a, i: ns.index_fill(a, 0, i, 1.0),
        [X, I([[0]])],
        [F64, I64],
    ),
    ("index_fill-too-high", lambda ns, a, i: ns.index_fill(a, 0, i, 1.0), [X, I([3])], [F64, I64]),
    ("index_fill-too-low", lambda ns, a, i: ns.index_fill(a, 0, i, 1.0), [X, I([-4])], [F64, I64]),
    (
        "index_fill-1d-value",
        lambda ns, a, i, v: ns.index_fill(a, 0, i, v),
        [X, I([0]), np.ones(1)],
        [F64, I64, F64],
    ),
    ("index_fill-dim", lambda ns, a, i: ns.index_fill(a, -3, i, 1.0), [X, I([0])], [F64, I64]),
    # masked_scatter
    (
        "masked_scatter-short-source",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK, S5[0, :3]],
        [F64, B, F64],
    ),
    (
        "masked_scatter-float-mask",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK, S5],
        [F64, F64, F64],
    ),
    (
        "masked_scatter-dtype",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK, S5],
        [F64, B, F32],
    ),
    (
        "masked_scatter-no-broadcast",
        lambda ns, a, m, s: ns.masked_scatter(a, m, s),
        [X, MASK[:2], S5],
        [F64, B, F64],
    ),
    (
        "masked_scatter_-mask-larger",
        lambda ns, a, m, s: a.clone().masked_scatter_(m, s),
        [X[0], MASK, S5],
        [F64, B, F64],
    ),
    # take, select
    ("take-too-high", lambda ns, a, i: ns.take(a, i), [X, I([12])], [F64, I64]),
    ("take-too-low", lambda ns, a, i: ns.take(a, i), [X, I([-13])], [F64, I64]),
    ("take-int32", lambda ns, a, i: ns.take(a, i), [X, I([1])], [F64, I32]),
    ("select-too-high", lambda ns, a: ns.select(a, 1, 4), [X], F64),
    ("select-too-low", lambda ns, a: ns.select(a, 1, -5), [X], F64),
    ("select-dim", lambda ns, a: ns.select(a, 2, 0), [X], F64),
    ("select-0d", lambda ns, a: ns.select(a, 0, 0), [np.array(1.0)], F64),
    ("select-float-index", lambda ns, a: ns.select(a, 0, 1.0), [X], F64),
]


@pytest.mark.parametrize("name, op, arrays, dtype", ERRORS, ids=[c[0] for c in ERRORS])
def test_refuses_what_torch_refuses(name, op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda a: aprende.index_add(a, 0, aprende.tensor([3]), a[:1]),
            r"index_add: index 3 is out",
        ),
        (
            lambda a: aprende.index_copy(a, 0, aprende.tensor([0, 1]), a),
            r"index_copy: the number of indices \(2\)",
        ),
        (
            lambda a: aprende.index_fill(a, 0, aprende.tensor([0]).int(), 1.0),
            r"index_fill: expected an index of dtype int64",
        ),
        (
            lambda a: aprende.masked_scatter(a, a > 0, aprende.zeros(1, dtype=a.dtype)),
            r"masked_scatter: the mask is true at \d+ positions but source has only 1",
        ),
        (
            lambda a: aprende.take(a, aprende.tensor([12])),
            r"take: index 12 is out of range .* 12 elements",
        ),
        (lambda a: aprende.select(a, 0, 3), r"select: index 3 out of range .* shape \(3, 4\)"),
    ],
)
def test_errors_name_the_op_and_what_came(call, message):
    with pytest.raises((RuntimeError, IndexError), match=message):
        call(aprende.tensor(X))


def test_methods_and_functions_are_those_pytorch_has():
    from aprende.ops import index_update, indexing

    for name in (*index_update.TENSOR_METHODS, "take", "select"):
        assert hasattr(torch.Tensor, name) and hasattr(aprende.Tensor, name), name
        if not name.endswith("_"):
            assert hasattr(torch, name) and getattr(aprende, name) is getattr(
                index_update if hasattr(index_update, name) else indexing, name
            ), name
