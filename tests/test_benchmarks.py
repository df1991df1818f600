"""Smoke tests of the benchmark command (python -m benchmarks.mlp) and its bookkeeping.

Benchmarks are not timed tests: these check that the command runs, prints its table and
writes its JSON, and that the numbers it derives (flops, batches, denormal counts, goals) follow
the formulas written out here.
"""

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ sits beside the package, importable from the repository root only.
mlp = importlib.import_module("benchmarks.mlp")


def run_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.mlp", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quick_run_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    every = ("--configs", "A,B,C,D", "--memory", "--steps", "200", "--epochs", "1")
    done = run_command("--quick", "--tools", "aprende", *every, "--json", str(out))
    assert done.returncode == 0, done.stderr
    for header in mlp.COLUMNS:
        assert header in done.stdout
    for config in "ABCD":
        assert f"{config}: " in done.stdout  # its description line
    assert done.stdout.count(mlp.FLOOR) >= 4  # one floor row per config
    assert "Speed and memory goals" in done.stdout  # the overhead goal needs aprende alone

    report = json.loads(out.read_text())
    assert set(report) >= {"machine", "settings", "skipped", "configs", "goals"}
    assert {"numpy", "blas", "cpu_count", "tools"} <= set(report["machine"])
    assert list(report["configs"]) == ["A", "B", "C", "D"]
    for entry in report["configs"].values():
        result = entry["results"]["aprende"]
        assert {"median_s", "times_s", "gflops", "peak_mib", "overhead_pct"} <= set(result)
        assert result["median_s"] == np.median(result["times_s"]) > 0
        assert entry["gemm_floor_s"] == np.median(entry["gemm_floor"]["times_s"]) > 0
        assert len(result["warmup_times_s"]) == 1
    assert report["configs"]["D"]["steps"] == 200
    # Config C's Adam keeps parameters, gradients and two moments: the probe must see at
    # least three float32 copies of its 1.86 M parameters.
    n_params = sum(i * o + o for i, o in mlp.CONFIGS["C"].layers)
    assert report["configs"]["C"]["results"]["aprende"]["peak_mib"] > 3 * 4 * n_params / 2**20


def test_quick_alone_is_small_and_still_gives_medians():
    args = mlp.parse_args(["--quick"])
    assert (args.configs, args.tools) == (["A", "D"], ["aprende", "torch"])
    assert (args.samples, args.epochs, args.repeats, args.steps) == (256, 3, 3, 100)
    assert (args.memory, args.threads, args.warmup) == (False, 1, 1)
    explicit = mlp.parse_args(["--quick", "--configs", "B", "--threads", "2", "--memory"])
    assert (explicit.configs, explicit.threads, explicit.memory) == (["B"], 2, True)
    full = mlp.parse_args([])
    assert (full.configs, full.memory, full.threads, full.samples) == (
        ["A", "B", "C", "D"],
        True,
        None,
        60_000,
    )


def test_quick_run_with_peers_gives_ratios():
    peers = [name for name in ("torch", "sklearn") if importlib.util.find_spec(name)]
    if not peers:
        pytest.skip("neither torch nor scikit-learn is installed")
    done = run_command(
        "--quick", "--no-memory", "--configs", "A,D", "--tools", ",".join(["aprende", *peers])
    )
    assert done.returncode == 0, done.stderr
    for peer in peers:
        for config in "AD":  # a table row with the peer's time over aprende's
            assert re.search(rf"\b{config}\b\W+{peer}\b.*\d\.\d\dx", done.stdout), done.stdout
        assert f"aprende/{peer} time <= {mlp.TIME_GOALS['A', peer]}" in done.stdout
        assert f"aprende steps/s >= 2x {peer}'s" in done.stdout  # config D's goal


