"""Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD against ``torch.optim``: the same float32
weights and gradients give the same weights and state over 25 steps for every option that
changes the code path, a small model trains along the same path, a state dict saved by
PyTorch resumes here, and the constructors take PyTorch's defaults and raise its messages."""

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from test_optim_more import CASE_IDS, CASES, INVALID, make_problem, run_aprende  # noqa: E402

import aprende  # noqa: E402
from aprende import nn, optim  # noqa: E402

NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]
STEPS = 25
RTOL, ATOL = 2e-6, 1e-7


def run_torch(name, options, weights, grads):
    """The torch optimizer and the weights after each step, one list of arrays per step."""
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    optimizer = getattr(torch.optim, name)(params, **options)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.tensor(g.copy())
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return optimizer, trajectory


def assert_same_state(ours: dict, theirs: dict):
    """Every entry of PyTorch's per-parameter state, under the same name, to rounding."""
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        want = value.numpy()
        got = ours[key].numpy() if isinstance(ours[key], aprende.Tensor) else ours[key]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, err_msg=key)


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_matches_torch(name, options):
    weights, grads = make_problem(steps=STEPS)
    torch_optimizer, theirs = run_torch(name, options, weights, grads)
    optimizer, ours = run_aprende(name, options, weights, grads)
    for step, (got, want) in enumerate(zip(ours, theirs, strict=True)):
        for i in range(len(weights)):
            assert got[i].dtype == np.float32
            np.testing.assert_allclose(
                got[i], want[i], rtol=RTOL, atol=ATOL, err_msg=f"param {i}, step {step + 1}"
            )
    params = optimizer.param_groups[0]["params"]
    for p, q in zip(params, torch_optimizer.param_groups[0]["params"], strict=True):
        assert_same_state(optimizer.state[p], torch_optimizer.state[q])


MODEL_CASES = [
    ("Adadelta", {"weight_decay": 0.01}),
    ("Adamax", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.99)}),
    ("Rprop", {"lr": 0.01}),
    ("ASGD", {"lr": 0.05, "t0": 5}),
]


@pytest.mark.parametrize(("name", "options"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_trains_a_small_model_along_torchs_path(name, options):
    """A 3-8-2 tanh network on a fixed batch, 20 full steps: gradients computed by each
    framework, the weights copied from PyTorch's model at the start."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ours = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    ours.load_state_dict(
        {k: aprende.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    torch_optimizer = getattr(torch.optim, name)(theirs.parameters(), **options)
    optimizer = getattr(optim, name)(ours.parameters(), **options)
    tx, ty = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    ax, ay = aprende.tensor(x, dtype=aprende.float32), aprende.tensor(y, dtype=aprende.float32)
    for _ in range(20):
        torch_optimizer.zero_grad()
        torch.nn.functional.mse_loss(theirs(tx), ty).backward()
        torch_optimizer.step()
        optimizer.zero_grad()
        nn.functional.mse_loss(ours(ax), ay).backward()
        optimizer.step()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(
            ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key
        )


@pytest.mark.parametrize(("name", "options"), CASES, ids=CASE_IDS)
def test_resumes_from_a_torch_state_dict(name, options):
    weights, grads = make_problem(seed=4, steps=12)
    torch_optimizer, theirs = run_torch(name, options, weights, grads[:6])
    params = [aprende.tensor(w, requires_grad=True) for w in theirs[-1]]
    optimizer = getattr(optim, name)(params)
    optimizer.load_state_dict(torch_optimizer.state_dict())
    assert {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}.items() <= {
        k: tuple(v) if isinstance(v, tuple) else v
        for k, v in torch_optimizer.param_groups[0].items()
    }.items()
    torch_params = torch_optimizer.param_groups[0]["params"]
    for step_grads in grads[6:]:
        for p, q, g in zip(params, torch_params, step_grads, strict=True):
            p.grad, q.grad = aprende.Tensor(g), torch.tensor(g.copy())
        optimizer.step()
        torch_optimizer.step()
    for p, q in zip(params, torch_params, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL)


# PyTorch's options that change nothing here: the implementation (foreach), CUDA graphs
# (capturable) and differentiating through the step (differentiable)
IMPLEMENTATION_FLAGS = {"foreach", "capturable", "differentiable"}


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_pytorchs(name):
    ours = getattr(optim, name)([aprende.zeros(1, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    assert ours == {k: v for k, v in theirs.items() if k not in IMPLEMENTATION_FLAGS}


@pytest.mark.parametrize(("name", "options", "message"), INVALID)
def test_message_begins_with_pytorchs(name, options, message):
    p = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([p], **options)
    assert message.startswith(str(theirs.value))
