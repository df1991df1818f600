"""Dropout: a regulariser that trains a different thinned network at every step."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class _DropoutNd(Module):
    """What the dropout layers share: the probability ``p`` (checked) and ``inplace``,
    accepted for PyTorch compatibility (the result is always a new tensor)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability ``p`` and scale the rest by 1/(1 − p)
    (inverted dropout: the expected activation is unchanged, so evaluation needs no rescaling);
    in evaluation, the identity. The mask comes from the global generator
    (``aprende.manual_seed``).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """In training, zero each whole channel ``x[n, c]`` of an (N, C, H, W) input with
    probability ``p`` and scale the kept ones by 1/(1 − p); in evaluation, the identity
    (``F.dropout2d``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """In training, zero each whole channel ``x[n, c]`` of an (N, C, L) input (or ``x[c]`` of
    a (C, L) one) with probability ``p`` and scale the kept ones by 1/(1 − p); in evaluation,
    the identity (``F.dropout1d``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout for self-normalising (SELU) networks: in training, dropped elements take SELU's
    saturation value and an affine map keeps mean 0 and variance 1 (``F.alpha_dropout``); in
    evaluation, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels ``x[n, c]`` (``F.feature_alpha_dropout``); in
    evaluation, the identity."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)
