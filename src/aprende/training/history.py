"""History: what a training run measured, epoch by epoch (Keras' ``History``)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path


class History:
    """Per-epoch logs: ``history["loss"]``, ``history["val_accuracy"]``, ``history.epoch``.

    ``history.history`` is a dict of metric name -> list of values, one per epoch (the loss and
    metrics on the training and validation sets, the learning rate ``lr``, the epoch's ``time``
    in seconds and throughput ``samples_per_s``).
    """

    def __init__(self, history: dict | None = None, epoch: list | None = None):
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch: list[int] = list(epoch or [])

    def append(self, epoch: int, logs: dict) -> None:
        """Record one epoch's logs; a key first seen later is padded with None before."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            column = self.history.setdefault(key, [None] * (len(self.epoch) - 1))
            column.append(value)
        for key, column in self.history.items():
            if key not in logs:
                column.append(None)

    def __getitem__(self, key: str) -> list:
        if key not in self.history:
            raise KeyError(f"no metric {key!r} in the history; it has {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __iter__(self):
        return iter(self.history)

    def keys(self):
        return self.history.keys()

    def items(self):
        return self.history.items()

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict:
        return {"history": self.history, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: list(v) for k, v in state.get("history", {}).items()}
        self.epoch = list(state.get("epoch", []))

    def best(self, monitor: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """(epoch, value) of the best value of ``monitor`` (NaN and infinities never are)."""
        values = [
            (v, e)
            for e, v in zip(self.epoch, self[monitor], strict=True)
            if v is not None and math.isfinite(v)
        ]
        if not values:
            raise ValueError(f"no values of {monitor!r} recorded")
        value, epoch = min(values) if mode == "min" else max(values)
        return epoch, value

    def to_csv(self, path) -> Path:
        """Write one row per epoch: ``epoch`` (counted from 1, as the console and the
        checkpoints' file names) then every metric (atomically)."""
        from aprende.training.checkpoint_files import atomic_write

        path = Path(path)
        keys = list(self.history)
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(["epoch", *keys])
        for row, epoch in enumerate(self.epoch):
            writer.writerow([epoch + 1, *(self.history[k][row] for k in keys)])
        atomic_write(path, text.getvalue().encode())
        return path

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, metrics={list(self.history)})"
