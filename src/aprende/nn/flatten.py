"""Flatten: reshape each sample to a vector, e.g. images (N, H, W) to (N, H·W) for a Linear;
Unflatten: the way back."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.nn.module import Module
from aprende.ops.reduce import normalize_dims


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


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be −1: inferred), the
    inverse of ``Flatten``: (N, 784) → (N, 1, 28, 28) with ``Unflatten(1, (1, 28, 28))``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(
                f"Unflatten: invalid argument type for dim parameter: expected an int, got "
                f"{type(dim).__name__}"
            )
        if not isinstance(unflattened_size, tuple | list):
            raise TypeError(
                "unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        for position, size in enumerate(unflattened_size):
            if not isinstance(size, int) or isinstance(size, bool):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found element of type "
                    f"{type(size).__name__} at pos {position}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        dim = normalize_dims(self.dim, input.ndim, "unflatten")[0]
        sizes, length = list(self.unflattened_size), input.shape[dim]
        if sizes.count(-1) > 1:
            raise RuntimeError(f"unflatten: only one dimension can be inferred, got sizes {sizes}")
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and known and length % known == 0:
            sizes[sizes.index(-1)] = length // known
        if math.prod(sizes) != length or min(sizes, default=0) < 0:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(self.unflattened_size)} don't multiply up to "
                f"the size of dim {self.dim} ({length}) in the input tensor of shape "
                f"{input.shape}"
            )
        return input.reshape(*input.shape[:dim], *sizes, *input.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
