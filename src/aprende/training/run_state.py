"""What a ``fit`` run keeps across interruptions: the checkpoint written after each epoch,
the resume that reads it back, and the roll-back of an epoch interrupted half-way.

The checkpoint of an epoch names the best epoch so far, so the epoch and the choice of best
commit together, in one rename; a resume first reconciles the folder (what an interruption
left behind), then restores every part, each checked.
"""

from __future__ import annotations

import copy
import math
import uuid
from pathlib import Path

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.training import checkpoint as ckpt
from aprende.training import checkpoint_restore as restore
from aprende.training.callbacks import Callback, EarlyStopping, monitor_op


class Checkpointer(Callback):
    """Writes the run's checkpoint after every epoch; its record names the best epoch so far
    (``monitor`` best, never a NaN), so the epoch and the choice of best commit together."""

    def __init__(self, directory, monitor: str, components: dict, write: bool = True):
        self.directory, self.monitor, self.components = Path(directory), monitor, components
        self.write = write  # False: keep the state (best epoch) but write nothing
        try:
            self.better = monitor_op(monitor, "auto")
        except ValueError:  # a metric of unknown direction: lower is better, as for a loss
            self.better = np.less
        self.best = self.best_epoch = None
        self.stopped = False
        self.run_id = uuid.uuid4().hex

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        improved = (
            value is not None
            and math.isfinite(value)
            and (self.best is None or bool(self.better(value, self.best)))
        )
        if improved:
            self.best, self.best_epoch = value, epoch
        self.stopped = self.run.stop_training
        if not self.write:
            return
        ckpt.save_checkpoint(
            self.run.model,
            self.run.optimizer,
            epoch,
            self.directory,
            best_epoch=self.best_epoch,
            run_id=self.run_id,
            history=self.run.history,
            metrics=logs,
            **self.components,
        )

    def state_dict(self) -> dict:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped": self.stopped,
            "run_id": self.run_id,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.stopped, self.run_id = bool(state["stopped"]), str(state["run_id"])


def resume_run(directory, run, components: dict, loaders, reconcile: bool = True) -> int:
    """Restore a run from its newest complete checkpoint; the epoch to continue from (0 if none).

    The folder is first reconciled (what an interruption left is cleared, a damaged newest
    checkpoint set aside with a warning, ``best.json`` rebuilt from the records; not with
    ``reconcile=False``, for a reader beside the writer), then every part is restored, each
    checked.
    """
    path = ckpt.reconcile(directory) if reconcile else ckpt.newest_complete_checkpoint(directory)[0]
    if path is None:
        return 0
    saved = ckpt.load_state(path)
    ckpt.restore_model(run.model, saved)
    restore.restore_optimizer(run.optimizer, saved)
    restore.restore_scheduler(components.get("scheduler"), saved)
    restore.restore_preprocessing(components.get("preprocessing"), saved)
    restore.restore_callbacks(components["callbacks"], saved, run.model)
    with restore.restoring("history", saved):
        columns = saved["history"]
        if not all(isinstance(v, list) and len(v) == saved["epoch"] + 1 for v in columns.values()):
            raise ValueError(f"expected {saved['epoch'] + 1} values per column")
        run.history.load_state_dict({"history": columns, "epoch": list(range(saved["epoch"] + 1))})
    ckpt.restore_rng(saved, loaders)
    run.resumed = True
    return saved["epoch"] + 1


def still_stopped(callbacks) -> bool:
    """Whether a run that had stopped early stays stopped: yes unless one of its
    ``EarlyStopping`` callbacks now has patience left (it was raised)."""
    stoppers = [c for c in callbacks if isinstance(c, EarlyStopping)]
    if not any(c.wait < c.patience for c in stoppers):
        return True
    for callback in stoppers:
        callback.stopped_epoch = 0
    return False


def snapshot(model, optimizer, scheduler, loader) -> dict:
    """What an epoch changes: weights, optimizer and schedule state, the generators."""
    return copy.deepcopy(
        {
            # deepcopy copies each array where it lives: a GPU's weights stay on the GPU
            "model": {k: v.data for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "rng": backend.get_rng_state(),
            "loader": ckpt._loader_states([loader]),
        }
    )


def roll_back(state: dict, model, optimizer, scheduler, loader) -> None:
    """Put back what ``snapshot`` took when the epoch began."""
    model.load_state_dict({k: Tensor(v) for k, v in state["model"].items()})
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    restore.restore_rng(
        {"path": "memory", "state": {"rng": {"global": state["rng"], "loaders": state["loader"]}}},
        [loader],
    )
