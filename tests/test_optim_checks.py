"""The optimizers' hyperparameter checks (``Optimizer._hyperparameter_checks``): an argument out
of its range raises ValueError with PyTorch's message plus the range expected; the checks run
in the order of PyTorch's constructors and before the parameters are looked at; the values at
the edge of each range pass."""

import re

import pytest

import aprende
from aprende import optim

NAN = float("nan")

# (optimizer, arguments, message): each check, and the first one that fails where several would
CASES = [
    ("SGD", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5 (expected momentum >= 0)"),
    ("SGD", {"weight_decay": -1}, "Invalid weight_decay value: -1 (expected weight_decay >= 0)"),
    (
        "SGD",
        {"nesterov": True},
        "Nesterov momentum requires a momentum and zero dampening, got momentum=0, dampening=0",
    ),
    (
        "SGD",
        {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
        "Nesterov momentum requires a momentum and zero dampening, got momentum=0.9, dampening=0.1",
    ),
    (
        "SGD",
        {"lr": -1.0, "momentum": -1.0, "nesterov": True},
        "Invalid learning rate: -1.0 (expected lr >= 0)",
    ),
    (
        "SGD",
        {"momentum": -1.0, "nesterov": True},
        "Invalid momentum value: -1.0 (expected momentum >= 0)",
    ),
    ("Adagrad", {"lr": -0.1}, "Invalid learning rate: -0.1 (expected lr >= 0)"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1 (expected lr_decay >= 0)"),
    (
        "Adagrad",
        {"weight_decay": -1},
        "Invalid weight_decay value: -1 (expected weight_decay >= 0)",
    ),
    (
        "Adagrad",
        {"initial_accumulator_value": -1},
        "Invalid initial_accumulator_value value: -1 (expected initial_accumulator_value >= 0)",
    ),
    ("Adagrad", {"eps": -1e-3}, "Invalid epsilon value: -0.001 (expected eps >= 0)"),
    (
        "Adagrad",
        {"weight_decay": -1, "lr_decay": -1},
        "Invalid lr_decay value: -1 (expected lr_decay >= 0)",
    ),
    ("RMSprop", {"lr": -0.01}, "Invalid learning rate: -0.01 (expected lr >= 0)"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0 (expected eps >= 0)"),
    ("RMSprop", {"momentum": -1.0}, "Invalid momentum value: -1.0 (expected momentum >= 0)"),
    (
        "RMSprop",
        {"weight_decay": -1},
        "Invalid weight_decay value: -1 (expected weight_decay >= 0)",
    ),
    ("RMSprop", {"alpha": -0.1}, "Invalid alpha value: -0.1 (expected alpha >= 0)"),
    ("RMSprop", {"alpha": NAN}, "Invalid alpha value: nan (expected alpha >= 0)"),
    (
        "RMSprop",
        {"alpha": -1.0, "eps": -1.0},
        "Invalid epsilon value: -1.0 (expected eps >= 0)",
    ),
    ("Adam", {"lr": NAN}, "Invalid learning rate: nan (expected lr >= 0)"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08 (expected eps >= 0)"),
    (
        "Adam",
        {"betas": (1.0, 0.999)},
        "Invalid beta parameter at index 0: 1.0 (expected 0 <= beta < 1)",
    ),
    (
        "Adam",
        {"betas": (0.9, -0.1)},
        "Invalid beta parameter at index 1: -0.1 (expected 0 <= beta < 1)",
    ),
    (
        "Adam",
        {"betas": (0.9, NAN)},
        "Invalid beta parameter at index 1: nan (expected 0 <= beta < 1)",
    ),
    (
        "Adam",
        {"weight_decay": -0.1},
        "Invalid weight_decay value: -0.1 (expected weight_decay >= 0)",
    ),
    (
        "Adam",
        {"eps": -1.0, "betas": (2.0, 2.0)},
        "Invalid epsilon value: -1.0 (expected eps >= 0)",
    ),
    (
        "Adam",
        {"betas": (2.0, 2.0), "weight_decay": -1.0},
        "Invalid beta parameter at index 0: 2.0 (expected 0 <= beta < 1)",
    ),
    ("AdamW", {"lr": -1.0}, "Invalid learning rate: -1.0 (expected lr >= 0)"),
    ("AdamW", {"eps": -1.0}, "Invalid epsilon value: -1.0 (expected eps >= 0)"),
    (
        "AdamW",
        {"betas": (0.9, 1.5)},
        "Invalid beta parameter at index 1: 1.5 (expected 0 <= beta < 1)",
    ),
    (
        "AdamW",
        {"weight_decay": -0.1},
        "Invalid weight_decay value: -0.1 (expected weight_decay >= 0)",
    ),
]


def case_id(case) -> str:
    name, options, _ = case
    return f"{name}-{'-'.join(options)}"


@pytest.mark.parametrize(("name", "options", "message"), CASES, ids=map(case_id, CASES))
def test_out_of_range_argument_raises_its_message(name, options, message):
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        getattr(optim, name)([p], **options)


@pytest.mark.parametrize(("name", "options", "message"), CASES, ids=map(case_id, CASES))
def test_message_begins_with_pytorchs(name, options, message):
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([p], **options)
    assert message.startswith(str(theirs.value))


@pytest.mark.parametrize("argument", ["lr", "momentum", "weight_decay"])
def test_sgd_rejects_nan(argument):
    # stricter than PyTorch's SGD, which checks `lr < 0` and so lets NaN through
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=rf"^Invalid .*: nan \(expected {argument} >= 0\)$"):
        optim.SGD([p], **{argument: NAN})


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_arguments_are_checked_before_the_parameters(name):
    # as in PyTorch, whose constructors check before Optimizer.__init__ sees params
    p = aprende.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        getattr(optim, name)(p, lr=-1.0)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("SGD", {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0, "dampening": -1.0}),
        ("SGD", {"momentum": 1e-12, "nesterov": True}),
        (
            "Adagrad",
            {"lr": 0, "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0, "eps": 0},
        ),
        ("RMSprop", {"lr": 0, "alpha": 0, "eps": 0, "weight_decay": 0, "momentum": 0}),
        ("Adam", {"lr": 0, "betas": (0.0, 0.0), "eps": 0, "weight_decay": 0}),
        ("Adam", {"betas": (0.9999999, 0.9999999)}),
        ("AdamW", {"lr": 0, "betas": (0.0, 0.0), "eps": 0, "weight_decay": 0}),
    ],
)
def test_values_at_the_edge_of_each_range_pass(name, options):
    p = aprende.tensor([1.0], requires_grad=True)
    optimizer = getattr(optim, name)([p], **options)
    assert {key: optimizer.defaults[key] for key in options} == options
