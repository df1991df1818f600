"""RMSProp: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _Workspace


class RMSprop(Optimizer):
    """RMSProp (Hinton, 2012), PyTorch's algorithm.

    With g = ∂J/∂w (−∂J/∂w if ``maximize``) plus λw if ``weight_decay`` λ > 0, each step:

        v ← α v + (1 − α) g²                               (running mean of g²)
        centered: ḡ ← α ḡ + (1 − α) g;  s = √(v − ḡ²) + ε   (running variance of g)
        else:     s = √v + ε                                (ε after the square root)
        momentum μ > 0: b ← μ b + g / s;  w ← w − η b
        else:           w ← w − η g / s

    The running averages and the momentum buffer are flushed of float32 denormals every 16
    steps (see ``aprende.optim.optimizer``).
    """

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
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (expected eps >= 0)")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum} (expected momentum >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)"
            )
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha} (expected alpha >= 0)")
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
        xp, a, b = work.xp, work.a, work.b
        state["step"] = step = state["step"] + 1
        alpha, momentum, centered = group["alpha"], group["momentum"], group["centered"]
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        square_avg = state["square_avg"].data
        xp.multiply(square_avg, alpha, out=square_avg)
        xp.multiply(g, 1 - alpha, out=b)
        xp.multiply(b, g, out=b)
        xp.add(square_avg, b, out=square_avg)
        if centered:
            grad_avg = state["grad_avg"].data
            work.lerp_(grad_avg, g, 1 - alpha)
            xp.multiply(grad_avg, grad_avg, out=b)
            xp.subtract(square_avg, b, out=b)
            xp.sqrt(b, out=b)
        else:
            xp.sqrt(square_avg, out=b)
        xp.add(b, group["eps"], out=b)
        if momentum > 0:
            buffer = state["momentum_buffer"].data
            xp.multiply(buffer, momentum, out=buffer)
            xp.divide(g, b, out=b)
            xp.add(buffer, b, out=buffer)
            xp.multiply(buffer, group["lr"], out=b)
            xp.subtract(param, b, out=param)
        else:
            xp.multiply(g, -group["lr"], out=a)
            xp.divide(a, b, out=a)
            xp.add(param, a, out=param)
        if step % FLUSH_EVERY == 0:
            work.flush_denormals(square_avg, nonnegative=True)
            if momentum > 0:
                work.flush_denormals(state["momentum_buffer"].data)
            if centered:
                work.flush_denormals(state["grad_avg"].data)
