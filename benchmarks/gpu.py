"""GPU check: the device tests on a real GPU, then aprende on CuPy against PyTorch CUDA eager.

Run from the repository root on a machine with an NVIDIA GPU, CuPy and PyTorch (CUDA)::

    python -m benchmarks.gpu                      # tests, then timings (under 5 minutes)
    python -m benchmarks.gpu --quick              # smaller data, fewer repeats
    python -m benchmarks.gpu --skip-tests --out gpu.md
    python -m benchmarks.gpu --device cpu         # a dry run: NumPy vs PyTorch CPU, tiny sizes

Works from a bare checkout too: when ``import aprende`` fails, ``src/`` is put on the path.

1. The tests: ``pytest --cuda=real -x`` over the selection in ``TEST_SELECTION`` (the device
   tests, and the cases of the reference tests parametrised by device), pass/fail counts
   reported; a failure does not stop the timings.
2. The timings, both frameworks in one process, taking turns (the order reversing every round,
   ``benchmarks.conv.measure``), each timed unit ending with a device synchronize so the clock
   reads finished work: one epoch of the MLP configs A-C of ``benchmarks.mlp`` (A is the
   MNIST-sized 784-128-10 MLP, 60,000 x 784), and the LeNet-5 training step of
   ``benchmarks.cnn_step``. The data lives on the device; only the epoch's permutation is
   uploaded, once per epoch, for both.
3. A markdown table of medians and ratios aprende / PyTorch with the targets, to stdout and to
   ``--out``.

Exit status: 0; 1 when a test or a timing failed; 2 when CuPy or a GPU is missing (the reason
in one line).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import glob
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import cnn_step, mlp
from benchmarks.conv import measure

REPO_ROOT = Path(__file__).resolve().parents[1]
PROG = "python -m benchmarks.gpu"
TIME_BUDGET_S = 270.0  # the whole check stays under 5 minutes; later workloads are skipped
TEST_BUDGET_S = 150.0  # all the pytest runs together (--quick: half)

# (files, -k expression): the device tests run whole; of the reference tests, the cases
# parametrised by device run on "cuda" only (their CPU cases run in the ordinary suite).
TEST_SELECTION = [
    (("tests/test_device_*.py",), None),
    (
        (
            "tests/test_ops_torch.py",
            "tests/test_fused_ops.py",
            "tests/test_conv.py",
            "tests/test_pool.py",
            "tests/test_nn_losses.py",
            "tests/test_reduce_torch.py",
            "tests/test_shape_torch.py",
            "tests/test_math_torch.py",
        ),
        "cuda",
    ),
]
MLP_CONFIGS = ("A", "B", "C")
# Targets: a workload's aprende / PyTorch ratio at most "ratio", its aprende time below "seconds".
TARGETS = {"MLP C epoch": ("ratio", 1.5), "MLP A epoch": ("seconds", 1.0)}


def ensure_aprende_importable() -> None:
    """Put the checkout's ``src/`` on the path when aprende is not installed."""
    if importlib.util.find_spec("aprende") is None:
        sys.path.insert(0, str(REPO_ROOT / "src"))


# --------------------------------------------------------------------------- the tests
@dataclasses.dataclass
class SuiteRun:
    """One pytest run over part of the selection: its counts, or why it did not run."""

    label: str
    counts: dict[str, int]
    returncode: int | None
    note: str = ""

    @property
    def failed(self) -> bool:
        bad = self.counts.get("failed", 0) + self.counts.get("errors", 0)
        return bad > 0 or self.returncode not in (0, 5, None)  # 5: nothing collected


