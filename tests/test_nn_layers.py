"""Layers: gradcheck in training and evaluation mode, the same values and gradients as torch.nn
with identical weights, BatchNorm's running statistics, Dropout and GaussianNoise behaviour,
containers and the MLP builder."""

import warnings

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck

rng = np.random.default_rng(5)


def x64(*shape):
    return aprende.tensor(rng.normal(size=shape), dtype=aprende.float64, requires_grad=True)


def copy_into_torch(ours, theirs):
    """Give a torch module our parameters and buffers (the same weights on both sides)."""
    import torch

    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value)))


def assert_same_as_torch(ours, theirs, x, rtol=1e-5, atol=1e-6, device="cpu"):
    """Forward and backward (random upstream gradient) agree: output, input and parameter grads;
    ours runs on ``device``."""
    import torch

    ours.to(device)
    xa = aprende.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    out_a, out_t = ours(xa), theirs(xt)
    assert out_a.device == device
    np.testing.assert_allclose(out_a.detach().cpu().numpy(), out_t.detach().numpy(), rtol, atol)
    upstream = rng.normal(size=out_a.shape).astype(np.float32)
    out_a.backward(aprende.tensor(upstream, device=device))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad.cpu().numpy(), torch_params[name].grad.numpy(), rtol=1e-4, atol=1e-5
        )


# ---- Linear -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias, device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias)
    copy_into_torch(ours, theirs)
    assert_same_as_torch(ours, theirs, rng.normal(size=shape).astype(np.float32))


def test_linear_gradcheck_and_layout():
    layer = nn.Linear(4, 3).double()
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == aprende.float64
    assert gradcheck(lambda x, w, b: layer(x), (x64(2, 4), layer.weight, layer.bias))
    assert repr(nn.Linear(4, 3, bias=False)) == "Linear(in_features=4, out_features=3, bias=False)"
    assert nn.Linear(2, 2, dtype=aprende.float64).weight.dtype == aprende.float64


def test_linear_init_is_reproducible_from_the_seed():
    aprende.manual_seed(3)
    a = nn.Linear(5, 4)
    aprende.manual_seed(3)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())


# ---- activations and shape layers -------------------------------------------------------------


ACTIVATIONS = [
    ("ReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": 1}),
    ("Softmax", {"dim": -1}),
    ("Identity", {}),
    ("Flatten", {}),
    ("Flatten", {"start_dim": 0, "end_dim": 1}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_matches_torch_and_gradchecks(name, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert_same_as_torch(ours, theirs, rng.normal(size=(3, 4, 2)).astype(np.float32), device=device)
    assert gradcheck(ours, (x64(3, 4, 2),))


def test_activation_derivatives_as_documented():
    a = aprende.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    for module, derivative in [
        (nn.Sigmoid(), lambda f, a: f * (1 - f)),
        (nn.Tanh(), lambda f, a: 1 - f**2),
        (nn.ReLU(), lambda f, a: (a > 0).astype(np.float32)),
        (nn.LeakyReLU(0.1), lambda f, a: np.where(a > 0, 1.0, 0.1)),
        (nn.Sign(), lambda f, a: np.zeros_like(a)),
    ]:
        a.grad = None
        f = module(a)
        f.sum().backward()
        expected = derivative(f.detach().numpy(), a.detach().numpy())
        np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(nn.Sign()(a).detach().numpy(), [-1, -1, 1, 1])


def test_softmax_without_dim_warns_and_uses_pytorch_legacy_choice():
    x = aprende.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = nn.Softmax()(x)
    np.testing.assert_allclose(out.sum(1).numpy(), [1, 1], rtol=1e-6)


def test_identity_ignores_arguments_and_reprs():
    layer = nn.Identity(54, unused="x")
    x = aprende.randn(2)
    assert layer(x) is x
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


# ---- BatchNorm1d ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 4)])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3, "affine": False},
        {"track_running_stats": False},
        {"eps": 1e-3},
        {"bias": False},
    ],
)
def test_batchnorm_matches_torch_over_several_steps(shape, kwargs, device):
    torch = pytest.importorskip("torch")
    assert_batchnorm_steps_as_torch(
        nn.BatchNorm1d(3, **kwargs), torch.nn.BatchNorm1d(3, **kwargs), shape, device
    )


