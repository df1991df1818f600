"""In-place methods without PyTorch: values against NumPy and the formulas written out here,
the write rules (dtype kind, shape), the refusals that keep gradients right, and the fused
``addcmul``/``addcdiv`` against finite differences."""

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck
from aprende.ops.inplace import ELEMENTWISE

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (2, 3))
Y = RNG.uniform(0.2, 0.8, (2, 3))


@pytest.mark.parametrize(
    "call, reference",
    [
        (lambda x, y: x.add_(y, alpha=2), lambda x, y: x + 2 * y),
        (lambda x, y: x.sub_(y), lambda x, y: x - y),
        (lambda x, y: x.mul_(y).add_(1), lambda x, y: x * y + 1),
        (lambda x, y: x.sqrt_(), lambda x, y: np.sqrt(x)),
        (lambda x, y: x.exp_().log_(), lambda x, y: np.log(np.exp(x))),
        (lambda x, y: x.sigmoid_(), lambda x, y: 1 / (1 + np.exp(-x))),
        (lambda x, y: x.clamp_(0.3, 0.6), lambda x, y: np.clip(x, 0.3, 0.6)),
        (lambda x, y: x.lerp_(y, 0.25), lambda x, y: x + 0.25 * (y - x)),
        (lambda x, y: x.addcmul_(y, y, value=-0.5), lambda x, y: x - 0.5 * y * y),
        (lambda x, y: x.addcdiv_(y, y + 1, value=3), lambda x, y: x + 3 * y / (y + 1)),
        (lambda x, y: x.cumsum_(1), lambda x, y: np.cumsum(x, axis=1)),
        (lambda x, y: x.gt_(0.5), lambda x, y: (x > 0.5).astype(np.float64)),
    ],
)
def test_an_inplace_method_writes_its_formula_into_the_same_memory(call, reference):
    x, y = aprende.tensor(X), aprende.tensor(Y)
    memory, view = x.data, x[0]
    assert call(x, y) is x
    expected = reference(X, Y)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-12)
    assert x.data is memory and x.dtype == aprende.float64
    np.testing.assert_allclose(view.numpy(), expected[0], rtol=1e-12)  # a view sees it
    assert x._version >= 1


def test_every_twin_has_its_out_of_place_op():
    missing = [name for name in ELEMENTWISE if not hasattr(aprende.Tensor, name)]
    assert not missing and all(hasattr(aprende.Tensor, f"{name}_") for name in ELEMENTWISE)


def test_a_floating_result_does_not_go_into_an_integer_tensor():
    x = aprende.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="div_: result type Float can't be cast to .* Long"):
        x.div_(2)
    with pytest.raises(RuntimeError, match="add_: result type Float"):
        x += 0.5
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        x.add_(x, alpha=0.5)
    assert x.tolist() == [1, 2, 3] and x._version == 0  # refused before anything was written
    assert x.div_(2, rounding_mode="floor").tolist() == [0, 1, 1]


def test_a_wider_operand_of_the_same_kind_is_rounded_into_the_tensor():
    x = aprende.tensor(X.astype(np.float32))
    x.add_(aprende.tensor(Y))  # float64 operand
    assert x.dtype == aprende.float32
    np.testing.assert_array_equal(x.numpy(), (X.astype(np.float32) + Y).astype(np.float32))


def test_broadcasting_stretches_the_operand_never_the_tensor():
    x = aprende.tensor(X)
    x.add_(aprende.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.numpy(), X + [1.0, 2.0, 3.0])
    row = aprende.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match .* \[2, 3\]"):
        row.mul_(aprende.tensor(X))
    with pytest.raises(RuntimeError, match=r"copy_: source of shape \(2, 3\)"):
        row.copy_(aprende.tensor(X))
    assert row.tolist() == [1.0, 2.0, 3.0]


