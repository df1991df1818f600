"""The run folder: naming a new one, checking that one can be resumed, and reading a saved run
back (its settings and the state of its chosen checkpoint).

A run folder holds ``config.toml`` and ``checkpoints/`` (epoch-NNNN and best, each
``*.safetensors`` + ``*.json``); what else a run writes there is listed in ``aprende.cli``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from aprende import config as settings_module
from aprende import nn
from aprende.cli.errors import UsageError, one_line
from aprende.config import RunConfig

_MAY_CHANGE_ON_RESUME = ("out", "device", "epochs", "patience")


def run_folder(config: RunConfig, suffix: str = "") -> Path:
    """``--out``, or a new ``runs/<dataset>[-suffix]-<date>-<time>`` folder."""
    if config.out:
        return Path(config.out)
    name = Path(config.csv).stem if config.dataset == "csv" else config.dataset
    base = Path("runs") / f"{name}{suffix}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


def check_resumable(folder: Path, config: RunConfig) -> bool:
    """Whether ``folder`` holds a run to resume; an error when its settings differ."""
    if not (folder / "checkpoints").is_dir() or not (folder / "config.toml").is_file():
        return False
    previous = settings_module.load_run_config(folder)
    changed = previous.differences(config, ignore=_MAY_CHANGE_ON_RESUME)
    if changed:
        raise UsageError(
            f"out: {folder} holds a run with other settings ({'; '.join(changed)}): choose "
            "another --out, or repeat its settings (--config "
            f"{folder / 'config.toml'}) to resume it"
        )
    return True


def chosen_checkpoint(directory: Path) -> Path | None:
    """The best checkpoint (lowest validation loss), else the newest."""
    from aprende.training.checkpoint import best_checkpoint, latest_checkpoint

    return best_checkpoint(directory) or latest_checkpoint(directory)


def read_checkpoint(path: Path | None) -> dict:
    """The saved state of a checkpoint file (one-line errors for a missing or bad one)."""
    from aprende.training.checkpoint import CheckpointError, load_state

    if path is None:
        raise UsageError("no checkpoint found in the run folder")
    try:
        return load_state(path)
    except CheckpointError as error:
        raise UsageError(one_line(error)) from None


def restore_weights(model: nn.Module, saved: dict, device: str) -> None:
    """Load a checkpoint's weights into ``model`` (a one-line error when they do not fit)."""
    from aprende.training.checkpoint import CheckpointError, restore_model

    try:
        restore_model(model, saved)
    except CheckpointError as error:
        raise UsageError(one_line(error)) from None
    model.to(device)


def open_run(args: argparse.Namespace) -> tuple[RunConfig, dict]:
    """(settings, checkpoint state) of ``RUN`` and ``--checkpoint``.

    RUN is a run folder (settings from its config.toml, weights from its best checkpoint) or
    a checkpoint file (both from it); ``--checkpoint`` picks other weights.
    """
    run = Path(args.run)
    if not run.exists():
        raise UsageError(
            f"RUN: {str(run)!r} does not exist (expected a run folder or a checkpoint)"
        )
    config = None
    if run.is_dir():
        if not (run / "config.toml").is_file():
            raise UsageError(f"RUN: {run} is not a run folder (it has no config.toml)")
        config = settings_module.load_run_config(run)
        checkpoint = chosen_checkpoint(run / "checkpoints")
    else:
        checkpoint = run
    if args.checkpoint:
        checkpoint = Path(args.checkpoint)
        if not checkpoint.exists():
            raise UsageError(f"--checkpoint: {str(checkpoint)!r} does not exist")
    saved = read_checkpoint(checkpoint)
    stored = saved.get("config") or {}
    if "run" not in stored or "dataset" not in stored:
        raise UsageError(
            f"checkpoint {checkpoint} was not written by 'aprende train' (it holds no run "
            "settings): pass the run folder as RUN and the file as --checkpoint"
        )
    if config is None:
        config = settings_module.from_dict(stored["run"])
    return config, saved
