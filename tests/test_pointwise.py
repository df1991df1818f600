"""Pointwise math without PyTorch: values against NumPy (nan_to_num, deg2rad, signbit,
nextafter, frexp, ldexp, float_power, sinc) or the formula written out (logit, xlogy,
heaviside), every gradient against finite differences (``gradcheck`` in float64), and the
gradients at the edges (0, the clamp bounds, replaced infinities) against their rules.
"""

import math

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck

NAN, INF = np.nan, np.inf
RNG = np.random.default_rng(11)
EXPONENTS = np.array([[-3, 0, 2, 5]])
REAL = RNG.standard_normal((3, 4)) * 2
POSITIVE = RNG.uniform(0.2, 3.0, (3, 4))
PROBABILITY = RNG.uniform(0.05, 0.95, (3, 4))
SPECIAL = np.array([-2.5, -0.0, 0.0, 0.3, 1e-310, NAN, INF, -INF])


def _tensor(values, requires_grad=False, dtype=aprende.float64):
    return aprende.tensor(np.asarray(values), dtype=dtype, requires_grad=requires_grad)


# (name, op(a), NumPy reference, values)
UNARY = [
    ("nan_to_num", aprende.nan_to_num, np.nan_to_num, SPECIAL),
    (
        "nan_to_num numbers",
        lambda a: a.nan_to_num(nan=1.5, posinf=2.0, neginf=-3.0),
        lambda a: np.nan_to_num(a, nan=1.5, posinf=2.0, neginf=-3.0),
        SPECIAL,
    ),
    ("deg2rad", aprende.deg2rad, np.deg2rad, SPECIAL),
    ("rad2deg", lambda a: a.rad2deg(), np.rad2deg, SPECIAL),
    ("signbit", aprende.signbit, np.signbit, SPECIAL),
    ("sinc", aprende.sinc, np.sinc, np.concatenate([REAL.ravel(), [0.0, -0.0, 1.0, 2.0]])),
    ("logit", aprende.logit, lambda p: np.log(p) - np.log1p(-p), PROBABILITY),
    ("logit eps", lambda a: a.logit(eps=0.2), lambda p: np.log(p / (1 - p)), None),
]


@pytest.mark.parametrize("name, op, reference, values", UNARY, ids=[r[0] for r in UNARY])
def test_values_against_numpy(name, op, reference, values):
    if values is None:  # the clamp: values beyond the bounds give the bounds' logits
        values, expected = np.array([0.0, 0.1, 0.5, 0.9, 1.0]), None
        expected = reference(np.clip(values, 0.2, 0.8))
    else:
        expected = reference(values)
    with np.errstate(all="ignore"):
        result = op(_tensor(values)).numpy()
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-300)


def test_integer_inputs_give_the_default_float_and_nan_to_num_keeps_them():
    ints = _tensor([-2, 0, 3], dtype=aprende.int64)
    for op in (aprende.deg2rad, aprende.rad2deg, aprende.sinc, aprende.logit):
        assert op(ints).dtype == aprende.float32
    assert aprende.nan_to_num(ints).dtype == aprende.int64
    np.testing.assert_array_equal(aprende.signbit(ints).numpy(), [True, False, False])


def test_nan_to_num_defaults_are_the_dtypes_finite_extremes():
    for dtype in (aprende.float32, aprende.float64):
        out = aprende.nan_to_num(_tensor([NAN, INF, -INF], dtype=dtype)).numpy()
        limits = np.finfo(out.dtype)
        np.testing.assert_array_equal(out, [0.0, limits.max, limits.min])


def test_heaviside_is_the_step_with_the_given_value_at_zero():
    x = _tensor([[-3.0, -0.0, 0.0, 2.0, NAN]])
    values = _tensor([[0.5], [7.0]])
    expected = [[0.0, 0.5, 0.5, 1.0, 0.0], [0.0, 7.0, 7.0, 1.0, 0.0]]
    np.testing.assert_array_equal(aprende.heaviside(x, values).numpy(), expected)


