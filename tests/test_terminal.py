"""Output that fits the terminal: the epoch lines, the tables of ``aprende train`` and the list
of ``aprende datasets`` in 80 and 60 columns, plain text (no ANSI escapes) under ``NO_COLOR``
or into a pipe; and the dataset list's facts against the loaded datasets."""

import io
import re

import numpy as np
import pytest

from aprende.terminal import fit_text, is_plain, print_table, records, terminal_width
from aprende.training.callbacks import ProgressBar, format_logs

LOGS = {
    "loss": 0.0806,
    "accuracy": 0.98891,
    "val_loss": 0.14652,
    "val_accuracy": 0.97778,
    "lr": 1e-3,
    "samples_per_s": 16006.2,
    "time": 0.1,
}
# Every number of the full line, as printed: a shorter line holds some of them, each whole.
NUMBERS = {"0.0806", "0.9889", "0.1465", "0.9778", "1.00e-03", "16,006"}


def numbers_in(line: str) -> set[str]:
    return set(re.findall(r"(?<![\w.,/])[\d][\d.,e-]*\d(?![\w.])", line.split(": ", 1)[1]))


@pytest.mark.parametrize("width", [200, 100, 80, 60, 45])
def test_an_epoch_line_fits_keeping_the_epoch_and_the_loss(width):
    line = format_logs(9, 100, LOGS, width)
    assert len(line) <= width, line
    assert line.startswith("Epoch 10/100: loss 0.0806")
    assert numbers_in(line) <= NUMBERS  # no number cut in half
    if width == 200:
        assert numbers_in(line) == NUMBERS and "samples/s" in line
    if width == 60:  # lr and samples/s go first, then the training accuracy
        assert line == "Epoch 10/100: loss 0.0806  val_loss 0.1465  val_acc 0.9778"


def test_an_epoch_line_narrower_than_epoch_and_loss_keeps_them():
    assert format_logs(9, 100, LOGS, 10) == "Epoch 10/100: loss 0.0806"
    assert format_logs(0, 5, LOGS) == (
        "Epoch 1/5: loss 0.0806  accuracy 0.9889  val_loss 0.1465  val_accuracy 0.9778  "
        "lr 1.00e-03  16,006 samples/s"
    )


def test_the_progress_bar_follows_columns_for_standard_output(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "60")
    assert terminal_width() == 60
    bar = ProgressBar(3, steps=4)
    assert bar.width == 60 and not bar.use_rich  # capsys's stdout is no terminal
    bar.on_epoch_begin(0)
    bar.on_epoch_end(0, LOGS)
    out = capsys.readouterr().out
    assert out == "Epoch 1/3: loss 0.0806  val_loss 0.1465  val_acc 0.9778\n"
    assert ProgressBar(3, stream=io.StringIO()).width is None  # a log file: whole lines


