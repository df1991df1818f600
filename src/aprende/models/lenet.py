"""A LeNet-style convolutional network for image classification (LeCun et al., 1998)."""

from __future__ import annotations

from collections.abc import Sequence

from aprende._tensor import Tensor
from aprende.nn.activation import ReLU
from aprende.nn.container import Sequential
from aprende.nn.conv import Conv2d
from aprende.nn.dropout import Dropout
from aprende.nn.flatten import Flatten
from aprende.nn.linear import Linear
from aprende.nn.module import Module
from aprende.nn.pooling import MaxPool2d


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"LeNet: {name} must be a positive int or a pair of them, got {value!r}")
    return pair


class LeNet(Module):
    """Two convolutional stages, then a fully connected classifier:

        [Conv2d(k×k, padding k//2) → ReLU → MaxPool2d(2)] × 2 → Flatten
        → [Linear → ReLU → (Dropout)] for each width in ``hidden`` → Linear(num_classes)

    The convolutions share their weights across every position of the image (weight sharing:
    a few hundred weights see the whole image), keep its size (padding k//2) and each pooling
    halves it, so the classifier sees ``channels[1] · ⌊H/4⌋ · ⌊W/4⌋`` features. The output is
    one raw score (logit) per class: pair it with ``CrossEntropyLoss``. LeNet-5 on MNIST is
    ``LeNet(1, 10, image_size=28)`` (channels 6 and 16, hidden widths 120 and 84, 5×5 kernels);
    for the 8×8 digits ``LeNet(1, 10, image_size=8, kernel_size=3)``.

    Input (N, in_channels, H, W) with (H, W) = ``image_size``; output (N, num_classes).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int | tuple[int, int] = 28,
        channels: tuple[int, int] = (6, 16),
        hidden: Sequence[int] = (120, 84),
        kernel_size: int = 5,
        dropout: float = 0.0,
    ):
        super().__init__()
        height, width = _pair(image_size, "image_size")
        if height < 4 or width < 4:
            raise ValueError(
                f"LeNet: image_size must be at least 4×4 (two 2×2 poolings), got {image_size!r}"
            )
        if kernel_size % 2 == 0:
            raise ValueError(
                f"LeNet: kernel_size must be odd (to keep the size), got {kernel_size}"
            )
        self.in_channels, self.num_classes = in_channels, num_classes
        self.image_size = (height, width)
        padding = kernel_size // 2
        self.features = Sequential(
            Conv2d(in_channels, channels[0], kernel_size, padding=padding),
            ReLU(),
            MaxPool2d(2),
            Conv2d(channels[0], channels[1], kernel_size, padding=padding),
            ReLU(),
            MaxPool2d(2),
        )
        layers: list[Module] = [Flatten()]
        features = channels[1] * (height // 4) * (width // 4)
        for width_out in hidden:
            layers += [Linear(features, width_out), ReLU()]
            if dropout:
                layers.append(Dropout(dropout))
            features = width_out
        self.classifier = Sequential(*layers, Linear(features, num_classes))

    def forward(self, input: Tensor) -> Tensor:
        expected = (self.in_channels, *self.image_size)
        if input.ndim != 4 or tuple(input.shape[1:]) != expected:
            raise RuntimeError(
                f"LeNet: expected input of shape (N, {', '.join(map(str, expected))}), "
                f"got {tuple(input.shape)}"
            )
        return self.classifier(self.features(input))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, "
            f"image_size={self.image_size}"
        )
