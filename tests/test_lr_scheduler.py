"""Learning-rate schedules: sequences against their closed forms (written out below) and against
``torch.optim.lr_scheduler`` step by step, ReduceLROnPlateau on fixed metric sequences, state
dicts (a resumed schedule continues exactly), warnings and argument checks."""

import json
import math
from bisect import bisect_right

import numpy as np
import pytest

import aprende
from aprende import optim
from aprende.optim import lr_scheduler

BASE_LRS = (0.1, 0.03)
EPOCHS = 25


def make_optimizer(lrs=BASE_LRS):
    """SGD with one parameter group per learning rate."""
    groups = [{"params": [aprende.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0)


def make_torch_optimizer(torch, lrs=BASE_LRS):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=1.0)


def lr_sequence(scheduler, epochs=EPOCHS, metrics=None):
    """The rates in force at each epoch; the loop is PyTorch's: optimizer.step(), then
    scheduler.step() (with the epoch's metric for ReduceLROnPlateau)."""
    rates = []
    for epoch in range(epochs):
        rates.append(scheduler.get_last_lr())
        scheduler.optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
    return rates


# Each row: aprende's class name, its arguments (PyTorch's names), and the closed form
# lr(base_lr, t) that the published schedule follows.
def _cosine(base, t, T_max=10, eta_min=0.001):  # noqa: N803 - PyTorch's name
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


SCHEDULES = [
    ("StepLR", {"step_size": 4}, lambda base, t: base * 0.1 ** (t // 4)),
    ("StepLR", {"step_size": 3, "gamma": 0.5}, lambda base, t: base * 0.5 ** (t // 3)),
    (
        "MultiStepLR",
        {"milestones": [3, 7, 7, 15], "gamma": 0.5},
        lambda base, t: base * 0.5 ** bisect_right([3, 7, 7, 15], t),
    ),
    ("ExponentialLR", {"gamma": 0.9}, lambda base, t: base * 0.9**t),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}, _cosine),
    ("CosineAnnealingLR", {"T_max": 7}, lambda base, t: _cosine(base, t, 7, 0.0)),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)}, lambda base, t: base / (1 + t)),
]
SCHEDULE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(SCHEDULES)]


@pytest.mark.parametrize(("name", "options", "closed_form"), SCHEDULES, ids=SCHEDULE_IDS)
def test_sequence_follows_the_closed_form(name, options, closed_form):
    scheduler = getattr(lr_scheduler, name)(make_optimizer(), **options)
    for t, rates in enumerate(lr_sequence(scheduler)):
        expected = [closed_form(base, t) for base in BASE_LRS]
        assert rates == pytest.approx(expected, rel=1e-9, abs=1e-12), f"epoch {t}"


@pytest.mark.parametrize(("name", "options", "closed_form"), SCHEDULES, ids=SCHEDULE_IDS)
def test_sequence_matches_torch(name, options, closed_form):
    torch = pytest.importorskip("torch")
    ours = lr_sequence(getattr(lr_scheduler, name)(make_optimizer(), **options))
    theirs = lr_sequence(
        getattr(torch.optim.lr_scheduler, name)(make_torch_optimizer(torch), **options)
    )
    assert ours == theirs  # the same float operations: equal to the last bit


