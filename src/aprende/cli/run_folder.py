"""The run folder: naming it, checking that one can be resumed, and reading a saved run back
(its settings and the state of its chosen checkpoint).

A run folder holds ``config.toml`` and ``checkpoints/`` (epoch-NNNN and best, each
``*.safetensors`` + ``*.json``); what else a run writes there is listed in ``aprende.cli``.

``aprende train``'s folder is named by its settings, ``runs/<dataset>-<hash>``, so the same
command finds it again: an interrupted run resumes, a finished one is left as it is and the
next ``runs/<dataset>-<hash>-2`` (``-3``, ...) starts. ``--restart`` trains the first folder
(or ``--out``) afresh, moving the run it held into ``previous-run-N/`` inside it: nothing of
the run being replaced is deleted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

from aprende import config as settings_module
from aprende import nn
from aprende.cli.errors import UsageError, one_line
from aprende.config import ConfigError, RunConfig

_MAY_CHANGE_ON_RESUME = ("out", "device", "epochs", "patience")


def run_folder(config: RunConfig, suffix: str = "") -> Path:
    """``--out``, or a new ``runs/<dataset>[-suffix]-<date>-<time>`` folder (``lr-find``)."""
    if config.out:
        return Path(config.out)
    name = Path(config.csv).stem if config.dataset == "csv" else config.dataset
    base = Path("runs") / f"{name}{suffix}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


def settings_hash(config: RunConfig) -> str:
    """The first 8 hex digits of the SHA-256 of the settings that define a run, as canonical
    JSON (sorted keys, no spaces): the same in every process and Python version; the settings
    a resume may change (``_MAY_CHANGE_ON_RESUME``) are left out."""
    defining = {k: v for k, v in config.to_dict().items() if k not in _MAY_CHANGE_ON_RESUME}
    text = json.dumps(defining, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:8]


def train_folder(config: RunConfig, restart: bool = False) -> Path:
    """``--out``, else the folder of these settings: ``runs/<dataset>-<hash>``, or the first of
    ``-2``, ``-3``, ... that is not a finished run (with ``restart``: always the first)."""
    if config.out:
        return Path(config.out)
    name = Path(config.csv).stem if config.dataset == "csv" else config.dataset
    base = Path("runs") / f"{name}-{settings_hash(config)}"
    folder, number = base, 1
    while not restart and (done := finished_epochs(folder, config)) is not None:
        number += 1
        following = base.with_name(f"{base.name}-{number}")
        if finished_epochs(following, config) is None:
            print(
                f"{folder} holds a finished run with these settings ({done}): starting "
                f"{following} (--restart trains {base} again)"
            )
        folder = following
    return folder


def finished_epochs(folder: Path, config: RunConfig) -> str | None:
    """How a finished run in ``folder`` ended ("10 of 10 epochs", "stopped early after epoch
    6"), or None when the folder holds no run or one that ``config`` continues. Reads only."""
    from aprende.training.checkpoint import CheckpointError, load_state, newest_complete_checkpoint

    try:
        path, _ = newest_complete_checkpoint(folder / "checkpoints")
        saved = load_state(path) if path is not None else None
    except CheckpointError:
        return None  # the resume says what is wrong, under the folder's lock
    if saved is None:
        return None
    done = saved["epoch"] + 1
    if done >= config.epochs:
        return f"{done} of {config.epochs} epochs"
    callbacks = saved["state"]["callbacks"]
    if not (callbacks.get("checkpointer") or {}).get("stopped"):
        return None
    # Stopped early: it stays stopped unless the patience asked for now leaves it epochs to
    # wait (what ``fit`` decides on resuming, from the same saved state).
    waits = [s.get("wait") for k, s in callbacks.items() if k.endswith(".EarlyStopping")]
    if config.patience > 0 and any(isinstance(w, int) and w < config.patience for w in waits):
        return None
    return f"stopped early after epoch {done}"


def restart_folder(folder: Path) -> Path | None:
    """Move the run ``folder`` holds (checkpoints/, history.csv, metrics.json) into a new
    ``folder/previous-run-N/`` (N the first number free); that folder, or None when there was
    nothing to move. Nothing is deleted: an interrupted move leaves each part in one of the
    two places. Call it holding the folder's lock."""
    parts = [folder / name for name in ("checkpoints", "history.csv", "metrics.json")]
    parts = [p for p in parts if p.exists()]
    if not parts:
        return None
    number = 1
    while (folder / f"previous-run-{number}").exists():
        number += 1
    previous = folder / f"previous-run-{number}"
    previous.mkdir()
    for part in parts:
        part.rename(previous / part.name)
    return previous


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


def check_resumable(folder: Path, config: RunConfig, writes: bool = True) -> bool:
    """Whether ``folder`` holds a run to resume; an error when the settings asked for differ
    from those its newest complete checkpoint was trained with (config.toml is not trusted
    for this: it may be missing, torn or edited).

    The writer (``writes``, holding the folder's lock) first reconciles the folder: a damaged
    newest checkpoint is set aside, with one warning line on stderr naming it; when none is
    complete, an error suggesting ``--restart``."""
    from aprende.training.checkpoint import (
        CheckpointError,
        newest_complete_checkpoint,
        reconcile,
    )

    directory = folder / "checkpoints"
    try:
        if writes:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                latest = reconcile(directory)
            for warning in caught:
                print(f"aprende train: warning: {one_line(warning.message)}", file=sys.stderr)
        else:
            latest, _ = newest_complete_checkpoint(directory)
    except CheckpointError as error:
        raise UsageError(
            f"out: cannot resume {folder}: {one_line(error)}; 'aprende train ... --restart' "
            "starts it over (the old files kept in previous-run-N/)"
        ) from None
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
