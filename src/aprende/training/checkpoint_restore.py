"""Putting a saved state back into live objects, checked first: the model, the optimizer, the
scheduler, the preprocessing, the callbacks and the random generators.

A saved array that would broadcast into the wrong shape (an Adam moment of shape (1,), a
scaler's mean of the wrong width), a value of the wrong type, or a generator state that is not
one, is a ``CheckpointError`` naming the part and what came, never an error three epochs later
or a silently different run.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.training.checkpoint_files import CheckpointError

# What a restore may raise on a saved value of the wrong kind, turned into CheckpointError.
_BAD_VALUE = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError)


@contextmanager
def restoring(what: str, saved: dict):
    """Turn an error while restoring ``what`` from ``saved`` into one CheckpointError."""
    try:
        yield
    except CheckpointError:
        raise
    except (*_BAD_VALUE, RuntimeError) as error:
        raise CheckpointError(
            f"checkpoint {saved['path']}: cannot restore the {what}: {error}"
        ) from None


def _shape(value):
    value = value.data if isinstance(value, Tensor) else value
    return tuple(value.shape) if hasattr(value, "shape") else None


def same_layout(reference, loaded, what: str, saved: dict) -> None:
    """Every array of ``reference`` has an array of the same shape at the same place in
    ``loaded`` (keys absent from either side are left to the object's own checks)."""
    if isinstance(reference, dict) and isinstance(loaded, dict):
        for key in reference.keys() & loaded.keys():
            same_layout(reference[key], loaded[key], f"{what}.{key}", saved)
        return
    shape = _shape(reference)
    if shape is not None and _shape(loaded) != shape:
        found = _shape(loaded) if _shape(loaded) is not None else type(loaded).__name__
        raise CheckpointError(
            f"checkpoint {saved['path']}: {what} should be an array of shape {shape}, got {found}"
        )


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "int" if isinstance(value, int) else "number"
    return type(value).__name__


def same_kinds(reference, loaded, what: str, saved: dict) -> None:
    """Each value ``reference`` holds is matched in ``loaded`` by one of the same kind (an int
    by an int, a flag by a flag, a number by a number; where ``reference`` holds None, anything)."""
    if not isinstance(reference, dict) or not isinstance(loaded, dict):
        return
    for key in reference.keys() & loaded.keys():
        want, got = _kind(reference[key]), _kind(loaded[key])
        if reference[key] is None or want == got or (want == "number" and got == "int"):
            continue
        raise CheckpointError(
            f"checkpoint {saved['path']}: {what}: {key!r} should be {want}, got {got}"
        )


def restore_model(model, saved: dict) -> None:
    """Load a checkpoint's weights into ``model``; a clear error when they do not fit.

    A weight of a non-floating dtype for a floating parameter (a crafted file: training never
    writes one) is an error; NaN or infinite weights load with a warning naming them.
    """
    weights = saved["state"].get("model")
    if not isinstance(weights, dict) or not all(
        isinstance(v, np.ndarray) for v in weights.values()
    ):
        raise CheckpointError(f"checkpoint {saved['path']} holds no model weights")
    own = model.state_dict()
    for key, value in weights.items():
        target = own.get(key)
        if target is None or not np.issubdtype(np.dtype(target.dtype), np.floating):
            continue
        if not np.issubdtype(value.dtype, np.floating):
            raise CheckpointError(
                f"checkpoint {saved['path']}: weight {key!r} is {value.dtype}, the model's is "
                f"{target.dtype}"
            )
    bad = [k for k, v in weights.items() if v.dtype.kind == "f" and not np.isfinite(v).all()]
    if bad:
        warnings.warn(
            f"checkpoint {saved['path']} holds NaN or infinite values in {bad}: the model's "
            "outputs will not be numbers",
            RuntimeWarning,
            stacklevel=2,
        )
    try:
        model.load_state_dict({k: Tensor(v) for k, v in weights.items()}, strict=True)
    except (RuntimeError, KeyError, ValueError) as error:
        raise CheckpointError(
            f"checkpoint {saved['path']} (saved from a {saved.get('model_class')}) does not fit "
            f"this {type(model).__name__}: {error}"
        ) from None


def restore_optimizer(optimizer, saved: dict) -> None:
    """The optimizer's hyperparameters and per-parameter buffers, each buffer of its
    parameter's shape."""
    state = saved["state"].get("optimizer")
    if state is None:
        return
    with restoring("optimizer state", saved):
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for index, values in state["state"].items():
            if type(index) is not int or not 0 <= index < len(params):
                raise IndexError(f"parameter index {index!r} out of range 0..{len(params) - 1}")
            for name, value in values.items():
                shape = _shape(value)
                if shape not in (None, (), tuple(params[index].shape)):
                    raise ValueError(
                        f"state {name!r} of parameter {index} has shape {shape}, the parameter "
                        f"{tuple(params[index].shape)}"
                    )
        optimizer.load_state_dict(state)


def restore_scheduler(scheduler, saved: dict) -> None:
    state = saved["state"].get("scheduler")
    if scheduler is not None and state is not None:
        with restoring("scheduler state", saved):
            scheduler.load_state_dict(state)


def restore_preprocessing(objects: dict, saved: dict) -> None:
    """Each named preprocessing object (a scaler) from the checkpoint, same arrays' shapes as
    its current fit."""
    stored = saved["state"].get("preprocessing") or {}
    for name, obj in (objects or {}).items():
        if name not in stored:
            raise CheckpointError(
                f"checkpoint {saved['path']} holds no preprocessing state {name!r} (it has "
                f"{sorted(stored)}); resume with the same preprocessing, or start a new "
                "checkpoint_dir"
            )
        with restoring(f"preprocessing {name!r}", saved):
            try:
                reference = obj.state_dict()
            except (RuntimeError, ValueError, AttributeError):  # not fitted yet: nothing to hold
                reference = {}
            same_layout(reference, stored[name], f"preprocessing {name!r}", saved)
            obj.load_state_dict(stored[name])


def restore_callbacks(callbacks: dict, saved: dict, model=None) -> None:
    """Each stateful callback's state; weights a callback keeps must fit ``model``."""
    states = saved["state"].get("callbacks") or {}
    for key, callback in callbacks.items():
        if key not in states:
            continue
        state = states[key]
        with restoring(f"state of callback {key}", saved):
            kept = state.get("best_weights") if isinstance(state, dict) else None
            if model is not None and kept is not None:
                own = model.state_dict()
                if not isinstance(kept, dict) or set(kept) != set(own):
                    raise CheckpointError(
                        f"checkpoint {saved['path']}: the weights callback {key} keeps do not "
                        "fit the model (other keys)"
                    )
                same_layout(own, kept, f"{key}.weights", saved)
            same_kinds(callback.state_dict(), state, f"state of callback {key}", saved)
            callback.load_state_dict(state)


def restore_rng(saved: dict, loaders=()) -> None:
    """Put aprende's global generator, each loader's generator and sampler back as they were.

    Given loaders must match the saved ones in number (none given: only the global one)."""
    with restoring("random generator state", saved):
        rng = saved["state"]["rng"]
        loaders = list(loaders)
        if loaders and len(loaders) != len(rng["loaders"]):
            raise CheckpointError(
                f"checkpoint {saved['path']} holds the state of {len(rng['loaders'])} data "
                f"loader(s); {len(loaders)} given (pass the loaders it was saved with)"
            )
        backend.set_rng_state(rng["global"])
        for loader, state in zip(loaders, rng["loaders"] if loaders else (), strict=True):
            generator = getattr(loader, "generator", None)
            if generator is not None and state["generator"] is not None:
                generator.bit_generator.state = state["generator"]
            if state["sampler"] is not None:
                loader.sampler.load_state_dict(state["sampler"])