def test_the_rich_bar_fits_its_width():
    stream = io.StringIO()
    bar = ProgressBar(2, steps=3, stream=stream, rich=True, width=60)
    for epoch in range(2):
        bar.on_epoch_begin(epoch)
        for step in range(3):
            bar.on_batch_end(step, {"size": 32, "loss": 0.5})
        bar.on_epoch_end(epoch, LOGS)
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert lines and all(len(line) <= 60 for line in lines), lines
    assert "Epoch 2/2" in lines[-1] and "loss 0.0806" in lines[-1]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_text_when_no_terminal_or_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert is_plain(io.StringIO()) and not is_plain(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert is_plain(FakeTerminal())
    stream = FakeTerminal()
    print_table(("class", "F1"), [["cat", "0.50"]], title="T", width=40, file=stream)
    assert "\x1b[" not in stream.getvalue() and "cat" in stream.getvalue()
    monkeypatch.delenv("NO_COLOR")
    stream = FakeTerminal()
    print_table(("class", "F1"), [["cat", "0.50"]], title="T", width=40, file=stream)
    assert "\x1b[" in stream.getvalue()  # a terminal gets its bold headers


def test_a_table_drops_columns_then_becomes_a_list():
    headers = ("class", "TP", "FNR", "TPR", "F1")
    rows = [["dog", "12", "0.25", "0.75", "0.70"], ["cat", "3", "0.50", "0.50", "0.40"]]
    stream = io.StringIO()
    print_table(headers, rows, width=22, drop=("FNR", "TP"), file=stream)
    text = stream.getvalue()
    assert "FNR" not in text and "TPR" in text
    assert all(len(line) <= 22 for line in text.splitlines()), text
    assert re.search(r"dog\s+0\.75\s+0\.70", text)
    stream = io.StringIO()
    print_table(headers, rows, width=12, drop=("FNR",), file=stream)
    lines = stream.getvalue().splitlines()
    assert lines == records(headers, rows, 12)
    assert lines[:4] == ["dog", "  TP: 12", "  FNR: 0.25", "  TPR: 0.75"]
    assert all(len(line) <= 12 for line in lines)


def test_fit_text_wraps_at_spaces_and_keeps_a_path_whole():
    path = "/a/very/long/folder/name/of/a/run"
    text = fit_text(f"Run folder: {path} (open it in a browser)", 20)
    assert path in text.splitlines()
    assert all(len(line) <= 20 for line in text.splitlines() if path not in line)


# ---- the command --------------------------------------------------------------------------


def run_aprende(*args) -> int:
    from aprende.cli import main

    return main([str(a) for a in args])


@pytest.mark.parametrize("columns", [80, 60])
def test_aprende_datasets_fits(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert run_aprende("datasets") == 0
    out = capsys.readouterr().out
    assert all(len(line) <= columns for line in out.splitlines()), out
    from aprende.config import DATASETS

    for name in DATASETS:
        assert re.search(rf"^{name}\b", out, re.MULTILINE), name
    assert re.search(r"1797 x 64, 10 classes", out)


def test_the_dataset_list_says_what_loading_gives():
    pytest.importorskip("sklearn")
    from aprende.cli.dataset_list import dataset_rows
    from aprende.cli.pipeline import load_dataset
    from aprende.config import IDX_DATASETS, RunConfig
    from aprende.datasets.info import SINGLE_LABEL_TASKS

    for name, kind, task, size in dataset_rows():
        if name in IDX_DATASETS:  # the user's own files: the official ones' sizes
            assert (kind, size) == ("your files", "70000 x 784, 10 classes")
            continue
        X, y, info = load_dataset(RunConfig(dataset=name))  # the reference: loading it
        expected = f"{len(X)} x {int(np.prod(X.shape[1:]))}"
        if info.task not in SINGLE_LABEL_TASKS:
            expected += f" -> {int(np.prod(y.shape[1:])) if y.ndim > 1 else 1}"
        if info.n_classes:
            noun = "labels" if info.task == "multilabel" else "classes"
            expected += f", {info.n_classes} {noun}"
        assert (task, size) == (info.task, expected), name


@pytest.mark.parametrize(
    ("columns", "dataset", "no_color"), [(80, "digits", False), (60, "digits", True)]
)
def test_aprende_train_fits(columns, dataset, no_color, tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("COLUMNS", str(columns))
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    status = run_aprende("train", "--dataset", dataset, "--epochs", 3, "--out", tmp_path / "r")
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    too_long = [line for line in lines if len(line) > columns and str(tmp_path) not in line]
    assert not too_long, too_long
    epochs = [line for line in lines if line.startswith("Epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert all(re.match(r"Epoch \d/3: loss \d\.\d{4}( |$)", line) for line in epochs), epochs
    assert "\x1b[" not in out
    assert re.search(r"test_accuracy: \d\.\d{4}", out)


def test_aprende_train_regression_fits_60_columns(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("COLUMNS", "60")
    status = run_aprende("train", "--dataset", "linnerud", "--epochs", 2, "--out", tmp_path)
    out = capsys.readouterr().out
    assert status == 0, out
    assert all(len(line) <= 60 for line in out.splitlines() if str(tmp_path) not in line)
    assert re.search(r"average\s+[-\d.]+\s+[-\d.]+\s+[-\d.]+\s+[-\d.]+", out)


def run_in_terminal(args, env) -> str:
    """What ``python -m aprende ARGS`` writes to a pseudo-terminal (a real TTY)."""
    import os
    import sys

    pty = pytest.importorskip("pty")
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command, its output the terminal
        os.environ.update(env)
        os.execv(sys.executable, [sys.executable, "-m", "aprende", *map(str, args)])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode()
    return out.decode()


@pytest.mark.parametrize("no_color", [False, True])
def test_a_real_terminal_of_60_columns(no_color, tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("rich")
    env = {"COLUMNS": "60", "OPENBLAS_NUM_THREADS": "1", **({"NO_COLOR": "1"} if no_color else {})}
    out = run_in_terminal(["train", "--dataset", "iris", "--epochs", 2, "--out", tmp_path], env)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r\n", "\n")
    for line in shown.split("\n"):
        for frame in line.split("\r"):  # each redraw of a bar
            assert len(frame) <= 60 or str(tmp_path) in frame, frame
    epochs = [line for line in shown.split("\n") if line.lstrip("\r").startswith("Epoch ")]
    assert len(epochs) == 2 and all(re.search(r"loss \d\.\d{4}", e) for e in epochs), epochs
    if no_color:  # plain: no escapes, no bar redrawn in place
        assert "\x1b[" not in out and "\r" not in out.replace("\r\n", "")
        assert epochs[0].startswith("Epoch 1/2: loss ")
    else:
        assert "\x1b[" in out  # rich draws the bar
