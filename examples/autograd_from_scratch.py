"""Automatic differentiation at work: a graph built by hand, its gradients, and a training loop.

micrograd's demo at tensor scale, in three steps:
1. A few operations on small tensors record a computational graph; ``backward()`` walks it in
   reverse and applies the chain rule, leaving ∂loss/∂x in each input's ``.grad``. The graph
   is printed as Graphviz DOT text, with every tensor's values and gradient.
2. ``gradcheck`` compares those gradients with finite differences (float64).
3. The loop ``aprende.training.fit`` runs, written out: for each mini-batch, ``zero_grad``,
   forward, loss, ``backward``, ``step``, training a small MLP on two interleaving moons
   (its test accuracy beside the majority class's).

    python examples/autograd_from_scratch.py [--quick] [--out DIR]
"""

import argparse
import os
import shutil
from pathlib import Path

import numpy as np

import aprende
from aprende import nn, optim
from aprende.autograd import gradcheck
from aprende.data import DataLoader, TensorDataset, train_val_test_split
from aprende.datasets import make_moons
from aprende.graph import draw_graph


def neuron(x, w, b):
    """One tanh neuron and a loss: z = x·w + b, y = tanh z, loss = Σ y²; x (N, 2), w (2,), b ()."""
    z = x @ w + b
    y = z.tanh()
    return z, y, (y * y).sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief run (or APRENDE_QUICK=1)")
    parser.add_argument("--out", default="example_output", help="folder for the graph drawing")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("APRENDE_QUICK") == "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    aprende.manual_seed(0)

    # 1. The graph. Each operation on tensors that require grad records a node (its op and
    # inputs); retain_graph=True keeps the nodes after backward() so they can be drawn.
    x = aprende.tensor([[1.0, -2.0], [0.5, 3.0]])
    w = aprende.tensor([0.3, -0.7], requires_grad=True)
    b = aprende.tensor(0.1, requires_grad=True)
    z, y, loss = neuron(x, w, b)
    z.retain_grad()  # as in PyTorch, only leaves keep .grad unless asked
    y.retain_grad()
    loss.backward(retain_graph=True)
    print(f"loss: {loss.item():.4f}")

    # The chain rule by hand, from the output back: ∂loss/∂y = 2y, ∂loss/∂z = 2y(1 − y²),
    # ∂loss/∂w = xᵀ ∂loss/∂z, ∂loss/∂b = Σ ∂loss/∂z. backward() computed the same.
    dy = 2 * y.detach().numpy()
    dz = dy * (1 - y.detach().numpy() ** 2)
    by_hand = {"y": dy, "z": dz, "w": x.numpy().T @ dz, "b": dz.sum()}
    for name, tensor in {"y": y, "z": z, "w": w, "b": b}.items():
        backward, hand = np.round(tensor.grad.numpy(), 4), np.round(by_hand[name], 4)
        print(f"{name}.grad: {backward!s}  by hand: {hand!s}")

    dot = draw_graph(loss, out / "graph.dot")
    print(dot, end="")
    if shutil.which("dot"):  # Graphviz is optional: the DOT text is the drawing
        draw_graph(loss, out / "graph.svg")

    # 2. The gradients of all three outputs against finite differences
    # (f(x + ε) − f(x − ε)) / 2ε, in float64: float32 rounding would swamp the differences.
    doubles = [aprende.tensor(t.detach().numpy(), dtype=aprende.float64) for t in (x, w, b)]
    for t in doubles:
        t.requires_grad_(True)
    print(f"gradcheck: {gradcheck(neuron, doubles)}")

    # 3. Training: 2 inputs -> 16 hidden (tanh) -> 2 class scores, on two moons.
    X, labels, _ = make_moons(n_samples=400, noise=0.15, seed=0)
    X_train, y_train, _, _, X_test, y_test = train_val_test_split(X, labels, seed=0)
    train = DataLoader(
        TensorDataset(aprende.tensor(X_train, dtype=aprende.float32), aprende.tensor(y_train)),
        batch_size=32,
        shuffle=True,
        generator=0,
    )
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    epochs = 30 if quick else 100
    for epoch in range(1, epochs + 1):
        total = 0.0
        for inputs, targets in train:
            optimizer.zero_grad()  # .grad accumulates across backward() calls: clear it first
            batch_loss = criterion(model(inputs), targets)
            batch_loss.backward()  # ∂loss/∂θ for every parameter θ, into θ.grad
            optimizer.step()  # v ← μv + ∂loss/∂θ, θ ← θ − ηv (SGD with momentum)
            total += batch_loss.item() * len(targets)
        if epoch == 1 or epoch % 10 == 0:
            print(f"epoch {epoch:3d}: train_loss {total / len(y_train):.4f}")

    with aprende.no_grad():  # no graph is needed to predict
        scores = model(aprende.tensor(X_test, dtype=aprende.float32))
    accuracy = (scores.argmax(dim=1).numpy() == y_test).mean()
    print(f"test_accuracy: {accuracy:.4f}")
    majority = np.bincount(y_train).argmax()
    print(f"baseline_test_accuracy: {np.mean(y_test == majority):.4f}  (always the majority class)")


if __name__ == "__main__":
    main()
