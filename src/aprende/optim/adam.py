"""Adam ("adaptive moments") and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _Workspace


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), "adaptive moments", PyTorch's algorithm.

    With g = ∂J/∂w (−∂J/∂w if ``maximize``) plus λw if ``weight_decay`` λ > 0 (L2, added to
    the gradient), at step t:

        m ← β₁ m + (1 − β₁) g                  (first moment: a momentum)
        v ← β₂ v + (1 − β₂) g²                 (second moment, as RMSProp)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)  (bias correction: m and v start at 0)
        w ← w − η m̂ / (√v̂ + ε)

    ``amsgrad`` uses the running maximum of v instead of v. With ``decoupled_weight_decay``
    (AdamW) the decay is applied to the weights directly, w ← w (1 − ηλ), instead of being
    added to g. ε is added after bias-correcting √v, as PyTorch does (the "efficient" form
    η√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m/(√v + ε) of other frameworks gives different numbers).
    m and v are flushed of float32 denormals every 16 steps (see ``aprende.optim.optimizer``).
    """

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
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (expected eps >= 0)")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(
                    f"Invalid beta parameter at index {i}: {beta} (expected 0 <= beta < 1)"
                )
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)"
            )
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
        xp, a, b = work.xp, work.a, work.b
        state["step"] = step = state["step"] + 1
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if group["decoupled_weight_decay"]:
            if weight_decay != 0:
                xp.multiply(param, 1 - lr * weight_decay, out=param)
            weight_decay = 0
        g = work.gradient(param, grad, weight_decay, group["maximize"])
        m, v = state["exp_avg"].data, state["exp_avg_sq"].data
        work.lerp_(m, g, 1 - beta1)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, 1 - beta2, out=b)
        xp.multiply(b, g, out=b)
        xp.add(v, b, out=v)
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1 - beta2**step)
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"].data
            xp.maximum(v_max, v, out=v_max)
            xp.sqrt(v_max, out=b)
        else:
            xp.sqrt(v, out=b)
        xp.divide(b, bias_correction2_sqrt, out=b)
        xp.add(b, group["eps"], out=b)
        xp.multiply(m, -step_size, out=a)
        xp.divide(a, b, out=a)
        xp.add(param, a, out=param)
        if step % FLUSH_EVERY == 0:
            work.flush_denormals(m)
            work.flush_denormals(v, nonnegative=True)


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
