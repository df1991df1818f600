"""The cyclical learning rate (``CyclicLR``, Smith 2017): the rate goes up and down between two
bounds, over and over, as ``torch.optim.lr_scheduler.CyclicLR``."""

from __future__ import annotations

import math
import types
from collections.abc import Callable

from aprende.optim.lr_scheduler.decay import (
    LRScheduler,
    _check_optimizer,
    _per_group,
    _set_momentum,
    _uses_beta1,
)
from aprende.optim.optimizer import Optimizer

_MODES = ("triangular", "triangular2", "exp_range")


class CyclicLR(LRScheduler):
    """The rate climbs from ``base_lr`` towards ``max_lr`` in ``step_size_up`` steps, comes back
    in ``step_size_down`` (= ``step_size_up`` when None), and so on; the momentum (SGD's
    ``momentum`` or Adam's β₁) moves the opposite way between ``max_momentum`` and
    ``base_momentum`` when ``cycle_momentum``. Step once per batch. After t steps, with
    L = up + down the length of a cycle and r = up / L:

        c = ⌊1 + t / L⌋                               (the cycle, from 1)
        x = 1 + t / L − c                             (the fraction of it done)
        h = x / r if x ≤ r else (x − 1) / (r − 1)     (0 at the ends, 1 at the peak)
        η = η_base + (η_max − η_base) · h · f(·)
        μ = μ_max − (μ_max − μ_base) · h · f(·)

    f, of the cycle c or of the step t (``scale_mode`` ``"cycle"`` or ``"iterations"``), shrinks
    the amplitude: ``mode="triangular"`` f(c) = 1; ``"triangular2"`` f(c) = 1 / 2^(c − 1) (halved
    every cycle); ``"exp_range"`` f(t) = γ^t. A ``scale_fn`` replaces the mode's f, evaluated
    on ``scale_mode``. Construction sets each group's rate to ``base_lr`` (and momentum to
    ``max_momentum``). The state dict keeps a ``scale_fn``'s ``__dict__`` when it is a callable
    object, nothing of a plain function, as PyTorch does.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in _MODES and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode must be one of {_MODES} when scale_fn is None, got {mode!r}"
            )
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_mode()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _uses_beta1("CyclicLR", optimizer)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for high, low, group in zip(
                    self.max_momentums, self.base_momentums, optimizer.param_groups, strict=True
                ):
                    _set_momentum(group, high, self.use_beta1)
                    group["max_momentum"] = high
                    group["base_momentum"] = low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_mode(self) -> None:
        """The built-in modes fix what f is evaluated on; a custom ``scale_fn`` keeps the
        ``scale_mode`` given."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """f(x): the fraction of the amplitude used in cycle (or at step) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base_lr + (max_lr - base_lr) * height * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                _set_momentum(group, high - (high - low) * height * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict:
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = (
            fn.__dict__.copy()
            if fn is not None and not isinstance(fn, types.FunctionType)
            else None
        )
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        saved_fn = state_dict.pop("_scale_fn_custom")
        super().load_state_dict(state_dict)
        if saved_fn is not None:
            self._scale_fn_custom.__dict__.update(saved_fn)
        self._init_scale_mode()
