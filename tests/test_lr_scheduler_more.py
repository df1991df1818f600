"""ConstantLR, MultiplicativeLR, PolynomialLR, CyclicLR and ChainedScheduler against their
closed forms, written out below from the published schedules (not from the recursive updates
the code makes), plus chaining with other changes to the rate, resuming with last_epoch, and
the messages of the argument checks."""

import math

import pytest

import aprende
from aprende import optim
from aprende.optim import lr_scheduler

BASE_LRS = (0.1, 0.03)
EPOCHS = 45


def make_optimizer(name="SGD", lrs=BASE_LRS):
    """One parameter group per learning rate; SGD with momentum or Adam."""
    groups = [{"params": [aprende.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if name == "SGD":
        return optim.SGD(groups, lr=1.0, momentum=0.9)
    return optim.Adam(groups, lr=1.0)


def run(scheduler, epochs=EPOCHS):
    """The (rates, momentum of group 0) in force at each epoch of PyTorch's loop."""
    optimizer = scheduler.optimizer
    trace = []
    for _ in range(epochs):
        group = optimizer.param_groups[0]
        momentum = group["betas"][0] if "betas" in group else group["momentum"]
        trace.append((scheduler.get_last_lr(), momentum))
        optimizer.step()
        scheduler.step()
    return trace


def _polynomial(base, t, total=5, power=1.0):
    return base * (1 - min(t, total) / total) ** power


def _triangle(t, up, down):
    """0 → 1 → 0 over each cycle of up + down steps: the height of the rate's triangle wave."""
    position = t % (up + down)
    return position / up if position <= up else (up + down - position) / down


# Each row: aprende's class name, its arguments, and the closed form lr(base_lr, t).
SCHEDULES = [
    ("ConstantLR", {}, lambda base, t: base / 3 if t < 5 else base),
    (
        "ConstantLR",
        {"factor": 0.2, "total_iters": 12},
        lambda base, t: base * 0.2 if t < 12 else base,
    ),
    ("MultiplicativeLR", {"lr_lambda": lambda epoch: 0.9}, lambda base, t: base * 0.9**t),
    (
        "MultiplicativeLR",
        {"lr_lambda": lambda epoch: 1 - 0.01 * epoch},
        lambda base, t: base * math.prod(1 - 0.01 * k for k in range(1, t + 1)),
    ),
    ("PolynomialLR", {}, _polynomial),
    ("PolynomialLR", {"total_iters": 30, "power": 2.0}, lambda b, t: _polynomial(b, t, 30, 2.0)),
    ("PolynomialLR", {"total_iters": 17, "power": 0.7}, lambda b, t: _polynomial(b, t, 17, 0.7)),
]
SCHEDULE_IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(SCHEDULES)]


@pytest.mark.parametrize(("name", "options", "closed_form"), SCHEDULES, ids=SCHEDULE_IDS)
def test_sequence_follows_the_closed_form(name, options, closed_form):
    scheduler = getattr(lr_scheduler, name)(make_optimizer(), **options)
    for t, (rates, _) in enumerate(run(scheduler)):
        expected = [closed_form(base, t) for base in BASE_LRS]
        assert rates == pytest.approx(expected, rel=1e-12, abs=1e-15), f"epoch {t}"


@pytest.mark.parametrize(("name", "options", "closed_form"), SCHEDULES[:2] + SCHEDULES[4:])
def test_the_closed_form_method_agrees_with_the_steps(name, options, closed_form):
    scheduler = getattr(lr_scheduler, name)(make_optimizer(), **options)
    for t in range(EPOCHS):
        scheduler.last_epoch = t
        expected = [closed_form(base, t) for base in BASE_LRS]
        assert scheduler._get_closed_form_lr() == pytest.approx(expected, rel=1e-12, abs=1e-15)


CYCLES = [
    # mode, up, down, the amplitude's scale f at step t (cycle c = 1 + t // (up + down))
    ("triangular", 4, 4, lambda t, c: 1.0),
    ("triangular", 3, 7, lambda t, c: 1.0),
    ("triangular2", 5, 5, lambda t, c: 0.5 ** (c - 1)),
    ("triangular2", 2, 6, lambda t, c: 0.5 ** (c - 1)),
]


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize(("mode", "up", "down", "scale"), CYCLES)
def test_cyclic_follows_the_triangle_wave(mode, up, down, scale, optimizer_name):
    base_lrs, max_lrs = (0.01, 0.001), (0.1, 0.004)
    scheduler = lr_scheduler.CyclicLR(
        make_optimizer(optimizer_name),
        list(base_lrs),
        list(max_lrs),
        step_size_up=up,
        step_size_down=down,
        mode=mode,
        base_momentum=0.8,
        max_momentum=0.95,
    )
    for t, (rates, momentum) in enumerate(run(scheduler)):
        height = _triangle(t, up, down) * scale(t, 1 + t // (up + down))
        bounds = zip(base_lrs, max_lrs, strict=True)
        expected = [low + (high - low) * height for low, high in bounds]
        assert rates == pytest.approx(expected, rel=1e-12, abs=1e-15), f"step {t}"
        assert momentum == pytest.approx(0.95 - 0.15 * height, rel=1e-12), f"step {t}"


def test_cyclic_exp_range_scales_by_gamma_to_the_step():
    scheduler = lr_scheduler.CyclicLR(
        make_optimizer(), 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9
    )
    assert scheduler.scale_mode == "iterations"
    for t, (rates, _) in enumerate(run(scheduler)):
        expected = 0.01 + 0.09 * _triangle(t, 3, 3) * 0.9**t
        assert rates == pytest.approx([expected, expected], rel=1e-12), f"step {t}"


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_cyclic_custom_scale_fn_is_evaluated_on_the_scale_mode(scale_mode):
    scheduler = lr_scheduler.CyclicLR(
        make_optimizer(),
        0.02,
        0.2,
        step_size_up=2,
        step_size_down=3,
        mode="ignored when scale_fn is given",
        scale_fn=lambda x: 1 / (1 + x),
        scale_mode=scale_mode,
        cycle_momentum=False,
    )
    for t, (rates, momentum) in enumerate(run(scheduler)):
        x = 1 + t // 5 if scale_mode == "cycle" else t
        expected = 0.02 + 0.18 * _triangle(t, 2, 3) / (1 + x)
        assert rates == pytest.approx([expected, expected], rel=1e-12), f"step {t}"
        assert momentum == 0.9  # not cycled: SGD's own momentum stays


def test_cyclic_modes_fix_their_scale_mode():
    for mode, scale_mode in (("triangular", "cycle"), ("exp_range", "iterations")):
        for given in ("cycle", "iterations"):
            scheduler = lr_scheduler.CyclicLR(
                make_optimizer(), 0.01, 0.1, mode=mode, scale_mode=given
            )
            assert scheduler.scale_mode == scale_mode


def test_chained_scheduler_multiplies_the_factors():
    optimizer = make_optimizer()
    warmup = lr_scheduler.ConstantLR(optimizer, factor=0.1, total_iters=3)
    decay = lr_scheduler.PolynomialLR(optimizer, total_iters=20, power=2.0)
    scheduler = lr_scheduler.ChainedScheduler([warmup, decay])
    assert scheduler.optimizer is optimizer
    for t, (rates, _) in enumerate(run(scheduler, 25)):
        factor = (0.1 if t < 3 else 1.0) * (1 - min(t, 20) / 20) ** 2
        assert rates == pytest.approx([b * factor for b in BASE_LRS], rel=1e-12, abs=1e-16)
    assert warmup.last_epoch == decay.last_epoch == 25


def test_chained_state_dict_holds_each_schedulers_state():
    optimizer = make_optimizer()
    schedulers = [lr_scheduler.ConstantLR(optimizer), lr_scheduler.ExponentialLR(optimizer, 0.5)]
    chained = lr_scheduler.ChainedScheduler(schedulers)
    state = chained.state_dict()
    assert "optimizer" not in state
    assert state["_schedulers"] == [s.state_dict() for s in schedulers]


def test_the_chainable_schedules_carry_other_changes_to_the_rate():
    optimizer = make_optimizer(lrs=(0.1,))
    scheduler = lr_scheduler.PolynomialLR(optimizer, total_iters=4)
    optimizer.step()
    scheduler.step()  # 0.1 · 3/4
    optimizer.param_groups[0]["lr"] *= 10  # a change made outside the schedule
    optimizer.step()
    scheduler.step()  # the current rate times (2/4) / (3/4)
    assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.75 * 10 * (0.5 / 0.75)])


def test_resuming_with_last_epoch_continues_from_the_optimizers_rates():
    optimizer = make_optimizer(lrs=(0.1,))
    scheduler = lr_scheduler.MultiplicativeLR(optimizer, lambda epoch: 0.5)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    resumed = lr_scheduler.MultiplicativeLR(optimizer, lambda epoch: 0.5, last_epoch=3)
    assert resumed.get_last_lr() == [0.1 * 0.5**3]  # the initial step does not multiply
    assert resumed.base_lrs == [0.1]


def test_resuming_without_initial_lr_raises_key_error():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.PolynomialLR(make_optimizer(), last_epoch=4)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda o: lr_scheduler.ConstantLR(o, factor=2.0), ValueError, "ConstantLR.*got 2.0"),
        (
            lambda o: lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0, "0.5"]),
            TypeError,
            "MultiplicativeLR.*function.*str",
        ),
        (
            lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="cosine"),
            ValueError,
            "CyclicLR.*mode.*'cosine'",
        ),
        (
            lambda o: lr_scheduler.CyclicLR(o, [0.01], 0.1),
            ValueError,
            "2 base_lrs.*got 1",
        ),
        (lambda o: lr_scheduler.ChainedScheduler([]), ValueError, "ChainedScheduler.*no sched"),
        (
            lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]),
            ValueError,
            "ChainedScheduler.*ReduceLROnPlateau.*index 0",
        ),
        (
            lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(o), 3]),
            TypeError,
            "ChainedScheduler at index 1.*optimizer",
        ),
    ],
)
def test_bad_arguments_name_the_schedule_and_what_came(make, error, message):
    with pytest.raises(error, match=message):
        make(make_optimizer())


def test_cycling_momentum_on_adagrad_names_the_schedule():
    optimizer = optim.Adagrad([aprende.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="CyclicLR.*momentum or beta1.*Adagrad"):
        lr_scheduler.CyclicLR(optimizer, 0.01, 0.1)
