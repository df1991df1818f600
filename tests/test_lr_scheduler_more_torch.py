"""ConstantLR, MultiplicativeLR, PolynomialLR, CyclicLR and ChainedScheduler against
``torch.optim.lr_scheduler``: the rates (and the cycled momentum) after each of 40 steps of the
same loop on SGD with momentum and on Adam, get_last_lr(), a state dict saved mid-way that resumes
the same sequence, the state dict's keys, and the errors PyTorch raises for bad arguments."""

import json

import pytest

torch = pytest.importorskip("torch")

import aprende  # noqa: E402 - after the skip: the file needs torch
from aprende.optim import lr_scheduler  # noqa: E402

STEPS = 40


def _optimizer(ns, name: str):
    """One parameter group at lr 0.1, another at 0.02, in ``ns`` (aprende or torch)."""
    groups = [{"params": [ns.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    for group in groups:
        group["params"][0].grad = ns.zeros(2)
    if name == "SGD":
        return ns.optim.SGD(groups, lr=1.0, momentum=0.9)
    return ns.optim.Adam(groups, lr=1.0, betas=(0.9, 0.99))


class HalfEvery:
    """A callable object (its state, ``calls``, goes into the state dict): 0.5 every k-th epoch."""

    def __init__(self, k):
        self.k = k
        self.calls = 0

    def __call__(self, epoch):
        self.calls += 1
        return 0.5 if epoch % self.k == 0 else 1.0


# Each row: how to build the schedule from a module of schedulers M (aprende's or torch's).
SCHEDULES = {
    "constant-default": lambda M, o: M.ConstantLR(o),
    "constant-quarter-10": lambda M, o: M.ConstantLR(o, factor=0.25, total_iters=10),
    "constant-one": lambda M, o: M.ConstantLR(o, factor=1.0, total_iters=3),
    "multiplicative": lambda M, o: M.MultiplicativeLR(o, lambda epoch: 0.95),
    "multiplicative-per-group": lambda M, o: M.MultiplicativeLR(
        o, [lambda epoch: 0.9 + 0.001 * epoch, HalfEvery(7)]
    ),
    "polynomial-default": lambda M, o: M.PolynomialLR(o),
    "polynomial-square-20": lambda M, o: M.PolynomialLR(o, total_iters=20, power=2.0),
    "polynomial-sqrt-50": lambda M, o: M.PolynomialLR(o, total_iters=50, power=0.5),
    "cyclic-triangular": lambda M, o: M.CyclicLR(o, 0.01, 0.1, step_size_up=5),
    "cyclic-triangular-asym-per-group": lambda M, o: M.CyclicLR(
        o, [0.01, 0.002], [0.1, 0.05], step_size_up=3, step_size_down=7
    ),
    "cyclic-triangular2": lambda M, o: M.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, mode="triangular2", base_momentum=0.7, max_momentum=0.95
    ),
    "cyclic-exp-range": lambda M, o: M.CyclicLR(
        o, 0.01, 0.1, step_size_up=4, step_size_down=2, mode="exp_range", gamma=0.95
    ),
    "cyclic-scale-fn-cycle": lambda M, o: M.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda c: 1 / c
    ),
    "cyclic-scale-fn-iterations": lambda M, o: M.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda t: 0.99**t, scale_mode="iterations"
    ),
    "cyclic-no-momentum": lambda M, o: M.CyclicLR(
        o, 0.02, 0.2, step_size_up=6, cycle_momentum=False
    ),
    "cyclic-momentum-per-group": lambda M, o: M.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, base_momentum=[0.8, 0.6], max_momentum=[0.9, 0.85]
    ),
    "chained-constant-exponential": lambda M, o: M.ChainedScheduler(
        [M.ConstantLR(o, factor=0.1, total_iters=4), M.ExponentialLR(o, gamma=0.9)]
    ),
    "chained-three-with-optimizer": lambda M, o: M.ChainedScheduler(
        [M.LinearLR(o, 0.2, total_iters=6), M.StepLR(o, 5, 0.5), M.PolynomialLR(o, 30, 1.5)],
        optimizer=o,
    ),
    "chained-in-sequential": lambda M, o: M.SequentialLR(
        o,
        [
            M.ChainedScheduler([M.ConstantLR(o, 0.5, 3), M.MultiplicativeLR(o, lambda e: 0.97)]),
            M.PolynomialLR(o, total_iters=10),
        ],
        milestones=[8],
    ),
    "sequential-constant-then-polynomial": lambda M, o: M.SequentialLR(
        o, [M.ConstantLR(o, 0.1, total_iters=5), M.PolynomialLR(o, 20, 2.0)], milestones=[5]
    ),
}


