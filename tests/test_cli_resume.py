"""``aprende train`` run again: the same command resumes an interrupted run in the folder its
settings name, leaves a finished one as it is, ``--restart`` starts over keeping the old files,
a damaged newest checkpoint falls back to the one before; epochs count from 1 everywhere."""

import csv
import hashlib
import json
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")
pytest.importorskip("matplotlib")

from aprende.cli import main  # noqa: E402
from aprende.cli.run_folder import settings_hash  # noqa: E402
from aprende.config import RunConfig  # noqa: E402
from aprende.training import run_state  # noqa: E402
from aprende.training.checkpoint_files import encode_record  # noqa: E402

QUICK = ("train", "--dataset", "iris", "--hidden", "4", "--patience", "0", "--epochs", "4")


def run_main(*args) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exit:
        return exit.code


def the_folder(cwd):
    """The one run folder under cwd/runs, as the command names it (relative to cwd)."""
    folders = sorted((cwd / "runs").iterdir())
    assert len(folders) == 1, folders
    return Path("runs") / folders[0].name


def epochs_in(folder) -> list[str]:
    return [row["epoch"] for row in csv.DictReader((folder / "history.csv").open())]


def interrupt_after_epoch(monkeypatch, last: int):
    """Ctrl-C right after the checkpoint of epoch ``last`` (counted from 1) is committed."""
    original = run_state.Checkpointer.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch + 1 == last:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_state.Checkpointer, "on_epoch_end", on_epoch_end)


@pytest.fixture
def interrupted(tmp_path, monkeypatch, capsys):
    """The run folder of QUICK interrupted after epoch 2 of 4 (cwd: tmp_path)."""
    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        interrupt_after_epoch(patch, 2)
        assert run_main(*QUICK) == 130
    assert "the same command resumes" in capsys.readouterr().err
    return the_folder(tmp_path)


def test_the_folder_is_named_by_a_hash_of_the_settings_that_define_the_run():
    config = RunConfig.from_sources(flags={"dataset": "iris", "hidden": ["4"]})
    # The reference: SHA-256 of the canonical JSON of every setting but those a resume may change.
    kept = {k: v for k, v in config.to_dict().items()}
    for key in ("out", "device", "epochs", "patience"):
        kept.pop(key, None)
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    assert settings_hash(config) == hashlib.sha256(text.encode()).hexdigest()[:8]
    longer = RunConfig.from_sources(flags={"dataset": "iris", "hidden": ["4"], "epochs": "7"})
    other = RunConfig.from_sources(flags={"dataset": "iris", "hidden": ["4"], "lr": "0.01"})
    assert settings_hash(longer) == settings_hash(config) != settings_hash(other)


def test_the_same_command_resumes_where_it_was_interrupted(interrupted, tmp_path, capsys):
    assert interrupted.name == f"iris-{interrupted.name.split('-')[1]}"
    assert epochs_in(interrupted) == ["1", "2"]
    names = sorted(p.name for p in (interrupted / "checkpoints").glob("epoch-*.json"))
    assert names == ["epoch-0001.json", "epoch-0002.json"]  # the first epoch is epoch-0001
    record = json.loads((interrupted / "checkpoints" / "epoch-0001.json").read_text())
    assert record["epoch"] == 0  # the loop's counter, documented in the checkpoint module
    assert run_main(*QUICK) == 0
    out = capsys.readouterr().out
    assert f"Resuming from epoch 3 of 4 ({interrupted / 'checkpoints'} holds epochs 1-2)" in out
    assert the_folder(tmp_path) == interrupted
    assert epochs_in(interrupted) == ["1", "2", "3", "4"]
    # the same scores as a run never interrupted
    resumed = json.loads((interrupted / "metrics.json").read_text())
    (tmp_path / "runs").rename(tmp_path / "interrupted")
    assert run_main(*QUICK) == 0
    whole = json.loads((the_folder(tmp_path) / "metrics.json").read_text())
    assert whole["accuracy"] == resumed["accuracy"] and whole["best_epoch"] == resumed["best_epoch"]


