"""Dropout: a regulariser that trains a different thinned network at every step."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1 − p)
    (inverted dropout: the expected activation is unchanged, so evaluation needs no rescaling);
    in evaluation, the identity.

    The mask comes from the global generator (``aprende.manual_seed``). ``inplace`` is accepted
    for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
