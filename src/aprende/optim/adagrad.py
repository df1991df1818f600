"""AdaGrad: a learning rate per connection, shrinking with its accumulated squared gradients."""

from __future__ import annotations

from aprende import backend
from aprende._tensor import Tensor
from aprende.optim.optimizer import Optimizer, _Workspace


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), PyTorch's algorithm: each weight gets its own step size.

    With g = ∂J/∂w (−∂J/∂w if ``maximize``) plus λw if ``weight_decay`` λ > 0, at step t:

        η_t = η / (1 + (t − 1)·lr_decay)
        S ← S + g²                      (S starts at ``initial_accumulator_value``)
        w ← w − η_t · g / (√S + ε)

    Weights that have seen large gradients take small steps. S only grows, so unlike the
    decaying state of the other optimizers it never drifts into float32 denormals.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay} (expected lr_decay >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(
                f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)"
            )
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value} "
                "(expected initial_accumulator_value >= 0)"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (expected eps >= 0)")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, param, group: dict) -> dict:
        xp = backend.get_array_module(param)
        accumulator = xp.full_like(param, group["initial_accumulator_value"])
        return {"step": 0, "sum": Tensor._make(accumulator)}

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp, a, b = work.xp, work.a, work.b
        state["step"] = step = state["step"] + 1
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        accumulator = state["sum"].data
        xp.multiply(g, g, out=b)
        xp.add(accumulator, b, out=accumulator)
        xp.sqrt(accumulator, out=b)
        xp.add(b, group["eps"], out=b)
        xp.multiply(g, -clr, out=a)
        xp.divide(a, b, out=a)
        xp.add(param, a, out=param)
