"""Regression, likelihood, margin and triplet losses and the distances against
torch.nn.functional: values and gradients of every input, for every reduction, dtype and
option, with points on each kink; the modules with PyTorch's weights; the errors PyTorch raises.
"""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import build_inputs, compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402
from aprende import nn  # noqa: E402

pytestmark = pytest.mark.reference

rng = np.random.default_rng(2024)
REDUCTIONS = ("none", "mean", "sum")
FLOATS = ("float64", "float32")


def F(ns):
    return ns.nn.functional


def normal(*shape):
    return rng.normal(size=shape)


def signs(*shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


# x − y on the kinks of Huber (δ = 1, 0.5) and smooth L1 (β = 1, 0.5): ±δ, ±β and 0.
X_KINKS = np.array([[1.5, -0.5, 0.7, 0.3, 2.0], [0.0, 1.0, -1.0, 4.0, -3.0]])
Y_KINKS = np.array([[0.5, 0.5, 0.7, -0.2, 1.5], [0.0, 2.0, -0.5, 0.1, 0.2]])
LOGP = np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]))
PROBS = np.array([[0.1, 0.0, 0.9], [0.5, 0.25, 0.25], [0.0, 1.0, 0.0]])
COUNTS = np.array([[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 1.0, 7.0], [1.0, 2.0, 0.0, 10.0]])
RATES = np.array([[0.5, 1.2, 2.0, 4.0], [2.5, 0.1, 0.9, 6.0], [1.0, 1.5, 0.3, 9.0]])
CLASSES = np.array([0, 3, 4, 1])
LABEL_LISTS = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, -1], [-1, 2, 0, 0, 0], [4, 4, -1, 0, 0]])
SCORES = np.array([[0.3, 1.3, -0.2, 0.0, 0.5], [1.0, -1.0, 2.0, 0.5, 0.2]] * 2)  # hinges at 0


def triplet(*shape):
    return normal(*shape), normal(*shape), normal(*shape)


