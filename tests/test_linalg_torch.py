"""Matrix products and einsum against PyTorch: value, dtype, shape and every gradient.

Each row is the PyTorch code it mirrors, written once against a namespace ``ns`` (aprende or
torch); ``compare`` runs both and back-propagates one random upstream gradient.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
RNG = np.random.default_rng(0)


def r(*shape):
    return RNG.standard_normal(shape)


def ints(*shape):
    return RNG.integers(-4, 5, size=shape)


# (id, op(ns, *tensors), inputs, dtype)
PRODUCTS = [
    ("matmul-1d-1d", lambda ns, a, b: ns.matmul(a, b), [r(3), r(3)], "float64"),
    ("matmul-1d-2d", lambda ns, a, b: a @ b, [r(3), r(3, 4)], "float64"),
    ("matmul-2d-1d", lambda ns, a, b: a @ b, [r(2, 3), r(3)], "float64"),
    ("matmul-1d-3d", lambda ns, a, b: a @ b, [r(3), r(2, 3, 4)], "float64"),
    ("matmul-3d-1d", lambda ns, a, b: a @ b, [r(2, 4, 3), r(3)], "float64"),
    ("matmul-broadcast-batch", lambda ns, a, b: a @ b, [r(2, 1, 3, 4), r(5, 4, 2)], "float64"),
    ("matmul-2d-4d", lambda ns, a, b: a @ b, [r(3, 4), r(2, 2, 4, 5)], "float64"),
    ("matmul-float32", lambda ns, a, b: a @ b, [r(3, 5), r(5, 2)], "float32"),
    ("matmul-float16", lambda ns, a, b: a @ b, [r(3, 5), r(5, 2)], "float16"),
    ("matmul-int64", lambda ns, a, b: a @ b, [ints(3, 5), ints(5, 2)], "int64"),
    ("matmul-int64-1d", lambda ns, a, b: a @ b, [ints(4), ints(4)], "int64"),
    ("matmul-int32-batch", lambda ns, a, b: a @ b, [ints(2, 3, 5), ints(5, 2)], "int32"),
    ("matmul-transposed", lambda ns, a, b: a.t() @ b[:, ::2], [r(4, 3), r(4, 6)], "float64"),
    ("matmul-empty-inner", lambda ns, a, b: a @ b, [r(3, 0), r(0, 2)], "float64"),
    ("matmul-empty-batch", lambda ns, a, b: a @ b, [r(0, 3, 4), r(4, 2)], "float64"),
    (
        "matmul-nan-inf",
        lambda ns, a, b: a @ b,
        [np.array([[np.nan, 1.0], [np.inf, 2.0]]), r(2, 2)],
        "float64",
    ),
    ("mm", lambda ns, a, b: ns.mm(a, b), [r(3, 4), r(4, 2)], "float64"),
    ("mm-method-float32", lambda ns, a, b: a.mm(b), [r(3, 4), r(4, 2)], "float32"),
    ("mm-int64", lambda ns, a, b: ns.mm(a, b), [ints(3, 4), ints(4, 2)], "int64"),
    ("mm-transposed", lambda ns, a, b: ns.mm(a.t(), b.t()), [r(4, 3), r(2, 4)], "float64"),
    ("bmm", lambda ns, a, b: ns.bmm(a, b), [r(2, 3, 4), r(2, 4, 5)], "float64"),
    ("bmm-method-float32", lambda ns, a, b: a.bmm(b), [r(2, 3, 4), r(2, 4, 5)], "float32"),
    ("mv", lambda ns, a, b: ns.mv(a, b), [r(3, 4), r(4)], "float64"),
    ("mv-method", lambda ns, a, b: a.mv(b), [r(3, 4), r(4)], "float32"),
    ("dot", lambda ns, a, b: ns.dot(a, b), [r(5), r(5)], "float64"),
    ("dot-method-strided", lambda ns, a, b: a[::2].dot(b), [r(6), r(3)], "float32"),
    ("dot-int64", lambda ns, a, b: ns.dot(a, b), [ints(5), ints(5)], "int64"),
    ("dot-empty", lambda ns, a, b: ns.dot(a, b), [r(0), r(0)], "float64"),
    ("vdot", lambda ns, a, b: ns.vdot(a, b), [r(5), r(5)], "float64"),
    ("outer", lambda ns, a, b: ns.outer(a, b), [r(3), r(4)], "float64"),
    ("outer-method", lambda ns, a, b: a.outer(b), [r(3), r(4)], "float32"),
    ("outer-promotes", lambda ns, a, b: ns.outer(a, b), [ints(3), r(2)], ["int64", "float64"]),
    ("inner-nd", lambda ns, a, b: ns.inner(a, b), [r(2, 3, 4), r(5, 4)], "float64"),
    ("inner-1d", lambda ns, a, b: a.inner(b), [r(4), r(4)], "float64"),
    ("inner-0d", lambda ns, a, b: ns.inner(a, b), [np.array(1.5), r(2, 3)], "float64"),
]


@pytest.mark.parametrize(
    "op, arrays, dtype", [p[1:] for p in PRODUCTS], ids=[p[0] for p in PRODUCTS]
)
def test_products_match_torch(op, arrays, dtype):
    compare(op, arrays, dtype)


EINSUM = [
    ("matmul", "ij,jk->ik", [r(2, 3), r(3, 4)]),
    ("implicit", "ij,jk", [r(2, 3), r(3, 4)]),
    ("implicit-transpose", "ji", [r(2, 3)]),
    ("implicit-upper-first", "bA,Ac", [r(2, 3), r(3, 4)]),
    ("batch", "bij,bjk->bik", [r(2, 2, 3), r(2, 3, 4)]),
    ("trace", "ii", [r(3, 3)]),
    ("diagonal", "ii->i", [r(3, 3)]),
    ("diagonal-batch", "bii->bi", [r(2, 3, 3)]),
    ("diagonal-three", "iij->ij", [r(3, 3, 2)]),
    ("repeated-in-two", "ii,ij->j", [r(3, 3), r(3, 2)]),
    ("sum-all", "ij->", [r(2, 3)]),
    ("sum-own-letter", "ij,j->j", [r(2, 3), r(3)]),
    ("outer", "i,j->ij", [r(3), r(4)]),
    ("dot", "i,i", [r(5), r(5)]),
    ("three-operands", "ij,jk,kl->il", [r(2, 3), r(3, 4), r(4, 2)]),
    ("ellipsis", "...ij,...jk->...ik", [r(5, 1, 2, 3), r(4, 3, 2)]),
    ("ellipsis-implicit", "...ij,...jk", [r(2, 2, 3), r(3, 4)]),
    ("ellipsis-middle", "b...i,b...i->b...", [r(2, 3, 4), r(2, 3, 4)]),
    ("ellipsis-summed", "b...ij,b...jk->...", [r(2, 1, 2, 3), r(2, 4, 3, 2)]),
    ("ellipsis-nothing", "...i,i->...", [r(3), r(3)]),
    ("broadcast-size-1", "ij,jk->ik", [r(2, 1), r(3, 2)]),
    ("broadcast-batch-1", "bij,bjk->bik", [r(1, 2, 3), r(4, 3, 2)]),
    ("spaces", " i j , j k -> i k ", [r(2, 3), r(3, 2)]),
    ("scalar", "", [np.array(2.5)]),
    ("empty", "i->", [r(0)]),
    ("transposed-input", "ij,jk->ki", [r(3, 2).T, r(3, 4)]),
]


@pytest.mark.parametrize("equation, arrays", [e[1:] for e in EINSUM], ids=[e[0] for e in EINSUM])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_einsum_matches_torch(equation, arrays, dtype):
    compare(lambda ns, *t: ns.einsum(equation, *t), arrays, dtype)


def test_einsum_list_and_sublist_forms_match_torch():
    a, b = r(2, 3), r(3, 4)
    compare(lambda ns, x, y: ns.einsum("ij,jk->ik", [x, y]), [a, b])
    compare(lambda ns, x, y: ns.einsum(x, [0, 1], y, [1, 2], [0, 2]), [a, b])
    compare(lambda ns, x, y: ns.einsum(x, [0, 1], y, [1, 2]), [a, b])
    compare(lambda ns, x: ns.einsum(x, [..., 0, 0], [..., 0]), [r(2, 3, 3)])
    compare(lambda ns, x, y: ns.einsum(x, [30, 1], y, [1, 2]), [a, b])  # lower after upper


def test_einsum_integers_match_torch():
    compare(lambda ns, x, y: ns.einsum("ij,jk->ik", x, y), [ints(2, 3), ints(3, 4)], "int64")
    compare(lambda ns, x: ns.einsum("ii", x), [ints(3, 3)], "int64")


ERRORS = [
    ("matmul-0d", lambda ns, a, b: ns.matmul(a, b), [np.array(1.0), r(3)], "float64"),
    ("matmul-inner", lambda ns, a, b: ns.matmul(a, b), [r(2, 3), r(4, 2)], "float64"),
    ("matmul-batch", lambda ns, a, b: ns.matmul(a, b), [r(2, 3, 3), r(4, 3, 3)], "float64"),
    ("matmul-2d-1d", lambda ns, a, b: ns.matmul(a, b), [r(3, 3), r(4)], "float64"),
    ("matmul-dtypes", lambda ns, a, b: ns.matmul(a, b), [r(2, 2), r(2, 2)], ["float32", "float64"]),
    ("matmul-bool", lambda ns, a, b: a @ b, [r(2, 2) > 0, r(2, 2) > 0], "bool"),
    ("mm-3d", lambda ns, a, b: ns.mm(a, b), [r(2, 2, 2), r(2, 2)], "float64"),
    ("mm-1d", lambda ns, a, b: ns.mm(a, b), [r(3, 3), r(3)], "float64"),
    ("mm-shapes", lambda ns, a, b: ns.mm(a, b), [r(2, 3), r(2, 2)], "float64"),
    ("mm-dtypes", lambda ns, a, b: ns.mm(a, b), [r(2, 2), r(2, 2)], ["float32", "float64"]),
    ("bmm-2d", lambda ns, a, b: ns.bmm(a, b), [r(3, 3), r(3, 3, 3)], "float64"),
    ("bmm-batch", lambda ns, a, b: ns.bmm(a, b), [r(2, 2, 3), r(3, 3, 2)], "float64"),
    ("bmm-inner", lambda ns, a, b: ns.bmm(a, b), [r(2, 2, 3), r(2, 2, 2)], "float64"),
    ("mv-vector", lambda ns, a, b: ns.mv(a, b), [r(3), r(3)], "float64"),
    ("mv-matrix", lambda ns, a, b: ns.mv(a, b), [r(3, 3), r(3, 3)], "float64"),
    ("mv-size", lambda ns, a, b: ns.mv(a, b), [r(2, 3), r(2)], "float64"),
    ("dot-2d", lambda ns, a, b: ns.dot(a, b), [r(3, 3), r(3)], "float64"),
    ("dot-size", lambda ns, a, b: ns.dot(a, b), [r(3), r(2)], "float64"),
    ("dot-dtypes", lambda ns, a, b: ns.dot(a, b), [r(3), r(3)], ["float32", "float64"]),
    ("dot-bool", lambda ns, a, b: ns.dot(a, b), [r(3) > 0, r(3) > 0], "bool"),
    ("vdot-2d", lambda ns, a, b: ns.vdot(a, b), [r(3), r(3, 3)], "float64"),
    ("outer-2d", lambda ns, a, b: ns.outer(a, b), [r(2, 2), r(2)], "float64"),
    ("inner-size", lambda ns, a, b: ns.inner(a, b), [r(2, 3), r(4, 2)], "float64"),
    ("inner-dtypes", lambda ns, a, b: ns.inner(a, b), [ints(3), ints(3)], ["int32", "int64"]),
    ("einsum-dims", lambda ns, a: ns.einsum("ij->ji", a), [r(2, 3, 4)], "float64"),
    ("einsum-broadcast", lambda ns, a, b: ns.einsum("ij,jk", a, b), [r(2, 3), r(2, 2)], "float64"),
    ("einsum-diagonal", lambda ns, a: ns.einsum("ii->i", a), [r(2, 3)], "float64"),
    ("einsum-output-unknown", lambda ns, a: ns.einsum("ij->iz", a), [r(2, 3)], "float64"),
    ("einsum-output-twice", lambda ns, a: ns.einsum("ij->ii", a), [r(2, 3)], "float64"),
    ("einsum-operands", lambda ns, a: ns.einsum("ij,jk", a), [r(2, 3)], "float64"),
    ("einsum-subscript", lambda ns, a, b: ns.einsum("i1,jk", a, b), [r(2, 3), r(3, 2)], "float64"),
    (
        "einsum-dtypes",
        lambda ns, a, b: ns.einsum("ij,jk", a, b),
        [r(2, 2), r(2, 2)],
        ["float32", "float64"],
    ),
    ("einsum-bool", lambda ns, a, b: ns.einsum("ij,jk", a, b), [r(2, 2) > 0, r(2, 2) > 0], "bool"),
]


@pytest.mark.parametrize("op, arrays, dtype", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


@pytest.mark.parametrize(
    "op, arrays, message",
    [
        (lambda ns, a, b: ns.mm(a, b), [r(2, 3), r(2, 2)], r"mm: .*\(2x3 and 2x2\)"),
        (
            lambda ns, a, b: ns.mm(a, b),
            [r(2, 2, 2), r(2, 2)],
            r"mm: self must be a matrix.*\(2, 2, 2\)",
        ),
        (
            lambda ns, a, b: ns.bmm(a, b),
            [r(2, 2, 3), r(2, 2, 2)],
            r"bmm: .*\(2, 2, 3\) and \(2, 2, 2\)",
        ),
        (lambda ns, a, b: a @ b, [r(2, 3), r(4, 2)], r"matmul: shapes \(2, 3\) and \(4, 2\)"),
        (
            lambda ns, a, b: ns.einsum("ij,jk", a, b),
            [r(2, 3), r(2, 2)],
            r"einsum\(\): subscript j has size 2",
        ),
    ],
)
def test_error_messages_name_the_op_and_the_shapes(op, arrays, message):
    import aprende

    tensors = [aprende.tensor(a) for a in arrays]
    with pytest.raises(RuntimeError, match=message):
        op(aprende, *tensors)


@st.composite
def batched_pair(draw):
    """Two matmul operands of 1-4 dimensions with broadcastable batch dimensions."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    ones = [draw(st.booleans()) for _ in batch]
    batch_a = [1 if one else s for s, one in zip(batch, ones, strict=True)]
    shape_a = (k,) if draw(st.booleans()) else (*batch_a, n, k)
    shape_b = (k,) if draw(st.booleans()) else (*batch[draw(st.integers(0, len(batch))) :], k, m)
    return shape_a, shape_b


@SETTINGS
@given(shapes=batched_pair(), seed=st.integers(0, 2**16))
def test_matmul_random_shapes_match_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    compare(lambda ns, a, b: a @ b, [rng.standard_normal(s) for s in shapes])


@SETTINGS
@given(
    sizes=st.lists(st.integers(1, 3), min_size=4, max_size=4),
    drop=st.sets(st.sampled_from("ijkl")),
    seed=st.integers(0, 2**16),
)
def test_einsum_random_equations_match_torch(sizes, drop, seed):
    """'ijk,jkl->' with a random subset of the letters kept in the output."""
    rng = np.random.default_rng(seed)
    size = dict(zip("ijkl", sizes, strict=True))
    output = "".join(c for c in "lkji" if c not in drop)
    equation = f"ijk,jkl->{output}"
    arrays = [rng.standard_normal([size[c] for c in term]) for term in ("ijk", "jkl")]
    compare(lambda ns, a, b: ns.einsum(equation, a, b), arrays)