def assert_batchnorm_steps_as_torch(ours, theirs, shape, device="cpu"):
    """Four training steps (outputs, gradients, every state_dict entry after each), then one in
    evaluation, with the same random γ, β on both sides."""
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with aprende.no_grad():
        for p in ours.parameters():
            p.copy_(aprende.tensor(rng.uniform(0.5, 2, size=p.shape)))
    copy_into_torch(ours, theirs)
    for step in range(4):
        x = rng.normal(step, 1 + step, size=shape).astype(np.float32)
        for module in (ours, theirs):
            module.train()
            for p in module.parameters():
                p.grad = None
        assert_same_as_torch(ours, theirs, x, device=device)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(
                ours.state_dict()[name].cpu().numpy(), value.numpy(), rtol=1e-5, atol=1e-6
            )
    ours.eval()
    theirs.eval()
    for p in (*ours.parameters(), *theirs.parameters()):
        p.grad = None
    assert_same_as_torch(ours, theirs, rng.normal(size=shape).astype(np.float32), device=device)


def test_batchnorm_running_statistics_formula():
    bn = nn.BatchNorm1d(2, momentum=0.2)
    batches = [rng.normal(3, 2, size=(10, 2)).astype(np.float32) for _ in range(3)]
    mean, var = np.zeros(2), np.ones(2)
    for batch in batches:
        bn(aprende.tensor(batch))
        mean = 0.8 * mean + 0.2 * batch.mean(0)
        var = 0.8 * var + 0.2 * batch.var(0, ddof=1)  # unbiased for the running estimate
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = rng.normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(
        bn(aprende.tensor(x)).detach().numpy(), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4
    )
    assert bn.num_batches_tracked.item() == 3  # evaluation leaves the statistics alone


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [rng.normal(i, 1, size=(5, 1)).astype(np.float32) for i in range(3)]
    for batch in batches:
        bn(aprende.tensor(batch))
    expected = np.mean([b.mean() for b in batches])
    np.testing.assert_allclose(bn.running_mean.numpy(), [expected], rtol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (3, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(shape, training):
    bn = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(3).double()
    with aprende.no_grad():
        bn.running_mean.copy_(aprende.tensor(rng.normal(size=3)))
        bn.running_var.copy_(aprende.tensor(rng.uniform(0.5, 2, size=3)))
        bn.weight.copy_(aprende.tensor(rng.uniform(0.5, 2, size=3)))
    bn.train(training)
    assert gradcheck(lambda x, w, b: bn(x), (x64(*shape), bn.weight, bn.bias))


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        bn(aprende.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 3 features.*\(2, 4\)"):
        bn(aprende.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(aprende.randn(1, 3))
    bn.eval()
    assert bn(aprende.randn(1, 3)).shape == (1, 3)  # a single sample is fine in evaluation


# ---- Dropout and GaussianNoise ----------------------------------------------------------------


def test_dropout_module_training_and_evaluation():
    layer = nn.Dropout(0.25)
    x = aprende.ones(100, 400)
    out = layer(x).numpy()
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert out.mean() == pytest.approx(1.0, abs=0.015)
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "Dropout(p=0.25, inplace=False)"
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)


def test_dropout_module_gradcheck_in_both_modes():
    layer = nn.Dropout(0.5)

    def fn(x):
        aprende.manual_seed(11)
        return layer(x)

    assert gradcheck(fn, (x64(4, 5),))
    layer.eval()
    assert gradcheck(fn, (x64(4, 5),))


def test_dropout_draws_from_the_global_generator():
    aprende.manual_seed(4)
    a = nn.Dropout()(aprende.ones(10, 10)).numpy()
    aprende.manual_seed(4)
    b = nn.Dropout()(aprende.ones(10, 10)).numpy()
    np.testing.assert_array_equal(a, b)


def test_gaussian_noise():
    layer = nn.GaussianNoise(0.5)
    x = aprende.zeros(200, 300, requires_grad=True)
    out = layer(x)
    assert out.dtype == aprende.float32
    noise = out.detach().numpy()
    assert noise.mean() == pytest.approx(0.0, abs=0.01)
    assert noise.std() == pytest.approx(0.5, rel=0.02)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)  # ∂(x + ε)/∂x = 1
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "GaussianNoise(std=0.5)"
    with pytest.raises(ValueError, match="std must be non-negative, got -1"):
        nn.GaussianNoise(-1)


def test_gaussian_noise_gradcheck_with_fixed_noise():
    layer = nn.GaussianNoise(0.3)

    def fn(x):
        aprende.manual_seed(2)
        return layer(x)

    x = x64(3, 4)
    assert fn(x).dtype == aprende.float64
    assert gradcheck(fn, (x,))


# ---- containers -------------------------------------------------------------------------------


def test_sequential_forward_indexing_and_editing():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = aprende.randn(5, 4)
    expected = model[2](model[1](model[0](x)))
    np.testing.assert_allclose(model(x).detach().numpy(), expected.detach().numpy())
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    del model[1]
    assert [type(m).__name__ for m in model] == ["Linear", "Linear"]
    assert [name for name, _ in model.named_children()] == ["0", "1"]
    model.append(nn.Sigmoid())
    model.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    model[1] = nn.ReLU()
    assert isinstance(model[1], nn.ReLU)
    with pytest.raises(IndexError, match="index 9 is out of range for a Sequential of length 4"):
        model[9]


def test_sequential_with_named_layers():
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict(hidden=nn.Linear(3, 4), act=nn.Tanh(), out=nn.Linear(4, 1)))
    assert [n for n, _ in model.named_parameters()] == [
        "hidden.weight",
        "hidden.bias",
        "out.weight",
        "out.bias",
    ]
    assert model.act is model[1]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers += [nn.Linear(2, 1)]
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert [name for name, _ in layers.named_children()] == ["0", "1", "2"]
    with pytest.raises(NotImplementedError, match='ModuleList.*missing the required "forward"'):
        layers(aprende.randn(2))


# ---- MLP --------------------------------------------------------------------------------------


def test_mlp_structure():
    model = nn.MLP(4, [16, 8], 3)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (4, 16),
        (16, 8),
        (8, 3),
    ]
    full = nn.MLP(4, [16], 2, activation="tanh", batch_norm=True, dropout=0.2, noise=0.1)
    assert [type(m).__name__ for m in full] == [
        "GaussianNoise",
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
    ]
    assert full[4].p == 0.2 and full[0].std == 0.1
    assert isinstance(full, nn.Sequential) and repr(full).startswith("MLP(\n  (0): GaussianNoise")
    assert nn.MLP(3, [], 1)[0].in_features == 3  # no hidden layer: a linear model


