"""Callbacks with Keras semantics: hooks the training loop calls at each stage of a run.

A callback sees the run through ``self.run`` (``model``, ``optimizer``, ``history``, and
``stop_training``, which it may set). Callbacks that carry state across epochs (early stopping's
patience counter, a scheduler) give ``state_dict``/``load_state_dict`` so a resumed run goes on
exactly as the uninterrupted one would.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from aprende.optim.lr_scheduler import ReduceLROnPlateau
from aprende.terminal import is_plain, terminal_width
from aprende.training.checkpoint import atomic_write, c_contiguous


class Callback:
    """Base class: every hook does nothing."""

    run = None

    def set_run(self, run) -> None:
        self.run = run

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


class CallbackList(Callback):
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def set_run(self, run) -> None:
        for callback in self.callbacks:
            callback.set_run(run)

    def on_train_begin(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_batch_end(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)


def monitor_op(monitor: str, mode: str):
    """``np.less`` when smaller is better, ``np.greater`` when larger is (Keras' 'auto' rule)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.removeprefix("val_")
        if "loss" in name or name in ("mse", "mae", "rmse", "error"):
            mode = "min"
        elif name in ("accuracy", "acc", "f1", "precision", "recall", "r2", "auc"):
            mode = "max"
        else:
            raise ValueError(
                f"cannot tell whether {monitor!r} should go up or down: pass mode='min' or 'max'"
            )
    return np.less if mode == "min" else np.greater


def _monitored(logs: dict, monitor: str, owner: str):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{owner}: metric {monitor!r} is not available; available metrics are "
            f"{sorted(logs or {})}",
            stacklevel=3,
        )
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    An epoch improves when ``current − min_delta`` beats the best so far (``min_delta`` counts
    against the improvement in either mode). After ``patience`` epochs without improvement the
    run stops; with ``restore_best_weights`` the model gets the best epoch's weights back at the
    end of training. ``baseline``: the patience counter resets only on improvements that also
    beat it. ``start_from_epoch``: epochs before it are not monitored (a warm-up).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op = monitor_op(monitor, mode)
        self.min_delta = abs(min_delta) * (-1 if self.monitor_op is np.less else 1)
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        if self.run is not None and getattr(self.run, "resumed", False):
            return
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.best_weights = None

    def _is_improvement(self, value, reference) -> bool:
        if not math.isfinite(value):  # NaN compares false both ways: never let it be the best
            return False
        return reference is None or bool(self.monitor_op(value - self.min_delta, reference))

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = snapshot_weights(self.run.model), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = snapshot_weights(self.run.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring the weights of the best epoch: {self.best_epoch + 1}")
            self.run.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.best_weights = state["best_weights"]


def snapshot_weights(model) -> dict:
    """A copy of the model's weights that later training does not change."""
    return {k: v.clone().detach() for k, v in model.state_dict().items()}


class LearningRateScheduler(Callback):
    """Steps a scheduler after every epoch; ``ReduceLROnPlateau`` gets the monitored metric."""

    def __init__(self, scheduler, monitor: str = "val_loss"):
        self.scheduler, self.monitor = scheduler, monitor

    def on_epoch_end(self, epoch, logs=None):
        if isinstance(self.scheduler, ReduceLROnPlateau):
            value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
            if value is not None:
                self.scheduler.step(value)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


class ModelCheckpoint(Callback):
    """Save the model's weights after each epoch (or only when ``monitor`` improves).

    ``filepath`` may hold ``{epoch}`` (1-based, as Keras) and any logged metric, e.g.
    ``"weights-{epoch:02d}-{val_loss:.3f}.safetensors"``. Each file is written atomically
    (safetensors, the epoch and metrics in its metadata).
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        mode: str = "auto",
        initial_value_threshold: float | None = None,
    ):
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = save_best_only
        self.monitor_op = monitor_op(monitor, mode) if save_best_only else None
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if (
                current is None
                or not math.isfinite(current)
                or (self.best is not None and not self.monitor_op(current, self.best))
            ):
                return
            self.best = current
        path = Path(self.filepath.format(epoch=epoch + 1, **logs))
        save_weights(self.run.model, path, {"epoch": epoch, **logs})
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


def save_weights(model, path, metadata: dict | None = None) -> Path:
    """Write a model's state dict to one safetensors file, atomically."""
    from aprende.training.checkpoint import _safetensors

    arrays = {k: c_contiguous(np.asarray(v)) for k, v in model.state_dict().items()}
    text = {k: str(v) for k, v in (metadata or {}).items()}
    atomic_write(Path(path), _safetensors().save(arrays, metadata=text))
    return Path(path)


def load_weights(model, path) -> None:
    """Load a safetensors file written by ``save_weights`` into a model (strict)."""
    from aprende._tensor import Tensor
    from aprende.training.checkpoint import CheckpointError, _safetensors

    try:
        arrays = _safetensors().load(Path(path).read_bytes())
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path} is not a valid safetensors weights file: {error}") from None
    model.load_state_dict({k: Tensor(v) for k, v in arrays.items()})


class CSVLogger(Callback):
    """Write the history to a CSV file after every epoch (one row per epoch, ``epoch``
    counted from 1 as the console and the checkpoints' file names).

    The whole file is rewritten atomically from the run's history, so a resumed run's file
    holds every epoch exactly once.
    """

    def __init__(self, filename, separator: str = ","):
        self.filename, self.separator = Path(filename), separator

    def on_epoch_end(self, epoch, logs=None):
        history = self.run.history
        keys = list(history.history)
        rows = [self.separator.join(["epoch", *keys])]
        for row, number in enumerate(history.epoch):
            values = (_format(history.history[k][row]) for k in keys)
            rows.append(self.separator.join([str(number + 1), *values]))
        atomic_write(self.filename, ("\n".join(rows) + "\n").encode())


