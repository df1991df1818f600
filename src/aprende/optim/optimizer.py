"""Optimizer: what every gradient-descent rule shares, as ``torch.optim.Optimizer``.

The base class owns the parameter groups, the per-parameter state, the hyperparameter checks,
``zero_grad``, the state dict and the step skeleton; each optimizer (SGD, ASGD, Rprop, Adagrad,
Adadelta, RMSprop, Adam, AdamW, Adamax, NAdam, RAdam) writes only its update rule ``_update``.
An update runs in place on the raw arrays (``p.data``), a handful of NumPy ufunc calls with
``out=`` per parameter, into scratch arrays that are reused from step to step.

Float32 denormals: where a gradient is exactly zero (a dead ReLU unit), state such as a momentum
buffer or Adam's moments decays geometrically, sinks below the smallest normal float32
(``np.finfo(np.float32).tiny`` ≈ 1.18e-38) and lingers there as denormal numbers, which the CPU
computes with many times slower. Update rules therefore set such entries to zero
(``_Workspace.flush_denormals``) every ``FLUSH_EVERY`` steps of a parameter, counted by the step
in its state so that a resumed run flushes at the same steps. A flush at every step measured
+70% on an SGD-with-momentum update and +25% on an Adam update; every 16 steps it costs 1/16 of
that, and an entry stays denormal at most 15 steps (without flushing: ~150 steps at momentum
0.9, ~16,000 at Adam's β₂ = 0.999). A value below 1.18e-38 changes no result at float32
precision, so the results still match PyTorch's to rounding.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import enable_grad, no_grad

#: Decaying optimizer state is flushed of denormal numbers every this many steps.
FLUSH_EVERY = 16


class _Workspace:
    """Scratch arrays shaped like one parameter, for the intermediate results of its update.

    ``grad_scratch`` receives g when it is not ∂J/∂w itself (``gradient``); once the rule has
    read g for the last time it may reuse the array for the update it subtracts from w.
    ``scratch`` holds the other intermediate results (g², a denominator, ...). The workspaces
    of all parameters of one dtype and device are views of the same flat buffers (updates run
    one parameter at a time), so scratch costs twice the largest parameter, not twice the
    model. Update rules write here instead of allocating every step, and never into ``p.grad``
    (a gradient array may be a view shared with other arrays).
    """

    __slots__ = ("xp", "grad_scratch", "scratch", "mask", "tiny")

    def __init__(self, xp, grad_scratch, scratch, mask, tiny: float):
        self.xp, self.grad_scratch, self.scratch = xp, grad_scratch, scratch
        self.mask, self.tiny = mask, tiny

    def gradient(self, param, grad, weight_decay: float, maximize: bool):
        """g ← ∂J/∂w + λw (L2 weight decay), with −∂J/∂w when maximizing J.

        Returns ``grad`` itself when there is nothing to add, else the result in
        ``grad_scratch``.
        """
        if not weight_decay and not maximize:
            return grad
        xp, out = self.xp, self.grad_scratch
        if not weight_decay:
            return xp.negative(grad, out=out)
        xp.multiply(param, weight_decay, out=out)
        return (xp.subtract if maximize else xp.add)(out, grad, out=out)

    def adam_gradient(self, param, grad, group: dict):
        """The gradient of the Adam family, after its weight decay:

        w ← w (1 − ηλ)      (``decoupled_weight_decay``, AdamW's; then λ = 0 below)
        g ← ∂J/∂w + λw      (−∂J/∂w when maximizing)
        """
        weight_decay = group["weight_decay"]
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                self.xp.multiply(param, 1 - group["lr"] * weight_decay, out=param)
            weight_decay = 0
        return self.gradient(param, grad, weight_decay, group["maximize"])

    def adam_moments(self, g, exp_avg, exp_avg_sq, betas: tuple[float, float]) -> None:
        """The two moving averages of the Adam family, in place (uses ``scratch``):

        m ← β₁m + (1 − β₁)g
        v ← β₂v + (1 − β₂)g²
        """
        beta1, beta2 = betas
        xp, scratch = self.xp, self.scratch
        self.lerp_(exp_avg, g, 1 - beta1)
        xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
        xp.multiply(g, 1 - beta2, out=scratch)
        xp.multiply(scratch, g, out=scratch)
        xp.add(exp_avg_sq, scratch, out=exp_avg_sq)

    def lerp_(self, start, end, weight: float) -> None:
        """start ← start + weight·(end − start): an exponential moving average, in place.

        Uses ``scratch``.
        """
        xp, increment = self.xp, self.scratch
        xp.subtract(end, start, out=increment)
        xp.multiply(increment, weight, out=increment)
        xp.add(start, increment, out=start)

    def flush_denormals(self, array, nonnegative: bool = False) -> None:
        """Set the entries smaller in magnitude than the smallest normal number to zero.

        Uses ``grad_scratch`` (for |x|) unless the array is known to be non-negative.
        """
        xp = self.xp
        magnitude = array if nonnegative else xp.abs(array, out=self.grad_scratch)
        xp.less(magnitude, self.tiny, out=self.mask)
        xp.copyto(array, 0, where=self.mask)


_SET_MESSAGE = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets will change between runs; use a list instead"
)


def _as_python_number(value):
    """NumPy scalars as Python numbers: a float64 scalar would make float32 updates float64."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_as_python_number(v) for v in value)
    return value


#: How the messages name a hyperparameter, as PyTorch's do; others read "Invalid <name> value".
_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _nonnegative(name: str, value: float) -> None:
    """``value >= 0`` (NaN fails too): ``Invalid learning rate: -1.0 (expected lr >= 0)``."""
    if not 0.0 <= value:
        label = _LABELS.get(name, f"{name} value")
        raise ValueError(f"Invalid {label}: {value} (expected {name} >= 0)")


def _beta_pair(name: str, value: tuple[float, float]) -> None:
    """Each of the decay rates (β₁, β₂) in [0, 1)."""
    for i, beta in enumerate(value):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {i}: {beta} (expected 0 <= beta < 1)"
            )


