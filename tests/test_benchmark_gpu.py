"""The GPU check (python -m benchmarks.gpu) on a machine without a GPU: its command line, its
bookkeeping (pytest's counts, targets, the markdown table), the exit with a reason, and a dry
run of its timings on the CPU. Needs neither CuPy nor PyTorch."""

import importlib
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
gpu = importlib.import_module("benchmarks.gpu")


def test_default_quick_and_dry_run_sizes():
    args = gpu.parse_args([])
    assert (args.device, args.samples, args.repeats, args.step_repeats, args.warmup) == (
        "cuda",
        60_000,
        3,
        50,
        1,
    )
    assert args.out == Path("benchmarks/results/gpu.md") and not args.skip_tests
    quick = gpu.parse_args(["--quick", "--skip-tests", "--out", "x.md"])
    assert (quick.samples, quick.repeats, quick.step_repeats) == (8192, 2, 20)
    assert quick.skip_tests and quick.out == Path("x.md")
    dry = gpu.parse_args(["--device", "cpu", "--batch", "64"])
    assert (dry.samples, dry.repeats, dry.step_repeats, dry.warmup, dry.batch) == (512, 1, 2, 0, 8)
    assert gpu.parse_args(["--quick", "--samples", "1000"]).samples == 1000  # given beats quick


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--samples", "0"], "--samples must be at least 1, got 0"),
        (["--step-repeats", "0"], "--step-repeats must be at least 1, got 0"),
        (["--warmup", "-1"], "--warmup must be at least 0, got -1"),
        (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        gpu.parse_args(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "counts"),
    [
        ("2 failed, 10 passed, 1 skipped, 3 deselected in 1.23s", dict(failed=2, passed=10)),
        ("==== 5 passed, 1 warning in 2.00s ====", dict(passed=5, warnings=1)),
        ("1 error in 0.50s", dict(errors=1)),
        ("no tests ran in 0.01s", {}),
    ],
)
def test_pytest_summary_counts(line, counts):
    output = f"....F\nsome test output 3 passed earlier\n{line}\n"
    parsed = gpu.parse_pytest_summary(output)
    assert {k: v for k, v in parsed.items() if k in counts} == counts
    assert "earlier" not in parsed  # only the summary line counts


def test_pytest_summary_absent():
    assert gpu.parse_pytest_summary("ERROR: unrecognized arguments: --cuda=real\n") == {}


def test_a_run_fails_on_failed_or_errored_tests_or_a_bad_status():
    assert not gpu.SuiteRun("t", {"passed": 3}, 0).failed
    assert not gpu.SuiteRun("t", {"deselected": 3}, 5).failed  # nothing selected is no failure
    assert gpu.SuiteRun("t", {"passed": 3, "failed": 1}, 1).failed
    assert gpu.SuiteRun("t", {"errors": 1}, 2).failed
    assert gpu.SuiteRun("t", {}, 4).failed  # pytest's usage error: an unknown option
    assert not gpu.SuiteRun("t", {}, None, "not run: pytest is not installed").failed


def test_pytest_commands_expand_the_selection(tmp_path):
    (tmp_path / "tests").mkdir()
    for name in ("test_device_b.py", "test_device_a.py", "test_ops_torch.py"):
        (tmp_path / "tests" / name).write_text("")
    selection = [
        (("tests/test_device_*.py",), None),
        (("tests/test_ops_torch.py", "tests/test_missing.py"), "cuda"),
        (("tests/test_nothing_*.py",), None),
    ]
    (device, device_args), (reference, reference_args), (_, none) = gpu.pytest_commands(
        selection, tmp_path
    )
    assert device == "tests/test_device_*.py"
    assert device_args == [
        "tests/test_device_a.py",
        "tests/test_device_b.py",
        "--cuda=real",
        "-o",
        "addopts=",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
    ]
    assert reference == "2 reference files (-k cuda)"
    assert reference_args[0] == "tests/test_ops_torch.py" and reference_args[-2:] == ["-k", "cuda"]
    assert "tests/test_missing.py" not in reference_args
    assert none == []


