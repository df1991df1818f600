"""Convolutions (ops.conv, nn.Conv1d/Conv2d/ConvTranspose2d): gradcheck in float64 of every
setting, values and all gradients against torch.nn.functional (random upstream gradient;
float64 to 1e-7, float32 to float32 rounding), non-contiguous and unbatched inputs, the layers
with the same weights as torch.nn, state dicts both ways, PyTorch's initialisation bounds, the
errors, and the benchmark's quick run."""

import functools
import importlib
import json
import math
import re

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(2024)


def t64(*shape):
    return aprende.tensor(rng.normal(size=shape), dtype=aprende.float64, requires_grad=True)


# (input shape, weight shape, options): small odd sizes, every setting
CONV2D = {
    "plain": ((2, 3, 5, 4), (2, 3, 3, 3), {}),
    "stride-pad": ((2, 2, 7, 6), (3, 2, 3, 2), {"stride": 2, "padding": 1}),
    "pair": ((1, 2, 6, 7), (2, 2, 3, 3), {"stride": (2, 1), "padding": (0, 2)}),
    "dilation": ((2, 2, 7, 7), (2, 2, 3, 3), {"dilation": 2, "padding": 1}),
    "dilation-pair-stride": ((1, 2, 8, 7), (2, 2, 2, 3), {"dilation": (2, 1), "stride": (1, 2)}),
    "groups": ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    "groups-narrowing": ((2, 6, 5, 5), (4, 3, 3, 3), {"groups": 2, "padding": 1}),
    "padding-beyond-kernel": ((1, 3, 4, 4), (2, 3, 2, 2), {"padding": (2, 1)}),
    "depthwise": ((2, 3, 5, 6), (3, 1, 3, 3), {"groups": 3, "stride": 2}),
    "same-odd": ((1, 2, 5, 6), (3, 2, 3, 5), {"padding": "same"}),
    "same-even": ((1, 2, 5, 5), (2, 2, 4, 2), {"padding": "same"}),
    "same-dilated": ((1, 2, 6, 5), (2, 2, 2, 3), {"padding": "same", "dilation": (3, 2)}),
    "valid": ((2, 2, 5, 6), (2, 2, 3, 3), {"padding": "valid"}),
    "pointwise": ((2, 3, 4, 5), (2, 3, 1, 1), {}),
    "pointwise-strided": ((1, 3, 5, 5), (2, 3, 1, 1), {"stride": 2}),
    "unbatched": ((2, 5, 5), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
}
CONV1D = {
    "plain": ((2, 3, 7), (2, 3, 3), {}),
    "stride-pad-dilation": ((2, 2, 9), (3, 2, 3), {"stride": 2, "padding": 2, "dilation": 2}),
    "groups-same": ((1, 4, 6), (4, 2, 4), {"groups": 2, "padding": "same"}),
    "depthwise-valid": ((2, 3, 7), (3, 1, 3), {"groups": 3, "padding": "valid"}),
    "pointwise": ((2, 3, 5), (2, 3, 1), {}),
    "unbatched": ((2, 7), (3, 2, 3), {"stride": 2}),
}
CONV_TRANSPOSE2D = {
    "plain": ((2, 3, 4, 3), (3, 2, 3, 3), {}),
    "stride-output_padding": ((2, 2, 3, 4), (2, 3, 3, 3), {"stride": 2, "output_padding": 1}),
    "pairs": (
        (1, 2, 3, 3),
        (2, 2, 3, 2),
        {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)},
    ),
    "groups-dilation": ((2, 4, 3, 3), (4, 1, 2, 3), {"groups": 2, "dilation": 2, "padding": 1}),
    "output_padding-below-dilation": (
        (1, 2, 3, 3),
        (2, 2, 1, 1),
        {"dilation": 2, "output_padding": 1},
    ),
    "pointwise": ((2, 3, 3, 4), (3, 2, 1, 1), {}),
    "unbatched": ((3, 3, 3), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
}
OPS = {
    "conv2d": (F.conv2d, CONV2D),
    "conv1d": (F.conv1d, CONV1D),
    "conv_transpose2d": (F.conv_transpose2d, CONV_TRANSPOSE2D),
}
ALL_CASES = [(op, name) for op, (_, cases) in OPS.items() for name in cases]


def case(op: str, name: str, bias: bool = True):
    """(function, input shape, weight shape, options, output channels) of a table row."""
    fn, cases = OPS[op]
    x_shape, w_shape, options = cases[name]
    groups = options.get("groups", 1)
    out_channels = w_shape[1] * groups if op == "conv_transpose2d" else w_shape[0]
    return fn, x_shape, w_shape, options, out_channels if bias else None


@pytest.mark.parametrize("op, name", ALL_CASES)
def test_gradcheck(op, name):
    fn, x_shape, w_shape, options, out_channels = case(op, name)
    inputs = (t64(*x_shape), t64(*w_shape), t64(out_channels))
    assert gradcheck(lambda x, w, b: fn(x, w, b, **options), inputs)


@pytest.mark.parametrize("op", OPS)
def test_gradcheck_without_bias(op):
    fn, x_shape, w_shape, options, _ = case(op, next(iter(OPS[op][1])))
    assert gradcheck(lambda x, w: fn(x, w, **options), (t64(*x_shape), t64(*w_shape)))


# ---- against PyTorch --------------------------------------------------------------------------


def _run_both(op, arrays, options, dtype, layout=None, *, device="cpu"):
    """Forward and backward (random upstream gradient) in aprende (on ``device``) and in torch;
    each side's output and gradients as NumPy arrays. ``layout`` turns each leaf into the
    operand actually passed (a transposed view, say), on both sides alike."""
    torch = pytest.importorskip("torch")
    layout = layout or (lambda i, t: t)
    ours = [aprende.tensor(a, dtype=dtype, requires_grad=True, device=device) for a in arrays]
    torch_dtype = {aprende.float32: torch.float32, aprende.float64: torch.float64}[dtype]
    theirs = [torch.tensor(a, dtype=torch_dtype, requires_grad=True) for a in arrays]
    out_a = getattr(F, op)(*[layout(i, t) for i, t in enumerate(ours)], **options)
    out_t = getattr(torch.nn.functional, op)(
        *[layout(i, t) for i, t in enumerate(theirs)], **options
    )
    assert out_a.shape == tuple(out_t.shape) and out_a.dtype == dtype
    assert out_a.device == device
    upstream = rng.normal(size=out_a.shape)
    out_a.backward(aprende.tensor(upstream, dtype=dtype, device=device))
    out_t.backward(torch.tensor(upstream, dtype=torch_dtype))
    return (
        [out_a.detach().cpu().numpy()] + [t.grad.cpu().numpy() for t in ours],
        [out_t.detach().numpy()] + [t.grad.numpy() for t in theirs],
    )


@pytest.fixture
def run_both(device):
    """``_run_both`` on each device in turn: "cuda" gives the CPU's results."""
    return functools.partial(_run_both, device=device)


def assert_close(ours, theirs, rtol):
    for a, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, t, rtol=rtol, atol=rtol * np.abs(t).max())