# (id, op(ns, *inputs, reduction), arrays, dtype of each array: "f" the float under test)
CASES = [
    ("huber", lambda ns, x, y, r: F(ns).huber_loss(x, y, reduction=r), [X_KINKS, Y_KINKS], "ff"),
    (
        "huber delta=0.5",
        lambda ns, x, y, r: F(ns).huber_loss(x, y, r, 0.5),
        [X_KINKS, Y_KINKS],
        "ff",
    ),
    (
        "huber delta=2 weight",
        lambda ns, x, y, w, r: F(ns).huber_loss(x, y, r, 2.0, w),
        [normal(3, 4), normal(3, 4), rng.random((3, 4))],
        "fff",
    ),
    (
        "smooth_l1",
        lambda ns, x, y, r: F(ns).smooth_l1_loss(x, y, reduction=r),
        [X_KINKS, Y_KINKS],
        "ff",
    ),
    (
        "smooth_l1 beta=0.5",
        lambda ns, x, y, r: F(ns).smooth_l1_loss(x, y, reduction=r, beta=0.5),
        [X_KINKS, Y_KINKS],
        "ff",
    ),
    (
        "smooth_l1 beta=0",
        lambda ns, x, y, r: F(ns).smooth_l1_loss(x, y, reduction=r, beta=0.0),
        [X_KINKS, Y_KINKS],
        "ff",
    ),
    (
        "smooth_l1 3-d",
        lambda ns, x, y, r: F(ns).smooth_l1_loss(x, y, reduction=r, beta=0.3),
        [normal(2, 3, 4), normal(2, 3, 4)],
        "ff",
    ),
    ("kl_div", lambda ns, x, y, r: F(ns).kl_div(x, y, reduction=r), [LOGP, PROBS + 0.05], "ff"),
    (
        "kl_div zero target",
        lambda ns, x, y, r: F(ns).kl_div(x, y, reduction=r),
        [LOGP, PROBS],
        "f" + "f",
    ),
    (
        "kl_div log_target",
        lambda ns, x, y, r: F(ns).kl_div(x, y, reduction=r, log_target=True),
        [LOGP, LOGP[::-1].copy()],
        "ff",
    ),
    (
        "poisson log_input",
        lambda ns, x, y, r: F(ns).poisson_nll_loss(x, y, reduction=r),
        [normal(3, 4), COUNTS],
        "ff",
    ),
    (
        "poisson rates",
        lambda ns, x, y, r: F(ns).poisson_nll_loss(x, y, False, reduction=r),
        [RATES, COUNTS],
        "ff",
    ),
    (
        "poisson full",
        lambda ns, x, y, r: F(ns).poisson_nll_loss(x, y, True, True, reduction=r),
        [normal(3, 4), COUNTS + 0.5],
        "ff",
    ),
    (
        "poisson rates full eps",
        lambda ns, x, y, r: F(ns).poisson_nll_loss(x, y, False, True, eps=0.1, reduction=r),
        [RATES, COUNTS + 0.5],
        "ff",
    ),
    (
        "gaussian",
        lambda ns, x, y, v, r: F(ns).gaussian_nll_loss(x, y, v, reduction=r),
        [normal(4, 3), normal(4, 3), rng.random((4, 3)) + 0.1],
        "fff",
    ),
    (
        "gaussian var below eps, full",
        lambda ns, x, y, v, r: F(ns).gaussian_nll_loss(x, y, v, True, 0.05, r),
        [normal(4, 3), normal(4, 3), np.array([0.01, 0.2, 0.0, 1.0])[:, None] * np.ones(3)],
        "fff",
    ),
    (
        "gaussian var one dim short",
        lambda ns, x, y, v, r: F(ns).gaussian_nll_loss(x, y, v, reduction=r),
        [normal(4, 3), normal(4, 3), rng.random(4) + 0.1],
        "fff",
    ),
    (
        "gaussian var with a 1",
        lambda ns, x, y, v, r: F(ns).gaussian_nll_loss(x, y, v, reduction=r),
        [normal(2, 4, 3), normal(2, 4, 3), rng.random((2, 1, 3)) + 0.1],
        "fff",
    ),
    (
        "gaussian float var",
        lambda ns, x, y, r: F(ns).gaussian_nll_loss(x, y, 0.7, reduction=r),
        [normal(4, 3), normal(4, 3)],
        "ff",
    ),
    (
        "margin_ranking",
        lambda ns, a, b, y, r: F(ns).margin_ranking_loss(a, b, y, reduction=r),
        [normal(6), normal(6), signs(6)],
        "fff",
    ),
    (
        "margin_ranking margin on the kink",
        lambda ns, a, b, y, r: F(ns).margin_ranking_loss(a, b, y, 0.5, reduction=r),
        [np.array([1.5, 0.0, 2.0]), np.array([1.0, 0.5, 0.2]), np.array([1.0, -1.0, -1.0])],
        "fff",
    ),
    (
        "hinge_embedding",
        lambda ns, x, y, r: F(ns).hinge_embedding_loss(x, y, reduction=r),
        [np.array([0.3, 1.0, 2.0, 0.5, 1.5, -0.2]), np.array([1.0, -1, -1, -1, 1, -1])],
        "ff",
    ),
    (
        "hinge_embedding margin, 2-d",
        lambda ns, x, y, r: F(ns).hinge_embedding_loss(x, y, 0.4, reduction=r),
        [np.abs(normal(3, 4)), signs(3, 4)],
        "ff",
    ),
    (
        "soft_margin",
        lambda ns, x, y, r: F(ns).soft_margin_loss(x, y.detach(), reduction=r),
        [3 * normal(4, 3), signs(4, 3)],
        "ff",
    ),
    (
        "multilabel_soft_margin",
        lambda ns, x, y, r: F(ns).multilabel_soft_margin_loss(x, y, reduction=r),
        [3 * normal(4, 3), (rng.random((4, 3)) < 0.5) * 1.0],
        "ff",
    ),
    (
        "multilabel_soft_margin weight",
        lambda ns, x, y, w, r: F(ns).multilabel_soft_margin_loss(x, y, w, reduction=r),
        [3 * normal(4, 3), (rng.random((4, 3)) < 0.5) * 1.0, rng.random(3)],
        "fff",
    ),
    (
        "multi_margin",
        lambda ns, x, y, r: F(ns).multi_margin_loss(x, y, reduction=r),
        [SCORES, CLASSES],
        "fi",
    ),
    (
        "multi_margin p=2 margin weight",
        lambda ns, x, y, w, r: F(ns).multi_margin_loss(x, y, 2, 0.5, w.detach(), reduction=r),
        [normal(4, 5), CLASSES, rng.random(5)],
        "fif",
    ),
    (
        "multi_margin 1-d",
        lambda ns, x, y, r: F(ns).multi_margin_loss(x, y, reduction=r),
        [normal(5), np.array(2)],
        "fi",
    ),
    (
        "multilabel_margin",
        lambda ns, x, y, r: F(ns).multilabel_margin_loss(x, y, reduction=r),
        [normal(4, 5), LABEL_LISTS],
        "fi",
    ),
    (
        "multilabel_margin on the kinks",
        lambda ns, x, y, r: F(ns).multilabel_margin_loss(x, y, reduction=r),
        [SCORES, LABEL_LISTS],
        "fi",
    ),
    (
        "multilabel_margin 1-d",
        lambda ns, x, y, r: F(ns).multilabel_margin_loss(x, y, reduction=r),
        [normal(4), np.array([2, 0, -1, 3])],
        "fi",
    ),
    (
        "cosine_embedding",
        lambda ns, a, b, y, r: F(ns).cosine_embedding_loss(a, b, y, reduction=r),
        [normal(4, 3), np.vstack([normal(3, 3), np.zeros((1, 3))]), signs(4)],
        "fff",
    ),
    (
        "cosine_embedding margin",
        lambda ns, a, b, y, r: F(ns).cosine_embedding_loss(a, b, y, 0.2, reduction=r),
        [normal(5, 3), normal(5, 3), np.array([1.0, -1, -1, 1, -1])],
        "fff",
    ),
    (
        "cosine_embedding 1-d",
        lambda ns, a, b, y, r: F(ns).cosine_embedding_loss(a, b, y, reduction=r),
        [normal(3), normal(3), np.array(-1.0)],
        "fff",
    ),
    (
        "triplet",
        lambda ns, a, p, n, r: F(ns).triplet_margin_loss(a, p, n, reduction=r),
        list(triplet(5, 4)),
        "fff",
    ),
    (
        "triplet p=1 swap",
        lambda ns, a, p, n, r: F(ns).triplet_margin_loss(a, p, n, 0.5, 1, swap=True, reduction=r),
        list(triplet(6, 3)),
        "fff",
    ),
    (
        "triplet p=3 eps 1-d",
        lambda ns, a, p, n, r: F(ns).triplet_margin_loss(a, p, n, 2.0, 3, 1e-3, reduction=r),
        list(triplet(4)),
        "fff",
    ),
    (
        "triplet_with_distance",
        lambda ns, a, p, n, r: F(ns).triplet_margin_with_distance_loss(a, p, n, reduction=r),
        list(triplet(5, 4)),
        "fff",
    ),
    (
        "triplet_with_distance cosine swap",
        lambda ns, a, p, n, r: F(ns).triplet_margin_with_distance_loss(
            a,
            p,
            n,
            distance_function=lambda u, v: 1 - F(ns).cosine_similarity(u, v),
            margin=0.3,
            swap=True,
            reduction=r,
        ),
        list(triplet(6, 3)),
        "fff",
    ),
]


