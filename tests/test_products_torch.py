"""Tensor products, shape helpers and statistics against PyTorch: values, dtypes, shapes and
gradients row by row (kron, tensordot, cross, trace, cdist, dist, block_diag, cartesian_prod,
ravel, diagflat, rot90, diff, broadcast_tensors, broadcast_shapes, numel, clone, cov,
corrcoef, logspace), with integer and bool inputs, broadcasting, 0-d and empty tensors,
negative dims, and the errors PyTorch raises.
"""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

RNG = np.random.default_rng(0)
FLOAT32 = (2e-5, 1e-6)


def randn(*shape):
    return RNG.standard_normal(shape)


def integers(*shape):
    return RNG.integers(-4, 5, shape).astype(np.float64)


def _ids(rows):
    return [row[0] for row in rows]


# (name, op(ns, *inputs), inputs): compared in float64 and float32, gradients included.
FLOAT_ROWS = [
    ("kron 2-d", lambda ns, a, b: ns.kron(a, b), [randn(2, 3), randn(3, 2)]),
    ("kron 1-d x 2-d", lambda ns, a, b: ns.kron(a, b), [randn(3), randn(2, 2)]),
    ("kron 3-d x 2-d", lambda ns, a, b: ns.kron(a, b), [randn(2, 1, 2), randn(3, 2)]),
    ("kron 0-d", lambda ns, a, b: ns.kron(a, b), [randn(), randn(2, 3)]),
    ("kron empty", lambda ns, a, b: ns.kron(a, b), [randn(0, 2), randn(2, 3)]),
    ("kron method", lambda ns, a, b: a.kron(b), [randn(2, 2), randn(2)]),
    ("tensordot 2", lambda ns, a, b: ns.tensordot(a, b), [randn(2, 3, 4), randn(3, 4, 5)]),
    ("tensordot 1", lambda ns, a, b: ns.tensordot(a, b, 1), [randn(2, 3), randn(3, 4)]),
    ("tensordot 0", lambda ns, a, b: ns.tensordot(a, b, 0), [randn(2, 3), randn(4)]),
    (
        "tensordot lists",
        lambda ns, a, b: ns.tensordot(a, b, ([0, 2], [1, 0])),
        [randn(3, 2, 4), randn(4, 3, 5)],
    ),
    (
        "tensordot negative dims",
        lambda ns, a, b: ns.tensordot(a, b, dims=([-1], [-2])),
        [randn(2, 3), randn(3, 4)],
    ),
    (
        "tensordot size-1 contraction",
        lambda ns, a, b: ns.tensordot(a, b, ([1], [0])),
        [randn(2, 3), randn(1, 4)],
    ),
    (
        "tensordot all dims",
        lambda ns, a, b: ns.tensordot(a, b, ([0, 1], [1, 0])),
        [randn(2, 3), randn(3, 2)],
    ),
    ("tensordot empty", lambda ns, a, b: ns.tensordot(a, b, 1), [randn(2, 0), randn(0, 3)]),
    ("cross default dim", lambda ns, a, b: ns.cross(a, b), [randn(4, 3), randn(4, 3)]),
    ("cross first dim of 3", lambda ns, a, b: ns.cross(a, b), [randn(3, 3, 2), randn(3, 3, 2)]),
    ("cross dim=-1", lambda ns, a, b: ns.cross(a, b, dim=-1), [randn(2, 3, 3), randn(2, 3, 3)]),
    ("cross broadcast", lambda ns, a, b: ns.cross(a, b, dim=1), [randn(4, 3), randn(1, 3)]),
    ("cross method", lambda ns, a, b: a.cross(b, 0), [randn(3, 2), randn(3, 2)]),
    ("cross 1-d", lambda ns, a, b: ns.cross(a, b), [randn(3), randn(3)]),
    (
        "linalg.cross broadcast",
        lambda ns, a, b: ns.linalg.cross(a, b),
        [randn(2, 1, 3), randn(1, 4, 3)],
    ),
    (
        "linalg.cross dim=0",
        lambda ns, a, b: ns.linalg.cross(a, b, dim=0),
        [randn(3, 2), randn(3, 2)],
    ),
    ("linalg.cross empty", lambda ns, a, b: ns.linalg.cross(a, b), [randn(0, 3), randn(0, 3)]),
    ("trace square", lambda ns, a: ns.trace(a), [randn(4, 4)]),
    ("trace wide", lambda ns, a: a.trace(), [randn(2, 5)]),
    ("trace empty", lambda ns, a: ns.trace(a), [randn(0, 0)]),
    ("dist p=2", lambda ns, a, b: ns.dist(a, b), [randn(3, 4), randn(3, 4)]),
    ("dist broadcast", lambda ns, a, b: ns.dist(a, b), [randn(3, 4), randn(4)]),
    ("dist p=1", lambda ns, a, b: ns.dist(a, b, 1), [randn(5), randn(5)]),
    ("dist p=3", lambda ns, a, b: a.dist(b, 3), [randn(2, 3), randn(2, 3)]),
    ("dist p=inf", lambda ns, a, b: ns.dist(a, b, math.inf), [randn(6), randn(6)]),
    ("dist 0-d", lambda ns, a, b: ns.dist(a, b), [randn(), randn()]),
    ("cdist p=2", lambda ns, a, b: ns.cdist(a, b), [randn(4, 3), randn(5, 3)]),
    ("cdist p=1", lambda ns, a, b: ns.cdist(a, b, p=1), [randn(4, 3), randn(5, 3)]),
    ("cdist p=0", lambda ns, a, b: ns.cdist(a, b, p=0), [randn(4, 3), randn(5, 3)]),
    ("cdist p=inf", lambda ns, a, b: ns.cdist(a, b, p=math.inf), [randn(4, 3), randn(5, 3)]),
    ("cdist p=3", lambda ns, a, b: ns.cdist(a, b, p=3), [randn(4, 3), randn(5, 3)]),
    ("cdist p=1.5", lambda ns, a, b: ns.cdist(a, b, p=1.5), [randn(4, 3), randn(5, 3)]),
    ("cdist p=0.5", lambda ns, a, b: ns.cdist(a, b, p=0.5), [randn(4, 3), randn(5, 3)]),
    ("cdist batched", lambda ns, a, b: ns.cdist(a, b), [randn(2, 4, 3), randn(2, 5, 3)]),
    ("cdist batch broadcast", lambda ns, a, b: ns.cdist(a, b), [randn(2, 1, 4, 3), randn(3, 5, 3)]),
    ("cdist batch vs matrix", lambda ns, a, b: ns.cdist(a, b, 1), [randn(2, 4, 3), randn(5, 3)]),
    ("cdist empty rows", lambda ns, a, b: ns.cdist(a, b), [randn(0, 3), randn(5, 3)]),
    ("cdist no columns", lambda ns, a, b: ns.cdist(a, b), [randn(2, 0), randn(3, 0)]),
    ("block_diag", lambda ns, *m: ns.block_diag(*m), [randn(2, 3), randn(1, 2), randn(2, 2)]),
    ("block_diag 0-d and 1-d", lambda ns, *m: ns.block_diag(*m), [randn(), randn(3), randn(2, 1)]),
    ("block_diag empty blocks", lambda ns, *m: ns.block_diag(*m), [randn(0, 2), randn(2, 0)]),
    ("block_diag one", lambda ns, m: ns.block_diag(m), [randn(2, 3)]),
    ("cartesian_prod", lambda ns, a, b: ns.cartesian_prod(a, b), [randn(2), randn(3)]),
    ("cartesian_prod three", lambda ns, *v: ns.cartesian_prod(*v), [randn(2), randn(1), randn(3)]),
    ("cartesian_prod one", lambda ns, a: ns.cartesian_prod(a), [randn(4)]),
    ("cartesian_prod empty", lambda ns, a, b: ns.cartesian_prod(a, b), [randn(2), randn(0)]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, arrays", FLOAT_ROWS, ids=_ids(FLOAT_ROWS))
def test_against_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


def test_cdist_and_dist_gradients_at_zero_distance_are_zero_as_torch():
    x = randn(3, 4)
    for p in (2.0, 1.0, 3.0, 0.5, math.inf):
        compare(lambda ns, a, b, p=p: ns.cdist(a, b, p=p), [x, np.concatenate([x, randn(1, 4)])])
    compare(lambda ns, a, b: ns.dist(a, b), [x, x.copy()])
    compare(lambda ns, a, b: ns.dist(a, b, 3), [x, x.copy()])


def test_cdist_ties_and_shared_coordinates_as_torch():
    """Rows with equal coordinates: the p = ∞ gradient of a tie and the p < 1 gradient where a
    coordinate difference is 0."""
    a = np.array([[0.0, 1.0, -1.0], [2.0, 2.0, 0.0]])
    b = np.array([[1.0, 0.0, 0.0], [2.0, 1.0, 3.0]])
    for p in (math.inf, 0.5, 1.0, 2.0, 3.0):
        compare(lambda ns, x, y, p=p: ns.cdist(x, y, p=p), [a, b])


def test_dist_p0_counts_differences_as_torch():
    """PyTorch's own backward of dist with p = 0 fails, so only the value is compared."""
    a = randn(6)
    b = np.where(RNG.random(6) < 0.5, a, randn(6))
    compare(lambda ns, x, y: ns.dist(x, y, 0), [a, b], grad=False)


def test_dist_mixed_float_dtypes_promote_as_torch():
    compare(lambda ns, a, b: ns.dist(a, b), [randn(2, 3), randn(2, 3)], ["float32", "float64"])


# (name, op, inputs, dtype): integer and bool inputs, and dtype promotion.
INTEGER_ROWS = [
    ("kron int", lambda ns, a, b: ns.kron(a, b), [integers(2, 2), integers(2, 3)], "int64"),
    ("kron int32", lambda ns, a, b: ns.kron(a, b), [integers(2), integers(3)], "int32"),
    ("kron bool", lambda ns, a, b: ns.kron(a, b), [integers(2, 2), integers(2)], "bool"),
    (
        "kron int x float",
        lambda ns, a, b: ns.kron(a, b),
        [integers(2), randn(2)],
        ["int32", "float32"],
    ),
    (
        "tensordot int",
        lambda ns, a, b: ns.tensordot(a, b, 1),
        [integers(2, 3), integers(3)],
        "int64",
    ),
    ("cross int", lambda ns, a, b: ns.cross(a, b), [integers(2, 3), integers(2, 3)], "int64"),
    ("trace int64", lambda ns, a: ns.trace(a), [integers(3, 3)], "int64"),
    ("trace int32", lambda ns, a: ns.trace(a), [integers(3, 3)], "int32"),
    ("trace uint8", lambda ns, a: ns.trace(a), [np.abs(integers(3, 3))], "uint8"),
    (
        "block_diag promotes",
        lambda ns, a, b, c: ns.block_diag(a, b, c),
        [integers(2), integers(2, 2), randn(1, 2)],
        ["bool", "int32", "float32"],
    ),
    (
        "block_diag int64 with float32",
        lambda ns, a, b: ns.block_diag(a, b),
        [integers(2), randn(2, 3)],
        ["int64", "float32"],
    ),
    (
        "block_diag float32 with float64",
        lambda ns, a, b: ns.block_diag(a, b),
        [randn(2), randn(2, 3)],
        ["float32", "float64"],
    ),
    (
        "cartesian_prod int",
        lambda ns, a, b: ns.cartesian_prod(a, b),
        [integers(2), integers(2)],
        "int64",
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtype", INTEGER_ROWS, ids=_ids(INTEGER_ROWS))
def test_integer_bool_and_mixed_dtypes(name, op, arrays, dtype):
    compare(op, arrays, dtype)


def test_block_diag_of_nothing_is_one_by_zero():
    compare(lambda ns: ns.block_diag(), [])


# (name, op, inputs, dtype): both refuse, with the same exception type.
ERROR_ROWS = [
    (
        "tensordot dtypes",
        lambda ns, a, b: ns.tensordot(a, b.double(), 1),
        [randn(2, 3), randn(3)],
        "float32",
    ),
    (
        "tensordot bool",
        lambda ns, a, b: ns.tensordot(a, b, 1),
        [integers(2, 3), integers(3)],
        "bool",
    ),
    (
        "tensordot negative",
        lambda ns, a, b: ns.tensordot(a, b, -1),
        [randn(2, 3), randn(3)],
        "float64",
    ),
    (
        "tensordot too many",
        lambda ns, a, b: ns.tensordot(a, b, 3),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    (
        "tensordot sizes",
        lambda ns, a, b: ns.tensordot(a, b, 1),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    (
        "tensordot list lengths",
        lambda ns, a, b: ns.tensordot(a, b, ([0], [0, 1])),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    (
        "tensordot dim range",
        lambda ns, a, b: ns.tensordot(a, b, ([2], [0])),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    ("cross no dim of 3", lambda ns, a, b: ns.cross(a, b), [randn(4, 4), randn(4, 4)], "float64"),
    (
        "cross dim not 3",
        lambda ns, a, b: ns.cross(a, b, dim=0),
        [randn(4, 3), randn(4, 3)],
        "float64",
    ),
    ("cross other not 3", lambda ns, a, b: ns.cross(a, b), [randn(3, 3), randn(1, 3)], "float64"),
    ("cross ndim", lambda ns, a, b: ns.cross(a, b), [randn(3), randn(2, 3)], "float64"),
    ("cross dtypes", lambda ns, a, b: ns.cross(a, b.double()), [randn(3), randn(3)], "float32"),
    (
        "cross bool",
        lambda ns, a, b: ns.cross(a, b, dim=1),
        [integers(4, 3), integers(4, 3)],
        "bool",
    ),
    ("cross dim range", lambda ns, a, b: ns.cross(a, b, dim=5), [randn(3), randn(3)], "float64"),
    (
        "linalg.cross ndim",
        lambda ns, a, b: ns.linalg.cross(a, b),
        [randn(2, 1, 3), randn(4, 3)],
        "float64",
    ),
    (
        "linalg.cross size",
        lambda ns, a, b: ns.linalg.cross(a, b),
        [randn(3, 4), randn(3, 4)],
        "float64",
    ),
    ("trace 1-d", lambda ns, a: ns.trace(a), [randn(3)], "float64"),
    ("trace 3-d", lambda ns, a: ns.trace(a), [randn(2, 2, 2)], "float64"),
    ("trace 0-d", lambda ns, a: ns.trace(a), [randn()], "float64"),
    ("trace bool", lambda ns, a: ns.trace(a), [integers(2, 2)], "bool"),
    ("dist int", lambda ns, a, b: ns.dist(a, b), [integers(3), integers(3)], "int64"),
    ("dist shapes", lambda ns, a, b: ns.dist(a, b), [randn(2, 3), randn(4)], "float64"),
    ("dist number", lambda ns, a: ns.dist(a, 2), [randn(3)], "float64"),
    ("cdist int", lambda ns, a, b: ns.cdist(a, b), [integers(2, 3), integers(2, 3)], "int64"),
    ("cdist 1-d", lambda ns, a, b: ns.cdist(a, b), [randn(3), randn(3)], "float64"),
    ("cdist columns", lambda ns, a, b: ns.cdist(a, b), [randn(2, 3), randn(2, 4)], "float64"),
    (
        "cdist negative p",
        lambda ns, a, b: ns.cdist(a, b, -1),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    ("cdist batch", lambda ns, a, b: ns.cdist(a, b), [randn(2, 4, 3), randn(3, 5, 3)], "float64"),
    (
        "cdist dtypes",
        lambda ns, a, b: ns.cdist(a, b.double()),
        [randn(2, 3), randn(2, 3)],
        "float32",
    ),
    (
        "cdist compute_mode",
        lambda ns, a, b: ns.cdist(a, b, compute_mode="fast"),
        [randn(2, 3), randn(2, 3)],
        "float64",
    ),
    ("block_diag 3-d", lambda ns, a: ns.block_diag(a), [randn(2, 2, 2)], "float64"),
    (
        "cartesian_prod 2-d",
        lambda ns, a, b: ns.cartesian_prod(a, b),
        [randn(2), randn(2, 2)],
        "float64",
    ),
    ("cartesian_prod 0-d", lambda ns, a: ns.cartesian_prod(a), [randn()], "float64"),
    ("cartesian_prod nothing", lambda ns: ns.cartesian_prod(), [], "float64"),
    (
        "cartesian_prod dtypes",
        lambda ns, a, b: ns.cartesian_prod(a, b.double()),
        [randn(2), randn(2)],
        "float32",
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtype", ERROR_ROWS, ids=_ids(ERROR_ROWS))
def test_errors_as_torch(name, op, arrays, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(op, arrays, dtype)


def test_tensordot_dims_as_a_tensor():
    a, b = randn(2, 3), randn(2, 4)
    compare(lambda ns, x, y: ns.tensordot(x, y, ns.tensor([[0], [0]])), [a, b])


def test_linalg_cross_is_in_the_linalg_namespace():
    assert aprende.linalg.cross is aprende.ops.products.linalg_cross


FWEIGHTS = np.array([1.0, 3.0, 0.0, 2.0, 1.0])
AWEIGHTS = np.array([0.5, 1.0, 2.0, 0.1, 0.7])

STATISTICS_ROWS = [
    ("cov", lambda ns, a: ns.cov(a), [randn(3, 5)]),
    ("cov method", lambda ns, a: a.cov(), [randn(2, 4)]),
    ("cov vector", lambda ns, a: ns.cov(a), [randn(6)]),
    ("cov one variable", lambda ns, a: ns.cov(a), [randn(1, 4)]),
    ("cov correction=0", lambda ns, a: ns.cov(a, correction=0), [randn(3, 5)]),
    ("cov correction=2", lambda ns, a: ns.cov(a, correction=2), [randn(3, 5)]),
    (
        "cov fweights",
        lambda ns, a: ns.cov(a, fweights=ns.tensor(FWEIGHTS.astype(int))),
        [randn(3, 5)],
    ),
    ("cov aweights", lambda ns, a, w: ns.cov(a, aweights=w), [randn(3, 5), AWEIGHTS]),
    (
        "cov both weights",
        lambda ns, a, w: ns.cov(
            a, correction=1, fweights=ns.tensor(FWEIGHTS.astype(int)), aweights=w
        ),
        [randn(3, 5), AWEIGHTS],
    ),
    ("cov empty variables", lambda ns, a: ns.cov(a), [randn(0, 3)]),
    ("corrcoef", lambda ns, a: ns.corrcoef(a), [randn(3, 5)]),
    ("corrcoef method", lambda ns, a: a.corrcoef(), [randn(4, 6)]),
    ("corrcoef vector", lambda ns, a: ns.corrcoef(a), [randn(5)]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, arrays", STATISTICS_ROWS, ids=_ids(STATISTICS_ROWS))
def test_statistics_against_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


def test_cov_degrees_of_freedom_at_or_below_zero_give_inf_or_nan_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda ns, a: ns.cov(a, correction=5), [randn(2, 4)], grad=False)
        compare(lambda ns, a: ns.cov(a), [randn(2, 1)], grad=False)
        compare(lambda ns, a: ns.cov(a), [randn(2, 0)], grad=False)
        compare(lambda ns, a: ns.cov(a), [randn()], grad=False)
        compare(lambda ns, a: ns.corrcoef(a), [np.ones((2, 3))], grad=False)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_cov_and_corrcoef_of_integers_give_the_default_float(dtype):
    values = np.abs(integers(3, 6))
    compare(lambda ns, a: ns.cov(a), [values], dtype, *FLOAT32)
    compare(lambda ns, a: ns.corrcoef(a), [values], dtype, *FLOAT32)


def test_cov_aweights_promote_as_torch():
    compare(lambda ns, a, w: ns.cov(a, aweights=w), [randn(2, 5), AWEIGHTS], ["float32", "float64"])


COV_ERRORS = [
    ("cov 3-d", lambda ns, a: ns.cov(a), [randn(2, 2, 2)], "float64"),
    ("cov bool", lambda ns, a: ns.cov(a), [integers(2, 3)], "bool"),
    ("corrcoef bool", lambda ns, a: ns.corrcoef(a), [integers(2, 3)], "bool"),
    ("cov float correction", lambda ns, a: ns.cov(a, correction=1.5), [randn(2, 3)], "float64"),
    (
        "cov float fweights",
        lambda ns, a: ns.cov(a, fweights=ns.tensor([1.0, 2.0, 3.0])),
        [randn(2, 3)],
        "float64",
    ),
    (
        "cov negative fweights",
        lambda ns, a: ns.cov(a, fweights=ns.tensor([1, -2, 3])),
        [randn(2, 3)],
        "float64",
    ),
    (
        "cov integer aweights",
        lambda ns, a: ns.cov(a, aweights=ns.tensor([1, 2, 3])),
        [randn(2, 3)],
        "float64",
    ),
    (
        "cov negative aweights",
        lambda ns, a: ns.cov(a, aweights=ns.tensor([1.0, -2.0, 3.0])),
        [randn(2, 3)],
        "float64",
    ),
    (
        "cov aweights count",
        lambda ns, a: ns.cov(a, aweights=ns.tensor([1.0, 2.0])),
        [randn(2, 3)],
        "float64",
    ),
    (
        "cov 2-d aweights",
        lambda ns, a: ns.cov(a, aweights=ns.tensor([[1.0, 2.0, 3.0]])),
        [randn(2, 3)],
        "float64",
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtype", COV_ERRORS, ids=_ids(COV_ERRORS))
def test_cov_errors_as_torch(name, op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


LOGSPACE = [
    ((0, 2, 3), {}),
    ((-1.5, 2.5, 7), {}),
    ((0, 2, 5), {"base": 2}),
    ((1, -1, 4), {"base": 0.5}),
    ((0, 2, 1), {}),
    ((0, 2, 0), {}),
    ((0, 2, 2), {}),
    ((0.0, 2.0, 6), {"dtype": "float64"}),
    ((0, 1, 5), {"dtype": "int64"}),
    ((0, 3, 4), {"dtype": "int32", "base": 3}),
    ((-1, 2.5, 4), {"base": -2.0}),
    ((0, 2, 3), {"requires_grad": True}),
]


@pytest.mark.parametrize("args, options", LOGSPACE, ids=str)
def test_logspace_as_torch(args, options):
    def made(ns):
        kwargs = {k: getattr(ns, v) if k == "dtype" else v for k, v in options.items()}
        return ns.logspace(*args, **kwargs)

    ours, theirs = made(aprende), made(torch)
    assert ours.requires_grad == theirs.requires_grad
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=2e-6)


@pytest.mark.parametrize("name", ["logspace", "linspace"])
def test_negative_steps_are_refused_as_torch(name):
    with pytest.raises(RuntimeError):
        getattr(torch, name)(0, 1, -1)
    with pytest.raises(RuntimeError, match=f"{name}: number of steps must be non-negative"):
        getattr(aprende, name)(0, 1, -1)


def test_logspace_refuses_as_torch():
    with pytest.raises(NotImplementedError):
        torch.logspace(0, 1, 3, dtype=torch.bool)
    with pytest.raises(NotImplementedError):
        aprende.logspace(0, 1, 3, dtype=aprende.bool)
