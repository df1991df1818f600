"""RMSProp: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _nonnegative, _Workspace


class RMSprop(Optimizer):
    """RMSProp (Hinton, 2012), PyTorch's algorithm.

    Each step, with λ = ``weight_decay``, α = ``alpha``, μ = ``momentum``:

        g ← ∂J/∂w + λw                  (−∂J/∂w if ``maximize``)
        v ← αv + (1 − α)g²              (running mean of g²)
        if centered:
            ḡ ← αḡ + (1 − α)g           (running mean of g)
            denom = √(v − ḡ²) + ε       (from the running variance of g)
        else:
            denom = √v + ε              (ε after the square root)
        if μ > 0:
            b ← μb + g/denom
            w ← w − ηb
        else:
            w ← w − ηg/denom

    The running averages and the momentum buffer are flushed of float32 denormals every 16
    steps (see ``aprende.optim.optimizer``).
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "eps": _nonnegative,
        "momentum": _nonnegative,
        "weight_decay": _nonnegative,
        "alpha": _nonnegative,
    }

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        state = {"step": 0, "square_avg": self._zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = self._zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = self._zeros_like(param)
        return state

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.scratch
        state["step"] = t = state["step"] + 1
        alpha, momentum, centered = group["alpha"], group["momentum"], group["centered"]
        square_avg = state["square_avg"].data
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        # v ← αv + (1 − α)g²
        xp.multiply(square_avg, alpha, out=square_avg)
        xp.multiply(g, 1 - alpha, out=scratch)
        xp.multiply(scratch, g, out=scratch)
        xp.add(square_avg, scratch, out=square_avg)
        if centered:
            # ḡ ← αḡ + (1 − α)g
            grad_avg = state["grad_avg"].data
            work.lerp_(grad_avg, g, 1 - alpha)
            # denom = √(v − ḡ²) + ε
            denom = xp.multiply(grad_avg, grad_avg, out=scratch)
            xp.subtract(square_avg, denom, out=denom)
            xp.sqrt(denom, out=denom)
            xp.add(denom, group["eps"], out=denom)
        else:
            # denom = √v + ε
            denom = xp.sqrt(square_avg, out=scratch)
            xp.add(denom, group["eps"], out=denom)
        if momentum > 0:
            # b ← μb + g/denom
            momentum_buffer = state["momentum_buffer"].data
            xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
            g_scaled = xp.divide(g, denom, out=denom)  # denom's last use
            xp.add(momentum_buffer, g_scaled, out=momentum_buffer)
            # w ← w − ηb
            update = xp.multiply(momentum_buffer, group["lr"], out=scratch)
            xp.subtract(param, update, out=param)
        else:
            # w ← w − ηg/denom   (into g's scratch: g is not needed after)
            update = xp.multiply(g, group["lr"], out=work.grad_scratch)
            xp.divide(update, denom, out=update)
            xp.subtract(param, update, out=param)
        if t % FLUSH_EVERY == 0:
            work.flush_denormals(square_avg, nonnegative=True)
            if momentum > 0:
                work.flush_denormals(momentum_buffer)
            if centered:
                work.flush_denormals(grad_avg)