def arrays_of(op, name, bias=True):
    _, x_shape, w_shape, options, out_channels = case(op, name, bias)
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape)]
    return arrays + ([rng.normal(size=out_channels)] if bias else []), options


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("op, name", ALL_CASES)
def test_matches_torch_in_float64(run_both, op, name):
    arrays, options = arrays_of(op, name)
    assert_close(*run_both(op, arrays, options, aprende.float64), rtol=1e-7)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("op, name", ALL_CASES)
def test_matches_torch_in_float32_without_bias(run_both, op, name):
    arrays, options = arrays_of(op, name, bias=False)
    assert_close(*run_both(op, arrays, options, aprende.float32), rtol=1e-5)


@pytest.mark.parametrize("op", OPS)
def test_non_contiguous_operands_match_torch(run_both, op):
    """Input and weight given as transposed views (H and W swapped): the same as torch."""
    name = {"conv2d": "stride-pad", "conv1d": "stride-pad-dilation"}.get(op, "pairs")
    arrays, options = arrays_of(op, name)
    arrays[0], arrays[1] = np.swapaxes(arrays[0], -1, -2), np.swapaxes(arrays[1], -1, -2)

    def transposed(i, t):
        return t.transpose(-1, -2) if i < 2 else t

    for dtype, rtol in ((aprende.float64, 1e-7), (aprende.float32, 1e-5)):
        assert_close(*run_both(op, arrays, options, dtype, transposed), rtol=rtol)