def _unit_interval(name: str, value: float) -> None:
    """``0 <= value <= 1`` (NaN fails too): ``Invalid rho value: 1.5 (expected 0 <= rho <= 1)``."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid {name} value: {value} (expected 0 <= {name} <= 1)")


def _eta_pair(name: str, value: tuple[float, float]) -> None:
    """Rprop's factors (η⁻, η⁺) with 0 < η⁻ < 1 < η⁺: a step shrinks on a sign change."""
    eta_minus, eta_plus = value
    if not 0.0 < eta_minus < 1.0 < eta_plus:
        raise ValueError(
            f"Invalid eta values: {eta_minus}, {eta_plus} (expected 0 < etaminus < 1 < etaplus)"
        )


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state and the step loop.

    ``params`` is an iterable of tensors that require grad (``model.parameters()``) or of
    dicts, each a parameter group ``{"params": [...], "lr": ..., ...}`` whose missing
    hyperparameters come from ``defaults``. ``state[p]`` holds what the rule remembers for
    parameter ``p`` (momentum buffers, moment estimates, the step count).

    Subclasses implement ``_update(param, grad, state, group, work)`` on raw arrays: ``param``
    is updated in place, ``grad`` must not be written, ``work`` is the parameter's
    ``_Workspace``. They list in ``_hyperparameter_checks`` which constructor arguments are
    checked how (``ValueError`` with PyTorch's message); as in PyTorch, the hyperparameters of
    a group given as a dict or added later are not checked.
    """

    #: Hyperparameter name → its check, applied to ``defaults`` in this order.
    _hyperparameter_checks: ClassVar[dict[str, Callable[[str, object], None]]] = {}
    #: State entries held as Python floats, which PyTorch keeps as 0-d tensors.
    _scalar_state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params, defaults: dict):
        self._check_hyperparameters(defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got a single {type(params).__name__}; pass [tensor] or "
                "model.parameters()"
            )
        if isinstance(params, set):
            raise TypeError(_SET_MESSAGE)
        self.defaults = {key: _as_python_number(value) for key, value in defaults.items()}
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._workspaces: dict[Tensor, _Workspace] = {}
        self._pools: dict = {}
        self._step_count = 0
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])

    def _check_hyperparameters(self, defaults: dict) -> None:
        """Raise ``ValueError`` for a constructor argument out of its range."""
        for name, check in self._hyperparameter_checks.items():
            check(name, defaults[name])

    # ---- parameter groups --------------------------------------------------------------------

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters, with its own hyperparameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("param_group must have a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(_SET_MESSAGE)
        group = {"params": list(params)}
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for key, value in param_group.items():
            if key != "params":
                group[key] = _as_python_number(value)
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        new_ids = [id(p) for p in group["params"]]
        if len(set(new_ids)) != len(new_ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(new_ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._workspaces.clear()  # a larger parameter may need larger scratch buffers

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (``p.grad = None``, or zeros if asked).

        With ``set_to_none=False`` the grad tensor keeps its identity and gets a fresh array
        of zeros: the old array may be a view shared with other arrays, so it is not written.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data = backend.get_array_module(p.grad.data).zeros_like(p.grad.data)

    # ---- the step skeleton -------------------------------------------------------------------

    def step(self, closure: Callable[[], object] | None = None):
        """Update every parameter that has a gradient with the optimizer's rule.

        ``closure``, if given, re-evaluates the model and returns the loss (it runs with
        gradients enabled, before the update); its value is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        states, workspaces, update = self.state, self._workspaces, self._update
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    state = states[p]
                    if not state:
                        state.update(self._init_state(p.data, group))
                    work = workspaces.get(p) or self._new_workspace(p)
                    update(p.data, grad.data, state, group, work)
                    p._version += 1  # as an in-place op: a graph that saved p now fails loudly
        self._step_count += 1
        return loss

    def _init_state(self, param, group: dict) -> dict:
        """The state a parameter starts with at its first step (arrays like ``param``)."""
        return {}

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        raise NotImplementedError

    @staticmethod
    def _zeros_like(param) -> Tensor:
        return Tensor._make(backend.get_array_module(param).zeros_like(param))

    def _new_workspace(self, p: Tensor) -> _Workspace:
        data = p.data
        xp = backend.get_array_module(data)
        key = (data.dtype, backend.device_of(data))
        pool = self._pools.get(key)
        if pool is None or pool[0].size < data.size:
            size = max(
                q.data.size
                for g in self.param_groups
                for q in g["params"]
                if (q.data.dtype, backend.device_of(q.data)) == key
            )
            size = max(size, data.size)
            pool = (xp.empty(size, data.dtype), xp.empty(size, data.dtype), xp.empty(size, bool))
            self._pools[key] = pool
        grad_scratch, scratch, mask = (buffer[: data.size].reshape(data.shape) for buffer in pool)
        tiny = float(np.finfo(data.dtype).tiny)
        work = self._workspaces[p] = _Workspace(xp, grad_scratch, scratch, mask, tiny)
        return work

    # ---- state dict --------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout: ``{"state": ..., "param_groups": ...}``.

        ``state`` maps each parameter's integer index (counted across the groups in order) to
        its state: Tensors (the live buffers, not copies; ``copy.deepcopy`` to snapshot in
        memory) and Python numbers. ``param_groups`` lists each group's hyperparameters with
        ``"params"`` as a list of those indices. Tensors go to safetensors, the rest to JSON.
        """
        index: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {index[id(p)]: dict(values) for p, values in self.state.items() if values}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from ``state_dict()``: hyperparameters and per-parameter state.

        The groups must match this optimizer's in number and sizes and hold its
        hyperparameters (``ValueError`` otherwise; on/off flags missing from older PyTorch
        state dicts take this optimizer's values).
        State arrays (Tensors, NumPy arrays, or PyTorch tensors) are copied to each parameter's
        dtype and device; integer keys written as strings (JSON) are accepted.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "load_state_dict: expected a dict with 'state' and 'param_groups' (from "
                f"Optimizer.state_dict()), got {_describe(state_dict)}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"the optimizer has {len(self.param_groups)}, the state dict {len(saved_groups)}"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(group['params'])} parameters, "
                    f"the state dict's {len(saved['params'])}"
                )
            # PyTorch added its on/off flags (maximize, ...) over the years: older state dicts
            # lack them and get the defaults; a missing number means another optimizer's state
            missing = sorted(
                key
                for key, default in self.defaults.items()
                if key not in saved and not isinstance(default, bool)
            )
            if missing:
                raise ValueError(
                    f"loaded state dict's parameter group {i} lacks {missing}, which "
                    f"{type(self).__name__} needs: was it saved from another optimizer?"
                )
        params_by_index = {
            index: p
            for group, saved in zip(self.param_groups, saved_groups, strict=True)
            for index, p in zip(saved["params"], group["params"], strict=True)
        }
        state: defaultdict[Tensor, dict] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = params_by_index.get(int(key))
            if p is None:
                raise ValueError(
                    f"loaded state dict has state for parameter {key}, which no group lists"
                )
            state[p] = {
                name: _scalar_value(v) if name in self._scalar_state else _state_value(name, v, p)
                for name, v in values.items()
            }
        groups = []
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            loaded = {
                # JSON turns tuples (betas) into lists
                key: tuple(value) if isinstance(value, list) else copy.deepcopy(value)
                for key, value in saved.items()
                if key != "params"
            }
            flags = {k: v for k, v in self.defaults.items() if isinstance(v, bool)}
            groups.append({"params": group["params"], **flags, **loaded})
        self.state = state
        self.param_groups = groups


def _describe(value) -> str:
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return type(value).__name__


def _scalar_value(value) -> float:
    """A loaded scalar state entry (a number, or a 0-d tensor from PyTorch) as a Python float."""
    return float(value.item() if hasattr(value, "item") else value)


def _state_value(name: str, value, p: Tensor):
    """A loaded state entry: a Python number stays one, an array becomes a Tensor like ``p``."""
    if name == "step":
        return int(float(value))  # PyTorch saves the step as a float tensor
    if value is None or isinstance(value, bool | int | float):
        return value
    array = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
    if array.shape != p.shape:
        raise ValueError(
            f"loaded state dict's {name!r} has shape {array.shape}, but its parameter has "
            f"shape {p.shape}"
        )
    return Tensor._make(backend.move(array.astype(p.dtype, copy=True), p.device))
