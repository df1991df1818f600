"""Recurrent cells: one time step of an Elman RNN, an LSTM and a GRU, as ``torch.nn``.

Each step is written from differentiable ops (``linear``, ``sigmoid``, ``tanh``, ``chunk``), so
its gradient comes from the autograd engine. A step takes the input's projection
``gates_x = x W_ihᵀ + b_ih`` already computed: the multi-layer ``nn.RNN``/``LSTM``/``GRU``
compute it for all time steps in one matrix product and call the same step functions.
"""

from __future__ import annotations

import math

from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.module import Module, Parameter
from aprende.ops.activation import relu, sigmoid, tanh
from aprende.ops.linear import linear
from aprende.ops.shape import chunk, squeeze, unsqueeze

NONLINEARITIES = {"tanh": tanh, "relu": relu}


def rnn_step(
    gates_x: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None, nonlinearity: str
) -> Tensor:
    """Elman step h' = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), f = tanh or ReLU; ``gates_x`` is
    x W_ihᵀ + b_ih (N, H), ``h`` (N, H)."""
    return NONLINEARITIES[nonlinearity](gates_x + linear(h, weight_hh, bias_hh))


def lstm_step(
    gates_x: Tensor,
    state: tuple[Tensor, Tensor],
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    weight_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """LSTM step, gates in PyTorch's order i, f, g, o (``gates_x`` = x W_ihᵀ + b_ih, (N, 4H)):

        i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
        c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')

    and, with a projection ``weight_hr`` (P, H), h' = W_hr (o ⊙ tanh(c')). Returns (h', c').
    """
    h, c = state
    i, f, g, o = chunk(gates_x + linear(h, weight_hh, bias_hh), 4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    if weight_hr is not None:
        h = linear(h, weight_hr)
    return h, c


def gru_step(gates_x: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None) -> Tensor:
    """GRU step, gates in PyTorch's order r, z, n (``gates_x`` = x W_ihᵀ + b_ih, (N, 3H)):

    r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    h' = (1 − z) ⊙ n + z ⊙ h
    """
    r_x, z_x, n_x = chunk(gates_x, 3, -1)
    r_h, z_h, n_h = chunk(linear(h, weight_hh, bias_hh), 3, -1)
    r = sigmoid(r_x + r_h)
    z = sigmoid(z_x + z_h)
    n = tanh(n_x + r * n_h)
    return (1 - z) * n + z * h


def zero_state(input: Tensor, shape: tuple) -> Tensor:
    """The default initial state: zeros of ``input``'s dtype, made where the input lives (on a
    GPU, allocated there rather than uploaded from the host)."""
    xp = get_array_module(input.data)
    return Tensor._make(xp.zeros(shape, dtype=input.dtype), False)


def reset_uniform(module: Module, hidden_size: int) -> None:
    """Every parameter of ``module`` uniform in ±1/√hidden_size, PyTorch's recurrent init."""
    bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (G·H, input_size), ``weight_hh`` (G·H, H) and, with
    ``bias``, ``bias_ih``/``bias_hh`` (G·H,), for G = ``num_chunks`` gates of H =
    ``hidden_size`` units; all uniform in ±1/√H."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(gates, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(gates, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(gates, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(gates, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias uniform in ±1/√hidden_size, as PyTorch."""
        reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            text += f", nonlinearity={nonlinearity}"
        return text

    def _batched(self, input: Tensor) -> bool:
        """Whether ``input`` is (N, input_size) rather than (input_size,); checks its size."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[-1]} "
                f"expected {self.input_size}"
            )
        return input.ndim == 2

    def _hidden(self, hx: Tensor | None, input: Tensor, batched: bool, which: str) -> Tensor:
        """``hx`` checked against the input (N, I), which came (I,) when not ``batched``, or
        zeros; as (N, H)."""
        name = type(self).__name__
        if hx is None:
            return zero_state(input, (input.shape[0], self.hidden_size))
        if hx.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {hx.ndim}D instead")
        if hx.ndim != (2 if batched else 1):
            raise RuntimeError(
                f"{name}: expected a {2 if batched else 1}D {which} for a "
                f"{'batched' if batched else 'unbatched'} input, got {hx.ndim}D"
            )
        hx = hx if batched else unsqueeze(hx, 0)
        if hx.shape[0] != input.shape[0]:
            raise RuntimeError(
                f"{name}: Input batch size {input.shape[0]} doesn't match {which} batch size "
                f"{hx.shape[0]}"
            )
        if hx.shape[1] != self.hidden_size:
            raise RuntimeError(
                f"{name}: {which} has inconsistent hidden_size: got {hx.shape[1]}, expected "
                f"{self.hidden_size}"
            )
        return hx

    def _gates_x(self, input: Tensor) -> Tensor:
        return linear(input, self.weight_ih, self.bias_ih)


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = f(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), f = tanh or ReLU
    (``nonlinearity``).

    Input (N, input_size) or unbatched (input_size,); ``hx`` of shape (N, hidden_size) or
    (hidden_size,), zeros when None; returns h' of hx's shape.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in NONLINEARITIES:
            raise RuntimeError(f"RNNCell: Unknown nonlinearity: {self.nonlinearity}")
        batched = self._batched(input)
        x = input if batched else unsqueeze(input, 0)
        h = self._hidden(hx, x, batched, "hidden")
        h = rnn_step(self._gates_x(x), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h if batched else squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell (gates i, f, g, o: see ``lstm_step``).

    Input (N, input_size) or unbatched (input_size,); ``hx`` = (h, c), each (N, hidden_size)
    or (hidden_size,), zeros when None; returns (h', c') of the same shapes.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        batched = self._batched(input)
        x = input if batched else unsqueeze(input, 0)
        h0, c0 = (None, None) if hx is None else hx
        h = self._hidden(h0, x, batched, "hidden0")
        c = self._hidden(c0, x, batched, "hidden1")
        h, c = lstm_step(self._gates_x(x), (h, c), self.weight_hh, self.bias_hh)
        return (h, c) if batched else (squeeze(h, 0), squeeze(c, 0))


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell (gates r, z, n: see ``gru_step``).

    Input (N, input_size) or unbatched (input_size,); ``hx`` (N, hidden_size) or
    (hidden_size,), zeros when None; returns h' of hx's shape.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._batched(input)
        x = input if batched else unsqueeze(input, 0)
        h = self._hidden(hx, x, batched, "hidden")
        h = gru_step(self._gates_x(x), h, self.weight_hh, self.bias_hh)
        return h if batched else squeeze(h, 0)