def _format(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


class ProgressBar(Callback):
    """A ``rich`` progress bar per epoch (loss, metric, learning rate, samples/s) on a terminal;
    one plain line per epoch otherwise (a pipe, a file, a CI log, or ``NO_COLOR`` set).

    Each line fits ``width`` columns (default: the terminal's, ``COLUMNS`` when set, for
    standard output; no limit for a ``stream`` given): the epoch and the loss always stay, the
    other fields are abbreviated, then dropped (``EPOCH_FIELD_PRIORITY``), never cut.
    """

    def __init__(
        self,
        epochs: int,
        steps: int | None = None,
        stream=None,
        rich: bool | None = None,
        width: int | None = None,
    ):
        self.epochs, self.steps = epochs, steps
        self.width = width if width is not None or stream is not None else terminal_width()
        self.stream = stream or sys.stdout
        self.use_rich = not is_plain(self.stream) if rich is None else rich
        # A narrow terminal gives the bar less room and the numbers more.
        self.bar_width = 20 if self.width is None or self.width >= 100 else 10
        self.progress = self.task = None
        self.seen = self.epoch = 0
        self.start = time.perf_counter()

    def _status_width(self, epoch: int) -> int | None:
        """Columns left for the bar's status text: the width less the epoch, the bar and the
        step count (rich puts one space between columns)."""
        if self.width is None:
            return None
        steps = len(str(self.steps)) if self.steps else 1
        label = len(f"Epoch {epoch + 1}/{self.epochs}")
        return self.width - (label + 1 + self.bar_width + 1 + 2 * steps + 1 + 1)

    def on_epoch_begin(self, epoch, logs=None):
        self.seen, self.start, self.epoch = 0, time.perf_counter(), epoch
        if self.use_rich:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn(f"Epoch {epoch + 1}/{self.epochs}"),
                BarColumn(bar_width=self.bar_width),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                transient=False,
                console=Console(file=self.stream, width=self.width),
            )
            self.progress.start()
            self.task = self.progress.add_task("train", total=self.steps, status="")

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.seen += logs.get("size", 0)
        if self.progress is not None:
            rate = self.seen / max(time.perf_counter() - self.start, 1e-9)
            fields = {"loss": logs.get("loss", math.nan), "samples_per_s": rate}
            status = fit_fields("", _fields(fields), self._status_width(self.epoch))
            self.progress.update(self.task, advance=1, status=status)

    def on_epoch_end(self, epoch, logs=None):
        if self.progress is not None:
            status = fit_fields("", _fields(logs or {}), self._status_width(epoch))
            self.progress.update(self.task, status=status)
            self.progress.stop()
            self.progress = None
        else:
            text = format_logs(epoch, self.epochs, logs or {}, self.width)
            print(text, file=self.stream, flush=True)


# Which fields of an epoch's line stay when the line must be shorter, most wanted first (the
# loss always stays); a field not named here ranks after the metrics, before the lr.
EPOCH_FIELD_PRIORITY = ("loss", "val_loss", "val_*", "*", "lr", "samples_per_s")
_SHORT_NAMES = {"accuracy": "acc", "samples/s": "ex/s"}


def _rank(key: str) -> int:
    if key in EPOCH_FIELD_PRIORITY:
        return EPOCH_FIELD_PRIORITY.index(key)
    return EPOCH_FIELD_PRIORITY.index("val_*" if key.startswith("val_") else "*")


def _fields(logs: dict) -> list[tuple[str, str, str]]:
    """(key, name, value text) of each field worth printing, in the line's order."""
    fields = []
    for key, value in logs.items():
        if key in ("time", "samples_per_s") or value is None:
            continue
        fields.append((key, key, f"{value:.2e}" if key == "lr" else f"{value:.4f}"))
    if "samples_per_s" in logs:
        fields.append(("samples_per_s", "samples/s", f"{logs['samples_per_s']:,.0f}"))
    return fields


def _join(prefix: str, fields, short: bool) -> str:
    parts = []
    for _, name, value in fields:
        if short:
            for long, abbreviation in _SHORT_NAMES.items():
                name = name.replace(long, abbreviation)
        parts.append(f"{value} {name}" if name.endswith("/s") else f"{name} {value}")
    return prefix + "  ".join(parts)


def fit_fields(prefix: str, fields, width: int | None) -> str:
    """``prefix`` and the fields as one line of at most ``width`` columns: all of them with
    their full names if that fits, else with short names (``acc``, ``ex/s``), else without
    the least wanted fields (``EPOCH_FIELD_PRIORITY``) one by one; the loss always stays, so
    a very narrow width gets the shortest line, which may be longer."""
    line = _join(prefix, fields, short=False)
    if width is None or len(line) <= width:
        return line
    kept = list(fields)
    line = _join(prefix, kept, short=True)
    while len(line) > width and len(kept) > 1:
        least = max((f for f in kept if f[0] != "loss"), key=lambda f: (_rank(f[0]), kept.index(f)))
        kept.remove(least)
        line = _join(prefix, kept, short=True)
    return line


def format_logs(epoch: int, epochs: int, logs: dict, width: int | None = None) -> str:
    """``Epoch 3/20: loss 0.1234  accuracy 0.9650  val_loss ...  lr 1.0e-03  12,345 samples/s``,
    fitted to ``width`` columns when given (``fit_fields``)."""
    return fit_fields(f"Epoch {epoch + 1}/{epochs}: ", _fields(logs), width)
