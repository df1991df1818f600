"""The 1-d convolution and pooling family against PyTorch, row by row: conv_transpose1d,
max/avg/adaptive pooling over L, max_unpool1d and the ``*_with_indices`` max poolings (values,
int64 indices, shapes, dtypes and every gradient, float64 and float32; batched, unbatched and
empty batches), the layers with PyTorch's weights, repr and state_dict keys, and the errors
PyTorch raises."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402
from aprende import nn  # noqa: E402

rng = np.random.default_rng(1701)


def normal(*shape):
    return rng.standard_normal(shape)


def tied(*shape):
    """Values among three levels: windows and bins with tied maxima everywhere."""
    return rng.integers(0, 3, size=shape).astype(np.float64)


def _ids(rows):
    return [row[0] for row in rows]


# ---- conv_transpose1d -------------------------------------------------------------------------

CONV_TRANSPOSE = [
    ("plain", (2, 4, 7), (4, 3, 3), True, {}),
    ("stride-pad-output_padding", (2, 4, 7), (4, 3, 3), True,
     dict(stride=2, padding=1, output_padding=1)),
    ("groups", (2, 4, 7), (4, 2, 3), True, dict(groups=2, stride=2)),
    ("dilation", (2, 4, 6), (4, 3, 3), True, dict(stride=3, dilation=2, output_padding=2)),
    ("output_padding-below-dilation", (2, 4, 6), (4, 3, 2), True,
     dict(dilation=3, output_padding=2)),
    ("no-bias", (2, 4, 7), (4, 5, 2), False, dict(stride=2)),
    ("depthwise", (1, 3, 5), (3, 1, 4), True, dict(groups=3, padding=2)),
    ("kernel-longer-than-input", (2, 4, 2), (4, 3, 5), True, {}),
    ("tuples", (2, 4, 7), (4, 3, 3), True,
     dict(stride=(2,), padding=(1,), output_padding=(1,), dilation=(1,))),
    ("unbatched", (4, 7), (4, 3, 3), True, dict(stride=2)),
    ("empty-batch", (0, 4, 7), (4, 3, 3), True, dict(stride=2)),
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, x, w, bias, options", CONV_TRANSPOSE, ids=_ids(CONV_TRANSPOSE))
def test_conv_transpose1d(name, x, w, bias, options, dtype):
    groups = options.get("groups", 1)
    arrays = [normal(*x), normal(*w)] + ([normal(w[1] * groups)] if bias else [])
    compare(lambda ns, *t: ns.nn.functional.conv_transpose1d(*t, **options), arrays, dtype)


def test_conv_transpose1d_positional_arguments_in_pytorchs_order():
    """(input, weight, bias, stride, padding, output_padding, groups, dilation)."""
    arrays = [normal(2, 4, 5), normal(4, 2, 3), normal(4)]
    compare(lambda ns, *t: ns.nn.functional.conv_transpose1d(*t, 2, 1, 1, 2, 1), arrays)


CONV_TRANSPOSE_ERRORS = [
    ("4-d input", (2, 4, 7, 1), (4, 3, 3), {}),
    ("1-d input", (7,), (4, 3, 3), {}),
    ("2-d weight", (2, 4, 7), (4, 3), {}),
    ("channels", (2, 5, 7), (4, 3, 3), {}),
    ("groups-divide", (2, 4, 7), (4, 3, 3), dict(groups=3)),
    ("output_padding", (2, 4, 7), (4, 3, 3), dict(stride=2, output_padding=2)),
    ("negative-padding", (2, 4, 7), (4, 3, 3), dict(padding=-1)),
    ("zero-stride", (2, 4, 7), (4, 3, 3), dict(stride=0)),
    ("zero-dilation", (2, 4, 7), (4, 3, 3), dict(dilation=0)),
    ("two-strides", (2, 4, 7), (4, 3, 3), dict(stride=(2, 2))),
    ("output-too-small", (2, 4, 1), (4, 3, 1), dict(padding=1)),
    ("padding-string", (2, 4, 7), (4, 3, 3), dict(padding="same")),
]


@pytest.mark.parametrize(
    "name, x, w, options", CONV_TRANSPOSE_ERRORS, ids=_ids(CONV_TRANSPOSE_ERRORS)
)
def test_conv_transpose1d_errors(name, x, w, options):
    raises_like_torch(
        lambda ns, *t: ns.nn.functional.conv_transpose1d(*t, **options),
        [normal(*x), normal(*w)],
    )


def test_conv_transpose1d_dtype_and_bias_errors():
    op = lambda ns, *t: ns.nn.functional.conv_transpose1d(*t)  # noqa: E731
    raises_like_torch(op, [normal(2, 4, 7), normal(4, 3, 3)], ["float32", "float64"])
    raises_like_torch(op, [normal(2, 4, 7), normal(4, 3, 3), normal(4)])


def test_conv_transpose1d_integers_stay_integers_as_torch():
    arrays = [tied(2, 4, 7), tied(4, 3, 3), tied(3)]
    compare(lambda ns, *t: ns.nn.functional.conv_transpose1d(*t, stride=2), arrays, "int64")


# ---- pooling ----------------------------------------------------------------------------------

POOLS = [
    ("max", lambda F, t: F.max_pool1d(t, 2)),
    ("max-stride-pad", lambda F, t: F.max_pool1d(t, 3, 2, 1)),
    ("max-overlapping", lambda F, t: F.max_pool1d(t, 3, 1, 1)),
    ("max-dilation", lambda F, t: F.max_pool1d(t, 2, 1, 0, 3)),
    ("max-ceil", lambda F, t: F.max_pool1d(t, 3, 2, 1, 2, ceil_mode=True)),
    ("max-indices", lambda F, t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True, return_indices=True)),
    ("max-tuples", lambda F, t: F.max_pool1d(t, (3,), (2,), (1,), (1,), True, True)),
    ("max_pool1d_with_indices", lambda F, t: F.max_pool1d_with_indices(t, 3, 2, 1)),
    ("max_pool2d_with_indices", lambda F, t: F.max_pool2d_with_indices(t, 2)),
    ("max_pool2d_with_indices-options",
     lambda F, t: F.max_pool2d_with_indices(t, (1, 3), (1, 2), (0, 1), 1, True)),
    ("avg", lambda F, t: F.avg_pool1d(t, 2)),
    ("avg-stride-pad", lambda F, t: F.avg_pool1d(t, 3, 2, 1)),
    ("avg-exclude-pad", lambda F, t: F.avg_pool1d(t, 3, 2, 1, count_include_pad=False)),
    ("avg-ceil", lambda F, t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True)),
    ("avg-ceil-exclude-pad", lambda F, t: F.avg_pool1d(t, 4, 3, 2, True, False)),
    ("adaptive_avg", lambda F, t: F.adaptive_avg_pool1d(t, 4)),
    ("adaptive_avg-tuple", lambda F, t: F.adaptive_avg_pool1d(t, (3,))),
    ("adaptive_avg-global", lambda F, t: F.adaptive_avg_pool1d(t, 1)),
    ("adaptive_avg-longer", lambda F, t: F.adaptive_avg_pool1d(t, 15)),
    ("adaptive_avg-empty", lambda F, t: F.adaptive_avg_pool1d(t, 0)),
    ("adaptive_max", lambda F, t: F.adaptive_max_pool1d(t, 4)),
    ("adaptive_max-indices", lambda F, t: F.adaptive_max_pool1d(t, 3, True)),
    ("adaptive_max-longer", lambda F, t: F.adaptive_max_pool1d(t, 13, return_indices=True)),
    ("adaptive_max_pool1d_with_indices", lambda F, t: F.adaptive_max_pool1d_with_indices(t, 4)),
    ("adaptive_max_pool2d_with_indices", lambda F, t: F.adaptive_max_pool2d_with_indices(t, 2)),
    ("unpool", lambda F, t: F.max_unpool1d(*F.max_pool1d(t, 2, return_indices=True), 2)),
    ("unpool-stride-pad",
     lambda F, t: F.max_unpool1d(
         *F.max_pool1d(t, 3, 2, 1, return_indices=True), 3, 2, 1, output_size=t.shape[-1:])),
    ("unpool-output_size",
     lambda F, t: F.max_unpool1d(*F.max_pool1d(t, 2, return_indices=True), 2, output_size=(11,))),
    ("unpool-output_size-with-N-C",
     lambda F, t: F.max_unpool1d(
         *F.max_pool1d(t, 2, return_indices=True), 2, output_size=(2, 3, 11))),
    ("unpool-adaptive",
     lambda F, t: F.max_unpool1d(*F.adaptive_max_pool1d(t, 5, True), 2)),
]  # fmt: skip

LAYOUTS = {"batched": (2, 3, 10), "unbatched": (3, 10)}
#: Every row on both layouts, but a 2-d pooling only batched: (C, H, W) is its unbatched form.
POOL_CASES = [
    (name, op, layout)
    for name, op in POOLS
    for layout in LAYOUTS
    if not ("2d" in name and layout == "unbatched")
]


@pytest.mark.parametrize("values", [normal, tied], ids=["distinct", "ties"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "name, op, layout", POOL_CASES, ids=[f"{name}-{layout}" for name, _, layout in POOL_CASES]
)
def test_pool(name, op, layout, dtype, values):
    compare(lambda ns, t: op(ns.nn.functional, t), [values(*LAYOUTS[layout])], dtype)


POOLS_1D = [row for row in POOLS if "2d" not in row[0]]


@pytest.mark.parametrize("name, op", POOLS_1D, ids=_ids(POOLS_1D))
def test_pool_empty_batch(name, op):
    compare(lambda ns, t: op(ns.nn.functional, t), [normal(0, 3, 10)])


POOL_ERRORS = [
    ("max-4d", lambda F, t: F.max_pool1d(t, 2), (1, 2, 3, 8)),
    ("max-pad", lambda F, t: F.max_pool1d(t, 3, padding=2), (2, 8)),
    ("max-too-small", lambda F, t: F.max_pool1d(t, 5), (2, 3)),
    ("avg-zero-kernel", lambda F, t: F.avg_pool1d(t, 0), (2, 8)),
    ("adaptive_avg-1d", lambda F, t: F.adaptive_avg_pool1d(t, 2), (8,)),
    ("adaptive_avg-two-sizes", lambda F, t: F.adaptive_avg_pool1d(t, (2, 2)), (2, 8)),
    ("adaptive_avg-negative", lambda F, t: F.adaptive_avg_pool1d(t, -1), (2, 8)),
    ("adaptive_avg-None", lambda F, t: F.adaptive_avg_pool1d(t, None), (2, 8)),
    ("adaptive_max-4d", lambda F, t: F.adaptive_max_pool1d(t, 2), (1, 2, 3, 8)),
    ("adaptive_max-two-sizes", lambda F, t: F.adaptive_max_pool1d(t, (2, 3)), (2, 8)),
    ("unpool-1d", lambda F, t: F.max_unpool1d(t, t.abs().long(), 2), (8,)),
    ("unpool-output_size",
     lambda F, t: F.max_unpool1d(*F.max_pool1d(t, 2, return_indices=True), 2, output_size=(10,)),
     (2, 8)),
    ("unpool-output_size-length",
     lambda F, t: F.max_unpool1d(*F.max_pool1d(t, 2, return_indices=True), 2, output_size=(8, 8)),
     (2, 8)),
    ("unpool-index-out-of-range",
     lambda F, t: F.max_unpool1d(t[:, :4], F.max_pool1d(t, 2, return_indices=True)[1] + 8, 2),
     (2, 8)),
    ("unpool-int32-indices",
     lambda F, t: F.max_unpool1d(t[:, :4], F.max_pool1d(t, 2, return_indices=True)[1].int(), 2),
     (2, 8)),
]  # fmt: skip


@pytest.mark.parametrize("name, op, shape", POOL_ERRORS, ids=_ids(POOL_ERRORS))
def test_pool_errors(name, op, shape):
    raises_like_torch(lambda ns, t: op(ns.nn.functional, t), [normal(*shape)])


@pytest.mark.parametrize(
    "op",
    [
        lambda F, t: F.adaptive_avg_pool1d(t, 2),
        lambda F, t: F.adaptive_max_pool1d(t, 2),
        lambda F, t: F.max_pool1d(t, 2),
    ],
)
def test_pools_refuse_integers(op):
    """PyTorch raises NotImplementedError (no integer kernel); aprende's poolings raise
    TypeError, as its 2-d poolings do, naming the dtype."""
    with pytest.raises(NotImplementedError):
        op(torch.nn.functional, torch.ones(2, 8, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"expected a floating point input, got int64"):
        op(aprende.nn.functional, aprende.ones(2, 8, dtype=aprende.int64))


# ---- the layers -------------------------------------------------------------------------------

POOL_LAYERS = [
    ("MaxPool1d", (3, 2, 1), {"return_indices": True, "ceil_mode": True}),
    ("AvgPool1d", (3, 2, 1), {"count_include_pad": False}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveMaxPool1d", (3,), {}),
    ("AdaptiveMaxPool1d", (3, True), {}),
]


@pytest.mark.parametrize("layer, args, kwargs", POOL_LAYERS)
def test_pool_layers(layer, args, kwargs):
    assert repr(getattr(nn, layer)(*args, **kwargs)) == repr(
        getattr(torch.nn, layer)(*args, **kwargs)
    )
    compare(lambda ns, t: getattr(ns.nn, layer)(*args, **kwargs)(t), [normal(2, 3, 10)])


@pytest.mark.parametrize("args", [(2,), (3, 2, 1)])
def test_max_unpool1d_layer(args):
    assert repr(nn.MaxUnpool1d(*args)) == repr(torch.nn.MaxUnpool1d(*args))
    k, s, p = (args + (None, 0))[:3] if len(args) == 1 else args

    def op(ns, t):
        values, indices = ns.nn.MaxPool1d(k, s, p, return_indices=True)(t)
        return ns.nn.MaxUnpool1d(*args)(values, indices, output_size=t.shape)

    compare(op, [normal(2, 3, 10)])


CONV_TRANSPOSE_LAYERS = [
    ((4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 5)),
    ((4, 6, 2), {"groups": 2, "bias": False, "dilation": 2}, (4, 7)),
    ((3, 2, 4), {"stride": 3}, (0, 3, 5)),
]


def copy_into_torch(ours, theirs):
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value)))


@pytest.mark.parametrize("args, kwargs, x_shape", CONV_TRANSPOSE_LAYERS)
def test_conv_transpose1d_layer(args, kwargs, x_shape):
    ours, theirs = nn.ConvTranspose1d(*args, **kwargs), torch.nn.ConvTranspose1d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    copy_into_torch(ours, theirs)
    x = rng.standard_normal(x_shape).astype(np.float32)
    xa, xt = aprende.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_a, out_t = ours(xa), theirs(xt)
    assert out_a.shape == tuple(out_t.shape)
    upstream = rng.standard_normal(out_a.shape).astype(np.float32)
    out_a.backward(aprende.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    close = dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_a.detach().numpy(), out_t.detach().numpy(), **close)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), **close)
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(), **close)


def test_conv_transpose1d_layer_output_size_as_torch():
    ours, theirs = (
        nn.ConvTranspose1d(3, 2, 3, stride=3),
        torch.nn.ConvTranspose1d(3, 2, 3, stride=3),
    )
    copy_into_torch(ours, theirs)
    x = rng.standard_normal((1, 3, 4)).astype(np.float32)
    for size in [(13,), (1, 2, 14)]:
        out_a = ours(aprende.tensor(x), output_size=size)
        out_t = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(
            out_a.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6
        )
    with pytest.raises(ValueError):
        theirs(torch.tensor(x), output_size=(15,))
    with pytest.raises(ValueError, match=r"ConvTranspose1d: requested an output size"):
        ours(aprende.tensor(x), output_size=(15,))


def test_conv_transpose1d_state_dict_from_torch():
    theirs = torch.nn.ConvTranspose1d(4, 6, 3, stride=2, groups=2)
    ours = nn.ConvTranspose1d(4, 6, 3, stride=2, groups=2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, 4, 7)).astype(np.float32)
    np.testing.assert_allclose(
        ours(aprende.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda ns: ns.nn.ConvTranspose1d(4, 6, 3, groups=4),
        lambda ns: ns.nn.ConvTranspose1d(4, 6, 3, padding_mode="reflect"),
    ],
)
def test_conv_transpose1d_layer_errors(make):
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(expected.type):
        make(aprende)
