"""Padding layers: widen the last 1, 2 or 3 dimensions of an input with a constant (zeros by
default), the mirror image of the border (reflection), copies of the border (replication) or
the opposite side (circular), all through ``F.pad``."""

from __future__ import annotations

from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


def _widths(padding: int | Sequence[int], dims: int) -> tuple[int, ...]:
    """``padding`` as counts (left, right, top, bottom, front, back): an int pads each of the
    2·dims sides by the same amount; a tuple is kept as given, and ``F.pad`` checks it."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    return tuple(padding)


class _PadNd(Module):
    """What the padding layers share: ``padding`` (an int or 2·dims counts, last dimension
    first as ``F.pad``) and the mode."""

    dims = 1
    mode = "constant"

    def __init__(self, padding: int | Sequence[int]):
        super().__init__()
        self.padding = _widths(padding, self.dims)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """y = x with ``value`` in the new positions."""

    def __init__(self, padding: int | Sequence[int], value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``: (…, W) → (…, W + left + right)."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``: (…, H, W) → (…, H + top + bottom,
    W + left + right); ``padding`` = (left, right, top, bottom)."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``; ``padding`` = (left, right, top, bottom,
    front, back)."""

    dims = 3


class _ZeroPadNd(_ConstantPadNd):
    """Constant padding with zeros."""

    def __init__(self, padding: int | Sequence[int]):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dimension with zeros: (…, W) → (…, W + left + right)."""


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dimensions with zeros; ``padding`` = (left, right, top, bottom)."""

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dimensions with zeros; ``padding`` = (left, …, back)."""

    dims = 3


class ReflectionPad1d(_PadNd):
    """Mirror the border without repeating it (x₂ x₁ | x₀ x₁ x₂ …) along the last dimension of
    a (C, W) or (N, C, W) input; each count smaller than W."""

    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Reflection padding of the last two dimensions of a (C, H, W) or (N, C, H, W) input."""

    dims = 2


class ReflectionPad3d(ReflectionPad1d):
    """Reflection padding of the last three dimensions of a (C, D, H, W) or (N, C, D, H, W)
    input."""

    dims = 3


class ReplicationPad1d(_PadNd):
    """Repeat the border value (x₀ x₀ | x₀ x₁ …) along the last dimension of a (C, W) or
    (N, C, W) input."""

    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Replication padding of the last two dimensions of a (C, H, W) or (N, C, H, W) input."""

    dims = 2


class ReplicationPad3d(ReplicationPad1d):
    """Replication padding of the last three dimensions of a 4-D or 5-D input."""

    dims = 3


class CircularPad1d(_PadNd):
    """Wrap around (… xₙ₋₁ | x₀ x₁ … xₙ₋₁ | x₀ …) along the last dimension of a (C, W) or
    (N, C, W) input."""

    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(
                f"{type(self).__name__}: expected {self.dims + 1}D or {self.dims + 2}D input "
                f"(got {input.ndim}D input of shape {input.shape})"
            )
        return F.pad(input, self.padding, self.mode)


class CircularPad2d(CircularPad1d):
    """Circular padding of the last two dimensions of a (C, H, W) or (N, C, H, W) input."""

    dims = 2


class CircularPad3d(CircularPad1d):
    """Circular padding of the last three dimensions of a 4-D or 5-D input."""

    dims = 3
