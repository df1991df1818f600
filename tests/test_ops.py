"""Every differentiable op: forward against NumPy, backward against finite differences.

One table of (op, NumPy reference) rows drives the tests (minitorch style): adding an op means
adding a row. Shapes are drawn by hypothesis, broadcasting included; gradients are checked in
float64 with ``gradcheck`` (central differences of the whole Jacobian).
"""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import aprende
from aprende.autograd import gradcheck

# the device fixture is the same for every example: hypothesis may share it
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _values(rng, shape, domain):
    if domain == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    x = rng.standard_normal(shape)
    if domain == "away_from_zero":  # keep off kinks (abs, relu, sign, clamp bounds) by > 0.1
        x = np.where(np.abs(x) < 0.1, 0.1 + np.abs(x), x) * np.where(rng.random(shape) < 0.5, -1, 1)
    return x


def _tensors(arrays):
    return [aprende.tensor(a, dtype=aprende.float64, requires_grad=True) for a in arrays]


def _check(op, reference, arrays, atol=1e-6, *, device="cpu"):
    """The op against its NumPy reference and its gradient against finite differences on the
    CPU; on another device, the same values and gradients (random upstream) as the CPU's."""
    inputs = _tensors(arrays)
    out = op(*inputs)
    np.testing.assert_allclose(out.detach().numpy(), reference(*arrays), rtol=1e-10, atol=1e-12)
    assert gradcheck(op, inputs, atol=atol, rtol=1e-4)
    if device == "cpu" or not out.requires_grad:
        return
    runs = []
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    for dev in ("cpu", device):
        leaves = [aprende.tensor(a, dtype=aprende.float64, requires_grad=True, device=dev)
                  for a in arrays]  # fmt: skip
        result = op(*leaves)
        assert result.device == dev
        result.backward(aprende.tensor(upstream, device=dev))
        runs.append([result.detach().cpu().numpy()] + [t.grad.cpu().numpy() for t in leaves])
    for expected, got in zip(*runs, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.fixture
def check(device):
    """``_check`` on each device in turn."""
    return functools.partial(_check, device=device)


def _stable_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Each op is written once against a namespace ``ns``: ``aprende`` here, ``torch`` in the PyTorch
# comparison below. (name, op(ns, *tensors), NumPy reference, domain)
UNARY = [
    ("neg", lambda ns, a: -a, lambda a: -a, "real"),
    ("exp", lambda ns, a: ns.exp(a), np.exp, "real"),
    ("log", lambda ns, a: ns.log(a), np.log, "positive"),
    ("sqrt", lambda ns, a: ns.sqrt(a), np.sqrt, "positive"),
    ("square", lambda ns, a: ns.square(a), np.square, "real"),
    ("abs", lambda ns, a: ns.abs(a), np.abs, "away_from_zero"),
    ("sign", lambda ns, a: ns.sign(a), np.sign, "away_from_zero"),
    ("relu", lambda ns, a: ns.relu(a), lambda a: np.maximum(a, 0), "away_from_zero"),
    (
        "leaky_relu",
        lambda ns, a: ns.leaky_relu(a, 0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        "away_from_zero",
    ),
    ("sigmoid", lambda ns, a: ns.sigmoid(a), _stable_sigmoid, "real"),
    ("tanh", lambda ns, a: ns.tanh(a), np.tanh, "real"),
    (
        "clamp",
        lambda ns, a: ns.clamp(a, -0.05, 0.05),
        lambda a: np.clip(a, -0.05, 0.05),
        "away_from_zero",
    ),
    ("clamp_min", lambda ns, a: a.clamp(min=0.05), lambda a: np.maximum(a, 0.05), "away_from_zero"),
    ("pow_scalar", lambda ns, a: a**3, lambda a: a**3, "real"),
    ("pow_fraction", lambda ns, a: a**1.5, lambda a: a**1.5, "positive"),
    ("rpow", lambda ns, a: 2.0**a, lambda a: 2.0**a, "real"),
    (
        "scalar_arith",
        lambda ns, a: (3 - a) / 2 + 1 * a - 0.5,
        lambda a: (3 - a) / 2 + a - 0.5,
        "real",
    ),
    ("rdiv", lambda ns, a: 1 / a, lambda a: 1 / a, "positive"),
    ("clone", lambda ns, a: a.clone(), lambda a: a.copy(), "real"),
]

BINARY = [
    ("add", lambda ns, a, b: a + b, np.add, "real"),
    ("sub", lambda ns, a, b: a - b, np.subtract, "real"),
    ("mul", lambda ns, a, b: a * b, np.multiply, "real"),
    ("div", lambda ns, a, b: a / b, np.divide, "positive"),
    ("pow", lambda ns, a, b: a**b, np.power, "positive"),
    ("maximum", lambda ns, a, b: ns.maximum(a, b), np.maximum, "real"),
    ("minimum", lambda ns, a, b: ns.minimum(a, b), np.minimum, "real"),
    (
        "where",
        lambda ns, a, b: ns.where(a > b, a, b * 2),
        lambda a, b: np.where(a > b, a, b * 2),
        "real",
    ),
]


@pytest.mark.parametrize("name, op, reference, domain", UNARY, ids=[r[0] for r in UNARY])
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), seed=st.integers(0, 2**16))
def test_unary_op(check, name, op, reference, domain, shape, seed):
    rng = np.random.default_rng(seed)
    check(lambda a: op(aprende, a), reference, [_values(rng, shape, domain)])