def test_a_realistic_layer_matches_torch_in_float32(run_both):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(8, 16, 14, 14)).astype(np.float32)
    w = (rng.normal(size=(32, 16, 3, 3)) / 12).astype(np.float32)
    b = rng.normal(size=32).astype(np.float32)
    ours, theirs = run_both("conv2d", [x, w, b], {"padding": 1}, aprende.float32)
    assert_close(ours, theirs, rtol=1e-5)
    assert torch.get_default_dtype() == torch.float32


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    """⟨conv2d(x, W), g⟩ = ⟨x, conv_transpose2d(g, W)⟩: the adjoint, with no reference library."""
    x, w = rng.normal(size=(2, 3, 7, 8)), rng.normal(size=(4, 3, 3, 2))
    options = {"stride": (2, 3), "padding": (1, 0), "dilation": (1, 2)}
    y = F.conv2d(aprende.tensor(x), aprende.tensor(w), **options).numpy()
    g = rng.normal(size=y.shape)
    # conv2d maps H 7 -> 4 and W 8 -> 2; back, 4 -> 7 and 2 -> 6: the last 2 columns, which
    # the strided conv2d never reaches, come back as output padding.
    extra = (0, 2)
    back = F.conv_transpose2d(aprende.tensor(g), aprende.tensor(w), output_padding=extra, **options)
    assert back.shape == x.shape
    assert np.vdot(y, g) == pytest.approx(np.vdot(x, back.numpy()), rel=1e-12)


def test_float32_stays_float32_and_no_grad_builds_no_graph():
    x = aprende.randn(2, 3, 5, 5, requires_grad=True)
    w = aprende.randn(4, 3, 3, 3, requires_grad=True)
    assert F.conv2d(x, w).dtype == aprende.float32
    assert F.conv2d(x, w).grad_fn is not None
    with aprende.no_grad():
        assert F.conv2d(x, w).grad_fn is None


def test_only_the_needed_gradients_are_computed():
    x, w = aprende.randn(2, 3, 5, 5), aprende.randn(4, 3, 3, 3, requires_grad=True)
    b = aprende.randn(4)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is None and b.grad is None and w.grad.shape == (4, 3, 3, 3)


# ---- layers -----------------------------------------------------------------------------------

LAYERS = [
    ("Conv2d", (4, 6, 3), {"stride": 2, "padding": 1}, (2, 4, 9, 8)),
    ("Conv2d", (4, 6, (3, 2)), {"padding": "same", "groups": 2, "bias": False}, (2, 4, 5, 5)),
    ("Conv2d", (3, 3, 3), {"groups": 3, "dilation": 2}, (3, 7, 7)),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2}, (2, 4, 11)),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 4, 4, 5)),
    ("ConvTranspose2d", (4, 2, 2), {"groups": 2, "bias": False}, (4, 3, 3)),
]


def copy_into_torch(ours, theirs):
    import torch

    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value)))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("layer, args, kwargs, x_shape", LAYERS)
def test_layer_matches_torch(layer, args, kwargs, x_shape, device):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, layer)(*args, **kwargs), getattr(torch.nn, layer)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    copy_into_torch(ours, theirs)
    ours.to(device)
    x = rng.normal(size=x_shape).astype(np.float32)
    xa = aprende.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    out_a, out_t = ours(xa), theirs(xt)
    upstream = rng.normal(size=out_a.shape).astype(np.float32)
    out_a.backward(aprende.tensor(upstream, device=device))
    out_t.backward(torch.tensor(upstream))
    torch_params = dict(theirs.named_parameters())
    assert_close(
        [out_a.detach().cpu().numpy(), xa.grad.cpu().numpy()]
        + [p.grad.cpu().numpy() for _, p in ours.named_parameters()],
        [out_t.detach().numpy(), xt.grad.numpy()]
        + [torch_params[n].grad.numpy() for n, _ in ours.named_parameters()],
        rtol=1e-5,
    )


def test_conv_transpose2d_output_size_picks_the_output_padding_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=3),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=3),
    )
    copy_into_torch(ours, theirs)
    x = rng.normal(size=(1, 3, 4, 4)).astype(np.float32)
    out_a = ours(aprende.tensor(x), output_size=(1, 2, 13, 14))
    out_t = theirs(torch.tensor(x), output_size=(1, 2, 13, 14))
    assert out_a.shape == (1, 2, 13, 14)
    assert_close([out_a.detach().numpy()], [out_t.detach().numpy()], rtol=1e-5)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size"):
        ours(aprende.tensor(x), output_size=(15, 12))