def test_denormal_check_reports_epoch_times_and_denormal_counts(tmp_path):
    out = tmp_path / "denormal.json"
    done = run_command("--denormal-check", "--samples", "256", "--epochs", "3", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("denormals in optimizer state") == 3
    result = json.loads(out.read_text())["denormal_check"]["aprende"]
    assert len(result["epoch_times_s"]) == len(result["denormals"]) == 3
    times = result["epoch_times_s"]
    assert result["late_over_early"] == pytest.approx(times[2] / times[1])


def test_bad_arguments_exit_with_a_message():
    done = run_command("--configs", "A,E")
    assert done.returncode == 2
    assert "--configs: expected a comma-separated subset of A,B,C,D, got 'A,E'" in done.stderr
    done = run_command("--epochs", "0")
    assert done.returncode == 2 and "--epochs must be at least 1, got 0" in done.stderr
    done = run_command("--threads", "0")
    assert done.returncode == 2 and "--threads must be at least 1, got 0" in done.stderr


def test_flops_count_forward_weight_and_input_gradients():
    work = mlp.Workload.of(mlp.CONFIGS["A"], 60_000)
    # first layer: forward + weight gradient (4 flops per weight); second: + input gradient (6)
    assert work.flops == 60_000 * (4 * 784 * 128 + 6 * 128 * 10)
    assert work.batch_sizes == {64: 937, 32: 1}  # 60,000 = 937 * 64 + 32
    d = mlp.Workload.of(mlp.CONFIGS["D"], 60_000)
    assert (d.samples, d.epochs, d.steps) == (150, 2_000, 20_000)  # 10 batches of <= 16 per epoch
    assert d.flops == 2_000 * 150 * (4 * 4 * 16 + 6 * 16 * 3)


def test_batch_loop_visits_every_sample_once_per_epoch():
    X = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10)
    seen = []
    mlp.batch_loop(lambda xb, yb: seen.append(yb), X, y, 4, 2, np.random.default_rng(0))
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    assert sorted(np.concatenate(seen[:3])) == list(range(10))
    assert sorted(np.concatenate(seen[3:])) == list(range(10))
    assert not np.array_equal(np.concatenate(seen[:3]), np.concatenate(seen[3:]))


def test_mnist_like_data_is_mnist_shaped():
    X, y = mlp.mnist_like(1000, seed=0)
    assert X.shape == (1000, 784) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    images = X.reshape(-1, 28, 28)
    assert not images[:, :4].any() and not images[:, :, -4:].any()  # always-zero border
    assert 0.6 < np.mean(X == 0) < 0.95  # mostly zero pixels, as in MNIST


def test_denormal_count():
    tiny = np.finfo(np.float32).tiny
    state = [np.array([0.0, tiny, tiny / 2, -tiny / 4, 1.0], np.float32), np.zeros(3, np.float32)]
    assert mlp.denormal_count(state) == 2


def test_goals_compare_aprende_to_peers():
    def result(median, peak=None):
        return {"median_s": median, "overhead_pct": 10.0, **({"peak_mib": peak} if peak else {})}

    configs = {
        "A": {"results": {"aprende": result(1.0), "torch": result(1.5), "sklearn": result(1.5)}},
        "C": {"results": {"aprende": result(1.0, 50), "torch": result(0.9, 100)}},
        "D": {"results": {"aprende": result(1.0), "torch": result(3.0)}},
    }
    goals = {
        (g["config"], g["goal"]): (round(g["measured"], 3), g["met"])
        for g in mlp.check_goals(configs)
    }
    assert goals == {
        ("A", "aprende/torch time <= 0.75"): (0.667, True),
        ("A", "aprende/sklearn time <= 0.5"): (0.667, False),
        ("C", "aprende/torch time <= 1.0"): (1.111, False),
        ("C", "aprende/torch peak memory <= 0.6"): (0.5, True),
        ("C", "aprende overhead over GEMM floor <= 30 %"): (10.0, True),
        ("D", "aprende steps/s >= 2x torch's"): (3.0, True),
    }


def test_sklearn_tool_trains_the_asked_epochs():
    pytest.importorskip("sklearn")
    tool = mlp.SklearnTool()
    assert tool.load() is None
    cfg = mlp.CONFIGS["D"]
    X, y = mlp.iris_like(seed=0)
    model = tool.build(cfg, seed=0)
    tool.train(model, X, y, cfg, 1)  # partial_fit: one epoch of 10 batches
    t_after_one = model.t_
    tool.train(model, X, y, cfg, 3)  # warm-started fit: three more epochs, no early stop
    assert (t_after_one, model.n_iter_, model.t_) == (150, 3, 150 + 3 * 150)
    assert model.coefs_[0].dtype == np.float32
