"""LinearLR, OneCycleLR, CosineAnnealingWarmRestarts and SequentialLR against
``torch.optim.lr_scheduler``: the rate (and cycled momentum) at every step of the same loop, for
several settings and both SGD and Adam, and a state dict saved mid-way that resumes the same
sequence."""

import json

import pytest

import aprende
from aprende import optim
from aprende.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 30


def _optimizer(ns, name: str):
    """One parameter group at lr 0.1, another at 0.02, in ``ns`` (aprende or torch)."""
    groups = [{"params": [ns.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)]
    for group in groups:
        group["params"][0].grad = ns.zeros(2)
    if name == "SGD":
        return ns.optim.SGD(groups, lr=1.0, momentum=0.9)
    return ns.optim.Adam(groups, lr=1.0)


# Each row: how to build the schedule from a module of schedulers M (aprende's or torch's).
SCHEDULES = {
    "linear-default": lambda M, o: M.LinearLR(o),
    "linear-decay": lambda M, o: M.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=7),
    "linear-long": lambda M, o: M.LinearLR(o, start_factor=0.01, total_iters=40),
    "onecycle": lambda M, o: M.OneCycleLR(o, max_lr=0.5, total_steps=STEPS),
    "onecycle-per-group": lambda M, o: M.OneCycleLR(
        o, max_lr=[0.5, 0.2], epochs=3, steps_per_epoch=10, pct_start=0.25, div_factor=10.0
    ),
    "onecycle-linear-3phase": lambda M, o: M.OneCycleLR(
        o, 0.3, total_steps=STEPS, anneal_strategy="linear", three_phase=True
    ),
    "onecycle-no-momentum": lambda M, o: M.OneCycleLR(
        o, 0.3, total_steps=STEPS + 5, cycle_momentum=False, final_div_factor=100.0
    ),
    "warm-restarts": lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=7),
    "warm-restarts-mult": lambda M, o: M.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=1e-3),
    "sequential-warmup-cosine": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, 0.1, total_iters=5), M.CosineAnnealingLR(o, 20)], milestones=[5]
    ),
    "sequential-three": lambda M, o: M.SequentialLR(
        o,
        [M.ExponentialLR(o, 0.9), M.StepLR(o, 3, 0.5), M.LinearLR(o, 0.2, total_iters=4)],
        milestones=[4, 12],
    ),
    "sequential-multistep-restarts": lambda M, o: M.SequentialLR(
        o, [M.MultiStepLR(o, [2, 4]), M.CosineAnnealingWarmRestarts(o, 5)], milestones=[8]
    ),
}


def _trace(ns, module, make, optimizer_name: str, steps=STEPS):
    """(lrs, momentum of group 0) before the loop and after each optimizer.step + scheduler.step."""
    optimizer = _optimizer(ns, optimizer_name)
    scheduler = make(module, optimizer)

    def momentum():
        group = optimizer.param_groups[0]
        return group["betas"][0] if "betas" in group else group["momentum"]

    trace = [(scheduler.get_last_lr(), momentum())]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        trace.append((scheduler.get_last_lr(), momentum()))
    return trace


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_the_rates_and_momenta_equal_torchs(name, optimizer_name):
    make = SCHEDULES[name]
    ours = _trace(aprende, lr_scheduler, make, optimizer_name)
    reference = _trace(torch, torch.optim.lr_scheduler, make, optimizer_name)
    for step, ((lrs, momentum), (torch_lrs, torch_momentum)) in enumerate(
        zip(ours, reference, strict=True)
    ):
        assert lrs == pytest.approx(torch_lrs, rel=1e-12, abs=1e-15), f"step {step}"
        assert momentum == pytest.approx(torch_momentum, rel=1e-12), f"step {step}"


def test_onecycle_past_total_steps_raises_as_torch():
    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        optimizer = _optimizer(ns, "SGD")
        scheduler = module.OneCycleLR(optimizer, 0.1, total_steps=3)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            scheduler.step()


def test_warm_restarts_with_fractional_epochs_equals_torch():
    epochs = [e + i / 4 for e in range(6) for i in range(4)]
    rates = {}
    for ns, module in ((aprende, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        optimizer = _optimizer(ns, "SGD")
        scheduler = module.CosineAnnealingWarmRestarts(optimizer, 2, T_mult=2, eta_min=0.001)
        rates[ns.__name__] = []
        for epoch in epochs:
            optimizer.step()
            scheduler.step(epoch)
            rates[ns.__name__].append(scheduler.get_last_lr())
    for ours, reference in zip(rates["aprende"], rates["torch"], strict=True):
        assert ours == pytest.approx(reference, rel=1e-12)


@pytest.mark.parametrize("name", SCHEDULES)
def test_a_state_dict_saved_mid_way_resumes_the_same_sequence(name):
    make = SCHEDULES[name]
    expected = _trace(aprende, lr_scheduler, make, "SGD")
    optimizer = _optimizer(aprende, "SGD")
    scheduler = make(lr_scheduler, optimizer)
    for _ in range(11):
        optimizer.step()
        scheduler.step()
    saved_optimizer = optimizer.state_dict()
    saved = json.loads(json.dumps(scheduler.state_dict()))  # what a checkpoint's sidecar holds

    fresh_optimizer = _optimizer(aprende, "SGD")
    fresh = make(lr_scheduler, fresh_optimizer)
    fresh_optimizer.load_state_dict(saved_optimizer)
    fresh.load_state_dict(saved)
    assert fresh.get_last_lr() == expected[11][0]
    for step in range(12, STEPS + 1):
        fresh_optimizer.step()
        fresh.step()
        assert fresh.get_last_lr() == expected[step][0], f"step {step}"


@pytest.mark.parametrize("name", ["linear-default", "onecycle", "warm-restarts"])
def test_state_dict_keys_equal_torchs(name):
    make = SCHEDULES[name]
    ours = make(lr_scheduler, _optimizer(aprende, "SGD")).state_dict()
    reference = make(torch.optim.lr_scheduler, _optimizer(torch, "SGD")).state_dict()
    flags = {"_is_initial", "_get_lr_called_within_step"}  # PyTorch's guards of get_lr()
    assert set(ours) - flags == set(reference) - flags
    assert ours["last_epoch"] == reference["last_epoch"]
    assert ours["base_lrs"] == pytest.approx(reference["base_lrs"])


def test_an_optimizer_without_momentum_cannot_cycle_it():
    optimizer = optim.Adagrad([aprende.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10)
    lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10, cycle_momentum=False)
