"""Stochastic gradient descent, with momentum and Nesterov momentum (``torch.optim.SGD``)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _nonnegative, _Workspace


class SGD(Optimizer):
    """Gradient descent: w ← w − η ∂J/∂w, optionally with momentum (PyTorch's algorithm).

    Each step, with λ = ``weight_decay``, μ = ``momentum``, τ = ``dampening``:

        g ← ∂J/∂w + λw                   (−∂J/∂w if ``maximize``)
        with momentum μ ≠ 0:
            v ← g                        at the first step
            v ← μv + (1 − τ)g            at the later steps
            g ← g + μv  with ``nesterov``, else  g ← v
        w ← w − ηg

    The buffer v starts at the first gradient, not at zero (PyTorch's choice). With momentum
    the state also counts the steps, which schedule the flush of float32 denormals from the
    buffer (see ``aprende.optim.optimizer``).
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "momentum": _nonnegative,
        "weight_decay": _nonnegative,
    }

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_hyperparameters(self, defaults: dict) -> None:
        super()._check_hyperparameters(defaults)
        momentum, dampening = defaults["momentum"], defaults["dampening"]
        if defaults["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}"
            )

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        momentum = group["momentum"]
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                # v ← g
                momentum_buffer = g.copy()
                state["momentum_buffer"] = Tensor._make(momentum_buffer)
            else:
                # v ← μv + (1 − τ)g
                momentum_buffer = buffer.data
                xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
                dampening = group["dampening"]
                if dampening != 0:
                    xp.multiply(g, 1 - dampening, out=scratch)
                    xp.add(momentum_buffer, scratch, out=momentum_buffer)
                else:
                    xp.add(momentum_buffer, g, out=momentum_buffer)
            state["step"] = t = state.get("step", 0) + 1
            if group["nesterov"]:
                # g ← g + μv
                xp.multiply(momentum_buffer, momentum, out=scratch)
                g = xp.add(g, scratch, out=scratch)
            else:
                # g ← v
                g = momentum_buffer
        # w ← w − ηg
        xp.multiply(g, group["lr"], out=scratch)
        xp.subtract(param, scratch, out=param)
        if momentum != 0 and t % FLUSH_EVERY == 0:
            work.flush_denormals(momentum_buffer)
