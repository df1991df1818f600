"""Each optimizer trains a small multilayer perceptron to solve XOR and two spirals.

The network is built from core ops only (x @ W + b, tanh, a cross-entropy from log_softmax and
indexing), so these tests exercise the optimizers, not ``aprende.nn``.
"""

import numpy as np
import pytest

import aprende
from aprende import optim

OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 1e-2}),
]
IDS = [f"{name}({','.join(f'{k}={v}' for k, v in kw.items())})" for name, kw in OPTIMIZERS]


def init_mlp(sizes, seed):
    """Weights W (fan_in, fan_out) from Glorot's uniform, biases zero."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False):
        bound = np.sqrt(6 / (fan_in + fan_out))
        weight = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        params += [
            aprende.tensor(weight, requires_grad=True),
            aprende.zeros(fan_out, requires_grad=True),
        ]
    return params


def forward(params, x):
    """tanh hidden layers, linear output: the logits."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = aprende.tanh(h @ params[i] + params[i + 1])
    return h @ params[-2] + params[-1]


def cross_entropy(logits, labels):
    """J = −(1/N) Σₙ log softmax(logitsₙ)[yₙ]."""
    return -aprende.log_softmax(logits, 1)[np.arange(len(labels)), labels].mean()


def train(name, options, x, y, sizes, steps, seed=0):
    """Full-batch training; returns the final training accuracy and the loss curve."""
    params = init_mlp(sizes, seed)
    optimizer = getattr(optim, name)(params, **options)
    inputs, losses = aprende.tensor(x), []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = cross_entropy(forward(params, inputs), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with aprende.no_grad():
        predictions = forward(params, inputs).argmax(1).numpy()
    return float(np.mean(predictions == y)), losses


def two_spirals(points_per_arm=100, turns=1.5, noise=0.02, seed=0):
    """Two interleaved spirals (one per class), each arm the other rotated by π."""
    rng = np.random.default_rng(seed)
    angle = np.sqrt(rng.uniform(0.05, 1.0, points_per_arm)) * turns * 2 * np.pi
    arm = np.stack([angle * np.cos(angle), angle * np.sin(angle)], 1) / (turns * 2 * np.pi)
    x = np.concatenate([arm, -arm]) + noise * rng.standard_normal((2 * points_per_arm, 2))
    # inputs spread over [-3, 3]: tanh units can then bend sharply enough for 1.5 turns
    return (3 * x).astype(np.float32), np.repeat([0, 1], points_per_arm)


@pytest.mark.parametrize(("name", "options"), OPTIMIZERS, ids=IDS)
def test_solves_xor(name, options):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    accuracy, losses = train(name, options, x, y, [2, 8, 2], steps=200)
    assert accuracy == 1.0
    assert losses[-1] < 0.1 < losses[0]


@pytest.mark.parametrize(("name", "options"), OPTIMIZERS, ids=IDS)
def test_solves_two_spirals(name, options):
    x, y = two_spirals()
    accuracy, losses = train(name, options, x, y, [2, 32, 32, 2], steps=600)
    assert accuracy >= 0.95, f"train accuracy {accuracy:.3f}"
    assert losses[-1] < 0.25 * losses[0]
