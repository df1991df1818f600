"""Tensor products, shape helpers and statistics without PyTorch: values against NumPy
(np.kron, np.tensordot, np.cross, np.cov, np.corrcoef, np.rot90, np.diff, np.block, ...) or
the formula written out here, and every gradient against finite differences (``gradcheck``
in float64), including cdist's at zero distance."""

import itertools
import math

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck

RNG = np.random.default_rng(3)


def randn(*shape):
    return RNG.standard_normal(shape)


def leaf(values):
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


def test_kron_matches_numpy():
    a, b = randn(2, 3), randn(3, 2)
    np.testing.assert_allclose(
        aprende.kron(aprende.tensor(a), aprende.tensor(b)).numpy(), np.kron(a, b)
    )
    a3, b2 = randn(2, 1, 2), randn(3, 2)
    np.testing.assert_allclose(
        aprende.kron(aprende.tensor(a3), aprende.tensor(b2)).numpy(), np.kron(a3, b2)
    )


@pytest.mark.parametrize(
    "shapes, dims",
    [
        (((2, 3, 4), (3, 4, 5)), 2),
        (((2, 3), (3, 4)), 1),
        (((2, 3), (4,)), 0),
        (((3, 2, 4), (4, 3, 5)), ([0, 2], [1, 0])),
    ],
    ids=str,
)
def test_tensordot_matches_numpy(shapes, dims):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    ours = aprende.tensordot(aprende.tensor(a), aprende.tensor(b), dims)
    axes = dims if isinstance(dims, int) else (list(dims[0]), list(dims[1]))
    np.testing.assert_allclose(ours.numpy(), np.tensordot(a, b, axes), rtol=1e-6, atol=1e-6)


def test_cross_matches_numpy_and_is_orthogonal():
    a, b = randn(4, 3), randn(4, 3)
    y = aprende.cross(aprende.tensor(a), aprende.tensor(b)).numpy()
    np.testing.assert_allclose(y, np.cross(a, b), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose((y * a).sum(1), 0, atol=1e-5)
    a, b = randn(3, 2), randn(1, 3, 1)
    y = aprende.linalg.cross(aprende.tensor(a[None]), aprende.tensor(b), dim=1)
    np.testing.assert_allclose(y.numpy(), np.cross(a[None], b, axis=1), rtol=1e-6, atol=1e-6)


def test_trace_is_the_diagonal_sum():
    a = randn(3, 5)
    assert math.isclose(aprende.trace(aprende.tensor(a, dtype=aprende.float64)).item(), np.trace(a))
    ints = aprende.tensor(np.arange(9, dtype=np.int32).reshape(3, 3))
    t = aprende.trace(ints)
    assert t.dtype == np.int64 and t.item() == 0 + 4 + 8


def _cdist_reference(a, b, p):
    difference = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (difference != 0).sum(-1).astype(a.dtype)
    if math.isinf(p):
        return difference.max(-1)
    return (difference**p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist_matches_the_formula(p):
    a, b = randn(2, 4, 3), randn(2, 5, 3)
    ours = aprende.cdist(
        aprende.tensor(a, dtype=aprende.float64), aprende.tensor(b, dtype=aprende.float64), p
    )
    np.testing.assert_allclose(ours.numpy(), _cdist_reference(a, b, p), rtol=1e-10)


def test_dist_is_the_norm_of_the_difference():
    a, b = randn(3, 4), randn(4)
    for p in (1, 2, 3, math.inf):
        ours = aprende.dist(
            aprende.tensor(a, dtype=aprende.float64), aprende.tensor(b, dtype=aprende.float64), p
        )
        assert math.isclose(ours.item(), np.linalg.norm((a - b).ravel(), p), rel_tol=1e-10)


def test_block_diag_matches_numpy_block():
    a, b, c = randn(2, 3), randn(1, 2), randn()
    ours = aprende.block_diag(
        *(aprende.tensor(x, dtype=aprende.float64) for x in (a, b, c))
    ).numpy()
    zeros = np.zeros
    expected = np.block(
        [
            [a, zeros((2, 2)), zeros((2, 1))],
            [zeros((1, 3)), b, zeros((1, 1))],
            [zeros((1, 3)), zeros((1, 2)), np.reshape(c, (1, 1))],
        ]
    )
    np.testing.assert_array_equal(ours, expected)


def test_cartesian_prod_lists_every_tuple_in_order():
    x, y, z = [1, 2], [3, 4, 5], [6]
    ours = aprende.cartesian_prod(*(aprende.tensor(v) for v in (x, y, z)))
    assert ours.tolist() == [list(t) for t in itertools.product(x, y, z)]


@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 6])
def test_rot90_matches_numpy(k):
    a = randn(2, 3, 4)
    for dims in ((0, 1), (1, 2), (2, 0)):
        ours = aprende.rot90(aprende.tensor(a), k, dims)
        np.testing.assert_array_equal(ours.numpy(), np.rot90(a, k, dims))