def test_after_a_finished_run_the_same_command_starts_a_numbered_folder(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert run_main(*QUICK) == 0
    first = the_folder(tmp_path)
    before = {p.name: p.read_bytes() for p in (first / "checkpoints").iterdir()}
    capsys.readouterr()
    assert run_main(*QUICK) == 0
    out = capsys.readouterr().out
    second = first.with_name(f"{first.name}-2")
    lines = [line for line in out.splitlines() if "finished run" in line]
    assert lines == [
        f"{first} holds a finished run with these settings (4 of 4 epochs): starting {second} "
        f"(--restart trains {first} again)"
    ]
    assert epochs_in(second) == ["1", "2", "3", "4"]
    assert {p.name: p.read_bytes() for p in (first / "checkpoints").iterdir()} == before
    # more epochs asked of the same settings: the first folder's run continues
    assert run_main(*QUICK[:-1], "5") == 0
    assert "Resuming from epoch 5 of 5" in capsys.readouterr().out
    assert epochs_in(first) == ["1", "2", "3", "4", "5"]


def test_restart_trains_the_folder_afresh_and_keeps_the_old_run(interrupted, tmp_path, capsys):
    old = {p.name: p.read_bytes() for p in (interrupted / "checkpoints").iterdir()}
    assert run_main(*QUICK, "--restart") == 0
    out = capsys.readouterr().out
    moved = interrupted / "previous-run-1"
    assert f"Restarting {interrupted}: the run it held was moved to {moved}" in out
    assert "Resuming" not in out
    assert {p.name: p.read_bytes() for p in (moved / "checkpoints").iterdir()} == old
    assert epochs_in(moved) == ["1", "2"]
    assert epochs_in(interrupted) == ["1", "2", "3", "4"]
    assert the_folder(tmp_path) == interrupted


def test_a_truncated_newest_checkpoint_falls_back_with_one_warning(interrupted, capsys):
    directory = interrupted / "checkpoints"
    arrays = directory / "epoch-0002.safetensors"
    arrays.write_bytes(arrays.read_bytes()[:-50])
    assert run_main(*QUICK) == 0
    out, err = capsys.readouterr()
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1 and str(arrays) in warning[0] and "truncated" in warning[0], err
    assert "resuming from epoch-0001.json" in warning[0]
    assert "Resuming from epoch 2 of 4" in out
    assert (directory / "epoch-0002.safetensors.corrupt").is_file()  # kept, never deleted
    assert (directory / "epoch-0002.json.corrupt").is_file()
    assert epochs_in(interrupted) == ["1", "2", "3", "4"]


def test_a_torn_newest_record_falls_back_too(interrupted, capsys):
    record = interrupted / "checkpoints" / "epoch-0002.json"
    record.write_bytes(record.read_bytes()[:100])
    assert run_main(*QUICK) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and f"{record} is not an aprende checkpoint" in err


def test_when_every_checkpoint_is_damaged_one_line_suggests_restart(interrupted, capsys):
    for path in (interrupted / "checkpoints").glob("epoch-*.json"):
        path.write_bytes(path.read_bytes()[:-20])
    status = run_main(*QUICK)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "no complete checkpoint" in err and "all 2 are damaged" in err
    assert "--restart" in err
    assert sorted(p.name for p in (interrupted / "checkpoints").glob("epoch-*")) == [
        "epoch-0001.json",
        "epoch-0001.safetensors",
        "epoch-0002.json",
        "epoch-0002.safetensors",
    ]  # left as they were, for --restart to move aside


def test_a_version_2_checkpoint_is_refused_in_one_line(interrupted, capsys):
    for path in (interrupted / "checkpoints").glob("epoch-*.json"):
        record = json.loads(path.read_text())
        record["version"] = 2
        path.write_bytes(encode_record(record))
    status = run_main(*QUICK)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert "format version 2 (version 2 named its files from epoch-0000)" in err


def test_the_plot_marks_the_epoch_whose_weights_were_kept(tmp_path, monkeypatch):
    from aprende import plots

    monkeypatch.chdir(tmp_path)
    drawn = {}
    original = plots.plot_learning_curves

    def spy(history, *args, **kwargs):
        figure = original(history, *args, **kwargs)
        drawn["lines"] = [
            line.get_xdata()[0] for axis in figure.axes for line in axis.lines
            if line.get_linestyle() == "--"
        ]  # fmt: skip
        return figure

    monkeypatch.setattr(plots, "plot_learning_curves", spy)
    assert run_main(*QUICK[:-1], "6") == 0
    folder = the_folder(tmp_path)
    rows = list(csv.DictReader((folder / "history.csv").open()))
    lowest = min(rows, key=lambda row: float(row["val_loss"]))["epoch"]  # the kept weights
    scores = json.loads((folder / "metrics.json").read_text())
    assert scores["best_epoch"] == int(lowest)
    assert drawn["lines"] == [int(lowest), int(lowest)]  # loss and accuracy subplots alike
    report = (folder / "report.html").read_text()
    assert f"Chosen weights</dt><dd>epoch {lowest} of 6" in report
    assert "<th>samples_per_s</th></tr><tr><td>1</td>" in report  # the history table, from 1


def test_kept_epoch_overrides_each_curves_own_best():
    from aprende import plots

    history = {
        "loss": [1.0, 0.8, 0.6],
        "val_loss": [0.9, 0.7, 0.8],  # lowest at epoch 2
        "accuracy": [0.5, 0.6, 0.7],
        "val_accuracy": [0.5, 0.6, 0.9],  # highest at epoch 3
    }
    figure = plots.plot_learning_curves(history, metrics=("loss", "accuracy"), kept_epoch=2)
    dashed = [
        (line.get_xdata()[0], line.get_label())
        for axis in figure.axes
        for line in axis.lines
        if line.get_linestyle() == "--"
    ]
    assert dashed == [(2, "weights kept: epoch 2"), (2, "weights kept: epoch 2")]
    default = plots.plot_learning_curves(history, metrics=("loss", "accuracy"))
    marks = [
        line.get_xdata()[0]
        for a in default.axes
        for line in a.lines
        if line.get_linestyle() == "--"
    ]
    assert marks == [2, 3]


def test_a_run_stopped_early_is_finished_unless_the_patience_is_raised(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    flags = ("train", "--dataset", "iris", "--hidden", "4", "--epochs", "40", "--lr", "1")
    assert run_main(*flags, "--patience", "1") == 0
    first = the_folder(tmp_path)
    assert "Epoch 2: early stopping" in capsys.readouterr().out  # this seed stops at epoch 2
    assert run_main(*flags, "--patience", "1") == 0
    second = first.with_name(f"{first.name}-2")
    assert f"{first} holds a finished run with these settings (stopped early after epoch 2)" in (
        capsys.readouterr().out
    )
    assert second.is_dir()
    assert run_main(*flags, "--patience", "5") == 0  # more patience: the first run continues
    assert "Resuming from epoch 3 of 40" in capsys.readouterr().out
    assert len(epochs_in(first)) > 2
