"""Random sampling against PyTorch: the dtype, shape and graph of every result, the ranges of
random_ and randint_like, and the errors PyTorch raises, row by row. The values cannot match:
aprende draws from its own generators, not PyTorch's stream (test_sampling.py checks the
distributions).
"""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import build_inputs, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

P = np.array([[0.0, 0.3, 1.0], [0.5, 0.5, 0.2]])
W = np.array([[1.0, 2.0, 0.0, 3.0], [0.0, 0.0, 1.0, 1.0]])
Z3, Z23 = np.zeros(3), np.zeros((2, 3))
NEG, INF, ZERO_ROW = (
    np.array([1.0, -1.0]),
    np.array([1.0, np.inf]),
    np.array([[1.0, 1.0], [0.0, 0.0]]),
)

#: (name, op written against ns, inputs, dtype of the inputs)
SAMPLES = [
    ("bernoulli", lambda ns, p: ns.bernoulli(p), [P], "float64"),
    ("bernoulli float32", lambda ns, p: ns.bernoulli(p), [P], "float32"),
    ("bernoulli float16", lambda ns, p: ns.bernoulli(p), [P], "float16"),
    ("bernoulli 0-d", lambda ns, p: ns.bernoulli(p), [np.array(0.4)], "float64"),
    ("bernoulli empty", lambda ns, p: ns.bernoulli(p), [np.zeros((0, 3))], "float32"),
    ("bernoulli method", lambda ns, p: p.bernoulli(), [P], "float32"),
    ("bernoulli p int", lambda ns, x: ns.bernoulli(x, 0.5), [np.ones((2, 3))], "int64"),
    ("bernoulli p bool", lambda ns, x: ns.bernoulli(x, p=0.5), [np.ones(3)], "bool"),
    ("bernoulli_", lambda ns, x: x.bernoulli_(), [Z23], "float32"),
    ("bernoulli_ int", lambda ns, x: x.bernoulli_(0.3), [Z23], "int64"),
    ("bernoulli_ bool", lambda ns, x: x.bernoulli_(0.3), [np.zeros(4)], "bool"),
    ("bernoulli_ tensor p", lambda ns, x, p: x.bernoulli_(p), [P, P[0]], "float64"),
    ("bernoulli_ p float64", lambda ns, x, p: x.bernoulli_(p), [P, P[0]], ["float32", "float64"]),
    ("multinomial 1-d", lambda ns, w: ns.multinomial(w, 3), [W[0]], "float64"),
    ("multinomial 2-d", lambda ns, w: ns.multinomial(w, 2), [W], "float32"),
    ("multinomial all", lambda ns, w: ns.multinomial(w, 4), [W], "float32"),
    ("multinomial float16", lambda ns, w: ns.multinomial(w, 1), [W], "float16"),
    ("multinomial replacement", lambda ns, w: ns.multinomial(w, 9, True), [W], "float64"),
    ("multinomial keywords",
     lambda ns, w: w.multinomial(num_samples=9, replacement=True), [W], "float32"),
    ("multinomial no rows", lambda ns, w: ns.multinomial(w, 2), [np.zeros((0, 3))], "float32"),
    ("multinomial method", lambda ns, w: w.multinomial(2), [W], "float64"),
    ("multinomial grad", lambda ns, w: ns.multinomial(w.requires_grad_(), 2), [W], "float64"),
    ("poisson", lambda ns, r: ns.poisson(r), [np.array([0.0, 1.0, 40.0])], "float32"),
    ("poisson float64", lambda ns, r: ns.poisson(r), [np.array([[0.5, 2.0]])], "float64"),
    ("poisson 0-d", lambda ns, r: ns.poisson(r), [np.array(3.0)], "float64"),
    ("poisson empty", lambda ns, r: ns.poisson(r), [np.zeros((2, 0))], "float32"),
    ("bernoulli grad", lambda ns, p: ns.bernoulli(p.requires_grad_()), [P], "float64"),
    ("poisson grad", lambda ns, r: ns.poisson(r.requires_grad_()), [P], "float64"),
    ("randint_like high", lambda ns, x: ns.randint_like(x, 10), [Z23], "float32"),
    ("randint_like low high", lambda ns, x: ns.randint_like(x, -4, 10), [Z3], "int64"),
    ("randint_like keywords", lambda ns, x: ns.randint_like(x, low=2, high=5), [Z3], "int32"),
    ("randint_like high keyword", lambda ns, x: ns.randint_like(x, high=5), [Z3], "uint8"),
    ("randint_like bool", lambda ns, x: ns.randint_like(x, 2), [Z3], "bool"),
    ("randint_like dtype", lambda ns, x: ns.randint_like(x, 9, dtype=ns.int32), [Z3], "float32"),
    ("randint_like grad", lambda ns, x: ns.randint_like(x, 9, requires_grad=True), [Z3], "float64"),
    ("randint_like 0-d", lambda ns, x: ns.randint_like(x, 9), [np.array(0.0)], "float64"),
    ("exponential_", lambda ns, x: x.exponential_(), [Z23], "float32"),
    ("exponential_ float16", lambda ns, x: x.exponential_(lambd=3.0), [np.zeros(5)], "float16"),
    ("exponential_ inf", lambda ns, x: x.exponential_(float("inf")), [np.zeros(5)], "float64"),
    ("geometric_", lambda ns, x: x.geometric_(0.2), [Z23], "float64"),
    ("geometric_ int", lambda ns, x: x.geometric_(p=0.2), [Z23], "int64"),
    ("geometric_ uint8", lambda ns, x: x.geometric_(0.9), [np.zeros(4)], "uint8"),
    ("log_normal_", lambda ns, x: x.log_normal_(), [Z23], "float32"),
    ("log_normal_ keywords", lambda ns, x: x.log_normal_(mean=0.0, std=0.5), [Z3], "float64"),
    ("cauchy_", lambda ns, x: x.cauchy_(), [Z23], "float64"),
    ("cauchy_ keywords", lambda ns, x: x.cauchy_(median=1.0, sigma=2.0), [Z3], "float16"),
    ("random_ float32", lambda ns, x: x.random_(), [Z23], "float32"),
    ("random_ int64", lambda ns, x: x.random_(), [Z3], "int64"),
    ("random_ bool", lambda ns, x: x.random_(), [Z3], "bool"),
    ("random_ to", lambda ns, x: x.random_(10), [Z3], "uint8"),
    ("random_ from to", lambda ns, x: x.random_(-5, 3), [Z3], "int32"),
    ("random_ from keyword", lambda ns, x: x.random_(**{"from": 2, "to": 6}), [Z3], "float64"),
    ("random_ to keyword", lambda ns, x: x.random_(to=6), [Z3], "float16"),
    ("random_ to None", lambda ns, x: x.random_(3, None), [Z3], "float32"),
    ("random_ bool range", lambda ns, x: x.random_(0, 2), [Z3], "bool"),
]  # fmt: skip