def test_the_selection_names_the_device_tests():
    patterns = [p for files, _ in gpu.TEST_SELECTION for p in files]
    assert "tests/test_device_*.py" in patterns
    assert all((REPO_ROOT / p).exists() for p in patterns if "*" not in p)


def test_run_tests_without_pytest(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pytest" else real(name, *a)
    )
    (run,) = gpu.run_tests(10)
    assert run.note == "not run: pytest is not installed" and not run.failed


@pytest.mark.parametrize(
    ("name", "aprende_s", "torch_s", "full_size", "expected"),
    [
        ("MLP C epoch", 1.4, 1.0, True, ("≤ 1.5x PyTorch", True)),
        ("MLP C epoch", 1.6, 1.0, False, ("≤ 1.5x PyTorch", False)),  # a ratio: any size
        ("MLP C epoch", 1.6, None, True, ("≤ 1.5x PyTorch", None)),
        ("MLP A epoch", 0.9, 0.5, True, ("< 1.0 s", True)),
        ("MLP A epoch", 1.2, 0.5, True, ("< 1.0 s", False)),
        ("MLP A epoch", 0.1, 0.5, False, ("< 1.0 s", None)),  # smaller data: not judged
        ("MLP B epoch", 0.1, 0.5, True, ("", None)),
    ],
)
def test_targets(name, aprende_s, torch_s, full_size, expected):
    row = gpu.Row(name, "", aprende_s, torch_s)
    assert row.target(full_size) == expected
    assert row.ratio == (None if torch_s is None else aprende_s / torch_s)


def test_markdown_table():
    rows = [
        gpu.Row("MLP A epoch", "784-128-10", 0.8, 0.5),
        gpu.Row("MLP C epoch", "784-1024-1024-10", 0.3, 0.1),
        gpu.Row("LeNet-5 step", "batch 64", 0.004, 0.002),
        gpu.Row("MLP B epoch", "784-512-512-10", note="failed: ValueError: bad"),
    ]
    tests = [
        gpu.SuiteRun("tests/test_device_*.py", {"passed": 40, "failed": 1}, 1),
        gpu.SuiteRun("reference", {}, None, "not run: no such test files"),
    ]
    report = gpu.markdown_report("GPU zero", rows, tests, "the settings")
    lines = report.splitlines()
    assert lines[0] == "# GPU check" and "- device: GPU zero" in lines
    assert "- tests/test_device_*.py: 40 passed, 1 failed (FAILED)" in lines
    assert "- reference: not run: no such test files" in lines
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| workload | setup | aprende | PyTorch | aprende / PyTorch | target | met |"
    assert table[2] == "| MLP A epoch | 784-128-10 | 0.800 | 0.500 | 1.60x | < 1.0 s | yes |"
    assert (
        table[3]
        == "| MLP C epoch | 784-1024-1024-10 | 0.300 | 0.100 | 3.00x | ≤ 1.5x PyTorch | NO |"
    )
    assert table[4] == "| LeNet-5 step | batch 64 | 4.00 ms | 2.00 ms | 2.00x |  |  |"
    assert table[5] == "| MLP B epoch | 784-512-512-10 | failed: ValueError: bad | — | — |  |  |"
    dry = gpu.markdown_report("CPU", rows, [], "s", on_gpu=False)
    assert dry.startswith("# GPU check, dry run on the CPU") and "| yes |" not in dry
    assert "- not run" in dry.splitlines()


def test_no_cupy_exits_2_with_the_reason(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails as if absent
    assert gpu.main(["--out", str(tmp_path / "gpu.md")]) == 2
    err = capsys.readouterr().err
    assert err == "python -m benchmarks.gpu: CuPy is not installed: pip install 'aprende[gpu]'\n"
    assert not (tmp_path / "gpu.md").exists()


def test_no_driver_exits_2_with_the_reason(monkeypatch, capsys):
    def no_driver():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_driver))
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    assert gpu.main(["--skip-tests"]) == 2
    assert capsys.readouterr().err == (
        "python -m benchmarks.gpu: CuPy found no NVIDIA driver or GPU: "
        "cudaErrorNoDevice: no CUDA-capable device is detected\n"
    )