def dtypes_of(kinds: str, dtype: str) -> list[str]:
    return [dtype if kind == "f" else "int64" for kind in kinds]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "op", "arrays", "kinds"), CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(name, op, arrays, kinds, reduction, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's warning for 'mean': its own test below
        compare(lambda ns, *xs: op(ns, *xs, reduction), arrays, dtypes_of(kinds, dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_kl_div_batchmean(dtype):
    for log_target, target in ((False, PROBS), (True, LOGP[::-1].copy())):
        compare(
            lambda ns, x, y, lt=log_target: F(ns).kl_div(
                x, y, reduction="batchmean", log_target=lt
            ),
            [LOGP, target],
            dtype,
        )
    compare(lambda ns, x, y: F(ns).kl_div(x, y, reduction="batchmean"), [LOGP[0], PROBS[0]], dtype)


def test_kl_div_mean_warns_as_torch():
    x, y = aprende.tensor(LOGP), aprende.tensor(PROBS)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        aprende.nn.functional.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aprende.nn.functional.kl_div(x, y, reduction="batchmean")


@pytest.mark.parametrize("dtype", FLOATS)
def test_broadcast_target_warns_and_matches(dtype):
    for op in (
        lambda ns, x, y: F(ns).huber_loss(x, y, reduction="none"),
        lambda ns, x, y: F(ns).smooth_l1_loss(x, y, beta=0.5),
    ):
        with pytest.warns(UserWarning, match="different to the input size"):
            compare(op, [normal(4, 3), normal(3)], dtype)


def test_integer_targets_promote_as_torch():
    compare(
        lambda ns, x, y: F(ns).poisson_nll_loss(x, y), [normal(3, 4), COUNTS], ["float32", "int64"]
    )
    compare(
        lambda ns, x, y: F(ns).hinge_embedding_loss(x, y),
        [normal(6), signs(6)],
        ["float32", "int64"],
    )
    compare(
        lambda ns, x, y: F(ns).soft_margin_loss(x, y), [normal(6), signs(6)], ["float64", "int64"]
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batches(reduction):
    for op, arrays in (
        (
            lambda ns, x, y: F(ns).huber_loss(x, y, reduction=reduction),
            [normal(0, 3), normal(0, 3)],
        ),
        (
            lambda ns, x, y: F(ns).soft_margin_loss(x, y.detach(), reduction=reduction),
            [normal(0), normal(0)],
        ),
        (
            lambda ns, a, p, n: F(ns).triplet_margin_loss(a, p, n, reduction=reduction),
            list(triplet(0, 3)),
        ),
    ):
        compare(op, arrays, "float64")


DISTANCES = [
    ("cosine", lambda ns, a, b: F(ns).cosine_similarity(a, b), [normal(4, 3), normal(4, 3)], "ff"),
    (
        "cosine zero rows",
        lambda ns, a, b: F(ns).cosine_similarity(a, b),
        [np.vstack([normal(2, 3), np.zeros((1, 3))]), np.vstack([np.zeros((1, 3)), normal(2, 3)])],
        "ff",
    ),
    (
        "cosine tiny norm below eps",
        lambda ns, a, b: F(ns).cosine_similarity(a, b, 1, 0.5),
        [0.1 * normal(4, 3), normal(4, 3)],
        "ff",
    ),
    (
        "cosine broadcast dim=-1",
        lambda ns, a, b: F(ns).cosine_similarity(a, b, dim=-1),
        [normal(2, 4, 3), normal(3)],
        "ff",
    ),
    (
        "cosine dim=0",
        lambda ns, a, b: F(ns).cosine_similarity(a, b, 0),
        [normal(4, 3), normal(4, 1)],
        "ff",
    ),
    (
        "cosine int with float",
        lambda ns, a, b: F(ns).cosine_similarity(a, b),
        [np.arange(6).reshape(2, 3), normal(2, 3)],
        "if",
    ),
    (
        "pairwise",
        lambda ns, a, b: F(ns).pairwise_distance(a, b),
        [normal(4, 3), normal(4, 3)],
        "ff",
    ),
    (
        "pairwise p=1 keepdim equal rows",
        lambda ns, a, b: F(ns).pairwise_distance(a, b, 1, 0.0, True),
        [np.ones((3, 2)), np.vstack([np.ones((1, 2)), normal(2, 2)])],
        "ff",
    ),
    (
        "pairwise p=0.5 broadcast",
        lambda ns, a, b: F(ns).pairwise_distance(a, b, 0.5),
        [normal(4, 3), normal(3)],
        "ff",
    ),
    (
        "pairwise p=inf",
        lambda ns, a, b: F(ns).pairwise_distance(a, b, math.inf),
        [normal(4, 3), normal(4, 3)],
        "ff",
    ),
    (
        "pairwise 1-d",
        lambda ns, a, b: F(ns).pairwise_distance(a, b, 3.0),
        [normal(5), normal(5)],
        "ff",
    ),
    (
        "pairwise module",
        lambda ns, a, b: ns.nn.PairwiseDistance(1.5, 1e-3, True)(a, b),
        [normal(4, 3), normal(4, 3)],
        "ff",
    ),
    (
        "cosine module",
        lambda ns, a, b: ns.nn.CosineSimilarity(0, 1e-6)(a, b),
        [normal(4, 3), normal(4, 3)],
        "ff",
    ),
    ("pdist", lambda ns, x: F(ns).pdist(x), [normal(5, 3)], "f"),
    (
        "pdist equal rows p=1",
        lambda ns, x: F(ns).pdist(x, 1),
        [np.vstack([np.ones((2, 3)), normal(2, 3)])],
        "f",
    ),
    ("pdist p=3", lambda ns, x: F(ns).pdist(x, 3), [normal(4, 2)], "f"),
    ("pdist p=0.5", lambda ns, x: F(ns).pdist(x, 0.5), [normal(4, 2)], "f"),
    ("pdist one row", lambda ns, x: F(ns).pdist(x), [normal(1, 3)], "f"),
    ("torch.pdist", lambda ns, x: ns.pdist(x, 2), [normal(4, 2)], "f"),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    ("name", "op", "arrays", "kinds"), DISTANCES, ids=[c[0] for c in DISTANCES]
)
def test_distance_matches_torch(name, op, arrays, kinds, dtype):
    compare(op, arrays, dtypes_of(kinds, dtype))


# (module name, constructor kwargs, input arrays, dtype of each)
MODULES = [
    ("HuberLoss", {"delta": 0.5, "reduction": "sum"}, [X_KINKS, Y_KINKS], "ff"),
    ("SmoothL1Loss", {"beta": 0.5}, [X_KINKS, Y_KINKS], "ff"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [LOGP, LOGP[::-1].copy()], "ff"),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-3}, [RATES, COUNTS], "ff"),
    (
        "GaussianNLLLoss",
        {"full": True, "eps": 1e-3},
        [normal(4, 3), normal(4, 3), rng.random((4, 1))],
        "fff",
    ),
    ("MarginRankingLoss", {"margin": 0.2}, [normal(5), normal(5), signs(5)], "fff"),
    ("HingeEmbeddingLoss", {"margin": 0.5, "reduction": "none"}, [normal(5), signs(5)], "ff"),
    ("SoftMarginLoss", {"reduction": "sum"}, [normal(3, 2), signs(3, 2)], "fi"),
    (
        "MultiLabelSoftMarginLoss",
        {"weight": rng.random(3)},
        [normal(4, 3), (normal(4, 3) > 0) * 1.0],
        "ff",
    ),
    (
        "MultiMarginLoss",
        {"p": 2, "margin": 0.7, "weight": rng.random(5)},
        [normal(4, 5), CLASSES],
        "fi",
    ),
    ("MultiLabelMarginLoss", {"reduction": "none"}, [normal(4, 5), LABEL_LISTS], "fi"),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [normal(4, 3), normal(4, 3), signs(4)], "fff"),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, list(triplet(4, 3)), "fff"),
    ("TripletMarginWithDistanceLoss", {"margin": 0.5, "swap": True}, list(triplet(4, 3)), "fff"),
]