def test_inplace_ops_refuse_tensors_that_a_gradient_depends_on():
    w = aprende.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="exp_: in-place operation on a leaf tensor"):
        w.exp_()
    hidden = w * 2
    with pytest.raises(RuntimeError, match="relu_: .* part of the computational graph"):
        hidden.relu_()
    with pytest.raises(RuntimeError, match="addcmul_: .* argument that requires grad"):
        aprende.tensor(Y).addcmul_(w, w)
    with aprende.no_grad():  # as an optimizer's step
        w.mul_(0.5).addcmul_(w, w, value=2)
    np.testing.assert_allclose(w.detach().numpy(), X / 2 + 2 * (X / 2) ** 2)


def test_changing_a_saved_tensor_in_place_makes_backward_raise():
    w = aprende.tensor(X, requires_grad=True)
    scale = aprende.tensor(Y)
    loss = (w * scale).sum()
    scale.sqrt_()  # the product's backward reads scale
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_fill_and_the_random_fills_check_their_arguments():
    x = aprende.zeros(3)
    assert x.fill_(aprende.tensor(2.5)).tolist() == [2.5, 2.5, 2.5]
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        x.fill_(aprende.tensor([1.0]))
    with pytest.raises(RuntimeError, match="uniform_: not implemented for int64"):
        aprende.zeros(3, dtype=aprende.int64).uniform_()
    with pytest.raises(NotImplementedError, match="cumsum_: not implemented for bool"):
        aprende.tensor([True, False]).cumsum_(0)


def test_addcmul_and_addcdiv_gradients_match_finite_differences():
    a, b, c = (aprende.tensor(RNG.uniform(0.5, 1.5, (2, 3)), requires_grad=True) for _ in "abc")
    assert gradcheck(lambda a, b, c: aprende.addcmul(a, b, c, value=-0.7), (a, b, c))
    assert gradcheck(lambda a, b, c: aprende.addcdiv(a, b, c, value=1.3), (a, b, c))
    row = aprende.tensor(RNG.uniform(0.5, 1.5, (3,)), requires_grad=True)  # broadcast
    assert gradcheck(lambda a, r: a.addcdiv(r, a, value=2), (a, row))


def test_integer_addcmul_casts_value_and_addcdiv_refuses_integer_division():
    i = aprende.tensor([1, 2])
    assert aprende.addcmul(i, i, i, value=1.7).tolist() == [2, 6]  # value 1.7 → 1, as PyTorch
    with pytest.raises(RuntimeError, match="addcdiv: integer division"):
        aprende.addcdiv(aprende.ones(2), i, i)


def test_aliases_are_the_ops_they_name():
    x, y = aprende.tensor(X), aprende.tensor(Y)
    np.testing.assert_array_equal(aprende.multiply(x, y).numpy(), (x * y).numpy())
    np.testing.assert_array_equal(x.subtract(y, alpha=2).numpy(), (x - 2 * y).numpy())
    np.testing.assert_array_equal(aprende.true_divide(aprende.tensor([1, 2]), 2).numpy(), [0.5, 1])
    assert aprende.absolute(-x).tolist() == x.tolist() and x.negative().tolist() == (-x).tolist()
    assert aprende.sgn(aprende.tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]


def test_bool_tensors_refuse_arithmetic_that_pytorch_refuses():
    mask = aprende.tensor([True, False])
    with pytest.raises(RuntimeError, match="use the `~` or logical_not"):
        _ = -mask
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor"):
        _ = 1 - mask
    with pytest.raises(NotImplementedError, match="abs: not implemented for bool"):
        mask.abs()
    assert aprende.square(mask).dtype == aprende.int64


def test_inplace_methods_on_each_device(device):
    x, y = aprende.tensor(X, device=device), aprende.tensor(Y, device=device)
    memory = x.data
    x.mul_(y).addcmul_(y, y, value=0.5).clamp_(0.1, 0.4).add_(aprende.ones(3, device=device))
    x[0, 0] = 7.0
    assert x.data is memory and x.device == y.device
    expected = np.clip(X * Y + 0.5 * Y * Y, 0.1, 0.4) + 1
    expected[0, 0] = 7.0
    np.testing.assert_allclose(x.cpu().numpy(), expected, rtol=1e-12)
    with pytest.raises(RuntimeError, match="can't be cast"):
        aprende.tensor([1, 2], device=device).sqrt_()
