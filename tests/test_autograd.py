"""The backward engine: chain rule over the graph, accumulation, modes, memory, in-place safety."""

import gc
import weakref

import numpy as np
import pytest

import aprende
from aprende.autograd import GradcheckError, gradcheck


def test_micrograd_reuse_of_a_non_leaf_sums_every_path():
    # a = 1; b = a + a; c = b + b  ->  dc/da = 4 (micrograd's classic bug report)
    a = aprende.tensor(1.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_gradient_summed_over_every_path_matches_hand_derivative():
    # f(x) = x·exp(x) + x² ; f'(x) = exp(x)(1 + x) + 2x
    x = aprende.tensor(0.7, dtype=aprende.float64, requires_grad=True)
    y = x * x.exp() + x * x
    y.backward()
    expected = np.exp(0.7) * 1.7 + 1.4
    assert x.grad.item() == pytest.approx(expected, rel=1e-12)


def test_broadcast_gradient_reduced_to_each_input_shape():
    a = aprende.ones(3, 1, requires_grad=True)
    b = aprende.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and np.all(a.grad.numpy() == 4)
    assert b.grad.shape == (4,) and np.all(b.grad.numpy() == 3)


def test_gradients_accumulate_across_backward_calls():
    w = aprende.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 6.0])
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_leaf_gradients_do_not_share_memory():
    a = aprende.ones(3, requires_grad=True)
    b = aprende.ones(3, requires_grad=True)
    (a + b).sum().backward()
    with aprende.no_grad():
        a.grad.mul_(10)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


def test_chain_of_100000_ops_has_no_recursion_error():
    x = aprende.tensor(1.0, dtype=aprende.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_backward_on_non_scalar_without_gradient_is_a_clear_error():
    x = aprende.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


def test_backward_with_explicit_gradient_on_non_scalar():
    x = aprende.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(aprende.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_backward_gradient_of_wrong_shape_is_an_error():
    x = aprende.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\) does not match.*\(3,\)"):
        (x * 2).backward(np.ones(2, dtype=np.float32))


def test_backward_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        aprende.ones(2).sum().backward()


def test_second_backward_through_freed_graph_is_an_error():
    x = aprende.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_into_a_subgraph_freed_by_another_backward_is_an_error():
    x = aprende.ones(2, requires_grad=True)
    shared = x * 2
    first, second = shared.sum(), (shared * 3).sum()
    first.backward()
    with pytest.raises(RuntimeError, match="second time"):
        second.backward()


def test_nodes_run_after_all_their_consumers_whatever_the_creation_interleaving():
    # d = c·a + a with c = a·b, b = a + 1, a = 2x, so d = a³ + a² + a: a feeds three nodes
    # made at different times and must wait for all of them. dd/dx = 2(3a² + 2a + 1).
    x = aprende.tensor([0.5, -1.0, 2.0], dtype=aprende.float64, requires_grad=True)
    a = x * 2
    b = a + 1
    c = a * b
    (c * a + a).sum().backward()
    av = 2 * x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (3 * av**2 + 2 * av + 1), rtol=1e-12)


def test_retain_graph_allows_a_second_backward():
    x = aprende.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0])


def test_no_grad_records_nothing_and_enable_grad_restores():
    x = aprende.ones(2, requires_grad=True)
    with aprende.no_grad():
        y = x * 2
        assert not aprende.is_grad_enabled()
        with aprende.enable_grad():
            z = x * 2
    assert aprende.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_set_grad_enabled_as_function_context_and_decorator():
    x = aprende.ones(2, requires_grad=True)
    with aprende.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @aprende.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad
    aprende.set_grad_enabled(False)
    assert not aprende.is_grad_enabled()
    aprende.set_grad_enabled(True)
    assert aprende.is_grad_enabled()


