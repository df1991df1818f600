"""Activation, padding, shuffle, normalisation and dropout layers without PyTorch: values
against formulas written out here in NumPy, finite-difference gradient checks in float64, the
random layers' statistics with a fixed seed, and the in-place rules."""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(1)


def x64(*shape, scale=1.0, shift=0.0):
    return aprende.tensor(
        rng.standard_normal(shape) * scale + shift, dtype=aprende.float64, requires_grad=True
    )


def away_from(values, kinks, margin=0.05):
    """``values`` moved off the kinks, where finite differences straddle two slopes."""
    for kink in kinks:
        values = np.where(np.abs(values - kink) < margin, kink + 2 * margin, values)
    return values


def smooth(*shape, kinks=(0.0,)):
    values = away_from(rng.standard_normal(shape) * 2, kinks)
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


# ---- activations -------------------------------------------------------------------------------

SHRINKS = {
    "hardshrink": (lambda t: F.hardshrink(t, 0.5), lambda x: np.where(np.abs(x) > 0.5, x, 0.0)),
    "softshrink": (
        lambda t: F.softshrink(t, 0.5),
        lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0),
    ),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "threshold": (lambda t: F.threshold(t, 0.3, -2.0), lambda x: np.where(x > 0.3, x, -2.0)),
    "rrelu-eval": (F.rrelu, lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
}


@pytest.mark.parametrize("name", SHRINKS)
def test_activation_values_and_gradcheck(name):
    op, formula = SHRINKS[name]
    x = smooth(4, 5, kinks=(-0.5, 0.0, 0.3, 0.5))
    np.testing.assert_allclose(op(x).detach().numpy(), formula(x.detach().numpy()), rtol=1e-12)
    assert gradcheck(op, (x,), atol=1e-7, rtol=1e-5)


def test_shrink_derivative_is_zero_at_the_bounds():
    x = aprende.tensor([-0.5, 0.5, 0.6], dtype=aprende.float64, requires_grad=True)
    (F.hardshrink(x) + F.softshrink(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 2.0])


def test_prelu_values_and_gradients_of_input_and_slopes():
    x, weight = (
        smooth(2, 3, 4),
        aprende.tensor([0.1, 0.2, 0.3], requires_grad=True, dtype=aprende.float64),
    )
    values, slopes = x.detach().numpy(), weight.detach().numpy()
    expected = np.where(values > 0, values, slopes[None, :, None] * values)
    np.testing.assert_allclose(F.prelu(x, weight).detach().numpy(), expected, rtol=1e-12)
    assert gradcheck(F.prelu, (x, weight), atol=1e-7, rtol=1e-5)


def test_prelu_module_learns_one_slope_per_channel():
    layer = nn.PReLU(3, init=0.5).double()
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = aprende.tensor(-np.ones((2, 3, 2)), dtype=aprende.float64)
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), [-4.0, -4.0, -4.0])


def test_rrelu_training_slopes_are_uniform_in_the_bounds_and_seeded():
    x = aprende.tensor(-np.ones(20000), requires_grad=True)
    aprende.manual_seed(5)
    y = F.rrelu(x, 0.1, 0.4, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4
    assert abs(slopes.mean() - 0.25) < 0.005 and abs(slopes.var() - 0.3**2 / 12) < 5e-4
    aprende.manual_seed(5)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.4, training=True).detach().numpy(), -slopes)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)  # f′ = a where x ≤ 0
    positive = aprende.tensor(np.arange(1.0, 5.0))
    np.testing.assert_array_equal(nn.RReLU()(positive).numpy(), positive.numpy())


