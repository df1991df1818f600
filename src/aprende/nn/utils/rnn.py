"""Batches of sequences of different lengths, for the recurrent layers (``torch.nn.utils.rnn``).

``pad_sequence`` stacks them with padding; ``pack_padded_sequence`` keeps only the real steps,
time step by time step (a ``PackedSequence``), which the recurrent layers read without running
over the padding, and ``pad_packed_sequence`` turns it back into a padded batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from aprende._tensor import Tensor
from aprende.creation import full, tensor
from aprende.ops.resample import pad
from aprende.ops.shape import cat, reshape, stack, unbind


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of lengths Lᵢ, each (Lᵢ, *), into one tensor (L_max, B, *), or
    (B, L_max, *) with ``batch_first``: each sequence extended to L_max = max Lᵢ with
    ``padding_value`` after its end (``padding_side`` "right") or before its start ("left").
    The result has the first sequence's dtype; a tensor is taken as the sequence of its rows.
    """
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"{op}: Expected padding_side to be one of left or right, but got {padding_side}."
        )
    sequences = list(unbind(sequences, 0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    first = sequences[0]
    for position, sequence in enumerate(sequences):
        if sequence.ndim == 0 or sequence.shape[1:] != first.shape[1:]:
            raise RuntimeError(
                f"{op}: expected sequences of shape (length, *{tuple(first.shape[1:])}), got "
                f"shape {tuple(sequence.shape)} at position {position}"
            )
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        ends = (missing, 0) if padding_side == "left" else (0, missing)
        counts = (0, 0) * (first.ndim - 1) + ends  # pad counts run from the last dimension
        padded.append(pad(sequence.to(first.dtype), counts, value=padding_value))
    return stack(padded, 0 if batch_first else 1)


class PackedSequence(NamedTuple):
    """The real steps of B sequences, time step by time step: ``data`` (Σ Lᵢ, *) holds step t
    of every sequence longer than t, ``batch_sizes[t]`` (int64) how many there are; the rows
    of each step are in decreasing order of length, the batch order ``sorted_indices`` (its
    inverse ``unsorted_indices``; both None when the batch came sorted)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _host(values: Tensor) -> np.ndarray:
    """A small index tensor's values as a NumPy array, wherever the tensor lives."""
    return values.cpu().numpy()


def _order(sequence: PackedSequence, batch: int) -> np.ndarray:
    """The batch order of a packed sequence's rows (longest first)."""
    indices = sequence.sorted_indices
    return np.arange(batch) if indices is None else _host(indices).astype(np.int64)


def _positions(batch_sizes: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time step, batch index) of each row of a packed ``data``, in the padded batch."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    rows = np.concatenate([order[:size] for size in batch_sizes])
    return steps, rows


def _lengths_of(batch_sizes: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each sequence's length in the original batch order."""
    lengths = np.zeros(len(order), dtype=np.int64)
    lengths[order] = (batch_sizes[None, :] > np.arange(len(order))[:, None]).sum(axis=1)
    return lengths


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps: ``data`` row by row is input[t, b] for t = 0, 1, … and the
    sequences longer than t, longest first. ``enforce_sorted`` requires lengths that
    decrease; otherwise the batch is sorted (stably) and the order kept."""
    op = "pack_padded_sequence"
    lengths = np.asarray(_host(lengths) if isinstance(lengths, Tensor) else lengths)
    lengths = lengths.astype(np.int64).reshape(-1)
    steps_dim, batch_dim = (1, 0) if batch_first else (0, 1)
    if input.ndim < 2 or len(lengths) != input.shape[batch_dim]:
        raise RuntimeError(
            f"{op}: Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
            f"(input of shape {tuple(input.shape)}, batch_first={batch_first})"
        )
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(
            f"{op}: Length of all samples has to be greater than 0, but got lengths "
            f"{lengths.tolist()}"
        )
    if lengths.size and lengths.max() > input.shape[steps_dim]:
        raise RuntimeError(
            f"{op}: a length of {lengths.max()} is longer than the {input.shape[steps_dim]} "
            "time steps of the input"
        )
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                f"{op}: `lengths` array must be sorted in decreasing order when "
                f"`enforce_sorted` is True, got {lengths.tolist()}. You can pass "
                "`enforce_sorted=False` to sidestep this requirement."
            )
        order, sorted_indices, unsorted_indices = np.arange(len(lengths)), None, None
    else:
        order = np.argsort(-lengths, kind="stable")
        device = input.device
        sorted_indices = tensor(order, device=device)
        unsorted_indices = tensor(np.argsort(order), device=device)
    batch_sizes = (lengths[None, :] > np.arange(lengths.max(initial=0))[:, None]).sum(axis=1)
    steps, rows = _positions(batch_sizes, order)
    index = (steps, rows) if not batch_first else (rows, steps)
    data = input[tensor(index[0], device=input.device), tensor(index[1], device=input.device)]
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, unsorted_indices)


def packed_like(sequence: PackedSequence, padded: Tensor) -> PackedSequence:
    """``padded`` (T, B, *), in the original batch order, packed with the batch sizes and
    order of ``sequence``: the recurrent layers' packed output."""
    batch_sizes = _host(sequence.batch_sizes).astype(np.int64)
    steps, rows = _positions(batch_sizes, _order(sequence, padded.shape[1]))
    device = padded.device
    return sequence._replace(data=padded[tensor(steps, device=device), tensor(rows, device=device)])


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Unpack a ``PackedSequence`` into (padded, lengths): padded (T, B, *) (or (B, T, *) with
    ``batch_first``) in the original batch order, ``padding_value`` after each sequence's end,
    T = ``total_length`` or the longest length; lengths (B,) int64."""
    batch_sizes = _host(sequence.batch_sizes).astype(np.int64)
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    order = _order(sequence, batch)
    steps_count = len(batch_sizes)
    if total_length is not None:
        if total_length < steps_count:
            raise ValueError(
                "pad_packed_sequence: Expected total_length to be at least the length of the "
                f"longest sequence in input, but got total_length={total_length} and max "
                f"sequence length being {steps_count}"
            )
        steps_count = total_length
    data = sequence.data
    steps, rows = _positions(batch_sizes, order)
    # every padded position reads the extra last row, which holds padding_value
    source = np.full((steps_count, batch), len(steps), dtype=np.int64)
    source[steps, rows] = np.arange(len(steps))
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, filler], 0)[tensor(source.reshape(-1), device=data.device)]
    padded = reshape(padded, (steps_count, batch, *data.shape[1:]))
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(_lengths_of(batch_sizes, order))
