"""NAdam: Adam with Nesterov momentum, the momentum coefficient warming up over the steps."""

from __future__ import annotations

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _beta_pair, _nonnegative, _Workspace


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), PyTorch's algorithm.

    At step t, with λ = ``weight_decay``, ψ = ``momentum_decay``:

        w ← w (1 − ηλ)                  (``decoupled_weight_decay``, as AdamW: then no λw below)
        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        μₜ = β₁(1 − ½·0.96^(tψ))        (the momentum schedule; μₜ₊₁ likewise)
        Πₜ = Πₜ₋₁ · μₜ                  (Π₀ = 1: the product of the μ so far)
        m ← β₁m + (1 − β₁)g
        v ← β₂v + (1 − β₂)g²
        denom = √(v / (1 − β₂ᵗ)) + ε
        w ← w − η(1 − μₜ)/(1 − Πₜ) · g / denom
        w ← w − ημₜ₊₁/(1 − Πₜμₜ₊₁) · m / denom

    The last two lines are the Nesterov look-ahead: the current gradient and the next step's
    momentum, each bias-corrected with its own product of μ. The state holds Πₜ as
    ``mu_product``, a Python float (PyTorch keeps it as a float32 0-d tensor, so its steps
    differ from these in the last float32 digit). m and v are flushed of float32 denormals
    every 16 steps (see ``aprende.optim.optimizer``).
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "eps": _nonnegative,
        "betas": _beta_pair,
        "weight_decay": _nonnegative,
        "momentum_decay": _nonnegative,
    }
    _scalar_state = ("mu_product",)

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        state = {"step": 0, "mu_product": 1.0, "exp_avg": self._zeros_like(param)}
        state["exp_avg_sq"] = self._zeros_like(param)
        return state

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        state["step"] = t = state["step"] + 1
        lr, psi = group["lr"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        # w ← w (1 − ηλ) (decoupled), g ← ∂J/∂w + λw
        g = work.adam_gradient(param, grad, group)
        # μₜ = β₁(1 − ½·0.96^(tψ)), μₜ₊₁ = β₁(1 − ½·0.96^((t + 1)ψ))
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # Πₜ = Πₜ₋₁ · μₜ
        state["mu_product"] = mu_product = state["mu_product"] * mu
        # m ← β₁m + (1 − β₁)g ;  v ← β₂v + (1 − β₂)g²
        work.adam_moments(g, exp_avg, exp_avg_sq, group["betas"])
        # denom = √(v / (1 − β₂ᵗ)) + ε
        denom = xp.divide(exp_avg_sq, 1 - beta2**t, out=scratch)
        xp.sqrt(denom, out=denom)
        xp.add(denom, group["eps"], out=denom)
        # w ← w − η(1 − μₜ)/(1 − Πₜ) · g / denom   (into g's scratch: g's last use)
        update = xp.multiply(g, lr * (1.0 - mu) / (1.0 - mu_product), out=work.grad_scratch)
        xp.divide(update, denom, out=update)
        xp.subtract(param, update, out=param)
        # w ← w − ημₜ₊₁/(1 − Πₜμₜ₊₁) · m / denom
        update = xp.multiply(exp_avg, lr * mu_next / (1.0 - mu_product * mu_next), out=update)
        xp.divide(update, denom, out=update)
        xp.subtract(param, update, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(exp_avg)
            work.flush_denormals(exp_avg_sq, nonnegative=True)