@pytest.mark.parametrize("name, op, reference, domain", BINARY, ids=[r[0] for r in BINARY])
@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_op_with_broadcasting(check, name, op, reference, domain, shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [_values(rng, s, domain) for s in shapes.input_shapes]
    check(lambda a, b: op(aprende, a, b), reference, arrays)


def _dim_and_keepdim(draw, ndim):
    dim = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    return dim, draw(st.booleans())


@st.composite
def reduction_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    dim, keepdim = _dim_and_keepdim(draw, len(shape))
    return shape, dim, keepdim, draw(st.integers(0, 2**16))


def _all_dims(a, dim):
    return tuple(range(a.ndim)) if dim is None else dim


REDUCTIONS = [
    ("sum", lambda a, d, k: a.sum(d, keepdim=k), lambda a, d, k: a.sum(axis=d, keepdims=k)),
    ("mean", lambda a, d, k: a.mean(d, keepdim=k), lambda a, d, k: a.mean(axis=d, keepdims=k)),
    ("var", lambda a, d, k: a.var(d, keepdim=k), lambda a, d, k: a.var(axis=d, ddof=1, keepdims=k)),
    (
        "var_biased",
        lambda a, d, k: a.var(d, unbiased=False, keepdim=k),
        lambda a, d, k: a.var(axis=d, keepdims=k),
    ),
    ("std", lambda a, d, k: a.std(d, keepdim=k), lambda a, d, k: a.std(axis=d, ddof=1, keepdims=k)),
    (
        "logsumexp",
        lambda a, d, k: a.logsumexp(_all_dims(a, d), keepdim=k),
        lambda a, d, k: np.log(np.exp(a).sum(axis=d, keepdims=k)),
    ),
]


@pytest.mark.parametrize("name, op, reference", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@SETTINGS
@given(case=reduction_case())
def test_reduction(check, name, op, reference, case):
    shape, dim, keepdim, seed = case
    array = np.random.default_rng(seed).standard_normal(shape)
    check(lambda a: op(a, dim, keepdim), lambda a: reference(a, dim, keepdim), [array])


@SETTINGS
@given(case=reduction_case())
def test_max_and_min_with_and_without_dim(check, case):
    shape, dim, keepdim, seed = case
    array = np.random.default_rng(seed).standard_normal(shape)
    if dim is None:
        check(lambda a: a.max(), lambda a: a.max(), [array])
        check(lambda a: aprende.min(a), lambda a: a.min(), [array])
        return
    check(
        lambda a: a.max(dim, keepdim=keepdim).values,
        lambda a: a.max(axis=dim, keepdims=keepdim),
        [array],
    )
    check(
        lambda a: a.min(dim=dim, keepdim=keepdim)[0],
        lambda a: a.min(axis=dim, keepdims=keepdim),
        [array],
    )
    values, indices = aprende.tensor(array).max(dim, keepdim=keepdim)
    np.testing.assert_array_equal(indices.numpy(), np.argmax(array, axis=dim).reshape(values.shape))
    assert indices.dtype == aprende.int64


def test_max_shares_gradient_evenly_between_ties_as_pytorch():
    x = aprende.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])


