"""The 1-d convolution and pooling family without PyTorch: conv_transpose1d, adaptive pooling
over L and max_unpool1d against their formulas written out in NumPy, a float64 gradcheck of
each, the layers' settings, initialisation and state_dict keys, and the errors."""

import math

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(31)


def t64(*shape):
    return aprende.tensor(rng.standard_normal(shape), dtype=aprende.float64, requires_grad=True)


def distinct(*shape):
    """float64 values 0.1 apart, no two equal: max pooling is differentiable there."""
    values = rng.permutation(math.prod(shape)).reshape(shape) * 0.1
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


# ---- conv_transpose1d -------------------------------------------------------------------------


def conv_transpose1d_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """y[n, o, p·s + j·d − pad] += x[n, c, p] · W[c, o − g·O/groups, j], over the full
    (unpadded) output, then cropped by ``padding`` on the left and to the output size."""
    n, c, length = x.shape
    _, per_group, k = w.shape
    size = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    full = np.zeros((n, per_group * groups, size + 2 * padding + k * dilation))
    for channel in range(c):
        group = channel // (c // groups)
        for o in range(per_group):
            for p in range(length):
                for j in range(k):
                    full[:, group * per_group + o, p * stride + j * dilation] += (
                        x[:, channel, p] * w[channel, o, j]
                    )
    return full[:, :, padding : padding + size] + b[None, :, None]


TRANSPOSE_CASES = [
    dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1),
    dict(stride=2, padding=1, output_padding=1, groups=1, dilation=1),
    dict(stride=3, padding=2, output_padding=1, groups=2, dilation=2),
]


@pytest.mark.parametrize("options", TRANSPOSE_CASES)
def test_conv_transpose1d_is_the_scatter_formula(options):
    x, w, b = t64(2, 4, 5), t64(4, 3, 3), t64(3 * options["groups"])
    out = F.conv_transpose1d(x, w, b, **options)
    expected = conv_transpose1d_reference(
        x.detach().numpy(), w.detach().numpy(), b.detach().numpy(), **options
    )
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv_transpose1d_is_the_adjoint_of_conv1d():
    """⟨conv1d(y, W), x⟩ = ⟨y, conv_transpose1d(x, W)⟩ for the same W and settings."""
    w, x = t64(3, 2, 4), t64(2, 3, 6)
    y = F.conv_transpose1d(x, w, stride=2, padding=1, dilation=2)
    probe = t64(*y.shape)
    back = F.conv1d(probe, w, stride=2, padding=1, dilation=2)
    assert back.shape == x.shape
    left = float((back * x).sum().item())
    right = float((probe * y).sum().item())
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.parametrize("options", TRANSPOSE_CASES)
def test_conv_transpose1d_gradcheck(options):
    x, w, b = t64(2, 4, 4), t64(4, 3, 3), t64(3 * options["groups"])
    assert gradcheck(lambda *t: F.conv_transpose1d(*t, **options), [x, w, b])


def test_conv_transpose1d_unbatched_is_a_batch_of_one():
    x, w = t64(4, 5), t64(4, 2, 3)
    out = F.conv_transpose1d(x, w, stride=2)
    assert out.shape == (2, 11)
    batch = F.conv_transpose1d(x.unsqueeze(0), w, stride=2)
    np.testing.assert_array_equal(out.detach().numpy(), batch.detach().numpy()[0])
    assert gradcheck(lambda a, b: F.conv_transpose1d(a, b, stride=2), [x, w])


# ---- adaptive pooling -------------------------------------------------------------------------


def bins(length, out):
    """Bin i covers [⌊i·L/O⌋, ⌈(i + 1)·L/O⌉)."""
    return [(i * length // out, math.ceil((i + 1) * length / out)) for i in range(out)]


@pytest.mark.parametrize("length, out", [(10, 4), (10, 3), (7, 7), (5, 8), (9, 1)])
def test_adaptive_pools_are_the_bin_formulas(length, out):
    x = distinct(2, 3, length)
    values = x.detach().numpy()
    edges = bins(length, out)
    mean = np.stack([values[..., s:e].mean(-1) for s, e in edges], -1)
    peak = np.stack([values[..., s:e].max(-1) for s, e in edges], -1)
    where = np.stack([s + values[..., s:e].argmax(-1) for s, e in edges], -1)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, out).detach().numpy(), mean, rtol=1e-12)
    got, indices = F.adaptive_max_pool1d(x, out, return_indices=True)
    np.testing.assert_array_equal(got.detach().numpy(), peak)
    np.testing.assert_array_equal(indices.numpy(), where)
    assert indices.dtype == aprende.int64 and not indices.requires_grad


