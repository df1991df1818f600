"""ASGD: stochastic gradient descent that also keeps a running average of the weights."""

from __future__ import annotations

from aprende.optim.optimizer import Optimizer, _nonnegative, _Workspace


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992), PyTorch's algorithm.

    At step t, with λ = ``weight_decay``, the decay λ_d = ``lambd``, α = ``alpha``:

        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        w ← w (1 − λ_d ηₜ)
        w ← w − ηₜ g
        w̄ ← w̄ + μₜ(w − w̄)             (w̄ ← w while μₜ = 1)
        ηₜ₊₁ = η / (1 + λ_d η t)^α
        μₜ₊₁ = 1 / max(1, t − t₀)

    η₁ = η and μ₁ = 1: the average w̄ (state ``ax``) follows w up to step t₀ + 2 and is then
    the mean of the weights from that step on (for a whole number t₀). The optimizer updates
    w itself with SGD; w̄ is the averaged model to evaluate (copy it into the parameters). The
    state holds ηₜ and μₜ as Python floats ``eta`` and ``mu`` (PyTorch keeps float32 0-d
    tensors, so its steps differ from these in the last float32 digit).
    """

    _hyperparameter_checks = {"lr": _nonnegative, "weight_decay": _nonnegative}
    _scalar_state = ("eta", "mu")

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        return {"step": 0, "eta": float(group["lr"]), "mu": 1.0, "ax": self._zeros_like(param)}

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp = work.xp
        state["step"] = t = state["step"] + 1
        lr, lambd, eta, mu = group["lr"], group["lambd"], state["eta"], state["mu"]
        ax = state["ax"].data
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        # w ← w (1 − λ_d ηₜ)
        xp.multiply(param, 1 - lambd * eta, out=param)
        # w ← w − ηₜ g
        update = xp.multiply(g, eta, out=work.scratch)
        xp.subtract(param, update, out=param)
        # w̄ ← w̄ + μₜ(w − w̄)
        if mu != 1:
            work.lerp_(ax, param, mu)
        else:
            xp.copyto(ax, param)
        # ηₜ₊₁ = η / (1 + λ_d η t)^α
        state["eta"] = lr / ((1 + lambd * lr * t) ** group["alpha"])
        # μₜ₊₁ = 1 / max(1, t − t₀)
        state["mu"] = 1 / max(1, t - group["t0"])