def _momentum(optimizer, group=0):
    group = optimizer.param_groups[group]
    return group["betas"][0] if "betas" in group else group["momentum"]


def _trace(ns, module, make, optimizer_name: str, steps=STEPS):
    """(lrs, group lrs, momenta) before the loop and after each optimizer.step + scheduler.step."""
    optimizer = _optimizer(ns, optimizer_name)
    scheduler = make(module, optimizer)

    def state():
        groups = [group["lr"] for group in optimizer.param_groups]
        return scheduler.get_last_lr(), groups, [_momentum(optimizer, i) for i in range(2)]

    trace = [state()]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        trace.append(state())
    return trace


# a ChainedScheduler inside a SequentialLR steps its schedulers at construction: both warn
@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_the_rates_and_momenta_equal_torchs(name, optimizer_name):
    make = SCHEDULES[name]
    ours = _trace(aprende, lr_scheduler, make, optimizer_name)
    reference = _trace(torch, torch.optim.lr_scheduler, make, optimizer_name)
    for step, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        for got, expected in zip(mine, theirs, strict=True):
            assert got == pytest.approx(expected, rel=1e-13, abs=1e-16), f"step {step}"


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize("name", SCHEDULES)
def test_a_state_dict_saved_mid_way_resumes_the_same_sequence(name):
    make = SCHEDULES[name]
    expected = _trace(aprende, lr_scheduler, make, "SGD")
    optimizer = _optimizer(aprende, "SGD")
    scheduler = make(lr_scheduler, optimizer)
    for _ in range(13):
        optimizer.step()
        scheduler.step()
    saved_optimizer = optimizer.state_dict()
    saved = json.loads(json.dumps(scheduler.state_dict()))  # what a checkpoint's sidecar holds

    fresh_optimizer = _optimizer(aprende, "SGD")
    fresh = make(lr_scheduler, fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved)
    assert fresh.get_last_lr() == expected[13][0]
    for step in range(14, STEPS + 1):
        fresh_optimizer.step()
        fresh.step()
        assert fresh.get_last_lr() == expected[step][0], f"step {step}"
        assert _momentum(fresh_optimizer) == expected[step][2][0], f"step {step}"


FLAGS = {"_is_initial", "_get_lr_called_within_step"}  # PyTorch's guards of get_lr()


@pytest.mark.parametrize(
    "name",
    [
        "constant-default",
        "multiplicative-per-group",
        "polynomial-default",
        "cyclic-triangular",
        "cyclic-scale-fn-cycle",
        "chained-three-with-optimizer",
    ],
)
def test_state_dict_keys_equal_torchs(name):
    make = SCHEDULES[name]
    ours = make(lr_scheduler, _optimizer(aprende, "SGD")).state_dict()
    reference = make(torch.optim.lr_scheduler, _optimizer(torch, "SGD")).state_dict()
    # PyTorch's CyclicLR drops the bound method it keeps in _scale_fn_ref; aprende keeps none
    assert set(ours) - FLAGS == set(reference) - FLAGS
    for key in ("last_epoch", "base_lrs", "lr_lambdas", "_scale_fn_custom"):
        if key in reference:
            assert ours[key] == reference[key], key
    if "_schedulers" in reference:
        for mine, theirs in zip(ours["_schedulers"], reference["_schedulers"], strict=True):
            assert set(mine) - FLAGS == set(theirs) - FLAGS


