"""Optimizers against their published algorithms (written out below in NumPy float64) and
against ``torch.optim`` (same float32 weights, same gradients), for every option; param groups,
zero_grad, closures, state dicts (resuming continues exactly), argument checks, and the flush of
float32 denormals from decaying state."""

import copy
import functools
import json

import numpy as np
import pytest

import aprende
from aprende import optim
from aprende.optim.optimizer import FLUSH_EVERY

SHAPES = [(3, 4), (4,)]
STEPS = 6
TINY = float(np.finfo(np.float32).tiny)


# ---- the published algorithms, in float64 (REFERENCE-FORMULAS.md, PyTorch's docs) -----------


def sgd_reference(
    w, grads, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False
):
    trajectory, b = [], None
    for g in grads:
        g = (-g if maximize else g) + weight_decay * w
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        w = w - lr * g
        trajectory.append(w)
    return trajectory


def adagrad_reference(
    w,
    grads,
    lr=1e-2,
    lr_decay=0,
    weight_decay=0,
    initial_accumulator_value=0,
    eps=1e-10,
    maximize=False,
):
    trajectory, s = [], np.full_like(w, initial_accumulator_value)
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + weight_decay * w
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        w = w - clr * g / (np.sqrt(s) + eps)
        trajectory.append(w)
    return trajectory


def rmsprop_reference(
    w,
    grads,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0,
    momentum=0,
    centered=False,
    maximize=False,
):
    trajectory, v, g_avg, b = [], np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g = (-g if maximize else g) + weight_decay * w
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            avg = np.sqrt(v - g_avg**2) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            w = w - lr * b
        else:
            w = w - lr * g / avg
        trajectory.append(w)
    return trajectory


def adam_reference(
    w,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
):
    (beta1, beta2), trajectory = betas, []
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v) if amsgrad else v
        m_hat, v_hat = m / (1 - beta1**t), v_max / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(w)
    return trajectory


adamw_reference = functools.partial(adam_reference, weight_decay=1e-2, decoupled_weight_decay=True)

REFERENCES = {
    "SGD": sgd_reference,
    "Adagrad": adagrad_reference,
    "RMSprop": rmsprop_reference,
    "Adam": adam_reference,
    "AdamW": adamw_reference,
}

CASES = [
    ("SGD", {}),
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"alpha": 0.9, "eps": 1e-3}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"weight_decay": 0.1, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "eps": 0.1}),  # ε large enough to tell where it is added
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
]
CASE_IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in CASES]


