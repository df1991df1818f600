"""nn.Sequential runs a Linear layer and the activation after it as one graph node
(ops.linear.LinearActivation): the same numbers, fewer nodes; never where a hook or a subclass
must see the layer's own output."""

import copy

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.ops.linear import Linear, LinearActivation, linear_activation

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid]


def layer_by_layer(model, x):
    """The unfused reference: each module called on its own."""
    for module in model:
        x = module(x)
    return x


def outputs_and_grads(model, x, run):
    model.zero_grad()
    out = run(model, x)
    out.backward(
        aprende.from_numpy(np.linspace(-1, 1, out.numel(), dtype=np.float32)).reshape(out.shape)
    )
    return out.detach().numpy(), [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_fused_pipeline_gives_the_same_bits_as_layer_by_layer(activation, bias):
    aprende.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 40, bias=bias), activation(), nn.Linear(40, 3, bias=bias), activation()
    )
    x = aprende.randn(64, 5) * 3  # some units saturate, some ReLUs are off
    fused_out = model(x)
    assert type(fused_out.grad_fn) is LinearActivation
    fused, fused_grads = outputs_and_grads(model, x, lambda m, x: m(x))
    plain, plain_grads = outputs_and_grads(model, x, layer_by_layer)
    np.testing.assert_array_equal(fused, plain)
    for a, b in zip(fused_grads, plain_grads, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_linear_activation_gradcheck(activation):
    rng = np.random.default_rng(3)
    x, w, b = (
        aprende.tensor(rng.normal(size=shape), dtype=aprende.float64, requires_grad=True)
        for shape in [(4, 3), (5, 3), (5,)]
    )
    assert gradcheck(lambda x, w, b: linear_activation(x, w, b, activation), (x, w, b))


def test_hooks_and_subclasses_see_the_layer_output_unfused():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = aprende.randn(2, 3)
    seen = []
    handle = model[0].register_forward_hook(lambda module, args, out: seen.append(out))
    out = model(x)
    assert len(seen) == 1 and type(seen[0].grad_fn) is Linear  # the pre-activation output
    assert type(out.grad_fn.parents[0].grad_fn).__name__ == "Relu"
    handle.remove()
    assert type(model(x).grad_fn.parents[0].grad_fn) is LinearActivation

    class MyReLU(nn.ReLU):
        def forward(self, input):
            return super().forward(input) * 2

    model[1] = MyReLU()
    doubled = model(x)
    assert type(doubled.grad_fn.parents[0].grad_fn) is not LinearActivation
    np.testing.assert_allclose(
        doubled.detach().numpy(), layer_by_layer(model, x).detach().numpy(), rtol=0
    )


def test_changing_the_layers_changes_the_plan_and_copies_run_their_own_layers():
    aprende.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = aprende.randn(5, 3)
    model(x)  # builds the plan
    model[1] = nn.LeakyReLU(0.5)
    np.testing.assert_array_equal(
        model(x).detach().numpy(), layer_by_layer(model, x).detach().numpy()
    )
    twin = copy.deepcopy(model)
    with aprende.no_grad():
        twin[0].weight.mul_(2)
    np.testing.assert_array_equal(
        twin(x).detach().numpy(), layer_by_layer(twin, x).detach().numpy()
    )
    assert not np.array_equal(twin(x).detach().numpy(), model(x).detach().numpy())
    model.append(nn.Sigmoid())
    assert type(model(x).grad_fn) is LinearActivation
