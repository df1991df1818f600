"""Shape helpers against PyTorch: ravel, diagflat, rot90, diff, broadcast_tensors,
broadcast_shapes, numel and clone; values, dtypes, shapes and gradients, with integer and
bool inputs, 0-d and empty tensors, negative dims, and the errors PyTorch raises."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

RNG = np.random.default_rng(1)


def randn(*shape):
    return RNG.standard_normal(shape)


def integers(*shape):
    return RNG.integers(-3, 4, shape).astype(np.float64)


def _ids(rows):
    return [row[0] for row in rows]


ROWS = [
    ("ravel", lambda ns, a: ns.ravel(a), [randn(2, 3, 2)]),
    ("ravel transposed", lambda ns, a: a.t().ravel(), [randn(3, 4)]),
    ("ravel 0-d", lambda ns, a: ns.ravel(a), [randn()]),
    ("ravel empty", lambda ns, a: a.ravel(), [randn(2, 0)]),
    ("diagflat", lambda ns, a: ns.diagflat(a), [randn(2, 3)]),
    ("diagflat offset", lambda ns, a: a.diagflat(2), [randn(3)]),
    ("diagflat negative offset", lambda ns, a: ns.diagflat(a, -1), [randn(2, 2)]),
    ("diagflat 0-d", lambda ns, a: ns.diagflat(a), [randn()]),
    ("diagflat empty", lambda ns, a: ns.diagflat(a), [randn(0)]),
    ("rot90", lambda ns, a: ns.rot90(a), [randn(2, 3)]),
    ("rot90 k=2", lambda ns, a: ns.rot90(a, 2), [randn(2, 3)]),
    ("rot90 k=3", lambda ns, a: a.rot90(3), [randn(2, 3)]),
    ("rot90 k=0", lambda ns, a: ns.rot90(a, 0), [randn(2, 3)]),
    ("rot90 k=5", lambda ns, a: ns.rot90(a, 5), [randn(2, 3)]),
    ("rot90 k=-1", lambda ns, a: ns.rot90(a, -1), [randn(2, 3)]),
    ("rot90 k=-6", lambda ns, a: ns.rot90(a, -6), [randn(2, 3)]),
    ("rot90 dims (1, 0)", lambda ns, a: ns.rot90(a, 1, (1, 0)), [randn(2, 3)]),
    ("rot90 3-d negative dims", lambda ns, a: ns.rot90(a, 1, [-1, 0]), [randn(2, 3, 4)]),
    ("rot90 3-d dims (1, 2)", lambda ns, a: ns.rot90(a, 3, (1, 2)), [randn(2, 3, 4)]),
    ("diff", lambda ns, a: ns.diff(a), [randn(3, 5)]),
    ("diff n=2 dim=0", lambda ns, a: ns.diff(a, n=2, dim=0), [randn(4, 3)]),
    ("diff n=0", lambda ns, a: ns.diff(a, n=0), [randn(2, 3)]),
    ("diff n past the length", lambda ns, a: ns.diff(a, n=5), [randn(2, 3)]),
    ("diff negative dim", lambda ns, a: a.diff(dim=-2), [randn(3, 2, 2)]),
    (
        "diff prepend and append",
        lambda ns, a, p, q: ns.diff(a, 2, 1, prepend=p, append=q),
        [randn(2, 3), randn(2, 1), randn(2, 2)],
    ),
    ("diff empty", lambda ns, a: ns.diff(a), [randn(0, 3)]),
    ("diff 1-element", lambda ns, a: ns.diff(a), [randn(1)]),
    ("broadcast_tensors", lambda ns, a, b: ns.broadcast_tensors(a, b), [randn(2, 1), randn(3)]),
    (
        "broadcast_tensors three",
        lambda ns, a, b, c: ns.broadcast_tensors(a, b, c),
        [randn(2, 1, 1), randn(3, 1), randn()],
    ),
    ("broadcast_tensors one", lambda ns, a: ns.broadcast_tensors(a), [randn(2, 3)]),
    (
        "broadcast_tensors empty",
        lambda ns, a, b: ns.broadcast_tensors(a, b),
        [randn(0, 1), randn(3)],
    ),
    ("clone", lambda ns, a: ns.clone(a), [randn(2, 3)]),
    ("clone 0-d", lambda ns, a: ns.clone(a), [randn()]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, arrays", ROWS, ids=_ids(ROWS))
def test_against_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


INTEGER_ROWS = [
    ("ravel int", lambda ns, a: ns.ravel(a), [integers(2, 2)], "int32"),
    ("diagflat bool", lambda ns, a: ns.diagflat(a), [integers(3)], "bool"),
    ("diagflat int", lambda ns, a: ns.diagflat(a, 1), [integers(2)], "int64"),
    ("rot90 int", lambda ns, a: ns.rot90(a, 3), [integers(2, 3)], "int64"),
    ("rot90 bool", lambda ns, a: ns.rot90(a), [integers(2, 3)], "bool"),
    ("diff int32", lambda ns, a: ns.diff(a), [integers(2, 4)], "int32"),
    ("diff uint8", lambda ns, a: ns.diff(a), [np.abs(integers(2, 4))], "uint8"),
    ("diff bool", lambda ns, a: ns.diff(a, n=2), [integers(2, 5)], "bool"),
    (
        "diff prepend promotes",
        lambda ns, a, p: ns.diff(a, prepend=p),
        [randn(2, 3), integers(2, 2)],
        ["float32", "int64"],
    ),
    (
        "diff bool with int prepend",
        lambda ns, a, p: ns.diff(a, prepend=p),
        [integers(2, 3), integers(2, 1)],
        ["bool", "int32"],
    ),
    (
        "diff float32 with float64 append",
        lambda ns, a, p: ns.diff(a, append=p),
        [randn(2, 3), randn(2, 1)],
        ["float32", "float64"],
    ),
    (
        "broadcast_tensors mixed dtypes",
        lambda ns, a, b: ns.broadcast_tensors(a, b),
        [integers(2, 1), randn(3)],
        ["int64", "float32"],
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtype", INTEGER_ROWS, ids=_ids(INTEGER_ROWS))
def test_integer_bool_and_mixed_dtypes(name, op, arrays, dtype):
    compare(op, arrays, dtype)


ERROR_ROWS = [
    ("rot90 same dims", lambda ns, a: ns.rot90(a, 1, (0, 0)), [randn(2, 3)]),
    ("rot90 same dims negative", lambda ns, a: ns.rot90(a, 1, (0, -2)), [randn(2, 3)]),
    ("rot90 one dim", lambda ns, a: ns.rot90(a, 1, (0,)), [randn(2, 3)]),
    ("rot90 1-d", lambda ns, a: ns.rot90(a), [randn(3)]),
    ("rot90 dim range", lambda ns, a: ns.rot90(a, 1, (0, 2)), [randn(2, 3)]),
    ("rot90 float k", lambda ns, a: ns.rot90(a, 1.5), [randn(2, 3)]),
    ("diff 0-d", lambda ns, a: ns.diff(a), [randn()]),
    ("diff negative n", lambda ns, a: ns.diff(a, n=-1), [randn(3)]),
    ("diff dim range", lambda ns, a: ns.diff(a, dim=2), [randn(2, 3)]),
    ("diff prepend ndim", lambda ns, a, p: ns.diff(a, prepend=p), [randn(2, 3), randn(2)]),
    ("diff append shape", lambda ns, a, p: ns.diff(a, append=p), [randn(2, 3), randn(1, 1)]),
    ("broadcast_tensors", lambda ns, a, b: ns.broadcast_tensors(a, b), [randn(2, 3), randn(4)]),
    ("broadcast_tensors list", lambda ns, a, b: ns.broadcast_tensors([a, b]), [randn(2), randn(2)]),
    ("numel of a number", lambda ns: ns.numel(3), []),
]


@pytest.mark.parametrize("name, op, arrays", ERROR_ROWS, ids=_ids(ERROR_ROWS))
def test_errors_as_torch(name, op, arrays):
    raises_like_torch(op, arrays)


SHAPES = [
    ((2, 1), (3,)),
    (2, (3, 1)),
    ((), ()),
    ((4, 1, 2), (1, 3, 1), (2,)),
    ([2, 1], [1]),
    ((0,), (1,)),
    ((5,),),
]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_broadcast_shapes_as_torch(shapes):
    """PyTorch returns a ``torch.Size``: compared as tuples."""
    assert aprende.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))


def test_broadcast_shapes_of_nothing_is_the_empty_shape():
    assert aprende.broadcast_shapes() == tuple(torch.broadcast_shapes()) == ()


@pytest.mark.parametrize("shapes", [((2,), (3,)), ((2, 3), (4, 3))], ids=str)
def test_broadcast_shapes_refuses_mismatch_as_torch(shapes):
    with pytest.raises(RuntimeError):
        torch.broadcast_shapes(*shapes)
    with pytest.raises(RuntimeError):
        aprende.broadcast_shapes(*shapes)


def test_broadcast_shapes_refuses_negative_sizes_as_torch():
    with pytest.raises(ValueError):
        torch.broadcast_shapes((-1,), (3,))
    with pytest.raises(ValueError):
        aprende.broadcast_shapes((-1,), (3,))


def test_broadcast_tensors_of_nothing_is_an_empty_tuple():
    assert aprende.broadcast_tensors() == torch.broadcast_tensors() == ()


@pytest.mark.parametrize("shape", [(2, 3), (), (0, 4), (1, 2, 3)], ids=str)
def test_numel_as_torch(shape):
    values = randn(*shape)
    assert aprende.numel(aprende.tensor(values)) == torch.numel(torch.tensor(values))


def test_clone_has_its_own_memory():
    x = aprende.tensor([1.0, 2.0])
    y = aprende.clone(x)
    y.data[0] = 5.0
    assert x.tolist() == [1.0, 2.0]