def test_maximum_splits_gradient_at_ties_as_pytorch():
    a = aprende.tensor([1.0, 2.0], requires_grad=True)
    b = aprende.tensor([1.0, 0.0], requires_grad=True)
    aprende.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0])


@pytest.mark.parametrize("function", ["argmax", "argmin"])
def test_argmax_argmin(function):
    array = np.random.default_rng(1).standard_normal((3, 4))
    x = aprende.tensor(array)
    reference = getattr(np, function)
    assert getattr(x, function)().item() == reference(array)
    np.testing.assert_array_equal(getattr(aprende, function)(x, dim=1).numpy(), reference(array, 1))
    assert getattr(x, function)(0, keepdim=True).shape == (1, 4)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(case=reduction_case())
def test_softmax_and_log_softmax(check, name, case):
    shape, dim, _, seed = case
    dim = -1 if dim is None else dim
    array = np.random.default_rng(seed).standard_normal(shape)
    weights = np.random.default_rng(seed + 1).standard_normal(shape)  # a non-uniform upstream

    def reference(a):
        out = _np_softmax(a, dim)
        return np.log(out) if name == "log_softmax" else out

    check(
        lambda a: getattr(aprende, name)(a, dim) * aprende.tensor(weights, device=a.device),
        lambda a: reference(a) * weights,
        [array],
    )


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_family_stable_at_extreme_inputs(scale):
    x = aprende.tensor([[0.0, 1.0, 2.0], [3.0, 3.0, -5.0]], requires_grad=True) * scale
    log_p = aprende.log_softmax(x, dim=1)
    p = aprende.softmax(x, dim=1)
    lse = aprende.logsumexp(x, dim=1)
    for t in (log_p, p, lse):
        assert np.isfinite(t.detach().numpy()).all()
    np.testing.assert_allclose(p.detach().numpy().sum(axis=1), 1.0, rtol=1e-6)
    row = x.detach().numpy()[0]
    np.testing.assert_allclose(lse.detach().numpy()[0], row.max(), rtol=1e-6)
    (log_p.sum() + lse.sum()).backward()


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    x = aprende.tensor([-np.inf, -np.inf])
    assert aprende.logsumexp(x, dim=0).item() == -np.inf


def test_sigmoid_does_not_overflow():
    x = aprende.tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(aprende.sigmoid(x).numpy(), [0.0, 0.5, 1.0])


# ---- matmul -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3,), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 3), (3, 4)),
        ((2, 2, 3), (3, 4)),
        ((4, 3), (2, 3, 2)),
        ((2, 1, 2, 3), (3, 3, 2)),
        ((5, 2, 3), (5, 3, 2)),
    ],
)
def test_matmul_batched_and_broadcast(check, shape_a, shape_b):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    check(lambda a, b: a @ b, np.matmul, arrays)


def test_matmul_shape_mismatch_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        aprende.ones(2, 3) @ aprende.ones(4, 5)


# ---- shape ops ----------------------------------------------------------------------------------

