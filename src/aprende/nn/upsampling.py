"""Upsample: resize feature maps to a size or by a factor (a decoder's way back up); the
fixed-mode UpsamplingNearest2d and UpsamplingBilinear2d."""

from __future__ import annotations

from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class Upsample(Module):
    """Resize the spatial dimensions of (N, C, d1, ...) inputs to ``size`` or by
    ``scale_factor``, with ``mode`` "nearest", "linear", "bilinear" or "trilinear"
    (``F.interpolate`` holds the formulas)."""

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode "nearest" over (N, C, H, W): each output pixel copies the input pixel
    ⌊p·H/OH⌋, ⌊q·W/OW⌋ (PyTorch keeps the class, deprecated, for ``Upsample``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode "bilinear" and align_corners=True over (N, C, H, W): the corner
    pixels of input and output coincide and output pixel p reads the input at p·(H − 1)/(OH − 1),
    interpolated between its two neighbours per axis (PyTorch keeps the class, deprecated, for
    ``Upsample``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
