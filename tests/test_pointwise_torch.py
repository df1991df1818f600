"""Pointwise math against PyTorch: nan_to_num, deg2rad, rad2deg, signbit, heaviside,
float_power, ldexp, frexp, nextafter, logit, xlogy and sinc, row by row over float64 and
float32, integer and bool inputs, nan and ±inf, 0-d, 0-size and non-contiguous tensors, Python
numbers, and the errors PyTorch raises; values, dtypes and every gradient (``compare``).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

NAN, INF = np.nan, np.inf
FLOAT32 = (2e-5, 1e-6)  # (rtol, atol): integer inputs computed in float32
#: Every kind of float: signed zeros, both infinities, nan, a subnormal, ordinary numbers.
SPECIAL = np.array([-2.5, -1.0, -0.0, 0.0, 0.3, 1.0, 4.0, 1e-310, NAN, INF, -INF])
#: Around and beyond logit's domain [0, 1].
PROBABILITIES = np.array([0.0, 1e-3, 0.05, 0.3, 0.5, 0.95, 1.0, -0.1, 1.1, NAN])
FINITE = np.array([[-2.5, -1.0, 0.0, 0.3], [1.0, 4.0, -0.7, 2.25]])


def _ids(rows):
    return [row[0] for row in rows]


# (name, op(ns, a), values, differentiable)
UNARY = [
    ("nan_to_num", lambda ns, a: ns.nan_to_num(a), SPECIAL, True),
    ("nan_to_num numbers", lambda ns, a: ns.nan_to_num(a, 1.5, 2, -3.0), SPECIAL, True),
    ("nan_to_num posinf only", lambda ns, a: a.nan_to_num(posinf=7.0), SPECIAL, True),
    ("nan_to_num beyond float32", lambda ns, a: ns.nan_to_num(a, posinf=1e300), SPECIAL, True),
    ("deg2rad", lambda ns, a: ns.deg2rad(a), SPECIAL, True),
    ("rad2deg", lambda ns, a: a.rad2deg(), SPECIAL, True),
    ("signbit", lambda ns, a: ns.signbit(a), SPECIAL, False),
    ("signbit method", lambda ns, a: a.signbit(), -SPECIAL, False),
    ("sinc", lambda ns, a: ns.sinc(a), SPECIAL, True),
    ("sinc near 0", lambda ns, a: a.sinc(), np.array([1e-20, -1e-8, 1e-4, 0.5, -0.5]), True),
    ("logit", lambda ns, a: ns.logit(a), PROBABILITIES, True),
    ("logit eps", lambda ns, a: ns.logit(a, eps=0.05), PROBABILITIES, True),
    ("logit eps 0", lambda ns, a: a.logit(0.0), PROBABILITIES, True),
    ("logit negative eps", lambda ns, a: ns.logit(a, eps=-1.0), PROBABILITIES, True),
    ("logit crossed bounds", lambda ns, a: ns.logit(a, eps=0.6), PROBABILITIES, True),
    ("frexp", lambda ns, a: ns.frexp(a), SPECIAL, True),
    ("frexp method", lambda ns, a: a.frexp(), FINITE * 1e5, True),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, values, grad", UNARY, ids=_ids(UNARY))
def test_unary(name, op, values, grad, dtype):
    compare(op, [values], dtype, grad=grad)


LAYOUTS = {
    "0-d": (lambda op: op, np.array(0.25)),
    "0-size": (lambda op: op, np.zeros((0, 3))),
    "transposed": (lambda op: lambda ns, a: op(ns, a.t()), FINITE / 5 + 0.5),
    "strided": (lambda op: lambda ns, a: op(ns, a[:, ::2]), FINITE / 5 + 0.5),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name, op, values, grad", UNARY, ids=_ids(UNARY))
def test_unary_layouts(name, op, values, grad, layout):
    wrap, array = LAYOUTS[layout]
    compare(wrap(op), [array], grad=grad)


TAKES_INTEGERS = [row for row in UNARY if not row[0].startswith("frexp")]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name, op, _, grad", TAKES_INTEGERS, ids=_ids(TAKES_INTEGERS))
def test_integer_and_bool_inputs(name, op, _, grad, dtype):
    compare(op, [np.array([-3, -1, 0, 1, 2, 5])], dtype, *FLOAT32, grad=grad)


# (name, op(ns, a, b), a, b, differentiable)
XLOGY_EDGES = (
    np.array([0.0, 0.0, 0.0, 1.0, 2.0, -1.0, NAN, 0.0, 3.0, 0.0]),
    np.array([0.0, NAN, -1.0, 0.0, 3.0, 2.0, 1.0, INF, NAN, -INF]),
)
BINARY = [
    ("xlogy", lambda ns, a, b: ns.xlogy(a, b), FINITE, np.abs(FINITE[0]) + 0.1, True),
    ("xlogy edges", lambda ns, a, b: ns.xlogy(a, b), *XLOGY_EDGES, True),
    ("xlogy method", lambda ns, a, b: a.xlogy(b), FINITE, np.array([[2.0], [0.0]]), True),
    ("number xlogy", lambda ns, a, b: ns.xlogy(2, b), FINITE, np.abs(FINITE) + 0.5, True),
    ("xlogy number", lambda ns, a, b: ns.xlogy(a, 3.5), FINITE, FINITE, True),
    ("ldexp", lambda ns, a, b: ns.ldexp(a, b), FINITE, np.array([3.0, -2.0, 0.0, 1.5]), True),
    ("ldexp method", lambda ns, a, b: a.ldexp(b), FINITE, np.array([[1.0], [-1.0]]), True),
    ("nextafter", lambda ns, a, b: ns.nextafter(a, b), SPECIAL, SPECIAL[::-1].copy(), True),
    ("nextafter method", lambda ns, a, b: a.nextafter(b), FINITE, np.array([0.0, INF, 1, 2]), True),
    ("float_power", lambda ns, a, b: ns.float_power(a, b), np.abs(FINITE) + 0.1, FINITE, True),
    ("float_power edges", lambda ns, a, b: ns.float_power(a, b), *XLOGY_EDGES, True),
    ("float_power number", lambda ns, a, b: a.float_power(3), FINITE, FINITE, True),
    ("number float_power", lambda ns, a, b: ns.float_power(2, b), FINITE, FINITE, True),
    ("heaviside", lambda ns, a, b: ns.heaviside(a, b), SPECIAL, np.array([0.5]), False),
    ("heaviside method", lambda ns, a, b: a.heaviside(b), FINITE, FINITE[::-1].copy(), False),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, a, b, grad", BINARY, ids=_ids(BINARY))
def test_binary(name, op, a, b, grad, dtype):
    compare(op, [a, b], dtype, grad=grad)


@pytest.mark.parametrize("name, op, a, b, grad", BINARY, ids=_ids(BINARY))
def test_binary_broadcast_0d_0size_and_non_contiguous(name, op, a, b, grad):
    rng = np.random.default_rng(5)
    compare(op, [np.array(0.5), rng.uniform(0.2, 2, (2, 3))], grad=grad)
    compare(op, [np.zeros((0, 3)), rng.uniform(0.2, 2, (1, 3))], grad=grad)
    x, y = rng.uniform(0.2, 2, (3, 1, 4)), rng.uniform(-1, 2, (2, 4))
    compare(op, [x, y], grad=grad)
    transposed, strided = x[:, 0].T.copy(), rng.uniform(-1, 2, (6, 4))
    compare(lambda ns, p, q: op(ns, p.t(), q[::2]), [transposed, strided], grad=grad)


MIXED = [
    ("xlogy", lambda ns, a, b: ns.xlogy(a, b), ["int64", "int64"]),
    ("xlogy bool", lambda ns, a, b: ns.xlogy(a, b), ["bool", "bool"]),
    ("xlogy int32 float32", lambda ns, a, b: ns.xlogy(a, b), ["int32", "float32"]),
    ("xlogy float32 float64", lambda ns, a, b: ns.xlogy(a, b), ["float32", "float64"]),
    ("ldexp int int", lambda ns, a, b: ns.ldexp(a, b), ["int64", "int64"]),
    ("ldexp float32 int", lambda ns, a, b: ns.ldexp(a, b), ["float32", "int64"]),
    ("ldexp float64 int32", lambda ns, a, b: ns.ldexp(a, b), ["float64", "int32"]),
    ("ldexp float32 float64", lambda ns, a, b: ns.ldexp(a, b), ["float32", "float64"]),
    ("ldexp float64 range", lambda ns, a, b: ns.ldexp(a * 1e-300, b * 400), ["float64", "int64"]),
    ("ldexp float32 range", lambda ns, a, b: ns.ldexp(a * 1e-30, b * 50), ["float32", "int32"]),
    ("ldexp overflow", lambda ns, a, b: ns.ldexp(a, b.double() * 400), ["float64", "int64"]),
    ("nextafter float32 float64", lambda ns, a, b: ns.nextafter(a, b), ["float32", "float64"]),
    ("float_power int", lambda ns, a, b: ns.float_power(a, b), ["int64", "int64"]),
    ("float_power bool", lambda ns, a, b: ns.float_power(a, b), ["bool", "int32"]),
    ("float_power float32", lambda ns, a, b: ns.float_power(a, b), ["float32", "float32"]),
    ("float_power float32 int", lambda ns, a, b: ns.float_power(a, b), ["float32", "int64"]),
    ("heaviside int", lambda ns, a, b: ns.heaviside(a, b), ["int64", "int64"]),
    ("heaviside bool", lambda ns, a, b: ns.heaviside(a, b), ["bool", "bool"]),
]


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
@pytest.mark.parametrize("name, op, dtypes", MIXED, ids=_ids(MIXED))
def test_integer_bool_and_mixed_dtypes_promote_as_in_pytorch(name, op, dtypes):
    a, b = np.array([[0, 1, 2, -3, 4, 0]]), np.array([[1], [0], [3]])
    # PyTorch's gradient of ldexp to x is 2^y formed in int64: right only for 0 ≤ y < 63
    grad = "heaviside" not in name and "range" not in name
    compare(op, [a, np.abs(b)], dtypes, *FLOAT32, grad=grad)


REFUSED = [
    ("frexp int", lambda ns, a: ns.frexp(a), "int64"),
    ("frexp bool", lambda ns, a: a.frexp(), "bool"),
    ("nextafter int", lambda ns, a: ns.nextafter(a, a), "int64"),
    ("nextafter number", lambda ns, a: ns.nextafter(a, 2.0), "float32"),
    ("ldexp number", lambda ns, a: ns.ldexp(a, 2), "float32"),
    ("heaviside number", lambda ns, a: ns.heaviside(a, 0.5), "float32"),
    ("heaviside dtypes", lambda ns, a: ns.heaviside(a, a.double()), "float32"),
    ("heaviside int dtypes", lambda ns, a: ns.heaviside(a, a.int()), "int64"),
    ("xlogy numbers", lambda ns, a: ns.xlogy(2, 3), "float32"),
    ("float_power_ float32", lambda ns, a: a.float_power_(2), "float32"),
    ("float_power_ int", lambda ns, a: a.float_power_(2), "int64"),
    ("logit_ int", lambda ns, a: a.logit_(), "int64"),
]


@pytest.mark.parametrize("name, op, dtype", REFUSED, ids=_ids(REFUSED))
def test_refused_like_pytorch(name, op, dtype):
    raises_like_torch(op, [np.array([1, 2, 3, 0])], dtype)


def test_heaviside_records_a_node_whose_backward_raises_as_in_pytorch():
    for ns in (torch, aprende):
        x = ns.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        y = ns.heaviside(x, ns.tensor([0.5]))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="heaviside"):
            y.sum().backward()


def test_frexp_returns_a_named_pair_as_pytorch():
    x = np.array([3.0, -0.1, 1e-40, 0.0])
    for dtype in ("float32", "float64"):
        ours = aprende.frexp(aprende.tensor(x, dtype=getattr(aprende, dtype)))
        theirs = torch.frexp(torch.tensor(x, dtype=getattr(torch, dtype)))
        np.testing.assert_array_equal(ours.mantissa.numpy(), theirs.mantissa.numpy())
        np.testing.assert_array_equal(ours.exponent.numpy(), theirs.exponent.numpy())


def test_float_power_inplace_on_float64_as_pytorch():
    ours, theirs = aprende.tensor([1.5, -2.0, 0.0]), torch.tensor([1.5, -2.0, 0.0])
    ours, theirs = ours.double(), theirs.double()
    ours.float_power_(3), theirs.float_power_(3)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_methods_and_functions_are_those_pytorch_has():
    from aprende.ops import binary_math, floating_point, math, special

    new = {"nan_to_num", "deg2rad", "rad2deg", "signbit", "heaviside", "float_power", "ldexp"}
    new |= {"frexp", "nextafter", "logit", "xlogy", "sinc"}
    listed = set()
    for module in (math, special, binary_math, floating_point):
        for name in module.TENSOR_METHODS:
            assert hasattr(torch.Tensor, name), name
            assert getattr(aprende, name) is getattr(module, name), name
            listed.add(name)
    assert new <= listed, new - listed
    for name in new:
        assert hasattr(aprende.Tensor, f"{name}_") == hasattr(torch.Tensor, f"{name}_"), name
