"""U-Net (Ronneberger et al., 2015): an encoder–decoder with skip connections, for per-pixel
outputs (a class for every pixel, several numbers per pixel, or a reconstructed image)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn.activation import ReLU
from aprende.nn.container import ModuleList, Sequential
from aprende.nn.conv import Conv2d, ConvTranspose2d
from aprende.nn.module import Module
from aprende.nn.normalization import BatchNorm2d
from aprende.nn.pooling import MaxPool2d
from aprende.ops.shape import cat


def double_conv(in_channels: int, out_channels: int, batch_norm: bool = True) -> Sequential:
    """[Conv2d(3×3, padding 1) → (BatchNorm2d) → ReLU] × 2: the U-Net's block; keeps H × W."""
    layers: list[Module] = []
    for channels in (in_channels, out_channels):
        layers.append(Conv2d(channels, out_channels, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(BatchNorm2d(out_channels))
        layers.append(ReLU())
    return Sequential(*layers)


class UNet(Module):
    """An encoder that halves the image ``depth`` times and a decoder that doubles it back,
    each decoder level joined (``cat`` along the channels) with the encoder's output of the
    same size, so fine detail skips the bottleneck:

        encoder: x_0 = block(input), x_i = block(maxpool(x_{i−1})) for i = 1..depth
        decoder: y_depth = x_depth, y_{i−1} = block(cat(upconv(y_i), x_{i−1}))
        output:  Conv2d(1×1)(y_0)

    Level i has ``width · 2^i`` channels; ``upconv`` is ``ConvTranspose2d(kernel 2, stride 2)``;
    ``block`` is ``double_conv``. Input (N, in_channels, H, W) with H and W multiples of
    2^depth; output (N, out_channels, H, W): logits per pixel for segmentation (pair with
    ``CrossEntropyLoss``), or values for per-pixel regression (``MSELoss``).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        depth: int = 2,
        width: int = 16,
        batch_norm: bool = True,
    ):
        super().__init__()
        if depth < 1 or width < 1:
            raise ValueError(f"UNet: depth and width must be positive, got {depth} and {width}")
        self.in_channels, self.out_channels, self.depth, self.width = (
            in_channels,
            out_channels,
            depth,
            width,
        )
        widths = [width * 2**i for i in range(depth + 1)]
        self.encoder = ModuleList(
            [double_conv(in_channels, widths[0], batch_norm)]
            + [double_conv(widths[i - 1], widths[i], batch_norm) for i in range(1, depth + 1)]
        )
        self.pool = MaxPool2d(2)
        self.up = ModuleList(
            [ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2) for i in range(depth, 0, -1)]
        )
        self.decoder = ModuleList(
            [double_conv(2 * widths[i - 1], widths[i - 1], batch_norm) for i in range(depth, 0, -1)]
        )
        self.head = Conv2d(widths[0], out_channels, 1)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        skips = []
        x = input
        for level, block in enumerate(self.encoder):
            x = block(x if level == 0 else self.pool(x))
            skips.append(x)
        skips.pop()  # the bottleneck's output is x itself
        for up, block in zip(self.up, self.decoder, strict=True):
            x = block(cat([up(x), skips.pop()], dim=1))
        return self.head(x)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise RuntimeError(
                f"UNet: expected input of shape (N, {self.in_channels}, H, W), "
                f"got {tuple(input.shape)}"
            )
        multiple = 2**self.depth
        height, width = input.shape[2:]
        if height % multiple or width % multiple:
            raise RuntimeError(
                f"UNet: with depth {self.depth} the input's height and width must be multiples "
                f"of 2^{self.depth} = {multiple}, got {height}×{width}; pad or crop the image "
                f"(e.g. F.pad) to a multiple of {multiple}"
            )

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
            f"depth={self.depth}, width={self.width}"
        )
