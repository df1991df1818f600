"""Padding and interpolation: finite-difference gradchecks (float64), the same values and
gradients as torch.nn.functional.pad / interpolate with a random upstream gradient, PyTorch's
errors, and the Upsample module.

The torch comparisons skip cleanly where PyTorch is not installed; the gradchecks always run.
"""

import functools
import math

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(11)


def x64(*shape):
    return aprende.tensor(rng.normal(size=shape), dtype=aprende.float64, requires_grad=True)


def _compare_with_torch(ours, theirs, shape, dtype=np.float64, *, device="cpu"):
    """ours(x) (on ``device``) and theirs(x) on the same x: values, and the input's gradient for
    the same random upstream gradient; float64 to 1e-7, float32 to float32 rounding."""
    torch = pytest.importorskip("torch")
    tol = {"rtol": 1e-7, "atol": 1e-9} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    x = rng.normal(size=shape).astype(dtype)
    xa = aprende.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    out_a, out_t = ours(xa), theirs(xt)
    assert out_a.shape == tuple(out_t.shape) and out_a.device == device
    assert out_a.dtype == x.dtype
    np.testing.assert_allclose(out_a.detach().cpu().numpy(), out_t.detach().numpy(), **tol)
    upstream = rng.normal(size=out_a.shape).astype(dtype)
    out_a.backward(aprende.tensor(upstream, device=device))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), **tol)


@pytest.fixture
def compare_with_torch(device):
    """``_compare_with_torch`` on each device in turn: "cuda" gives the CPU's results."""
    return functools.partial(_compare_with_torch, device=device)


# ---- pad --------------------------------------------------------------------------------------

#: (mode, input shape, pad): every mode with positive, negative and mixed counts.
PADS = [
    ("constant", (2, 3), (1, 2)),
    ("constant", (2, 3, 4), (1, 0, 2, 1, 1, 1)),
    ("constant", (2, 3, 4, 5), (-1, 2, 1, -2)),
    ("constant", (4, 5), (-2, -1, -1, -3)),
    ("reflect", (2, 5), (2, 3)),
    ("reflect", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("reflect", (2, 4, 5), (-2, 3, 2, -1)),
    ("reflect", (1, 2, 3, 4, 3), (1, 1, 2, 0, 2, 1)),
    ("replicate", (2, 3, 4), (3, 1)),
    ("replicate", (2, 3, 4, 5), (2, 5, 1, 0)),
    ("replicate", (2, 3, 4, 5), (-2, 3, 1, -3)),
    ("replicate", (3, 4, 3, 4), (1, 0, 2, 1, 1, 1)),
    ("circular", (2, 3, 5), (2, 5)),
    ("circular", (2, 3, 4, 5), (1, 2, 4, 3)),
    ("circular", (2, 3, 4, 5), (-2, 2, 2, -1)),
    ("circular", (1, 2, 3, 3, 4), (1, 1, 1, 0, 0, 2)),
]
PAD_IDS = [f"{mode}-{pad}" for mode, _, pad in PADS]


@pytest.mark.parametrize("mode, shape, pad", PADS, ids=PAD_IDS)
def test_pad_gradcheck(mode, shape, pad):
    x = x64(*shape)
    weights = aprende.tensor(rng.normal(size=F.pad(x, pad, mode=mode).shape))
    assert gradcheck(lambda t: (F.pad(t, pad, mode=mode) * weights).sum(), (x,))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode, shape, pad", PADS, ids=PAD_IDS)
def test_pad_matches_torch(compare_with_torch, mode, shape, pad, dtype):
    torch = pytest.importorskip("torch")
    compare_with_torch(
        lambda x: F.pad(x, pad, mode=mode),
        lambda x: torch.nn.functional.pad(x, pad, mode=mode),
        shape,
        dtype,
    )


def test_pad_constant_value_and_small_cases_written_out():
    x = aprende.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), value=-1.0).numpy(), [[-1, -1, 1, 2, 3, -1]])
    np.testing.assert_array_equal(F.pad(x, (-1, 0)).numpy(), [[2, 3]])
    np.testing.assert_array_equal(F.pad(x, (2, 2), mode="reflect").numpy(), [[3, 2, 1, 2, 3, 2, 1]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="replicate").numpy(), [[1, 1, 1, 2, 3, 3]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="circular").numpy(), [[2, 3, 1, 2, 3, 1]])
    np.testing.assert_array_equal(F.pad(x, (-1, 2), mode="circular").numpy(), [[2, 3, 2, 3]])
    ints = aprende.tensor([[1, 2]])
    assert F.pad(ints, (1, 0), value=7).tolist() == [[7, 1, 2]]  # any dtype, the value cast


