"""The search space of ``aprende sweep``: which train settings vary, and how.

A space maps train settings to Optuna distributions. The default searches the learning rate
(log-uniform), the optimizer, the hidden widths, dropout, weight decay (log-uniform) and the
batch size. A TOML file replaces it, one table per setting, in Optuna's terms::

    [lr]
    type = "float"          # FloatDistribution(low, high, log, step)
    low = 1e-4
    high = 1e-1
    log = true

    [hidden]
    type = "categorical"    # CategoricalDistribution(choices): a list as text, "128 64"
    choices = ["64", "128", "128 64"]

    [batch_size]
    type = "int"            # IntDistribution(low, high, log, step)
    low = 16
    high = 128
    step = 16

Settings fixed by a flag of the sweep command are left out of the space.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from aprende import config as settings_module
from aprende.cli.errors import UsageError

DEFAULT_SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "optimizer": {"type": "categorical", "choices": ["adam", "adamw", "sgd", "rmsprop"]},
    "hidden": {"type": "categorical", "choices": ["64", "128", "256", "128 64", "256 128"]},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True},
    "batch_size": {"type": "categorical", "choices": [16, 32, 64, 128]},
}
_FIELDS = {
    "float": {"low", "high", "log", "step"},
    "int": {"low", "high", "log", "step"},
    "categorical": {"choices"},
}
# Settings a sweep cannot vary: where the run goes, and what the data is.
_NOT_SEARCHABLE = {"out", "dataset", "csv", "target", "task", "device"}


def read_space(path: str | Path | None) -> dict:
    """The space of a TOML file (checked), or the default one when ``path`` is None."""
    if path is None:
        return {key: dict(entry) for key, entry in DEFAULT_SPACE.items()}
    space = settings_module.read_toml(path)
    for key, entry in space.items():
        _check_entry(key, entry, where=str(path))
    return space


def _check_entry(key: str, entry, where: str) -> None:
    known = [f.name for f in settings_module.settings() if f.name not in _NOT_SEARCHABLE]
    if key not in known:
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"searchable: {', '.join(known)}"
        raise UsageError(f"space: {where}: unknown parameter {key!r} ({hint})")
    if not isinstance(entry, dict) or entry.get("type") not in _FIELDS:
        raise UsageError(f'space: {where}: [{key}] needs type = "float", "int" or "categorical"')
    fields = _FIELDS[entry["type"]]
    unknown = set(entry) - fields - {"type"}
    missing = fields - {"log", "step"} - set(entry)
    if unknown or missing:
        raise UsageError(
            f"space: {where}: [{key}] ({entry['type']}) takes {', '.join(sorted(fields))}"
            + (f"; unknown {', '.join(sorted(unknown))}" if unknown else "")
            + (f"; missing {', '.join(sorted(missing))}" if missing else "")
        )
    if entry["type"] == "categorical" and not (
        isinstance(entry["choices"], list) and entry["choices"]
    ):
        raise UsageError(f"space: {where}: [{key}] choices must be a non-empty list")
    if entry["type"] != "categorical" and not entry["low"] <= entry["high"]:
        raise UsageError(f"space: {where}: [{key}] needs low <= high")


def distributions(space: dict, fixed: set[str]) -> dict:
    """Optuna distributions for the settings not fixed by a flag."""
    from optuna import distributions as od

    made = {}
    for key, entry in space.items():
        if key in fixed:
            continue
        if entry["type"] == "categorical":
            made[key] = od.CategoricalDistribution(entry["choices"])
        else:
            kind = od.FloatDistribution if entry["type"] == "float" else od.IntDistribution
            step = entry.get("step", None if entry["type"] == "float" else 1)
            made[key] = kind(entry["low"], entry["high"], log=entry.get("log", False), step=step)
    return made


def as_flags(params: dict) -> dict:
    """A trial's parameters as train flags, written as on the command line (lists as text)."""
    flags = {}
    for key, value in params.items():
        kind = next(f for f in settings_module.settings() if f.name == key).metadata["kind"]
        if kind.is_flag_switch:
            flags[key] = bool(value)
        else:
            flags[key] = str(value).split() if kind.nargs is not None else str(value)
    return flags
