"""Loss modules: the same values and gradients as torch.nn for every option, gradcheck of the
modules, buffers, and the errors a target that does not fit raises."""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck

rng = np.random.default_rng(99)


def f32(*shape, low=None, high=None):
    data = rng.normal(size=shape) if low is None else rng.uniform(low, high, size=shape)
    return data.astype(np.float32)


WEIGHT = np.array([0.5, 2.0, 1.0, 1.5], dtype=np.float32)


def class_target(shape, ignore=()):
    y = rng.integers(0, 4, size=shape)
    for i in ignore:
        y.reshape(-1)[i] = -100
    return y


def probabilities(shape):
    e = np.exp(f32(*shape))
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


# (name, aprende/torch constructor kwargs, input maker, target maker, target is differentiable)
CASES = [
    ("MSELoss", {}, lambda: f32(5, 3), lambda: f32(5, 3), True),
    ("MSELoss", {"reduction": "sum"}, lambda: f32(5, 3), lambda: f32(5, 3), True),
    ("MSELoss", {"reduction": "none"}, lambda: f32(5, 3), lambda: f32(5, 3), True),
    ("L1Loss", {}, lambda: f32(5, 3), lambda: f32(5, 3), True),
    ("L1Loss", {"reduction": "none"}, lambda: f32(4, 2, 3), lambda: f32(4, 2, 3), True),
    ("BCELoss", {}, lambda: f32(5, 4, low=0.02, high=0.98), lambda: f32(5, 4, low=0, high=1), True),
    (
        "BCELoss",
        {"weight": WEIGHT, "reduction": "sum"},
        lambda: f32(5, 4, low=0.02, high=0.98),
        lambda: f32(5, 4, low=0, high=1),
        True,
    ),
    ("BCEWithLogitsLoss", {}, lambda: 4 * f32(5, 4), lambda: f32(5, 4, low=0, high=1), True),
    (
        "BCEWithLogitsLoss",
        {"pos_weight": WEIGHT, "weight": WEIGHT[::-1].copy(), "reduction": "none"},
        lambda: 4 * f32(5, 4),
        lambda: (f32(5, 4) > 0).astype(np.float32),
        True,
    ),
    ("CrossEntropyLoss", {}, lambda: f32(6, 4), lambda: class_target((6,)), False),
    (
        "CrossEntropyLoss",
        {"weight": WEIGHT, "ignore_index": -100},
        lambda: f32(6, 4),
        lambda: class_target((6,), ignore=(2, 4)),
        False,
    ),
    (
        "CrossEntropyLoss",
        {"label_smoothing": 0.15, "weight": WEIGHT},
        lambda: f32(6, 4),
        lambda: class_target((6,), ignore=(1,)),
        False,
    ),
    (
        "CrossEntropyLoss",
        {"label_smoothing": 0.1, "reduction": "none"},
        lambda: f32(3, 4, 5),
        lambda: class_target((3, 5), ignore=(0,)),
        False,
    ),
    (
        "CrossEntropyLoss",
        {"weight": WEIGHT, "reduction": "sum"},
        lambda: f32(2, 4, 3, 2),
        lambda: class_target((2, 3, 2)),
        False,
    ),
    ("CrossEntropyLoss", {"ignore_index": 2}, lambda: f32(6, 4), lambda: class_target((6,)), False),
    ("CrossEntropyLoss", {}, lambda: f32(6, 4), lambda: probabilities((6, 4)), True),
    (
        "CrossEntropyLoss",
        {"weight": WEIGHT, "label_smoothing": 0.2},
        lambda: f32(3, 4, 2),
        lambda: probabilities((3, 4, 2)),
        True,
    ),
    (
        "CrossEntropyLoss",
        {"reduction": "none"},
        lambda: f32(6, 4),
        lambda: np.eye(4, dtype=np.float32)[class_target((6,))],
        True,
    ),
    ("CrossEntropyLoss", {}, lambda: f32(4), lambda: np.int64(3), False),
    ("NLLLoss", {}, lambda: np.log(probabilities((6, 4))), lambda: class_target((6,)), False),
    (
        "NLLLoss",
        {"weight": WEIGHT, "reduction": "none"},
        lambda: np.log(probabilities((3, 4, 2))),
        lambda: class_target((3, 2), ignore=(1,)),
        False,
    ),
]


