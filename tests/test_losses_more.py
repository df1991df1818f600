"""Regression, likelihood, margin and triplet losses and the distances: values against their
formulas written out in NumPy, and gradients against finite differences (gradcheck, float64)."""

import math
import warnings

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck
from aprende.nn import functional as F

rng = np.random.default_rng(5)


def leaf(array):
    return aprende.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def const(array):
    return aprende.tensor(np.asarray(array))


def check(value, expected):
    np.testing.assert_allclose(value.detach().numpy(), expected, rtol=1e-12, atol=1e-14)


X, Y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
D = X - Y


def test_huber_and_smooth_l1_formulas():
    for delta in (0.3, 1.0, 2.5):
        huber = np.where(np.abs(D) < delta, 0.5 * D**2, delta * (np.abs(D) - 0.5 * delta))
        check(F.huber_loss(const(X), const(Y), "none", delta), huber)
        check(F.huber_loss(const(X), const(Y), delta=delta), huber.mean())
        smooth = np.where(np.abs(D) < delta, 0.5 * D**2 / delta, np.abs(D) - 0.5 * delta)
        check(F.smooth_l1_loss(const(X), const(Y), reduction="sum", beta=delta), smooth.sum())
    check(F.smooth_l1_loss(const(X), const(Y), beta=0.0), np.abs(D).mean())
    weight = rng.random((4, 5))
    expected = (weight * np.where(np.abs(D) < 1, 0.5 * D**2, np.abs(D) - 0.5)).sum()
    check(F.huber_loss(const(X), const(Y), "sum", weight=const(weight)), expected)


def test_huber_gradient_on_its_kinks_is_the_slope():
    x = leaf([1.5, -0.5, 0.2, 0.0])
    F.huber_loss(x, const([0.5, 0.5, 0.2, 3.0]), "sum", 1.0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0, 0.0, -1.0])
    x = leaf([1.5, -0.5, 0.2])
    F.smooth_l1_loss(x, const([1.0, 0.0, 0.2]), reduction="sum", beta=0.5).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0, 0.0])


def test_kl_div_formulas():
    logp = np.log(rng.dirichlet(np.ones(3), size=4))
    q = rng.dirichlet(np.ones(3), size=4)
    q[0, 1] = 0.0
    pointwise = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1)) - logp), 0.0)
    check(F.kl_div(const(logp), const(q), reduction="sum"), pointwise.sum())
    check(F.kl_div(const(logp), const(q), reduction="batchmean"), pointwise.sum() / 4)
    with pytest.warns(UserWarning, match="batchmean"):
        check(F.kl_div(const(logp), const(q)), pointwise.mean())
    log_q = np.log(q[1:])
    expected = np.exp(log_q) * (log_q - logp[1:])
    check(F.kl_div(const(logp[1:]), const(log_q), reduction="none", log_target=True), expected)


def test_poisson_nll_formulas():
    log_rate, counts = rng.normal(size=(3, 4)), rng.poisson(2.0, size=(3, 4)).astype(float)
    check(
        F.poisson_nll_loss(const(log_rate), const(counts)),
        np.mean(np.exp(log_rate) - counts * log_rate),
    )
    rate = np.exp(log_rate)
    expected = rate - counts * np.log(rate + 0.01)
    check(
        F.poisson_nll_loss(const(rate), const(counts), False, eps=0.01, reduction="none"), expected
    )
    safe = np.where(counts > 1, counts, 2.0)
    stirling = np.where(
        counts > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe), 0.0
    )
    got = F.poisson_nll_loss(const(log_rate), const(counts), True, True, reduction="sum")
    check(got, np.sum(np.exp(log_rate) - counts * log_rate + stirling))