def test_softmax2d_sums_to_one_over_channels():
    x = x64(2, 3, 4, 5)
    y = nn.Softmax2d()(x).detach().numpy()
    e = np.exp(x.detach().numpy())
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    assert gradcheck(nn.Softmax2d(), (x64(3, 2, 2),), atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "args", "formula"),
    [
        ("relu_", (), lambda x: np.maximum(x, 0)),
        ("leaky_relu_", (0.2,), lambda x: np.where(x > 0, x, 0.2 * x)),
        ("elu_", (0.5,), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
        ("celu_", (2.0,), lambda x: np.where(x > 0, x, 2.0 * np.expm1(x / 2.0))),
        ("hardtanh_", (-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
        ("threshold_", (0.1, -4.0), lambda x: np.where(x > 0.1, x, -4.0)),
    ],
)
def test_inplace_functional_writes_the_formula_into_its_input(name, args, formula):
    values = rng.standard_normal(7)
    x = aprende.tensor(values)
    version = x._version
    assert getattr(F, name)(x, *args) is x
    np.testing.assert_allclose(x.numpy(), formula(values), rtol=1e-6)
    assert x._version == version + 1


def test_inplace_functional_under_no_grad_and_on_saved_tensors():
    leaf = aprende.tensor([-1.0, 2.0], requires_grad=True)
    with aprende.no_grad():
        F.relu_(leaf)
    np.testing.assert_array_equal(leaf.detach().numpy(), [0.0, 2.0])
    x = aprende.tensor([-1.0, 2.0])
    w = aprende.tensor([3.0, 4.0], requires_grad=True)
    y = w * x  # saves x
    F.selu_(x)
    with pytest.raises(RuntimeError):
        y.sum().backward()
    with pytest.raises(NotImplementedError, match="elu"):  # PyTorch's type for an int64 input
        F.elu_(aprende.tensor([1, 2]))


# ---- padding and shuffles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "mode", "widths"),
    [
        (nn.ZeroPad2d((1, 2, 0, 1)), "constant", ((0, 0), (0, 0), (0, 1), (1, 2))),
        (nn.ConstantPad1d(2, 0.0), "constant", ((0, 0), (0, 0), (0, 0), (2, 2))),
        (nn.ReflectionPad2d(1), "reflect", ((0, 0), (0, 0), (1, 1), (1, 1))),
        (nn.ReplicationPad2d((2, 1, 1, 0)), "edge", ((0, 0), (0, 0), (1, 0), (2, 1))),
        (nn.CircularPad2d((1, 0, 2, 1)), "wrap", ((0, 0), (0, 0), (2, 1), (1, 0))),
    ],
)
def test_padding_layers_equal_numpy_pad_and_gradcheck(layer, mode, widths):
    x = x64(1, 2, 3, 4)
    np.testing.assert_array_equal(
        layer(x).detach().numpy(), np.pad(x.detach().numpy(), widths, mode)
    )
    assert gradcheck(layer, (x,), atol=1e-7, rtol=1e-5)


def test_constant_pad_fills_with_its_value():
    y = nn.ConstantPad3d(1, 2.5)(aprende.zeros(1, 1, 1, 1))
    assert y.shape == (1, 3, 3, 3)
    assert y.numpy().sum() == 2.5 * 26


def test_pixel_shuffle_formula_inverse_and_gradcheck():
    r, x = 2, x64(2, 12, 3, 2)
    y = F.pixel_shuffle(x, r).detach().numpy()
    values = x.detach().numpy()
    for c, h, w, i, j in [(0, 0, 0, 1, 1), (2, 2, 1, 0, 1), (1, 1, 0, 1, 0)]:
        assert y[1, c, h * r + i, w * r + j] == values[1, c * r * r + i * r + j, h, w]
    np.testing.assert_array_equal(
        F.pixel_unshuffle(F.pixel_shuffle(x, r), r).detach().numpy(), values
    )
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), (x,), atol=1e-7, rtol=1e-5)
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 3), (x64(1, 6, 6),), atol=1e-7, rtol=1e-5)


