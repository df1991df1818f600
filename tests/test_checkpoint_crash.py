"""A run killed at every file-system event of its checkpoints, then run again, ends exactly
as the run that was never interrupted: the same weights, history and best epoch, bit for bit.

The kill is ``os._exit`` in a forked child, before or after the k-th rename or removal: no
``finally`` runs, no temporary file is cleaned up, as after SIGKILL or a power cut.
"""

import csv
import os
from pathlib import Path

import pytest

from aprende.training.checkpoint import best_checkpoint, read_checkpoint
from aprende.training.checkpoint_files import read_record
from tests.checkpoint_helpers import (
    TIMING,
    assert_same_weights,
    comparable_history,
    tiny_run,
    weights,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
KILLED = 99


def _events(monkeypatch, on_event):
    """Call ``on_event(name, when)`` around every rename and removal of a file."""
    real = {"replace": os.replace, "unlink": os.unlink}

    def wrap(name):
        def event(*args, **kwargs):
            on_event(name, "before")
            try:
                return real[name](*args, **kwargs)
            finally:  # a removal of a file that is not there is an event too
                on_event(name, "after")

        return event

    for name in real:
        monkeypatch.setattr(os, name, wrap(name))


def _outcome(folder: Path):
    model, _, history = tiny_run(folder / "ckpt", csv=folder / "history.csv")
    best = read_checkpoint(best_checkpoint(folder / "ckpt"))[1]["epoch"]
    with (folder / "history.csv").open() as handle:
        rows = [{k: v for k, v in r.items() if k not in TIMING} for r in csv.DictReader(handle)]
    return weights(model), comparable_history(history), best, rows


def _killed_at(folder: Path, k: int, when: str, monkeypatch) -> int:
    pid = os.fork()
    if pid == 0:  # the child: train, and die at the k-th event
        try:
            seen = [0]

            def on_event(name, moment):
                if moment == "before":
                    seen[0] += 1
                if seen[0] == k and moment == when:
                    os._exit(KILLED)

            _events(monkeypatch, on_event)
            tiny_run(folder / "ckpt", csv=folder / "history.csv")
        except BaseException:
            os._exit(1)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_kill_at_any_file_event_resumes_to_the_uninterrupted_run(tmp_path, monkeypatch):
    count = [0]
    with monkeypatch.context() as patch:
        _events(patch, lambda name, moment: count.__setitem__(0, count[0] + (moment == "before")))
        reference = _outcome(tmp_path / "straight")
    events = count[0]
    assert events >= 9  # 3 epochs: arrays, record, history.csv, best.json, removals
    points = [(k, when) for k in range(1, events + 1) for when in ("before", "after")]
    for k, when in points:
        folder = tmp_path / f"kill-{k}-{when}"
        assert _killed_at(folder, k, when, monkeypatch) == KILLED, (k, when)
        resumed = _outcome(folder)
        assert_same_weights(reference[0], resumed[0])
        assert resumed[1:] == reference[1:], (k, when)
        names = sorted(p.name for p in (folder / "ckpt").iterdir())
        assert not [n for n in names if n.endswith(".tmp")], (k, when, names)
        assert names == sorted(p.name for p in (tmp_path / "straight" / "ckpt").iterdir())
        best_copy = read_record(folder / "ckpt" / "best.json")
        assert best_copy["epoch"] == reference[2]
