"""Layers for images: BatchNorm2d against torch.nn.BatchNorm2d (outputs, gradients, running
statistics over several steps, state_dict keys, errors; its gradcheck is in test_nn_layers),
channel dropout (F.dropout2d and Dropout2d: whole channels, scaling, statistics, seeding,
gradient) and Unflatten.

The torch comparisons skip cleanly where PyTorch is not installed; the gradchecks always run.
"""

import warnings

import numpy as np
import pytest
from test_nn_layers import assert_batchnorm_steps_as_torch, x64

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(17)


# ---- BatchNorm2d ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3, "affine": False},
        {"track_running_stats": False},
        {"eps": 1e-3, "bias": False},
    ],
    ids=["default", "cumulative", "no-affine", "no-running-stats", "eps-no-bias"],
)
def test_batchnorm2d_matches_torch_over_several_steps(kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
    assert_batchnorm_steps_as_torch(ours, theirs, (4, 3, 5, 6), device)


def test_batchnorm2d_normalises_each_channel_over_batch_and_pixels():
    x = rng.normal(3, 2, size=(4, 2, 5, 5))
    out = nn.BatchNorm2d(2).double()(aprende.tensor(x)).detach().numpy()
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10)


def test_batchnorm2d_errors():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        bn(aprende.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 3 features.*\(2, 4, 4, 4\)"):
        bn(aprende.randn(2, 4, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(aprende.randn(1, 3, 1, 1))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(aprende.randn(2, 3, 4, 4))


def test_batchnorm_classes_share_one_base_and_keep_their_import_paths():
    from aprende.nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm

    assert nn.BatchNorm1d is BatchNorm1d and nn.BatchNorm2d is BatchNorm2d
    assert issubclass(BatchNorm1d, _BatchNorm) and issubclass(BatchNorm2d, _BatchNorm)


# ---- dropout2d / Dropout2d -------------------------------------------------------------------


def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    aprende.manual_seed(0)
    x = aprende.ones(200, 50, 3, 4)
    out = F.dropout2d(x, 0.3).numpy()
    per_channel = out.reshape(200, 50, -1)
    dropped = (per_channel == 0).all(axis=2)
    assert ((per_channel == 0).any(axis=2) == dropped).all()  # a channel is all or nothing
    np.testing.assert_allclose(per_channel[~dropped], 1 / 0.7, rtol=1e-6)
    assert dropped.mean() == pytest.approx(0.3, abs=0.02)
    assert out.mean() == pytest.approx(1.0, abs=0.03)  # the expectation is preserved


def test_dropout2d_is_seeded_and_evaluation_is_the_identity():
    x = aprende.randn(4, 6, 2, 2)
    aprende.manual_seed(3)
    first = F.dropout2d(x, 0.5).numpy()
    aprende.manual_seed(3)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).numpy(), first)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).numpy(), np.zeros(x.shape))


def test_dropout2d_gradient_is_the_mask_over_keep():
    x = x64(3, 4, 2, 2)
    aprende.manual_seed(1)
    out = F.dropout2d(x, 0.4)
    upstream = rng.normal(size=x.shape)
    out.backward(aprende.tensor(upstream))
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), upstream * kept / 0.6, rtol=1e-12)

    def fn(t):  # the same mask at every evaluation: the generator reseeded
        aprende.manual_seed(1)
        return (F.dropout2d(t, 0.4) * aprende.tensor(upstream)).sum()

    assert gradcheck(fn, (x,))


def test_dropout2d_dimensions_as_torch():
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        out = F.dropout2d(aprende.ones(20, 30, 8), 0.5).numpy()
    assert ((out == 0).all(axis=2) == (out == 0).any(axis=2)).all()  # (N, C, L)
    with pytest.warns(UserWarning, match="Received a 2-D input"):
        F.dropout2d(aprende.ones(4, 5), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(aprende.ones(2, 3, 4, 4), 0.5)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"), pytest.warns(UserWarning):
        F.dropout2d(aprende.ones(4), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout2d(aprende.ones(2, 3, 4, 4), 1.5)


def test_dropout2d_module():
    layer = nn.Dropout2d(0.25)
    assert repr(layer) == "Dropout2d(p=0.25, inplace=False)"
    aprende.manual_seed(2)
    out = layer(aprende.ones(100, 40, 2, 2)).numpy()
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.02)
    layer.eval()
    x = aprende.randn(2, 3, 2, 2)
    assert layer(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(-0.1)
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1, inplace=False)"


def test_dropout2d_repr_matches_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout2d(0.3, inplace=True)) == repr(torch.nn.Dropout2d(0.3, inplace=True))


# ---- Unflatten --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, dim, sizes",
    [
        ((2, 12), 1, (3, 4)),
        ((2, 12, 5), -2, (2, -1, 3)),
        ((6, 5), 0, [2, 3]),
        ((2, 784), 1, (1, 28, 28)),
    ],
)
def test_unflatten_matches_torch(shape, dim, sizes):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs)
    x = rng.normal(size=shape).astype(np.float32)
    xa, xt = aprende.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_t = ours(xa), theirs(xt)
    np.testing.assert_array_equal(out_a.detach().numpy(), out_t.detach().numpy())
    upstream = rng.normal(size=out_a.shape).astype(np.float32)
    out_a.backward(aprende.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())


def test_unflatten_undoes_flatten_and_checks_its_arguments():
    x = aprende.randn(2, 3, 4)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4))(nn.Flatten()(x)).numpy(), x.numpy())
    assert repr(nn.Unflatten(1, (3, 4))) == "Unflatten(dim=1, unflattened_size=(3, 4))"
    with pytest.raises(
        RuntimeError, match=r"\[2, 3\] don't multiply up to the size of dim 1 \(7\)"
    ):
        nn.Unflatten(1, (2, 3))(aprende.randn(2, 7))
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        nn.Unflatten(1, (-1, -1))(aprende.randn(2, 6))
    with pytest.raises(IndexError, match="out of range"):
        nn.Unflatten(3, (2, 3))(aprende.randn(2, 6))
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(TypeError, match="invalid argument type for dim"):
        nn.Unflatten(1.0, (2, 3))