def test_gaussian_nll_formulas_and_shapes_of_var():
    var = rng.random((4, 5)) + 0.05
    expected = 0.5 * (np.log(var) + D**2 / var)
    check(F.gaussian_nll_loss(const(X), const(Y), const(var), reduction="none"), expected)
    check(
        F.gaussian_nll_loss(const(X), const(Y), const(var), True),
        (expected + 0.5 * np.log(2 * np.pi)).mean(),
    )
    per_row = rng.random(4) + 0.05
    expected = 0.5 * (np.log(per_row[:, None]) + D**2 / per_row[:, None])
    check(F.gaussian_nll_loss(const(X), const(Y), const(per_row), reduction="none"), expected)
    check(
        F.gaussian_nll_loss(const(X), const(Y), const(per_row[:, None]), reduction="none"), expected
    )
    clamped = 0.5 * (np.log(0.1) + D**2 / 0.1)
    check(F.gaussian_nll_loss(const(X), const(Y), 0.0, eps=0.1, reduction="none"), clamped)


def test_gaussian_nll_clamp_passes_the_gradient():
    var = leaf(np.full((4, 5), 1e-9))
    F.gaussian_nll_loss(const(X), const(Y), var, eps=0.5, reduction="sum").backward()
    np.testing.assert_allclose(var.grad.numpy(), 0.5 * (1 / 0.5 - D**2 / 0.25))


def test_margin_losses_formulas():
    a, b, y = rng.normal(size=6), rng.normal(size=6), np.sign(rng.normal(size=6))
    ranking = np.maximum(0, -y * (a - b) + 0.3)
    check(F.margin_ranking_loss(const(a), const(b), const(y), 0.3, reduction="none"), ranking)
    distance = np.abs(a)
    hinge = np.where(y == 1, distance, np.maximum(0, 0.8 - distance))
    check(F.hinge_embedding_loss(const(distance), const(y), 0.8), hinge.mean())
    check(F.soft_margin_loss(const(a), const(y), reduction="sum"), np.log1p(np.exp(-y * a)).sum())


def _log_sigmoid(x):
    return -np.logaddexp(0, -x)


def test_multilabel_soft_margin_formula():
    labels, weight = (rng.random((4, 5)) < 0.5) * 1.0, rng.random(5)
    terms = labels * _log_sigmoid(X) + (1 - labels) * _log_sigmoid(-X)
    expected = -(weight * terms).sum(1) / 5
    got = F.multilabel_soft_margin_loss(const(X), const(labels), const(weight), reduction="none")
    check(got, expected)


def _multi_margin(x, y, p, margin, weight):
    n, c = x.shape
    total = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                total[i] += weight[y[i]] * max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
    return total / c


def test_multi_margin_formula():
    y = np.array([0, 4, 2, 2])
    weight = rng.random(5)
    for p, margin in ((1, 1.0), (2, 0.4)):
        expected = _multi_margin(X, y, p, margin, weight)
        got = F.multi_margin_loss(const(X), const(y), p, margin, const(weight), reduction="none")
        check(got, expected)
    check(
        F.multi_margin_loss(const(X[0]), const(np.array(3))),
        _multi_margin(X[:1], [3], 1, 1, np.ones(5))[0],
    )


def _multilabel_margin(x, target):
    n, c = x.shape
    total = np.zeros(n)
    for i in range(n):
        listed = []
        for t in target[i]:
            if t < 0:
                break
            listed.append(t)
        for j in listed:
            for k in range(c):
                if k not in listed:
                    total[i] += max(0.0, 1 - (x[i, j] - x[i, k]))
    return total / c


def test_multilabel_margin_formula():
    target = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 0, 0, 0], [4, 4, -1, 0, 0]])
    got = F.multilabel_margin_loss(const(X), const(target), reduction="none")
    check(got, _multilabel_margin(X, target))


def test_cosine_embedding_formula():
    y = np.array([1.0, -1.0, -1.0, 1.0])
    cos = (X * Y).sum(1) / np.sqrt(((X * X).sum(1) + 1e-12) * ((Y * Y).sum(1) + 1e-12))
    expected = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.1))
    check(F.cosine_embedding_loss(const(X), const(Y), const(y), 0.1, reduction="none"), expected)


def _distance(u, v, p, eps=1e-6):
    return (np.abs(u - v + eps) ** p).sum(-1) ** (1 / p)


