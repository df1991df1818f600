"""F.unfold / F.fold (and nn.Unfold / nn.Fold), F.bilinear / nn.Bilinear and the upsampling
modules against PyTorch: values, dtypes, shapes, gradients and the errors PyTorch raises."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

RNG = np.random.default_rng(0)

#: (input shape, kernel_size, dilation, padding, stride)
GEOMETRIES = [
    ((2, 3, 7, 6), 3, 1, 0, 1),
    ((2, 3, 7, 6), (2, 3), (2, 1), (1, 2), (2, 1)),
    ((1, 2, 5, 5), 1, 1, 0, 1),
    ((1, 2, 5, 5), 1, 1, 1, 2),
    ((3, 2, 8, 9), 2, 1, 0, 2),
    ((2, 2, 6, 6), 3, 2, 2, 1),
    ((2, 1, 9, 7), (3, 2), (1, 3), 0, (3, 2)),
    ((1, 2, 4, 4), 4, 1, 0, 1),
]


def _unfold(kernel, dilation, padding, stride):
    return lambda ns, x: ns.nn.functional.unfold(x, kernel, dilation, padding, stride)


def _fold(size, kernel, dilation, padding, stride):
    return lambda ns, c: ns.nn.functional.fold(c, size, kernel, dilation, padding, stride)


def _columns_shape(shape, kernel, dilation, padding, stride):
    return tuple(
        torch.nn.functional.unfold(torch.zeros(shape), kernel, dilation, padding, stride).shape
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_unfold(shape, kernel, dilation, padding, stride, dtype):
    compare(_unfold(kernel, dilation, padding, stride), [RNG.standard_normal(shape)], dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_fold(shape, kernel, dilation, padding, stride, dtype):
    columns = RNG.standard_normal(_columns_shape(shape, kernel, dilation, padding, stride))
    compare(_fold(shape[2:], kernel, dilation, padding, stride), [columns], dtype)


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", GEOMETRIES)
def test_fold_of_unfold(shape, kernel, dilation, padding, stride):
    def op(ns, x):
        columns = ns.nn.functional.unfold(x, kernel, dilation, padding, stride)
        return ns.nn.functional.fold(columns, shape[2:], kernel, dilation, padding, stride)

    compare(op, [RNG.standard_normal(shape)])


def test_unbatched():
    compare(_unfold(2, 1, 1, 1), [RNG.standard_normal((3, 4, 5))])
    compare(_fold((4, 5), 2, 1, 1, 1), [RNG.standard_normal((12, 30))])


def test_empty_batch():
    compare(_unfold(2, 1, 0, 1), [np.zeros((0, 3, 4, 5))])
    compare(_fold((4, 5), 2, 1, 0, 1), [np.zeros((0, 12, 12))])


def test_bool_unfold_and_fold():
    x = RNG.random((2, 2, 4, 4)) > 0.5
    compare(_unfold(2, 1, 0, 1), [x], "bool", grad=False)
    compare(_fold((4, 4), 2, 1, 0, 1), [RNG.random((2, 8, 9)) > 0.5], "bool", grad=False)


def test_modules_match():
    x = RNG.standard_normal((2, 3, 6, 5))
    ours = aprende.nn.Fold((6, 5), 2, padding=1)(aprende.nn.Unfold(2, padding=1)(aprende.tensor(x)))
    theirs = torch.nn.Fold((6, 5), 2, padding=1)(torch.nn.Unfold(2, padding=1)(torch.tensor(x)))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert repr(aprende.nn.Unfold(2)) == repr(torch.nn.Unfold(2))
    assert repr(aprende.nn.Fold((4, 5), 2)) == repr(torch.nn.Fold((4, 5), 2))


UNFOLD_ERRORS = [
    ("too small", (2, 3, 5, 5), dict(kernel_size=6)),
    ("zero kernel", (2, 3, 5, 5), dict(kernel_size=0)),
    ("negative padding", (2, 3, 5, 5), dict(kernel_size=2, padding=-1)),
    ("zero stride", (2, 3, 5, 5), dict(kernel_size=2, stride=0)),
    ("zero dilation", (2, 3, 5, 5), dict(kernel_size=2, dilation=0)),
    ("three kernel sizes", (2, 3, 5, 5), dict(kernel_size=(2, 2, 2))),
    ("no channels", (2, 0, 5, 5), dict(kernel_size=2)),
    ("empty height", (2, 3, 0, 5), dict(kernel_size=2)),
    ("5-d", (1, 2, 3, 5, 5), dict(kernel_size=2)),
]


@pytest.mark.parametrize("name, shape, options", UNFOLD_ERRORS, ids=[e[0] for e in UNFOLD_ERRORS])
def test_unfold_errors(name, shape, options):
    raises_like_torch(lambda ns, x: ns.nn.functional.unfold(x, **options), [np.zeros(shape)])


FOLD_ERRORS = [
    ("not divisible", (2, 12, 16), dict(output_size=(5, 5), kernel_size=3)),
    ("wrong block count", (2, 12, 15), dict(output_size=(5, 5), kernel_size=2)),
    ("no blocks", (2, 12, 16), dict(output_size=(1, 1), kernel_size=2)),
    ("zero stride", (2, 12, 16), dict(output_size=(5, 5), kernel_size=2, stride=0)),
    ("4-d", (2, 3, 4, 5), dict(output_size=(5, 5), kernel_size=2)),
    ("no blocks given", (2, 12, 0), dict(output_size=(5, 5), kernel_size=2)),
]


@pytest.mark.parametrize("name, shape, options", FOLD_ERRORS, ids=[e[0] for e in FOLD_ERRORS])
def test_fold_errors(name, shape, options):
    raises_like_torch(lambda ns, x: ns.nn.functional.fold(x, **options), [np.zeros(shape)])


@pytest.mark.parametrize("op", ["unfold", "fold"])
def test_integer_input_not_implemented(op):
    def call(ns, x):
        if op == "unfold":
            return ns.nn.functional.unfold(x, 2)
        return ns.nn.functional.fold(x, (5, 5), 2)

    assert raises_like_torch(call, [np.zeros((2, 12, 16))], "int64") is NotImplementedError


def _bilinear(ns, x1, x2, weight, bias):
    return ns.nn.functional.bilinear(x1, x2, weight, bias)


BILINEAR_SHAPES = [
    ("batch", (4, 3), (4, 5), (6, 3, 5)),
    ("two batch dims", (2, 4, 3), (2, 4, 5), (6, 3, 5)),
    ("unbatched", (3,), (5,), (2, 3, 5)),
    ("empty batch", (0, 3), (0, 5), (2, 3, 5)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "name, shape1, shape2, weight", BILINEAR_SHAPES, ids=[s[0] for s in BILINEAR_SHAPES]
)
def test_bilinear(name, shape1, shape2, weight, dtype):
    arrays = [RNG.standard_normal(s) for s in (shape1, shape2, weight, weight[:1])]
    compare(_bilinear, arrays, dtype)
    compare(lambda ns, a, b, w: _bilinear(ns, a, b, w, None), arrays[:3], dtype)


def test_bilinear_integers():
    arrays = [RNG.integers(-3, 4, s) for s in ((4, 3), (4, 5), (6, 3, 5), (6,))]
    compare(_bilinear, arrays, "int64")


BILINEAR_ERRORS = [
    ("input2 size", (4, 3), (4, 4), (6, 3, 5), (6,)),
    ("input1 size", (4, 5), (4, 5), (6, 3, 5), (6,)),
    ("batch dims", (4, 3), (3, 5), (6, 3, 5), (6,)),
    ("ndim", (4, 3), (5,), (6, 3, 5), (6,)),
    ("bias size", (4, 3), (4, 5), (6, 3, 5), (5,)),
    ("0-d", (), (), (6, 3, 5), (6,)),
]


@pytest.mark.parametrize("row", BILINEAR_ERRORS, ids=[e[0] for e in BILINEAR_ERRORS])
def test_bilinear_errors(row):
    raises_like_torch(_bilinear, [np.zeros(s) for s in row[1:]])


def test_bilinear_dtypes_must_match():
    arrays = [RNG.standard_normal(s) for s in ((4, 3), (4, 5), (6, 3, 5))]
    raises_like_torch(
        lambda ns, a, b, w: ns.nn.functional.bilinear(a, b.float(), w.float()), arrays
    )


def test_bilinear_module_from_copied_weights():
    theirs = torch.nn.Bilinear(3, 5, 6).double()
    ours = aprende.nn.Bilinear(3, 5, 6, dtype=aprende.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: aprende.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x1, x2 = RNG.standard_normal((7, 3)), RNG.standard_normal((7, 5))
    expected = theirs(torch.tensor(x1), torch.tensor(x2)).detach().numpy()
    np.testing.assert_allclose(
        ours(aprende.tensor(x1), aprende.tensor(x2)).detach().numpy(), expected, rtol=1e-12
    )
    assert repr(ours) == repr(theirs)


def test_bilinear_init_range_as_pytorch():
    """Both frameworks draw from U(±1/√in1_features): the same bound, not the same stream."""
    aprende.manual_seed(0)
    module = aprende.nn.Bilinear(16, 3, 50)
    bound = 1 / np.sqrt(16)
    for values in (module.weight.detach().numpy(), module.bias.detach().numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound
    assert aprende.nn.Bilinear(4, 3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match="in1_features"):
        aprende.nn.Bilinear(0, 3, 2)


UPSAMPLING = [
    ("UpsamplingNearest2d", dict(scale_factor=2)),
    ("UpsamplingNearest2d", dict(size=(5, 7))),
    ("UpsamplingBilinear2d", dict(scale_factor=2)),
    ("UpsamplingBilinear2d", dict(size=(5, 7))),
    ("UpsamplingBilinear2d", dict(scale_factor=(1.5, 3))),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, options", UPSAMPLING)
def test_upsampling_modules(name, options, dtype):
    compare(
        lambda ns, x: getattr(ns.nn, name)(**options)(x), [RNG.standard_normal((2, 3, 4, 3))], dtype
    )
    assert repr(getattr(aprende.nn, name)(**options)) == repr(getattr(torch.nn, name)(**options))
