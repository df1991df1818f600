"""Tensor semantics where NumPy and PyTorch differ: each case runs the same expression in aprende
and in PyTorch and compares value, dtype and gradient (skipped without PyTorch)."""

import numpy as np
import pytest

import aprende

torch = pytest.importorskip("torch")


def same_dtype(ours, theirs) -> bool:
    return np.dtype(ours.dtype) == np.dtype(str(theirs.dtype).removeprefix("torch."))


def check(ours, theirs):
    assert same_dtype(ours, theirs), (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- bitwise operators on integers, logical on bool -------------------------------------------

INTS = ([6, 3, -5, 0], [3, 1, 2, 7])


BITWISE = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "not": lambda a, b: ~a,
    "rand": lambda a, b: 5 & a,
    "ror": lambda a, b: 5 | a,
    "rxor": lambda a, b: 5 ^ a,
    "logical_not": lambda a, b: a.logical_not(),
}
SHIFTS = {"lshift": lambda a, b: a << 2, "rshift": lambda a, b: a >> 1, "by": lambda a, b: a << b}


def _bitwise_case(expression, dtype):
    values = [np.asarray(v).astype(dtype) for v in INTS]
    if dtype == "uint8":
        values = [np.abs(v) for v in values]
    check(expression(*map(aprende.tensor, values)), expression(*map(torch.tensor, values)))


@pytest.mark.parametrize("name", BITWISE)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_bitwise_operators_match_pytorch(name, dtype):
    _bitwise_case(BITWISE[name], dtype)


@pytest.mark.parametrize("name", SHIFTS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_shifts_match_pytorch(name, dtype):
    _bitwise_case(SHIFTS[name], dtype)


def test_logical_not_of_floats_is_a_bool_test_for_zero():
    check(
        aprende.tensor([1.5, 0.0, -2.0]).logical_not(), torch.tensor([1.5, 0.0, -2.0]).logical_not()
    )
    with pytest.raises(RuntimeError, match="bitwise_not: expected an integer or bool tensor"):
        ~aprende.tensor([1.5])


# ---- type promotion ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        lambda t, m: t.tensor([1, 2]) + 2.5,
        lambda t, m: t.tensor([1, 2], dtype=m.int32) + 2**40,
        lambda t, m: t.tensor([1, 2], dtype=m.int32) * 3,
        lambda t, m: t.tensor([True, False]) * 2,
        lambda t, m: t.tensor([True, False]) + 2.5,
        lambda t, m: t.tensor([True, False]) + t.tensor([True, True]),
        lambda t, m: t.tensor([1.0, 2.0], dtype=m.float16) * 2.5,
        lambda t, m: t.tensor([1, 2]) + t.tensor(1.5, dtype=m.float64),
        lambda t, m: t.tensor([1.0, 2.0]) + t.tensor(1.5, dtype=m.float64),
        lambda t, m: t.tensor([1, 2], dtype=m.int32) + t.tensor([1, 2]),
        lambda t, m: t.tensor([1, 2], dtype=m.uint8) + t.tensor([1, 2], dtype=m.int32),
        lambda t, m: t.tensor([1, 2]) / t.tensor([2, 4]),
        lambda t, m: t.tensor([3, 4]) > 2.5,
    ],
)
def test_type_promotion_matches_pytorch(expression):
    check(expression(aprende, aprende), expression(torch, torch))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_float_functions_of_integers_give_the_default_float(name, dtype):
    values = np.array([1, 2, 0]).astype(dtype)
    with np.errstate(divide="ignore"):
        ours = getattr(aprende, name)(aprende.tensor(values))
    theirs = getattr(torch, name)(torch.tensor(values))
    assert same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)  # libm: 1 ulp apart


def test_promotion_keeps_the_gradient_of_a_float32_operand():
    x = aprende.tensor([1.0, 2.0], requires_grad=True)
    y = (x * aprende.tensor([3.0, 4.0], dtype=aprende.float64)).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


# ---- gradients at the edges ------------------------------------------------------------------


def _grads(module, base, exponent):
    b = module.tensor(base, dtype=module.float64, requires_grad=True)
    e = module.tensor(exponent, dtype=module.float64, requires_grad=True)
    upstream = module.tensor([0.5, -1.5, 2.0, 1.0, 3.0], dtype=module.float64)
    ((b**e) * upstream).sum().backward()
    return b.grad.numpy(), e.grad.numpy()


