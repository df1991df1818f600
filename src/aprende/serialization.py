"""State dicts and whole models as safetensors files, with PyTorch's key names.

``save(state_dict, path)`` writes a dict of name -> Tensor as a safetensors file that
``safetensors.torch.load_file`` reads into the same PyTorch model (``"0.weight"``,
``"features.0.bias"``, ...), and ``load(path)`` reads such a file back, whoever wrote it.
``save_model`` / ``load_model`` add the model's class and constructor arguments (JSON in the
file's metadata), for models built from aprende's own classes. No pickle: loading a file runs
no code, it only reads arrays and a JSON header.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from aprende import backend, nn
from aprende._tensor import Tensor
from aprende.models import LeNet, UNet
from aprende.nn.mlp import ACTIVATIONS
from aprende.training.checkpoint import _safetensors, atomic_write, c_contiguous

#: The metadata key that holds a model's description (class and constructor arguments).
MODEL_KEY = "aprende.model"
ACCEPTED = "a state_dict: a dict of str -> aprende.Tensor (or NumPy array)"


def _arrays_of(obj) -> dict[str, np.ndarray]:
    """The arrays of a state dict, C-contiguous on the host; a TypeError for anything else."""
    if isinstance(obj, nn.Module):
        raise TypeError(
            f"save: expected {ACCEPTED}, got a {type(obj).__name__} module; pass "
            "model.state_dict(), or use aprende.save_model(model, path) to keep its class too"
        )
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected {ACCEPTED}, got {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"save: state_dict keys must be str, got {key!r}")
        if isinstance(value, Tensor):
            value = value.data
        if not hasattr(value, "shape") or not hasattr(value, "dtype"):
            raise TypeError(
                f"save: expected {ACCEPTED}; the value of {key!r} is a {type(value).__name__}"
            )
        arrays[key] = c_contiguous(backend.to_numpy(value))
    return arrays


def save(obj: Mapping[str, Tensor], f, metadata: Mapping[str, str] | None = None) -> None:
    """Write a state dict (name -> Tensor) to the safetensors file ``f``, atomically.

    The names are the state dict's own, PyTorch's (``"0.weight"``), so the file loads into the
    same PyTorch model with ``model.load_state_dict(safetensors.torch.load_file(f))``.
    ``metadata``: optional str -> str pairs kept in the file's header.
    """
    payload = _safetensors().save(_arrays_of(obj), metadata=dict(metadata or {}) or None)
    atomic_write(Path(f), payload)


def load(f) -> dict[str, Tensor]:
    """The state dict in the safetensors file ``f``: name -> Tensor (loading runs no code)."""
    return {key: Tensor(value) for key, value in _read(f)[0].items()}


def _read(f) -> tuple[dict, dict]:
    """(arrays, metadata) of a safetensors file, with a clear error for a foreign one."""
    path = Path(f)
    payload = path.read_bytes()
    try:
        arrays = _safetensors().load(payload)
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"load: {path} is not a safetensors file ({error})") from None
    return arrays, metadata


# ---- whole models: class and constructor arguments in the metadata ---------------------------

#: The classes ``load_model`` builds, by name: the layers of ``aprende.nn`` and the models.
BUILDABLE: dict[str, type[nn.Module]] = {
    name: getattr(nn, name)
    for name in nn.__all__
    if isinstance(getattr(nn, name), type)
    and issubclass(getattr(nn, name), nn.Module)
    and name not in ("Module", "ModuleList")
} | {"LeNet": LeNet, "UNet": UNet}


def _first(module: nn.Module, kind: type) -> nn.Module | None:
    return next((m for m in module.modules() if isinstance(m, kind)), None)


def _mlp_arguments(model: nn.MLP) -> dict:
    names = {kind: name for name, kind in reversed(ACTIVATIONS.items())}  # Identity: "identity"
    activation = next((names[type(m)] for m in model if type(m) in names), "relu")
    dropout, noise = _first(model, nn.Dropout), _first(model, nn.GaussianNoise)
    return {
        "in_features": model.in_features,
        "hidden": list(model.hidden),
        "out_features": model.out_features,
        "activation": activation,
        "batch_norm": _first(model, nn.BatchNorm1d) is not None,
        "dropout": dropout.p if dropout is not None else 0.0,
        "noise": noise.std if noise is not None else 0.0,
    }


def _lenet_arguments(model: LeNet) -> dict:
    convolutions = [m for m in model.features if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.classifier if isinstance(m, nn.Linear)]
    dropout = _first(model.classifier, nn.Dropout)
    return {
        "in_channels": model.in_channels,
        "num_classes": model.num_classes,
        "image_size": list(model.image_size),
        "channels": [c.out_channels for c in convolutions],
        "hidden": [m.out_features for m in linears[:-1]],
        "kernel_size": convolutions[0].kernel_size[0],
        "dropout": dropout.p if dropout is not None else 0.0,
    }


def _unet_arguments(model: UNet) -> dict:
    return {
        "in_channels": model.in_channels,
        "out_channels": model.out_channels,
        "depth": model.depth,
        "width": model.width,
        "batch_norm": _first(model, nn.BatchNorm2d) is not None,
    }


def _layer_arguments(module: nn.Module) -> dict:
    """A layer's constructor arguments, read from the attributes named as its parameters (the
    PyTorch convention every layer of aprende.nn follows); ``bias`` is saved as a flag."""
    arguments = {}
    for name, parameter in inspect.signature(type(module).__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name == "bias":
            arguments[name] = module.bias is not None
        elif hasattr(module, name):
            value = getattr(module, name)
            arguments[name] = list(value) if isinstance(value, tuple) else value
        elif parameter.default is parameter.empty:
            raise TypeError(f"save_model: cannot read the argument {name!r} of {module!r}")
    return arguments


def describe(model: nn.Module) -> dict:
    """{"class": name, "arguments": {...}} (a Sequential: {"class", "layers": {name: ...}}) that
    ``build`` turns back into the same architecture."""
    kind = type(model)
    if kind is nn.Sequential:
        return {
            "class": "Sequential",
            "layers": {name: describe(m) for name, m in model._modules.items()},
        }
    readers = {nn.MLP: _mlp_arguments, LeNet: _lenet_arguments, UNet: _unet_arguments}
    if kind in readers:
        return {"class": kind.__name__, "arguments": readers[kind](model)}
    if BUILDABLE.get(kind.__name__) is not kind:
        raise TypeError(
            f"save_model: cannot rebuild a {kind.__module__}.{kind.__qualname__}; it stores "
            "models built from aprende's own classes (nn.Sequential of aprende.nn layers, "
            "nn.MLP, models.LeNet, models.UNet): save its weights with "
            "aprende.save(model.state_dict(), path) and build the model in code"
        )
    return {"class": kind.__name__, "arguments": _layer_arguments(model)}


def build(description: Mapping) -> nn.Module:
    """The module a ``describe`` result stands for, with fresh weights."""
    name = description.get("class")
    if name == "Sequential":
        layers = {key: build(value) for key, value in description["layers"].items()}
        return nn.Sequential(layers)
    if name not in BUILDABLE:
        raise TypeError(
            f"load_model: unknown model class {name!r}; expected one of "
            f"{', '.join(sorted([*BUILDABLE, 'Sequential']))}"
        )
    arguments = {
        key: tuple(value) if isinstance(value, list) and key != "hidden" else value
        for key, value in description["arguments"].items()
    }
    return BUILDABLE[name](**arguments)


def _shapes(model: nn.Module) -> dict:
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def save_model(model: nn.Module, f) -> None:
    """Write ``model``'s weights and its class with constructor arguments to a safetensors file.

    ``load_model(f)`` gives back the same model. Only models built from aprende's classes can
    be described (a TypeError says so for others); the description is checked by rebuilding
    the model from it before anything is written.
    """
    description = describe(model)
    rebuilt = build(description)
    if repr(rebuilt) != repr(model) or _shapes(rebuilt) != _shapes(model):
        raise TypeError(
            f"save_model: the {type(model).__name__} cannot be rebuilt from its constructor "
            "arguments (it was changed after construction); save its weights with "
            "aprende.save(model.state_dict(), path) instead"
        )
    save(model.state_dict(), f, metadata={MODEL_KEY: json.dumps(description)})


def load_model(f) -> nn.Module:
    """The model a ``save_model`` file holds: built from its class and arguments, weights
    loaded (strictly), in eval mode."""
    arrays, metadata = _read(f)
    if MODEL_KEY not in metadata:
        raise ValueError(
            f"load_model: {f} holds weights without a model description (written by "
            "aprende.save or another tool); build the model and load_state_dict(aprende.load(f))"
        )
    model = build(json.loads(metadata[MODEL_KEY]))
    model.load_state_dict({key: Tensor(value) for key, value in arrays.items()}, strict=True)
    return model.eval()
