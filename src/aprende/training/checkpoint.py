"""Checkpoints that never lose training progress: safetensors for arrays, JSON for the rest.

Each epoch writes one pair: ``epoch-NNNN.safetensors`` (every array: weights, optimizer moments,
...) then ``epoch-NNNN.json``, the record (epoch, which epoch is best, hyperparameters, RNG
states, history, config, the arrays file's size and SHA-256), each atomically (a temporary
file, fsync'ed, renamed). The record's rename is the epoch's one commit point: before it the
previous record is current, after it the new one, and everything else is derived from the
records: ``best.json`` is a copy of the best epoch's record for people and tools, files no
record refers to are removed, and a resume (``reconcile``) rebuilds both after an interruption.
No pickle anywhere: loading a checkpoint runs no code.

The folder keeps the newest epoch, the one before it and the best epoch each of those two
names, so a newest checkpoint damaged on disk (``CorruptCheckpointError``) costs one epoch: a
resume sets its files aside as ``*.corrupt`` (never deleting them), warns, and continues from
the previous one.

Epochs in file names count from 1 (``epoch-0001`` is the first epoch, as the console and
``history.csv`` say); the records' ``epoch``/``best_epoch`` fields and this module's ``epoch``
arguments are the training loop's counter, from 0 (see ``checkpoint_files``).
"""

from __future__ import annotations

import re
import uuid
import warnings
from pathlib import Path

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.training.checkpoint_files import (
    FORMAT,
    FORMAT_VERSION,
    CheckpointError,
    CorruptCheckpointError,
    atomic_write,
    binding,
    encode_record,
    read_record,
    read_tensors_payload,
    record_name,
    remove_temporary_files,
    tensors_name,
)
from aprende.training.checkpoint_restore import restore_model, restore_rng

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "CheckpointError",
    "CorruptCheckpointError",
    "atomic_write",
    "best_checkpoint",
    "latest_checkpoint",
    "load_checkpoint",
    "load_state",
    "newest_complete_checkpoint",
    "read_checkpoint",
    "reconcile",
    "restore_model",
    "restore_rng",
    "save_checkpoint",
]

BEST = "best.json"
_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.json$")
_OUR_FILES = re.compile(r"^(epoch|best)-\d+\.(safetensors|json)$")


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
        state = state.item()
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
    """Inverse of ``flatten_state``; a CheckpointError (KeyError/ValueError inside) for a
    reference to an array that is not there or a marker of the wrong type."""
    if isinstance(state, dict):
        if "__array__" in state:
            key = state["__array__"]
            if not isinstance(key, str) or key not in arrays:
                raise CheckpointError(f"the record names array {key!r}, which the file lacks")
            return arrays[key]
        if "__tuple__" in state:
            return tuple(unflatten_state(v, arrays) for v in _of_type(state["__tuple__"], list))
        if "__float__" in state:
            text = _of_type(state["__float__"], str)
            if text not in ("nan", "inf", "-inf"):
                raise CheckpointError(f"the record holds {text!r} where a float was written")
            return float(text)
        if "__dict__" in state:
            int_keys = _of_type(state.get("__int_keys__"), list)
            int_keys = {_of_type(k, str) for k in int_keys}
            items = _of_type(state["__dict__"], dict)
            if not int_keys <= set(items) or not all(k.lstrip("-").isdigit() for k in int_keys):
                raise CheckpointError("the record's integer keys do not match its dict")
            return {
                (int(k) if k in int_keys else k): unflatten_state(v, arrays)
                for k, v in items.items()
            }
        return {k: unflatten_state(v, arrays) for k, v in state.items()}
    if isinstance(state, list):
        return [unflatten_state(v, arrays) for v in state]
    return state


def _of_type(value, kind):
    if not isinstance(value, kind):
        raise CheckpointError(
            f"the record holds a {type(value).__name__} where a {kind.__name__} was written"
        )
    return value


def _safetensors():
    try:
        from safetensors import numpy as safetensors_numpy
    except ImportError as error:
        raise ImportError(
            "checkpoints need safetensors: pip install 'aprende[checkpoints]'"
        ) from error
    return safetensors_numpy


# ---- writing and reading one checkpoint -------------------------------------------------------


