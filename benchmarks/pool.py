"""Pooling benchmark: aprende's max_pool2d and avg_pool2d, forward + backward, against PyTorch
CPU eager, one thread each (threadpoolctl caps NumPy's pools, ``torch.set_num_threads(1)``).

Run from the repository root::

    python -m benchmarks.pool                 # N=64, C=32, 28x28, 30 alternating repeats
    python -m benchmarks.pool --repeats 5     # a quick look

The two libraries alternate repeat by repeat in one process, so machine noise hits both alike;
the table reports medians of wall-clock time and of the thread's CPU time (on a machine other
jobs share, the CPU time leaves out the waits for a core), and the ratios aprende / PyTorch
(below 1: aprende is faster).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np

#: (name, op, keyword arguments): the 2×2 pooling of LeNet-style networks and the overlapping
#: 3×3 stride-2 pooling of ResNet's stem.
CASES = [
    ("max_pool2d k2 s2", "max_pool2d", dict(kernel_size=2, stride=2)),
    ("max_pool2d k3 s2 p1", "max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d k2 s2", "avg_pool2d", dict(kernel_size=2, stride=2)),
    ("avg_pool2d k3 s2 p1", "avg_pool2d", dict(kernel_size=3, stride=2, padding=1)),
]


def _step(functional, op: str, options: dict, leaf, upstream) -> None:
    """One forward + backward: the time a training step spends in the pooling."""
    leaf.grad = None
    getattr(functional, op)(leaf, **options).backward(upstream)


def run(shape: tuple[int, ...], repeats: int, seed: int = 0) -> list[dict]:
    """Median seconds of forward + backward for each case, aprende and PyTorch alternating."""
    import torch
    import torch.nn.functional as torch_functional
    from threadpoolctl import threadpool_limits

    import aprende
    from aprende.nn import functional as aprende_functional

    torch.set_num_threads(1)
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    rows = []
    with threadpool_limits(limits=1):
        for name, op, options in CASES:
            reference = getattr(torch_functional, op)(torch.tensor(x), **options)
            upstream = np.random.default_rng(seed + 1).standard_normal(reference.shape)
            upstream = upstream.astype(np.float32)
            steps = {
                "aprende": functools.partial(
                    _step,
                    aprende_functional,
                    op,
                    options,
                    aprende.tensor(x, requires_grad=True),
                    aprende.tensor(upstream),
                ),
                "torch": functools.partial(
                    _step,
                    torch_functional,
                    op,
                    options,
                    torch.tensor(x, requires_grad=True),
                    torch.tensor(upstream),
                ),
            }
            wall, cpu = {tool: [] for tool in steps}, {tool: [] for tool in steps}
            for step in steps.values():  # warm-up: first touch of every buffer
                step()
            for _ in range(repeats):
                for tool, step in steps.items():
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    step()
                    wall[tool].append(time.perf_counter() - start)
                    cpu[tool].append(time.thread_time() - start_cpu)
            row = {"case": name}
            for clock, times in (("wall", wall), ("cpu", cpu)):
                medians = {tool: statistics.median(t) for tool, t in times.items()}
                row.update({f"{tool}_{clock}": m for tool, m in medians.items()})
                row[f"ratio_{clock}"] = medians["aprende"] / medians["torch"]
            rows.append(row)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--shape", default="64,32,28,28", help="N,C,H,W")
    args = parser.parse_args(argv)
    shape = tuple(int(n) for n in args.shape.split(","))
    print(f"input {shape} float32, forward + backward, 1 thread, medians of {args.repeats}")
    print(f"{'':<22}{'wall-clock ms':^30}{'thread CPU ms':^30}")
    print(f"{'case':<22}" + f"{'aprende':>10}{'torch':>10}{'ratio':>10}" * 2)
    for row in run(shape, args.repeats):
        cells = [
            f"{row[f'aprende_{c}'] * 1e3:>10.2f}{row[f'torch_{c}'] * 1e3:>10.2f}"
            f"{row[f'ratio_{c}']:>10.2f}"
            for c in ("wall", "cpu")
        ]
        print(f"{row['case']:<22}" + "".join(cells))


if __name__ == "__main__":
    main()