def _module(ns, name, kwargs):
    """The module in ``ns``, array-valued arguments (weights) as tensors of that framework."""
    args = {k: ns.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(ns.nn, name)(**args)


# The Poisson target's gradient is nan at y = 0 with ``full`` (0·log 0), in PyTorch too.
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    ("name", "kwargs", "arrays", "kinds"), MODULES, ids=[m[0] for m in MODULES]
)
def test_module_matches_torch(name, kwargs, arrays, kinds, dtype):
    def op(ns, *inputs):
        module = _module(ns, name, kwargs)
        return module.to(getattr(ns, dtype))(*inputs)

    compare(op, arrays, dtypes_of(kinds, dtype))


@pytest.mark.parametrize(
    ("name", "kwargs", "arrays", "kinds"), MODULES, ids=[m[0] for m in MODULES]
)
def test_module_state_dict_loads_from_torch(name, kwargs, arrays, kinds):
    theirs = _module(torch, name, kwargs)
    zeros = {k: np.zeros_like(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours = _module(aprende, name, zeros)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: aprende.tensor(v.numpy()) for k, v in state.items()})
    our_inputs, their_inputs = build_inputs(
        arrays, dtypes_of(kinds, "float64"), requires_grad=False
    )
    np.testing.assert_allclose(
        ours(*our_inputs).numpy(), theirs(*their_inputs).numpy(), rtol=1e-12, atol=1e-14
    )