def test_float_power_computes_in_float64():
    base = _tensor([3.0, 1.1, 0.5], dtype=aprende.float32)
    out = aprende.float_power(base, 7)
    assert out.dtype == aprende.float64
    np.testing.assert_array_equal(out.numpy(), np.float_power(base.numpy(), 7))
    np.testing.assert_array_equal(
        aprende.float_power(2, _tensor([0.5, -1.0])).numpy(), [math.sqrt(2), 0.5]
    )


def test_ldexp_frexp_and_nextafter_against_numpy():
    x = np.array([3.0, -0.1, 1e-300, 0.0, 6e300, INF, NAN])
    mantissa, exponent = aprende.frexp(_tensor(x))
    np.testing.assert_array_equal(mantissa.numpy(), np.frexp(x)[0])
    np.testing.assert_array_equal(exponent.numpy(), np.frexp(x)[1])
    assert exponent.dtype == aprende.int32
    np.testing.assert_array_equal(aprende.ldexp(mantissa, exponent).numpy(), x)
    y = np.array([INF, -INF, 0.0, 1.0, 0.0, 0.0, 1.0])
    after = aprende.nextafter(_tensor(x), _tensor(y))
    np.testing.assert_array_equal(after.numpy(), np.nextafter(x, y))


def test_xlogy_is_x_log_y_with_zero_at_x_zero_unless_y_is_nan():
    x = np.array([0.0, 0.0, 0.0, 0.0, 2.0, -1.5])
    y = np.array([0.0, INF, -1.0, NAN, 3.0, 0.5])
    expected = [0.0, 0.0, 0.0, NAN, 2.0 * math.log(3.0), -1.5 * math.log(0.5)]
    np.testing.assert_allclose(aprende.xlogy(_tensor(x), _tensor(y)).numpy(), expected)
    np.testing.assert_allclose(aprende.xlogy(3, _tensor([2.0])).numpy(), [3 * math.log(2)])


# (name, function of float64 tensors, input values): every differentiable op
GRADCHECK = [
    ("nan_to_num", lambda a: aprende.nan_to_num(a, nan=2.0), [REAL]),
    ("deg2rad", aprende.deg2rad, [REAL]),
    ("rad2deg", lambda a: a.rad2deg(), [REAL]),
    ("sinc", aprende.sinc, [np.append(REAL.ravel(), 0.0)]),
    ("logit", aprende.logit, [PROBABILITY]),
    ("logit eps", lambda a: a.logit(eps=0.3), [PROBABILITY]),
    ("xlogy", aprende.xlogy, [REAL, POSITIVE]),
    ("xlogy broadcast", lambda a, b: a.xlogy(b), [REAL[:1], POSITIVE[:, :1]]),
    ("float_power", aprende.float_power, [POSITIVE, REAL]),
    ("float_power number", lambda a: a.float_power(2.5), [POSITIVE]),
    ("ldexp", aprende.ldexp, [REAL, REAL]),
    ("ldexp integer exponent", lambda a: a.ldexp(_tensor(EXPONENTS, dtype=aprende.int64)), [REAL]),
    ("nextafter", aprende.nextafter, [REAL, REAL + 1]),
    ("frexp mantissa", lambda a: aprende.frexp(a).mantissa, [REAL]),
]


@pytest.mark.parametrize("name, fn, values", GRADCHECK, ids=[r[0] for r in GRADCHECK])
def test_gradients_against_finite_differences(name, fn, values):
    inputs = [_tensor(v, requires_grad=True) for v in values]
    assert gradcheck(fn, inputs)


def _grad(fn, *values):
    inputs = [_tensor(v, requires_grad=True) for v in values]
    with np.errstate(all="ignore"):
        fn(*inputs).sum().backward()
    return [t.grad.numpy() for t in inputs]