def test_triplet_formulas():
    a, pos, neg = (rng.normal(size=(5, 3)) for _ in range(3))
    for p, swap in ((2, False), (1, True), (3, True)):
        d_neg = _distance(a, neg, p)
        if swap:
            d_neg = np.minimum(d_neg, _distance(pos, neg, p))
        expected = np.maximum(0, 0.7 + _distance(a, pos, p) - d_neg)
        got = F.triplet_margin_loss(
            const(a), const(pos), const(neg), 0.7, p, swap=swap, reduction="none"
        )
        check(got, expected)
    square = lambda u, v: ((u - v) ** 2).sum(-1)  # noqa: E731
    expected = np.maximum(0, 1 + ((a - pos) ** 2).sum(1) - ((a - neg) ** 2).sum(1)).sum()
    got = F.triplet_margin_with_distance_loss(
        const(a), const(pos), const(neg), distance_function=square, reduction="sum"
    )
    check(got, expected)


def test_distance_formulas():
    norms = np.maximum(np.linalg.norm(X, axis=1), 1e-8) * np.maximum(
        np.linalg.norm(Y, axis=1), 1e-8
    )
    check(F.cosine_similarity(const(X), const(Y)), (X * Y).sum(1) / norms)
    check(
        aprende.cosine_similarity(const(X), const(Y), 0),
        (X * Y).sum(0) / (np.linalg.norm(X, axis=0) * np.linalg.norm(Y, axis=0)),
    )
    check(F.pairwise_distance(const(X), const(Y), 1.5, keepdim=True), _distance(X, Y, 1.5)[:, None])
    rows, cols = np.triu_indices(4, 1)
    check(F.pdist(const(X), 3), (np.abs(X[rows] - X[cols]) ** 3).sum(1) ** (1 / 3))
    assert F.pdist(const(X[:1])).shape == (0,)


def test_cosine_similarity_of_a_zero_vector():
    # 0 in value; the gradient is x₂ / (ε‖x₂‖): the clamp at ε passes it unchanged (PyTorch 2.x).
    x, other = leaf(np.zeros((1, 3))), rng.normal(size=(1, 3))
    similarity = F.cosine_similarity(x, const(other), eps=1e-3)
    similarity.sum().backward()
    np.testing.assert_array_equal(similarity.detach().numpy(), [0.0])
    np.testing.assert_allclose(x.grad.numpy(), other / (1e-3 * np.linalg.norm(other)))


def _leaves(*arrays):
    return tuple(leaf(a) for a in arrays)


WEIGHT = const(rng.random((4, 5)))
CLASS_WEIGHT = const(rng.random(5))