@pytest.mark.parametrize("name, kwargs, make_input, make_target, target_grad", CASES)
def test_loss_matches_torch(device, name, kwargs, make_input, make_target, target_grad):
    """On each device: inputs, targets and the weight buffers there, torch's CPU numbers."""
    torch = pytest.importorskip("torch")
    x, y = make_input(), make_target()
    torch_kwargs = {
        k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    ours_kwargs = {
        k: aprende.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    ours = getattr(nn, name)(**ours_kwargs).to(device)
    theirs = getattr(torch.nn, name)(**torch_kwargs)

    xa = aprende.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    ya = aprende.tensor(y, requires_grad=target_grad, device=device)
    yt = torch.tensor(y, requires_grad=target_grad)
    out_a, out_t = ours(xa, ya), theirs(xt, yt)
    assert out_a.shape == tuple(out_t.shape) and out_a.dtype == aprende.float32
    assert out_a.device == device
    np.testing.assert_allclose(out_a.detach().cpu().numpy(), out_t.detach().numpy(), rtol=1e-5,
                               atol=1e-6)  # fmt: skip

    upstream = rng.normal(size=out_a.shape).astype(np.float32)
    out_a.backward(aprende.tensor(upstream, device=device))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    if target_grad:
        np.testing.assert_allclose(ya.grad.cpu().numpy(), yt.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name, kwargs, make_input, make_target, target_grad", CASES[::3])
def test_loss_modules_gradcheck(name, kwargs, make_input, make_target, target_grad):
    kwargs = {
        k: aprende.tensor(v, dtype=aprende.float64) if isinstance(v, np.ndarray) else v
        for k, v in kwargs.items()
    }
    loss = getattr(nn, name)(**kwargs)
    x = aprende.tensor(make_input(), dtype=aprende.float64, requires_grad=True)
    y = make_target()
    y = aprende.tensor(y, dtype=aprende.float64 if target_grad else None, requires_grad=target_grad)
    assert gradcheck(loss, (x, y))


def test_weights_are_buffers_that_move_with_the_module():
    loss = nn.CrossEntropyLoss(weight=aprende.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    loss.double()
    assert loss.weight.dtype == aprende.float64
    assert repr(loss) == "CrossEntropyLoss()"
    assert list(nn.BCEWithLogitsLoss(pos_weight=aprende.ones(3)).state_dict()) == ["pos_weight"]


def test_sigmoid_plus_bce_equals_bce_with_logits():
    x = aprende.randn(8, 3)
    y = (aprende.rand(8, 3) > 0.5).float()
    np.testing.assert_allclose(
        nn.BCELoss()(aprende.sigmoid(x), y).item(),
        nn.BCEWithLogitsLoss()(x, y).item(),
        rtol=1e-5,
    )


# ---- errors -----------------------------------------------------------------------------------


def test_class_index_out_of_range_names_label_and_classes():
    loss = nn.CrossEntropyLoss()
    x = aprende.randn(3, 4)
    with pytest.raises(IndexError, match=r"target label 7 is out of range for 4 classes"):
        loss(x, aprende.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"target label -1 is out of range for 4 classes"):
        loss(x, aprende.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match=r"nll_loss: target label 4 .* 4 classes"):
        nn.NLLLoss()(x, aprende.tensor([4, 0, 0]))
    # ignore_index is allowed even though it is out of range
    assert np.isfinite(loss(x, aprende.tensor([0, -100, 1])).item())


def test_target_shape_mismatch_names_both_shapes():
    x = aprende.randn(3, 4)
    with pytest.raises(
        ValueError, match=r"shape \(3,\) for an input of shape \(3, 4\).*shape \(2,\)"
    ):
        nn.CrossEntropyLoss()(x, aprende.tensor([0, 1]))
    # a floating target that is not the input's shape: PyTorch's RuntimeError
    with pytest.raises(RuntimeError, match=r"float32 target of shape \(3,\)"):
        nn.CrossEntropyLoss()(x, aprende.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"must be floating point, got int64"):
        nn.CrossEntropyLoss()(x, aprende.tensor(np.eye(4, dtype=np.int64)[:3]))
    # regression losses broadcast with PyTorch's warning (tests/test_pytorch_habits.py)
    with pytest.warns(UserWarning, match=r"target size \(3,\) .* input size \(3, 1\)"):
        nn.MSELoss()(aprende.randn(3, 1), aprende.randn(3))
    with pytest.raises(
        ValueError, match=r"target of shape \(3, 2\) does not match input of shape \(3, 4\)"
    ):
        nn.BCEWithLogitsLoss()(x, aprende.rand(3, 2))
    with pytest.raises(RuntimeError, match=r"l1_loss: target of shape \(4, 3\) cannot be"):
        nn.L1Loss()(x, aprende.rand(4, 3))


def test_bce_rejects_inputs_outside_zero_one():
    with pytest.raises(RuntimeError, match=r"between 0 and 1, got values in \[-0\.5, 1\.2\]"):
        nn.BCELoss()(aprende.tensor([-0.5, 1.2]), aprende.tensor([0.0, 1.0]))


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        nn.CrossEntropyLoss(label_smoothing=1.5)(aprende.randn(2, 3), aprende.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"one value per class, shape \(3,\), got shape \(2,\)"):
        nn.CrossEntropyLoss(weight=aprende.ones(2))(aprende.randn(2, 3), aprende.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"pos_weight of shape \(2,\) cannot be broadcast"):
        nn.BCEWithLogitsLoss(pos_weight=aprende.ones(2))(aprende.randn(2, 3), aprende.rand(2, 3))
    with pytest.raises(ValueError, match="ignore_index is not supported for probability"):
        nn.CrossEntropyLoss(ignore_index=0)(aprende.randn(2, 3), aprende.rand(2, 3))


def test_integer_binary_targets_are_accepted():
    x = aprende.randn(4, 2)
    y = aprende.tensor([[0, 1], [1, 1], [0, 0], [1, 0]])
    expected = nn.BCEWithLogitsLoss()(x, y.float()).item()
    assert nn.BCEWithLogitsLoss()(x, y).item() == pytest.approx(expected)
