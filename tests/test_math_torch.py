"""Elementwise math against PyTorch: values, dtypes, shapes and gradients, row by row.

The op tables come from test_math.py (each op written once against ``ns``); this file adds the
cases where PyTorch itself is the reference: float32 and float16 results, integer and bool
inputs (the dtype each gives), 0-d, 0-size and non-contiguous layouts, nan and ±inf, the edges
of each domain (infinite gradients included), ties, and the errors PyTorch raises.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_math import BINARY, TERNARY, UNARY, draw  # noqa: E402
from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

NAN, INF = np.nan, np.inf
FLOAT32 = (2e-5, 1e-6)  # (rtol, atol): integer inputs computed in float32
#: Ops with no derivative in PyTorch (its backward raises): compared without gradients.
NOT_DIFFERENTIABLE = {"//", "floor_divide", "int // float", "number // int", "number % int"}
FLOAT_ONLY = {"floor", "ceil", "trunc", "round", "round-decimals", "frac", "sign"}


def _ids(rows):
    return [row[0] for row in rows]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name, op, domain, _", UNARY, ids=_ids(UNARY))
def test_unary(name, op, domain, _, dtype):
    compare(op, [draw(domain, (3, 4))], dtype)


LAYOUTS = {
    "0-d": (lambda op: op, lambda domain: np.asarray(draw(domain, ()))),
    "0-size": (lambda op: op, lambda domain: np.zeros((0, 3))),
    "transposed": (lambda op: lambda ns, a: op(ns, a.t()), lambda domain: draw(domain, (4, 3))),
    "strided": (lambda op: lambda ns, a: op(ns, a[:, ::2]), lambda domain: draw(domain, (3, 5))),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name, op, domain, _", UNARY, ids=_ids(UNARY))
def test_unary_layouts(name, op, domain, _, layout):
    wrap, values = LAYOUTS[layout]
    compare(wrap(op), [values(domain)])


@pytest.mark.parametrize("name, op, domain, _", UNARY, ids=_ids(UNARY))
def test_unary_nan_and_infinities(name, op, domain, _):
    compare(op, [np.array([NAN, INF, -INF, 0.0, -0.0])])


FLOAT_FUNCTIONS = [(r[0], r[1]) for r in UNARY if r[0] not in FLOAT_ONLY]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name, op", FLOAT_FUNCTIONS, ids=_ids(FLOAT_FUNCTIONS))
def test_integer_and_bool_inputs_give_the_default_float(name, op, dtype):
    compare(op, [np.array([-2, -1, 0, 1, 2, 3])], dtype, *FLOAT32)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "sign"])
def test_rounding_integers_keeps_them_and_bool_is_refused(name, dtype):
    op = {r[0]: r[1] for r in UNARY}[name]
    values = [np.array([-3, 0, 4])]
    if dtype == "bool" and name != "sign":
        raises_like_torch(op, values, dtype)
    else:
        compare(op, values, dtype)


@pytest.mark.parametrize("name", ["frac", "round-decimals"])
def test_integer_frac_and_round_decimals_are_refused(name):
    raises_like_torch({r[0]: r[1] for r in UNARY}[name], [np.array([1, 2])], "int64")


EDGES = [
    ("asin", lambda ns, a: ns.asin(a), [-1.0, 1.0, 1.5]),
    ("acos", lambda ns, a: ns.acos(a), [-1.0, 1.0, -1.5]),
    ("acosh", lambda ns, a: ns.acosh(a), [1.0, 0.5]),
    ("atanh", lambda ns, a: ns.atanh(a), [-1.0, 1.0, 2.0]),
    ("log1p", lambda ns, a: ns.log1p(a), [-1.0, -2.0, 1e-300]),
    ("expm1", lambda ns, a: ns.expm1(a), [1e-300, 710.0]),
    ("log2", lambda ns, a: ns.log2(a), [0.0, -1.0]),
    ("rsqrt", lambda ns, a: ns.rsqrt(a), [0.0, -0.0, -1.0]),
    ("reciprocal", lambda ns, a: ns.reciprocal(a), [0.0, -0.0]),
    ("erfinv", lambda ns, a: ns.erfinv(a), [-1.0, 1.0, 1.0 - 1e-12, 1e-300, -0.999999]),
    ("erfc-tail", lambda ns, a: ns.erfc(a), [5.0, 10.0, 26.0, 27.0, -6.0]),
    ("round-halves", lambda ns, a: ns.round(a), [0.5, 1.5, 2.5, -0.5, -1.5]),
    ("round-decimals", lambda ns, a: ns.round(a, decimals=2), [1.125, 2.675, -0.005]),
    ("round-negative-decimals", lambda ns, a: a.round(decimals=-1), [125.0, 135.0, -15.0]),
    ("frac", lambda ns, a: a.frac(), [-1.5, 2.25, -0.0]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, values", EDGES, ids=_ids(EDGES))
def test_domain_edges(name, op, values, dtype):
    compare(op, [np.array(values)], dtype)


def test_erf_on_a_dense_grid_to_float64_rounding():
    x = np.concatenate([np.linspace(-8, 8, 4001), np.geomspace(1e-200, 1, 200)])
    compare(lambda ns, a: ns.erf(a), [x], rtol=1e-14, atol=0)
    compare(lambda ns, a: ns.erfc(a), [np.linspace(-5, 26, 3101)], rtol=5e-14, atol=0)
    compare(lambda ns, a: ns.erfinv(a), [np.linspace(-0.9999, 0.9999, 2001)], rtol=1e-13, atol=0)


# ---- two and three inputs ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name, op, da, db, _", BINARY, ids=_ids(BINARY))
def test_binary_broadcast(name, op, da, db, _, dtype):
    compare(op, [draw(da, (3, 1, 4)), draw(db, (2, 4), seed=1)], dtype)


@pytest.mark.parametrize("name, op, da, db, _", BINARY, ids=_ids(BINARY))
def test_binary_layouts_0d_and_non_contiguous(name, op, da, db, _):
    compare(op, [np.asarray(draw(da, ())), draw(db, (2, 3), seed=1)])
    compare(lambda ns, a, b: op(ns, a.t(), b[::2]), [draw(da, (3, 2)), draw(db, (4, 3), seed=1)])
    compare(op, [np.zeros((0, 3)), draw(db, (1, 3), seed=1)])


TIES = (np.array([1.0, 2.0, NAN, 1.0, NAN, INF, -INF]), np.array([1.0, 1.0, 1.0, NAN, NAN, INF, 0]))


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_extremes_at_ties_and_nan(name):
    compare(lambda ns, a, b: getattr(ns, name)(a, b), list(TIES))


SPECIAL_PAIRS = [
    (
        "remainder",
        lambda ns, a, b: ns.remainder(a, b),
        [5.0, -5.0, INF, 3.0, 4.0],
        [INF, INF, 2.0, 0.0, -0.0],
    ),
    (
        "fmod",
        lambda ns, a, b: ns.fmod(a, b),
        [5.0, -5.0, INF, 3.0, -0.0],
        [INF, INF, 2.0, 0.0, 1.0],
    ),
    (
        "div-trunc",
        lambda ns, a, b: ns.div(a, b, rounding_mode="trunc"),
        [5.0, -5.0, 0.0],
        [0.0, 0.0, 0.0],
    ),
    (
        "div-floor",
        lambda ns, a, b: ns.div(a, b, rounding_mode="floor"),
        [1.0, -1.0, INF],
        [0.1, 0.1, 3.0],
    ),
    (
        "copysign",
        lambda ns, a, b: ns.copysign(a, b),
        [0.0, 2.0, -0.0, INF, NAN],
        [-1.0, -0.0, 1.0, -1.0, 1.0],
    ),
    (
        "logaddexp",
        lambda ns, a, b: ns.logaddexp(a, b),
        [-INF, INF, 800.0, -INF],
        [-INF, INF, 800.0, 1.0],
    ),
    ("logaddexp2", lambda ns, a, b: ns.logaddexp2(a, b), [-INF, INF, 1.0], [-INF, 1.0, 1.0]),
    ("hypot", lambda ns, a, b: ns.hypot(a, b), [0.0, 1e200, INF, NAN], [0.0, 1e200, NAN, 1.0]),
    (
        "atan2",
        lambda ns, a, b: ns.atan2(a, b),
        [0.0, -0.0, 1.0, INF, -1.0],
        [0.0, -1.0, 0.0, INF, -0.0],
    ),
]


@pytest.mark.parametrize("name, op, a, b", SPECIAL_PAIRS, ids=_ids(SPECIAL_PAIRS))
def test_binary_special_values(name, op, a, b):
    compare(op, [np.array(a), np.array(b)])


def test_floor_divide_matches_and_its_backward_is_refused_as_in_pytorch():
    a, b = np.array([1.0, -1.0, 5.0, 3.0, -3.0, 0.0]), np.array([0.1, 0.1, INF, 0.0, 0.0, 0.0])
    compare(lambda ns, x, y: x // y, [a, b], grad=False)
    compare(lambda ns, x, y: ns.floor_divide(x, y), [a, b], "float32", grad=False)
    for ns in (torch, aprende):
        x = ns.tensor([1.5], requires_grad=True)
        with pytest.raises(RuntimeError, match="floor_divide"):
            (x // 2).sum().backward()


INTEGER_OPS = [
    ("%", lambda ns, a, b: a % b),
    ("//", lambda ns, a, b: a // b),
    ("remainder", lambda ns, a, b: ns.remainder(a, b)),
    ("fmod", lambda ns, a, b: a.fmod(b)),
    ("div-trunc", lambda ns, a, b: ns.div(a, b, rounding_mode="trunc")),
    ("div-floor", lambda ns, a, b: ns.div(a, b, rounding_mode="floor")),
    ("div", lambda ns, a, b: a.div(b)),
    ("floor_divide", lambda ns, a, b: ns.floor_divide(a, b)),
    ("copysign", lambda ns, a, b: ns.copysign(a, b)),
    ("atan2", lambda ns, a, b: ns.atan2(a, b)),
    ("fmax", lambda ns, a, b: ns.fmax(a, b)),
    ("fmin", lambda ns, a, b: a.fmin(b)),
    ("maximum", lambda ns, a, b: ns.maximum(a, b)),
    ("isclose", lambda ns, a, b: ns.isclose(a, b, rtol=0.2)),
]
INTEGER_PAIRS = [np.array([[7, -7, 6, -6, 0, 13]]), np.array([[3], [-4], [1]])]


@pytest.mark.parametrize("dtype", ["int64", "int32", ["int64", "int32"], ["int32", "float32"]])
@pytest.mark.parametrize("name, op", INTEGER_OPS, ids=_ids(INTEGER_OPS))
def test_integer_operands(name, op, dtype):
    if name == "isclose" and not isinstance(dtype, str):
        raises_like_torch(op, INTEGER_PAIRS, dtype)  # PyTorch wants one dtype
        return
    compare(op, INTEGER_PAIRS, dtype, *FLOAT32, grad=name not in NOT_DIFFERENTIABLE)


SCALARS = [
    ("int % float", lambda ns, a: a % 2.5),
    ("int // float", lambda ns, a: a // 2.5),
    ("int fmod float", lambda ns, a: ns.fmod(a, -2.5)),
    ("number % int", lambda ns, a: 17 % a),
    ("number // int", lambda ns, a: -17 // a),
    ("int % int number", lambda ns, a: a % -3),
    ("int clamp float", lambda ns, a: ns.clamp(a, 0.5, 4)),
    ("int clamp int", lambda ns, a: a.clamp(max=2)),
    ("copysign number", lambda ns, a: ns.copysign(a, -1)),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
@pytest.mark.parametrize("name, op", SCALARS, ids=_ids(SCALARS))
def test_python_numbers_promote_as_in_pytorch(name, op, dtype):
    values = [np.array([7, -7, 6, -6, 1, 13])]
    compare(op, values, dtype, *FLOAT32, grad=name not in NOT_DIFFERENTIABLE)


REFUSED = [
    ("int % 0", lambda ns, a: a % 0, "int64"),
    ("int // 0", lambda ns, a: a // ns.tensor([0, 1, 1, 1, 1, 1]), "int64"),
    ("fmod 0", lambda ns, a: ns.fmod(a, 0), "int32"),
    ("div trunc 0", lambda ns, a: ns.div(a, 0, rounding_mode="trunc"), "int64"),
    ("0 in divisor", lambda ns, a: 5 % (a - 1), "int64"),
    ("int32 % wrapped 2**32", lambda ns, a: a % 2**32, "int32"),
    ("bool %", lambda ns, a: a % a, "bool"),
    ("bool //", lambda ns, a: a // a, "bool"),
    ("bool fmod", lambda ns, a: ns.fmod(a, a), "bool"),
    ("bool div trunc", lambda ns, a: ns.div(a, a, rounding_mode="trunc"), "bool"),
    ("rounding mode", lambda ns, a: ns.div(a, a, rounding_mode="round"), "float32"),
    ("logaddexp int", lambda ns, a: ns.logaddexp(a, a), "int64"),
    ("hypot int", lambda ns, a: ns.hypot(a, a), "int64"),
    ("lerp int", lambda ns, a: ns.lerp(a, a, 0.5), "int64"),
    ("lerp end dtype", lambda ns, a: ns.lerp(a, a.double(), 0.5), "float32"),
    ("lerp weight dtype", lambda ns, a: ns.lerp(a, a, a.double()), "float32"),
    ("isclose dtype", lambda ns, a: ns.isclose(a, a.double()), "float32"),
    ("isclose rtol", lambda ns, a: ns.isclose(a, a, rtol=-1), "float32"),
    ("clamp no bound", lambda ns, a: ns.clamp(a), "float32"),
]


@pytest.mark.parametrize("name, op, dtype", REFUSED, ids=_ids(REFUSED))
def test_refused_like_pytorch(name, op, dtype):
    raises_like_torch(op, [np.array([1, 2, 3, 0, 5, 6])], dtype)


LERP = [
    ("scalar weight", lambda ns, a, b, w: ns.lerp(a, b, 0.75), (3, 4), (3, 4), ()),
    ("tensor weight broadcast", lambda ns, a, b, w: ns.lerp(a, b, w), (3, 1), (1, 4), (4,)),
    ("method", lambda ns, a, b, w: a.lerp(b, w), (2, 3), (3,), (2, 1)),
    ("0-d weight", lambda ns, a, b, w: ns.lerp(a, b, w), (2, 3), (2, 3), ()),
    ("non-contiguous", lambda ns, a, b, w: ns.lerp(a.t(), b, w[::2]), (3, 2), (2, 3), (4, 3)),
    ("0-size", lambda ns, a, b, w: ns.lerp(a, b, w), (0, 3), (3,), (1,)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name, op, sa, sb, sw", LERP, ids=_ids(LERP))
def test_lerp(name, op, sa, sb, sw, dtype):
    weight = np.asarray(np.random.default_rng(2).uniform(-0.5, 1.5, sw))  # both branches
    compare(op, [draw("real", sa), draw("real", sb, seed=1), weight], dtype)


def test_lerp_with_a_0d_weight_of_another_float_dtype():
    compare(
        lambda ns, a, b, w: ns.lerp(a, b, w),
        [draw("real", (3,)), draw("real", (3,), 1), np.array(0.3)],
        ["float32", "float32", "float64"],
    )


CLAMP = [
    ("numbers", lambda ns, a, lo, hi: ns.clamp(a, -0.5, 0.5)),
    ("tensors", lambda ns, a, lo, hi: ns.clamp(a, lo, hi)),
    ("min tensor", lambda ns, a, lo, hi: ns.clamp(a, min=lo)),
    ("max tensor", lambda ns, a, lo, hi: a.clamp(max=hi)),
    ("scaled bound", lambda ns, a, lo, hi: a.clip(max=hi * 2)),
    ("clamp_min", lambda ns, a, lo, hi: ns.clamp_min(a, lo)),
    ("clamp_max", lambda ns, a, lo, hi: a.clamp_max(hi)),
    ("clamp_min number", lambda ns, a, lo, hi: a.clamp_min(0.25)),
    ("crossed bounds", lambda ns, a, lo, hi: ns.clamp(a, hi + 1, hi)),
    ("non-contiguous", lambda ns, a, lo, hi: ns.clamp(a.t().t(), lo[..., ::1], hi)),
]


@pytest.mark.parametrize(
    "dtype", ["float64", "float32", "float16", ["float32", "float64", "int64"]]
)
@pytest.mark.parametrize("name, op", CLAMP, ids=_ids(CLAMP))
def test_clamp(name, op, dtype):
    a = np.array([[-2.0, -0.5, 0.0, 0.3, 0.5, 2.0, NAN]] * 2)
    lo, hi = np.array([[-0.5], [0.0]]), np.array([0.5, 0.5, 1.0, 0.3, -1.0, 1.0, 1.0])
    compare(op, [a, lo, hi], dtype)


@pytest.mark.parametrize(
    "dtype", [["int64", "float32", "float32"], ["bool", "int64", "int64"], "int32"]
)
def test_clamp_promotes_integer_inputs(dtype):
    compare(
        lambda ns, a, lo, hi: ns.clamp(a, lo, hi),
        [np.array([0, 1, 5]), np.array(1), np.array([3, 3, 4])],
        dtype,
    )


CLOSE = [
    ("isclose", lambda ns, a, b: ns.isclose(a, b)),
    ("isclose tolerances", lambda ns, a, b: a.isclose(b, rtol=1e-2, atol=0.5)),
    ("isclose equal_nan", lambda ns, a, b: ns.isclose(a, b, equal_nan=True)),
    ("allclose", lambda ns, a, b: ns.allclose(a[:2], b[:2])),
    ("allclose equal_nan", lambda ns, a, b: a[:3].allclose(b[:3], equal_nan=True)),
    ("isinf", lambda ns, a, b: ns.isinf(a)),
    ("isposinf", lambda ns, a, b: a.isposinf()),
    ("isneginf", lambda ns, a, b: ns.isneginf(b)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name, op", CLOSE, ids=_ids(CLOSE))
def test_closeness_and_inf_tests(name, op, dtype):
    a = np.array([1.0, 100.0, NAN, INF, -INF, INF, 1.0, 0.0])
    b = np.array([1.0 + 1e-6, 100.4, NAN, INF, INF, 1e300, 1.2, -INF])
    compare(op, [a, b], dtype, grad=False)


@pytest.mark.parametrize("name, op, domains, _", TERNARY, ids=_ids(TERNARY))
def test_ternary_rows_of_the_torch_free_table(name, op, domains, _):
    shapes = [(2, 3), (3,), (2, 1)]
    compare(op, [draw(d, s, seed=i) for i, (d, s) in enumerate(zip(domains, shapes, strict=True))])


def test_methods_and_functions_are_those_pytorch_has():
    from aprende.ops import arithmetic, binary_math, math, special

    for module in (math, special, binary_math, arithmetic):
        for name in module.TENSOR_METHODS:
            assert hasattr(torch.Tensor, name), name
            assert hasattr(torch, name) and getattr(aprende, name) is getattr(module, name), name
