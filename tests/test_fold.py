"""F.unfold and F.fold without PyTorch: unfold against a loop over blocks written out in NumPy,
fold as unfold's adjoint (⟨unfold(x), y⟩ = ⟨x, fold(y)⟩), and finite-difference gradients."""

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck
from aprende.nn import functional as F

RNG = np.random.default_rng(1)

#: (input shape, kernel (K_H, K_W), dilation, padding, stride), all as pairs
GEOMETRIES = [
    ((2, 3, 6, 5), (3, 3), (1, 1), (0, 0), (1, 1)),
    ((1, 2, 7, 6), (2, 3), (2, 1), (1, 2), (2, 1)),
    ((2, 1, 5, 5), (1, 1), (1, 1), (1, 1), (2, 2)),
    ((1, 2, 8, 7), (3, 2), (1, 2), (2, 0), (3, 2)),
]


def unfold_loop(x, kernel, dilation, padding, stride):
    """Each block's values, read pixel by pixel from the zero-padded input."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.zeros((n, c * kernel[0] * kernel[1], oh * ow))
    for ch in range(c):
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                row = (ch * kernel[0] + i) * kernel[1] + j
                for p in range(oh):
                    for q in range(ow):
                        top, left = p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]
                        out[:, row, p * ow + q] = padded[:, ch, top, left]
    return out


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_unfold_reads_every_block(shape, kernel, dilation, padding, stride):
    x = RNG.standard_normal(shape)
    ours = F.unfold(aprende.tensor(x), kernel, dilation, padding, stride)
    np.testing.assert_array_equal(ours.numpy(), unfold_loop(x, kernel, dilation, padding, stride))


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_fold_is_the_adjoint_of_unfold(shape, kernel, dilation, padding, stride):
    x = RNG.standard_normal(shape)
    columns = unfold_loop(x, kernel, dilation, padding, stride)
    y = RNG.standard_normal(columns.shape)
    folded = F.fold(aprende.tensor(y), shape[2:], kernel, dilation, padding, stride).numpy()
    np.testing.assert_allclose(np.vdot(columns, y), np.vdot(x, folded), rtol=1e-12)


def test_fold_sums_overlaps():
    """fold(unfold(1)) counts the blocks that cover each pixel: 3 × 3 blocks of stride 1 over a
    4 × 4 image cover a corner once, an edge pixel twice and the centre four times."""
    ones = aprende.ones(1, 1, 4, 4, dtype=aprende.float64)
    counts = F.fold(F.unfold(ones, 3), (4, 4), 3).numpy()[0, 0]
    per_axis = np.array([1, 2, 2, 1])
    np.testing.assert_array_equal(counts, np.outer(per_axis, per_axis))


def test_unbatched_is_a_batch_of_one():
    x = RNG.standard_normal((2, 5, 4))
    batched = F.unfold(aprende.tensor(x[None]), 2, padding=1).numpy()[0]
    np.testing.assert_array_equal(F.unfold(aprende.tensor(x), 2, padding=1).numpy(), batched)
    back = F.fold(aprende.tensor(batched), (5, 4), 2, padding=1).numpy()
    np.testing.assert_array_equal(
        back, F.fold(aprende.tensor(batched[None]), (5, 4), 2, padding=1).numpy()[0]
    )


def test_integer_kernel_sizes_equal_pairs():
    x = aprende.tensor(RNG.standard_normal((1, 2, 5, 5)))
    np.testing.assert_array_equal(
        F.unfold(x, 2, 2, 1, 2).numpy(), F.unfold(x, (2, 2), (2, 2), (1, 1), (2, 2)).numpy()
    )


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_gradcheck(shape, kernel, dilation, padding, stride):
    x = aprende.tensor(RNG.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, kernel, dilation, padding, stride), x)
    columns = unfold_loop(np.zeros(shape), kernel, dilation, padding, stride)
    y = aprende.tensor(RNG.standard_normal(columns.shape), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, shape[2:], kernel, dilation, padding, stride), y)


def test_modules_call_the_functions():
    x = aprende.tensor(RNG.standard_normal((1, 2, 5, 6)))
    columns = aprende.nn.Unfold((2, 3), dilation=1, padding=1, stride=2)(x)
    np.testing.assert_array_equal(columns.numpy(), F.unfold(x, (2, 3), 1, 1, 2).numpy())
    image = aprende.nn.Fold((5, 6), (2, 3), padding=1, stride=2)(columns)
    np.testing.assert_array_equal(image.numpy(), F.fold(columns, (5, 6), (2, 3), 1, 1, 2).numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda x: F.unfold(x, 7),
        lambda x: F.unfold(x, 0),
        lambda x: F.unfold(x, 2, padding=-1),
        lambda x: F.unfold(x, (2, 2, 2)),
        lambda x: F.fold(x.reshape(1, 2, 25), (5, 5), 2),
        lambda x: F.fold(aprende.zeros(2, 4, 9), (5, 5), 2),
    ],
)
def test_errors(call):
    with pytest.raises(RuntimeError, match="fold"):
        call(aprende.zeros(2, 1, 5, 5))


def test_kernel_size_of_floats_is_a_type_error():
    with pytest.raises(TypeError, match="unfold"):
        F.unfold(aprende.zeros(1, 1, 4, 4), (2.0, 2.0))


def test_bilinear_is_the_bilinear_form():
    """yₙₒ = Σᵢⱼ x₁[n, i] A[o, i, j] x₂[n, j] + bₒ, written out as a NumPy einsum."""
    x1, x2 = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 4, 5))
    weight, bias = RNG.standard_normal((6, 3, 5)), RNG.standard_normal(6)
    ours = F.bilinear(*(aprende.tensor(a) for a in (x1, x2, weight, bias)))
    expected = np.einsum("bni,oij,bnj->bno", x1, weight, x2) + bias
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12)


def test_bilinear_gradcheck():
    inputs = [
        aprende.tensor(RNG.standard_normal(s), requires_grad=True)
        for s in ((4, 3), (4, 2), (5, 3, 2), (5,))
    ]
    assert gradcheck(F.bilinear, inputs)
    assert gradcheck(lambda a, b, w: F.bilinear(a, b, w), inputs[:3])


def test_bilinear_module_shapes():
    module = aprende.nn.Bilinear(3, 2, 4, dtype=aprende.float64)
    assert module.weight.shape == (4, 3, 2) and module.bias.shape == (4,)
    out = module(
        aprende.zeros(5, 3, dtype=aprende.float64), aprende.zeros(5, 2, dtype=aprende.float64)
    )
    np.testing.assert_array_equal(
        out.detach().numpy(), np.broadcast_to(module.bias.detach().numpy(), (5, 4))
    )


def test_upsampling_bilinear_aligns_corners():
    """align_corners=True: a 2 × 2 image doubled to 4 × 4 keeps its corners and interpolates
    at thirds in between."""
    x = np.array([[0.0, 3.0], [6.0, 9.0]])
    out = aprende.nn.UpsamplingBilinear2d(scale_factor=2)(aprende.tensor(x[None, None]))
    thirds = np.arange(4) / 3
    np.testing.assert_allclose(
        out.numpy()[0, 0], 6 * thirds[:, None] + 3 * thirds[None, :], rtol=1e-12
    )


def test_upsampling_nearest_repeats_pixels():
    x = RNG.standard_normal((1, 2, 3, 2))
    out = aprende.nn.UpsamplingNearest2d(scale_factor=2)(aprende.tensor(x)).numpy()
    np.testing.assert_array_equal(out, x.repeat(2, axis=2).repeat(2, axis=3))