def test_pad_replicate_gradient_sums_onto_the_edge():
    x = aprende.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    F.pad(x, (3, 2), mode="replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[4, 1, 3]])


@pytest.mark.parametrize(
    "shape, pad, mode, value, error, match",
    [
        ((1, 2, 3, 3), (1,), "constant", None, RuntimeError, "divisible by 2"),
        ((1, 2, 3), (1,) * 8, "constant", None, RuntimeError, "two times the input dimension"),
        ((1, 2, 3), (-2, -2), "constant", None, RuntimeError, "negative output size"),
        ((1, 2, 3), (1, 1), "wrap", None, NotImplementedError, "unrecognised padding mode"),
        ((1, 2, 3, 3), (1, 1), "reflect", None, NotImplementedError, "padding size 2 is not"),
        ((3,), (1, 1), "replicate", None, NotImplementedError, "for 1D input"),
        ((1, 2, 3, 3), (3, 0, 0, 0), "reflect", None, RuntimeError, r"padding \(3, 0\) at dim"),
        ((1, 2, 3), (1, 1), "reflect", 1.0, RuntimeError, "doesn't take in value"),
        ((1, 2, 3), (-3, 0), "replicate", None, RuntimeError, "too small"),
        ((1, 0, 3), (1, 1), "reflect", None, RuntimeError, "non-zero dimensions"),
        ((1, 2, 3), (4, 0), "circular", None, RuntimeError, "wrapping around more than once"),
    ],
)
def test_pad_errors_as_torch(shape, pad, mode, value, error, match):
    x = aprende.zeros(*shape)
    with pytest.raises(error, match=match):
        F.pad(x, pad, mode=mode, value=value)
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode, value=value)


def test_pad_argument_types():
    with pytest.raises(TypeError, match="must be tuple of ints, but found element of type float"):
        F.pad(aprende.zeros(2, 3), (1.5, 1))
    with pytest.raises(TypeError, match="expected input to be a Tensor"):
        F.pad(np.zeros(3), (1, 1))
    assert F.pad(aprende.zeros(2, 3), ()).shape == (2, 3)


# ---- interpolate ------------------------------------------------------------------------------

#: (mode, align_corners, input shape, keyword arguments): up and down, sizes and (non-integer)
#: scale factors, with and without recomputing the scale.
INTERPOLATIONS = [
    ("nearest", None, (2, 2, 3, 4), {"size": (7, 5)}),
    ("nearest", None, (2, 2, 6, 5), {"size": (4, 2)}),
    ("nearest", None, (2, 2, 3, 4), {"scale_factor": 2}),
    ("nearest", None, (1, 2, 4, 5), {"scale_factor": 1.7}),
    ("nearest", None, (1, 2, 5, 4), {"scale_factor": (0.6, 2.3)}),
    ("nearest", None, (1, 2, 5, 4), {"scale_factor": 1.7, "recompute_scale_factor": True}),
    ("bilinear", False, (2, 2, 3, 4), {"size": (7, 5)}),
    ("bilinear", True, (2, 2, 3, 4), {"size": (7, 5)}),
    ("bilinear", False, (2, 2, 6, 5), {"size": (4, 2)}),
    ("bilinear", True, (2, 2, 6, 5), {"size": (4, 1)}),
    ("bilinear", False, (1, 2, 4, 5), {"scale_factor": 1.7}),
    ("bilinear", True, (1, 2, 4, 5), {"scale_factor": 1.7}),
    ("bilinear", False, (1, 2, 5, 4), {"scale_factor": (0.6, 2.3)}),
    ("bilinear", False, (1, 2, 5, 4), {"scale_factor": 1.7, "recompute_scale_factor": True}),
    ("bilinear", False, (1, 2, 4, 4), {"scale_factor": 0.5}),
    ("linear", False, (2, 3, 5), {"scale_factor": 2.5}),
    ("linear", True, (2, 3, 5), {"size": 3}),
    ("nearest", None, (2, 3, 5), {"size": 8}),
    ("trilinear", False, (1, 2, 3, 2, 4), {"scale_factor": 1.5}),
    ("nearest", None, (1, 2, 3, 2, 4), {"size": (2, 3, 5)}),
]
INTERPOLATION_IDS = [f"{m}-{a}-{shape}-{kw}" for m, a, shape, kw in INTERPOLATIONS]


@pytest.mark.parametrize("mode, align, shape, kwargs", INTERPOLATIONS, ids=INTERPOLATION_IDS)
def test_interpolate_gradcheck(mode, align, shape, kwargs):
    x = x64(*shape)

    def fn(t):
        return F.interpolate(t, mode=mode, align_corners=align, **kwargs)

    weights = aprende.tensor(rng.normal(size=fn(x).shape))
    assert gradcheck(lambda t: (fn(t) * weights).sum(), (x,))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode, align, shape, kwargs", INTERPOLATIONS, ids=INTERPOLATION_IDS)
