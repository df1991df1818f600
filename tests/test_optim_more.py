"""Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD against their published algorithms, each
update rule written out below in NumPy float64 (PyTorch's documented pseudocode), for every
option that changes the code path; state dicts (resuming continues exactly), argument checks,
and the flush of float32 denormals from decaying state."""

import copy

import numpy as np
import pytest
from test_optim import checkpoint_round_trip

import aprende
from aprende import optim
from aprende.optim.optimizer import FLUSH_EVERY

SHAPES = [(3, 4), (4,)]
STEPS = 8
TINY = float(np.finfo(np.float32).tiny)


# ---- the published algorithms, in float64 ----------------------------------------------------


def decayed_gradient(w, g, weight_decay, maximize, decoupled=False, lr=0.0):
    """(w, g) after the weight decay: decoupled shrinks w, L2 adds λw to g."""
    g = -g if maximize else g
    if decoupled:
        return w * (1 - lr * weight_decay), g
    return w, g + weight_decay * w


def adadelta_reference(w, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
    trajectory, v, u = [], np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        w, g = decayed_gradient(w, g, weight_decay, maximize)
        v = rho * v + (1 - rho) * g**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        w = w - lr * delta
        trajectory.append(w)
    return trajectory


def adamax_reference(
    w, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False
):
    (beta1, beta2), trajectory = betas, []
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        w, g = decayed_gradient(w, g, weight_decay, maximize)
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g) + eps)
        w = w - lr / (1 - beta1**t) * m / u
        trajectory.append(w)
    return trajectory


def nadam_reference(
    w,
    grads,
    lr=2e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    maximize=False,
):
    (beta1, beta2), trajectory = betas, []
    m, v, mu_product = np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(grads, 1):
        w, g = decayed_gradient(w, g, weight_decay, maximize, decoupled_weight_decay, lr)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product *= mu
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_hat = v / (1 - beta2**t)
        nesterov_m = (1 - mu) / (1 - mu_product) * g + mu_next / (1 - mu_product * mu_next) * m
        w = w - lr * nesterov_m / (np.sqrt(v_hat) + eps)
        trajectory.append(w)
    return trajectory


def radam_reference(
    w,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    decoupled_weight_decay=False,
    maximize=False,
):
    (beta1, beta2), trajectory = betas, []
    m, v = np.zeros_like(w), np.zeros_like(w)
    rho_inf = 2 / (1 - beta2) - 1
    for t, g in enumerate(grads, 1):
        w, g = decayed_gradient(w, g, weight_decay, maximize, decoupled_weight_decay, lr)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho_t > 5:
            rect = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            adaptive_lr = np.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)  # ε before bias-correcting
            w = w - lr * m_hat * adaptive_lr * rect
        else:
            w = w - lr * m_hat
        trajectory.append(w)
    return trajectory


def rprop_reference(w, grads, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    (eta_minus, eta_plus), (low, high) = etas, step_sizes
    trajectory, prev, delta = [], np.zeros_like(w), np.full_like(w, lr)
    for g in grads:
        g = -g if maximize else g
        same_sign, flipped = g * prev > 0, g * prev < 0
        factor = np.where(same_sign, eta_plus, np.where(flipped, eta_minus, 1.0))
        delta = np.clip(delta * factor, low, high)
        g = np.where(flipped, 0.0, g)
        w = w - np.sign(g) * delta
        prev = g
        trajectory.append(w)
    return trajectory


def asgd_reference(
    w, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, maximize=False
):
    """The weights after each step, and the averaged weights w̄ at the end."""
    trajectory, eta, average = [], lr, None
    for t, g in enumerate(grads, 1):
        w, g = decayed_gradient(w, g, weight_decay, maximize)
        w = (1 - lambd * eta) * w - eta * g
        # w̄ = w up to step t₀ + 2, then the mean of the weights from that step on
        mu = 1 / max(1, t - 1 - t0)
        average = w if mu == 1 else average + mu * (w - average)
        eta = lr / (1 + lambd * lr * t) ** alpha
        trajectory.append(w)
    return trajectory, average


REFERENCES = {
    "Adadelta": adadelta_reference,
    "Adamax": adamax_reference,
    "NAdam": nadam_reference,
    "RAdam": radam_reference,
    "Rprop": rprop_reference,
    "ASGD": lambda *args, **kwargs: asgd_reference(*args, **kwargs)[0],
}

CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 0.1}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 0.1, "momentum_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.99)}),  # rectified from step 6 on
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "eps": 0.1}),  # never rectified
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.99), "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5)}),
    ("Rprop", {"lr": 0.1, "step_sizes": (0.05, 0.2)}),  # both bounds reached
    ("Rprop", {"lr": 0.1, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.1, "lambd": 0.1, "alpha": 0.5, "t0": 3}),
    ("ASGD", {"lr": 0.1, "t0": 0, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.1, "t0": 2.5, "weight_decay": 0.1, "maximize": True}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in CASES]


