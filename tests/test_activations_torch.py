"""Activations against PyTorch: value, dtype, shape and gradient, row by row.

Each row is the PyTorch call written once for both namespaces (``ns.nn.functional.gelu(a)``);
the harness checks the output and the gradient of a random upstream gradient. Inputs include
±inf and nan, the kinks (0, the hardtanh bounds, ±3, softplus's threshold), 0-d and 0-size
tensors, non-contiguous views, float32 and float16, and integer inputs.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402
from aprende import nn  # noqa: E402

rng = np.random.default_rng(0)
WIDE = rng.normal(scale=4, size=(5, 6))
SPECIAL = np.array([-math.inf, math.inf, math.nan, 0.0, -0.0, 1e-300, -1e-300, 745.0, -745.0])
#: PyTorch's CPU kernels treat nan differently in their vectorised body and their scalar tail
#: (hardtanh's gradient at nan is 0 in one and 1 in the other); 64 elements leave no tail.
SPECIAL_64 = np.resize(SPECIAL, 64)
KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 10.0, 20.0, -20.0])
HUGE = np.array([-1e30, -1e4, -800.0, -50.0, 50.0, 800.0, 1e4, 1e30])


def f(name, **options):
    """``ns.nn.functional.<name>(a, **options)``."""
    return lambda ns, a: getattr(ns.nn.functional, name)(a, **options)


ELEMENTWISE = {
    "gelu": f("gelu"),
    "gelu-tanh": f("gelu", approximate="tanh"),
    "silu": f("silu"),
    "softplus": f("softplus"),
    "softplus-beta": f("softplus", beta=2.0, threshold=10.0),
    "softplus-negative-beta": f("softplus", beta=-0.5),
    "elu": f("elu"),
    "elu-alpha": f("elu", alpha=0.3),
    "selu": f("selu"),
    "celu": f("celu"),
    "celu-alpha": f("celu", alpha=2.5),
    "hardtanh": f("hardtanh"),
    "hardtanh-bounds": f("hardtanh", min_val=-0.5, max_val=3.0),
    "relu6": f("relu6"),
    "hardsigmoid": f("hardsigmoid"),
    "hardswish": f("hardswish"),
    "mish": f("mish"),
    "softsign": f("softsign"),
    "logsigmoid": f("logsigmoid"),
    "relu": f("relu"),
    "leaky_relu": f("leaky_relu", negative_slope=0.2),
    "sigmoid": lambda ns, a: ns.sigmoid(a),
    "tanh": lambda ns, a: ns.tanh(a),
    "torch.selu": lambda ns, a: ns.selu(a),
    "torch.celu": lambda ns, a: ns.celu(a, 0.7),
    "method-relu": lambda ns, a: a.relu(),
    "method-sigmoid": lambda ns, a: a.sigmoid(),
}

#: Softplus' threshold: PyTorch's log1p(e^(βx)) overflows above βx ≈ 709, which the stable
#: form does not; ±745 and the huge values stay under the default threshold's other branch.
CASES = [
    ("wide-float64", [WIDE], "float64"),
    ("wide-float32", [WIDE], "float32"),
    ("special", [SPECIAL_64], "float64"),
    ("special-float32", [SPECIAL_64], "float32"),
    ("kinks", [KINKS], "float64"),
    ("huge", [HUGE], "float64"),
    ("0-d", [np.array(-0.7)], "float64"),
    ("0-size", [np.zeros((0, 3))], "float64"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_activation_matches_torch(name, case):
    if name == "gelu" and case[0] == "special-float32":
        pytest.skip("PyTorch's float32 kernel gives gelu(inf) = nan (float64: inf, as here)")
    _, arrays, dtype = case
    compare(ELEMENTWISE[name], arrays, dtype)


def test_no_warning_for_any_input_of_any_activation():
    x = aprende.tensor(np.concatenate([SPECIAL, KINKS, HUGE]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for op in ELEMENTWISE.values():
            x.grad = None
            out = op(aprende, x)
            out.backward(aprende.tensor(np.linspace(-1, 1, x.shape[0])))
            finite = np.isfinite(x.detach().numpy())
            assert np.isfinite(x.grad.numpy()[finite]).all()


@pytest.mark.parametrize("name", ["gelu", "silu", "softplus", "elu", "hardswish", "mish"])
def test_float16_matches_torch(name):
    compare(ELEMENTWISE[name], [WIDE / 2], "float16")


def test_non_contiguous_inputs():
    compare(lambda ns, a: ns.nn.functional.gelu(a.t()), [WIDE])
    compare(lambda ns, a: ns.nn.functional.hardswish(a[:, ::2]), [WIDE])
    compare(lambda ns, a: ns.nn.functional.glu(a.t(), 0), [WIDE])


INTEGER_OK = [
    "relu",
    "hardtanh",
    "hardtanh-bounds",
    "relu6",
    "softsign",
    "sigmoid",
    "tanh",
    "method-relu",
    "method-sigmoid",
]


@pytest.mark.parametrize("name", INTEGER_OK)
def test_integer_inputs_where_torch_accepts_them(name):
    x = np.array([-7, -3, -1, 0, 1, 2, 5, 9])
    compare(ELEMENTWISE[name], [x], "int64", rtol=2e-5, atol=1e-6, grad=False)


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if n not in INTEGER_OK])
def test_integer_and_bool_inputs_refused_like_torch(name):
    raises_like_torch(ELEMENTWISE[name], [np.array([1, 0, 2])], "int64")
    raises_like_torch(ELEMENTWISE[name], [np.array([1, 0, 1])], "bool")


@pytest.mark.parametrize("name", ["relu", "hardtanh", "relu6", "softsign"])
def test_bool_inputs_refused_like_torch(name):
    raises_like_torch(ELEMENTWISE[name], [np.array([1, 0, 1])], "bool")


# ---- along a dimension: softmin, glu, normalize, softmax, log_softmax ------------------------

X3 = rng.normal(size=(2, 4, 6))
ALONG = [
    ("softmin", lambda ns, a: ns.nn.functional.softmin(a, 1), [X3]),
    ("softmin-negative-dim", lambda ns, a: ns.nn.functional.softmin(a, -1), [X3]),
    ("softmin-dtype", lambda ns, a: ns.nn.functional.softmin(a, 0, dtype=ns.float64), [X3]),
    ("softmin-special", lambda ns, a: ns.nn.functional.softmin(a, 0), [SPECIAL]),
    ("glu", lambda ns, a: ns.nn.functional.glu(a), [X3]),
    ("glu-dim", lambda ns, a: ns.nn.functional.glu(a, 1), [X3]),
    ("glu-special", lambda ns, a: ns.nn.functional.glu(a, 0), [SPECIAL[:8]]),
    ("glu-0-size", lambda ns, a: ns.nn.functional.glu(a, 1), [np.zeros((0, 4))]),
    ("normalize", lambda ns, a: ns.nn.functional.normalize(a), [X3]),
    ("normalize-dim", lambda ns, a: ns.nn.functional.normalize(a, dim=-1), [X3]),
    ("normalize-dims", lambda ns, a: ns.nn.functional.normalize(a, dim=(0, 2)), [X3]),
    ("normalize-p1", lambda ns, a: ns.nn.functional.normalize(a, p=1.0), [X3]),
    ("normalize-p3", lambda ns, a: ns.nn.functional.normalize(a, p=3), [X3]),
    ("normalize-p0.5", lambda ns, a: ns.nn.functional.normalize(a, p=0.5), [X3]),
    ("normalize-pinf", lambda ns, a: ns.nn.functional.normalize(a, p=math.inf), [X3]),
    ("normalize-p-inf", lambda ns, a: ns.nn.functional.normalize(a, p=-math.inf), [X3]),
    ("normalize-p0", lambda ns, a: ns.nn.functional.normalize(a, p=0), [X3]),
    *[
        (
            f"normalize-zero-rows-p{p}",
            lambda ns, a, p=p: ns.nn.functional.normalize(a, p=p, dim=1),
            [np.array([[0.0, 0.0, 0.0], [1e-13, 0.0, -2e-13], [3.0, 0.0, -4.0], [2, -2, 1]])],
        )
        for p in (2.0, 1.0, 0.5, 3.0, math.inf)
    ],
    ("normalize-eps", lambda ns, a: ns.nn.functional.normalize(a, eps=0.5), [X3 / 10]),
    ("normalize-0-d", lambda ns, a: ns.nn.functional.normalize(a, dim=0), [np.array(-2.0)]),
    ("normalize-t", lambda ns, a: ns.nn.functional.normalize(a.t(), dim=0), [WIDE]),
    ("softmax", lambda ns, a: ns.softmax(a, 1), [X3]),
    ("log_softmax", lambda ns, a: ns.log_softmax(a, -1), [X3]),
    ("method-softmax", lambda ns, a: a.softmax(0), [X3]),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce")  # the loss: ∞ − ∞
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("row", ALONG, ids=[r[0] for r in ALONG])
def test_along_a_dimension_matches_torch(row, dtype):
    _, op, arrays = row
    compare(op, arrays, dtype)


@pytest.mark.parametrize(
    "op, arrays",
    [
        (lambda ns, a: ns.nn.functional.glu(a, 1), [np.zeros((2, 3))]),
        (lambda ns, a: ns.nn.functional.glu(a), [np.array(1.0)]),
        (lambda ns, a: ns.nn.functional.glu(a, 2), [np.zeros((2, 4))]),
        (lambda ns, a: ns.nn.functional.softmin(a, 3), [np.zeros((2, 4))]),
        (lambda ns, a: ns.nn.functional.normalize(a, dim=3), [np.zeros((2, 4))]),
        (lambda ns, a: ns.nn.functional.normalize(a.long()), [np.zeros((2, 4))]),
        (lambda ns, a: ns.nn.functional.gelu(a, approximate="erf"), [np.zeros(2)]),
        (lambda ns, a: ns.nn.functional.celu(a, 0.0), [np.zeros(2)]),
        (lambda ns, a: ns.nn.functional.hardtanh(a, 1.0, -1.0), [np.zeros(2)]),
    ],
    ids="glu-odd glu-0-d glu-dim softmin-dim normalize-dim normalize-int gelu-approximate "
    "celu-alpha-0 hardtanh-bounds".split(),
)
def test_errors_like_torch(op, arrays):
    raises_like_torch(op, arrays)


def test_softmin_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = aprende.nn.functional.softmin(aprende.tensor(X3[0]))
    expected = torch.nn.functional.softmin(torch.tensor(X3[0]), 1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)


def test_softplus_beyond_a_large_threshold_stays_finite():
    """PyTorch's log1p(e^(βx)) is inf here; the stable form gives x (the true value)."""
    x = aprende.tensor([800.0, -800.0], dtype=aprende.float64, requires_grad=True)
    out = aprende.nn.functional.softplus(x, threshold=1000.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), [800.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


# ---- modules: repr, forward, gradient ---------------------------------------------------------

MODULES = [
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("SiLU", {"inplace": True}),
    ("Mish", {"inplace": True}),
    ("Softplus", {}),
    ("Softplus", {"beta": 2, "threshold": 10}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5, "inplace": True}),
    ("CELU", {"alpha": 2.0}),
    ("SELU", {"inplace": True}),
    ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -2, "max_val": 3, "inplace": True}),
    ("ReLU6", {}),
    ("ReLU6", {"inplace": True}),
    ("Hardsigmoid", {"inplace": True}),
    ("Hardswish", {}),
    ("Softsign", {}),
    ("LogSigmoid", {}),
    ("Softmin", {"dim": 1}),
    ("Softmin", {"dim": -1}),
    ("GLU", {}),
    ("GLU", {"dim": 1}),
    ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
]


@pytest.mark.parametrize("name, kwargs", MODULES, ids=[f"{m}-{k}" for m, k in MODULES])
def test_module_matches_torch(name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert vars(ours).keys() >= {k for k in vars(theirs) if not k.startswith("_")} - {"training"}
    # a * 1: PyTorch's inplace modules cannot change a leaf that requires grad
    compare(lambda ns, a: (ours if ns is aprende else theirs)(a * 1), [X3 * 3], "float32")


def test_hardtanh_module_refuses_crossed_bounds_like_torch():
    with pytest.raises(AssertionError):
        torch.nn.Hardtanh(1.0, -1.0)
    with pytest.raises(AssertionError, match=r"Hardtanh: max_val \(-1.0\) must be greater"):
        nn.Hardtanh(1.0, -1.0)
