"""The same ops, the same inputs, the same numbers as PyTorch (forward values and gradients).

Runs where PyTorch is installed (``pip install 'aprende[reference]'``); skips cleanly elsewhere.
The op table is shared with test_ops.py: each op is written once against a namespace.
"""

import numpy as np
import pytest
from test_ops import BINARY, REDUCTIONS, SHAPE_OPS, UNARY, _values

import aprende

torch = pytest.importorskip("torch")


class TorchNamespace:
    """``torch`` with the few functions that live elsewhere in it under aprende's names."""

    leaky_relu = staticmethod(torch.nn.functional.leaky_relu)

    def __getattr__(self, name):
        return getattr(torch, name)


TORCH = TorchNamespace()


def _compare(op, arrays, rtol=1e-5, atol=1e-6):
    """Run op on aprende and torch tensors (float32) and compare outputs and gradients."""
    ours = [aprende.tensor(a, dtype=aprende.float32, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    out, expected = op(aprende, *ours), op(TORCH, *theirs)
    np.testing.assert_allclose(
        out.detach().numpy(), expected.detach().numpy(), rtol=rtol, atol=atol
    )
    upstream = np.random.default_rng(7).standard_normal(expected.shape).astype(np.float32)
    out.backward(aprende.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, op, reference, domain", UNARY, ids=[r[0] for r in UNARY])
def test_unary_matches_torch(name, op, reference, domain):
    _compare(op, [_values(np.random.default_rng(1), (3, 4), domain)])


@pytest.mark.parametrize("name, op, reference, domain", BINARY, ids=[r[0] for r in BINARY])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((4,), (2, 3, 4))])
def test_binary_matches_torch(name, op, reference, domain, shapes):
    rng = np.random.default_rng(2)
    _compare(op, [_values(rng, s, domain) for s in shapes])


@pytest.mark.parametrize("name, op, reference", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (-1, True), ((0, 2), False)])
def test_reductions_match_torch(name, op, reference, dim, keepdim):
    array = np.random.default_rng(3).standard_normal((2, 3, 4))
    _compare(lambda ns, a: op(a, dim, keepdim), [array])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_min_softmax_match_torch(dim):
    array = np.random.default_rng(4).standard_normal((3, 4, 2))
    _compare(lambda ns, a: a.max(dim, keepdim=True).values * 2 + a.min(dim)[0].sum(), [array])
    _compare(lambda ns, a: ns.softmax(a, dim) * ns.log_softmax(a, dim), [array])
    _compare(lambda ns, a: ns.logsumexp(a, dim), [array])
    _compare(lambda ns, a: a.max() + a.min(), [array])


@pytest.mark.parametrize("name, op, reference", SHAPE_OPS, ids=[r[0] for r in SHAPE_OPS])
def test_shape_ops_match_torch(name, op, reference):
    _compare(op, [np.random.default_rng(5).standard_normal((2, 3, 2))])


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3,), (3, 2)),
        ((2, 3), (3,)),
        ((2, 2, 3), (3, 4)),
        ((5, 2, 3), (5, 3, 2)),
        ((4, 3), (2, 3, 2)),
    ],
)
def test_matmul_matches_torch(shape_a, shape_b):
    rng = np.random.default_rng(6)
    _compare(lambda ns, a, b: a @ b, [rng.standard_normal(shape_a), rng.standard_normal(shape_b)])


def test_var_std_match_torch_including_biased():
    array = np.random.default_rng(8).standard_normal((4, 5))
    _compare(lambda ns, a: a.var(0, unbiased=False).sum() + a.std(1).sum(), [array])
