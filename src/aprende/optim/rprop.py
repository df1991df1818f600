"""Rprop: a step size per weight, grown while its gradient keeps its sign, cut when it flips."""

from __future__ import annotations

from aprende import backend
from aprende._tensor import Tensor
from aprende.optim.optimizer import Optimizer, _eta_pair, _nonnegative, _Workspace


class Rprop(Optimizer):
    """Rprop, "resilient backpropagation" (Riedmiller & Braun, 1993), PyTorch's algorithm.

    Only the sign of the gradient is used. Each step, with (η⁻, η⁺) = ``etas`` and
    (Δmin, Δmax) = ``step_sizes``:

        g ← ∂J/∂w                       (−∂J/∂w if ``maximize``)
        f = η⁺ where g·g_prev > 0, η⁻ where g·g_prev < 0, else 1
        Δ ← clamp(Δ·f, Δmin, Δmax)      (Δ starts at η, the learning rate)
        g ← 0 where f = η⁻              (after a sign change: no step, and no change next time)
        w ← w − sign(g)·Δ
        g_prev ← g

    Full-batch gradients suit it: the sign of a minibatch gradient is noisy. The state holds
    g_prev as ``prev`` and Δ as ``step_size``; there is no weight decay, as in PyTorch.
    """

    _hyperparameter_checks = {"lr": _nonnegative, "etas": _eta_pair}

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        step_size = backend.get_array_module(param).full_like(param, group["lr"])
        return {"step": 0, "prev": self._zeros_like(param), "step_size": Tensor._make(step_size)}

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, mask = work.xp, work.mask
        state["step"] += 1
        eta_minus, eta_plus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        prev, step_size = state["prev"].data, state["step_size"].data
        g = work.gradient(param, grad, 0, group["maximize"])
        # f = η⁺ where g·g_prev > 0, η⁻ where g·g_prev < 0, else 1   (η⁻ < 1 < η⁺: no clash)
        factor = xp.multiply(g, prev, out=work.scratch)
        xp.sign(factor, out=factor)
        for condition, value in ((xp.greater, eta_plus), (xp.less, eta_minus), (xp.equal, 1)):
            condition(factor, 0, out=mask)
            xp.copyto(factor, value, where=mask)
        # Δ ← clamp(Δ·f, Δmin, Δmax)
        xp.multiply(step_size, factor, out=step_size)
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        # g_prev ← g, with 0 where f = η⁻
        xp.copyto(prev, g)
        xp.equal(factor, eta_minus, out=mask)
        xp.copyto(prev, 0, where=mask)
        # w ← w − sign(g)·Δ
        update = xp.sign(prev, out=work.scratch)
        xp.multiply(update, step_size, out=update)
        xp.subtract(param, update, out=param)
