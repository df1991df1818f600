"""Elementwise math without PyTorch: values against NumPy and ``math``, every gradient against
finite differences (``gradcheck`` in float64), integer division and remainders against
Python's own operators, erf against ``math.erf`` on a dense grid, and broadcasting over shapes
drawn by hypothesis.

The tables here also drive the PyTorch comparison in test_math_torch.py: each op is written
once against a namespace ``ns`` (``aprende`` here, ``torch`` there).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aprende
from aprende.autograd import gradcheck
from aprende.ops.special import erf_values, erfc_values, erfinv_values

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)

#: How to draw the values of an input so that the op is smooth there.
DOMAINS = {
    "real": lambda rng, shape: rng.standard_normal(shape) * 1.5,
    "nonzero": lambda rng, shape: rng.uniform(0.3, 2.0, shape) * rng.choice([-1, 1], shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    "positive": lambda rng, shape: rng.uniform(0.2, 3.0, shape),
    "above_one": lambda rng, shape: rng.uniform(1.1, 3.0, shape),
    "above_minus_one": lambda rng, shape: rng.uniform(-0.8, 3.0, shape),
    "off_integers": lambda rng, shape: rng.integers(-3, 4, shape) + rng.uniform(0.1, 0.4, shape),
}

_erf = np.vectorize(math.erf)
_erfc = np.vectorize(math.erfc)

# (name, op(ns, a), domain, NumPy reference)
UNARY = [
    ("sin", lambda ns, a: ns.sin(a), "real", np.sin),
    ("cos", lambda ns, a: ns.cos(a), "real", np.cos),
    ("tan", lambda ns, a: ns.tan(a), "unit", np.tan),
    ("asin", lambda ns, a: ns.asin(a), "unit", np.arcsin),
    ("acos", lambda ns, a: ns.acos(a), "unit", np.arccos),
    ("atan", lambda ns, a: ns.atan(a), "real", np.arctan),
    ("sinh", lambda ns, a: ns.sinh(a), "real", np.sinh),
    ("cosh", lambda ns, a: ns.cosh(a), "real", np.cosh),
    ("asinh", lambda ns, a: ns.asinh(a), "real", np.arcsinh),
    ("acosh", lambda ns, a: ns.acosh(a), "above_one", np.arccosh),
    ("atanh", lambda ns, a: ns.atanh(a), "unit", np.arctanh),
    ("arcsin-method", lambda ns, a: a.arcsin(), "unit", np.arcsin),
    ("log2", lambda ns, a: ns.log2(a), "positive", np.log2),
    ("log10", lambda ns, a: ns.log10(a), "positive", np.log10),
    ("log1p", lambda ns, a: ns.log1p(a), "above_minus_one", np.log1p),
    ("expm1", lambda ns, a: ns.expm1(a), "real", np.expm1),
    ("exp2", lambda ns, a: ns.exp2(a), "real", np.exp2),
    ("rsqrt", lambda ns, a: ns.rsqrt(a), "positive", lambda a: 1 / np.sqrt(a)),
    ("reciprocal", lambda ns, a: ns.reciprocal(a), "nonzero", lambda a: 1 / a),
    ("erf", lambda ns, a: ns.erf(a), "real", _erf),
    ("erfc", lambda ns, a: ns.erfc(a), "real", _erfc),
    ("erfinv", lambda ns, a: ns.erfinv(a), "unit", None),
    ("floor", lambda ns, a: ns.floor(a), "off_integers", np.floor),
    ("ceil", lambda ns, a: ns.ceil(a), "off_integers", np.ceil),
    ("trunc", lambda ns, a: ns.trunc(a), "off_integers", np.trunc),
    ("round", lambda ns, a: ns.round(a), "off_integers", np.round),
    ("round-decimals", lambda ns, a: ns.round(a, decimals=1), "off_integers", None),
    ("frac", lambda ns, a: ns.frac(a), "off_integers", lambda a: a - np.trunc(a)),
    ("sign", lambda ns, a: ns.sign(a), "nonzero", np.sign),
]

# (name, op(ns, a, b), domain of a, domain of b, NumPy reference)
BINARY = [
    ("copysign", lambda ns, a, b: ns.copysign(a, b), "nonzero", "nonzero", np.copysign),
    ("logaddexp", lambda ns, a, b: ns.logaddexp(a, b), "real", "real", np.logaddexp),
    ("logaddexp2", lambda ns, a, b: ns.logaddexp2(a, b), "real", "real", np.logaddexp2),
    ("hypot", lambda ns, a, b: ns.hypot(a, b), "nonzero", "real", np.hypot),
    ("atan2", lambda ns, a, b: ns.atan2(a, b), "real", "nonzero", np.arctan2),
    ("arctan2-method", lambda ns, a, b: a.arctan2(b), "real", "nonzero", np.arctan2),
    ("fmax", lambda ns, a, b: ns.fmax(a, b), "real", "real", np.fmax),
    ("fmin", lambda ns, a, b: ns.fmin(a, b), "real", "real", np.fmin),
    ("maximum", lambda ns, a, b: ns.maximum(a, b), "real", "real", np.maximum),
    ("minimum", lambda ns, a, b: ns.minimum(a, b), "real", "real", np.minimum),
    ("remainder", lambda ns, a, b: ns.remainder(a, b), "real", "nonzero", np.remainder),
    ("%", lambda ns, a, b: a % b, "real", "nonzero", np.remainder),
    ("fmod", lambda ns, a, b: ns.fmod(a, b), "real", "nonzero", np.fmod),
    (
        "div-trunc",
        lambda ns, a, b: ns.div(a, b, rounding_mode="trunc"),
        "real",
        "nonzero",
        lambda a, b: np.trunc(a / b),
    ),
    (
        "div-floor",
        lambda ns, a, b: a.div(b, rounding_mode="floor"),
        "real",
        "nonzero",
        np.floor_divide,
    ),
    (
        "lerp-scalar",
        lambda ns, a, b: ns.lerp(a, b, 0.3),
        "real",
        "real",
        lambda a, b: a + 0.3 * (b - a),
    ),
]

# (name, op(ns, a, b, c), domains, NumPy reference)
TERNARY = [
    (
        "lerp",
        lambda ns, a, b, w: ns.lerp(a, b, w),
        ("real", "real", "real"),
        lambda a, b, w: a + w * (b - a),
    ),
    (
        "clamp",
        lambda ns, a, lo, hi: ns.clamp(a, lo, hi),
        ("real", "real", "real"),
        lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi),
    ),
    (
        "clamp-min",
        lambda ns, a, lo, _: a.clamp(min=lo),
        ("real", "real", "real"),
        lambda a, lo, _: np.maximum(a, lo),
    ),
    (
        "clamp-max",
        lambda ns, a, _, hi: ns.clip(a, max=hi),
        ("real", "real", "real"),
        lambda a, _, hi: np.minimum(a, hi),
    ),
]


def draw(domain, shape, seed=0):
    return DOMAINS[domain](np.random.default_rng(seed), shape)


def leaves(arrays):
    return [aprende.tensor(a, dtype=aprende.float64, requires_grad=True) for a in arrays]


def _check(op, reference, arrays):
    inputs = leaves(arrays)
    out = op(aprende, *inputs)
    if reference is not None:
        np.testing.assert_allclose(out.detach().numpy(), reference(*arrays), rtol=1e-13)
    assert gradcheck(lambda *t: op(aprende, *t), inputs, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name, op, domain, reference", UNARY, ids=[r[0] for r in UNARY])
def test_unary_value_and_gradient(name, op, domain, reference):
    _check(op, reference, [draw(domain, (3, 4))])


@pytest.mark.parametrize("name, op, da, db, reference", BINARY, ids=[r[0] for r in BINARY])
def test_binary_value_and_gradient_broadcast(name, op, da, db, reference):
    _check(op, reference, [draw(da, (3, 1, 4)), draw(db, (2, 4), seed=1)])


@pytest.mark.parametrize("name, op, domains, reference", TERNARY, ids=[r[0] for r in TERNARY])
def test_ternary_value_and_gradient_broadcast(name, op, domains, reference):
    shapes = [(2, 3), (3,), (2, 1)]
    _check(
        op,
        reference,
        [draw(d, s, seed=i) for i, (d, s) in enumerate(zip(domains, shapes, strict=True))],
    )


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    row=st.sampled_from([r for r in BINARY if r[0] in ("atan2", "remainder", "copysign")]),
)
def test_binary_broadcasting_over_random_shapes(shapes, row):
    _, op, da, db, reference = row
    a, b = draw(da, shapes.input_shapes[0]), draw(db, shapes.input_shapes[1], seed=1)
    out = op(aprende, *leaves([a, b]))
    assert out.shape == shapes.result_shape
    _check(op, reference, [a, b])


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_lerp_and_clamp_broadcast_three_ways(shapes):
    for _, op, domains, reference in TERNARY[:2]:
        arrays = [
            draw(d, s, seed=i)
            for i, (d, s) in enumerate(zip(domains, shapes.input_shapes, strict=True))
        ]
        assert op(aprende, *leaves(arrays)).shape == shapes.result_shape
        _check(op, reference, arrays)


# ---- erf: accuracy of the kernels -------------------------------------------------------------


def _relative_error(values, reference):
    nonzero = reference != 0
    assert np.array_equal(values[~nonzero], reference[~nonzero])
    return np.max(np.abs(values[nonzero] - reference[nonzero]) / np.abs(reference[nonzero]))


def test_erf_and_erfc_match_math_to_float64_rounding_on_a_dense_grid_with_tails():
    x = np.concatenate(
        [np.linspace(-6, 6, 24001), np.geomspace(1e-300, 1e-2, 300), np.linspace(6, 26, 801)]
    )
    x = np.concatenate([x, -x, [0.0, 0.46875, 4.0]])
    assert _relative_error(erf_values(x), _erf(x)) < 1e-15
    assert _relative_error(erfc_values(x), _erfc(x)) < 2e-15  # the tail down to 1e-296


def test_erf_edges():
    edges = np.array([np.inf, -np.inf, np.nan, 30.0, -30.0])
    np.testing.assert_array_equal(erf_values(edges), [1, -1, np.nan, 1, -1])
    np.testing.assert_array_equal(erfc_values(edges), [0, 2, np.nan, 0, 2])
    np.testing.assert_array_equal(
        erfinv_values(np.array([1, -1, 1.5, np.nan, 0])), [np.inf, -np.inf, np.nan, np.nan, 0]
    )


def test_erfinv_inverts_erf_up_to_the_last_float_below_one():
    x = np.concatenate([np.linspace(-0.999, 0.999, 4001), 1 - np.geomspace(1e-16, 1e-3, 200)])
    x = np.concatenate([x, [np.nextafter(1.0, 0.0)], np.geomspace(1e-300, 1e-3, 50)])
    y = erfinv_values(x)
    small = np.abs(x) < 0.5
    assert _relative_error(erf_values(y[small]), x[small]) < 2e-15
    assert _relative_error(erfc_values(y[~small]), 1 - x[~small]) < 5e-14  # 1 − x exact here


# ---- integer division and remainders: Python's operators as the reference ---------------------

INTEGERS = np.array([7, -7, 6, -6, 0, 1, -1, 13])
DIVISORS = np.array([3, 3, -4, -4, 5, -2, 2, -13])


@pytest.mark.parametrize("dtype", [aprende.int64, aprende.int32])
def test_integer_division_and_remainders_follow_python_and_c(dtype):
    a, b = aprende.tensor(INTEGERS, dtype=dtype), aprende.tensor(DIVISORS, dtype=dtype)
    pairs = list(zip(INTEGERS.tolist(), DIVISORS.tolist(), strict=True))
    for result, expected in [
        (a % b, [x % y for x, y in pairs]),
        (aprende.remainder(a, b), [x % y for x, y in pairs]),
        (a // b, [x // y for x, y in pairs]),
        (aprende.fmod(a, b), [int(math.fmod(x, y)) for x, y in pairs]),
        (a.fmod(b), [int(math.fmod(x, y)) for x, y in pairs]),
        (aprende.div(a, b, rounding_mode="trunc"), [int(x / y) for x, y in pairs]),
        (a.div(b, rounding_mode="floor"), [x // y for x, y in pairs]),
        (7 % b, [7 % y for y in DIVISORS.tolist()]),
        (-7 // b, [-7 // y for y in DIVISORS.tolist()]),
    ]:
        assert result.dtype == dtype
        np.testing.assert_array_equal(result.numpy(), expected)


def test_integer_division_by_zero_raises_as_pytorch():
    a, zero = aprende.tensor([4, 5]), aprende.tensor([1, 0])
    for op in (
        lambda: a % zero,
        lambda: a // 0,
        lambda: aprende.fmod(a, zero),
        lambda: aprende.div(a, 0, rounding_mode="trunc"),
        lambda: 3 % zero,
    ):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op()


def test_float_division_by_zero_gives_inf_and_nan():
    a = aprende.tensor([3.0, -3.0, 0.0])
    np.testing.assert_array_equal((a // 0.0).numpy(), [np.inf, -np.inf, np.nan])
    assert np.isnan((a % 0.0).numpy()).all()


def test_int_with_python_float_promotes_to_the_default_float():
    a = aprende.tensor([5, -5])
    assert (a % 2.5).dtype == aprende.float32 and (a // 2.5).dtype == aprende.float32
    np.testing.assert_array_equal((a // 2.5).numpy(), [2, -2])
    assert (aprende.tensor([1]) + aprende.tensor([1.0])).dtype == aprende.float32


def test_remainder_gradient_is_minus_the_floor_quotient():
    a = aprende.tensor([5.0, -5.0], requires_grad=True)
    b = aprende.tensor([3.0, 3.0], requires_grad=True)
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [-1, 2])


def test_floor_divide_has_no_derivative_but_div_floor_has_zero():
    a = aprende.tensor([1.5, -2.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        (a // 2).sum().backward()
    aprende.div(a, 2, rounding_mode="floor").sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0, 0])


def test_an_unknown_rounding_mode_is_refused():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        aprende.div(aprende.tensor([1.0]), 2, rounding_mode="nearest")


# ---- rounding, signs, ties --------------------------------------------------------------------


def test_round_halves_to_even_and_rounding_keeps_integers():
    x = aprende.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 125.0])
    np.testing.assert_array_equal(x.round().numpy(), [0, 2, 2, -0.0, -2, 1, 125])
    np.testing.assert_array_equal(x.round(decimals=1).numpy()[5], np.float32(1.2))
    np.testing.assert_array_equal(x.round(decimals=-1).numpy()[6], 120)
    i = aprende.tensor([3, -4])
    for op in (aprende.floor, aprende.ceil, aprende.trunc, aprende.round):
        assert op(i).dtype == aprende.int64
        np.testing.assert_array_equal(op(i).numpy(), [3, -4])
    with pytest.raises(NotImplementedError, match="frac"):
        aprende.frac(i)
    with pytest.raises(NotImplementedError, match="floor"):
        aprende.floor(aprende.tensor([True]))


def test_maximum_splits_the_gradient_at_ties_and_gives_it_to_both_at_nan():
    a = aprende.tensor([1.0, 2.0, np.nan], requires_grad=True)
    b = aprende.tensor([1.0, 1.0, 1.0], requires_grad=True)
    aprende.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0, 1])


def test_isclose_infinities_and_nan():
    a = aprende.tensor([1.0, np.nan, np.inf, -np.inf, 1.0])
    b = aprende.tensor([1.0 + 1e-6, np.nan, np.inf, np.inf, 1.1])
    np.testing.assert_array_equal(aprende.isclose(a, b).numpy(), [1, 0, 1, 0, 0])
    assert aprende.isclose(a, b, equal_nan=True).numpy()[1]
    assert aprende.allclose(a[:1], b[:1]) is True
    with pytest.raises(RuntimeError, match="did not match"):
        aprende.isclose(a, b.double())
    with pytest.raises(RuntimeError, match="broadcast"):
        aprende.isclose(a, aprende.ones(2))


def test_inf_tests():
    x = aprende.tensor([np.inf, -np.inf, np.nan, 1.0])
    np.testing.assert_array_equal(x.isinf().numpy(), [1, 1, 0, 0])
    np.testing.assert_array_equal(aprende.isposinf(x).numpy(), [1, 0, 0, 0])
    np.testing.assert_array_equal(x.isneginf().numpy(), [0, 1, 0, 0])
    assert not aprende.isinf(aprende.tensor([1, 2])).numpy().any()
