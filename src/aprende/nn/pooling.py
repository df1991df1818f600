"""Pooling layers: max and average over sliding windows, their adaptive forms, max unpooling,
and the 1-d forms, as ``torch.nn`` (same constructor arguments, defaults and repr)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


def _pair(value) -> tuple:
    return (value, value) if isinstance(value, int) else tuple(value)


def _single(value) -> tuple:
    return (value,) if isinstance(value, int) else tuple(value)


class _MaxPoolNd(Module):
    """What the max poolings share: their window settings, forward and repr."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        return self.pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """y[n, c, oh, ow] = max over i, j < k of x[n, c, oh·s − p + i·d, ow·s − p + j·d] (−∞
    outside the input); ``stride`` defaults to ``kernel_size``. With ``return_indices`` the
    layer returns (values, indices) for ``MaxUnpool2d``."""

    pool = staticmethod(F.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """y[n, c, o] = max over j < k of x[n, c, o·s − p + j·d] (−∞ outside the input), for
    (N, C, L) or (C, L)."""

    pool = staticmethod(F.max_pool1d)


class _AvgPoolNd(Module):
    """What the average poolings share: their window settings, forward and repr."""

    def __init__(self, kernel_size, stride, padding, ceil_mode: bool, count_include_pad: bool):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return self.pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """y[n, c, oh, ow] = Σ over i, j < k of x[n, c, oh·s − p + i, ow·s − p + j] / D (zero
    padding); D is ``divisor_override``, or the window's element count within the padded input
    (``count_include_pad=True``) or within the input."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def pool(self, *args) -> Tensor:
        return F.avg_pool2d(*args, divisor_override=self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """y[n, c, o] = Σ over j < k of x[n, c, o·s − p + j] / D (zero padding), for (N, C, L) or
    (C, L); D as ``AvgPool2d``. The sizes are kept as 1-tuples, as PyTorch."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ):
        stride = _single(stride if stride is not None else kernel_size)
        super().__init__(
            _single(kernel_size), stride, _single(padding), ceil_mode, count_include_pad
        )

    pool = staticmethod(F.avg_pool1d)


class _AdaptivePoolNd(Module):
    """What the adaptive poolings share: the output size, and the repr."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average over the bins that split L into ``output_size`` parts (bin i covers
    [⌊i·L/O⌋, ⌈(i + 1)·L/O⌉)), for (N, C, L) or (C, L)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePoolNd):
    """Maximum over the bins of ``AdaptiveAvgPool1d``; with ``return_indices`` the layer
    returns (values, indices)."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveAvgPool2d(Module):
    """Average over the bins that split H and W into ``output_size`` parts (bin i covers
    [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉)); None in ``output_size`` keeps that dim."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Maximum over the bins of ``AdaptiveAvgPool2d``; with ``return_indices`` the layer
    returns (values, indices)."""

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """The partial inverse of ``MaxPool2d``: each value back at its index in a zero plane of
    size ((H − 1)·s − 2p + k) per dim, or ``output_size`` given to forward."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride if stride is not None else kernel_size)
        self.padding = _pair(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool2d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(Module):
    """The partial inverse of ``MaxPool1d``: each value back at its index in a zero row of
    length (L − 1)·s − 2p + k, or ``output_size`` given to forward. The sizes are kept as
    1-tuples, as PyTorch."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool1d(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
