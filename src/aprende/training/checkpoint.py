"""Checkpoints that never lose training progress: safetensors for arrays, JSON for the rest.

A checkpoint is a pair of files, ``<name>.safetensors`` (every array: weights, optimizer moments,
...) and ``<name>.json`` (epoch, hyperparameters, RNG states, history, config), each written
atomically: to a temporary file, flushed and fsync'ed, then renamed over the target. The JSON is
written last and records the SHA-256 of the arrays file, so a checkpoint is complete exactly when
its JSON exists and the digest matches; a process killed at any moment leaves the previous
complete checkpoint in place. No pickle anywhere: loading a checkpoint runs no code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from aprende import backend
from aprende._tensor import Tensor

FORMAT = "aprende-checkpoint"
FORMAT_VERSION = 1
_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.json$")
_OUR_TENSORS = re.compile(r"^(epoch|best)-\d+\.safetensors$")


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated, foreign, or does not fit the model."""


# ---- flattening nested state into (arrays, JSON) ----------------------------------------------


def flatten_state(state, prefix: str, arrays: dict):
    """Replace every array/Tensor inside nested dicts/lists by ``{"__array__": key}``.

    The arrays go into ``arrays`` under dotted keys starting with ``prefix``; what remains is
    plain JSON. Non-string dict keys (optimizer state is keyed by int) are kept as strings with
    their type recorded, so ``unflatten_state`` gives back exactly the original structure.
    """
    if isinstance(state, Tensor):
        state = state.data
    if hasattr(state, "shape") and hasattr(state, "dtype") and not isinstance(state, np.generic):
        arrays[prefix] = c_contiguous(backend.to_numpy(state))
        return {"__array__": prefix}
    if isinstance(state, np.generic):
        return state.item()
    if isinstance(state, dict):
        items = {str(k): flatten_state(v, f"{prefix}.{k}", arrays) for k, v in state.items()}
        int_keys = [str(k) for k in state if isinstance(k, int)]
        return {"__dict__": items, "__int_keys__": int_keys} if int_keys else items
    if isinstance(state, list | tuple):
        items = [flatten_state(v, f"{prefix}.{i}", arrays) for i, v in enumerate(state)]
        return {"__tuple__": items} if isinstance(state, tuple) else items
    if isinstance(state, float) and not np.isfinite(state):
        return {"__float__": repr(state)}
    return state


def c_contiguous(array) -> np.ndarray:
    """A C-ordered array as safetensors wants it, 0-d arrays kept 0-d (``np.ascontiguousarray``
    would make them shape (1,))."""
    return np.array(array, order="C", copy=None)


def unflatten_state(state, arrays: dict):
    """Inverse of ``flatten_state``."""
    if isinstance(state, dict):
        if "__array__" in state:
            return arrays[state["__array__"]]
        if "__tuple__" in state:
            return tuple(unflatten_state(v, arrays) for v in state["__tuple__"])
        if "__float__" in state:
            return float(state["__float__"])
        if "__dict__" in state:
            int_keys = set(state["__int_keys__"])
            return {
                (int(k) if k in int_keys else k): unflatten_state(v, arrays)
                for k, v in state["__dict__"].items()
            }
        return {k: unflatten_state(v, arrays) for k, v in state.items()}
    if isinstance(state, list):
        return [unflatten_state(v, arrays) for v in state]
    return state


# ---- atomic files ----------------------------------------------------------------------------


