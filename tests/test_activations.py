"""Activations without PyTorch: gradients against finite differences, the formulas written out
in NumPy beside them, erf against ``math.erf``, stability for large |x|, and the names the MLP
and the run settings accept.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F
from aprende.ops.special import erf_values, erfc_values

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
rng = np.random.default_rng(3)


def x64(*shape, scale=2.0, away_from=()):
    """float64 values; at least 0.05 away from each kink in ``away_from`` (finite differences
    straddling a kink measure neither side)."""
    x = rng.normal(scale=scale, size=shape)
    for kink in away_from:
        x = np.where(np.abs(x - kink) < 0.05, kink + 0.1, x)
    return aprende.tensor(x, dtype=aprende.float64, requires_grad=True)


def phi(x):
    """The normal CDF Φ(x) = erfc(−x/√2)/2 (1 + erf would lose Φ's digits for x < 0)."""
    return 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# (name, op, NumPy formula, kinks)
ROWS = [
    ("gelu", F.gelu, lambda x: x * phi(x), ()),
    (
        "gelu-tanh",
        lambda a: F.gelu(a, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        (),
    ),
    ("silu", F.silu, lambda x: x * sigmoid(x), ()),
    ("softplus", F.softplus, lambda x: np.log1p(np.exp(x)), ()),
    (
        "softplus-beta",
        lambda a: F.softplus(a, beta=2.0, threshold=1.0),
        lambda x: np.where(2 * x > 1, x, np.log1p(np.exp(2 * x)) / 2),
        (0.5,),
    ),
    ("elu", lambda a: F.elu(a, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)), (0,)),
    (
        "selu",
        F.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
        (0,),
    ),
    ("celu", lambda a: F.celu(a, 2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)), ()),
    ("hardtanh", lambda a: F.hardtanh(a, -0.5, 2.0), lambda x: np.clip(x, -0.5, 2), (-0.5, 2)),
    ("relu6", F.relu6, lambda x: np.clip(x, 0, 6), (0, 6)),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3, 3)),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), (-3, 3)),
    ("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), ()),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), ()),
    ("logsigmoid", F.logsigmoid, lambda x: np.log(sigmoid(x)), ()),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), (0,)),
]


@pytest.mark.parametrize("name, op, formula, kinks", ROWS, ids=[r[0] for r in ROWS])
def test_values_and_gradcheck(name, op, formula, kinks):
    x = x64(4, 5, scale=4, away_from=kinks)
    np.testing.assert_allclose(op(x).detach().numpy(), formula(x.detach().numpy()), rtol=1e-12)
    assert gradcheck(op, (x,), atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize(
    "op",
    [
        lambda a: F.softmin(a, 1),
        lambda a: F.glu(a, 1),
        lambda a: F.glu(a, -1),
        F.normalize,
        lambda a: F.normalize(a, p=1.0, dim=0),
        lambda a: F.normalize(a, p=3.0, dim=(0, 1)),
        lambda a: F.normalize(a, p=math.inf, dim=1),
    ],
    ids=["softmin", "glu-1", "glu-last", "normalize", "normalize-p1", "normalize-p3", "inf"],
)
def test_along_a_dimension_gradcheck(op):
    assert gradcheck(op, (x64(3, 4, 2),), atol=1e-7, rtol=1e-5)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_glu_normalize_softmin_on_random_shapes(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = x64(*shape)
    values = x.detach().numpy()
    np.testing.assert_allclose(
        F.softmin(x, dim).detach().numpy(), F.softmax(-x, dim).detach().numpy(), rtol=1e-14
    )
    norm = np.sqrt((values**2).sum(axis=dim, keepdims=True))
    np.testing.assert_allclose(F.normalize(x, dim=dim).detach().numpy(), values / norm)
    assert gradcheck(lambda a: F.normalize(a, dim=dim), (x,), atol=1e-7, rtol=1e-5)
    if shape[dim] % 2 == 0:
        a, b = np.split(values, 2, axis=dim)
        np.testing.assert_allclose(F.glu(x, dim).detach().numpy(), a * sigmoid(b), rtol=1e-14)
        assert gradcheck(lambda t: F.glu(t, dim), (x,), atol=1e-7, rtol=1e-5)


def test_normalize_keeps_an_all_zero_slice_at_zero_with_a_zero_gradient():
    x = aprende.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=aprende.float64, requires_grad=True)
    out = F.normalize(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), [[0, 0], [0.6, 0.8]])
    np.testing.assert_array_equal(x.grad.numpy()[0], [1e12, 1e12])  # 1/ε: the clamped norm
    assert np.isfinite(x.grad.numpy()).all()


# ---- the kinks: PyTorch's one-sided derivatives ----------------------------------------------