SHAPE_OPS = [
    ("reshape", lambda ns, a: a.reshape(6, -1), lambda a: a.reshape(6, -1)),
    ("view", lambda ns, a: a.view((3, 4)), lambda a: a.reshape(3, 4)),
    ("flatten", lambda ns, a: a.flatten(1), lambda a: a.reshape(2, -1)),
    ("transpose", lambda ns, a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    ("permute", lambda ns, a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    ("T", lambda ns, a: a[0].T, lambda a: a[0].T),
    (
        "squeeze_unsqueeze",
        lambda ns, a: a.unsqueeze(1).unsqueeze(-1).squeeze(1),
        lambda a: a[..., None],
    ),
    (
        "expand",
        lambda ns, a: a[:, :1, :].expand(2, 3, 2),
        lambda a: np.broadcast_to(a[:, :1], (2, 3, 2)),
    ),
    ("cat", lambda ns, a: ns.cat([a, a * 2], dim=1), lambda a: np.concatenate([a, a * 2], 1)),
    ("stack", lambda ns, a: ns.stack([a, a * a], dim=-1), lambda a: np.stack([a, a * a], -1)),
    ("split", lambda ns, a: a.split([1, 2], dim=1)[1] * 3, lambda a: a[:, 1:] * 3),
    ("chunk", lambda ns, a: ns.chunk(a, 2, dim=2)[0], lambda a: a[..., :1]),
    ("index_int_slice", lambda ns, a: a[1, ::2], lambda a: a[1, ::2]),
    ("index_none_ellipsis", lambda ns, a: a[None, ..., 0], lambda a: a[None, ..., 0]),
    ("index_repeated_ints", lambda ns, a: a[[0, 0, 1, 0]], lambda a: a[[0, 0, 1, 0]]),
    (
        "index_int_arrays_2d",
        lambda ns, a: a[[1, 1, 0], [2, 2, 0]],
        lambda a: a[[1, 1, 0], [2, 2, 0]],
    ),
    ("index_tensor", lambda ns, a: a[:, ns.tensor([2, 0, 2])], lambda a: a[:, [2, 0, 2]]),
    ("index_bool_mask", lambda ns, a: a[a > 0], lambda a: a[a > 0]),
]


@pytest.mark.parametrize("name, op, reference", SHAPE_OPS, ids=[r[0] for r in SHAPE_OPS])
def test_shape_op(check, name, op, reference):
    array = np.random.default_rng(3).standard_normal((2, 3, 2))
    check(lambda a: op(aprende, a), reference, [array])


def test_negative_step_slice(check):
    check(lambda a: a[:, ::-1], lambda a: a[:, ::-1], [np.random.default_rng(4).random((2, 3))])


def test_repeated_indices_accumulate_their_gradients():
    x = aprende.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_split_sizes_and_chunk_count():
    x = aprende.arange(10)
    assert [p.shape[0] for p in x.split(3)] == [3, 3, 3, 1]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: aprende.ones(2, 3) + aprende.ones(4), r"add: invalid shapes \(2, 3\) and \(4,\)"),
        (lambda: aprende.ones(2, 3).reshape(4, 2), r"reshape: shape \(4, 2\) is invalid.*\(2, 3\)"),
        (
            lambda: aprende.cat([aprende.ones(2, 3), aprende.ones(2, 4)]),
            r"cat: .*\(2, 3\), \(2, 4\)",
        ),
        (lambda: aprende.stack([aprende.ones(2), aprende.ones(3)]), r"stack: .*\(2,\), \(3,\)"),
        (lambda: aprende.ones(2, 3).sum(dim=2), r"sum: dimension 2 out of range"),
        (lambda: aprende.ones(2, 3).permute(0, 0), r"permute: expected a permutation"),
        (lambda: aprende.ones(2).expand(3, 3), r"expand: cannot expand shape \(2,\)"),
        (lambda: aprende.ones(2, 3)[5], r"index 5 is invalid for a tensor of shape \(2, 3\)"),
        (lambda: aprende.softmax(aprende.ones(2, 3), dim=None), r"softmax: dim is required"),
    ],
)
def test_errors_name_the_op_and_the_shapes(call, message):
    with pytest.raises((RuntimeError, IndexError, TypeError), match=message):
        call()


# ---- comparisons -------------------------------------------------------------------------------


def test_comparisons_give_bool_tensors_without_gradient():
    a = aprende.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [
        (a > 2, [False, False, True]),
        (a >= 2, [False, True, True]),
        (a < 2, [True, False, False]),
        (a <= 2, [True, True, False]),
        (a == 2, [False, True, False]),
        (a != 2, [True, False, True]),
    ]:
        assert result.dtype == aprende.bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), expected)
    assert ((a > 1) & (a < 3)).tolist() == [False, True, False]
    assert (~(a > 1)).tolist() == [True, False, False]
