"""nn.init: PyTorch's gains and fans, the bounds and spread of every initialiser, the layers'
default initialisation, generators and in-place writing."""

import math

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.nn import init

GAINS = [
    ("linear", None, 1.0),
    ("sigmoid", None, 1.0),
    ("conv2d", None, 1.0),
    ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize("nonlinearity, param, expected", GAINS)
def test_calculate_gain(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected)


@pytest.mark.parametrize("nonlinearity, param, expected", GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param, expected):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param)
    )


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape, fans", [((3, 4), (4, 3)), ((5, 3, 2, 2), (12, 20))])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(aprende.zeros(*shape)) == fans


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions, got shape \\(5,\\)"):
        init.xavier_uniform_(aprende.zeros(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(aprende.zeros(2, 2), mode="fan_avg")


def weight(rows=400, cols=300):
    return nn.Parameter(aprende.zeros(rows, cols))


def assert_uniform(t, bound):
    values = t.detach().numpy()
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.99 * bound and values.max() > 0.99 * bound
    assert values.mean() == pytest.approx(0.0, abs=0.01 * bound)
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def assert_normal(t, std):
    values = t.detach().numpy()
    assert values.mean() == pytest.approx(0.0, abs=0.01 * std)
    assert values.std() == pytest.approx(std, rel=0.01)


def test_basic_fills():
    t = weight(200, 200)
    assert_uniform(init.uniform_(t, -2.0, 2.0), 2.0)
    values = init.normal_(t, 3.0, 0.5).detach().numpy()
    assert values.mean() == pytest.approx(3.0, abs=0.01) and values.std() == pytest.approx(
        0.5, 0.01
    )
    assert (init.constant_(t, 0.25).detach().numpy() == 0.25).all()
    assert not init.zeros_(t).detach().numpy().any()
    assert (init.ones_(t).detach().numpy() == 1).all()


def test_xavier():
    fan_in, fan_out = 300, 400
    assert_uniform(init.xavier_uniform_(weight()), math.sqrt(6 / (fan_in + fan_out)))
    gain = init.calculate_gain("tanh")
    assert_uniform(init.xavier_uniform_(weight(), gain), gain * math.sqrt(6 / (fan_in + fan_out)))
    assert_normal(init.xavier_normal_(weight()), math.sqrt(2 / (fan_in + fan_out)))


def test_kaiming():
    assert_uniform(init.kaiming_uniform_(weight(), nonlinearity="relu"), math.sqrt(6 / 300))
    assert_uniform(
        init.kaiming_uniform_(weight(), mode="fan_out", nonlinearity="relu"), math.sqrt(6 / 400)
    )
    assert_normal(init.kaiming_normal_(weight(), nonlinearity="relu"), math.sqrt(2 / 300))
    assert_normal(init.kaiming_normal_(weight(), a=0.2, mode="fan_out"), math.sqrt(2 / 1.04 / 400))
    assert_uniform(init.kaiming_uniform_(weight(), a=math.sqrt(5)), 1 / math.sqrt(300))


def test_lecun():
    assert_uniform(init.lecun_uniform_(weight()), math.sqrt(3 / 300))
    assert_normal(init.lecun_normal_(weight()), math.sqrt(1 / 300))


def test_linear_default_init_statistics():
    layer = nn.Linear(256, 512)
    bound = 1 / math.sqrt(256)
    assert_uniform(layer.weight, bound)
    biases = layer.bias.detach().numpy()
    assert biases.min() >= -bound and biases.max() <= bound
    assert biases.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_linear_default_init_matches_torch_distribution():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(300, 200).weight.detach().numpy(), torch.nn.Linear(300, 200).weight
    theirs = theirs.detach().numpy()
    assert np.abs(ours).max() <= 1 / math.sqrt(300) and np.abs(theirs).max() <= 1 / math.sqrt(300)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)


def test_batchnorm_default_init():
    bn = nn.BatchNorm1d(5)
    assert (bn.weight.detach().numpy() == 1).all() and not bn.bias.detach().numpy().any()
    assert not bn.running_mean.numpy().any() and (bn.running_var.numpy() == 1).all()


def test_generator_argument_and_global_seed():
    a, b = weight(5, 5), weight(5, 5)
    state = aprende.get_rng_state()
    init.xavier_uniform_(a, generator=np.random.default_rng(3))
    init.xavier_uniform_(b, generator=3)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert aprende.get_rng_state() == state  # an explicit generator leaves the global one alone
    aprende.manual_seed(9)
    init.kaiming_normal_(a)
    aprende.manual_seed(9)
    init.kaiming_normal_(b)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_init_writes_in_place_without_recording_a_graph():
    p = weight(3, 4)
    data = p.data
    with aprende.enable_grad():
        out = init.kaiming_uniform_(p)
    assert out is p and p.data is data and p.is_leaf and p.requires_grad
    assert p.dtype == aprende.float32
    double = nn.Parameter(aprende.zeros(3, 4, dtype=aprende.float64))
    assert init.normal_(double).dtype == aprende.float64


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(aprende.zeros(0, 3))