def test_interpolate_matches_torch(compare_with_torch, mode, align, shape, kwargs, dtype):
    torch = pytest.importorskip("torch")
    compare_with_torch(
        lambda x: F.interpolate(x, mode=mode, align_corners=align, **kwargs),
        lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align, **kwargs),
        shape,
        dtype,
    )


def test_interpolate_small_cases_written_out():
    x = aprende.tensor([[[0.0, 1.0, 2.0]]])
    # nearest, in/out = 3/5: source ⌊j·0.6⌋ = 0, 0, 1, 1, 2
    np.testing.assert_array_equal(F.interpolate(x, size=5).numpy(), [[[0, 0, 1, 1, 2]]])
    # align_corners: r = (3 − 1)/(5 − 1) = 0.5, source j/2
    out = F.interpolate(x, size=5, mode="linear", align_corners=True)
    np.testing.assert_allclose(out.numpy(), [[[0, 0.5, 1, 1.5, 2]]])
    # half-pixel centres: r = 0.6, source max(0.6(j + ½) − ½, 0) = 0, 0.4, 1, 1.6, 2.2 → clamped
    out = F.interpolate(x, size=5, mode="linear")
    np.testing.assert_allclose(out.numpy(), [[[0, 0.4, 1, 1.6, 2]]], rtol=1e-6)
    # a scale factor given: r = 1/scale_factor, not in/out (3·1.8 = 5.4 → 5 outputs, r = 0.5̄)
    out = F.interpolate(x, scale_factor=1.8, mode="linear")
    source = np.clip((np.arange(5) + 0.5) / 1.8 - 0.5, 0, 2)
    np.testing.assert_allclose(out.numpy(), [[source]], rtol=1e-6)


def test_interpolate_keeps_non_finite_values_local():
    x = aprende.tensor([[[[1.0, np.inf, 2.0, 3.0]]]])
    with np.errstate(invalid="ignore"):  # ∞·0 at the weights that are 0, as in PyTorch
        out = F.interpolate(x, size=(1, 8), mode="bilinear").numpy()
    np.testing.assert_allclose(out[0, 0, 0, -3:], [2.25, 2.75, 3.0])


@pytest.mark.parametrize(
    "shape, kwargs, error, match",
    [
        ((1, 2, 3, 3), {}, ValueError, "either size or scale_factor"),
        ((1, 2, 3, 3), {"size": 2, "scale_factor": 2}, ValueError, "only one of size"),
        ((1, 2, 3, 3), {"size": 2, "align_corners": True}, ValueError, "align_corners option"),
        ((2, 3), {"size": 2}, NotImplementedError, r"Only 3D, 4D and 5D .*got 2D"),
        ((1, 2, 3, 3), {"size": (2,)}, ValueError, "same number of spatial dimensions"),
        ((1, 2, 3, 3), {"scale_factor": (2, 2, 2)}, ValueError, "same number of spatial"),
        ((1, 2, 3, 3), {"size": (2.0, 2)}, TypeError, "expected size to be one of int"),
        ((1, 2, 3, 3), {"scale_factor": 0.1}, RuntimeError, "greater than 0"),
        ((1, 2, 3, 3), {"size": 2, "mode": "linear"}, NotImplementedError, "needs 3D input"),
        ((1, 2, 3), {"size": 2, "mode": "bilinear"}, NotImplementedError, "needs 4D input"),
        ((1, 2, 3, 3), {"size": 2, "mode": "bicubic2"}, NotImplementedError, "got bicubic2"),
        (
            (1, 2, 3, 3),
            {"size": 2, "mode": "bilinear", "recompute_scale_factor": True},
            ValueError,
            "not meaningful with an explicit size",
        ),
    ],
)
def test_interpolate_errors_as_torch(shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.interpolate(aprende.zeros(*shape), **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        torch.nn.functional.interpolate(torch.zeros(shape), **kwargs)


# ---- Upsample ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale_factor": 2},
        {"size": (5, 7), "mode": "bilinear", "align_corners": True},
        {"scale_factor": (1.5, 2.0), "mode": "bilinear"},
        {"size": 3},
    ],
)
def test_upsample_matches_torch(compare_with_torch, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)
    compare_with_torch(ours, theirs, (2, 3, 4, 4), np.float32)


def test_upsample_stores_its_arguments_as_torch():
    layer = nn.Upsample(scale_factor=2, mode="bilinear")
    assert layer.scale_factor == 2.0 and isinstance(layer.scale_factor, float)
    assert repr(layer) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.Upsample(size=(3, 4))) == "Upsample(size=(3, 4), mode='nearest')"
    assert layer(aprende.zeros(1, 1, 3, 5)).shape == (1, 1, 6, 10)
    assert list(layer.state_dict()) == []
    assert math.isclose(nn.Upsample(scale_factor=(1, 2.5)).scale_factor[1], 2.5)