def test_is_leaf_grad_fn_and_retain_grad():
    x = aprende.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    assert x.is_leaf and not y.is_leaf
    assert type(y.grad_fn).__name__ == "Mul"
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_training_step_leaves_no_graph_alive():
    w = aprende.randn(4, 3, requires_grad=True)
    x = aprende.randn(8, 4)
    hidden = (x @ w).tanh()
    loss = (hidden * hidden).mean()
    node_ref = weakref.ref(loss.grad_fn)
    hidden_ref = weakref.ref(hidden)
    del hidden
    loss.backward()
    gc.collect()
    assert hidden_ref() is None, "an intermediate tensor outlived backward()"
    assert node_ref() is not None and node_ref().parents is None, "the graph was not freed"
    del loss
    gc.collect()
    assert node_ref() is None


def test_graph_without_backward_is_freed_by_reference_counting():
    w = aprende.randn(4, 3, requires_grad=True)
    loss = (aprende.randn(2, 4) @ w).sum()
    ref = weakref.ref(loss.grad_fn)
    del loss
    assert ref() is None


# ---- in-place operations ------------------------------------------------------------------------


def test_inplace_ops_work_under_no_grad_and_on_plain_tensors():
    w = aprende.ones(3, requires_grad=True)
    with aprende.no_grad():
        w.add_(1).mul_(3).sub_(aprende.ones(3))
        w[0] = 10.0
    np.testing.assert_array_equal(w.detach().numpy(), [10, 5, 5])
    t = aprende.zeros(2, 2)
    t.add_(2)
    t[1] = aprende.tensor([7.0, 8.0])
    t.copy_(t * 2)
    np.testing.assert_array_equal(t.numpy(), [[4, 4], [14, 16]])
    t.zero_()
    assert t.numpy().sum() == 0


@pytest.mark.parametrize("op", ["add_", "mul_", "sub_", "zero_", "copy_", "setitem"])
def test_inplace_on_leaf_that_requires_grad_raises(op):
    w = aprende.ones(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="in-place operation on a leaf tensor that requires grad"
    ):
        if op == "zero_":
            w.zero_()
        elif op == "copy_":
            w.copy_(aprende.zeros(3))
        elif op == "setitem":
            w[0] = 2.0
        else:
            getattr(w, op)(2.0)


def test_inplace_on_graph_intermediate_raises():
    x = aprende.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="part of the computational graph"):
        y.mul_(2)


def test_modifying_a_saved_tensor_before_backward_is_detected():
    x = aprende.ones(3, requires_grad=True)
    y = (x * x).sum()
    with aprende.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_of_an_unsaved_input_is_allowed():
    x = aprende.ones(3, requires_grad=True)
    y = (x + 1).sum()
    with aprende.no_grad():
        x.add_(1)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 1])


def test_augmented_assignment_on_intermediate_rebinds_out_of_place():
    x = aprende.tensor([2.0], requires_grad=True)
    y = x * 1
    y += x
    y.sum().backward()
    assert x.grad.item() == 2.0


# ---- gradcheck is itself checked ----------------------------------------------------------------


def test_gradcheck_passes_for_a_correct_op():
    x = aprende.randn(3, 2, dtype=aprende.float64, requires_grad=True)
    assert gradcheck(lambda t: (t * t).sum(dim=1), (x,))


def test_gradcheck_on_a_transposed_input():
    base = aprende.randn(3, 2, dtype=aprende.float64)
    x = base.T.detach().requires_grad_()  # a non-contiguous view
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda t: (t * t.exp()).sum(dim=0), (x,))


def test_gradcheck_catches_a_wrong_backward():
    class BadSquare(aprende.autograd.Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, grad):
            return (grad * self.a,)  # should be 2·a·grad

    x = aprende.randn(4, dtype=aprende.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(BadSquare.apply, (x,))
    assert gradcheck(BadSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda t: t * 2, (aprende.ones(2, dtype=aprende.float64),))


def test_gradcheck_warns_on_float32():
    x = aprende.randn(2, requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2)
