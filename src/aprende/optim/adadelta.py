"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from aprende.optim.optimizer import (
    FLUSH_EVERY,
    Optimizer,
    _nonnegative,
    _unit_interval,
    _Workspace,
)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's algorithm: no learning rate to tune (η scales Δ).

    Each step, with λ = ``weight_decay``, ρ = ``rho``:

        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        v ← ρv + (1 − ρ)g²              (running mean of g²)
        Δ = √(u + ε) / √(v + ε) · g     (the update, in the units of w)
        u ← ρu + (1 − ρ)Δ²              (running mean of Δ², after Δ)
        w ← w − ηΔ

    v and u start at 0 and are flushed of float32 denormals every 16 steps (see
    ``aprende.optim.optimizer``).
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "rho": _unit_interval,
        "eps": _nonnegative,
        "weight_decay": _nonnegative,
    }

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        state = {"step": 0, "square_avg": self._zeros_like(param)}
        state["acc_delta"] = self._zeros_like(param)
        return state

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        state["step"] = t = state["step"] + 1
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"].data, state["acc_delta"].data
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        # v ← ρv + (1 − ρ)g²
        xp.multiply(square_avg, rho, out=square_avg)
        xp.multiply(g, 1 - rho, out=scratch)
        xp.multiply(scratch, g, out=scratch)
        xp.add(square_avg, scratch, out=square_avg)
        # Δ = √(u + ε) / √(v + ε) · g   (a fresh array: g, √(v + ε) and Δ are live at once)
        std = xp.add(square_avg, eps, out=scratch)
        xp.sqrt(std, out=std)
        delta = xp.add(acc_delta, eps)
        xp.sqrt(delta, out=delta)
        xp.divide(delta, std, out=delta)
        xp.multiply(delta, g, out=delta)
        # u ← ρu + (1 − ρ)Δ²
        xp.multiply(acc_delta, rho, out=acc_delta)
        xp.multiply(delta, 1 - rho, out=scratch)
        xp.multiply(scratch, delta, out=scratch)
        xp.add(acc_delta, scratch, out=acc_delta)
        # w ← w − ηΔ
        xp.multiply(delta, group["lr"], out=delta)
        xp.subtract(param, delta, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(square_avg, nonnegative=True)
            work.flush_denormals(acc_delta, nonnegative=True)
