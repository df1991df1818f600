"""Batches of sequences of different lengths, for the recurrent layers (``torch.nn.utils.rnn``)."""

from __future__ import annotations

from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.ops.resample import pad
from aprende.ops.shape import stack, unbind


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