def test_state_dict_from_torch_and_back():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv2d(3, 4, (3, 2), stride=2, groups=1)
    ours = nn.Conv2d(3, 4, (3, 2), stride=2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    np.testing.assert_allclose(
        ours(aprende.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    again = torch.nn.Conv2d(3, 4, (3, 2), stride=2)
    again.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    for name, value in theirs.state_dict().items():
        assert torch.equal(again.state_dict()[name], value)


@pytest.mark.parametrize(
    "layer, args, fan_in",
    [
        ("Conv2d", (6, 8, (3, 5)), 6 * 15),
        ("Conv2d", (6, 9, 3, 1, 0, 1, 3), 2 * 9),  # groups=3: in_channels/groups per filter
        ("Conv1d", (5, 7, 4), 5 * 4),
        ("ConvTranspose2d", (6, 8, 3), 8 * 9),  # weight (in, out/groups, ...): fan_in from out
    ],
)
def test_initialisation_bounds_follow_pytorchs_formula(layer, args, fan_in):
    """kaiming_uniform_(a=√5) gives U(±√(6/((1 + 5)·fan_in))) = U(±1/√fan_in), the bias too."""
    aprende.manual_seed(0)
    module = getattr(nn, layer)(*args)
    bound = 1 / math.sqrt(fan_in)
    w, b = module.weight.detach().numpy(), module.bias.detach().numpy()
    assert np.abs(b).max() <= bound
    assert bound * 0.95 < np.abs(w).max() <= bound  # the whole interval is used
    assert abs(w.mean()) < 0.1 * bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.2)  # U(−a, a) has variance a²/3


def test_layer_settings_and_dtype():
    layer = nn.Conv2d(2, 4, 3, dtype=aprende.float64)
    assert layer.weight.dtype == aprende.float64 and layer.bias.dtype == aprende.float64
    assert (layer.kernel_size, layer.stride, layer.padding) == ((3, 3), (1, 1), (0, 0))
    assert nn.Conv2d(2, 4, 3, padding="same").padding == "same"
    assert nn.Conv2d(2, 4, 3, bias=False).bias is None
    assert [n for n, _ in nn.Conv1d(2, 4, 3).named_parameters()] == ["weight", "bias"]


# ---- errors -----------------------------------------------------------------------------------


def _tensors(*shapes, dtype=aprende.float32):
    return [aprende.zeros(*s, dtype=dtype) for s in shapes]


ERRORS = [
    (lambda: F.conv2d(*_tensors((4, 5), (6, 4, 3, 3))), RuntimeError, r"conv2d: expected a 3-D"),
    (lambda: F.conv1d(*_tensors((2, 4, 5, 5), (6, 4, 3))), RuntimeError, r"conv1d: expected a 2-D"),
    (lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3))), RuntimeError, r"4-D weight of shape"),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 3, 3, 3))),
        RuntimeError,
        r"expect an input with 3 channels \(weight.shape\[1\]·groups = 3·1\), got an input of "
        r"shape \(2, 4, 5, 5\) with 4 channels",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (5, 2, 3, 3)), groups=2),
        RuntimeError,
        r"weight.shape\[0\] to be divisible by groups=2",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 3, 5, 5), (6, 1, 3, 3)), groups=2),
        RuntimeError,
        r"expect an input with 2 channels",
    ),
    (
        lambda: F.conv_transpose2d(*_tensors((2, 4, 5, 5), (3, 3, 3, 3))),
        RuntimeError,
        r"conv_transpose2d: .* expect an input with 3 channels \(weight.shape\[0\]\)",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 7, 7))),
        RuntimeError,
        r"padded input is 5 x 5 per channel, smaller than the kernel, which spans 7 x 7",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), dilation=3),
        RuntimeError,
        r"spans 7 x 7 with dilation \(3, 3\)",
    ),
    (
        lambda: F.conv_transpose2d(*_tensors((1, 4, 1, 1), (4, 3, 1, 1)), padding=1),
        RuntimeError,
        r"gives an output of -1 x -1: the output size is too small",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), padding="full"),
        RuntimeError,
        r"invalid padding string 'full'",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), padding="same", stride=2),
        RuntimeError,
        r"padding='same' is not supported for strided convolutions",
    ),
    (
        lambda: F.conv_transpose2d(*_tensors((2, 4, 5, 5), (4, 3, 3, 3)), padding="same"),
        TypeError,
        r"conv_transpose2d: padding must be an int or a tuple",
    ),
    (
        lambda: F.conv_transpose2d(
            *_tensors((2, 4, 5, 5), (4, 3, 3, 3)), stride=2, output_padding=2
        ),
        RuntimeError,
        r"output padding must be smaller than either stride or dilation",
    ),
    (
        lambda: F.conv2d(
            aprende.zeros(2, 4, 5, 5, dtype=aprende.float64), aprende.zeros(6, 4, 3, 3)
        ),
        RuntimeError,
        r"conv2d: input \(float64\) and weight \(float32\) must have the same dtype",
    ),
    (
        lambda: F.conv2d(
            *_tensors((2, 4, 5, 5), (6, 4, 3, 3)), aprende.zeros(6, dtype=aprende.float64)
        ),
        RuntimeError,
        r"input \(float32\) and bias \(float64\) must have the same dtype",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3), (5,))),
        RuntimeError,
        r"expected a bias of shape \(6,\)",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), stride=0),
        RuntimeError,
        "non-positive stride",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), padding=-1),
        RuntimeError,
        "negative padding",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), groups=0),
        RuntimeError,
        "non-positive groups",
    ),
    (
        lambda: F.conv2d(*_tensors((2, 4, 5, 5), (6, 4, 3, 3)), stride=(1, 2, 3)),
        RuntimeError,
        r"expected stride to be a single integer value or a list of 2 values",
    ),
    (
        lambda: F.conv2d(np.zeros((2, 4, 5, 5)), aprende.zeros(6, 4, 3, 3)),
        TypeError,
        "conv2d: expected input to be a Tensor",
    ),
    (
        lambda: nn.Conv2d(3, 6, 3, groups=2),
        ValueError,
        r"Conv2d: in_channels must be divisible by groups",
    ),
    (lambda: nn.Conv2d(4, 5, 3, groups=2), ValueError, r"out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 5, 3, groups=0), ValueError, r"groups must be a positive integer"),
    (
        lambda: nn.Conv2d(4, 5, 3, stride=2, padding="same"),
        ValueError,
        r"not supported for strided",
    ),
    (
        lambda: nn.Conv1d(4, 5, 3, padding="full"),
        ValueError,
        r"Conv1d: invalid padding string 'full'",
    ),
    (lambda: nn.Conv2d(4, 5, 3, padding_mode="mirror"), ValueError, r"padding_mode must be one of"),
    (
        lambda: nn.Conv2d(4, 5, 3, padding_mode="reflect"),
        NotImplementedError,
        r"'reflect' is not implemented",
    ),
    (
        lambda: nn.ConvTranspose2d(4, 5, 3, padding_mode="reflect"),
        ValueError,
        r'only "zeros" padding mode',
    ),
]