def test_pow_gradients_at_zero_negative_and_infinite_bases_match_pytorch():
    base = [0.0, 0.0, -2.0, 0.0, np.inf]
    exponent = [0.0, -1.0, 0.5, 2.0, 1.0]
    ours, theirs = _grads(aprende, base, exponent), _grads(torch, base, exponent)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "values, options",
    [
        ([1.0, 3.0], {"correction": 3}),
        ([1.0], {}),
        ([], {}),
        ([1.0, 3.0], {"correction": 2}),
        ([2.0, 2.0], {"correction": 2}),
        ([[1.0, 3.0], [2.0, 2.0]], {"dim": 1, "correction": 2}),
        ([[1.0, 3.0], [2.0, 2.0]], {"dim": 1, "correction": 3}),
        ([[1.0], [2.0]], {"dim": 1}),
    ],
)
@pytest.mark.parametrize("name", ["var", "std"])
def test_variance_without_enough_values_matches_pytorch(values, options, name):
    ours = aprende.tensor(values, dtype=aprende.float64, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    a, b = getattr(ours, name)(**options), getattr(theirs, name)(**options)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


# ---- the rest of the list --------------------------------------------------------------------


def test_cat_of_zero_dimensional_tensors_is_a_clear_runtime_error():
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\)"):
        aprende.cat([aprende.tensor(1.0), aprende.tensor(2.0)])


@pytest.mark.parametrize("dim", [0, -1])
def test_max_along_dim_of_a_zero_dimensional_tensor(dim):
    ours, theirs = aprende.tensor(3.0).max(dim), torch.tensor(3.0).max(dim)
    check(ours.values, theirs.values)
    check(ours.indices, theirs.indices)


def test_view_as_another_dtype_reads_the_same_bytes():
    check(
        aprende.tensor([1.0, 2.0]).view(aprende.int32), torch.tensor([1.0, 2.0]).view(torch.int32)
    )
    check(
        aprende.tensor([1.0, 2.0]).view(aprende.uint8), torch.tensor([1.0, 2.0]).view(torch.uint8)
    )


def test_linspace_refuses_bool_and_clamp_needs_a_bound():
    with pytest.raises(NotImplementedError, match="bool"):
        aprende.linspace(0, 1, 3, dtype=aprende.bool_)
    with pytest.raises(RuntimeError, match="at least one of min and max"):
        aprende.clamp(aprende.tensor([1.0]), None, None)


# ---- indexing: ints are basic indexing, also beside index arrays -----------------------------

SHAPE = (2, 5, 6, 5, 3, 4)
D = np.random.default_rng(0).integers(0, 5, size=(2, 1, 1, 5, 1, 1))
MASK = np.random.default_rng(1).random((5, 6)) > 0.5
INDEXES = {
    "int-slice-array": lambda t, d, m: (1, slice(None), slice(3, 11, 2), d, slice(0, 2)),
    "array-int": lambda t, d, m: (slice(None), t([0, 4, 4]), 2),
    "int-ellipsis-array": lambda t, d, m: (0, Ellipsis, t([1, 0, 3])),
    "int-none-array": lambda t, d, m: (1, None, slice(None), t([5, 0])),
    "int-mask": lambda t, d, m: (1, m),
    "two-arrays-apart": lambda t, d, m: (t([0, 1]), slice(None), 2, t([1, 3])),
}


@pytest.mark.parametrize("name", INDEXES)
def test_mixed_indexing_matches_pytorch_in_shape_values_and_gradient(name):
    x = np.random.default_rng(2).normal(size=SHAPE)
    ours_x = aprende.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours = ours_x[INDEXES[name](aprende.tensor, aprende.tensor(D), aprende.tensor(MASK))]
    theirs = theirs_x[INDEXES[name](torch.tensor, torch.tensor(D), torch.tensor(MASK))]
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    upstream = np.random.default_rng(3).normal(size=ours.shape)
    (ours * aprende.tensor(upstream)).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())


@pytest.mark.parametrize("name", INDEXES)
def test_mixed_index_assignment_matches_pytorch(name):
    ours, theirs = aprende.zeros(*SHAPE), torch.zeros(*SHAPE)
    index = INDEXES[name](torch.tensor, torch.tensor(D), torch.tensor(MASK))
    value = np.arange(theirs[index].numel(), dtype=np.float32).reshape(theirs[index].shape)
    ours[INDEXES[name](aprende.tensor, aprende.tensor(D), aprende.tensor(MASK))] = value
    theirs[index] = torch.tensor(value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integers_is_refused_as_pytorch_refuses_it(name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match=f"{name}: not implemented for int64"):
        getattr(aprende, name)(aprende.tensor([1, 2]), 0)
    converted = getattr(aprende, name)(aprende.tensor([1, 2]), 0, dtype=aprende.float32)
    expected = getattr(torch, name)(torch.tensor([1, 2]), 0, dtype=torch.float32)
    np.testing.assert_allclose(converted.numpy(), expected.numpy(), rtol=1e-6)