@pytest.mark.parametrize(
    "activation, kind",
    [
        ("sigmoid", nn.Sigmoid),
        ("leaky_relu", nn.LeakyReLU),
        ("sign", nn.Sign),
        ("linear", nn.Identity),
        (nn.LeakyReLU(0.3), nn.LeakyReLU),
        (lambda: nn.LeakyReLU(0.2), nn.LeakyReLU),
    ],
)
def test_mlp_activation_choices(activation, kind):
    model = nn.MLP(2, [3, 3], 1, activation=activation)
    acts = [m for m in model if isinstance(m, kind)]
    assert len(acts) == 2 and acts[0] is not acts[1]


def test_mlp_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'; expected one of"):
        nn.MLP(2, [3], 1, activation="swish")
    with pytest.raises(ValueError, match=r"positive integers.*hidden=\[3, 0\]"):
        nn.MLP(2, [3, 0], 1)


def test_mlp_gradcheck_in_training_and_evaluation():
    model = nn.MLP(3, [4], 2, activation="tanh", batch_norm=True, dropout=0.3, noise=0.1).double()
    params = list(model.parameters())

    def fn(x, *params):
        aprende.manual_seed(8)  # the same dropout mask and noise at every call
        return model(x)

    for training in (True, False):
        model.train(training)
        assert gradcheck(fn, (x64(5, 3), *params))


def test_mlp_matches_torch_sequential():
    torch = pytest.importorskip("torch")
    ours = nn.MLP(3, [5, 4], 2, activation="tanh", batch_norm=True)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5),
        torch.nn.BatchNorm1d(5),
        torch.nn.Tanh(),
        torch.nn.Linear(5, 4),
        torch.nn.BatchNorm1d(4),
        torch.nn.Tanh(),
        torch.nn.Linear(4, 2),
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_into_torch(ours, theirs)
    assert_same_as_torch(ours, theirs, rng.normal(size=(6, 3)).astype(np.float32))
    ours.eval()
    theirs.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours(aprende.randn(2, 3))
    assert out.shape == (2, 2)