def test_adaptive_pools_gradcheck():
    x = distinct(2, 3, 10)
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 4), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 13), [distinct(3, 10)])  # repeats


def test_adaptive_pool_of_size_zero_is_empty_and_passes_no_gradient():
    x = t64(2, 3, 5)
    out = F.adaptive_avg_pool1d(x, 0)
    assert out.shape == (2, 3, 0)
    (out.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3, 5)))


# ---- max unpooling and the *_with_indices forms ------------------------------------------------


def test_max_unpool1d_puts_each_value_at_its_index():
    x = distinct(2, 3, 9)
    values, indices = F.max_pool1d(x, 3, 2, 1, return_indices=True)
    out = F.max_unpool1d(values, indices, 3, 2, 1, output_size=(10,))
    expected = np.zeros((2, 3, 10))
    np.put_along_axis(expected, indices.numpy(), values.detach().numpy(), axis=-1)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    assert F.max_unpool1d(values, indices, 3, 2, 1).shape == (2, 3, 9)  # (5 − 1)·2 − 2 + 3


def test_max_unpool1d_gradcheck():
    x = distinct(3, 8)
    values, indices = F.max_pool1d(x, 2, return_indices=True)
    values = values.detach().requires_grad_()
    assert gradcheck(lambda t: F.max_unpool1d(t, indices, 2), [values])


def test_with_indices_forms_always_return_the_indices():
    x = distinct(2, 3, 10)
    for pair, reference in [
        (F.max_pool1d_with_indices(x, 3, 2), F.max_pool1d(x, 3, 2, return_indices=True)),
        (F.max_pool2d_with_indices(x, 2), F.max_pool2d(x, 2, return_indices=True)),
        (F.adaptive_max_pool1d_with_indices(x, 4), F.adaptive_max_pool1d(x, 4, True)),
        (F.adaptive_max_pool2d_with_indices(x, 2), F.adaptive_max_pool2d(x, 2, True)),
    ]:
        assert isinstance(pair, tuple) and len(pair) == 2
        for ours, theirs in zip(pair, reference, strict=True):
            np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---- the layers -------------------------------------------------------------------------------


def test_conv_transpose1d_layer_settings_keys_and_initialisation():
    """weight (in, out/groups, K): fan_in = out/groups·K, W and b ~ U(±1/√fan_in)."""
    aprende.manual_seed(0)
    layer = nn.ConvTranspose1d(6, 8, 5, stride=2, output_padding=1, groups=2)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.weight.shape == (6, 4, 5) and layer.bias.shape == (8,)
    assert (layer.kernel_size, layer.stride, layer.output_padding) == ((5,), (2,), (1,))
    bound = 1 / math.sqrt(4 * 5)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(layer.bias.detach().numpy()).max() <= bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.3)
    assert nn.ConvTranspose1d(2, 3, 3, bias=False).bias is None
    out = layer(aprende.ones(2, 6, 4))
    assert out.shape == (2, 8, (4 - 1) * 2 + 5 + 1)


def test_conv_transpose1d_layer_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose1d(3, 2, 3, stride=3)
    x = aprende.ones(1, 3, 4)
    assert layer(x, output_size=(13,)).shape == (1, 2, 13)
    assert layer(x, output_size=(1, 2, 14)).shape == (1, 2, 14)
    with pytest.raises(ValueError, match=r"ConvTranspose1d: requested an output size"):
        layer(x, output_size=(15,))