@pytest.mark.parametrize("build, error, message", ERRORS)
def test_errors_name_the_op_and_what_came(build, error, message):
    with pytest.raises(error, match=message):
        build()


# ---- the benchmark ----------------------------------------------------------------------------


def test_benchmark_quick_run_prints_the_ratio_and_writes_json(tmp_path, capsys):
    """``python -m benchmarks.conv --quick``, run in this process (its main)."""
    bench = importlib.import_module("benchmarks.conv")
    assert bench.main(["--quick", "--json", str(tmp_path / "conv.json")]) == 0
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "conv.json").read_text())
    assert report["threads"] == 1 and report["layer"].startswith("Conv2d(32, 64, 3, padding=1)")
    for name, result in report["results"].items():
        assert len(result["times_s"]) == 3
        assert result["median_s"] == np.median(result["times_s"]) > 0
        assert re.search(rf"^{re.escape(name)}\s+\d+\.\d\d\s", printed, re.MULTILINE)
    if "torch" in report["results"]:
        ratio = report["results"]["aprende"]["median_s"] / report["results"]["torch"]["median_s"]
        assert f"aprende/torch time: {ratio:.2f}" in printed
    else:
        assert "torch: skipped (not installed)" in printed


def test_changing_the_input_after_forward_raises_at_backward():
    """The weight gradient rebuilds im2col from the saved input, so the input is version-checked."""
    x = aprende.tensor(rng.normal(size=(2, 3, 5, 5)))
    w = aprende.tensor(rng.normal(size=(4, 3, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    with aprende.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("op, name", [(op, name) for op, name in ALL_CASES if op != "conv1d"])
def test_uneven_blocks_of_the_batch_give_the_same_numbers(op, name, monkeypatch):
    """The batch goes through in blocks of samples that reuse their buffers; with blocks of one
    or two samples (the last one smaller) values and gradients equal one block's."""
    from aprende.ops import im2col

    fn, x_shape, w_shape, options, out_channels = case(op, name)
    x_shape = (5,) + x_shape[1:] if len(x_shape) == 4 else x_shape
    arrays = [rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=out_channels)]

    def run():
        tensors = [aprende.tensor(a, dtype=aprende.float64, requires_grad=True) for a in arrays]
        out = fn(*tensors, **options)
        out.backward(aprende.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape)))
        return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]

    whole = run()
    per_sample = int(np.prod(x_shape[1:])) * int(np.prod(w_shape[2:])) * 8
    for factor in (1.1, 1.7, 2.4, 3.3, 4.5):  # blocks of 1 to 4 samples of 5, whatever the layout
        monkeypatch.setattr(im2col, "BLOCK_BYTES", int(factor * per_sample))
        for ours, reference in zip(run(), whole, strict=True):
            np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