def test_channel_shuffle_interleaves_the_groups():
    x = aprende.tensor(np.arange(6.0).reshape(1, 6, 1))
    np.testing.assert_array_equal(F.channel_shuffle(x, 2).numpy().ravel(), [0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(x).numpy().ravel(), [0, 2, 4, 1, 3, 5])
    assert gradcheck(lambda t: F.channel_shuffle(t, 2), (x64(2, 4, 3),), atol=1e-7, rtol=1e-5)


# ---- normalisation -----------------------------------------------------------------------------


def test_group_norm_formula_and_gradcheck():
    x, weight, bias = x64(2, 6, 3, shift=1.0), x64(6), x64(6)
    groups = x.detach().numpy().reshape(2, 3, -1)
    normalised = (groups - groups.mean(-1, keepdims=True)) / np.sqrt(
        groups.var(-1, keepdims=True) + 1e-5
    )
    expected = (
        normalised.reshape(2, 6, 3) * weight.detach().numpy()[:, None]
        + bias.detach().numpy()[:, None]
    )
    np.testing.assert_allclose(
        F.group_norm(x, 3, weight, bias).detach().numpy(), expected, rtol=1e-10
    )
    assert gradcheck(
        lambda *t: F.group_norm(t[0], 3, t[1], t[2]), (x, weight, bias), atol=1e-6, rtol=1e-4
    )


def test_rms_norm_formula_default_eps_and_gradcheck():
    x, weight = x64(3, 4), x64(4)
    values = x.detach().numpy()
    eps = np.finfo(np.float64).eps
    expected = values / np.sqrt((values**2).mean(-1, keepdims=True) + eps) * weight.detach().numpy()
    np.testing.assert_allclose(F.rms_norm(x, [4], weight).detach().numpy(), expected, rtol=1e-12)
    layer = nn.RMSNorm(4).double()
    assert gradcheck(layer, (x,), atol=1e-6, rtol=1e-4)
    assert gradcheck(lambda a, w: F.rms_norm(a, (4,), w, 1e-3), (x, weight), atol=1e-6, rtol=1e-4)


def test_local_response_norm_formula_and_gradcheck():
    size, alpha, beta, k = 3, 0.4, 0.75, 2.0
    x = x64(2, 5, 3)
    values = x.detach().numpy()
    padded = np.pad(values**2, ((0, 0), (1, 1), (0, 0)))
    energy = sum(padded[:, c : c + 5] for c in range(size))
    expected = values / (k + alpha / size * energy) ** beta
    ours = F.local_response_norm(x, size, alpha, beta, k).detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert gradcheck(
        nn.LocalResponseNorm(2, alpha, beta, k), (x64(1, 4, 2, 2),), atol=1e-6, rtol=1e-4
    )


def test_instance_norm_formula_running_stats_and_eval():
    layer = nn.InstanceNorm1d(2, momentum=0.2, affine=True, track_running_stats=True).double()
    x = x64(3, 2, 5, scale=2.0, shift=1.0)
    values = x.detach().numpy()
    mean, var = values.mean(-1, keepdims=True), values.var(-1, keepdims=True)
    np.testing.assert_allclose(
        layer(x).detach().numpy(), (values - mean) / np.sqrt(var + 1e-5), rtol=1e-10
    )
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.2 * mean[..., 0].mean(0), rtol=1e-12)
    expected_var = 0.8 + 0.2 * (var[..., 0] * 5 / 4).mean(0)
    np.testing.assert_allclose(layer.running_var.numpy(), expected_var, rtol=1e-12)
    assert int(layer.num_batches_tracked.numpy()) == 0  # as PyTorch: instance norm never counts
    layer.eval()
    running = (values - layer.running_mean.numpy()[:, None]) / np.sqrt(
        layer.running_var.numpy()[:, None] + 1e-5
    )
    np.testing.assert_allclose(layer(x).detach().numpy(), running, rtol=1e-10)
    assert gradcheck(layer, (x,), atol=1e-6, rtol=1e-4)
    layer.train()
    assert gradcheck(
        nn.InstanceNorm2d(2, affine=True).double(), (x64(2, 2, 2, 3),), atol=1e-6, rtol=1e-4
    )


def test_instance_norm_takes_unbatched_input():
    layer = nn.InstanceNorm2d(3)
    x = aprende.randn(3, 4, 4)
    np.testing.assert_allclose(layer(x).numpy(), layer(x.unsqueeze(0))[0].numpy(), rtol=1e-6)


# ---- dropout -----------------------------------------------------------------------------------

ALPHA = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def test_alpha_dropout_keeps_a_standard_normal_standard():
    aprende.manual_seed(2)
    p = 0.3
    a = ((1 - p) * (1 + p * ALPHA**2)) ** -0.5
    x = aprende.randn(200_000, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    values = y.detach().numpy()
    dropped = np.isclose(values, a * ALPHA - a * ALPHA * p)
    assert abs(dropped.mean() - p) < 0.005
    assert abs(values.mean()) < 0.01 and abs(values.var() - 1) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-6)
    assert F.alpha_dropout(x, p) is x  # training=False by default, as PyTorch


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.Dropout1d(0.5), (40, 6, 5)),
        (nn.Dropout1d(0.5), (40, 5)),
        (nn.FeatureAlphaDropout(0.5), (40, 6, 2, 3)),
    ],
)
def test_channel_dropouts_keep_or_drop_whole_channels(layer, shape):
    aprende.manual_seed(4)
    x = aprende.tensor(rng.uniform(1, 2, shape))
    y = layer(x).numpy()
    values = x.numpy()
    channels = y.reshape(-1, shape[-1]) if len(shape) == 2 else y.reshape(shape[0] * shape[1], -1)
    inputs = values.reshape(channels.shape)
    if isinstance(layer, nn.Dropout1d):
        kept = channels != 0
        np.testing.assert_allclose(channels[kept], 2 * inputs[kept], rtol=1e-6)
    else:
        kept = ~np.isclose(channels, channels.min())
    assert (kept.all(axis=1) | (~kept).all(axis=1)).all()
    assert 0.3 < kept.all(axis=1).mean() < 0.7
    layer.eval()
    assert layer(x) is x


def test_dropout_layers_check_p():
    for cls in (nn.Dropout1d, nn.AlphaDropout, nn.FeatureAlphaDropout):
        with pytest.raises(ValueError, match="between 0 and 1"):
            cls(1.5)