def atomic_write(path: Path, payload: bytes) -> None:
    """Write bytes so that ``path`` holds either its old content or the new, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _safetensors():
    try:
        from safetensors import numpy as safetensors_numpy
    except ImportError as error:
        raise ImportError(
            "checkpoints need safetensors: pip install 'aprende[checkpoints]'"
        ) from error
    return safetensors_numpy


# ---- writing and reading one checkpoint -------------------------------------------------------


def write_checkpoint(json_path: Path, tensors_name: str, arrays: dict, meta: dict) -> Path:
    """Write the arrays file ``tensors_name`` then ``json_path`` (the commit record), atomically.

    Give each new checkpoint a new ``tensors_name``: the JSON is what makes it current, so until
    the JSON's rename the previous pair stays complete and loadable.
    """
    json_path = Path(json_path)
    payload = _safetensors().save(arrays)
    atomic_write(json_path.parent / tensors_name, payload)
    record = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tensors": tensors_name,
        "sha256": hashlib.sha256(payload).hexdigest(),
        **meta,
    }
    atomic_write(json_path, json.dumps(record, indent=1, allow_nan=False).encode())
    return json_path


def read_checkpoint(json_path: Path) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint, verified; a clear CheckpointError for any bad file."""
    json_path = Path(json_path)
    if json_path.suffix == ".safetensors":
        json_path = json_path.with_suffix(".json")
    if not json_path.exists():
        raise CheckpointError(f"no checkpoint at {json_path}")
    try:
        meta = json.loads(json_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{json_path} is not an aprende checkpoint (not valid JSON: {error})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{json_path} is not an aprende checkpoint (expected format '{FORMAT}', "
            f"got {meta.get('format') if isinstance(meta, dict) else type(meta).__name__!r})"
        )
    tensors_path = json_path.parent / meta["tensors"]
    if not tensors_path.exists():
        raise CheckpointError(f"checkpoint {json_path} names {tensors_path}, which is missing")
    payload = tensors_path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta["sha256"]:
        raise CheckpointError(
            f"checkpoint file {tensors_path} is truncated or corrupt ({len(payload)} bytes; "
            "its SHA-256 does not match the one recorded when it was written)"
        )
    try:
        arrays = _safetensors().load(payload)
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{tensors_path} is not a valid safetensors file: {error}") from None
    return arrays, meta


# ---- the checkpoint folder: last and best ----------------------------------------------------


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The JSON of the newest complete ``epoch-NNNN`` checkpoint in a folder, or None."""
    directory = Path(checkpoint_dir)
    if not directory.is_dir():
        return None
    epochs = [
        (int(match.group(1)), path)
        for path in directory.iterdir()
        if (match := _EPOCH_FILE.match(path.name))
    ]
    return max(epochs)[1] if epochs else None


def best_checkpoint(checkpoint_dir) -> Path | None:
    """The JSON of the best checkpoint in a folder, or None."""
    path = Path(checkpoint_dir) / "best.json"
    return path if path.exists() else None


def prune(checkpoint_dir, keep: set) -> None:
    """Remove checkpoint files no current JSON refers to (older epochs, replaced bests).

    Runs only after the new JSON is in place, so a crash here loses nothing.
    """
    directory = Path(checkpoint_dir)
    current = {latest_checkpoint(directory), best_checkpoint(directory)} - {None}
    referenced = {path.name for path in current} | set(keep)
    for path in current:
        referenced.add(json.loads(path.read_text())["tensors"])
    for path in directory.iterdir():
        stale_epoch = _EPOCH_FILE.match(path.name) and path.name not in referenced
        stale_tensors = _OUR_TENSORS.match(path.name) and path.name not in referenced
        if stale_epoch or stale_tensors:
            path.unlink(missing_ok=True)


# ---- the public API: the slides' save_checkpoint / load_checkpoint ---------------------------


def _state_of(obj):
    return None if obj is None else obj.state_dict()


def save_checkpoint(
    model,
    optimizer,
    epoch: int,
    checkpoint_dir,
    scheduler=None,
    *,
    history=None,
    preprocessing: dict | None = None,
    callbacks: dict | None = None,
    loaders=(),
    config: dict | None = None,
    metrics: dict | None = None,
    best: bool = False,
) -> Path:
    """Save everything needed to resume after ``epoch`` (0-based, the epoch just finished).

    Model, optimizer and scheduler state, the preprocessing objects' state, stateful callbacks,
    the RNG states (aprende's global generator and each loader's generator, so the data order
    continues exactly), the history and the resolved config. Writes ``epoch-NNNN.*`` in
    ``checkpoint_dir`` and removes the older one once the new one is complete; with
    ``best=True`` it also (atomically) replaces ``best.*``. Returns the JSON path.
    """
    arrays: dict = {}
    state = {
        "model": _state_of(model),
        "optimizer": _state_of(optimizer),
        "scheduler": _state_of(scheduler),
        "preprocessing": {k: v.state_dict() for k, v in (preprocessing or {}).items()},
        "callbacks": {k: v.state_dict() for k, v in (callbacks or {}).items()},
        "rng": {"global": backend.get_rng_state(), "loaders": _loader_states(loaders)},
    }
    meta = {
        "epoch": int(epoch),
        "model_class": type(model).__name__,
        "state": {name: flatten_state(part, name, arrays) for name, part in state.items()},
        "history": flatten_state(_history_dict(history), "history", arrays),
        "config": config or {},
        "metrics": flatten_state(metrics or {}, "metrics", arrays),
    }
    directory = Path(checkpoint_dir)
    last = write_checkpoint(
        directory / f"epoch-{epoch:04d}.json",
        f"epoch-{epoch:04d}.safetensors",
        arrays,
        meta,
    )
    if best:
        write_checkpoint(directory / "best.json", f"best-{epoch:04d}.safetensors", arrays, meta)
    prune(directory, keep={last.name})
    return last


def _history_dict(history) -> dict:
    if history is None:
        return {}
    return dict(getattr(history, "history", history))


def _loader_states(loaders) -> list:
    """Each loader's shuffling generator and, when it has one, its sampler's state (the losses
    a hard-example sampler has seen)."""
    states = []
    for loader in loaders:
        generator = getattr(loader, "generator", None)
        sampler = getattr(loader, "sampler", None)
        states.append(
            {
                "generator": generator.bit_generator.state if generator is not None else None,
                "sampler": sampler.state_dict() if hasattr(sampler, "state_dict") else None,
            }
        )
    return states


def load_state(path) -> dict:
    """The full saved state of a checkpoint (a JSON path, a .safetensors path or a folder).

    A folder gives its newest ``epoch-NNNN`` checkpoint. Returns a dict with ``epoch``,
    ``state`` (model, optimizer, scheduler, preprocessing, callbacks, rng), ``history``,
    ``config``, ``metrics`` and ``path``.
    """
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f"no checkpoint in {path}")
        path = found
    arrays, meta = read_checkpoint(path)
    for key in ("state", "history", "metrics"):
        meta[key] = unflatten_state(meta.get(key, {}), arrays)
    meta["path"] = str(path)
    return meta


def restore_model(model, saved: dict) -> None:
    """Load a checkpoint's weights into ``model``; a clear error when they do not fit."""
    weights = {k: Tensor(v) for k, v in saved["state"]["model"].items()}
    try:
        model.load_state_dict(weights, strict=True)
    except (RuntimeError, KeyError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {saved['path']} (saved from a {saved.get('model_class')}) does not fit "
            f"this {type(model).__name__}: {error}"
        ) from None


def restore_rng(saved: dict, loaders=()) -> None:
    """Put aprende's global generator, each loader's generator and sampler back as they were."""
    rng = saved["state"]["rng"]
    backend.set_rng_state(rng["global"])
    for loader, state in zip(loaders, rng["loaders"], strict=False):
        generator = getattr(loader, "generator", None)
        if generator is not None and state["generator"] is not None:
            generator.bit_generator.state = state["generator"]
        if state["sampler"] is not None:
            loader.sampler.load_state_dict(state["sampler"])


def load_checkpoint(model, optimizer=None, checkpoint_dir=None, scheduler=None):
    """The slides' ``start_epoch, model, optimizer = load_checkpoint(model, optimizer, dir)``.

    Restores the newest checkpoint in ``checkpoint_dir`` (or a given checkpoint file) into the
    model, the optimizer and the scheduler when given, and the global RNG, and returns the epoch
    to start from (the saved epoch + 1). With no checkpoint there, returns ``(0, model,
    optimizer)`` and leaves everything untouched.
    """
    if checkpoint_dir is None:
        raise TypeError("load_checkpoint: checkpoint_dir is required")
    path = Path(checkpoint_dir)
    if path.is_dir() or not path.exists():
        found = latest_checkpoint(path)
        if found is None:
            return 0, model, optimizer
        path = found
    saved = load_state(path)
    restore_model(model, saved)
    if optimizer is not None and saved["state"]["optimizer"] is not None:
        optimizer.load_state_dict(saved["state"]["optimizer"])
    if scheduler is not None and saved["state"]["scheduler"] is not None:
        scheduler.load_state_dict(saved["state"]["scheduler"])
    restore_rng(saved)
    return saved["epoch"] + 1, model, optimizer
