"""RAdam: Adam whose adaptive step is switched on, rectified, once its variance is tractable."""

from __future__ import annotations

import math

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _beta_pair, _nonnegative, _Workspace


class RAdam(Optimizer):
    """RAdam, "rectified Adam" (Liu et al., 2020), PyTorch's algorithm.

    At step t, with λ = ``weight_decay``:

        w ← w (1 − ηλ)                  (``decoupled_weight_decay``, as AdamW: then no λw below)
        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        m ← β₁m + (1 − β₁)g
        v ← β₂v + (1 − β₂)g²
        m̂ = m / (1 − β₁ᵗ)
        ρ∞ = 2/(1 − β₂) − 1
        ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)       (length of the approximated simple moving average)
        if ρₜ > 5:
            r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
            w ← w − η m̂ · √(1 − β₂ᵗ)/(√v + ε) · r
        else:
            w ← w − η m̂                 (momentum SGD while v is too young to trust)

    With the default β₂ = 0.999 the first 5 steps are plain momentum steps. m and v are
    flushed of float32 denormals every 16 steps (see ``aprende.optim.optimizer``).
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
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        state = {"step": 0, "exp_avg": self._zeros_like(param)}
        state["exp_avg_sq"] = self._zeros_like(param)
        return state

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        state["step"] = t = state["step"] + 1
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        # w ← w (1 − ηλ) (decoupled), g ← ∂J/∂w + λw
        g = work.adam_gradient(param, grad, group)
        # m ← β₁m + (1 − β₁)g ;  v ← β₂v + (1 − β₂)g²
        work.adam_moments(g, exp_avg, exp_avg_sq, group["betas"])
        bias_correction2 = 1 - beta2**t
        # m̂ = m / (1 − β₁ᵗ)   (into g's scratch: g is not needed after)
        update = xp.divide(exp_avg, 1 - beta1**t, out=work.grad_scratch)
        xp.multiply(update, lr, out=update)
        # ρ∞ = 2/(1 − β₂) − 1 ;  ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5.0:
            # r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            # w ← w − η m̂ · √(1 − β₂ᵗ)/(√v + ε) · r
            adaptive_lr = xp.sqrt(exp_avg_sq, out=scratch)
            xp.add(adaptive_lr, group["eps"], out=adaptive_lr)
            xp.divide(math.sqrt(bias_correction2), adaptive_lr, out=adaptive_lr)
            xp.multiply(update, adaptive_lr, out=update)
            xp.multiply(update, rect, out=update)
        # else: w ← w − η m̂
        xp.subtract(param, update, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(exp_avg)
            work.flush_denormals(exp_avg_sq, nonnegative=True)
