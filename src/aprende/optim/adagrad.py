"""AdaGrad: a learning rate per connection, shrinking with its accumulated squared gradients."""

from __future__ import annotations

from aprende import backend
from aprende._tensor import Tensor
from aprende.optim.optimizer import Optimizer, _nonnegative, _Workspace


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), PyTorch's algorithm: each weight gets its own step size.

    At step t, with λ = ``weight_decay``:

        g ← ∂J/∂w + λw                      (−∂J/∂w if ``maximize``)
        η_t = η / (1 + (t − 1)·lr_decay)
        S ← S + g²                          (S starts at ``initial_accumulator_value``)
        w ← w − η_t · g / (√S + ε)

    Weights that have seen large gradients take small steps. S only grows, so unlike the
    decaying state of the other optimizers it never drifts into float32 denormals.
    """

    _hyperparameter_checks = {
        "lr": _nonnegative,
        "lr_decay": _nonnegative,
        "weight_decay": _nonnegative,
        "initial_accumulator_value": _nonnegative,
        "eps": _nonnegative,
    }

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
        state_sum = xp.full_like(param, group["initial_accumulator_value"])
        return {"step": 0, "sum": Tensor._make(state_sum)}

    def _update(self, param, grad, state: dict, group: dict, work: _Workspace) -> None:
        xp = work.xp
        state["step"] = t = state["step"] + 1
        state_sum = state["sum"].data
        # g ← ∂J/∂w + λw
        g = work.gradient(param, grad, group["weight_decay"], group["maximize"])
        # η_t = η / (1 + (t − 1)·lr_decay)
        lr_t = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        # S ← S + g²
        g_squared = xp.multiply(g, g, out=work.scratch)
        xp.add(state_sum, g_squared, out=state_sum)
        # w ← w − η_t · g / (√S + ε)   (into g's scratch: g is not needed after)
        denom = xp.sqrt(state_sum, out=work.scratch)
        xp.add(denom, group["eps"], out=denom)
        update = xp.multiply(g, lr_t, out=work.grad_scratch)
        xp.divide(update, denom, out=update)
        xp.subtract(param, update, out=param)
