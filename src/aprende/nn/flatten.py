"""Flatten: reshape each sample to a vector, e.g. images (N, H, W) to (N, H·W) for a Linear."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn.module import Module


class Flatten(Module):
    """Merge dimensions ``start_dim``..``end_dim`` into one (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