def write_checkpoint(
    directory: Path, epoch: int, arrays: dict, meta: dict, run_id: str, best_epoch
) -> Path:
    """Write ``epoch-NNNN.safetensors`` then its record ``epoch-NNNN.json`` (the commit point).

    Until the record's rename the previous record stays current and complete.
    """
    import hashlib

    directory = Path(directory)
    payload = _safetensors().save(arrays, metadata=binding(run_id, epoch))
    atomic_write(directory / tensors_name(epoch), payload)
    record = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "run_id": run_id,
        "epoch": int(epoch),
        "best_epoch": best_epoch,
        "tensors": tensors_name(epoch),
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        **meta,
    }
    path = directory / record_name(epoch)
    atomic_write(path, encode_record(record))
    return path


def read_checkpoint(json_path: Path) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint, verified; a clear CheckpointError for any bad file.

    ``best.json`` is read as its folder's best epoch (what the newest record names), so a
    copy an interruption left behind is never taken for the best.
    """
    json_path = Path(json_path)
    if json_path.suffix == ".safetensors":
        json_path = json_path.with_suffix(".json")
    if json_path.name == BEST:
        json_path = best_checkpoint(json_path.parent) or json_path
    if not json_path.exists():
        raise CheckpointError(f"no checkpoint at {json_path}")
    meta = read_record(json_path)
    match = _EPOCH_FILE.match(json_path.name)
    if match and int(match.group(1)) != meta["epoch"] + 1:
        raise CheckpointError(
            f"checkpoint {json_path} records epoch {meta['epoch'] + 1}, not the "
            f"{int(match.group(1))} of its name"
        )
    payload = read_tensors_payload(meta, json_path)
    try:
        arrays = _safetensors().load(payload)
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise CorruptCheckpointError(
            f"{json_path.parent / meta['tensors']} is not a valid safetensors file: {error}"
        ) from None
    return arrays, meta


# ---- the checkpoint folder: newest, best, reconcile -------------------------------------------


def _epoch_records(directory: Path) -> list[Path]:
    """The ``epoch-NNNN.json`` records of a folder, newest first."""
    if not directory.is_dir():
        return []
    epochs = [
        (int(match.group(1)), path)
        for path in directory.iterdir()
        if (match := _EPOCH_FILE.match(path.name))
    ]
    return [path for _, path in sorted(epochs, reverse=True)]


def latest_checkpoint(checkpoint_dir) -> Path | None:
    """The record of the newest ``epoch-NNNN`` checkpoint in a folder, or None."""
    records = _epoch_records(Path(checkpoint_dir))
    return records[0] if records else None


def newest_complete_checkpoint(
    checkpoint_dir,
) -> tuple[Path | None, list[tuple[Path, CheckpointError]]]:
    """(the newest checkpoint whose record and arrays verify, (record, error) of each damaged
    newer one). Reads only; a checkpoint that is foreign or of another version is an error, not
    damage to skip. The path is None when there is none (the errors say whether any was bad).
    """
    damaged = []
    for path in _epoch_records(Path(checkpoint_dir)):
        try:
            read_checkpoint(path)
        except CorruptCheckpointError as error:
            damaged.append((path, error))
            continue
        return path, damaged
    return None, damaged


def best_checkpoint(checkpoint_dir) -> Path | None:
    """The record of the epoch the newest record names as best, or None (none named)."""
    directory = Path(checkpoint_dir)
    latest = latest_checkpoint(directory)
    if latest is None:
        return None
    record = read_record(latest)
    if record["best_epoch"] is None:
        return None
    path = directory / record_name(record["best_epoch"])
    if path == latest:
        return path
    if not path.exists():
        raise CheckpointError(
            f"checkpoint {latest} names epoch {record['best_epoch'] + 1} as the best, and its "
            f"record {path.name} is missing"
        )
    best = read_record(path)
    if best["run_id"] != record["run_id"]:
        raise CheckpointError(
            f"{directory} mixes the checkpoints of two runs ({latest.name} and {path.name}): "
            "copy a run's folder whole, or start a new one"
        )
    return path


def _previous_record(directory: Path, record: dict) -> dict | None:
    """The record of the epoch before ``record``'s, when it is of the same run and readable."""
    if record["epoch"] == 0:
        return None
    path = directory / record_name(record["epoch"] - 1)
    try:
        previous = read_record(path)
    except CheckpointError:
        return None
    return previous if previous["run_id"] == record["run_id"] else None


