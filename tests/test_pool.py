"""Pooling (aprende.ops.pool, aprende.ops.adaptive_pool, aprende.nn.pooling): float64 gradcheck
of every op, and the same values, indices and gradients as PyTorch (where installed) on odd
sizes, strides, padding, dilation, ceil_mode, the divisor rules, uneven adaptive bins and ties;
the layers against torch.nn; every error."""

import functools

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck
from aprende.nn import functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the PyTorch comparisons skip; gradchecks and errors still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
rng = np.random.default_rng(2024)


def distinct(*shape):
    """float64 values with no two equal in a window (a permutation, spaced 0.1 apart): max
    pooling is differentiable there, so finite differences apply."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


def quantised(*shape, levels=3):
    """float32 values among a few levels: windows with tied maxima everywhere."""
    return rng.integers(0, levels, size=shape).astype(np.float32)


def normal(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def _compare(ours, theirs, x, indices=False, rtol=1e-6, atol=1e-6, *, device="cpu"):
    """Run the aprende op (on ``device``) and the PyTorch op on the same array: the same values
    (and int64 indices, exactly), and the same input gradient for a random upstream gradient."""
    mine = aprende.tensor(x, requires_grad=True, device=device)
    reference = torch.tensor(x, requires_grad=True)
    out, expected = ours(mine), theirs(reference)
    if indices:
        (out, out_indices), (expected, expected_indices) = out, expected
        assert out_indices.dtype == np.int64 and out_indices.device == device
        np.testing.assert_array_equal(out_indices.cpu().numpy(), expected_indices.numpy())
    assert out.shape == tuple(expected.shape) and out.device == device
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(), rtol, atol)
    upstream = rng.standard_normal(tuple(expected.shape)).astype(x.dtype)
    out.backward(aprende.tensor(upstream, device=device))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.grad.cpu().numpy(), reference.grad.numpy(), rtol, atol)


@pytest.fixture
def compare(device):
    """``_compare`` on each device in turn: the same results on "cuda" as on the CPU."""
    return functools.partial(_compare, device=device)


#: Max pooling and unpooling only pick and move numbers (a gradient is g itself, or a sum of
#: g over overlapping windows in PyTorch's order): the results must be equal, not just close.
EXACT = dict(rtol=0, atol=0)


# ---- max pooling ----------------------------------------------------------------------------

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=1, padding=1),  # overlapping windows: gradients accumulate
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),  # gaps between windows
    dict(kernel_size=2, stride=2, dilation=3),  # offset 1 lands on the odd lattice, shifted
]
MAX_IDS = [str(i) for i in range(len(MAX_CASES))]


@needs_torch
@pytest.mark.parametrize("options", MAX_CASES, ids=MAX_IDS)
@pytest.mark.parametrize("values", [normal, quantised], ids=["distinct", "ties"])
def test_max_pool2d_matches_torch(compare, options, values):
    x = values(2, 3, 7, 9)
    compare(
        lambda t: F.max_pool2d(t, **options, return_indices=True),
        lambda t: TF.max_pool2d(t, **options, return_indices=True),
        x,
        indices=True,
        **EXACT,
    )
    compare(
        lambda t: F.max_pool2d(t, **options), lambda t: TF.max_pool2d(t, **options), x[0], **EXACT
    )


@needs_torch
def test_max_pool2d_all_equal_windows_and_infinities_match_torch(compare):
    """Every window tied (the gradient goes to its first element), and windows of −∞ only
    (PyTorch keeps the first element inside the input, not the padding)."""
    compare(
        lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True),
        lambda t: TF.max_pool2d(t, 3, 2, 1, return_indices=True),
        np.ones((1, 2, 6, 7), np.float32),
        indices=True,
        **EXACT,
    )
    x = normal(1, 2, 6, 7)
    x[:, :, :3, :3] = -np.inf
    mine = F.max_pool2d(aprende.tensor(x), 3, 2, 1, return_indices=True)
    reference = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(mine[0].numpy(), reference[0].numpy())
    np.testing.assert_array_equal(mine[1].numpy(), reference[1].numpy())


@needs_torch
def test_max_pool2d_nan_matches_torch():
    """A NaN in a window wins, and the last NaN of the scan gives the index (as PyTorch)."""
    x = normal(1, 1, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 0, 4, 4] = np.nan
    mine = F.max_pool2d(aprende.tensor(x), 3, 2, 1, return_indices=True)
    reference = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(mine[0].numpy(), reference[0].numpy())
    np.testing.assert_array_equal(mine[1].numpy(), reference[1].numpy())


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    """Written out: in a window [[1, 2], [2, 0]] the gradient goes to (0, 1) alone."""
    x = aprende.tensor([[[[1.0, 2.0], [2.0, 0.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_sizes_may_be_numpy_integers_or_one_element_sequences():
    x = distinct(1, 2, 6, 6)
    expected = F.max_pool2d(x, 2).detach().numpy()
    np.testing.assert_array_equal(F.max_pool2d(x, np.int64(2)).detach().numpy(), expected)
    np.testing.assert_array_equal(F.max_pool2d(x, [2], stride=(2,)).detach().numpy(), expected)


def test_max_pool2d_without_grad_gives_the_same_values_and_keeps_the_dtype():
    x = distinct(2, 3, 7, 9)
    with aprende.no_grad():
        plain = F.max_pool2d(x, 3, 2, 1)
    np.testing.assert_array_equal(plain.numpy(), F.max_pool2d(x, 3, 2, 1).detach().numpy())
    assert plain.dtype == np.float64
    assert F.max_pool2d(aprende.tensor(normal(1, 1, 4, 4)), 2).dtype == np.float32


# ---- average pooling ------------------------------------------------------------------------

AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),  # the last window is clipped
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), divisor_override=5),
    dict(kernel_size=2, stride=3, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),  # overlapping, stride 1
]
AVG_IDS = [str(i) for i in range(len(AVG_CASES))]


WINDOW_CASES = [("max_pool2d", c) for c in MAX_CASES] + [("avg_pool2d", c) for c in AVG_CASES]


@pytest.mark.parametrize(
    "op, options", WINDOW_CASES, ids=[f"{op}-{i}" for i, (op, _) in enumerate(WINDOW_CASES)]
)
def test_window_pools_gradcheck(op, options):
    assert gradcheck(lambda x: getattr(F, op)(x, **options), [distinct(2, 2, 7, 8)])


@needs_torch
@pytest.mark.parametrize("options", AVG_CASES, ids=AVG_IDS)
def test_avg_pool2d_matches_torch(compare, options):
    x = normal(2, 3, 7, 9)
    compare(lambda t: F.avg_pool2d(t, **options), lambda t: TF.avg_pool2d(t, **options), x)
    compare(lambda t: F.avg_pool2d(t, **options), lambda t: TF.avg_pool2d(t, **options), x[1])


def test_avg_pool2d_ceil_mode_divisor_written_out():
    """4×4 input, kernel 3, stride 2, padding 1, ceil_mode: the windows start at −1, 1, 3;
    the last one spans 3..5 but the padded input ends at 4, so it counts 2 rows (3, 4), of
    which 1 is inside the input."""
    x = aprende.ones(1, 1, 4, 4)
    with_pad = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True).numpy()[0, 0]
    without = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).numpy()[0, 0]
    counted = np.array([2, 3, 1])  # rows of each window inside the input
    spanned = np.array([3, 3, 2])  # rows of each window inside the padded input
    np.testing.assert_allclose(with_pad, np.outer(counted, counted) / np.outer(spanned, spanned))
    np.testing.assert_allclose(without, np.ones((3, 3)))


# ---- adaptive pooling -----------------------------------------------------------------------

ADAPTIVE_SIZES = [(3, 5), (None, 4), (10, 3), 1, (7, 9), (4, None)]


@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
def test_adaptive_pools_gradcheck(size):
    x = distinct(2, 2, 7, 9)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, size), [x])


@needs_torch
@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
@pytest.mark.parametrize("values", [normal, quantised], ids=["distinct", "ties"])
def test_adaptive_pools_match_torch(compare, size, values):
    x = values(2, 3, 7, 9)
    compare(lambda t: F.adaptive_avg_pool2d(t, size), lambda t: TF.adaptive_avg_pool2d(t, size), x)
    compare(
        lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
        lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True),
        x,
        indices=True,
        **EXACT,
    )
    compare(
        lambda t: F.adaptive_max_pool2d(t, size),
        lambda t: TF.adaptive_max_pool2d(t, size),
        x[0],
        **EXACT,
    )


def test_adaptive_bins_written_out():
    """Length 5 into 3 bins: [0, 2), [1, 4), [3, 5) (⌊i·5/3⌋ to ⌈(i + 1)·5/3⌉)."""
    x = aprende.tensor([[[[0.0, 1.0, 2.0, 3.0, 4.0]]]])
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (1, 3)).numpy()[0, 0, 0], [0.5, 2, 3.5])
    np.testing.assert_allclose(F.adaptive_max_pool2d(x, (1, 3)).numpy()[0, 0, 0], [1, 3, 4])


# ---- max unpooling --------------------------------------------------------------------------


@pytest.mark.parametrize("size, output_size", [((6, 8), None), ((7, 9), (7, 9))])
def test_max_unpool2d_gradcheck(size, output_size):
    # disjoint windows: every index once (a repeated index keeps one value, the last written)
    values, indices = F.max_pool2d(distinct(2, 2, *size), 2, return_indices=True)
    x = aprende.tensor(values.detach().numpy(), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, indices, 2, output_size=output_size), [x])


@needs_torch
@pytest.mark.parametrize(
    "shape, output_size",
    [((2, 3, 7, 7), None), ((2, 3, 7, 9), (7, 9)), ((2, 3, 7, 9), (2, 3, 7, 9))],
    ids=str,
)
def test_max_unpool2d_matches_torch(compare, shape, output_size):
    # kernel 3, stride 3, padding 1: disjoint windows, so no index repeats (PyTorch leaves
    # which of two values at one index wins unspecified)
    _, indices = TF.max_pool2d(torch.tensor(normal(*shape)), 3, 3, 1, return_indices=True)
    ours = aprende.tensor(indices.numpy())
    compare(
        lambda t: F.max_unpool2d(t, ours.to(t.device), 3, 3, 1, output_size),
        lambda t: TF.max_unpool2d(t, indices, 3, 3, 1, output_size),
        normal(*indices.shape),
        **EXACT,
    )
    compare(
        lambda t: F.max_unpool2d(t, ours[0].to(t.device), 3, 3, 1, shape[-2:]),
        lambda t: TF.max_unpool2d(t, indices[0], 3, 3, 1, shape[-2:]),
        normal(*indices.shape[1:]),
        **EXACT,
    )


def test_max_unpool2d_inverts_max_pool2d_at_the_maxima():
    x = distinct(1, 2, 6, 6)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    restored = F.max_unpool2d(values, indices, 2).detach().numpy()
    kept = restored != 0
    np.testing.assert_array_equal(restored[kept], x.detach().numpy()[kept])
    assert kept.sum() == values.numel()


# ---- 1-d pooling ----------------------------------------------------------------------------


def test_1d_pools_gradcheck():
    x = distinct(2, 3, 11)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, dilation=2), [x])
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True), [x])


@needs_torch
@pytest.mark.parametrize("values", [normal, quantised], ids=["distinct", "ties"])
def test_1d_pools_match_torch(compare, values):
    x = values(2, 3, 11)
    compare(
        lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True, return_indices=True),
        lambda t: TF.max_pool1d(t, 3, 2, 1, ceil_mode=True, return_indices=True),
        x,
        indices=True,
        **EXACT,
    )
    compare(
        lambda t: F.max_pool1d(t, 2, 1, dilation=3),
        lambda t: TF.max_pool1d(t, 2, 1, 0, 3),
        x[0],
        **EXACT,
    )
    compare(
        lambda t: F.avg_pool1d(t, 3, 2, 1, True, False),
        lambda t: TF.avg_pool1d(t, 3, 2, 1, True, False),
        x,
    )


# ---- the layers -----------------------------------------------------------------------------

LAYERS = [
    ("MaxPool2d", (3,), {}),
    ("MaxPool2d", ((2, 3), 1, (1, 0), 2), {"ceil_mode": True}),
    ("MaxPool2d", (3, 2, 1), {"return_indices": True}),
    ("AvgPool2d", (3,), {}),
    ("AvgPool2d", (3, 2, 1, True, False), {}),
    ("AvgPool2d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveMaxPool2d", (2,), {}),
    ("AdaptiveMaxPool2d", ((3, 4), True), {}),
    ("MaxPool1d", (3, 2, 1), {}),
    ("AvgPool1d", (3, 2, 1), {"count_include_pad": False}),
]


@needs_torch
@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=[f"{n}{a}" for n, a, _ in LAYERS])
def test_layers_match_torch_nn(compare, name, args, kwargs):
    ours, theirs = (
        getattr(aprende.nn, name)(*args, **kwargs),
        getattr(torch.nn, name)(*args, **kwargs),
    )
    assert repr(ours) == repr(theirs)
    x = quantised(2, 3, 9) if name.endswith("1d") else quantised(2, 3, 7, 9)
    exact = EXACT if "Max" in name else {}
    compare(ours, theirs, x, indices=kwargs.get("return_indices", args[-1] is True), **exact)


@needs_torch
def test_max_unpool2d_layer_matches_torch_nn(compare):
    ours, theirs = aprende.nn.MaxUnpool2d(3, 3, 1), torch.nn.MaxUnpool2d(3, 3, 1)
    assert repr(ours) == repr(theirs)
    pool = torch.nn.MaxPool2d(3, 3, 1, return_indices=True)
    _, indices = pool(torch.tensor(normal(2, 3, 7, 9)))
    mine = aprende.tensor(indices.numpy())
    x = normal(*indices.shape)
    compare(lambda t: ours(t, mine.to(t.device), (7, 9)), lambda t: theirs(t, indices, (7, 9)), x)


def test_layer_defaults():
    pool = aprende.nn.MaxPool2d(2)
    assert (pool.stride, pool.padding, pool.dilation, pool.ceil_mode) == (2, 0, 1, False)
    assert aprende.nn.AvgPool1d(3).kernel_size == (3,)
    assert aprende.nn.MaxUnpool2d(2).stride == (2, 2)


# ---- errors ---------------------------------------------------------------------------------

x4 = aprende.ones(1, 1, 4, 4)
ERRORS = [
    (lambda: F.max_pool2d(aprende.ones(4, 4), 2), RuntimeError, r"max_pool2d: expected a 3D or 4D"),
    (
        lambda: F.avg_pool2d(aprende.ones(1, 1, 1, 4, 4), 2),
        RuntimeError,
        r"avg_pool2d: expected a 3D",
    ),
    (lambda: F.max_pool2d(aprende.ones(1, 0, 4, 4), 2), RuntimeError, r"non-zero sizes"),
    (lambda: F.max_pool2d(x4, 5), RuntimeError, r"max_pool2d: .*\(1x0x0\) is too small"),
    (lambda: F.avg_pool2d(aprende.ones(1, 1, 2, 2), 3), RuntimeError, r"avg_pool2d: .* too small"),
    (
        lambda: F.max_pool2d(x4, 3, padding=2),
        RuntimeError,
        r"max_pool2d: pad should be at most half",
    ),
    (lambda: F.avg_pool2d(x4, 2, padding=(0, 2)), RuntimeError, r"avg_pool2d: pad should be"),
    (lambda: F.max_pool2d(x4, 2, stride=0), RuntimeError, r"max_pool2d: stride should be greater"),
    (lambda: F.avg_pool2d(x4, 2, stride=-1), RuntimeError, r"avg_pool2d: stride should be greater"),
    (lambda: F.max_pool2d(x4, 0), RuntimeError, r"kernel size should be greater than zero"),
    (lambda: F.max_pool2d(x4, 2, dilation=0), RuntimeError, r"dilation should be greater"),
    (lambda: F.max_pool2d(x4, 2, padding=-1), RuntimeError, r"pad must be non-negative"),
    (lambda: F.max_pool2d(x4, (2, 2, 2)), RuntimeError, r"single int, or a tuple of two ints"),
    (
        lambda: F.max_pool2d(aprende.ones(1, 1, 4, 4, dtype=aprende.int64), 2),
        TypeError,
        r"floating",
    ),
    (
        lambda: F.max_pool2d(np.ones((1, 1, 4, 4)), 2),
        TypeError,
        r"max_pool2d: expected input to be",
    ),
    (lambda: F.avg_pool2d(x4, 2, divisor_override=0), RuntimeError, r"divisor must be not zero"),
    (lambda: F.max_pool1d(x4, 2), RuntimeError, r"max_pool1d: expected a 2D or 3D"),
    (lambda: F.avg_pool1d(aprende.ones(1, 1, 2), 3), RuntimeError, r"avg_pool1d: .* too small"),
    (lambda: F.max_pool1d(aprende.ones(1, 1, 8), 3, padding=2), RuntimeError, r"pad should be"),
    (lambda: F.max_pool1d(aprende.ones(1, 1, 8), (3, 3)), RuntimeError, r"tuple of one int"),
    (
        lambda: F.adaptive_avg_pool2d(aprende.ones(5, 5), 2),
        RuntimeError,
        r"adaptive_avg_pool2d: expected a 3D",
    ),
    (
        lambda: F.adaptive_max_pool2d(aprende.ones(1, 1, 0, 5), 2),
        RuntimeError,
        r"adaptive_max_pool2d: .*non-zero",
    ),
    (lambda: F.adaptive_avg_pool2d(x4, -1), RuntimeError, r"greater than or equal to 0"),
    (lambda: F.adaptive_max_pool2d(x4, (1, 2, 3)), RuntimeError, r"output_size must be 2"),
]
UNPOOL_INDICES = aprende.zeros(1, 1, 2, 2, dtype=aprende.int64)
ERRORS += [
    (
        lambda: F.max_unpool2d(aprende.ones(2, 2), UNPOOL_INDICES[0, 0], 2),
        RuntimeError,
        r"max_unpool2d: expected a 3D or 4D",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 3), UNPOOL_INDICES, 2),
        RuntimeError,
        r"indices of the input's shape",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 2), aprende.ones(1, 1, 2, 2), 2),
        RuntimeError,
        r"should be type int64",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 2), UNPOOL_INDICES + 16, 2),
        RuntimeError,
        r"invalid max index 16 .* 4x4",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 2), UNPOOL_INDICES - 1, 2),
        RuntimeError,
        r"invalid max index -1",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 2), UNPOOL_INDICES, 2, output_size=(9, 9)),
        ValueError,
        r"invalid output_size",
    ),
    (
        lambda: F.max_unpool2d(aprende.ones(1, 1, 2, 2), UNPOOL_INDICES, 2, output_size=(1, 5, 5)),
        ValueError,
        r"2 or 4 elements",
    ),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@needs_torch
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: F.max_pool2d(x4, 5), lambda: TF.max_pool2d(torch.ones(1, 1, 4, 4), 5)),
        (
            lambda: F.max_pool2d(x4, 3, padding=2),
            lambda: TF.max_pool2d(torch.ones(1, 1, 4, 4), 3, padding=2),
        ),
        (
            lambda: F.max_pool2d(x4, 2, stride=-1),
            lambda: TF.max_pool2d(torch.ones(1, 1, 4, 4), 2, -1),
        ),
        (
            lambda: F.avg_pool2d(x4, 2, divisor_override=0),
            lambda: TF.avg_pool2d(torch.ones(1, 1, 4, 4), 2, divisor_override=0),
        ),
    ],
)
def test_errors_have_torch_types(ours, theirs):
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(expected.type):
        ours()


@needs_torch
def test_the_benchmark_runs():
    """benchmarks/pool.py (run from the repository root) on a tiny input: a row per case."""
    pool_benchmark = pytest.importorskip("benchmarks.pool")
    rows = pool_benchmark.run((2, 3, 8, 8), repeats=1)
    assert [row["case"] for row in rows] == [case[0] for case in pool_benchmark.CASES]
    assert all(row["aprende_wall"] > 0 and row["torch_wall"] > 0 for row in rows)
    assert all(row["ratio_cpu"] > 0 for row in rows)


# ---- layouts and sizes ----------------------------------------------------------------------

EVERY_OP = [
    ("max_pool2d", lambda f, t: f.max_pool2d(t, 3, 2, 1)),
    ("max_pool2d-disjoint", lambda f, t: f.max_pool2d(t, 2)),
    ("avg_pool2d", lambda f, t: f.avg_pool2d(t, 3, 2, 1, count_include_pad=False)),
    ("adaptive_avg_pool2d", lambda f, t: f.adaptive_avg_pool2d(t, (4, 3))),
    ("adaptive_avg_pool2d-global", lambda f, t: f.adaptive_avg_pool2d(t, 1)),
    ("adaptive_max_pool2d", lambda f, t: f.adaptive_max_pool2d(t, (4, 3))),
    (
        "unpool",
        lambda f, t: f.max_unpool2d(
            *f.max_pool2d(t, 2, return_indices=True), 2, output_size=tuple(t.shape[-2:])
        ),
    ),
]


@needs_torch
@pytest.mark.parametrize("name, op", EVERY_OP, ids=[n for n, _ in EVERY_OP])
def test_a_permuted_input_matches_torch(compare, name, op):
    """A transposed view (non-contiguous) as input: the same numbers as PyTorch."""
    compare(
        lambda t: op(F, t.transpose(2, 3)), lambda t: op(TF, t.transpose(2, 3)), normal(2, 3, 9, 7)
    )


@pytest.mark.parametrize("name, op", EVERY_OP, ids=[n for n, _ in EVERY_OP])
def test_an_empty_batch_gives_empty_outputs_and_gradients(name, op):
    x = aprende.zeros(0, 2, 5, 5, requires_grad=True)
    out = op(F, x)
    assert out.shape[:2] == (0, 2)
    out.sum().backward()
    assert x.grad.shape == x.shape
