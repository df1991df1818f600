"""U-Net training step benchmark, and the peak memory of a step: aprende against PyTorch.

Run from the repository root::

    python -m benchmarks.unet_step             # U-Net step, 16 × 1 × 32 × 32, 11 classes per pixel
    python -m benchmarks.unet_step --memory    # also the peak memory of a LeNet and a U-Net step
    python -m benchmarks.unet_step --quick     # seconds; the numbers mean nothing

One step is ``zero_grad``, forward, per-pixel cross-entropy, backward and an SGD step (momentum
0.9) of ``models.UNet(1, 11, depth=2, width=16)`` (3×3 convolutions with batch norm, two 2×2 max
poolings, two 2×2 transposed convolutions, skip connections by ``cat``), PyTorch running the
same layers from the same weights. Steps take turns in one process, the order alternating;
medians and the ratio aprende / PyTorch are reported.

Peak memory (``--memory``) is measured in a fresh process per tool and network: the resident
set's high-water mark during ten steps minus the resident set just before the first step (model,
optimizer and batch already built), so what each tool imports does not count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

import numpy as np

from benchmarks.cnn_step import aprende_step as lenet_aprende_step
from benchmarks.cnn_step import print_medians, training_step
from benchmarks.cnn_step import torch_step as lenet_torch_step
from benchmarks.conv import FLOOR, measure
from benchmarks.network_floor import network_floor

CLASSES = 11


def unet_batch(batch: int, size: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, size, size), dtype=np.float32)
    y = rng.integers(0, CLASSES, (batch, size, size))
    return x, y


def aprende_unet_step(x, y, seed: int, depth: int, width: int):
    import aprende
    from aprende import nn, optim
    from aprende.models import UNet

    aprende.manual_seed(seed)
    model = UNet(1, CLASSES, depth=depth, width=width)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    return training_step(model, opt, loss_fn, aprende.tensor(x), aprende.tensor(y)), model


def torch_unet(depth: int, width: int):
    """PyTorch's U-Net with the module names of ``aprende.models.UNet``, so that one
    ``state_dict`` loads into the other."""
    import torch
    from torch import nn

    def block(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        )  # fmt: skip

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [width * 2**i for i in range(depth + 1)]
            self.encoder = nn.ModuleList(
                [block(1, widths[0])]
                + [block(widths[i - 1], widths[i]) for i in range(1, depth + 1)]
            )
            self.pool = nn.MaxPool2d(2)
            self.up = nn.ModuleList(
                [
                    nn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2)
                    for i in range(depth, 0, -1)
                ]
            )
            self.decoder = nn.ModuleList(
                [block(2 * widths[i - 1], widths[i - 1]) for i in range(depth, 0, -1)]
            )
            self.head = nn.Conv2d(widths[0], CLASSES, 1)

        def forward(self, x):
            skips = []
            for level, layer in enumerate(self.encoder):
                x = layer(x if level == 0 else self.pool(x))
                skips.append(x)
            skips.pop()
            for up, layer in zip(self.up, self.decoder, strict=True):
                x = layer(torch.cat([up(x), skips.pop()], dim=1))
            return self.head(x)

    return UNet()


def torch_unet_step(x, y, state: dict, depth: int, width: int):
    import torch
    from torch import nn

    model = torch_unet(depth, width)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    return training_step(model, opt, loss_fn, torch.from_numpy(x), torch.from_numpy(y)), model


def _numpy_state(model) -> dict:
    return {k: np.asarray(v.numpy()) for k, v in model.state_dict().items()}


def build_step(tool: str, network: str, args):
    """The step function of ``tool`` ("aprende" or "torch") for ``network`` ("lenet"/"unet")."""
    if network == "lenet":
        rng = np.random.default_rng(args.seed)
        x = rng.random((64, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 64)
        step, model = lenet_aprende_step(x, y, args.seed)
        if tool == "torch":
            weights = [p.detach().numpy().copy() for p in model.parameters()]
            step = lenet_torch_step(x, y, weights)[0]
        return step
    x, y = unet_batch(args.batch, args.size, args.seed)
    step, model = aprende_unet_step(x, y, args.seed, args.depth, args.width)
    if tool == "torch":
        step = torch_unet_step(x, y, _numpy_state(model), args.depth, args.width)[0]
    return step


def floor_step(args):
    """The GEMM floor of the U-Net step (``benchmarks.network_floor``)."""
    import aprende

    x, y = unet_batch(args.batch, args.size, args.seed)
    model = aprende_unet_step(x, y, args.seed, args.depth, args.width)[1]
    return network_floor(model, aprende.tensor(x))


def _resident_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (the high-water mark) of this process, in KiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_step_memory(tool: str, network: str, args) -> float:
    """MiB a step needs beyond what was resident before it (run in a fresh process)."""
    from threadpoolctl import threadpool_limits

    if tool == "torch":
        import torch

        torch.set_num_threads(args.threads)
    step = build_step(tool, network, args)
    before = _resident_kib("VmRSS")
    with threadpool_limits(limits=args.threads):
        for _ in range(10):
            step()
    return (_resident_kib("VmHWM") - before) / 1024


def _memory_in_subprocess(tool: str, network: str, args) -> float | None:
    command = [sys.executable, "-m", "benchmarks.unet_step", "--memory-of", tool, network]
    for flag in ("batch", "size", "depth", "width", "threads", "seed"):
        command += [f"--{flag}", str(getattr(args, flag))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {tool} {network}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return float(done.stdout.strip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=32, help="image side (a multiple of 4)")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", action="store_true", help="also measure peak step memory")
    parser.add_argument("--memory-of", nargs=2, metavar=("TOOL", "NETWORK"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a few steps: checks that it runs")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.memory_of:
        print(f"{peak_step_memory(*args.memory_of, args):.2f}")
        return 0
    if args.quick:
        args.batch, args.size, args.width, args.repeats, args.warmup = 2, 16, 4, 2, 1
    from threadpoolctl import threadpool_limits

    steps = {"aprende": build_step("aprende", "unet", args), FLOOR: floor_step(args)}
    try:
        import torch

        torch.set_num_threads(args.threads)
        steps["torch"] = build_step("torch", "unet", args)
    except ImportError:
        print("PyTorch is not installed: timing aprende alone", file=sys.stderr)
    with threadpool_limits(limits=args.threads):
        times = measure(steps, args.repeats, args.warmup)
    medians = {name: statistics.median(values) for name, values in times.items()}
    shape = f"{args.batch} × 1 × {args.size} × {args.size}"
    print(f"U-Net (depth {args.depth}, width {args.width}) training step, batch {shape}, "
          f"{CLASSES} classes per pixel, {args.threads} thread(s)")  # fmt: skip
    print_medians(medians, args.repeats, target=1.5)
    report = {"batch": args.batch, "size": args.size, "threads": args.threads, "medians_s": medians}
    if args.memory:
        print("Peak memory of a step beyond what was resident before it (MiB, fresh process each):")
        report["peak_mib"] = {}
        for network in ("lenet", "unet"):
            row = {
                tool: _memory_in_subprocess(tool, network, args) for tool in steps if tool != FLOOR
            }
            report["peak_mib"][network] = row
            shown = "  ".join(f"{t} {m:7.1f}" for t, m in row.items() if m is not None)
            print(f"  {network:6s} {shown}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