def parse_pytest_summary(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line ("3 failed, 10 passed, 2 skipped in 1.2s")."""
    lines = [line for line in output.splitlines() if re.search(r"\bin [\d.]+s\b", line)]
    if not lines:
        return {}
    counts = {}
    for number, word in re.findall(r"(\d+) ([a-z]+)", lines[-1]):
        word = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[word] = int(number)
    return counts


def pytest_commands(selection=TEST_SELECTION, root: Path = REPO_ROOT) -> list[tuple[str, list]]:
    """(label, pytest arguments) for each part of the selection whose files exist."""
    commands = []
    for patterns, keyword in selection:
        files = sorted({f for p in patterns for f in glob.glob(p, root_dir=root)})
        label = ", ".join(patterns) if keyword is None else f"{len(patterns)} reference files"
        label += "" if keyword is None else f" (-k {keyword})"
        # addopts emptied: the project's own -q on top of ours would hide the summary line
        args = [*files, "--cuda=real", "-o", "addopts=", "-q", "-x", "-p", "no:cacheprovider"]
        args += ["-k", keyword] if keyword else []
        commands.append((label, args if files else []))
    return commands


def run_tests(budget: float, selection=TEST_SELECTION, root: Path = REPO_ROOT) -> list[SuiteRun]:
    """Each part of the selection in a pytest subprocess, with ``src/`` on its path, all of
    them within ``budget`` seconds."""
    if importlib.util.find_spec("pytest") is None:
        return [SuiteRun("tests", {}, None, "not run: pytest is not installed")]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT / "src"), str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    runs = []
    deadline = time.monotonic() + budget
    for label, args in pytest_commands(selection, root):
        timeout = max(1.0, deadline - time.monotonic())
        if not args:
            runs.append(SuiteRun(label, {}, None, "not run: no such test files"))
            continue
        print(f"pytest {label} ...", flush=True)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", *args],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            runs.append(SuiteRun(label, {}, None, f"stopped after {timeout:.0f} s"))
            continue
        counts = parse_pytest_summary(done.stdout)
        errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        note = "" if counts else (errors or done.stderr.strip().splitlines() or ["no summary"])[-1]
        run = SuiteRun(label, counts, done.returncode, note)
        if run.failed:  # the failure's own lines, for whoever reads the log
            print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", flush=True)
        runs.append(run)
    return runs


# --------------------------------------------------------------------------- the device
@dataclasses.dataclass
class Device:
    """Where the timings run: the array module and synchronize of each framework."""

    name: str  # "cuda" or "cpu"
    xp: object  # cupy or numpy
    sync: Callable[[], None]
    torch: object | None  # the torch module, None when PyTorch (CUDA) is missing
    torch_sync: Callable[[], None]
    description: str
    note: str = ""


def open_device(name: str) -> tuple[Device | None, str | None]:
    """(the device, None), or (None, why it cannot be used)."""
    import aprende

    reason = None if name == "cpu" else aprende.cuda.unavailable_reason()
    if reason is not None:
        return None, reason
    torch, torch_note = _torch_on(name)
    if name == "cpu":
        torch_version = f", PyTorch {torch.__version__}" if torch else ""
        return Device(
            "cpu", np, _nothing, torch, _nothing, f"CPU, NumPy {np.__version__}{torch_version}"
        ), None
    import cupy

    description = (
        f"{aprende.cuda.get_device_name()}, CuPy {cupy.__version__} "
        f"(CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()})"
    )
    if torch is not None:
        description += f", PyTorch {torch.__version__} (CUDA {torch.version.cuda})"
    return Device(
        "cuda",
        cupy,
        lambda: cupy.cuda.Device().synchronize(),
        torch,
        (lambda: torch.cuda.synchronize()) if torch else _nothing,
        description,
        torch_note,
    ), None


def _nothing() -> None:
    pass


def _torch_on(name: str):
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed: aprende timed alone"
    if name == "cuda" and not torch.cuda.is_available():
        return None, "PyTorch has no CUDA here: aprende timed alone"
    return torch, ""


# --------------------------------------------------------------------------- the workloads
@dataclasses.dataclass
class Row:
    """One line of the table: a workload's median seconds per unit in each framework."""

    name: str
    description: str
    aprende_s: float | None = None
    torch_s: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.aprende_s is None or not self.torch_s:
            return None
        return self.aprende_s / self.torch_s

    def target(self, full_size: bool = True) -> tuple[str, bool | None]:
        """The target's text and whether it is met (None: no target, not measured, or a time
        target on data smaller than the target's 60,000 examples)."""
        if self.name not in TARGETS:
            return "", None
        kind, limit = TARGETS[self.name]
        if kind == "ratio":
            return f"≤ {limit}x PyTorch", None if self.ratio is None else self.ratio <= limit
        judged = full_size and self.aprende_s is not None
        return f"< {limit} s", self.aprende_s < limit if judged else None


def mlp_epochs(cfg, dev: Device, samples: int, seed: int) -> dict[str, Callable[[], None]]:
    """One epoch of ``cfg`` per call, for aprende and PyTorch, the data on the device."""
    import aprende

    X, y = mlp.mnist_like(samples, seed)
    xp, n = dev.xp, len(X)
    permutations = np.random.default_rng(seed)
    ours = mlp.AprendeTool()
    ours.load()
    model, loss_fn, optimizer, _ = ours.build(cfg, seed)
    model.to(dev.name)
    X_dev, y_dev = xp.asarray(X), xp.asarray(y)

    def aprende_epoch():
        order = xp.asarray(permutations.permutation(n))
        for start in range(0, n, cfg.batch_size):
            index = order[start : start + cfg.batch_size]
            xb = aprende.Tensor(xp.take(X_dev, index, axis=0))
            loss = loss_fn(model(xb), aprende.Tensor(xp.take(y_dev, index)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        dev.sync()

    epochs = {"aprende": aprende_epoch}
    if dev.torch is not None:
        torch = dev.torch
        theirs = mlp.TorchTool()
        theirs.load()
        t_model, t_loss_fn, t_optimizer, _ = theirs.build(cfg, seed)
        t_model.to(dev.name)  # in place: the optimizer keeps the same parameters
        X_t, y_t = torch.from_numpy(X).to(dev.name), torch.from_numpy(y).to(dev.name)

        def torch_epoch():
            order = torch.from_numpy(permutations.permutation(n)).to(dev.name)
            for start in range(0, n, cfg.batch_size):
                index = order[start : start + cfg.batch_size]
                loss = t_loss_fn(t_model(X_t.index_select(0, index)), y_t.index_select(0, index))
                t_optimizer.zero_grad()
                loss.backward()
                t_optimizer.step()
            dev.torch_sync()

        epochs["torch"] = torch_epoch
    return epochs


def lenet_steps(dev: Device, batch: int, seed: int) -> dict[str, Callable[[], None]]:
    """One LeNet-5 training step per call, both frameworks from the same weights."""
    import aprende
    from aprende import backend, nn, optim

    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    _, model = cnn_step.aprende_step(x, y, seed)
    weights = [backend.to_numpy(p.data).copy() for p in model.parameters()]
    model.to(dev.name)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xa, ya = aprende.Tensor(dev.xp.asarray(x)), aprende.Tensor(dev.xp.asarray(y))

    def aprende_step():
        optimizer.zero_grad()
        loss_fn(model(xa), ya).backward()
        optimizer.step()
        dev.sync()

    steps = {"aprende": aprende_step}
    if dev.torch is not None:
        torch = dev.torch
        _, t_model = cnn_step.torch_step(x, y, weights)
        t_model.to(dev.name)
        t_optimizer = torch.optim.SGD(t_model.parameters(), lr=0.01, momentum=0.9)
        t_loss_fn = torch.nn.CrossEntropyLoss()
        xt, yt = torch.from_numpy(x).to(dev.name), torch.from_numpy(y).to(dev.name)

        def torch_step():
            t_optimizer.zero_grad()
            t_loss_fn(t_model(xt), yt).backward()
            t_optimizer.step()
            dev.torch_sync()

        steps["torch"] = torch_step
    return steps


def time_workloads(dev: Device, args, deadline: float) -> list[Row]:
    """Every workload's row; one that fails or finds the time budget spent says so and the
    rest still run."""
    plans = [
        (
            f"MLP {name} epoch",
            f"{mlp.CONFIGS[name].describe()}, {args.samples:,} x 784",
            lambda name=name: mlp_epochs(mlp.CONFIGS[name], dev, args.samples, args.seed),
            args.repeats,
            args.warmup,
        )
        for name in MLP_CONFIGS
    ]
    plans.append(
        (
            "LeNet-5 step",
            f"batch {args.batch} x 1 x 28 x 28, SGD(lr=0.01, momentum=0.9)",
            lambda: lenet_steps(dev, args.batch, args.seed),
            args.step_repeats,
            args.warmup,
        )
    )
    rows = []
    for name, description, build, repeats, warmup in plans:
        row = Row(name, description)
        rows.append(row)
        if time.monotonic() > deadline:
            row.note = "not run: the time budget was spent"
            continue
        print(f"timing {name} ...", flush=True)
        try:
            times = measure(build(), repeats, warmup)
        except Exception as error:  # noqa: BLE001 - one broken workload must not hide the rest
            row.note = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
            continue
        row.aprende_s = statistics.median(times["aprende"])
        row.torch_s = statistics.median(times["torch"]) if "torch" in times else None
    return rows


# --------------------------------------------------------------------------- the report
def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value >= 0.1 else f"{value * 1e3:.2f} ms"


def markdown_report(
    device: str,
    rows: list[Row],
    tests: list[SuiteRun],
    settings: str,
    on_gpu: bool = True,
    full_size: bool = True,
) -> str:
    """The report: what ran where, the test counts, the table of timings and targets (judged
    on a GPU only: the targets are a GPU's)."""
    lines = [
        "# GPU check" if on_gpu else "# GPU check, dry run on the CPU (the timings mean nothing)",
        "",
        f"- device: {device}",
        f"- date: {datetime.date.today().isoformat()}, commit {mlp._git_commit() or '?'}",
        f"- settings: {settings}",
        "",
        "## Tests",
        "",
    ]
    if not tests:
        lines.append("- not run")
    for run in tests:
        counts = ", ".join(f"{n} {word}" for word, n in run.counts.items()) or "no counts"
        status = "FAILED" if run.failed else "ok"
        lines.append(
            f"- {run.label}: {run.note}"
            if run.returncode is None
            else f"- {run.label}: {counts} ({status}){': ' + run.note if run.note else ''}"
        )
    lines += [
        "",
        "## Timings (medians, seconds per unit)",
        "",
        "| workload | setup | aprende | PyTorch | aprende / PyTorch | target | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        target, met = row.target(full_size)
        met = met if on_gpu else None
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x"
        met_text = {True: "yes", False: "NO", None: ""}[met]
        aprende_text = row.note if row.note else _seconds(row.aprende_s)
        lines.append(
            f"| {row.name} | {row.description} | {aprende_text} | {_seconds(row.torch_s)} "
            f"| {ratio} | {target} | {met_text} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, with --quick's and --device cpu's sizes filled in and checked."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="cuda (default); cpu: a dry run of the timings, NumPy vs PyTorch CPU, tiny sizes",
    )
    parser.add_argument("--quick", action="store_true", help="8,192 samples, fewer repeats")
    parser.add_argument("--skip-tests", action="store_true", help="the timings only")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/gpu.md"), help="the markdown report"
    )
    parser.add_argument("--samples", type=int, default=None, help="MLP examples (60,000)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs per MLP (3)")
    parser.add_argument("--step-repeats", type=int, default=None, help="timed LeNet steps (50)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed units first (1)")
    parser.add_argument("--batch", type=int, default=64, help="LeNet batch size (64)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.device == "cpu":
        sizes = dict(samples=512, repeats=1, step_repeats=2, warmup=0)
        args.batch = min(args.batch, 8)
    elif args.quick:
        sizes = dict(samples=8192, repeats=2, step_repeats=20, warmup=1)
    else:
        sizes = dict(samples=60_000, repeats=3, step_repeats=50, warmup=1)
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("samples", "repeats", "step_repeats", "batch"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1, got {getattr(args, key)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be at least 0, got {args.warmup}")
    return args


def main(argv=None) -> int:
    """``python -m benchmarks.gpu``: tests, timings, report; see the module's docstring."""
    args = parse_args(argv)
    deadline = time.monotonic() + TIME_BUDGET_S
    ensure_aprende_importable()
    dev, reason = open_device(args.device)
    if dev is None:
        print(f"{PROG}: {reason}", file=sys.stderr)
        return 2
    print(f"device: {dev.description}", flush=True)
    if dev.note:
        print(dev.note, flush=True)
    if args.skip_tests or args.device == "cpu":  # the dry run times only
        tests = []
    else:
        tests = run_tests(TEST_BUDGET_S / 2 if args.quick else TEST_BUDGET_S)
    rows = time_workloads(dev, args, deadline)
    settings = (
        f"--device {args.device}, {args.samples:,} MLP samples, {args.repeats} epoch(s) and "
        f"{args.step_repeats} LeNet steps timed after {args.warmup} warm-up"
    )
    on_gpu, full_size = args.device == "cuda", args.samples == 60_000
    report = markdown_report(dev.description, rows, tests, settings, on_gpu, full_size)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(f"wrote {args.out}")
    failed = any(run.failed for run in tests) or any(r.note.startswith("failed") for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