def assert_same_kind(ours, theirs) -> None:
    """Same dtype, shape and graph (requires_grad) as PyTorch's result."""
    expected = np.dtype(str(theirs.dtype).removeprefix("torch."))
    assert np.dtype(ours.dtype) == expected, f"dtype {ours.dtype} != {expected}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"shape {ours.shape} != {theirs.shape}"
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("name, op, arrays, dtype", SAMPLES, ids=[row[0] for row in SAMPLES])
def test_dtype_shape_and_graph_as_pytorch(name, op, arrays, dtype):
    ours, theirs = build_inputs(arrays, dtype, requires_grad=False)
    result = op(aprende, *ours)
    assert_same_kind(result, op(torch, *theirs))
    if name.split()[0].endswith("_"):  # an in-place fill returns the tensor itself
        assert result is ours[0]


#: (name, op, inputs, dtype): inputs PyTorch refuses.
ERRORS = [
    ("bernoulli int", lambda ns, x: ns.bernoulli(x), [np.ones(3)], "int64"),
    ("bernoulli bool", lambda ns, x: ns.bernoulli(x), [np.ones(3)], "bool"),
    ("bernoulli above 1", lambda ns, p: ns.bernoulli(p), [np.array([0.5, 1.5])], "float64"),
    ("bernoulli below 0", lambda ns, p: ns.bernoulli(p), [np.array([-0.1])], "float32"),
    ("bernoulli nan", lambda ns, p: ns.bernoulli(p), [np.array([np.nan])], "float64"),
    ("bernoulli p above 1", lambda ns, x: ns.bernoulli(x, 1.3), [Z3], "float32"),
    ("bernoulli_ p above 1", lambda ns, x: x.bernoulli_(1.5), [Z3], "float32"),
    ("bernoulli_ int p", lambda ns, x, p: x.bernoulli_(p), [Z3, Z3], ["float32", "int64"]),
    ("bernoulli_ p shape", lambda ns, x, p: x.bernoulli_(p), [Z23, np.full(4, 0.5)], "float32"),
    ("bernoulli_ p larger",
     lambda ns, x, p: x.bernoulli_(p), [Z3, np.full((2, 3), 0.5)], "float32"),
    ("bernoulli_ p values", lambda ns, x, p: x.bernoulli_(p), [Z3, np.full(3, 1.5)], "float32"),
    ("multinomial 3-d", lambda ns, w: ns.multinomial(w, 1), [np.ones((2, 2, 2))], "float32"),
    ("multinomial 0-d", lambda ns, w: ns.multinomial(w, 1), [np.array(1.0)], "float32"),
    ("multinomial int", lambda ns, w: ns.multinomial(w, 1), [np.ones(3)], "int64"),
    ("multinomial bool", lambda ns, w: ns.multinomial(w, 1), [np.ones(3)], "bool"),
    ("multinomial 0 samples", lambda ns, w: ns.multinomial(w, 0), [W], "float32"),
    ("multinomial -1 samples", lambda ns, w: ns.multinomial(w, -1, True), [W], "float32"),
    ("multinomial float samples", lambda ns, w: ns.multinomial(w, 2.0), [W], "float32"),
    ("multinomial too many", lambda ns, w: ns.multinomial(w, 5), [W], "float32"),
    ("multinomial n = 0", lambda ns, w: ns.multinomial(w, 1), [np.zeros((2, 0))], "float32"),
    ("multinomial negative", lambda ns, w: ns.multinomial(w, 1), [NEG], "float64"),
    ("multinomial inf", lambda ns, w: ns.multinomial(w, 1, True), [INF], "float64"),
    ("multinomial nan", lambda ns, w: ns.multinomial(w, 1), [np.array([1.0, np.nan])], "float32"),
    ("multinomial zero row", lambda ns, w: ns.multinomial(w, 1, True), [ZERO_ROW], "float32"),
    ("poisson int", lambda ns, r: ns.poisson(r), [np.ones(3)], "int64"),
    ("poisson negative", lambda ns, r: ns.poisson(r), [NEG], "float64"),
    ("poisson nan", lambda ns, r: ns.poisson(r), [np.array([np.nan])], "float32"),
    ("randint_like low = high", lambda ns, x: ns.randint_like(x, 3, 3), [Z3], "float32"),
    ("randint_like high 0", lambda ns, x: ns.randint_like(x, 0), [Z3], "float32"),
    ("randint_like uint8 300", lambda ns, x: ns.randint_like(x, 300), [Z3], "uint8"),
    ("randint_like bool 3", lambda ns, x: ns.randint_like(x, 3), [Z3], "bool"),
    ("randint_like float high", lambda ns, x: ns.randint_like(x, 10.5), [Z3], "float32"),
    ("randint_like int grad",
     lambda ns, x: ns.randint_like(x, 9, requires_grad=True), [Z3], "int64"),
    ("exponential_ int", lambda ns, x: x.exponential_(), [Z3], "int64"),
    ("exponential_ bool", lambda ns, x: x.exponential_(), [Z3], "bool"),
    ("exponential_ lambda 0", lambda ns, x: x.exponential_(0.0), [Z3], "float32"),
    ("exponential_ nan", lambda ns, x: x.exponential_(np.nan), [Z3], "float32"),
    ("geometric_ p 0", lambda ns, x: x.geometric_(0.0), [Z3], "float32"),
    ("geometric_ p 1", lambda ns, x: x.geometric_(1.0), [Z3], "int64"),
    ("geometric_ bool", lambda ns, x: x.geometric_(0.5), [Z3], "bool"),
    ("log_normal_ int", lambda ns, x: x.log_normal_(), [Z3], "int32"),
    ("log_normal_ std 0", lambda ns, x: x.log_normal_(1.0, 0.0), [Z3], "float64"),
    ("cauchy_ int", lambda ns, x: x.cauchy_(), [Z3], "uint8"),
    ("cauchy_ sigma -1", lambda ns, x: x.cauchy_(0.0, -1.0), [Z3], "float64"),
    ("random_ from = to", lambda ns, x: x.random_(3, 3), [Z3], "float32"),
    ("random_ from > to", lambda ns, x: x.random_(5, 3), [Z3], "int64"),
    ("random_ uint8 from -1", lambda ns, x: x.random_(-1, 3), [Z3], "uint8"),
    ("random_ uint8 to 300", lambda ns, x: x.random_(0, 300), [Z3], "uint8"),
    ("random_ int32 to 2^40", lambda ns, x: x.random_(0, 2**40), [Z3], "int32"),
    ("random_ float16 to 2^20", lambda ns, x: x.random_(0, 2**20), [Z3], "float16"),
    ("random_ bool to 10", lambda ns, x: x.random_(10), [Z3], "bool"),
    ("random_ float bound", lambda ns, x: x.random_(0.5, 3), [Z3], "float32"),
    ("random_ from without to", lambda ns, x: x.random_(**{"from": 3}), [Z3], "float32"),
]  # fmt: skip