def test_gradients_at_the_edges():
    (nan_to_num,) = _grad(aprende.nan_to_num, [NAN, INF, -INF, 1.0])
    np.testing.assert_array_equal(nan_to_num, [0.0, 0.0, 0.0, 1.0])
    (sinc,) = _grad(aprende.sinc, [0.0, -0.0, 1e-200])
    np.testing.assert_array_equal(sinc, [0.0, 0.0, 0.0])
    (logit,) = _grad(aprende.logit, [0.0, 1.0, -0.5, 0.5])
    np.testing.assert_array_equal(logit, [INF, INF, NAN, 4.0])
    (clamped,) = _grad(lambda a: a.logit(eps=0.1), [0.05, 0.1, 0.5, 0.95])
    np.testing.assert_allclose(clamped, [0.0, 1 / 0.09, 4.0, 0.0])
    grad_x, grad_y = _grad(aprende.xlogy, [0.0, 0.0, 0.0, 2.0], [0.0, -1.0, 2.0, 4.0])
    np.testing.assert_allclose(grad_x, [0.0, 0.0, math.log(2.0), math.log(4.0)])
    np.testing.assert_allclose(grad_y, [NAN, -0.0, 0.0, 0.5])
    exponents = _tensor([-2, 0, 3], dtype=aprende.int32)
    (ldexp,) = _grad(lambda a: aprende.ldexp(a, exponents), [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(ldexp, [0.25, 1.0, 8.0])
    grad_x, grad_y = _grad(aprende.nextafter, [1.0, 2.0], [1.0, 3.0])
    np.testing.assert_array_equal(grad_x, [0.0, 1.0])
    np.testing.assert_array_equal(grad_y, [0.0, 0.0])


def test_heaviside_backward_raises():
    y = aprende.heaviside(_tensor([1.0, 0.0], requires_grad=True), _tensor([0.5]))
    with pytest.raises(RuntimeError, match="heaviside"):
        y.sum().backward()


def test_float_power_gradient_returns_to_a_float32_input():
    base = _tensor([1.5, 2.0], requires_grad=True, dtype=aprende.float32)
    aprende.float_power(base, 3).sum().backward()
    assert base.grad.dtype == aprende.float32
    np.testing.assert_allclose(base.grad.numpy(), [3 * 1.5**2, 3 * 2.0**2])


def test_inplace_twins_write_into_the_tensor():
    x = _tensor([NAN, 30.0, -INF])
    assert x.nan_to_num_().deg2rad_() is x
    np.testing.assert_allclose(x.numpy(), [0.0, math.pi / 6, math.radians(np.finfo(float).min)])
    with pytest.raises(RuntimeError, match="float_power_"):
        _tensor([2.0], dtype=aprende.float32).float_power_(2)


# (name, op(a, b)) on a ∈ (0.05, 0.95) and b ∈ (0.2, 3): each op once on every device
ON_DEVICE = {
    "nan_to_num": lambda a, b: a.nan_to_num() + b.nan_to_num(nan=1.0, posinf=2.0),
    "deg2rad_rad2deg": lambda a, b: a.deg2rad() + b.rad2deg(),
    "signbit_heaviside": lambda a, b: aprende.heaviside(a - 0.5, b[:1]) * (a - 0.5).signbit(),
    "float_power": lambda a, b: a.float_power(b).float(),
    "ldexp_frexp": lambda a, b: a.ldexp(b) + aprende.frexp(b).mantissa.ldexp(b.long()),
    "nextafter": lambda a, b: a.nextafter(b),
    "logit_xlogy_sinc": lambda a, b: a.logit(eps=0.1) + a.xlogy(b) + b.sinc(),
}


@pytest.mark.parametrize("name", sorted(ON_DEVICE))
def test_op_matches_cpu(name, device):
    a, b = PROBABILITY.astype(np.float32), POSITIVE.astype(np.float32)
    differentiable = name != "signbit_heaviside"
    results = []
    for dev in ("cpu", device):
        ta = aprende.tensor(a, requires_grad=differentiable, device=dev)
        tb = aprende.tensor(b, requires_grad=differentiable, device=dev)
        with np.errstate(all="ignore"):
            out = ON_DEVICE[name](ta, tb)
            assert out.device == dev
            results.append([out.detach().cpu().numpy()])
            if differentiable:
                (out * aprende.tensor(b, device=dev)).sum().backward()
                results[-1] += [ta.grad.cpu().numpy(), tb.grad.cpu().numpy()]
    for cpu_array, dev_array in zip(*results, strict=True):
        np.testing.assert_allclose(dev_array, cpu_array, rtol=1e-6, atol=1e-6)