def make_problem(seed: int = 0, steps: int = STEPS):
    """Float32 starting weights and ``steps`` read-only gradients for each of them. Every
    other step repeats the previous gradient with some signs flipped, so Rprop sees its
    steps both grow and shrink."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    grads = []
    for step in range(steps):
        if step % 2:
            signs = [rng.choice([-1.0, 1.0], shape) for shape in SHAPES]
            new = [(g * s).astype(np.float32) for g, s in zip(grads[-1], signs, strict=True)]
        else:
            new = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
        for g in new:
            g.flags.writeable = False
        grads.append(new)
    return weights, grads


def run_aprende(name, options, weights, grads, device="cpu"):
    """The optimizer and the weights after each step (on the host), one list per step."""
    params = [aprende.tensor(w.copy(), requires_grad=True, device=device) for w in weights]
    optimizer = getattr(optim, name)(params, **options)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = aprende.tensor(g, device=device) if device != "cpu" else aprende.Tensor(g)
        optimizer.step()
        trajectory.append([p.detach().cpu().numpy().copy() for p in params])
    return optimizer, trajectory


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_matches_published_algorithm(device, name, options):
    weights, grads = make_problem()
    _, ours = run_aprende(name, options, weights, grads, device)
    for i, w in enumerate(weights):
        param_grads = [step[i].astype(np.float64) for step in grads]
        expected = REFERENCES[name](w.astype(np.float64), param_grads, **options)
        for step, (got, want) in enumerate(zip(ours, expected, strict=True)):
            np.testing.assert_allclose(
                got[i], want, rtol=1e-5, atol=1e-6, err_msg=f"param {i}, step {step + 1}"
            )


@pytest.mark.parametrize("t0", [0, 3, 1e6])
def test_asgd_averages_the_weights_after_t0(t0):
    weights, grads = make_problem(seed=3)
    optimizer, _ = run_aprende("ASGD", {"lr": 0.1, "t0": t0}, weights, grads)
    for p, w, i in zip(optimizer.param_groups[0]["params"], weights, range(2), strict=True):
        param_grads = [step[i].astype(np.float64) for step in grads]
        trajectory, average = asgd_reference(w.astype(np.float64), param_grads, lr=0.1, t0=t0)
        start = min(int(t0) + 1, STEPS - 1)  # the index of step t₀ + 2
        np.testing.assert_allclose(np.mean(trajectory[start:], axis=0), average, rtol=1e-12)
        np.testing.assert_allclose(optimizer.state[p]["ax"].numpy(), average, rtol=1e-5)


def test_rprop_step_sizes_grow_shrink_and_stay_in_bounds():
    p = aprende.tensor([0.0, 0.0, 0.0], requires_grad=True)
    optimizer = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.02, 0.3))
    expected_sizes = [[0.1, 0.1, 0.1], [0.2, 0.05, 0.1], [0.3, 0.05, 0.05], [0.3, 0.1, 0.05]]
    # per entry: always + (up to the bound 0.3); + − + + (a flip halves the step, no step, and
    # the next step keeps the size); 0 − + − (no growth from a zero product)
    for g, sizes in zip(
        [[1.0, 1.0, 0.0], [1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [1.0, 1.0, -1.0]],
        expected_sizes,
        strict=True,
    ):
        p.grad = aprende.tensor(g)
        optimizer.step()
        np.testing.assert_allclose(optimizer.state[p]["step_size"].numpy(), sizes, rtol=1e-6)
    np.testing.assert_allclose(p.detach().numpy(), [-0.9, -0.25, 0.15], rtol=1e-6)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_float64_parameters_stay_float64(name):
    p = aprende.tensor(np.arange(4.0), requires_grad=True)
    optimizer = getattr(optim, name)([p], lr=0.1)
    p.grad = aprende.tensor(np.ones(4))
    optimizer.step()
    assert p.dtype == np.float64
    for value in optimizer.state[p].values():
        if isinstance(value, aprende.Tensor):
            assert value.dtype == np.float64


# ---- state dict ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("snapshot", ["deepcopy", "checkpoint"])
def test_resuming_from_a_state_dict_continues_exactly(name, options, snapshot):
    weights, grads = make_problem(seed=1)
    _, uninterrupted = run_aprende(name, options, weights, grads)
    grads = [[aprende.Tensor(g) for g in step] for step in grads]
    params = [aprende.tensor(w.copy(), requires_grad=True) for w in weights]
    optimizer = getattr(optim, name)(params, **options)
    for step_grads in grads[:5]:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = g
        optimizer.step()
    saved_weights = [p.detach().numpy().copy() for p in params]
    state = optimizer.state_dict()
    state = copy.deepcopy(state) if snapshot == "deepcopy" else checkpoint_round_trip(state)
    for p, g in zip(params, grads[5], strict=True):  # the old optimizer goes on: no aliasing
        p.grad = g
    optimizer.step()

    resumed = [aprende.tensor(w, requires_grad=True) for w in saved_weights]
    optimizer = getattr(optim, name)(resumed, lr=123.0)  # hyperparameters come from the state
    optimizer.load_state_dict(state)
    for step_grads in grads[5:]:
        for p, g in zip(resumed, step_grads, strict=True):
            p.grad = g
        optimizer.step()
    for got, want in zip(resumed, uninterrupted[-1], strict=True):
        np.testing.assert_array_equal(got.detach().numpy(), want)


@pytest.mark.parametrize(("name", "scalars"), [("NAdam", {"mu_product"}), ("ASGD", {"eta", "mu"})])
def test_scalar_state_is_python_floats(name, scalars):
    p = aprende.tensor([1.0, 2.0], requires_grad=True)
    optimizer = getattr(optim, name)([p])
    p.grad = aprende.tensor([1.0, 1.0])
    optimizer.step()
    state = optimizer.state_dict()["state"][0]
    assert {key for key, value in state.items() if type(value) is float} == scalars
    assert type(state["step"]) is int


# ---- argument validation ---------------------------------------------------------------------

INVALID = [
    ("Adadelta", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5 (expected 0 <= rho <= 1)"),
    ("Adadelta", {"rho": -0.1}, "Invalid rho value: -0.1 (expected 0 <= rho <= 1)"),
    ("Adadelta", {"eps": -1e-6}, "Invalid epsilon value: -1e-06 (expected eps >= 0)"),
    (
        "Adadelta",
        {"weight_decay": -1},
        "Invalid weight_decay value: -1 (expected weight_decay >= 0)",
    ),
    ("Adamax", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    ("Adamax", {"eps": -1.0}, "Invalid epsilon value: -1.0 (expected eps >= 0)"),
    (
        "Adamax",
        {"betas": (1.0, 0.9)},
        "Invalid beta parameter at index 0: 1.0 (expected 0 <= beta < 1)",
    ),
    (
        "Adamax",
        {"weight_decay": -1},
        "Invalid weight_decay value: -1 (expected weight_decay >= 0)",
    ),
    ("NAdam", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    (
        "NAdam",
        {"betas": (0.9, 1.0)},
        "Invalid beta parameter at index 1: 1.0 (expected 0 <= beta < 1)",
    ),
    (
        "NAdam",
        {"momentum_decay": -1.0},
        "Invalid momentum_decay value: -1.0 (expected momentum_decay >= 0)",
    ),
    (
        "NAdam",
        {"weight_decay": -1.0, "momentum_decay": -1.0},
        "Invalid weight_decay value: -1.0 (expected weight_decay >= 0)",
    ),
    ("RAdam", {"eps": -1.0}, "Invalid epsilon value: -1.0 (expected eps >= 0)"),
    (
        "RAdam",
        {"betas": (-0.1, 0.9)},
        "Invalid beta parameter at index 0: -0.1 (expected 0 <= beta < 1)",
    ),
    (
        "RAdam",
        {"weight_decay": -0.1},
        "Invalid weight_decay value: -0.1 (expected weight_decay >= 0)",
    ),
    ("Rprop", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    (
        "Rprop",
        {"etas": (1.5, 1.2)},
        "Invalid eta values: 1.5, 1.2 (expected 0 < etaminus < 1 < etaplus)",
    ),
    (
        "Rprop",
        {"etas": (0.5, 1.0)},
        "Invalid eta values: 0.5, 1.0 (expected 0 < etaminus < 1 < etaplus)",
    ),
    (
        "Rprop",
        {"etas": (0.0, 1.2)},
        "Invalid eta values: 0.0, 1.2 (expected 0 < etaminus < 1 < etaplus)",
    ),
    ("ASGD", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    (
        "ASGD",
        {"weight_decay": -1.0},
        "Invalid weight_decay value: -1.0 (expected weight_decay >= 0)",
    ),
]


@pytest.mark.parametrize(("name", "options", "message"), INVALID)
def test_invalid_arguments(name, options, message):
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=f"^{__import__('re').escape(message)}$"):
        getattr(optim, name)([p], **options)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_arguments_are_checked_before_the_parameters(name):
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        getattr(optim, name)(p, lr=-1.0)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("Adadelta", {"lr": 0, "rho": 0.0, "eps": 0, "weight_decay": 0}),
        ("Adadelta", {"rho": 1.0}),
        ("Adamax", {"lr": 0, "betas": (0.0, 0.0), "eps": 0, "weight_decay": 0}),
        ("NAdam", {"lr": 0, "betas": (0.0, 0.0), "eps": 0, "momentum_decay": 0}),
        ("RAdam", {"lr": 0, "betas": (0.0, 0.0), "eps": 0, "weight_decay": 0}),
        ("Rprop", {"lr": 0, "etas": (1e-9, 1.0000001)}),
        ("ASGD", {"lr": 0, "weight_decay": 0, "lambd": -1.0, "alpha": -1.0, "t0": -1.0}),
    ],
)
def test_values_at_the_edge_of_each_range_pass(name, options):
    p = aprende.tensor([1.0], requires_grad=True)
    optimizer = getattr(optim, name)([p], **options)
    assert {key: optimizer.defaults[key] for key in options} == options


# ---- float32 denormals -----------------------------------------------------------------------

DECAYING = [
    ("Adadelta", {}, {"square_avg": True, "acc_delta": True}),
    ("Adamax", {}, {"exp_avg": False}),
    ("NAdam", {}, {"exp_avg": False, "exp_avg_sq": True}),
    ("RAdam", {}, {"exp_avg": False, "exp_avg_sq": True}),
]


@pytest.mark.parametrize(("name", "options", "buffers"), DECAYING, ids=[d[0] for d in DECAYING])
def test_tiny_state_is_flushed_to_zero(name, options, buffers):
    p = aprende.tensor([1.0, 1.0, 1.0, 1.0, 1.0], requires_grad=True)
    optimizer = getattr(optim, name)([p], **options)
    p.grad = aprende.tensor([1.0, 1.0, 1.0, 1.0, 1.0])
    optimizer.step()
    optimizer.state[p]["step"] = FLUSH_EVERY - 2  # the step after next is a flushing one
    # denormals; the smallest normals, which a decay by β >= 0.9 makes denormal; a normal value
    tiny_values = np.array([1e-39, -1e-39, TINY * 1.0005, -TINY * 1.0005, 1e-3], np.float32)
    for key, nonnegative in buffers.items():
        optimizer.state[p][key].data[...] = np.abs(tiny_values) if nonnegative else tiny_values
    p.grad = aprende.zeros(5)
    optimizer.step()
    for key in buffers:  # not a flushing step: denormals decay in place
        assert np.all(optimizer.state[p][key].numpy()[:2] != 0), key
    optimizer.step()
    for key in buffers:
        buffer = optimizer.state[p][key].numpy()
        np.testing.assert_array_equal(buffer[:4], 0.0, err_msg=key)
        assert abs(buffer[4]) > 1e-4, key  # a normal value is left alone