def prune(checkpoint_dir, current: Path) -> None:
    """Remove checkpoint files that neither ``current`` (the newest record), the record of
    the epoch before it (a fallback should the newest be damaged), nor the best record each
    names refers to: older epochs, and records an abandoned run left."""
    directory = Path(checkpoint_dir)
    record = read_record(current)
    keep = {BEST}
    for kept in (record, _previous_record(directory, record)):
        if kept is None:
            continue
        keep |= {record_name(kept["epoch"]), kept["tensors"]}
        if kept["best_epoch"] is not None:
            keep |= {record_name(kept["best_epoch"]), tensors_name(kept["best_epoch"])}
    for path in directory.iterdir():
        if _OUR_FILES.match(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)


def _refresh_best_copy(directory: Path) -> None:
    """Make ``best.json`` a copy of the best record (or remove it when none is best)."""
    best = best_checkpoint(directory)
    copy = directory / BEST
    if best is None:
        if copy.exists():
            copy.unlink()
        return
    content = best.read_bytes()
    if not copy.is_file() or copy.is_symlink() or copy.read_bytes() != content:
        atomic_write(copy, content)


def set_aside(path: Path) -> list[Path]:
    """Rename a damaged checkpoint's record and arrays file to ``*.corrupt`` (``*.corrupt-2``,
    ... when taken), so that nothing reads them again and nothing is lost; the new names."""
    moved = []
    for source in (path, path.with_suffix(".safetensors")):
        if not (source.exists() or source.is_symlink()):
            continue
        target, number = source.with_name(f"{source.name}.corrupt"), 1
        while target.exists() or target.is_symlink():
            number += 1
            target = source.with_name(f"{source.name}.corrupt-{number}")
        source.rename(target)
        moved.append(target)
    return moved


def reconcile(checkpoint_dir) -> Path | None:
    """Bring a checkpoint folder back to what its newest complete record says, after an
    interruption.

    Removes temporary files of interrupted writes; sets aside newer checkpoints damaged on
    disk (``set_aside``, one ``RuntimeWarning`` each, naming the file); rewrites
    ``best.json`` from the records, and removes files no record refers to. Returns the newest
    complete record (None when there is none); when every checkpoint is damaged, a
    ``CheckpointError`` saying so, and the files are left as they are. Call it only while
    holding the folder's ``RunLock``.
    """
    directory = Path(checkpoint_dir)
    if not directory.is_dir():
        return None
    remove_temporary_files(directory)
    latest, damaged = newest_complete_checkpoint(directory)
    if latest is None and damaged:
        raise CheckpointError(
            f"no complete checkpoint in {directory}: all {len(damaged)} are damaged (the "
            f"newest: {damaged[0][1]})"
        )
    for path, error in damaged:
        moved = set_aside(path)
        warnings.warn(
            f"{error}; set aside as {', '.join(p.name for p in moved)}, resuming from "
            f"{latest.name}",
            RuntimeWarning,
            stacklevel=2,
        )
    if latest is None:
        if (directory / BEST).exists():
            (directory / BEST).unlink()
        return None
    prune(directory, latest)
    _refresh_best_copy(directory)
    return latest


# ---- the public API: the slides' save_checkpoint / load_checkpoint ---------------------------


def _state_of(obj):
    return None if obj is None else obj.state_dict()


