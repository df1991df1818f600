"""Convolution layers: each output channel one filter slid over the input, as ``torch.nn``."""

from __future__ import annotations

import math
from collections.abc import Callable

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import functional as F
from aprende.nn import init
from aprende.nn.module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, dims: int, name: str, layer: str) -> tuple[int, ...]:
    """An int or a sequence of ``dims`` ints, as a tuple (PyTorch's ``_pair``)."""
    values = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(values) != dims or not all(isinstance(v, int) for v in values):
        raise ValueError(f"{layer}: expected {name} to be an int or {dims} ints, got {value!r}")
    return values


class _ConvNd(Module):
    """What every convolution layer shares: its settings, its parameters and their
    initialisation (PyTorch's: W ~ U(±1/√fan_in) by ``kaiming_uniform_`` with a = √5, and
    b ~ U(±1/√fan_in), fan_in = weight.shape[1]·K_H·K_W), its forward pass and its repr.
    A subclass names its ``dims``, its functional form and whether it is ``transposed``."""

    dims: int
    transposed = False
    _functional: Callable

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] | str = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        layer, dims = type(self).__name__, self.dims
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(
                f"{layer}: in_channels must be divisible by groups, got in_channels="
                f"{in_channels} and groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{layer}: out_channels must be divisible by groups, got out_channels="
                f"{out_channels} and groups={groups}"
            )
        self.stride = _ntuple(stride, dims, "stride", layer)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{layer}: invalid padding string {padding!r}, should be one of "
                    "{'valid', 'same'}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{layer}: padding='same' is not supported for strided convolutions, got "
                    f"stride={self.stride}"
                )
            self.padding = padding
        else:
            self.padding = _ntuple(padding, dims, "padding", layer)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{layer}: padding_mode must be one of {_PADDING_MODES}, got "
                f"padding_mode={padding_mode!r}"
            )
        if padding_mode != "zeros":
            if self.transposed:
                raise ValueError(f'{layer}: only "zeros" padding mode is supported')
            raise NotImplementedError(
                f"{layer}: padding_mode={padding_mode!r} is not implemented; only 'zeros' is "
                "(pad the input with F.pad first and use padding=0)"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, dims, "kernel_size", layer)
        self.dilation = _ntuple(dilation, dims, "dilation", layer)
        self.output_padding = (0,) * dims
        self.padding_mode = padding_mode
        shape = (
            (in_channels, out_channels // groups)
            if self.transposed
            else (out_channels, in_channels // groups)
        )
        self.weight = Parameter(empty(*shape, *self.kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        return self._functional(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def reset_parameters(self) -> None:
        """Draw fresh weights and biases from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        dims = len(self.kernel_size)
        if self.padding != (0,) * dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-d convolution: y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] over (N, C_in, L) or (C_in, L).

    ``weight`` (out_channels, in_channels/groups, kernel_size), ``bias`` (out_channels,);
    ``padding`` an int, or "same"/"valid". Output length ⌊(L + 2p − d·(K − 1) − 1)/s⌋ + 1.
    """

    dims = 1
    _functional = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-d convolution: y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] (⋆ the cross-correlation, as
    PyTorch) over (N, C_in, H, W) or (C_in, H, W): ``out_channels`` filters of
    in_channels/groups × K_H × K_W weights, each slid over the input with ``stride``,
    ``dilation`` and zero ``padding`` (an int, a pair, or "same"/"valid").

    ``weight`` (out_channels, in_channels/groups, K_H, K_W), ``bias`` (out_channels,);
    output (N, out_channels, ⌊(H + 2p − d·(K − 1) − 1)/s⌋ + 1, ...).
    """

    dims = 2
    _functional = staticmethod(F.conv2d)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolution layers share: ``output_padding``, and a forward pass
    that may be given the output size to reach. A subclass names its ``dims`` and its
    functional form."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        layer = type(self).__name__
        if isinstance(padding, str):
            raise ValueError(
                f"{layer}: padding must be an int or {self.dims} ints, got {padding!r}"
            )
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip
        self.output_padding = _ntuple(output_padding, self.dims, "output_padding", layer)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        """``output_size`` (the spatial sizes, optionally after the leading dims) picks the
        output padding that reaches it (one of the sizes a strided convolution maps to the
        input's size)."""
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, tuple(output_size)[-self.dims :])
        return self._functional(
            input, self.weight, self.bias, self.stride, self.padding, output_padding,
            self.groups, self.dilation,
        )  # fmt: skip

    def _output_padding(self, input: Tensor, size: tuple) -> tuple[int, ...]:
        extra, dims = [], self.dims
        for k in range(dims):
            smallest = (
                (input.shape[-dims + k] - 1) * self.stride[k]
                - 2 * self.padding[k]
                + self.dilation[k] * (self.kernel_size[k] - 1)
                + 1
            )
            largest = smallest + self.stride[k] - 1
            if not smallest <= size[k] <= largest:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {size}, but valid "
                    f"sizes for an input of shape {input.shape} range from {smallest} to "
                    f"{largest} in dimension {k} (for an input of {input.shape[-dims + k]})"
                )
            extra.append(size[k] - smallest)
        return tuple(extra)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution (the gradient of ``Conv1d`` with respect to its input) over
    (N, C_in, L) or (C_in, L): each input value spreads over K output positions, ``stride``
    apart; upsamples by ``stride``.

    ``weight`` (in_channels, out_channels/groups, K), ``bias`` (out_channels,); output
    (N, out_channels, (L − 1)·s − 2p + d·(K − 1) + output_padding + 1).
    """

    dims = 1
    _functional = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution (the gradient of ``Conv2d`` with respect to its input): each
    input value spreads over a K_H × K_W patch of the output, ``stride`` apart; upsamples
    by ``stride``. ``output_padding`` adds rows/columns at the end (smaller than the stride or
    the dilation), to invert a strided Conv2d whose division was not exact.

    ``weight`` (in_channels, out_channels/groups, K_H, K_W), ``bias`` (out_channels,); output
    (N, out_channels, (H − 1)·s − 2p + d·(K − 1) + output_padding + 1, ...).
    """

    dims = 2
    _functional = staticmethod(F.conv_transpose2d)
