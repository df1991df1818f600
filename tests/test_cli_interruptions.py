"""The ``aprende`` command around interruptions and damaged run folders: settings checked
against the checkpoint, one writer per folder, SIGTERM and Ctrl-C, damaged files as one line."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")
pytest.importorskip("matplotlib")

from aprende.cli import main  # noqa: E402
from aprende.training.checkpoint import best_checkpoint  # noqa: E402
from tests.checkpoint_helpers import locked_by_another_process  # noqa: E402

QUICK = ("--dataset", "iris", "--hidden", "4", "--epochs", "3")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}


def run_main(*args) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exit:
        return exit.code


def one_line(capsys, status, expected=2) -> str:
    err = capsys.readouterr().err
    assert status == expected, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def trained_iris(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained") / "iris"
    assert run_main("train", *QUICK, "--seed", "3", "--out", folder) == 0
    return folder


@pytest.fixture
def iris_run(trained_iris, tmp_path, capsys):
    """A copy of one trained run folder, for a test to damage."""
    folder = tmp_path / "iris"
    shutil.copytree(trained_iris, folder)
    capsys.readouterr()
    return folder


def test_resume_with_other_settings_is_refused_even_without_config_toml(iris_run, capsys):
    (iris_run / "config.toml").unlink()
    status = run_main("train", *QUICK, "--seed", "3", "--lr", "0.01", "--out", iris_run)
    err = one_line(capsys, status)
    assert "holds a run with other settings (lr: 0.001 -> 0.01)" in err
    assert not (iris_run / "config.toml").exists()  # nothing written for a refused run


def test_a_torn_config_toml_is_not_read_as_defaults(iris_run, capsys):
    (iris_run / "config.toml").write_text('dataset = "iris"\nhidden = [4]\nepochs = 3\n')
    err = one_line(capsys, run_main("evaluate", iris_run))
    assert "config.toml disagrees with the settings checkpoint" in err and "seed: 0 -> 3" in err


def test_a_half_written_metrics_json_is_one_line_for_report(iris_run, capsys):
    path = iris_run / "metrics.json"
    path.write_text(path.read_text()[:40])
    err = one_line(capsys, run_main("report", iris_run))
    assert "metrics.json is damaged" in err


def test_a_missing_best_copy_still_scores_the_best_epoch(iris_run, capsys):
    assert run_main("evaluate", iris_run) == 0
    before = capsys.readouterr().out
    (iris_run / "checkpoints" / "best.json").unlink()
    assert run_main("evaluate", iris_run) == 0
    assert capsys.readouterr().out == before


def test_a_damaged_best_record_is_one_line_for_every_command(iris_run, capsys, tmp_path):
    record = best_checkpoint(iris_run / "checkpoints")
    record.write_bytes(record.read_bytes()[:-30])
    rows = tmp_path / "rows.csv"
    rows.write_text("1,2,3,4\n")
    for args in (("evaluate", iris_run), ("predict", iris_run, rows)):
        assert "not an aprende checkpoint" in one_line(capsys, run_main(*args))
    # the best is the newest epoch here: training sets it aside and retrains that epoch
    assert record.name == "epoch-0003.json"
    err = one_line(capsys, run_main("train", *QUICK, "--seed", "3", "--out", iris_run), 0)
    assert f"warning: {record} is not an aprende checkpoint" in err
    assert (record.parent / "epoch-0003.json.corrupt").is_file()
    assert run_main("evaluate", iris_run) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_second_train_on_the_same_folder_is_refused(iris_run, capsys):
    with locked_by_another_process(iris_run) as pid:
        status = run_main("train", *QUICK, "--seed", "3", "--out", iris_run)
    assert f"is in use by another process (pid {pid})" in one_line(capsys, status)


def test_sigterm_stops_like_ctrl_c_and_the_same_command_resumes(tmp_path):
    folder = tmp_path / "long"
    command = [sys.executable, "-m", "aprende", "train", "--dataset", "iris", "--hidden", "4"]
    command += ["--epochs", "100000", "--patience", "0", "--out", str(folder)]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list((folder / "checkpoints").glob("epoch-*.json")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.decode().strip().endswith("terminated; every finished epoch is kept: the same "
                                          "command resumes"), err  # fmt: skip
    assert b"Traceback" not in err
    done = len(list(csv.DictReader((folder / "history.csv").open())))
    resumed = command[4:-6] + ["--epochs", str(done + 1), "--patience", "0", "--out", folder]
    assert run_main("train", *resumed) == 0
    assert len(list(csv.DictReader((folder / "history.csv").open()))) == done + 1


def test_ctrl_c_while_the_libraries_load_is_one_line(tmp_path):
    script = textwrap.dedent(
        """
        import runpy, sys

        class CtrlC:  # Ctrl-C arrives while the training code is being imported
            def find_spec(self, name, path=None, target=None):
                if name == "aprende.training":
                    raise KeyboardInterrupt
                return None

        sys.meta_path.insert(0, CtrlC())
        sys.argv = ["aprende", "datasets"]
        runpy.run_module("aprende", run_name="__main__", alter_sys=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr == "aprende: interrupted\n"


def test_ctrl_c_while_numpy_loads_is_one_line_from_the_command():
    script = textwrap.dedent(
        """
        import sys

        class CtrlC:  # Ctrl-C arrives while NumPy, the package's first import, loads
            def find_spec(self, name, path=None, target=None):
                if name == "numpy":
                    raise KeyboardInterrupt
                return None

        sys.meta_path.insert(0, CtrlC())
        sys.argv = ["aprende", "datasets"]
        import _aprende_command
        raise SystemExit(_aprende_command.main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr == "aprende: interrupted\n"