def test_diff_matches_numpy():
    a, before, after = randn(3, 5), randn(3, 2), randn(3, 1)
    for n in (0, 1, 2, 7):
        ours = aprende.diff(aprende.tensor(a, dtype=aprende.float64), n, -1)
        np.testing.assert_allclose(ours.numpy(), np.diff(a, n, -1))
    joined = aprende.tensor(a), aprende.tensor(before), aprende.tensor(after)
    ours = aprende.diff(joined[0], 2, 1, prepend=joined[1], append=joined[2])
    np.testing.assert_allclose(ours.numpy(), np.diff(a, 2, 1, prepend=before, append=after))
    flags = np.array([True, True, False, True, False])
    assert aprende.diff(aprende.tensor(flags)).tolist() == np.diff(flags).tolist()


def test_ravel_diagflat_broadcast_and_numel():
    a = randn(2, 3)
    np.testing.assert_array_equal(aprende.ravel(aprende.tensor(a)).numpy(), np.ravel(a))
    np.testing.assert_array_equal(aprende.diagflat(aprende.tensor(a), 1).numpy(), np.diagflat(a, 1))
    assert aprende.broadcast_shapes((2, 1), (3,), 1) == np.broadcast_shapes((2, 1), (3,), (1,))
    x, y = aprende.broadcast_tensors(aprende.tensor(a[:, :1]), aprende.tensor(a[0]))
    expected = np.broadcast_arrays(a[:, :1], a[0])
    np.testing.assert_array_equal(x.numpy(), expected[0])
    np.testing.assert_array_equal(y.numpy(), expected[1])
    assert aprende.numel(aprende.tensor(a)) == a.size


def test_cov_and_corrcoef_match_numpy():
    x = randn(3, 7)
    fweights, aweights = RNG.integers(0, 4, 7), RNG.uniform(0.1, 2, 7)
    t = aprende.tensor(x, dtype=aprende.float64)
    np.testing.assert_allclose(aprende.cov(t).numpy(), np.cov(x))
    np.testing.assert_allclose(aprende.cov(t, correction=0).numpy(), np.cov(x, ddof=0))
    weighted = aprende.cov(t, fweights=aprende.tensor(fweights), aweights=aprende.tensor(aweights))
    np.testing.assert_allclose(weighted.numpy(), np.cov(x, fweights=fweights, aweights=aweights))
    np.testing.assert_allclose(aprende.corrcoef(t).numpy(), np.corrcoef(x))
    assert math.isclose(aprende.cov(t[0]).item(), np.var(x[0], ddof=1))


def test_logspace_is_base_to_the_linspace():
    np.testing.assert_allclose(
        aprende.logspace(-2, 3, 11).numpy(), np.logspace(-2, 3, 11), rtol=1e-6
    )
    np.testing.assert_allclose(aprende.logspace(0, 4, 5, base=2).numpy(), [1, 2, 4, 8, 16])
    assert aprende.logspace(0, 1, 3).dtype == np.float32