GRADCHECKS = [
    ("huber", lambda x, y: F.huber_loss(x, y, "sum", 0.7), _leaves(X, Y + 0.05)),
    (
        "huber weight",
        lambda x, y: F.huber_loss(x, y, "none", 2.0, WEIGHT),
        _leaves(X, Y),
    ),
    ("smooth_l1", lambda x, y: F.smooth_l1_loss(x, y, beta=0.6), _leaves(X, Y + 0.05)),
    (
        "kl_div",
        lambda x, y: F.kl_div(x, y, reduction="batchmean"),
        _leaves(X, rng.random((4, 5)) + 0.1),
    ),
    (
        "kl_div log_target",
        lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
        _leaves(X, Y),
    ),
    ("poisson", lambda x, y: F.poisson_nll_loss(x, y), _leaves(X, rng.random((4, 5)) * 3)),
    (
        "poisson rates full",
        lambda x, y: F.poisson_nll_loss(x, y, False, True, reduction="sum"),
        _leaves(rng.random((4, 5)) + 0.5, rng.random((4, 5)) * 4),
    ),
    (
        "gaussian",
        lambda x, y, v: F.gaussian_nll_loss(x, y, v, True),
        _leaves(X, Y, rng.random((4, 1)) + 0.2),
    ),
    (
        "margin_ranking",
        lambda a, b: F.margin_ranking_loss(a, b, const(np.sign(X[0])), 0.2),
        _leaves(X[0], Y[0]),
    ),
    (
        "hinge_embedding",
        lambda x: F.hinge_embedding_loss(x, const(np.sign(Y)), 0.5, reduction="sum"),
        _leaves(np.abs(X) + 0.01),
    ),
    ("soft_margin", lambda x: F.soft_margin_loss(x, const(np.sign(Y))), _leaves(X)),
    (
        "multilabel_soft_margin",
        lambda x, y: F.multilabel_soft_margin_loss(x, y, CLASS_WEIGHT),
        _leaves(X, rng.random((4, 5))),
    ),
    (
        "multi_margin",
        lambda x: F.multi_margin_loss(x, const(np.array([0, 4, 2, 2])), 2, 0.5, CLASS_WEIGHT),
        _leaves(X),
    ),
    (
        "multilabel_margin",
        lambda x: F.multilabel_margin_loss(
            x,
            const(
                np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 0, 0, 0], [4, 4, -1, 0, 0]])
            ),
        ),
        _leaves(X),
    ),
    (
        "cosine_embedding",
        lambda a, b: F.cosine_embedding_loss(a, b, const(np.array([1.0, -1, -1, 1])), -0.5),
        _leaves(X, Y),
    ),
    (
        "triplet swap",
        lambda a, p, n: F.triplet_margin_loss(a, p, n, 2.0, 1.5, swap=True),
        _leaves(X[:2], Y[:2], X[2:] * 2),
    ),
    (
        "triplet_with_distance",
        lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=3.0, swap=True),
        _leaves(X[:2], Y[:2], X[2:]),
    ),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, -1), _leaves(X, Y[0])),
    ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, 3.0), _leaves(X, Y)),
    ("pdist", lambda x: F.pdist(x, 1.5), _leaves(X)),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_gradcheck(name, fn, inputs):
    assert gradcheck(fn, inputs)


def test_modules_wrap_the_functions():
    a, b, y = const(X), const(Y), const(np.sign(X[:, 0]))
    pairs = [
        (nn.HuberLoss("sum", 0.5)(a, b), F.huber_loss(a, b, "sum", 0.5)),
        (nn.SmoothL1Loss(beta=0.2)(a, b), F.smooth_l1_loss(a, b, beta=0.2)),
        (nn.CosineEmbeddingLoss(0.3)(a, b, y), F.cosine_embedding_loss(a, b, y, 0.3)),
        (nn.TripletMarginLoss(p=1.0)(a, b, a * 2), F.triplet_margin_loss(a, b, a * 2, p=1.0)),
        (nn.CosineSimilarity(0)(a, b), F.cosine_similarity(a, b, 0)),
        (nn.PairwiseDistance(keepdim=True)(a, b), F.pairwise_distance(a, b, keepdim=True)),
    ]
    for module_value, function_value in pairs:
        np.testing.assert_array_equal(module_value.numpy(), function_value.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.KLDivLoss(reduction="batchmean")(a, b)


def test_float32_stays_float32():
    x, y = aprende.tensor(X, dtype=aprende.float32), aprende.tensor(Y, dtype=aprende.float32)
    for value in (
        F.huber_loss(x, y),
        F.smooth_l1_loss(x, y),
        F.gaussian_nll_loss(x, y, 0.5),
        F.cosine_similarity(x, y),
        F.pdist(x),
        F.multilabel_soft_margin_loss(x, (y > 0).float()),
    ):
        assert value.dtype == np.float32


def test_bad_arguments_name_the_op():
    with pytest.raises(RuntimeError, match="huber_loss.*delta"):
        F.huber_loss(const(X), const(Y), delta=-1.0)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var is of incorrect size"):
        F.gaussian_nll_loss(const(X), const(Y), const(np.ones(3)))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: target out of range.*\[0, 5\)"):
        F.multi_margin_loss(const(X), const(np.array([0, 1, 7, 2])))
    with pytest.raises(ValueError, match="kl_div: 'max' is not a valid value"):
        F.kl_div(const(X), const(Y), reduction="max")
    with pytest.raises(RuntimeError, match="pdist only supports 2D"):
        F.pdist(const(np.ones(3)))


LABELS = np.array([0, 4, 2, 2])
LABEL_LISTS = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 0, 0, 0], [4, 4, -1, 0, 0]])
SIGNS = np.sign(X[:, 0])
COUNTS = rng.poisson(2.0, size=(4, 5)).astype(float)