def test_a_callable_scale_fn_object_keeps_its_state_as_torch():
    class Decay:
        def __init__(self):
            self.rate = 0.9

        def __call__(self, cycle):
            return self.rate**cycle

    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        scheduler = module.CyclicLR(_optimizer(ns, "SGD"), 0.01, 0.1, 3, scale_fn=Decay())
        assert scheduler.state_dict()["_scale_fn_custom"] == {"rate": 0.9}
        scheduler._scale_fn_custom.rate = 0.5
        other = module.CyclicLR(_optimizer(ns, "SGD"), 0.01, 0.1, 3, scale_fn=Decay())
        other.load_state_dict(scheduler.state_dict())
        assert other._scale_fn_custom.rate == 0.5


def test_cyclic_construction_sets_the_rates_and_momenta_as_torch():
    for optimizer_name in ("SGD", "Adam"):
        ours = _optimizer(aprende, optimizer_name)
        theirs = _optimizer(torch, optimizer_name)
        lr_scheduler.CyclicLR(ours, [0.03, 0.01], 0.3, base_momentum=0.5, max_momentum=0.7)
        torch.optim.lr_scheduler.CyclicLR(
            theirs, [0.03, 0.01], 0.3, base_momentum=0.5, max_momentum=0.7
        )
        for mine, reference in zip(ours.param_groups, theirs.param_groups, strict=True):
            for key in ("lr", "initial_lr", "max_momentum", "base_momentum", "momentum", "betas"):
                assert mine.get(key) == reference.get(key), key


# Each row: a bad construction (on SGD with momentum, two groups) and the type PyTorch raises.
BAD_ARGUMENTS = {
    "constant-factor-above-1": (lambda M, o: M.ConstantLR(o, factor=1.5), ValueError),
    "constant-factor-negative": (lambda M, o: M.ConstantLR(o, factor=-0.1), ValueError),
    "multiplicative-not-callable": (lambda M, o: M.MultiplicativeLR(o, 0.9), TypeError),
    "multiplicative-wrong-count": (
        lambda M, o: M.MultiplicativeLR(o, [lambda e: 1.0] * 3),
        ValueError,
    ),
    "cyclic-bad-mode": (lambda M, o: M.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError),
    "cyclic-base-lr-count": (lambda M, o: M.CyclicLR(o, [0.01] * 3, 0.1), ValueError),
    "cyclic-max-lr-count": (lambda M, o: M.CyclicLR(o, 0.01, [0.1]), ValueError),
    "cyclic-momentum-count": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8, 0.8, 0.8]),
        ValueError,
    ),
    "cyclic-not-an-optimizer": (lambda M, o: M.CyclicLR([o], 0.01, 0.1), TypeError),
    "cyclic-zero-cycle": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, step_size_up=0, step_size_down=0),
        ZeroDivisionError,
    ),
    "chained-empty": (lambda M, o: M.ChainedScheduler([]), ValueError),
    "chained-plateau": (
        lambda M, o: M.ChainedScheduler([M.ExponentialLR(o, 0.9), M.ReduceLROnPlateau(o)]),
        ValueError,
    ),
    "chained-not-a-scheduler": (
        lambda M, o: M.ChainedScheduler([M.ExponentialLR(o, 0.9), object()]),
        TypeError,
    ),
}


@pytest.mark.parametrize("name", BAD_ARGUMENTS)
def test_bad_arguments_raise_what_torch_raises(name):
    make, error = BAD_ARGUMENTS[name]
    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        with pytest.raises(error):
            make(module, _optimizer(ns, "SGD"))


def test_chained_schedulers_on_another_optimizer_raise_as_torch():
    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        first, second = _optimizer(ns, "SGD"), _optimizer(ns, "SGD")
        schedulers = [module.ConstantLR(first), module.ExponentialLR(second, 0.9)]
        with pytest.raises(ValueError, match="same optimizer"):
            module.ChainedScheduler(schedulers)
        with pytest.raises(ValueError, match="same optimizer"):
            module.ChainedScheduler(schedulers[:1], optimizer=second)


def test_cycling_momentum_needs_an_optimizer_with_one_as_torch():
    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        optimizer = ns.optim.Adagrad([ns.zeros(2, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match="momentum or beta1"):
            module.CyclicLR(optimizer, 0.01, 0.1)
        module.CyclicLR(optimizer, 0.01, 0.1, cycle_momentum=False)
