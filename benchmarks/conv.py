"""Convolution layer benchmark: one 3×3 Conv2d, forward + backward, aprende against PyTorch.

Run from the repository root (see benchmarks/README.md)::

    python -m benchmarks.conv             # N=64, 32 -> 64 channels, 28 x 28, float32, 1 thread
    python -m benchmarks.conv --quick     # seconds; the numbers mean nothing

One step is ``conv2d(x, W, b, padding=1)`` and ``backward`` with a fixed random upstream
gradient, all of x, W and b requiring grad. The tools take turns step by step in one process
(the order alternating), so a burst of load from other jobs hits both; medians are reported.
A third row, the GEMM floor, runs only the step's three matrix products (forward, weight
gradient, input gradient) as NumPy matmuls on prebuilt operands.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.mlp import _blas_info, _cpu_model, _git_commit

FLOOR = "GEMM floor"


def aprende_step(x, w, b, g) -> Callable[[], None]:
    import aprende
    from aprende.nn import functional as F

    xa, wa, ba = (aprende.tensor(a, requires_grad=True) for a in (x, w, b))
    ga = aprende.tensor(g)

    def step():
        xa.grad = wa.grad = ba.grad = None
        F.conv2d(xa, wa, ba, padding=1).backward(ga)

    return step


def torch_step(x, w, b, g) -> Callable[[], None]:
    import torch

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    gt = torch.tensor(g)

    def step():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, padding=1).backward(gt)

    return step


def gemm_floor(x, w, g) -> Callable[[], None]:
    """The step's matrix products alone: W cols, Σₙ gₙ colsₙᵀ and Wᵀ g, into reused buffers."""
    n, c, h, width = x.shape
    o, _, kh, kw = w.shape
    cols = np.ones((n, c * kh * kw, h * width), x.dtype)
    kernel, grad = w.reshape(o, -1), g.reshape(n, o, h * width)
    out, grad_w = np.empty((n, o, h * width), x.dtype), np.empty((n, o, c * kh * kw), x.dtype)
    grad_cols = np.empty_like(cols)

    def step():
        np.matmul(kernel, cols, out=out)
        np.matmul(grad, cols.transpose(0, 2, 1), out=grad_w)
        np.matmul(kernel.T, grad, out=grad_cols)

    return step


def measure(steps: dict[str, Callable[[], None]], repeats: int, warmup: int) -> dict:
    """Seconds per step for each tool, taking turns; the order reverses every round. The
    garbage collector is off while timing (as ``timeit`` does): a step leaves no cycles."""
    times = {name: [] for name in steps}
    order = list(steps)
    gc.collect()
    gc.disable()
    try:
        for round_ in range(warmup + repeats):
            for name in order if round_ % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                steps[name]()
                elapsed = time.perf_counter() - start
                if round_ >= warmup:
                    times[name].append(elapsed)
    finally:
        gc.enable()
    return times


def benchmark(args) -> dict:
    """Times the layer with every installed tool, each capped at ``args.threads`` threads (the
    caps are lifted afterwards); returns the report (also what --json writes)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(args.seed)
    n, c, o, size = args.batch, args.in_channels, args.out_channels, args.size
    x = rng.normal(size=(n, c, size, size)).astype(np.float32)
    w = (rng.normal(size=(o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.normal(size=o).astype(np.float32)
    g = rng.normal(size=(n, o, size, size)).astype(np.float32)
    steps = {"aprende": aprende_step(x, w, b, g)}
    skipped = {}
    try:
        import torch

        steps["torch"] = torch_step(x, w, b, g)
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(args.threads)
    except ImportError:
        skipped["torch"] = "not installed"
    steps[FLOOR] = gemm_floor(x, w, g)
    with threadpool_limits(limits=args.threads):
        blas = _blas_info()
        times = measure(steps, args.repeats, args.warmup)
    if "torch" in steps:
        torch.set_num_threads(torch_threads)
    results = {}
    for name, values in times.items():
        median = statistics.median(values)
        results[name] = {
            "median_s": median,
            "spread": (max(values) - min(values)) / median,
            "times_s": values,
        }
    return {
        "machine": {
            "cpu": _cpu_model(),
            "numpy": np.__version__,
            "blas": blas,
            "torch": sys.modules["torch"].__version__ if "torch" in steps else None,
            "commit": _git_commit(),
        },
        "layer": f"Conv2d({c}, {o}, 3, padding=1) on ({n}, {c}, {size}, {size}) float32",
        "threads": args.threads,
        "skipped": skipped,
        "results": results,
    }


def print_report(report: dict) -> None:
    results = report["results"]
    print(f"{report['layer']}, forward + backward, {report['threads']} thread(s)")
    machine = report["machine"]
    print(f"{machine['cpu']}; numpy {machine['numpy']}, BLAS {machine['blas']}")
    print(f"{'tool':12s} {'median ms':>10s} {'spread':>8s} {'vs aprende':>11s}")
    ours = results["aprende"]["median_s"]
    for name, result in results.items():
        print(
            f"{name:12s} {result['median_s'] * 1e3:10.2f} {result['spread']:8.0%} "
            f"{result['median_s'] / ours:10.2f}x"
        )
    if "torch" in results:
        print(f"aprende/torch time: {ours / results['torch']['median_s']:.2f}")
    for name, reason in report["skipped"].items():
        print(f"{name}: skipped ({reason})")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.conv",
        description="Time one 3x3 Conv2d layer, forward + backward, in aprende and PyTorch.",
    )
    parser.add_argument("--batch", type=int, default=None, help="N (default 64)")
    parser.add_argument("--in-channels", type=int, default=32)
    parser.add_argument("--out-channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=None, help="H = W (default 28)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per tool (25)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--quick", action="store_true", help="N=4, 12 x 12, 3 repeats")
    args = parser.parse_args(argv)
    quick = {"batch": 4, "size": 12, "repeats": 3}
    full = {"batch": 64, "size": 28, "repeats": 25}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("batch", "in_channels", "out_channels", "size", "repeats", "threads"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1, got {getattr(args, key)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    report = benchmark(args)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
