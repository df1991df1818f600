"""``aprende.autograd.grad`` and ``Tensor.register_hook`` with PyTorch's semantics, and the
gradients of the products, einsum and attention against finite differences (no torch needed;
the last test compares with PyTorch where it is installed)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aprende
from aprende.autograd import gradcheck
from aprende.nn import functional as F

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def leaf(*shape, seed=0):
    values = np.random.default_rng(seed).standard_normal(shape)
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


# ---- autograd.grad ------------------------------------------------------------------------------


def test_grad_returns_the_gradients_and_leaves_dot_grad_alone():
    x, w = leaf(3), leaf(3, seed=1)
    y = (x * w).sum()
    gx, gw = aprende.autograd.grad(y, [x, w])
    np.testing.assert_array_equal(gx.numpy(), w.detach().numpy())  # ∂Σxw/∂x = w
    np.testing.assert_array_equal(gw.numpy(), x.detach().numpy())
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_of_a_single_input_is_a_one_tuple_and_frees_the_graph():
    x = leaf(2)
    y = (x * x).sum()
    (g,) = aprende.autograd.grad(y, x)
    np.testing.assert_allclose(g.numpy(), 2 * x.detach().numpy())
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_grad_with_retain_graph_allows_backward_afterwards():
    x = leaf(2)
    y = (x * x).sum()
    aprende.autograd.grad(y, x, retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())


def test_grad_of_a_non_leaf_input_and_of_several_outputs():
    x = leaf(3)
    h = x * 3  # ∂/∂h of Σ h² + 2 Σ h = 2h + 2
    a, b = (h * h).sum(), h.sum()
    (gh,) = aprende.autograd.grad([a, b], [h], grad_outputs=[None, aprende.tensor(2.0).double()])
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy() + 2)


def test_grad_outputs_weight_a_non_scalar_output():
    x = leaf(3)
    v = np.array([1.0, -2.0, 0.5])
    (g,) = aprende.autograd.grad(x * x, x, grad_outputs=aprende.tensor(v))
    np.testing.assert_allclose(g.numpy(), 2 * x.detach().numpy() * v)


def test_grad_of_an_input_that_is_the_output():
    x = leaf(2)
    (g,) = aprende.autograd.grad(x, x, aprende.ones(2, dtype=aprende.float64))
    np.testing.assert_array_equal(g.numpy(), [1, 1])


def test_grad_of_a_broadcast_input_has_its_shape():
    b = leaf(1, 3)
    (g,) = aprende.autograd.grad((leaf(4, 3, seed=1) + b).sum(), b)
    np.testing.assert_array_equal(g.numpy(), [[4, 4, 4]])


def test_unused_input_is_an_error_unless_allowed():
    x, unused = leaf(2), leaf(2, seed=1)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="Tensor at index 1 appears to not have been used"):
        aprende.autograd.grad(y, [x, unused], retain_graph=True)
    gx, none = aprende.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert none is None
    _, zeros = aprende.autograd.grad(y, [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(zeros.numpy(), [0, 0])


def test_grad_argument_errors():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        aprende.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        aprende.autograd.grad((x * 2).sum(), aprende.ones(3))
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        aprende.autograd.grad(aprende.ones(3).sum(), x)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        aprende.autograd.grad(x * 2, x, grad_outputs=aprende.ones(2))
    with pytest.raises(NotImplementedError, match="create_graph"):
        aprende.autograd.grad((x * 2).sum(), x, create_graph=True)


def test_grad_only_runs_the_nodes_that_lead_to_the_inputs():
    ran = []
    x, w = leaf(3), leaf(3, seed=1)
    branch = w * 2
    branch.register_hook(lambda g: ran.append("w-branch"))
    y = (x * 3).sum() + branch.sum()
    aprende.autograd.grad(y, x)
    assert ran == []


def test_grad_of_a_deep_graph_does_not_recurse():
    x = leaf(1)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    (g,) = aprende.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(g.numpy(), [1.0])


# ---- register_hook ------------------------------------------------------------------------------


def test_a_hook_sees_the_gradient_and_may_replace_it():
    x = leaf(3)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * y.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * 10 * 2 * y.detach().numpy())


def test_a_leaf_hook_runs_once_on_the_summed_gradient_before_accumulation():
    x = leaf(2)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g + 1)
    ((x * 2).sum() + (x * 3).sum()).backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [5, 5])
    np.testing.assert_array_equal(x.grad.numpy(), [6, 6])


def test_hooks_run_before_retain_grad_stores_the_gradient():
    x = leaf(2)
    y = x * 1
    y.retain_grad()
    y.register_hook(lambda g: g * 3)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [6, 6])
    np.testing.assert_array_equal(x.grad.numpy(), [6, 6])


def test_a_removed_hook_no_longer_runs():
    x = leaf(2)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])
    with x.register_hook(lambda g: g * 0):
        pass
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4])
    assert id(x) not in aprende.autograd._hooks  # nothing left for the engine to look up


def test_a_hook_on_the_root_and_on_a_backward_leaf():
    x = leaf(2)
    x.register_hook(lambda g: g * 2)
    x.backward(aprende.ones(2, dtype=aprende.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        aprende.ones(2).register_hook(lambda g: g)
    x = leaf(2)

    def widen(g):
        return aprende.ones(3)

    x.register_hook(widen)
    with pytest.raises(RuntimeError, match="hook 'widen' has changed the size of value"):
        (x * 2).sum().backward()


def test_hooks_of_a_dead_tensor_are_forgotten():
    x = leaf(2)
    x.register_hook(lambda g: g)
    key = id(x)
    del x
    assert key not in aprende.autograd._hooks


def test_hooks_run_during_grad_leaf_after_and_non_leaf_before_capture():
    """As PyTorch: the captured gradient of a non-leaf input is the one before its hooks, that
    of a leaf input the one after; retain_grad still fills .grad."""
    x = leaf(2)
    y = x * 2
    y.retain_grad()
    x.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: g + 1)
    z = (y * y).sum() + (x * 3).sum()
    gx, gy = aprende.autograd.grad(z, [x, y])
    np.testing.assert_allclose(gy.numpy(), 2 * y.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 10 * (2 * (gy.numpy() + 1) + 3))
    np.testing.assert_allclose(y.grad.numpy(), gy.numpy() + 1)
    assert x.grad is None


# ---- finite differences for the new ops -------------------------------------------------------

GRADCHECKS = [
    ("matmul-batch", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul-1d-nd", lambda a, b: a @ b, [(4,), (2, 4, 3)]),
    ("mm", aprende.mm, [(3, 4), (4, 2)]),
    ("bmm", aprende.bmm, [(2, 3, 4), (2, 4, 2)]),
    ("mv", aprende.mv, [(3, 4), (4,)]),
    ("dot", aprende.dot, [(4,), (4,)]),
    ("outer", aprende.outer, [(3,), (2,)]),
    ("inner", aprende.inner, [(2, 3), (4, 3)]),
    ("einsum-trace", lambda a: aprende.einsum("ii", a), [(3, 3)]),
    ("einsum-diagonal-3", lambda a, b: aprende.einsum("iij,jk->ik", a, b), [(3, 3, 2), (2, 2)]),
    (
        "einsum-ellipsis",
        lambda a, b: aprende.einsum("...ij,...jk", a, b),
        [(2, 1, 2, 3), (4, 3, 2)],
    ),
    ("einsum-size-1", lambda a, b: aprende.einsum("ij,jk->ik", a, b), [(2, 1), (3, 2)]),
    ("einsum-own-letter", lambda a, b: aprende.einsum("ij,k->ik", a, b), [(2, 3), (4,)]),
    ("einsum-three", lambda a, b, c: aprende.einsum("ij,jk,kl", a, b, c), [(2, 3), (3, 2), (2, 2)]),
    ("sdpa", F.scaled_dot_product_attention, [(2, 3, 4), (2, 5, 4), (2, 5, 3)]),
    (
        "sdpa-causal-scale",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
        [(4, 3), (4, 3), (4, 2)],
    ),
    (
        "sdpa-float-mask",
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        [(3, 4), (5, 4), (5, 2), (1, 5)],
    ),
    (
        "sdpa-gqa",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        [(4, 2, 3), (2, 3, 3), (2, 3, 2)],
    ),
]


@pytest.mark.parametrize("op, shapes", [g[1:] for g in GRADCHECKS], ids=[g[0] for g in GRADCHECKS])
def test_gradients_match_finite_differences(op, shapes):
    assert gradcheck(op, [leaf(*s, seed=i) for i, s in enumerate(shapes)])


def test_attention_with_a_fully_masked_row_has_zero_output_and_gradient():
    q, k, v = leaf(3, 4), leaf(5, 4, seed=1), leaf(5, 2, seed=2)
    mask = aprende.tensor(np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]]))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(out.detach().numpy()[1], 0)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad.numpy()[1], 0)
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), [q, k, v])


def test_attention_is_softmax_of_the_scaled_scores_times_the_values():
    q, k, v = leaf(3, 4), leaf(5, 4, seed=1), leaf(5, 2, seed=2)
    scores = q.detach().numpy() @ k.detach().numpy().T / 2  # √E = 2
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    out = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.detach().numpy(), weights @ v.detach().numpy(), rtol=1e-12)


def test_einsum_matches_numpy():
    a, b = leaf(2, 3), leaf(3, 3, seed=1)
    out = aprende.einsum("ij,jj->ij", a, b).detach().numpy()
    np.testing.assert_allclose(out, np.einsum("ij,jj->ij", a.detach().numpy(), b.detach().numpy()))
    assert aprende.einsum("i,i", leaf(3), leaf(3, seed=1)).shape == ()


@SETTINGS
@given(
    sizes=st.lists(st.integers(1, 3), min_size=3, max_size=3),
    output=st.sampled_from(["", "i", "k", "ki", "ik", "jki"]),
    seed=st.integers(0, 2**16),
)
def test_einsum_gradients_on_random_equations(sizes, output, seed):
    size = dict(zip("ijk", sizes, strict=True))
    a = leaf(size["i"], size["j"], seed=seed)
    b = leaf(size["j"], size["k"], seed=seed + 1)
    assert gradcheck(lambda a, b: aprende.einsum(f"ij,jk->{output}", a, b), [a, b])


def test_grad_and_hooks_agree_with_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((3, 4))
    results = []
    for ns in (aprende, torch):
        x = ns.tensor(values, requires_grad=True)
        h = ns.tanh(x) * 2
        h.register_hook(lambda g: g * 0.5)
        out = ns.einsum("ij,kj->ik", h, x).sum() + (x * x).sum()
        gx, gh = ns.autograd.grad(out, [x, h])
        results.append((gx.detach().numpy(), gh.detach().numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