@pytest.mark.parametrize(
    "op, at, expected",
    [
        (F.relu, [0.0], [0.0]),
        (lambda a: F.leaky_relu(a, 0.2), [0.0], [0.2]),
        (lambda a: F.elu(a, 2.0), [0.0], [2.0]),
        (lambda a: F.celu(a, 2.0), [0.0], [1.0]),
        (F.selu, [0.0], [1.0507009873554805 * 1.6732632423543772]),
        (F.hardtanh, [-1.0, 1.0], [0.0, 0.0]),
        (F.relu6, [0.0, 6.0], [0.0, 0.0]),
        (F.hardsigmoid, [-3.0, 3.0], [0.0, 0.0]),
        (F.hardswish, [-3.0, 3.0], [0.0, 1.0]),
        (F.softplus, [20.0, 20.5], [1 / (1 + math.exp(-20)), 1.0]),
    ],
    ids=["relu", "leaky", "elu", "celu", "selu", "hardtanh", "relu6", "hsig", "hswish", "sp"],
)
def test_derivative_at_the_kinks(op, at, expected):
    x = aprende.tensor(at, dtype=aprende.float64, requires_grad=True)
    op(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15)


# ---- stability --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [aprende.float64, aprende.float32])
@pytest.mark.parametrize(
    "op",
    [F.gelu, F.silu, F.softplus, F.mish, F.logsigmoid, F.selu, F.elu, F.celu, F.softsign],
    ids=["gelu", "silu", "softplus", "mish", "logsigmoid", "selu", "elu", "celu", "softsign"],
)
def test_large_inputs_give_finite_values_and_gradients_without_warnings(op, dtype):
    x = aprende.tensor([-1e30, -3e4, -800.0, -90.0, 90.0, 800.0, 3e4, 1e30], dtype=dtype)
    x.requires_grad_(True)
    with np.errstate(all="raise", under="ignore"):
        out = op(x)
        out.backward(aprende.ones(8, dtype=dtype))
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


def test_logsigmoid_and_softplus_keep_their_tails():
    x = aprende.tensor([-800.0, 800.0], dtype=aprende.float64)
    np.testing.assert_array_equal(F.logsigmoid(x).numpy(), [-800.0, 0.0])
    np.testing.assert_array_equal(F.softplus(-x).numpy(), [800.0, 0.0])


def test_gelu_keeps_relative_accuracy_far_left():
    """x·Φ(x) from erfc, not 1 + erf (which rounds Φ(−8) ≈ 6e−16 to a multiple of 1.1e−16:
    a 10% error). What is left is erfc's conditioning, 2z² times the rounding of z = 8/√2."""
    expected = -8 * 0.5 * math.erfc(8 / math.sqrt(2))
    got = F.gelu(aprende.tensor([-8.0], dtype=aprende.float64)).item()
    assert abs(got - expected) <= 1e-13 * abs(expected)


# ---- erf --------------------------------------------------------------------------------------


def test_erf_edges_and_dtypes():
    edges = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, 30.0, -30.0])
    np.testing.assert_array_equal(erf_values(edges), [-1, 1, np.nan, 0, -0.0, 1, -1])
    np.testing.assert_array_equal(erfc_values(edges), [2, 0, np.nan, 1, 1, 0, 2])
    assert np.signbit(erf_values(np.array([-0.0])))[0]
    assert erf_values(np.float32([0.5])).dtype == np.float64  # computed in float64


# ---- names: functional, top level, modules, the MLP's table -----------------------------------


def test_top_level_names_are_pytorchs():
    x = x64(5)
    np.testing.assert_array_equal(aprende.selu(x).detach().numpy(), F.selu(x).detach().numpy())
    celu = aprende.celu(x, 0.5).detach().numpy()
    np.testing.assert_array_equal(celu, F.celu(x, 0.5).detach().numpy())


NEW_NAMES = "gelu silu mish softplus elu selu celu hardtanh relu6 hardsigmoid hardswish softsign"


@pytest.mark.parametrize("name", [*NEW_NAMES.split(), "logsigmoid"])
def test_mlp_accepts_every_activation_name(name):
    model = nn.MLP(3, [4, 4], 2, activation=name)
    kind = type(nn.mlp.ACTIVATIONS[name]())
    assert [type(m) for m in model if isinstance(m, kind)] == [kind, kind]
    assert model(aprende.randn(2, 3)).shape == (2, 2)


def test_run_settings_accept_the_new_activation_names():
    from aprende.config import RunConfig

    assert RunConfig.from_sources(flags={"activation": "gelu"}).activation == "gelu"


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_gradient_is_exactly_zero_or_the_upstream_gradient(dtype):
    """0 where y ≤ 0 even for an inf or nan upstream gradient (0 · inf would be nan), the
    upstream gradient itself elsewhere and where the input is nan, as PyTorch's
    threshold_backward."""
    from aprende.ops.activation import relu_derivative

    y = np.array([[-1.0, 0.0, 2.0, np.nan], [0.5, -0.0, -3.0, 1.0]], dtype)
    grad = np.array([[np.inf, np.nan, -2.5, 7.0], [np.nan, -np.inf, 1.0, -0.0]], dtype)
    expected = np.where(y <= 0, dtype(0), grad)
    got = relu_derivative(grad, y)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert not np.signbit(got[y <= 0]).any()  # +0, as where(y <= 0, 0, g)
    x = aprende.tensor(np.array([-1.0, 2.0, np.nan], dtype), requires_grad=True)
    F.relu(x).backward(aprende.tensor(np.array([np.inf, 3.0, 4.0], dtype)))
    np.testing.assert_array_equal(x.grad.numpy(), np.array([0.0, 3.0, 4.0], dtype))
