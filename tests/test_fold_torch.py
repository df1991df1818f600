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
