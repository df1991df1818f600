"""Multi-layer recurrent networks over whole sequences: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``.

A layer runs one cell step (``aprende.nn.rnn_cells``) per time step, left to right, and a
bidirectional layer runs a second cell right to left and joins the two outputs feature-wise;
layer l + 1 reads layer l's outputs (with dropout between layers in training). The input
projections x_t W_ihᵀ + b_ih of a layer and direction are one matrix product over all time
steps; only h W_hhᵀ + b_hh is left inside the loop.
"""

from __future__ import annotations

import warnings

from aprende._tensor import Tensor
from aprende.creation import empty, tensor
from aprende.nn.module import Module, Parameter
from aprende.nn.rnn_cells import gru_step, lstm_step, reset_uniform, rnn_step, zero_state
from aprende.nn.utils.rnn import PackedSequence, packed_like, pad_packed_sequence
from aprende.ops.dropout import dropout as _dropout
from aprende.ops.elementwise import where
from aprende.ops.linear import linear
from aprende.ops.shape import cat, squeeze, stack, transpose, unbind, unsqueeze

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the constructor, the parameters
    ``weight_ih_l{k}`` (G·H, input of layer k), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (G·H,) (and LSTM's ``weight_hr_l{k}`` (P, H)), with the suffix
    ``_reverse`` for the right-to-left direction, all uniform in ±1/√H; the checks of the input
    and the initial state; and the loop over layers, directions and time steps.

    The input may also be a ``PackedSequence`` (``nn.utils.rnn.pack_padded_sequence``): each
    sequence then runs over its own steps only, h_n holds each one's state at its last step
    (in the batch's original order), and the output comes packed alike.

    Input (L, N, input_size), (N, L, input_size) with ``batch_first``, or unbatched
    (L, input_size); output (L, N, D·H') (batch first as the input; (L, D·H') unbatched) for
    D = 2 directions when ``bidirectional`` else 1, and H' = ``proj_size`` or H; the initial
    and final hidden states (num_layers·D, N, H'), unbatched (num_layers·D, H').
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _check_sizes(mode, hidden_size, num_layers, dropout, proj_size)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        for layer in range(num_layers):
            for direction in range(self._directions):
                self._add_weights(layer, direction, device, dtype)
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _output_size(self) -> int:
        """H': the size of h, the projection's when there is one."""
        return self.proj_size or self.hidden_size

    def _add_weights(self, layer: int, direction: int, device, dtype) -> None:
        gates = GATES[self.mode] * self.hidden_size
        layer_input = self.input_size if layer == 0 else self._output_size * self._directions
        shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, self._output_size)}
        if self.bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        if self.proj_size:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        for kind, shape in shapes.items():
            weight = Parameter(empty(*shape, dtype=dtype, device=device))
            setattr(self, kind + _suffix(layer, direction), weight)

    def reset_parameters(self) -> None:
        """Draw every weight and bias uniform in ±1/√hidden_size, as PyTorch."""
        reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights for cuDNN here; kept so that code calling
        it runs unchanged."""

    def _weights(self, layer: int, direction: int) -> tuple:
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of one layer and direction, None
        for those the network lacks."""
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return tuple(getattr(self, kind + _suffix(layer, direction), None) for kind in kinds)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # ---- forward -----------------------------------------------------------------------------

    def _step(self, gates_x: Tensor, state, weights: tuple):
        """One time step of one layer and direction; the subclass's cell."""
        raise NotImplementedError

    def _check_input(self, input: Tensor) -> bool:
        """Whether ``input`` is batched (3-D) rather than unbatched (2-D); checks its size."""
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )
        if input.dtype != self.weight_ih_l0.dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                f"({self.weight_ih_l0.dtype}); convert the input or the model with .to(dtype)"
            )
        return input.ndim == 3

    def _initial(self, hx: Tensor | None, input: Tensor, size: int, which: str) -> list:
        """The initial state of each layer and direction: ``hx`` (num_layers·D, N, size)
        checked and unbound, or zeros."""
        expected = (self.num_layers * self._directions, input.shape[1], size)
        if hx is None:
            return [zero_state(input, expected[1:])] * expected[0]
        if tuple(hx.shape) != expected:
            raise RuntimeError(
                f"{type(self).__name__}: Expected {which} size {expected}, got {tuple(hx.shape)}"
            )
        return list(unbind(hx, 0))

    def _states(self, hx, input: Tensor) -> list:
        """The initial state of each layer and direction (h, or (h, c) for an LSTM)."""
        return self._initial(hx, input, self._output_size, "hidden")

    def _check_state_rank(self, hx, batched: bool) -> None:
        if hx is None or hx.ndim == (3 if batched else 2):
            return
        kind = "batched 3-D" if batched else "unbatched 2-D"
        raise RuntimeError(
            f"{type(self).__name__}: For {kind} input, hx should also be "
            f"{3 if batched else 2}-D but got {hx.ndim}-D tensor"
        )

    def _unbatched_state(self, hx):
        return None if hx is None else unsqueeze(hx, 1)

    def forward(self, input: Tensor | PackedSequence, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        batched = self._check_input(input)
        self._check_state_rank(hx, batched)
        if not batched:
            input, hx = unsqueeze(input, 1), self._unbatched_state(hx)
        elif self.batch_first:
            input = transpose(input, 0, 1)
        if input.shape[0] == 0:
            raise RuntimeError(
                f"{type(self).__name__}: Expected sequence length to be larger than 0 in RNN"
            )
        output, finals = self._run_layers(input, self._states(hx, input))
        if not batched:
            output = squeeze(output, 1)
        elif self.batch_first:
            output = transpose(output, 0, 1)
        return output, self._final_state(finals, batched)

    def _forward_packed(self, sequence: PackedSequence, hx):
        """The layers over the real steps of each sequence only: a sequence's state stops
        changing after its last step, so h_n is the state at that step (and the right-to-left
        direction starts there); the output comes packed as the input."""
        padded, lengths = pad_packed_sequence(sequence)
        self._check_input(padded)
        self._check_state_rank(hx, True)
        output, finals = self._run_layers(padded, self._states(hx, padded), lengths.cpu().numpy())
        return packed_like(sequence, output), self._final_state(finals, True)

    def _final_state(self, finals: list, batched: bool):
        """h_n (num_layers·D, N, H') from the last state of each layer and direction."""
        h_n = stack(finals, 0)
        return h_n if batched else squeeze(h_n, 1)

    def _run_layers(self, input: Tensor, states: list, lengths=None) -> tuple[Tensor, list]:
        """The output of the last layer (L, N, D·H') and the last state of every layer and
        direction, in the order of ``states``; sequence n stops at step ``lengths[n]`` when
        lengths (an integer array) are given."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                state = states[layer * self._directions + direction]
                weights = self._weights(layer, direction)
                output, state = self._run_direction(input, state, weights, direction, lengths)
                outputs.append(output)
                finals.append(state)
            input = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                input = _dropout(input, self.dropout, True)
        return input, finals

    def _run_direction(self, input: Tensor, state, weights: tuple, reverse: bool, lengths):
        """One layer in one direction over the sequence: the hidden states (L, N, H') in time
        order (right to left when ``reverse``) and the state after the last step taken.
        With ``lengths``, sequence n keeps its state at the steps t ≥ lengths[n]."""
        weight_ih, _, bias_ih, *_ = weights
        gates_x = unbind(linear(input, weight_ih, bias_ih), 0)
        steps = range(len(gates_x) - 1, -1, -1) if reverse else range(len(gates_x))
        hidden = [None] * len(gates_x)
        for t in steps:
            new = self._step(gates_x[t], state, weights)
            state = new if lengths is None else _keep_finished(lengths > t, new, state)
            hidden[t] = state[0] if isinstance(state, tuple) else state
        return stack(hidden, 0), state


def _suffix(layer: int, direction: int) -> str:
    """PyTorch's parameter-name suffix: ``_l0``, ``_l0_reverse``, ``_l1``, ..."""
    return f"_l{layer}" + ("_reverse" if direction else "")


def _keep_finished(running, new, old):
    """The new state for the sequences still ``running`` (a bool array (N,)), the old one for
    those already past their end; states are tensors or tuples of tensors."""
    if isinstance(new, tuple):
        return tuple(_keep_finished(running, n, o) for n, o in zip(new, old, strict=True))
    return where(tensor(running[:, None], device=new.device), new, old)


def _check_sizes(mode: str, hidden_size, num_layers, dropout, proj_size) -> None:
    """PyTorch's constructor checks, with its exception types."""
    if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an "
            f"element being zeroed, got {dropout}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
            f"expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            stacklevel=3,
        )
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError(f"hidden_size must be greater than zero, got {hidden_size}")
    if num_layers <= 0:
        raise ValueError(f"num_layers must be greater than zero, got {num_layers}")
    if proj_size < 0:
        raise ValueError(
            "proj_size should be a positive integer or zero to disable projections, got "
            f"{proj_size}"
        )
    if proj_size >= hidden_size:
        raise ValueError(
            f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
            f"hidden_size={hidden_size}"
        )
    if proj_size and mode != "LSTM":
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """A multi-layer Elman RNN: at each time step t and layer,
    h_t = f(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), f = tanh or ReLU (``nonlinearity``),
    x_t the input for the first layer and the previous layer's h_t after it.

    ``forward(input, hx=None)`` returns (output, h_n): the last layer's h_t for every t, and
    every layer's last h (shapes in ``RNNBase``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        arguments = (num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__(mode, input_size, hidden_size, *arguments, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _step(self, gates_x, h, weights):
        return rnn_step(gates_x, h, weights[1], weights[3], self.nonlinearity)


class LSTM(RNNBase):
    """A multi-layer long short-term memory network: each layer runs ``lstm_step`` (gates
    i, f, g, o; c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t), projected by W_hr when
    ``proj_size`` > 0) over the sequence.

    ``forward(input, hx=None)`` with hx = (h_0, c_0) returns (output, (h_n, c_n)); c has H
    features (num_layers·D, N, H), h has H' (shapes in ``RNNBase``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        arguments = (num_layers, bias, batch_first, dropout, bidirectional, proj_size)
        super().__init__("LSTM", input_size, hidden_size, *arguments, device=device, dtype=dtype)

    def _step(self, gates_x, state, weights):
        return lstm_step(gates_x, state, weights[1], weights[3], weights[4])

    def _states(self, hx, input):
        h_0, c_0 = (None, None) if hx is None else hx
        hs = self._initial(h_0, input, self._output_size, "hidden[0]")
        cs = self._initial(c_0, input, self.hidden_size, "hidden[1]")
        return list(zip(hs, cs, strict=True))

    def _check_state_rank(self, hx, batched: bool) -> None:
        rank = 3 if batched else 2
        if hx is None or (hx[0].ndim == rank and hx[1].ndim == rank):
            return
        kind = "batched 3-D" if batched else "unbatched 2-D"
        raise RuntimeError(
            f"LSTM: For {kind} input, hx and cx should also be {rank}-D but got "
            f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors"
        )

    def _unbatched_state(self, hx):
        return None if hx is None else (unsqueeze(hx[0], 1), unsqueeze(hx[1], 1))

    def _final_state(self, finals, batched):
        h_n, c_n = (stack(parts, 0) for parts in zip(*finals, strict=True))
        return (h_n, c_n) if batched else (squeeze(h_n, 1), squeeze(c_n, 1))


class GRU(RNNBase):
    """A multi-layer gated recurrent unit network: each layer runs ``gru_step`` (gates r, z, n;
    h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}) over the sequence.

    ``forward(input, hx=None)`` returns (output, h_n) (shapes in ``RNNBase``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        arguments = (num_layers, bias, batch_first, dropout, bidirectional)
        super().__init__("GRU", input_size, hidden_size, *arguments, device=device, dtype=dtype)

    def _step(self, gates_x, h, weights):
        return gru_step(gates_x, h, weights[1], weights[3])