def make_problem(seed: int = 0):
    """Float32 starting weights and STEPS read-only gradients for each of them: an optimizer
    that wrote into a gradient array would raise."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
    grads = []
    for _ in range(STEPS):
        step = [rng.standard_normal(shape).astype(np.float32) for shape in SHAPES]
        for g in step:
            g.flags.writeable = False
        grads.append(step)
    return weights, grads


def run_aprende(name, options, weights, grads, device="cpu"):
    """The weights after each step (on the host): one list of arrays per step."""
    params = [aprende.tensor(w.copy(), requires_grad=True, device=device) for w in weights]
    optimizer = getattr(optim, name)(params, **options)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = aprende.tensor(g, device=device) if device != "cpu" else aprende.Tensor(g)
        optimizer.step()
        trajectory.append([p.detach().cpu().numpy().copy() for p in params])
    return trajectory


def run_torch(name, options, weights, grads):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    optimizer = getattr(torch.optim, name)(params, **options)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_matches_published_algorithm(device, name, options):
    weights, grads = make_problem()
    ours = run_aprende(name, options, weights, grads, device)
    for i, w in enumerate(weights):
        param_grads = [step[i].astype(np.float64) for step in grads]
        expected = REFERENCES[name](w.astype(np.float64), param_grads, **options)
        for step, (got, want) in enumerate(zip(ours, expected, strict=True)):
            np.testing.assert_allclose(
                got[i], want, rtol=1e-5, atol=1e-6, err_msg=f"param {i}, step {step + 1}"
            )


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_matches_torch(name, options):
    weights, grads = make_problem()
    theirs = run_torch(name, options, weights, grads)
    ours = run_aprende(name, options, weights, grads)
    for step, (got, want) in enumerate(zip(ours, theirs, strict=True)):
        for i in range(len(weights)):
            assert got[i].dtype == np.float32
            np.testing.assert_allclose(
                got[i], want[i], rtol=2e-6, atol=1e-7, err_msg=f"param {i}, step {step + 1}"
            )


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_float64_parameters_stay_float64(name):
    p = aprende.tensor(np.arange(4.0), requires_grad=True)
    optimizer = getattr(optim, name)([p], lr=0.1)
    p.grad = aprende.tensor(np.ones(4))
    optimizer.step()
    assert p.dtype == np.float64
    for value in optimizer.state[p].values():
        if isinstance(value, aprende.Tensor):
            assert value.dtype == np.float64


def test_state_and_updates_stay_float32():
    p = aprende.randn(5, requires_grad=True)
    optimizer = optim.Adam([p], lr=np.float64(0.01), betas=(np.float64(0.9), 0.999))
    p.grad = aprende.randn(5)
    optimizer.step()
    assert p.dtype == np.float32
    assert {value.dtype for value in optimizer.state[p].values() if hasattr(value, "dtype")} == {
        np.dtype(np.float32)
    }
    assert type(optimizer.param_groups[0]["lr"]) is float


# ---- parameter groups ------------------------------------------------------------------------


def test_param_groups_take_their_own_hyperparameters_and_the_defaults():
    a = aprende.tensor([1.0, 2.0], requires_grad=True)
    b = aprende.tensor([3.0], requires_grad=True)
    optimizer = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[1]["lr"] == 0.5
    assert optimizer.param_groups[1]["momentum"] == 0.9
    a.grad = aprende.tensor([1.0, 1.0])
    b.grad = aprende.tensor([1.0])
    optimizer.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.9], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [2.5], rtol=1e-6)


def test_add_param_group_and_parameters_without_gradient():
    a = aprende.tensor([1.0], requires_grad=True)
    b = aprende.tensor([1.0, 1.0, 1.0], requires_grad=True)
    frozen = aprende.tensor([5.0], requires_grad=True)
    optimizer = optim.Adam([a], lr=0.1)
    optimizer.add_param_group({"params": [b, frozen], "lr": 0.2})
    assert optimizer.param_groups[1]["betas"] == (0.9, 0.999)
    a.grad, b.grad = aprende.tensor([1.0]), aprende.tensor([1.0, -1.0, 0.0])
    optimizer.step()
    # first Adam step moves each weight by lr·sign(g)
    np.testing.assert_allclose(a.detach().numpy(), [0.9], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [0.8, 1.2, 1.0], rtol=1e-6)
    assert frozen.item() == 5.0
    assert frozen not in optimizer.state


def test_parameter_errors():
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got a single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors, but one of the params is"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    optimizer = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optimizer.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        optimizer.add_param_group([p])


def test_zero_grad():
    p = aprende.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad()
    assert p.grad is None
    (p * p).sum().backward()
    grad_tensor, grad_array = p.grad, p.grad.data
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is grad_tensor
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(grad_array, [2.0, 4.0])  # the old array was not written


def test_step_with_closure_returns_the_loss_and_computes_the_gradient():
    p = aprende.tensor([1.0, -2.0], requires_grad=True)
    optimizer = optim.SGD([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with aprende.no_grad():  # the closure records its graph all the same
        loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6], rtol=1e-6)


def test_step_counts_as_an_in_place_change_of_the_parameters():
    p = aprende.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.SGD([p], lr=0.1)
    p.grad = aprende.tensor([1.0, 1.0])
    loss = (p * p).sum()
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_repr_lists_the_groups():
    p = aprende.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    momentum: 0.9" in text


# ---- argument validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("SGD", {"lr": -1.0}, r"Invalid learning rate: -1.0 \(expected lr >= 0\)"),
        ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ("SGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening=0.1"),
        ("Adagrad", {"lr": -0.1}, "Invalid learning rate: -0.1"),
        ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
        ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value"),
        ("Adagrad", {"eps": -1e-3}, "Invalid epsilon value: -0.001"),
        ("Adagrad", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ("RMSprop", {"alpha": -0.1}, "Invalid alpha value: -0.1"),
        ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ("RMSprop", {"momentum": -1.0}, "Invalid momentum value: -1.0"),
        ("RMSprop", {"weight_decay": -1}, "Invalid weight_decay value"),
        ("Adam", {"lr": float("nan")}, "Invalid learning rate: nan"),
        ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
        ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ("AdamW", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ("AdamW", {"betas": (0.9, 1.5)}, r"index 1: 1.5 \(expected 0 <= beta < 1\)"),
    ],
)
def test_invalid_arguments(name, options, message):
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([p], **options)


# ---- state dict ------------------------------------------------------------------------------


def test_state_dict_layout_is_pytorchs():
    a = aprende.randn(2, 3, requires_grad=True)
    b = aprende.randn(3, requires_grad=True)
    c = aprende.randn(1, requires_grad=True)
    optimizer = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], amsgrad=True)
    a.grad, c.grad = aprende.randn(2, 3), aprende.randn(1)
    optimizer.step()
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert sorted(state["state"]) == [0, 2]  # b had no gradient, so no state
    entry = state["state"][0]
    assert entry["step"] == 1 and isinstance(entry["step"], int)
    assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert isinstance(entry["exp_avg"], aprende.Tensor) and entry["exp_avg"].shape == (2, 3)
    json.dumps(state["param_groups"])  # hyperparameters go to JSON as they are


def checkpoint_round_trip(state: dict) -> dict:
    """What a checkpoint writer does: arrays to NumPy (safetensors), the rest through JSON
    (integer keys become strings, tuples become lists)."""
    arrays = {
        (index, key): value.cpu().numpy().copy()
        for index, values in state["state"].items()
        for key, value in values.items()
        if isinstance(value, aprende.Tensor)
    }
    rest = json.loads(
        json.dumps(
            {
                "state": {
                    index: {k: v for k, v in values.items() if not isinstance(v, aprende.Tensor)}
                    for index, values in state["state"].items()
                },
                "param_groups": state["param_groups"],
            }
        )
    )
    for (index, key), array in arrays.items():
        rest["state"][str(index)][key] = array
    return rest


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("snapshot", ["deepcopy", "checkpoint"])
def test_resuming_from_a_state_dict_continues_exactly(device, name, options, snapshot):
    weights, grads = make_problem(seed=1)
    uninterrupted = run_aprende(name, options, weights, grads, device)[-1]
    grads = [[aprende.tensor(g, device=device) for g in step] for step in grads]

    params = [aprende.tensor(w.copy(), requires_grad=True, device=device) for w in weights]
    optimizer = getattr(optim, name)(params, **options)
    for step_grads in grads[:3]:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = g
        optimizer.step()
    saved_weights = [p.detach().cpu().numpy().copy() for p in params]
    state = optimizer.state_dict()
    state = copy.deepcopy(state) if snapshot == "deepcopy" else checkpoint_round_trip(state)
    for p, g in zip(params, grads[3], strict=True):  # the old optimizer goes on: no aliasing
        p.grad = g
    optimizer.step()

    resumed = [aprende.tensor(w, requires_grad=True, device=device) for w in saved_weights]
    hyperparameters = [
        {k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups
    ]
    optimizer = getattr(optim, name)(resumed, lr=123.0)  # hyperparameters come from the state
    optimizer.load_state_dict(state)
    assert [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups] == (
        hyperparameters
    )
    for step_grads in grads[3:]:
        for p, g in zip(resumed, step_grads, strict=True):
            p.grad = g
        optimizer.step()
    for got, want in zip(resumed, uninterrupted, strict=True):
        assert got.device == device
        np.testing.assert_array_equal(got.detach().cpu().numpy(), want)


def test_load_state_dict_from_torch():
    torch = pytest.importorskip("torch")
    weights, grads = make_problem(seed=2)
    theirs = [torch.tensor(w, requires_grad=True) for w in weights]
    torch_optimizer = torch.optim.Adam(theirs, lr=0.01, amsgrad=True)
    ours = [aprende.tensor(w.copy(), requires_grad=True) for w in weights]
    for step_grads in grads[:3]:
        for p, g in zip(theirs, step_grads, strict=True):
            p.grad = torch.tensor(g.copy())
        torch_optimizer.step()
    for p, q in zip(ours, theirs, strict=True):
        p.data[...] = q.detach().numpy()
    optimizer = optim.Adam(ours)
    optimizer.load_state_dict(torch_optimizer.state_dict())
    assert optimizer.state[ours[0]]["step"] == 3
    assert optimizer.param_groups[0]["lr"] == 0.01 and optimizer.param_groups[0]["amsgrad"]
    for step_grads in grads[3:]:
        for p, q, g in zip(ours, theirs, step_grads, strict=True):
            p.grad, q.grad = aprende.Tensor(g), torch.tensor(g.copy())
        optimizer.step()
        torch_optimizer.step()
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=2e-6, atol=1e-7)


def test_load_state_dict_fills_flags_that_older_state_dicts_lack():
    p = aprende.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.Adam([p], lr=0.1, amsgrad=True)
    state = optimizer.state_dict()
    for flag in ("maximize", "decoupled_weight_decay"):
        del state["param_groups"][0][flag]
    fresh = optim.Adam([p])
    fresh.load_state_dict(state)
    group = fresh.param_groups[0]
    assert group["amsgrad"] and group["lr"] == 0.1
    assert group["maximize"] is False and group["decoupled_weight_decay"] is False
    adamw = optim.AdamW([p])
    adamw.load_state_dict(state)
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


def test_load_state_dict_errors():
    a = aprende.randn(2, requires_grad=True)
    b = aprende.randn(3, requires_grad=True)
    optimizer = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = aprende.randn(2), aprende.randn(3)
    optimizer.step()
    state = optimizer.state_dict()

    two_groups = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups: .* has 2, .* 1"):
        two_groups.load_state_dict(state)
    one_param = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size .* group 0 has 1 parameters"):
        one_param.load_state_dict(state)
    swapped = optim.SGD([b, a], lr=0.1)
    with pytest.raises(ValueError, match=r"'momentum_buffer' has shape \(2,\), .* shape \(3,\)"):
        swapped.load_state_dict(state)
    adam = optim.Adam([a, b])
    with pytest.raises(ValueError, match=r"lacks \['betas', 'eps'\].*another optimizer"):
        adam.load_state_dict(state)
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        optimizer.load_state_dict({"param_groups": []})
    bad_index = copy.deepcopy(state)
    bad_index["state"][7] = bad_index["state"].pop(0)
    with pytest.raises(ValueError, match="state for parameter 7, which no group lists"):
        optimizer.load_state_dict(bad_index)


# ---- float32 denormals -----------------------------------------------------------------------

DECAYING = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"momentum_buffer": False}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, {"momentum_buffer": False}),
    (
        "RMSprop",
        {"momentum": 0.9, "centered": True},
        {"square_avg": True, "grad_avg": False, "momentum_buffer": False},
    ),
    ("Adam", {"lr": 0.01}, {"exp_avg": False, "exp_avg_sq": True}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}, {"exp_avg": False, "exp_avg_sq": True}),
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


@pytest.mark.parametrize(
    ("name", "options", "key", "first_grad", "steps"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}, "momentum_buffer", 1e-30, 200),
        ("Adam", {"lr": 0.01}, "exp_avg", 1e-17, 480),
    ],
)
def test_decayed_state_flushes_and_still_matches_torch(name, options, key, first_grad, steps):
    """A dead unit: one tiny gradient, then exact zeros. PyTorch's state sinks into denormals;
    ours holds none after each flushing step and ends at exactly zero, and the weights agree
    to rounding all along."""
    torch = pytest.importorskip("torch")
    start = np.array([1.0, -1.0], np.float32)
    ours = aprende.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    optimizer = getattr(optim, name)([ours], **options)
    torch_optimizer = getattr(torch.optim, name)([theirs], **options)
    for step in range(steps):
        g = np.full(2, first_grad if step == 0 else 0.0, np.float32)
        ours.grad, theirs.grad = aprende.Tensor(g), torch.tensor(g)
        optimizer.step()
        torch_optimizer.step()
        if (step + 1) % FLUSH_EVERY != 0:
            continue
        for value in optimizer.state[ours].values():
            if isinstance(value, aprende.Tensor):
                array = value.numpy()
                assert np.all((array == 0) | (np.abs(array) >= TINY)), f"step {step}"
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    torch_state = torch_optimizer.state[theirs][key].numpy()
    assert np.all((torch_state != 0) & (np.abs(torch_state) < TINY))  # denormal in PyTorch
    np.testing.assert_array_equal(optimizer.state[ours][key].numpy(), 0.0)