GRADIENTS = [
    ("kron", lambda a, b: aprende.kron(a, b), [randn(2, 3), randn(2, 1, 2)]),
    (
        "tensordot",
        lambda a, b: aprende.tensordot(a, b, ([0, 2], [1, 0])),
        [randn(3, 2, 4), randn(4, 3, 2)],
    ),
    (
        "tensordot size-1",
        lambda a, b: aprende.tensordot(a, b, ([1], [0])),
        [randn(2, 3), randn(1, 4)],
    ),
    ("cross", lambda a, b: aprende.cross(a, b, dim=1), [randn(2, 3), randn(1, 3)]),
    ("linalg.cross", lambda a, b: aprende.linalg.cross(a, b, dim=0), [randn(3, 2), randn(3, 2)]),
    ("trace", lambda a: aprende.trace(a), [randn(3, 4)]),
    ("dist", lambda a, b: aprende.dist(a, b), [randn(3, 2), randn(2)]),
    ("dist p=3", lambda a, b: aprende.dist(a, b, 3), [randn(4), randn(4)]),
    ("cdist p=2", lambda a, b: aprende.cdist(a, b), [randn(2, 3, 4), randn(1, 2, 4)]),
    ("cdist p=1", lambda a, b: aprende.cdist(a, b, 1), [randn(3, 2), randn(2, 2)]),
    ("cdist p=3", lambda a, b: aprende.cdist(a, b, 3), [randn(3, 2), randn(2, 2)]),
    ("cdist p=1.5", lambda a, b: aprende.cdist(a, b, 1.5), [randn(3, 2), randn(2, 2)]),
    ("cdist p=0.5", lambda a, b: aprende.cdist(a, b, 0.5), [randn(3, 2), randn(2, 2)]),
    ("cdist p=inf", lambda a, b: aprende.cdist(a, b, math.inf), [randn(3, 2), randn(2, 2)]),
    ("block_diag", lambda a, b, c: aprende.block_diag(a, b, c), [randn(2, 2), randn(3), randn()]),
    ("cartesian_prod", lambda a, b: aprende.cartesian_prod(a, b), [randn(2), randn(3)]),
    ("ravel", lambda a: aprende.ravel(a.t()), [randn(2, 3)]),
    ("diagflat", lambda a: aprende.diagflat(a, -1), [randn(2, 2)]),
    ("rot90", lambda a: aprende.rot90(a, -1, (2, 0)), [randn(2, 3, 2)]),
    ("diff", lambda a, p: aprende.diff(a, 2, 0, prepend=p), [randn(3, 2), randn(1, 2)]),
    (
        "broadcast_tensors",
        lambda a, b: sum(
            t * w for t, w in zip(aprende.broadcast_tensors(a, b), (1.0, 2.0), strict=True)
        ),
        [randn(2, 1), randn(3)],
    ),
    ("cov", lambda a: aprende.cov(a), [randn(3, 5)]),
    (
        "cov aweights",
        lambda a, w: aprende.cov(a, aweights=w),
        [randn(2, 5), RNG.uniform(0.5, 2, 5)],
    ),
    ("corrcoef", lambda a: aprende.corrcoef(a), [randn(3, 6)]),
]


@pytest.mark.parametrize("name, fn, arrays", GRADIENTS, ids=[row[0] for row in GRADIENTS])
def test_gradients_match_finite_differences(name, fn, arrays):
    assert gradcheck(fn, [leaf(a) for a in arrays])


def test_cdist_gradient_at_zero_distance_is_zero():
    """Two equal rows: ‖a − b‖ is not differentiable there, and the gradient is 0 (no nan)."""
    a = leaf([[1.0, 2.0, 3.0]])
    b = leaf([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    aprende.cdist(a, b)[0, 0].backward()
    assert a.grad.tolist() == [[0.0, 0.0, 0.0]]
    assert b.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    c = leaf([[1.0, 2.0, 3.0]])
    aprende.dist(c, c.detach()).backward()
    assert c.grad.tolist() == [[0.0, 0.0, 0.0]]


def test_cdist_inf_gradient_goes_whole_to_each_tie():
    a = leaf([[0.0, 0.0]])
    b = leaf([[1.0, -1.0]])
    aprende.cdist(a, b, math.inf).sum().backward()
    assert a.grad.tolist() == [[-1.0, 1.0]]


ON_DEVICE = {
    "kron": lambda a, b: aprende.kron(a, b[:2]),
    "tensordot": lambda a, b: aprende.tensordot(a, b, ([1], [1])),
    "cross": lambda a, b: aprende.linalg.cross(a[:, :3], b[:, :3]),
    "trace_dist": lambda a, b: aprende.trace(a) * aprende.dist(a, b),
    "cdist": lambda a, b: aprende.cdist(a, b) + aprende.cdist(a, b, math.inf),
    "block_diag": lambda a, b: aprende.block_diag(a[:2], b[0], b[1, 1]),
    "cartesian_prod": lambda a, b: aprende.cartesian_prod(a[0], b[1]),
    "rot90_diff_diagflat": lambda a, b: (
        aprende.rot90(aprende.diff(a, prepend=b[:, :1]), 3) + aprende.diagflat(b[0])[:5, :5]
    ),
    "broadcast_tensors": lambda a, b: aprende.broadcast_tensors(a[:, :1], b[0])[0] * b,
    "cov_corrcoef": lambda a, b: aprende.cov(a) + aprende.corrcoef(b),
}


@pytest.mark.parametrize("name", sorted(ON_DEVICE))
def test_on_device_as_on_the_cpu(name, device):
    a, b = randn(5, 5).astype(np.float32), randn(5, 5).astype(np.float32)
    results = []
    for dev in ("cpu", device):
        ta = aprende.tensor(a, requires_grad=True, device=dev)
        tb = aprende.tensor(b, requires_grad=True, device=dev)
        out = ON_DEVICE[name](ta, tb)
        weights = np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(out.shape)
        (out * aprende.tensor(weights, device=dev)).sum().backward()
        assert out.device == dev and ta.grad.device == dev
        results.append((out.detach().cpu().numpy(), ta.grad.cpu().numpy(), tb.grad.cpu().numpy()))
    for mine, reference in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-6)