ERRORS = [
    ("huber delta=0", lambda ns, x, y: F(ns).huber_loss(x, y, delta=0.0), [normal(3), normal(3)]),
    ("huber shapes", lambda ns, x, y: F(ns).huber_loss(x, y), [normal(3), normal(4)]),
    (
        "huber weight shape",
        lambda ns, x, y, w: F(ns).huber_loss(x, y, weight=w),
        [normal(3), normal(3), normal(2)],
    ),
    (
        "smooth_l1 beta<0",
        lambda ns, x, y: F(ns).smooth_l1_loss(x, y, beta=-1.0),
        [normal(3), normal(3)],
    ),
    ("smooth_l1 shapes", lambda ns, x, y: F(ns).smooth_l1_loss(x, y), [normal(2, 3), normal(2, 2)]),
    ("kl_div reduction", lambda ns, x, y: F(ns).kl_div(x, y, reduction="max"), [LOGP, PROBS]),
    ("kl_div shapes", lambda ns, x, y: F(ns).kl_div(x, y, reduction="sum"), [LOGP, PROBS[:2, :2]]),
    (
        "poisson reduction",
        lambda ns, x, y: F(ns).poisson_nll_loss(x, y, reduction="avg"),
        [RATES, COUNTS],
    ),
    ("poisson shapes", lambda ns, x, y: F(ns).poisson_nll_loss(x, y), [RATES, COUNTS[:, :2]]),
    (
        "gaussian negative var",
        lambda ns, x, y, v: F(ns).gaussian_nll_loss(x, y, v),
        [normal(3), normal(3), -np.ones(3)],
    ),
    (
        "gaussian negative float var",
        lambda ns, x, y: F(ns).gaussian_nll_loss(x, y, -1.0),
        [normal(3), normal(3)],
    ),
    (
        "gaussian var size",
        lambda ns, x, y, v: F(ns).gaussian_nll_loss(x, y, v),
        [normal(4, 3), normal(4, 3), np.ones((2, 3))],
    ),
    (
        "gaussian reduction",
        lambda ns, x, y, v: F(ns).gaussian_nll_loss(x, y, v, reduction="max"),
        [normal(3), normal(3), np.ones(3)],
    ),
    (
        "margin_ranking dims",
        lambda ns, a, b, y: F(ns).margin_ranking_loss(a, b, y),
        [normal(3), normal(3), np.ones((1, 3))],
    ),
    (
        "margin_ranking reduction",
        lambda ns, a, b, y: F(ns).margin_ranking_loss(a, b, y, reduction="x"),
        [normal(3), normal(3), np.ones(3)],
    ),
    (
        "hinge_embedding shapes",
        lambda ns, x, y: F(ns).hinge_embedding_loss(x, y),
        [normal(3), np.ones(4)],
    ),
    ("soft_margin shapes", lambda ns, x, y: F(ns).soft_margin_loss(x, y), [normal(3), np.ones(4)]),
    (
        "multilabel_soft_margin shapes",
        lambda ns, x, y: F(ns).multilabel_soft_margin_loss(x, y),
        [normal(2, 3), np.ones((2, 4))],
    ),
    (
        "multi_margin p=3",
        lambda ns, x, y: F(ns).multi_margin_loss(x, y, p=3),
        [normal(4, 5), CLASSES],
    ),
    (
        "multi_margin weight 2-d",
        lambda ns, x, y, w: F(ns).multi_margin_loss(x, y, weight=w),
        [normal(4, 5), CLASSES, np.ones((1, 5))],
    ),
    (
        "multi_margin target out of range",
        lambda ns, x, y: F(ns).multi_margin_loss(x, y),
        [normal(4, 5), np.array([0, 1, 5, 2])],
    ),
    (
        "multi_margin target size",
        lambda ns, x, y: F(ns).multi_margin_loss(x, y),
        [normal(4, 5), CLASSES[:3]],
    ),
    (
        "multilabel_margin target shape",
        lambda ns, x, y: F(ns).multilabel_margin_loss(x, y),
        [normal(4, 5), LABEL_LISTS[:, :4]],
    ),
    (
        "cosine_embedding shapes",
        lambda ns, a, b, y: F(ns).cosine_embedding_loss(a, b, y),
        [normal(4, 3), normal(4, 2), signs(4)],
    ),
    (
        "cosine_embedding 3-d",
        lambda ns, a, b, y: F(ns).cosine_embedding_loss(a, b, y),
        [normal(2, 4, 3), normal(2, 4, 3), signs(2, 4)],
    ),
    (
        "triplet dims",
        lambda ns, a, p, n: F(ns).triplet_margin_loss(a, p, n),
        [normal(4, 3), normal(4, 3), normal(3)],
    ),
    (
        "triplet_with_distance dims",
        lambda ns, a, p, n: F(ns).triplet_margin_with_distance_loss(a, p, n),
        [normal(4, 3), normal(3), normal(3)],
    ),
    (
        "triplet_with_distance margin",
        lambda ns, a, p, n: F(ns).triplet_margin_with_distance_loss(a, p, n, margin=0.0),
        list(triplet(4, 3)),
    ),
    ("pdist 3-d", lambda ns, x: F(ns).pdist(x), [normal(2, 3, 4)]),
    ("pdist p<0", lambda ns, x: F(ns).pdist(x, -1.0), [normal(3, 4)]),
    ("cosine shapes", lambda ns, a, b: F(ns).cosine_similarity(a, b), [normal(4, 3), normal(2, 3)]),
    (
        "pairwise shapes",
        lambda ns, a, b: F(ns).pairwise_distance(a, b),
        [normal(4, 3), normal(4, 2)],
    ),
]


