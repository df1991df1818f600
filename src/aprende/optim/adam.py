"""Adam ("adaptive moments") and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _beta_pair, _nonnegative, _Workspace


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), "adaptive moments", PyTorch's algorithm.

    At step t, with λ = ``weight_decay``:

        w ← w (1 − ηλ)                  (AdamW, ``decoupled_weight_decay``: then λ = 0 below)
        g ← ∂J/∂w + λw                  (L2 decay; −∂J/∂w if ``maximize``)
        m ← β₁m + (1 − β₁)g             (first moment: a momentum)
        v ← β₂v + (1 − β₂)g²            (second moment, as RMSProp)
        v_max ← max(v_max, v)           (``amsgrad``: v_max replaces v below)
        denom = √v / √(1 − β₂ᵗ) + ε
        w ← w − η/(1 − β₁ᵗ) · m / denom

    that is w ← w − η m̂ / (√v̂ + ε) with the bias-corrected moments m̂ = m / (1 − β₁ᵗ) and
    v̂ = v / (1 − β₂ᵗ) (m and v start at 0). ε is added after bias-correcting √v, as PyTorch
    does (the "efficient" form η√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε) of other frameworks gives
    different numbers). m and v are flushed of float32 denormals every 16 steps (see
    ``aprende.optim.optimizer``).
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
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        state = {"step": 0, "exp_avg": self._zeros_like(param)}
        state["exp_avg_sq"] = self._zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = self._zeros_like(param)
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
        amsgrad = group["amsgrad"]
        if amsgrad:
            # v_max ← max(v_max, v)
            max_exp_avg_sq = state["max_exp_avg_sq"].data
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        # denom = √v / √(1 − β₂ᵗ) + ε   (v_max in place of v with amsgrad)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        denom = xp.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq, out=scratch)
        xp.divide(denom, bias_correction2_sqrt, out=denom)
        xp.add(denom, group["eps"], out=denom)
        # w ← w − η/(1 − β₁ᵗ) · m / denom   (into g's scratch: g is not needed after)
        step_size = lr / (1 - beta1**t)
        update = xp.multiply(exp_avg, step_size, out=work.grad_scratch)
        xp.divide(update, denom, out=update)
        xp.subtract(param, update, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(exp_avg)
            work.flush_denormals(exp_avg_sq, nonnegative=True)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    Each step first shrinks the weights, w ← w (1 − ηλ), then takes the Adam step with the
    plain gradient; the decay does not pass through Adam's per-weight scaling as L2 would.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