@pytest.mark.parametrize("name, op, arrays, dtype", ERRORS, ids=[row[0] for row in ERRORS])
def test_errors_as_pytorch(name, op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


@pytest.mark.parametrize(
    "fill",
    [
        lambda x: x.bernoulli_(),
        lambda x: x.exponential_(),
        lambda x: x.geometric_(0.5),
        lambda x: x.log_normal_(),
        lambda x: x.cauchy_(),
        lambda x: x.random_(),
    ],
)
def test_fills_refuse_a_leaf_that_requires_grad(fill):
    with pytest.raises(RuntimeError):
        fill(torch.zeros(3, requires_grad=True))
    with pytest.raises(RuntimeError):
        fill(aprende.zeros(3, requires_grad=True))


@pytest.mark.parametrize("args", [(0, 2**30), (-(2**25), 3)])
def test_random_beyond_the_exact_float32_integers_warns(args):
    with pytest.warns(UserWarning):
        torch.zeros(3).random_(*args)
    with pytest.warns(UserWarning):
        values = aprende.zeros(3).random_(*args)
    assert values.dtype == aprende.float32


def test_random_within_the_exact_float32_integers_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.zeros(3).random_(-(2**24), 2**24 + 1)
        aprende.zeros(3).random_(-(2**24), 2**24 + 1)


@pytest.mark.parametrize(
    "dtype, args",
    [
        ("uint8", ()),
        ("int32", ()),
        ("bool", ()),
        ("float16", ()),
        ("uint8", (250, None)),
        ("int64", (-3, 4)),
        ("float32", (7,)),
    ],
)
def test_random_range_as_pytorch(dtype, args):
    """Over 20,000 draws from a range of at most 256 values, both reach the same least and
    greatest value; a wide range, within it and near its top."""
    ours = getattr(aprende, "bool_" if dtype == "bool" else dtype)
    mine = aprende.zeros(20_000, dtype=ours).random_(*args).numpy().astype(np.float64)
    theirs = torch.zeros(20_000, dtype=getattr(torch, dtype)).random_(*args).double().numpy()
    if theirs.max() - theirs.min() < 256:
        assert (mine.min(), mine.max()) == (theirs.min(), theirs.max())
    else:
        assert mine.min() >= 0 and mine.max() <= 2 * theirs.max()
        assert mine.max() > 0.99 * theirs.max() and theirs.max() > 0.99 * mine.max()
