"""Stochastic gradient descent, with momentum and Nesterov momentum (``torch.optim.SGD``)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.optim.optimizer import FLUSH_EVERY, Optimizer, _Workspace


class SGD(Optimizer):
    """Gradient descent: w ← w − η ∂J/∂w, optionally with momentum (PyTorch's algorithm).

    With g = ∂J/∂w (−∂J/∂w if ``maximize``) plus λw if ``weight_decay`` λ > 0, each step:

    - without momentum: w ← w − η g
    - with momentum μ: v ← g at the first step, then v ← μ v + (1 − τ) g (τ = ``dampening``);
      w ← w − η v, or with ``nesterov`` w ← w − η (g + μ v).

    The buffer starts at the first gradient, not at zero (PyTorch's choice). With momentum the
    state also counts the steps, which schedule the flush of float32 denormals from the buffer
    (see ``aprende.optim.optimizer``).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum} (expected momentum >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, scratch = work.xp, work.b
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                v = g.copy()
                state["momentum_buffer"] = Tensor._make(v)
            else:
                v = buffer.data
                xp.multiply(v, momentum, out=v)
                dampening = group["dampening"]
                if dampening != 0:
                    xp.multiply(g, 1 - dampening, out=scratch)
                    xp.add(v, scratch, out=v)
                else:
                    xp.add(v, g, out=v)
            state["step"] = step = state.get("step", 0) + 1
            if group["nesterov"]:
                xp.multiply(v, momentum, out=scratch)
                g = xp.add(g, scratch, out=scratch)
            else:
                g = v
        xp.multiply(g, group["lr"], out=scratch)
        xp.subtract(param, scratch, out=param)
        if momentum != 0 and step % FLUSH_EVERY == 0:
            work.flush_denormals(v)
