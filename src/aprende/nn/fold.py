"""Fold and Unfold: sliding blocks of an image as columns (im2col) and back (col2im)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class Unfold(Module):
    """Every sliding ``kernel_size`` block of (N, C, H, W) inputs as a column: output
    (N, C·K_H·K_W, L), L the number of blocks (``F.unfold`` holds the formula)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """The adjoint of Unfold: (N, C·K_H·K_W, L) columns added back onto their blocks of an
    (N, C, *output_size) output, overlaps summed (``F.fold`` holds the formula)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