def test_pool_layers_call_their_functions():
    x = distinct(2, 3, 10)
    np.testing.assert_array_equal(
        nn.AdaptiveAvgPool1d(4)(x).detach().numpy(), F.adaptive_avg_pool1d(x, 4).detach().numpy()
    )
    values, indices = nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    np.testing.assert_array_equal(indices.numpy(), F.adaptive_max_pool1d(x, 3, True)[1].numpy())
    pooled, where = nn.MaxPool1d(2, return_indices=True)(x)
    unpool = nn.MaxUnpool1d(2)
    assert (unpool.kernel_size, unpool.stride, unpool.padding) == ((2,), (2,), (0,))
    np.testing.assert_array_equal(
        unpool(pooled, where).detach().numpy(), F.max_unpool1d(pooled, where, 2).detach().numpy()
    )


# ---- errors -----------------------------------------------------------------------------------

ERRORS = [
    (lambda: F.conv_transpose1d(aprende.ones(2, 4, 7, 1), aprende.ones(4, 3, 3)), RuntimeError,
     r"conv_transpose1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input"),
    (lambda: F.conv_transpose1d(aprende.ones(2, 5, 7), aprende.ones(4, 3, 3)), RuntimeError,
     r"conv_transpose1d: .* expect an input with 4 channels"),
    (lambda: F.conv_transpose1d(aprende.ones(2, 4, 7), aprende.ones(4, 3, 3), stride=2,
                                output_padding=2), RuntimeError,
     r"conv_transpose1d: output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose1d(aprende.ones(2, 4, 1), aprende.ones(4, 3, 1), padding=1),
     RuntimeError, r"conv_transpose1d: an input of 1 per channel gives an output of -1"),
    (lambda: F.conv_transpose1d(aprende.ones(2, 4, 7), aprende.ones(4, 3, 3), padding="same"),
     TypeError, r"conv_transpose1d: padding must be an int"),
    (lambda: F.adaptive_avg_pool1d(aprende.ones(8), 2), RuntimeError,
     r"adaptive_avg_pool1d: expected a 2D or 3D tensor"),
    (lambda: F.adaptive_max_pool1d(aprende.ones(2, 8), (2, 2)), RuntimeError,
     r"adaptive_max_pool1d: argument 'output_size' should contain one int \(got 2\)"),
    (lambda: F.adaptive_avg_pool1d(aprende.ones(2, 8), -1), RuntimeError,
     r"adaptive_avg_pool1d: elements of output_size must be greater than or equal to 0"),
    (lambda: F.adaptive_avg_pool1d(aprende.ones(2, 8), None), TypeError,
     r"adaptive_avg_pool1d: output_size must be an int"),
    (lambda: F.max_unpool1d(aprende.ones(4), aprende.zeros(4, dtype=aprende.int64), 2),
     RuntimeError, r"max_unpool1d: expected a 2D or 3D input"),
    (lambda: F.max_unpool1d(aprende.ones(2, 4), aprende.zeros(2, 4, dtype=aprende.int32), 2),
     RuntimeError, r"max_unpool1d: elements in indices should be type int64"),
    (lambda: F.max_unpool1d(aprende.ones(2, 4), aprende.full((2, 4), 8, dtype=aprende.int64), 2),
     RuntimeError, r"max_unpool1d: found an invalid max index 8 \(output planes are of size 8\)"),
    (lambda: F.max_unpool1d(aprende.ones(2, 4), aprende.zeros(2, 4, dtype=aprende.int64), 2,
                            output_size=(8, 8)), ValueError,
     r"max_unpool1d: output_size should be a sequence containing 1 or 3 elements"),
    (lambda: F.max_unpool1d(aprende.ones(2, 4), aprende.zeros(2, 4, dtype=aprende.int64), 2,
                            output_size=(10,)), ValueError,
     r"max_unpool1d: invalid output_size \(10,\) \(dim 0 must be between 6 and 10"),
    (lambda: nn.ConvTranspose1d(4, 6, 3, padding="same"), ValueError,
     r"ConvTranspose1d: padding must be an int"),
    (lambda: nn.ConvTranspose1d(4, 6, 3, groups=4), ValueError,
     r"ConvTranspose1d: out_channels must be divisible by groups"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
