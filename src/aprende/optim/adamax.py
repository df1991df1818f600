"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""

from __future__ import annotations

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _beta_pair, _nonnegative, _Workspace


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7.1), PyTorch's algorithm.

    At step t, with λ = ``weight_decay``:

        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        m ← β₁m + (1 − β₁)g             (first moment, as Adam)
        u ← max(β₂u, |g| + ε)           (exponentially weighted infinity norm)
        w ← w − η/(1 − β₁ᵗ) · m / u

    m and u start at 0. ε is added to |g| inside the maximum, as PyTorch does, so u >= ε. m
    is flushed of float32 denormals every 16 steps (see ``aprende.optim.optimizer``); u is not,
    as with ε = 0 it is the denominator.
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "eps": _nonnegative,
        "betas": _beta_pair,
        "weight_decay": _nonnegative,
    }

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        return {
            "step": 0,
            "exp_avg": self._zeros_like(param),
            "exp_inf": self._zeros_like(param),
        }

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        state["step"] = t = state["step"] + 1
        beta1, beta2 = group["betas"]
        exp_avg, exp_inf = state["exp_avg"].data, state["exp_inf"].data
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        # m ← β₁m + (1 − β₁)g
        work.lerp_(exp_avg, g, 1 - beta1)
        # u ← max(β₂u, |g| + ε)
        norm = xp.abs(g, out=scratch)
        xp.add(norm, group["eps"], out=norm)
        xp.multiply(exp_inf, beta2, out=exp_inf)
        xp.maximum(exp_inf, norm, out=exp_inf)
        # w ← w − η/(1 − β₁ᵗ) · m / u
        step_size = group["lr"] / (1 - beta1**t)
        update = xp.multiply(exp_avg, step_size, out=scratch)
        xp.divide(update, exp_inf, out=update)
        xp.subtract(param, update, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(exp_avg)
