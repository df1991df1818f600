"""LeNet training step benchmark: aprende against PyTorch, the same network and batch.

Run from the repository root::

    python -m benchmarks.cnn_step             # LeNet-5 on a 64 × 1 × 28 × 28 batch, 1 thread
    python -m benchmarks.cnn_step --quick     # seconds; the numbers mean nothing

One step is ``zero_grad``, forward, cross-entropy, backward and an SGD step (momentum 0.9) of
``models.LeNet(1, 10, image_size=28)`` (5×5 convolutions of 6 and 16 channels, two 2×2 max
poolings, 400-120-84-10), with PyTorch running the same layers from the same weights. The
tools take turns step by step in one process, the order alternating, and medians are
reported, with the ratio aprende / PyTorch. A third row, the GEMM floor
(``benchmarks.network_floor``), runs only the step's matrix products.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

import numpy as np

from benchmarks.conv import FLOOR, measure
from benchmarks.network_floor import network_floor


def training_step(model, opt, loss_fn, x, y):
    """One ``zero_grad``, forward, loss, ``backward`` and ``step``: the same calls in aprende
    and in PyTorch."""

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def print_medians(medians: dict, repeats: int, target: float) -> None:
    """One row per tool, then aprende's and the GEMM floor's time over PyTorch's."""
    for name, median in medians.items():
        print(f"  {name:10s} {1e3 * median:8.2f} ms (median of {repeats})")
    if "torch" in medians:
        ratio = medians["aprende"] / medians["torch"]
        print(f"  aprende / PyTorch: {ratio:.2f}x (target ≤ {target:g}x)")
        print(f"  GEMM floor / PyTorch: {medians[FLOOR] / medians['torch']:.2f}x")


def aprende_step(x, y, seed: int):
    import aprende
    from aprende import nn, optim
    from aprende.models import LeNet

    aprende.manual_seed(seed)
    model = LeNet(1, 10, image_size=28)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    return training_step(model, opt, loss_fn, aprende.tensor(x), aprende.tensor(y)), model


def torch_step(x, y, weights: list[np.ndarray]):
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), weights, strict=True):
            parameter.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    return training_step(model, opt, loss_fn, torch.from_numpy(x), torch.from_numpy(y)), model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a few steps: checks that it runs")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.repeats, args.warmup = 8, 3, 1
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    import aprende

    ours, model = aprende_step(x, y, args.seed)
    steps = {"aprende": ours, FLOOR: network_floor(model, aprende.tensor(x))}
    try:
        import torch

        torch.set_num_threads(args.threads)
        weights = [p.detach().numpy().copy() for p in model.parameters()]
        steps["torch"] = torch_step(x, y, weights)[0]
    except ImportError:
        print("PyTorch is not installed: timing aprende alone", file=sys.stderr)
    with threadpool_limits(limits=args.threads):
        times = measure(steps, args.repeats, args.warmup)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"LeNet-5 training step, batch {args.batch} × 1 × 28 × 28, {args.threads} thread(s)")
    print_medians(medians, args.repeats, target=1.2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"batch": args.batch, "threads": args.threads, "medians_s": medians}, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