@pytest.mark.parametrize(("name", "op", "arrays"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_like_torch(name, op, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(op, arrays)


def test_integer_errors_like_torch():
    def op(ns, a, b):
        return F(ns).cosine_similarity(a, b)

    ours, theirs = aprende.arange(6).reshape(2, 3), torch.arange(6).reshape(2, 3)
    with pytest.raises(RuntimeError):
        op(torch, theirs, theirs)
    with pytest.raises(RuntimeError, match="floating point"):
        op(aprende, ours, ours)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MultiMarginLoss", {"p": 3}),
        ("TripletMarginWithDistanceLoss", {"margin": -1.0}),
        ("HuberLoss", {"reduction": "avg"}),
        ("KLDivLoss", {"reduction": "avg"}),
    ],
)
def test_module_constructor_errors_like_torch(name, kwargs):
    try:
        getattr(torch.nn, name)(**kwargs)(*(torch.ones(2, 3),) * 2)
    except Exception as error:  # noqa: BLE001 - whatever PyTorch raises is the reference
        expected = type(error)
    with pytest.raises(expected):
        getattr(nn, name)(**kwargs)(*(aprende.ones(2, 3),) * 2)


def test_arguments_torch_does_not_differentiate_are_refused():
    def calls(ns):
        x, y = ns.tensor(normal(4, 5)), ns.tensor(signs(4, 5), requires_grad=True)
        w = ns.tensor(rng.random(5), requires_grad=True)
        labels = ns.tensor(CLASSES)
        return (
            lambda: F(ns).soft_margin_loss(x, y),
            lambda: F(ns).multi_margin_loss(x, labels, weight=w),
        )

    for theirs, ours in zip(calls(torch), calls(aprende), strict=True):
        with pytest.raises(RuntimeError, match="not differentiable"):
            theirs()
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
            ours()


S, T = np.array(0.7), np.array(-0.4)

# (id, op, arrays, dtypes, compare gradients): 0-d and empty inputs, mixed dtypes
EDGES = [
    ("huber 0-d", lambda ns, x, y: F(ns).huber_loss(x, y), [S, T], "float64", True),
    (
        "kl_div 0-d batchmean",
        lambda ns, x, y: F(ns).kl_div(x, y, reduction="batchmean"),
        [S, np.array(0.3)],
        "float64",
        True,
    ),
    (
        "soft_margin 0-d",
        lambda ns, x, y: F(ns).soft_margin_loss(x, y.detach()),
        [S, np.array(1)],
        ["float64", "int64"],
        True,
    ),
    (
        "margin_ranking 0-d",
        lambda ns, a, b, y: F(ns).margin_ranking_loss(a, b, y),
        [S, T, np.array(1.0)],
        "float64",
        True,
    ),
    (
        "hinge_embedding 0-d",
        lambda ns, x, y: F(ns).hinge_embedding_loss(x, y),
        [S, np.array(-1.0)],
        "float64",
        True,
    ),
    (
        "poisson 0-d",
        lambda ns, x, y: F(ns).poisson_nll_loss(x, y),
        [S, np.array(2.0)],
        "float64",
        True,
    ),
    (
        "gaussian 0-d",
        lambda ns, x, y, v: F(ns).gaussian_nll_loss(x, y, v),
        [S, T, np.array(0.5)],
        "float64",
        True,
    ),
    ("pairwise 0-d", lambda ns, a, b: F(ns).pairwise_distance(a, b), [S, T], "float64", True),
    (
        "multilabel_soft_margin 1-d",
        lambda ns, x, y: F(ns).multilabel_soft_margin_loss(x, y),
        [np.array([0.1, -2.0, 3.0]), np.array([1.0, 0, 1])],
        "float64",
        True,
    ),
    ("pdist empty", lambda ns, x: F(ns).pdist(x), [np.zeros((0, 3))], "float64", True),
    (
        "cosine_embedding empty",
        lambda ns, a, b, y: F(ns).cosine_embedding_loss(a, b, y),
        [np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0)],
        "float64",
        True,
    ),
    # PyTorch's huber_loss keeps the input's dtype; its backward refuses mixed dtypes.
    (
        "huber float32 with float64",
        lambda ns, x, y: F(ns).huber_loss(x, y),
        [normal(3), normal(3)],
        ["float32", "float64"],
        False,
    ),
    (
        "huber float64 with float32",
        lambda ns, x, y: F(ns).huber_loss(x, y),
        [normal(3), normal(3)],
        ["float64", "float32"],
        False,
    ),
    (
        "smooth_l1 promotes",
        lambda ns, x, y: F(ns).smooth_l1_loss(x, y),
        [normal(3), normal(3)],
        ["float32", "float64"],
        True,
    ),
    (
        "kl_div promotes",
        lambda ns, x, y: F(ns).kl_div(x, y, reduction="sum"),
        [normal(3), rng.random(3)],
        ["float32", "float64"],
        True,
    ),
    (
        "margin_ranking int target",
        lambda ns, a, b, y: F(ns).margin_ranking_loss(a, b, y),
        [normal(3), normal(3), np.array([1, -1, 1])],
        ["float32", "float32", "int64"],
        True,
    ),
    (
        "gaussian broadcast target",
        lambda ns, x, y, v: F(ns).gaussian_nll_loss(x, y, v),
        [normal(4, 3), normal(3), rng.random((4, 3))],
        "float64",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "op", "arrays", "dtype", "grad"), EDGES, ids=[e[0] for e in EDGES]
)
def test_edge_cases_match_torch(name, op, arrays, dtype, grad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(op, arrays, dtype, grad=grad)