def test_construction_sets_initial_lr_and_leaves_the_rate():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    assert scheduler.last_epoch == 0
    assert scheduler.base_lrs == list(BASE_LRS)
    assert [g["initial_lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    assert [g["lr"] for g in optimizer.param_groups] == list(BASE_LRS)
    optimizer.step()
    scheduler.step()
    assert scheduler.last_epoch == 1
    assert scheduler.get_last_lr() == [0.05, 0.015]
    assert [g["lr"] for g in optimizer.param_groups] == [0.05, 0.015]


def test_exponential_decay_down_to_a_minimum():
    scheduler = lr_scheduler.ExponentialLR(make_optimizer(), gamma=0.5, min_lr=[0.01, 0.001])
    for t, rates in enumerate(lr_sequence(scheduler, epochs=10)):
        assert rates == pytest.approx([max(0.1 * 0.5**t, 0.01), max(0.03 * 0.5**t, 0.001)])
    # a floor above the starting rate does not raise it
    scheduler = lr_scheduler.ExponentialLR(make_optimizer(), gamma=0.5, min_lr=0.05)
    assert lr_sequence(scheduler, epochs=3) == [[0.1, 0.03], [0.05, 0.03], [0.05, 0.03]]


def test_schedules_chain_on_one_optimizer():
    torch = pytest.importorskip("torch")

    def chained(module, optimizer):
        schedulers = [module.ExponentialLR(optimizer, gamma=0.9), module.StepLR(optimizer, 3)]
        rates = []
        for _ in range(10):
            optimizer.step()
            for scheduler in schedulers:
                scheduler.step()
            rates.append(schedulers[-1].get_last_lr())
        return rates

    ours = chained(lr_scheduler, make_optimizer())
    theirs = chained(torch.optim.lr_scheduler, make_torch_optimizer(torch))
    assert ours == theirs


# ---- ReduceLROnPlateau -----------------------------------------------------------------------

METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.8999, 0.91, 0.92, 0.7, 0.7, 0.7, 0.71, 0.69, 0.7]
METRICS += [0.7, 0.72, 0.73, 0.74, 0.75, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
PLATEAU_CASES = [
    {},
    {"patience": 2},
    {"patience": 0},
    {"patience": 1, "cooldown": 2},
    {"patience": 1, "factor": 0.5, "min_lr": 0.02},
    {"patience": 1, "factor": 0.5, "min_lr": [0.04, 0.001]},
    {"patience": 1, "threshold": 0.05},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"patience": 1, "mode": "max"},
    {"patience": 1, "mode": "max", "threshold": 0.02, "threshold_mode": "abs"},
    {"patience": 0, "factor": 0.9, "eps": 0.005},
]


@pytest.mark.parametrize("options", PLATEAU_CASES, ids=[str(c) for c in PLATEAU_CASES])
def test_reduce_on_plateau_matches_torch(options):
    torch = pytest.importorskip("torch")
    ours = lr_sequence(lr_scheduler.ReduceLROnPlateau(make_optimizer(), **options), 25, METRICS)
    theirs = lr_sequence(
        torch.optim.lr_scheduler.ReduceLROnPlateau(make_torch_optimizer(torch), **options),
        25,
        METRICS,
    )
    assert ours == theirs  # the same float operations: equal to the last bit


def test_reduce_on_plateau_by_hand():
    """patience=1: the rate drops after two epochs in a row without a 1% improvement; then
    cooldown=1 ignores one epoch."""
    optimizer = make_optimizer([1.0])
    scheduler = lr_scheduler.ReduceLROnPlateau(
        optimizer, patience=1, cooldown=1, factor=0.5, threshold=0.01
    )
    metrics = [10.0, 9.0, 8.95, 8.99, 8.0, 8.0, 8.0, 8.0, 8.0]
    # bad epochs:   0,   0,    1,    2→cut, 0(cool), 1, 2→cut, 0(cool), 1
    expected = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    rates = [scheduler.get_last_lr()[0]]
    for metric in metrics:
        scheduler.step(metric)
        rates.append(scheduler.get_last_lr()[0])
    assert rates == expected
    assert scheduler.best == 8.0 and scheduler.last_epoch == len(metrics)


def test_reduce_on_plateau_accepts_a_tensor_metric():
    scheduler = lr_scheduler.ReduceLROnPlateau(make_optimizer([1.0]), patience=0)
    scheduler.step(aprende.tensor(2.0))
    scheduler.step(aprende.tensor(3.0))
    assert scheduler.get_last_lr() == [0.1]


# ---- state dicts -----------------------------------------------------------------------------


class Warmup:
    """A callable object: its attributes are state, saved in LambdaLR's state dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


RESUMABLE = [
    ("StepLR", {"step_size": 3}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9]}),
    ("ExponentialLR", {"gamma": 0.8, "min_lr": 0.005}),
    ("CosineAnnealingLR", {"T_max": 6, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": [lambda epoch: 0.9**epoch, Warmup(4)]}),
    ("ReduceLROnPlateau", {"patience": 1, "cooldown": 1, "factor": 0.5}),
]


@pytest.mark.parametrize(("name", "options"), RESUMABLE, ids=[r[0] for r in RESUMABLE])
def test_resuming_from_state_dicts_continues_exactly(name, options):
    """Train 12 epochs straight, or 5 then save (through JSON, as a checkpoint does), rebuild
    optimizer and scheduler, load, and train 7 more: the same rates."""
    metrics = METRICS[:12]

    def step(scheduler, epoch):
        scheduler.optimizer.step()
        if name == "ReduceLROnPlateau":
            scheduler.step(metrics[epoch])
        else:
            scheduler.step()

    cls = getattr(lr_scheduler, name)
    straight = cls(make_optimizer(), **options)
    expected = []
    for epoch in range(12):
        step(straight, epoch)
        expected.append(straight.get_last_lr())

    first = cls(make_optimizer(), **options)
    for epoch in range(5):
        step(first, epoch)
    saved_scheduler = json.loads(json.dumps(first.state_dict()))
    saved_optimizer = json.loads(json.dumps(first.optimizer.state_dict()))
    assert "optimizer" not in saved_scheduler

    optimizer = make_optimizer()
    resumed = cls(optimizer, **options)  # construct the scheduler first, as in PyTorch
    optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    rates = [resumed.get_last_lr()]
    for epoch in range(5, 12):
        step(resumed, epoch)
        rates.append(resumed.get_last_lr())
    assert rates == expected[4:]


def test_lambda_state_dict_skips_functions_and_keeps_callable_objects():
    warmup = Warmup(4)
    scheduler = lr_scheduler.LambdaLR(make_optimizer(), [lambda epoch: 1.0, warmup])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"epochs": 4}]
    other = Warmup(10)
    fresh = lr_scheduler.LambdaLR(make_optimizer(), [lambda epoch: 1.0, other])
    fresh.load_state_dict(state)
    assert other.epochs == 4
    assert state["lr_lambdas"] == [None, {"epochs": 4}]  # the loaded dict is not consumed


def test_state_dict_matches_torch_keys():
    torch = pytest.importorskip("torch")
    ours = lr_scheduler.StepLR(make_optimizer(), step_size=2).state_dict()
    theirs = torch.optim.lr_scheduler.StepLR(make_torch_optimizer(torch), step_size=2)
    expected = set(theirs.state_dict()) - {"_get_lr_called_within_step"}
    assert set(ours) == expected
    plateau = lr_scheduler.ReduceLROnPlateau(make_optimizer()).state_dict()
    torch_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(make_torch_optimizer(torch))
    assert set(plateau) == set(torch_plateau.state_dict())


# ---- warnings and errors ---------------------------------------------------------------------


def test_warns_when_the_scheduler_steps_before_the_optimizer():
    scheduler = lr_scheduler.StepLR(make_optimizer(), step_size=2)
    with pytest.warns(UserWarning, match=r"`lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        scheduler.step()


def test_errors():
    optimizer = make_optimizer()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=2)
    with pytest.raises(TypeError, match="dict is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau({})
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(optimizer, step_size=0)
    with pytest.raises(ValueError, match="T_max must be > 0, got 0"):
        lr_scheduler.CosineAnnealingLR(optimizer, T_max=0)
    with pytest.raises(ValueError, match="min_lr must be >= 0, got -0.1"):
        lr_scheduler.ExponentialLR(optimizer, gamma=0.9, min_lr=-0.1)
    with pytest.raises(
        ValueError, match=r"expected 2 lr_lambdas \(one per parameter group\), got 3"
    ):
        lr_scheduler.LambdaLR(optimizer, [lambda e: 1.0] * 3)
    with pytest.raises(ValueError, match="Factor should be < 1.0, got 1.5"):
        lr_scheduler.ReduceLROnPlateau(optimizer, factor=1.5)
    with pytest.raises(ValueError, match=r"mode avg is unknown! \(expected 'min' or 'max'\)"):
        lr_scheduler.ReduceLROnPlateau(optimizer, mode="avg")
    with pytest.raises(ValueError, match="threshold mode relative is unknown!"):
        lr_scheduler.ReduceLROnPlateau(optimizer, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lrs .*, got 1"):
        lr_scheduler.ReduceLROnPlateau(optimizer, min_lr=[0.1])
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=4)


def test_plateau_min_lrs_must_follow_added_groups():
    optimizer = make_optimizer()
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    optimizer.add_param_group({"params": [aprende.zeros(1, requires_grad=True)]})
    scheduler.step(1.0)
    with pytest.raises(RuntimeError, match=r"param groups in the optimizer \(3\) differs"):
        scheduler.step(2.0)
    np.testing.assert_allclose(
        lr_scheduler.ReduceLROnPlateau(optimizer, min_lr=0.0).min_lrs, [0.0, 0.0, 0.0]
    )
