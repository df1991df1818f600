"""The run folder: naming a new one, checking that one can be resumed, and reading a saved run
back (its settings and the state of its chosen checkpoint).

A run folder holds ``config.toml`` and ``checkpoints/`` (epoch-NNNN and best, each
``*.safetensors`` + ``*.json``); what else a run writes there is listed in ``aprende.cli``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from aprende import config as settings_module
from aprende import nn
from aprende.cli.errors import UsageError, one_line
from aprende.config import ConfigError, RunConfig

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


def stored_settings(saved: dict) -> RunConfig:
    """The settings a checkpoint was trained with (the copy ``aprende train`` stores in it)."""
    stored = saved.get("config") or {}
    if not isinstance(stored.get("run"), dict) or "dataset" not in stored:
        raise UsageError(
            f"checkpoint {saved['path']} was not written by 'aprende train' (it holds no run "
            "settings): pass the run folder as RUN and the file as --checkpoint"
        )
    try:
        return settings_module.from_dict(stored["run"])
    except ConfigError as error:
        raise UsageError(f"checkpoint {saved['path']}: {one_line(error)}") from None


def check_resumable(folder: Path, config: RunConfig) -> bool:
    """Whether ``folder`` holds a run to resume; an error when the settings asked for differ
    from those its newest checkpoint was trained with (config.toml is not trusted for this:
    it may be missing, torn or edited)."""
    from aprende.training.checkpoint import latest_checkpoint

    latest = latest_checkpoint(folder / "checkpoints")
    if latest is None:
        return False
    previous = stored_settings(read_checkpoint(latest))
    changed = previous.differences(config, ignore=_MAY_CHANGE_ON_RESUME)
    if changed:
        raise UsageError(
            f"out: {folder} holds a run with other settings ({'; '.join(changed)}): choose "
            "another --out, or repeat its settings (--config "
            f"{folder / 'config.toml'}) to resume it"
        )
    return True


def check_config_file(folder: Path, config: RunConfig, saved: dict) -> None:
    """The run folder's config.toml must say what its checkpoint was trained with: a torn or
    edited file would otherwise rebuild another split or model without a word."""
    trained = stored_settings(saved)
    changed = config.differences(trained, ignore=_MAY_CHANGE_ON_RESUME)
    if changed:
        raise UsageError(
            f"RUN: {folder / 'config.toml'} disagrees with the settings checkpoint "
            f"{saved['path']} was trained with ({'; '.join(changed)}): restore config.toml, or "
            "pass the checkpoint file as RUN"
        )


def chosen_checkpoint(directory: Path) -> Path | None:
    """The best checkpoint (lowest validation loss), else the newest, saying so on stderr."""
    from aprende.training.checkpoint import (
        CheckpointError,
        best_checkpoint,
        latest_checkpoint,
    )

    try:
        best = best_checkpoint(directory)
    except CheckpointError as error:
        raise UsageError(one_line(error)) from None
    if best is not None:
        return best
    latest = latest_checkpoint(directory)
    if latest is not None:
        print(
            f"note: {directory} records no best epoch (no validation loss was a number): "
            f"using the newest checkpoint, {latest.name}",
            file=sys.stderr,
        )
    return latest


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
        if not checkpoint.exists() and checkpoint.name != "best.json":
            raise UsageError(f"--checkpoint: {str(checkpoint)!r} does not exist")
    saved = read_checkpoint(checkpoint)
    trained = stored_settings(saved)
    if config is None:
        return trained, saved
    own = Path(saved["path"]).parent.resolve() == (run / "checkpoints").resolve()
    if own:
        check_config_file(run, config, saved)
    return config, saved