# (name, op(inputs, constants), differentiable inputs, constant inputs)
ON_DEVICES = [
    ("huber", lambda x, y: F.huber_loss(x, y, delta=0.5), [X, Y], []),
    ("smooth_l1", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), [X, Y], []),
    ("kl_div", lambda x, y: F.kl_div(x, y, reduction="batchmean"), [X, np.abs(Y)], []),
    ("poisson full", lambda x, y: F.poisson_nll_loss(x, y, full=True), [X], [COUNTS]),
    ("gaussian", lambda x, y, v: F.gaussian_nll_loss(x, y, v), [X, Y, np.abs(Y)], []),
    ("margin_ranking", lambda a, b, y: F.margin_ranking_loss(a, b, y), [X[:, 0], Y[:, 0]], [SIGNS]),
    ("hinge_embedding", lambda x, y: F.hinge_embedding_loss(x, y), [X[:, 0]], [SIGNS]),
    ("soft_margin", lambda x, y: F.soft_margin_loss(x, y), [X[:, 0]], [SIGNS]),
    ("multilabel_soft_margin", lambda x, y: F.multilabel_soft_margin_loss(x, y), [X], [Y > 0]),
    ("multi_margin", lambda x, y, w: F.multi_margin_loss(x, y, 2, weight=w), [X], [LABELS, X[0]]),
    ("multilabel_margin", lambda x, y: F.multilabel_margin_loss(x, y), [X], [LABEL_LISTS]),
    ("cosine_embedding", lambda a, b, y: F.cosine_embedding_loss(a, b, y), [X, Y], [SIGNS]),
    ("triplet", lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True), [X, Y, 2 * X], []),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), [X, Y], []),
    ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, 1.5), [X, Y], []),
    ("pdist", lambda x: F.pdist(x), [X], []),
]


@pytest.mark.parametrize(
    ("name", "op", "leaves", "constants"), ON_DEVICES, ids=[c[0] for c in ON_DEVICES]
)
def test_same_values_and_gradients_on_every_device(name, op, leaves, constants, device):
    results = []
    for dev in ("cpu", device):
        inputs = [aprende.tensor(a, requires_grad=True, device=dev) for a in leaves]
        fixed = [
            aprende.tensor(np.asarray(c, dtype=np.float64) if c.dtype == bool else c, device=dev)
            for c in constants
        ]
        out = op(*inputs, *fixed)
        assert out.device == dev
        out.sum().backward()
        results.append([out.detach().cpu().numpy()] + [t.grad.cpu().numpy() for t in inputs])
    for ours, reference in zip(*results, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-14)


def test_no_host_round_trip_on_the_device(fake_cupy):
    x = aprende.tensor(X, requires_grad=True, device="cuda")
    labels = aprende.tensor(LABELS, device="cuda")
    label_lists = aprende.tensor(LABEL_LISTS, device="cuda")
    var = aprende.tensor(np.abs(Y), device="cuda")
    fake_cupy.counters.reset()
    total = F.multi_margin_loss(x, labels) + F.multilabel_margin_loss(x, label_lists)
    total = total + F.gaussian_nll_loss(x, x.detach() * 0, var) + F.pdist(x).sum()
    total.backward()
    assert fake_cupy.counters.syncs == 0


def test_bad_labels_on_the_device_raise_at_the_next_read(cupy):
    x = aprende.tensor(X, device="cuda")
    loss = F.multi_margin_loss(x, aprende.tensor(np.array([0, 1, 9, 2]), device="cuda"))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: target out of range"):
        loss.item()