def test_a_bare_checkout_puts_src_on_the_path(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aprende" else real(name, *a)
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    gpu.ensure_aprende_importable()
    assert sys.path[0] == str(REPO_ROOT / "src")


def test_dry_run_on_the_cpu_times_every_workload(tmp_path):
    out = tmp_path / "results" / "gpu.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu", "--device", "cpu", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = out.read_text()
    assert report in done.stdout
    rows = [line for line in report.splitlines() if line.startswith(("| MLP", "| LeNet"))]
    assert [row.split(" | ")[0] for row in rows] == [
        "| MLP A epoch",
        "| MLP B epoch",
        "| MLP C epoch",
        "| LeNet-5 step",
    ]
    for row in rows:  # a time for aprende in every row, no failure
        cells = row.split(" | ")
        assert cells[2].replace(" ms", "").replace(".", "").isdigit(), row
    assert "512 x 784" in report


def test_a_gpu_is_described_and_pytorch_without_cuda_leaves_aprende_alone(monkeypatch):
    synchronized = []

    class Device:
        id = 0

        def synchronize(self):
            synchronized.append(self.id)

    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 1,
        getDeviceProperties=lambda index: {"name": b"GPU zero"},
        runtimeGetVersion=lambda: 13000,
    )
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "14.2.0"
    cupy.cuda = types.SimpleNamespace(runtime=runtime, Device=Device)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "torch", None)  # PyTorch absent
    dev, reason = gpu.open_device("cuda")
    assert reason is None and dev.name == "cuda" and dev.xp is cupy and dev.torch is None
    assert dev.description == "GPU zero, CuPy 14.2.0 (CUDA runtime 13000)"
    assert dev.note == "PyTorch is not installed: aprende timed alone"
    dev.sync()
    assert synchronized == [0]


def small_args():
    return gpu.parse_args(["--device", "cpu", "--samples", "64"])


def test_a_failing_workload_is_a_row_and_the_rest_still_run():
    broken = types.SimpleNamespace()  # an array module without asarray
    dev = gpu.Device("cpu", broken, gpu._nothing, None, gpu._nothing, "broken")
    rows = gpu.time_workloads(dev, small_args(), deadline=float("inf"))
    assert [row.name for row in rows] == [
        "MLP A epoch",
        "MLP B epoch",
        "MLP C epoch",
        "LeNet-5 step",
    ]
    for row in rows:
        assert row.note.startswith("failed: AttributeError: "), row.note
        assert row.aprende_s is None


def test_a_spent_time_budget_skips_the_workloads():
    dev = gpu.Device("cpu", np, gpu._nothing, None, gpu._nothing, "CPU")
    rows = gpu.time_workloads(dev, small_args(), deadline=0.0)
    assert {row.note for row in rows} == {"not run: the time budget was spent"}


def test_run_tests_counts_a_real_pytest_run(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--cuda', default='off')\n"
    )
    (tmp_path / "tests" / "test_device_one.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('device', ['cpu', 'cuda'])\n"
        "def test_device(device, request):\n"
        "    assert request.config.getoption('--cuda') == 'real'\n"
    )
    (tmp_path / "tests" / "test_ref.py").write_text(
        "def test_cpu_only():\n    pass\n\ndef test_on_cuda():\n    assert False\n"
    )
    selection = [(("tests/test_device_*.py",), None), (("tests/test_ref.py",), "cuda")]
    device, reference = gpu.run_tests(60, selection, tmp_path)
    assert device.counts == {"passed": 2} and not device.failed
    assert reference.counts == {"failed": 1, "deselected": 1} and reference.failed


def test_run_tests_without_the_cuda_option_is_a_failure_with_pytest_s_error(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_device_one.py").write_text("def test_one():\n    pass\n")
    (run,) = gpu.run_tests(60, [(("tests/test_device_*.py",), None)], tmp_path)
    assert run.failed and run.counts == {}
    assert "unrecognized arguments: --cuda=real" in run.note