def _continued_run(directory: Path, epoch: int) -> tuple[str | None, int | None]:
    """(run id, best epoch) of the run the folder holds, when ``epoch`` continues it."""
    latest = latest_checkpoint(directory)
    if latest is None:
        return None, None
    try:
        record = read_record(latest)
    except CheckpointError:
        return None, None
    if record["epoch"] >= epoch:  # starting over in this folder: a new run
        return None, None
    return record["run_id"], record["best_epoch"]


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
    run_id: str | None = None,
    best_epoch: int | None = None,
) -> Path:
    """Save everything needed to resume after ``epoch`` (0-based, the epoch just finished).

    Model, optimizer and scheduler state, the preprocessing objects' state, stateful callbacks,
    the RNG states (aprende's global generator and each of ``loaders``' generators, so the data
    order continues exactly: pass the same loaders to ``load_checkpoint``), the history and the
    resolved config. Writes ``epoch-NNNN.*`` in ``checkpoint_dir``; ``best=True`` marks this
    epoch as the best (else the best stays the one recorded before, or ``best_epoch`` when
    given), and ``best.json`` is refreshed. Files of older epochs are removed once the new
    record is in place. ``run_id`` ties the files to one run (default: the run this folder
    holds when ``epoch`` continues it, else a new one). Returns the record's path.
    """
    directory = Path(checkpoint_dir)
    previous_run, previous_best = _continued_run(directory, epoch)
    run_id = run_id or previous_run or uuid.uuid4().hex
    if best:
        best_epoch = int(epoch)
    elif best_epoch is None and run_id == previous_run:
        best_epoch = previous_best
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
        "model_class": type(model).__name__,
        "state": {name: flatten_state(part, name, arrays) for name, part in state.items()},
        "history": flatten_state(_history_dict(history), "history", arrays),
        "config": config or {},
        "metrics": flatten_state(metrics or {}, "metrics", arrays),
    }
    last = write_checkpoint(directory, epoch, arrays, meta, run_id, best_epoch)
    prune(directory, last)
    _refresh_best_copy(directory)
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
    ``best_epoch``, ``state`` (model, optimizer, scheduler, preprocessing, callbacks, rng),
    ``history``, ``config``, ``metrics`` and ``path``.
    """
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise CheckpointError(f"no checkpoint in {path}")
        path = found
    arrays, meta = read_checkpoint(path)
    try:
        for key in ("state", "history", "metrics"):
            meta[key] = unflatten_state(meta[key], arrays)
    except RecursionError:
        raise CheckpointError(f"checkpoint {path} is nested too deeply") from None
    except CheckpointError as error:
        raise CheckpointError(f"checkpoint {path}: {error}") from None
    _check_parts(meta["state"], path)
    meta["path"] = str(path)
    return meta


# What each part of a saved state is: (types allowed, for the part itself).
_PARTS = {
    "model": (dict, type(None)),
    "optimizer": (dict, type(None)),
    "scheduler": (dict, type(None)),
    "preprocessing": (dict,),
    "callbacks": (dict,),
    "rng": (dict,),
}


def _check_parts(state: dict, path: Path) -> None:
    for part, kinds in _PARTS.items():
        if part not in state:
            raise CheckpointError(f"checkpoint {path}: its state has no {part!r}")
        if not isinstance(state[part], kinds):
            raise CheckpointError(
                f"checkpoint {path}: its {part!r} state is a {type(state[part]).__name__}"
            )
    rng = state["rng"]
    if not isinstance(rng.get("global"), dict) or not isinstance(rng.get("loaders"), list):
        raise CheckpointError(f"checkpoint {path}: its random generator state is damaged")
    if not all(isinstance(s, dict) for s in [*state["callbacks"].values(), *rng["loaders"]]):
        raise CheckpointError(f"checkpoint {path}: a callback or loader state is damaged")


def load_checkpoint(model, optimizer=None, checkpoint_dir=None, scheduler=None, *, loaders=()):
    """The slides' ``start_epoch, model, optimizer = load_checkpoint(model, optimizer, dir)``.

    Restores the newest checkpoint in ``checkpoint_dir`` (or a given checkpoint file) into the
    model, the optimizer and the scheduler when given, the global RNG and each of ``loaders``'
    generator (the loaders given to ``save_checkpoint``), and returns the epoch to start from
    (the saved epoch + 1). With no checkpoint there, returns ``(0, model, optimizer)`` and
    leaves everything untouched.
    """
    from aprende.training.checkpoint_restore import restore_optimizer, restore_scheduler

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
    if optimizer is not None:
        restore_optimizer(optimizer, saved)
    restore_scheduler(scheduler, saved)
    restore_rng(saved, loaders)
    return saved["epoch"] + 1, model, optimizer
