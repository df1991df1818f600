"""MLP training benchmark: aprende against PyTorch CPU eager and scikit-learn's MLPClassifier.

Run from the repository root (see benchmarks/README.md)::

    python -m benchmarks.mlp                      # configs A-D, every installed tool
    python -m benchmarks.mlp --quick              # seconds: A and D, aprende vs PyTorch, small
    python -m benchmarks.mlp --configs A,C --tools aprende,torch --json before.json
    python -m benchmarks.mlp --denormal-check     # config A, 6 epochs: do epoch times stay flat?

The four configurations train on synthetic data made in the process: MNIST-shaped
(60,000 x 784 float32, 10 classes, ~84 % exact-zero pixels and an always-zero border, like MNIST)
for A-C and iris-sized (150 x 4, 3 classes) for D. Every tool sees the same batching: a new
permutation per epoch, one fancy index (``np.take``) per batch, the last batch smaller, which is
what ``MLPClassifier`` does inside. The tools alternate epoch by epoch in one process (the order
rotating every round) so machine noise hits all of them alike; the table reports medians.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
import datetime
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOL_NAMES = ("aprende", "torch", "sklearn")


# --------------------------------------------------------------------------- configurations
@dataclasses.dataclass(frozen=True)
class Config:
    """One benchmark configuration: an MLP, its optimizer and its data.

    ``sizes`` are the layer widths (input, hidden..., classes); ``steps`` is None for the
    epoch-timed configurations and the number of optimizer steps of one timed run otherwise.
    """

    name: str
    sizes: tuple[int, ...]
    activation: str  # "relu" or "tanh"
    batch_size: int
    optimizer: str  # "sgd" (with momentum) or "adam"
    lr: float
    momentum: float = 0.0
    steps: int | None = None

    @property
    def layers(self) -> list[tuple[int, int]]:
        """(in_features, out_features) of each Linear layer."""
        return list(zip(self.sizes[:-1], self.sizes[1:], strict=True))

    def describe(self) -> str:
        """One line: widths, activation, batch size, optimizer."""
        opt = (
            f"SGD(lr={self.lr}, momentum={self.momentum})"
            if self.optimizer == "sgd"
            else f"Adam(lr={self.lr})"
        )
        widths = "-".join(map(str, self.sizes))
        return f"{widths} {self.activation}, batch {self.batch_size}, {opt}"


CONFIGS = {
    "A": Config("A", (784, 128, 10), "relu", 64, "sgd", 0.1, 0.9),
    "B": Config("B", (784, 512, 512, 10), "relu", 128, "adam", 1e-3),
    "C": Config("C", (784, 1024, 1024, 10), "relu", 256, "adam", 1e-3),
    "D": Config("D", (4, 16, 3), "tanh", 16, "sgd", 0.05, 0.9, steps=20_000),
}
IRIS_SAMPLES = 150

# The speed goals: aprende's median time / the peer's must be at most the target (for D,
# aprende's steps/s at least 1/target times the peer's).
TIME_GOALS = {
    ("A", "torch"): 0.75,
    ("A", "sklearn"): 0.5,
    ("B", "torch"): 1.0,
    ("B", "sklearn"): 0.5,
    ("C", "torch"): 1.0,
    ("C", "sklearn"): 0.5,
    ("D", "torch"): 0.5,
    ("D", "sklearn"): 0.5,
}
MEMORY_GOAL = ("C", "torch", 0.6)  # aprende's peak memory / torch's
OVERHEAD_GOAL = ("C", 30.0)  # aprende's time over the GEMM floor, in %


# --------------------------------------------------------------------------- data
def mnist_like(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 784) float32 images in [0, 1] and (n,) int64 labels of 10 classes.

    Each class has a template of "ink" probabilities over the central 20 x 20 pixels, 70 % a
    stroke layout shared by all classes and 30 % its own, squared; a sample lights each pixel
    with its class's probability, at an intensity in [0.8, 1) (MNIST's ink is near 1). As in
    MNIST ~84 % of the pixels are exactly zero and the 4-pixel border always is, and config A
    leaves some ReLU units dead: exactly-zero gradients, the path by which optimizer state
    decays into float32 denormals. Filled chunk by chunk so that no temporary the size of the
    data raises the process's peak memory.
    """
    rng = np.random.default_rng(seed)
    strokes = 0.7 * rng.random((20, 20), dtype=np.float32)
    templates = np.zeros((10, 28, 28), dtype=np.float32)
    templates[:, 4:24, 4:24] = (strokes + 0.3 * rng.random((10, 20, 20), dtype=np.float32)) ** 2
    templates = templates.reshape(10, 784)
    X = np.empty((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=n, dtype=np.int64)
    for start in range(0, n, 4096):
        rows = slice(start, start + 4096)
        lit = rng.random((len(y[rows]), 784), dtype=np.float32) < templates[y[rows]]
        X[rows] = lit * (0.8 + 0.2 * rng.random(lit.shape, dtype=np.float32))
    return X, y


def iris_like(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(150, 4) float32 features and (150,) int64 labels: three Gaussian blobs of 50."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 2.0, size=(3, 4))
    y = np.repeat(np.arange(3, dtype=np.int64), IRIS_SAMPLES // 3)
    X = (means[y] + rng.normal(size=(len(y), 4))).astype(np.float32)
    return X, y


def config_data(cfg: Config, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The data a configuration trains on."""
    return iris_like(seed) if cfg.steps is not None else mnist_like(samples, seed)


def batch_loop(step: Callable, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, rng):
    """Calls ``step(x_batch, y_batch)`` over ``epochs`` shuffled passes of (X, y).

    The batching every tool gets: a fresh permutation per epoch (as MLPClassifier's
    ``shuffle=True``), one ``np.take`` per array per batch (``mode="clip"`` skips the bounds
    check the permutation makes unnecessary), the last batch of an epoch smaller.
    """
    n = len(X)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            step(np.take(X, index, axis=0, mode="clip"), np.take(y, index, mode="clip"))


def denormal_count(arrays) -> int:
    """Entries with 0 < |x| < float32's smallest normal number (~1.18e-38)."""
    tiny = np.finfo(np.float32).tiny
    return int(sum(np.count_nonzero((a != 0) & (np.abs(a) < tiny)) for a in arrays))


# --------------------------------------------------------------------------- tools
class Tool(abc.ABC):
    """A framework under test: builds a model for a Config and trains it for some epochs."""

    name = ""

    @abc.abstractmethod
    def load(self) -> str | None:
        """Imports the library; returns None, or why the tool is skipped."""

    @abc.abstractmethod
    def version(self) -> str:
        """The library's version (and thread count where it has its own)."""

    @abc.abstractmethod
    def build(self, cfg: Config, seed: int):
        """A fresh model with its loss and optimizer (an opaque handle)."""

    @abc.abstractmethod
    def train(self, handle, X: np.ndarray, y: np.ndarray, cfg: Config, epochs: int) -> None:
        """Trains ``epochs`` shuffled passes over (X, y)."""

    @abc.abstractmethod
    def state_arrays(self, handle) -> list[np.ndarray]:
        """The optimizer's state arrays (momentum, Adam moments), for the denormal count."""


class _EagerTool(Tool):
    """aprende and PyTorch: the same PyTorch-style loop, the same batching (``batch_loop``)."""

    def train(self, handle, X, y, cfg, epochs):
        model, loss_fn, optimizer, rng = handle
        as_tensor = self.as_tensor

        def step(xb, yb):
            loss = loss_fn(model(as_tensor(xb)), as_tensor(yb))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        batch_loop(step, X, y, cfg.batch_size, epochs, rng)

    def build(self, cfg, seed):
        lib, nn = self.lib, self.lib.nn
        lib.manual_seed(seed)
        activation = nn.ReLU if cfg.activation == "relu" else nn.Tanh
        layers = []
        for i, (n_in, n_out) in enumerate(cfg.layers):
            layers += [nn.Linear(n_in, n_out)] + ([activation()] if i < len(cfg.layers) - 1 else [])
        model = nn.Sequential(*layers)
        if cfg.optimizer == "sgd":
            optimizer = lib.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        else:
            optimizer = lib.optim.Adam(model.parameters(), lr=cfg.lr)
        return model, nn.CrossEntropyLoss(), optimizer, np.random.default_rng(seed)

    def state_arrays(self, handle):
        optimizer = handle[2]
        return [
            self.to_numpy(value)
            for state in optimizer.state.values()
            for value in state.values()
            if hasattr(value, "shape")
        ]


class AprendeTool(_EagerTool):
    name = "aprende"

    def load(self):
        import aprende
        import aprende.nn
        import aprende.optim

        self.lib = aprende
        self.as_tensor = aprende.from_numpy
        return None

    def version(self):
        return getattr(self.lib, "__version__", "?")

    def to_numpy(self, value):
        return np.asarray(value.data)


class TorchTool(_EagerTool):
    name = "torch"

    def load(self):
        try:
            import torch
        except ImportError:
            return "PyTorch is not installed"
        self.lib = torch
        self.as_tensor = torch.from_numpy
        return None

    def version(self):
        return f"{self.lib.__version__} ({self.lib.get_num_threads()} threads)"

    def to_numpy(self, value):
        return value.detach().numpy()


class SklearnTool(Tool):
    """``MLPClassifier`` with the config's solver; ``partial_fit`` is one epoch.

    A multi-epoch call (config D's run of 20,000 steps) is one ``fit`` with ``warm_start`` and
    ``max_iter`` epochs, which avoids 2,000 input validations but starts a fresh optimizer state
    at each run (sklearn's ``fit`` always does); ``tol=0`` with ``n_iter_no_change=max_iter``
    turns early stopping off.
    """

    name = "sklearn"

    def load(self):
        try:
            import sklearn
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.neural_network import MLPClassifier
        except ImportError:
            return "scikit-learn is not installed"
        self.sklearn, self.MLPClassifier, self.ConvergenceWarning = (
            sklearn,
            MLPClassifier,
            ConvergenceWarning,
        )
        return None

    def version(self):
        return self.sklearn.__version__

    def build(self, cfg, seed):
        options = (
            dict(momentum=cfg.momentum, nesterovs_momentum=False) if cfg.optimizer == "sgd" else {}
        )
        return self.MLPClassifier(
            hidden_layer_sizes=cfg.sizes[1:-1],
            activation=cfg.activation,
            solver=cfg.optimizer,
            alpha=0.0,
            batch_size=cfg.batch_size,
            learning_rate_init=cfg.lr,
            shuffle=True,
            tol=0.0,
            warm_start=True,
            # An instance, not an int: an int would replay the same permutation every call.
            random_state=np.random.RandomState(seed),
            **options,
        )

    def train(self, handle, X, y, cfg, epochs):
        if epochs == 1:
            handle.partial_fit(X, y, classes=np.arange(cfg.sizes[-1]))
            return
        handle.set_params(max_iter=epochs, n_iter_no_change=epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.ConvergenceWarning)
            handle.fit(X, y)

    def state_arrays(self, handle):
        optimizer = getattr(handle, "_optimizer", None)
        names = ("velocities", "ms", "vs")
        return [a for name in names for a in getattr(optimizer, name, [])]


TOOLS: dict[str, type[Tool]] = {"aprende": AprendeTool, "torch": TorchTool, "sklearn": SklearnTool}


# --------------------------------------------------------------------------- work per unit
@dataclasses.dataclass(frozen=True)
class Workload:
    """What one timed unit trains: ``epochs`` passes over ``samples`` examples.

    For A-C a unit is one epoch; for D it is the run of ``cfg.steps`` steps (rounded up to
    whole epochs of the 150 examples, so every tool does exactly the same steps).
    """

    cfg: Config
    samples: int
    epochs: int

    @classmethod
    def of(cls, cfg: Config, samples: int) -> Workload:
        if cfg.steps is None:
            return cls(cfg, samples, 1)
        batches = math.ceil(IRIS_SAMPLES / cfg.batch_size)
        return cls(cfg, IRIS_SAMPLES, math.ceil(cfg.steps / batches))

    @property
    def batch_sizes(self) -> dict[int, int]:
        """{batch size: batches of that size} in one epoch."""
        full, rest = divmod(self.samples, self.cfg.batch_size)
        sizes = {self.cfg.batch_size: full} if full else {}
        if rest:
            sizes[rest] = 1
        return sizes

    @property
    def steps(self) -> int:
        """Optimizer steps in one unit."""
        return self.epochs * sum(self.batch_sizes.values())

    @property
    def flops(self) -> int:
        """Multiply-add flops of the linear layers in one unit, forward and backward.

        Per example and layer (in, out): 2·in·out forward (x Wᵀ), 2·in·out for ∂J/∂W (gᵀ x)
        and 2·in·out for ∂J/∂x (g W) except at the first layer, whose input needs no
        gradient (no tool computes it). Bias, activation and loss flops are not counted.
        """
        per_example = sum(
            (6 if i > 0 else 4) * n_in * n_out for i, (n_in, n_out) in enumerate(self.cfg.layers)
        )
        return per_example * self.samples * self.epochs


def gemm_replay(work: Workload) -> Callable[[], None]:
    """A function that runs one unit's matrix multiplies alone: its time is the GEMM floor.

    For every batch of every epoch and every layer with W of shape (out, in), a batch x (B, in)
    and an upstream gradient g (B, out): forward x @ Wᵀ, weight gradient gᵀ @ x and input
    gradient g @ W (not at the first layer), as ``np.matmul`` in float32 into reused ``out=``
    buffers, in the layouts of a framework that stores W as (out, in).
    """
    rng = np.random.default_rng(0)
    plan = []  # (batches of this size, [(a, b, out), ...])
    for batch, count in work.batch_sizes.items():
        products = []
        for i, (n_in, n_out) in enumerate(work.cfg.layers):
            x = rng.random((batch, n_in), dtype=np.float32)
            W = rng.random((n_out, n_in), dtype=np.float32)
            g = rng.random((batch, n_out), dtype=np.float32)
            products.append((x, W.T, np.empty((batch, n_out), np.float32)))
            products.append((g.T, x, np.empty_like(W)))
            if i > 0:
                products.append((g, W, np.empty_like(x)))
        plan.append((count, products))

    def replay() -> None:
        for _ in range(work.epochs):
            for count, products in plan:
                for _ in range(count):
                    for a, b, out in products:
                        np.matmul(a, b, out=out)

    return replay


# --------------------------------------------------------------------------- memory
def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field (VmRSS, VmHWM) in KiB, or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0, ``clear_refs`` value 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def memory_probe(cfg: Config, tool_name: str, samples: int, seed: int, threads=None) -> dict:
    """Peak resident memory (MiB) that building and training one unit adds to this process.

    Run in a fresh subprocess per tool and config, after the imports and the data: the peak
    RSS (VmHWM, reset to the current RSS just before) minus the RSS before the model exists.
    Off Linux, the growth of ``ru_maxrss`` (a lower bound).
    """
    tool = TOOLS[tool_name]()
    if reason := tool.load():
        return {"skipped": reason}
    limit_threads(threads, {tool_name: tool})
    work = Workload.of(cfg, samples)
    X, y = config_data(cfg, work.samples, seed)
    gc.collect()
    before = _status_kib("VmRSS")
    method = "VmHWM after clear_refs - VmRSS"
    if before is None or not _reset_peak_rss():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss growth"
    handle = tool.build(cfg, seed)
    tool.train(handle, X, y, cfg, work.epochs)
    if method.startswith("VmHWM"):
        peak = _status_kib("VmHWM")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak // 1024 if sys.platform == "darwin" else peak  # bytes there, KiB on Linux
    return {"peak_mib": (peak - before) / 1024, "memory_method": method}


def run_memory_probe(cfg: Config, tool_name: str, samples: int, seed: int, threads=None) -> dict:
    """``memory_probe`` in a fresh interpreter (so no other tool's allocations interfere)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.mlp",
        "--memory-probe",
        f"{cfg.name}:{tool_name}",
        "--samples",
        str(samples),
        "--seed",
        str(seed),
    ]
    if cfg.steps is not None:
        command += ["--steps", str(cfg.steps)]
    if threads is not None:
        command += ["--threads", str(threads)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- timing
FLOOR = "GEMM floor"  # the pseudo-tool that runs only the unit's matrix multiplies


def time_config(
    cfg: Config, tools: dict[str, Tool], samples: int, units: int, warmup: int, seed: int
) -> dict:
    """Trains cfg with every tool, alternating tool by tool each unit (the order rotating).

    The GEMM floor (``gemm_replay``) takes its turn like a tool, so it sees the same machine.
    Returns {name: {"times_s": [...], "warmup_times_s": [...]}} of wall-clock seconds per unit.
    """
    work = Workload.of(cfg, samples)
    X, y = config_data(cfg, work.samples, seed)
    runs = {FLOOR: gemm_replay(work)}
    for name, tool in tools.items():
        handle = tool.build(cfg, seed)
        runs[name] = lambda tool=tool, handle=handle: tool.train(handle, X, y, cfg, work.epochs)
    names = list(runs)
    times = {name: [] for name in names}
    for round_ in range(warmup + units):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()  # so one tool's garbage is not collected on another's clock
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {
        name: {"times_s": ts[warmup:], "warmup_times_s": ts[:warmup]} for name, ts in times.items()
    }


def summarise(cfg: Config, samples: int, timings: dict, memory: dict) -> dict:
    """Medians, rates, GEMM-floor share and overhead, memory, and each time over aprende's."""
    work = Workload.of(cfg, samples)
    floor = statistics.median(timings[FLOOR]["times_s"])
    out = {}
    for name, timing in timings.items():
        times = timing["times_s"]
        median = statistics.median(times)
        out[name] = {
            **timing,
            "median_s": median,
            "median_s_per_epoch": median / work.epochs,
            "spread": (max(times) - min(times)) / median,
            "steps_per_s": work.steps / median,
            "samples_per_s": work.samples * work.epochs / median,
            "gflops": work.flops / median / 1e9,
            "floor_fraction": floor / median,
            "overhead_pct": (median / floor - 1) * 100,
            **memory.get(name, {}),
        }
    if "aprende" in out:
        for result in out.values():
            result["time_vs_aprende"] = result["median_s"] / out["aprende"]["median_s"]
    return out


def check_goals(results: dict) -> list[dict]:
    """The goals that the measured configs and tools allow to check."""
    goals = []
    for (config, peer), target in TIME_GOALS.items():
        res = results.get(config, {}).get("results", {})
        if "aprende" in res and peer in res:
            ratio = res["aprende"]["median_s"] / res[peer]["median_s"]
            if config == "D":
                text, measured = f"aprende steps/s >= {1 / target:g}x {peer}'s", 1 / ratio
            else:
                text, measured = f"aprende/{peer} time <= {target}", ratio
            goals.append(
                {"config": config, "goal": text, "measured": measured, "met": ratio <= target}
            )
    config, peer, target = MEMORY_GOAL
    res = results.get(config, {}).get("results", {})
    if "peak_mib" in res.get("aprende", {}) and "peak_mib" in res.get(peer, {}):
        ratio = res["aprende"]["peak_mib"] / res[peer]["peak_mib"]
        goals.append(
            {
                "config": config,
                "goal": f"aprende/{peer} peak memory <= {target}",
                "measured": ratio,
                "met": ratio <= target,
            }
        )
    config, target = OVERHEAD_GOAL
    if "aprende" in results.get(config, {}).get("results", {}):
        overhead = results[config]["results"]["aprende"]["overhead_pct"]
        goals.append(
            {
                "config": config,
                "goal": f"aprende overhead over GEMM floor <= {target:g} %",
                "measured": overhead,
                "met": overhead <= target,
            }
        )
    return goals


# --------------------------------------------------------------------------- machine
def machine_info(tools: dict[str, Tool]) -> dict:
    """CPU, thread counts, NumPy and its BLAS, each tool's version."""
    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "blas": _blas_info(),
        "tools": {name: tool.version() for name, tool in tools.items()},
        "commit": _git_commit(),
    }
    if "torch" in tools:
        info["torch_threads"] = tools["torch"].lib.get_num_threads()
    return info


def _git_commit() -> str | None:
    """HEAD of the repository, with "+dirty" when tracked files have changed; None without git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _blas_info() -> dict:
    """NumPy's BLAS: name and version from ``np.show_config``, threads and kernel if known."""
    info = {}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info = {"name": blas.get("name"), "version": blas.get("version")}
    except (TypeError, KeyError):  # NumPy < 1.26 prints instead of returning dicts
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return info
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
            info.update(threads=pool.get("num_threads"), kernel=pool.get("architecture"))
    return info


# --------------------------------------------------------------------------- report
COLUMNS = (
    "config",
    "tool",
    "s/epoch",
    "steps/s",
    "samples/s",
    "GFLOP/s",
    "floor/time",
    "overhead",
    "peak MiB",
    "spread",
    "vs aprende",
)


def table_rows(results: dict) -> list[list[str]]:
    """One row of formatted cells per (config, tool), then the config's GEMM floor."""
    rows = []
    for config, entry in results.items():
        for name, r in {**entry["results"], FLOOR: entry["gemm_floor"]}.items():
            peak = r.get("peak_mib")
            rows.append(
                [
                    config,
                    name,
                    f"{r['median_s_per_epoch']:.4g}",
                    f"{r['steps_per_s']:,.0f}",
                    f"{r['samples_per_s']:,.0f}",
                    f"{r['gflops']:.1f}",
                    f"{r['floor_fraction']:.2f}",
                    f"{r['overhead_pct']:+.0f} %",
                    f"{peak:.0f}" if peak is not None else r.get("memory_note", "-"),
                    f"{r['spread'] * 100:.0f} %",
                    f"{r['time_vs_aprende']:.2f}x" if "time_vs_aprende" in r else "-",
                ]
            )
    return rows


def print_table(title: str, columns, rows) -> None:
    """With rich when installed (wide enough not to wrap when piped), else plain text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(str(c)), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        print(title)
        for line in [columns, *rows]:
            print("  ".join(str(cell).rjust(w) for cell, w in zip(line, widths, strict=True)))
        return
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def print_report(report: dict) -> None:
    """The machine, the configs, the results table and the goals."""
    machine = report["machine"]
    blas = machine["blas"]
    print(
        f"{machine['date']}  {machine['cpu']}, {machine['cpus_usable']} usable CPUs; "
        f"numpy {machine['numpy']} ({blas.get('name', '?')} {blas.get('version', '')}, "
        f"{blas.get('threads', '?')} threads, {blas.get('kernel', '?')} kernel)"
    )
    print("tools: " + ", ".join(f"{k} {v}" for k, v in machine["tools"].items()))
    print(f"commit: {machine['commit']}")
    for name, reason in report["skipped"].items():
        print(f"skipped {name}: {reason}")
    for config, entry in report["configs"].items():
        unit = f"{entry['steps']} steps" if entry["epochs"] > 1 else "1 epoch"
        print(
            f"{config}: {entry['description']}; {entry['samples']} samples; unit {unit}, "
            f"{entry['gflop_per_unit']:.3g} GFLOP; GEMM floor {entry['gemm_floor_s']:.4g} s/unit"
        )
    print_table(
        "Medians over the timed units, per tool and config",
        COLUMNS,
        table_rows(report["configs"]),
    )
    print(
        "GEMM floor: the unit's matrix multiplies alone (np.matmul), timed in turn with the "
        "tools; floor/time: its share of a tool's time; overhead: time over that floor; "
        "vs aprende: this tool's time / aprende's (> 1: aprende is faster); "
        "peak MiB: resident memory a fresh process adds to build and train one unit."
    )
    if report["goals"]:
        rows = [
            [g["config"], g["goal"], f"{g['measured']:.2f}", "met" if g["met"] else "MISSED"]
            for g in report["goals"]
        ]
        print_table("Speed and memory goals", ("config", "goal", "measured", "status"), rows)


# --------------------------------------------------------------------------- commands
def load_tools(names: list[str]) -> tuple[dict[str, Tool], dict[str, str]]:
    """The tools that import, and {name: reason} for the skipped ones."""
    tools, skipped = {}, {}
    for name in names:
        tool = TOOLS[name]()
        reason = tool.load()
        if reason:
            skipped[name] = reason
        else:
            tools[name] = tool
    return tools, skipped


def limit_threads(threads: int | None, tools: dict[str, Tool]) -> None:
    """``--threads``: caps every loaded BLAS/OpenMP pool (threadpoolctl) and PyTorch's threads."""
    if threads is None:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    if "torch" in tools:
        tools["torch"].lib.set_num_threads(threads)


def benchmark(args) -> dict:
    """Times every config with every tool; returns the report (also what --json writes)."""
    tools, skipped = load_tools(args.tools)
    limit_threads(args.threads, tools)
    # The libraries' own objects (PyTorch's are many) never become garbage: frozen, the
    # gc.collect() before each timed unit scans only what the runs make (0.13 s -> ms each).
    gc.collect()
    gc.freeze()
    report = {
        "machine": machine_info(tools),
        "skipped": skipped,
        "configs": {},
    }
    for name in args.configs:
        cfg = (
            dataclasses.replace(CONFIGS[name], steps=args.steps)
            if CONFIGS[name].steps
            else CONFIGS[name]
        )
        work = Workload.of(cfg, args.samples)
        units = args.repeats if cfg.steps else args.epochs
        print(f"timing {name} ({cfg.describe()}) with {', '.join(tools)} ...", flush=True)
        timings = time_config(cfg, tools, args.samples, units, args.warmup, args.seed)
        memory = {}
        if args.memory:
            for tool_name in tools:
                probe = run_memory_probe(cfg, tool_name, args.samples, args.seed, args.threads)
                memory[tool_name] = (
                    probe if "peak_mib" in probe else {"memory_note": "failed", **probe}
                )
        report["configs"][name] = {
            "description": cfg.describe(),
            "layers": cfg.layers,
            "batch_size": cfg.batch_size,
            "optimizer": cfg.optimizer,
            "lr": cfg.lr,
            "momentum": cfg.momentum,
            "samples": work.samples,
            "epochs": work.epochs,
            "steps": work.steps,
            "gflop_per_unit": work.flops / 1e9,
            "results": summarise(cfg, args.samples, timings, memory),
        }
        entry = report["configs"][name]
        entry["gemm_floor"] = entry["results"].pop(FLOOR)
        entry["gemm_floor_s"] = entry["gemm_floor"]["median_s"]
    report["goals"] = check_goals(report["configs"])
    return report


def denormal_check(args) -> dict:
    """Config A for --epochs epochs (default 6): epoch times and denormals in optimizer state."""
    tools, skipped = load_tools(args.tools)
    limit_threads(args.threads, tools)
    cfg = CONFIGS["A"]
    X, y = config_data(cfg, args.samples, args.seed)
    handles = {name: tool.build(cfg, args.seed) for name, tool in tools.items()}
    out = {name: {"epoch_times_s": [], "denormals": []} for name in tools}
    for epoch in range(args.epochs):
        for name, tool in tools.items():
            gc.collect()
            start = time.perf_counter()
            tool.train(handles[name], X, y, cfg, 1)
            out[name]["epoch_times_s"].append(time.perf_counter() - start)
            out[name]["denormals"].append(denormal_count(tool.state_arrays(handles[name])))
            print(
                f"epoch {epoch + 1}  {name:8s} {out[name]['epoch_times_s'][-1]:.3f} s  "
                f"denormals in optimizer state: {out[name]['denormals'][-1]}",
                flush=True,
            )
    for name, result in out.items():
        # Medians of the later half over the earlier half of the epochs after the first: a
        # slowdown that builds up shows as a ratio above 1, a lone spike of load does not.
        times = result["epoch_times_s"][1:] or result["epoch_times_s"]
        half = max(1, len(times) // 2)
        result["late_over_early"] = statistics.median(times[-half:]) / statistics.median(
            times[:half]
        )
        print(
            f"{name}: median epoch time, later half / earlier half (first epoch excluded): "
            f"{result['late_over_early']:.2f}"
        )
    return {"machine": machine_info(tools), "skipped": skipped, "denormal_check": out}


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, with --quick's and the mode's defaults filled in and checked."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mlp",
        description="Train the four MLP configs with aprende, PyTorch and scikit-learn; "
        "print medians, throughput, GEMM-floor overhead, peak memory and ratios.",
    )
    parser.add_argument(
        "--configs",
        default=None,
        help="comma-separated subset of A,B,C,D (default: all; --quick: A,D)",
    )
    parser.add_argument(
        "--tools",
        default=None,
        help="comma-separated subset of aprende,torch,sklearn "
        "(default: all; --quick: aprende,torch; --denormal-check: aprende)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="timed epochs per tool for A-C (default 3; --denormal-check: 6)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed runs of D's steps per tool (default 3)"
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed units first (default 1)")
    parser.add_argument(
        "--samples",
        type=int,
        default=None,
        help="examples of the MNIST-shaped data (default 60000)",
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="optimizer steps of one D run (default 20000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="cap NumPy's BLAS and PyTorch at this many threads "
        "(default: each library's own; --quick: 1)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="write all results to this JSON file"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a run of seconds: configs A and D, aprende and PyTorch, 256 samples, medians "
        "of 3 epochs and of 3 runs of 100 steps, 1 thread, no memory probes",
    )
    parser.add_argument(
        "--memory",
        dest="memory",
        action="store_true",
        default=None,
        help="measure peak memory in fresh processes (default, but not with --quick)",
    )
    parser.add_argument(
        "--no-memory", dest="memory", action="store_false", help="skip the peak-memory subprocesses"
    )
    parser.add_argument(
        "--denormal-check",
        action="store_true",
        help="config A, several epochs: per-epoch times and denormal counts",
    )
    parser.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    # --quick: the smallest run that still gives each peer's ratio to aprende as a median of
    # three (the memory probes, a fresh process per config and tool, would take most of it);
    # one thread, as on a busy machine two BLAS threads wait for each other (10.6 s -> 3.8 s).
    defaults = dict(
        epochs=6 if args.denormal_check else 3,
        repeats=3,
        warmup=1,
        samples=256 if quick else 60_000,
        steps=100 if quick else 20_000,
        configs="A,D" if quick else "A,B,C,D",
        memory=not quick,
        threads=1 if quick else None,
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.configs = _choices(parser, args.configs, CONFIGS, "--configs")
    default_tools = (
        "aprende" if args.denormal_check else "aprende,torch" if quick else ",".join(TOOL_NAMES)
    )
    args.tools = _choices(parser, args.tools or default_tools, TOOLS, "--tools")
    for key in ("epochs", "repeats", "samples", "steps"):
        if getattr(args, key) < 1:
            parser.error(f"--{key} must be at least 1, got {getattr(args, key)}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.warmup < 0:
        parser.error(f"--warmup must be at least 0, got {args.warmup}")
    return args


def _choices(parser, text: str, allowed, flag: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        parser.error(
            f"{flag}: expected a comma-separated subset of {','.join(allowed)}, got {text!r}"
        )
    return names


def main(argv=None) -> int:
    """``python -m benchmarks.mlp``: benchmark, denormal check, or (internal) a memory probe."""
    args = parse_args(argv)
    if args.memory_probe:
        config, tool = args.memory_probe.split(":")
        cfg = (
            dataclasses.replace(CONFIGS[config], steps=args.steps)
            if CONFIGS[config].steps
            else CONFIGS[config]
        )
        print(json.dumps(memory_probe(cfg, tool, args.samples, args.seed, args.threads)))
        return 0
    if args.denormal_check:
        report = denormal_check(args)
    else:
        report = benchmark(args)
        print_report(report)
    report["settings"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
