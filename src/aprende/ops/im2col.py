"""im2col and col2im: the column machinery of the convolutions (``aprende.ops.conv``).

``im2col`` gathers, for every output position, the K_H·K_W input values the kernel sees: a
(N, C, K_H, K_W, OH, OW) array filled by one strided-slice copy per kernel offset (a loop over
the K_H·K_W offsets, never over samples or pixels); at stride 1, one contiguous copy per kernel
offset over the padded width (``Geometry.wide``). ``col2im`` is its adjoint: the same loop of
strided adds.

The batch goes through in blocks of samples whose columns take about ``BLOCK_BYTES``: each
block's columns are still in cache when the GEMM reads them, the buffers are reused from block
to block, and no array is as large as the whole batch's columns (for 64 × 32 channels of 28 × 28
and a 3 × 3 kernel those are 58 MB, which cost page faults on every fresh allocation). So the
columns are not kept for backward: it rebuilds them from the saved input, block by block.
"""

from __future__ import annotations

from typing import NamedTuple

from aprende import backend
from aprende.backend import get_array_module

#: Bytes of columns per block. Measured on the 64 × 32 → 64, 28 × 28, 3 × 3 layer, forward +
#: backward, one thread, as time over PyTorch's in the same run: 1, 2 and 4 MB 1.37-1.38, 8 MB
#: 1.45, the whole batch at once (58 MB) 2.04.
BLOCK_BYTES = 4 * 2**20


class Geometry(NamedTuple):
    """Where a convolution reads: output (p, q) and kernel offset (i, j) read the input, of
    ``size`` (H, W) and zero-padded by ``pads`` (top, bottom, left, right), at row
    p·s_H + i·d_H and column q·s_W + j·d_W; the output is ``out`` (OH, OW)."""

    size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    out: tuple

    @property
    def pointwise(self) -> bool:
        """A 1×1 kernel that reads every input position once: im2col is the input itself."""
        return self.kernel == (1, 1) and self.stride == (1, 1) and self.size == self.out

    @property
    def padded_size(self) -> tuple:
        """(H + p_top + p_bottom, W + p_left + p_right)."""
        top, bottom, left, right = self.pads
        return self.size[0] + top + bottom, self.size[1] + left + right

    @property
    def wide(self) -> bool:
        """At stride 1 the window of kernel offset (i, j) is, in the padded input flattened per
        channel, one contiguous run of OH rows of the padded width W̃ starting at
        i·d_H·W̃ + j·d_W: im2col copies K_H·K_W long runs instead of K_H·K_W·OH short rows.
        Its columns q ≥ OW of each row read the next row's first values: the forward product
        drops them and the gradients meet them with zeros."""
        return self.stride == (1, 1) and not self.pointwise

    @property
    def row_width(self) -> int:
        """Columns per output row in im2col: W̃ when wide, else OW."""
        return self.padded_size[1] if self.wide else self.out[1]

    @property
    def length(self) -> int:
        """Columns of im2col per sample and channel: OH · row_width."""
        return self.out[0] * self.row_width

    def windows(self):
        """(i, j, rows, columns): each kernel offset and the slices of the padded input it reads."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        for i in range(self.kernel[0]):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(self.kernel[1]):
                yield i, j, rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)

    def padded_buffer(self, n: int, channels: int, dtype, xp):
        """A zero (n, C, H + p_top + p_bottom, W + p_left + p_right) array; None without padding."""
        if not any(self.pads):
            return None
        top, bottom, left, right = self.pads
        return xp.zeros(
            (n, channels, self.size[0] + top + bottom, self.size[1] + left + right), dtype
        )

    def crop(self, padded):
        """The unpadded part of a padded array."""
        top, _, left, _ = self.pads
        return padded[:, :, top : top + self.size[0], left : left + self.size[1]]


def sample_blocks(n: int, per_sample: int) -> tuple[int, list[tuple[int, int]]]:
    """Block size and (start, stop) of each block of samples, for ``per_sample`` bytes each."""
    size = max(1, min(n, BLOCK_BYTES // max(per_sample, 1)))
    return size, [(start, min(start + size, n)) for start in range(0, n, size)]


def im2col(x, geometry: Geometry):
    """(start, stop, cols) over blocks of the batch x (N, C, H, W), with
    cols[n, c, i, j, p, q] = x̃[start + n, c, p·s_H + i·d_H, q·s_W + j·d_W] (x̃ zero-padded;
    q < row_width, flattened with p when wide): im2col block by block, into one buffer that the
    next block overwrites."""
    n, c = x.shape[:2]
    if geometry.pointwise:
        yield 0, n, x.reshape(n, c, 1, 1, *geometry.size)
        return
    if geometry.wide:
        yield from wide_im2col(x, geometry)
        return
    xp = get_array_module(x)
    per_sample = c * geometry.kernel[0] * geometry.kernel[1] * geometry.out[0] * geometry.out[1]
    size, blocks = sample_blocks(n, per_sample * x.dtype.itemsize)
    cols = xp.empty((size, c, *geometry.kernel, *geometry.out), x.dtype)
    padded = geometry.padded_buffer(size, c, x.dtype, xp)  # its border stays zero throughout
    for start, stop in blocks:
        block = x[start:stop]
        if padded is not None:
            geometry.crop(padded[: stop - start])[...] = block
            block = padded[: stop - start]
        filled = cols[: stop - start]
        gather_windows(block, geometry, filled)
        yield start, stop, filled


def gather_windows(padded, geometry: Geometry, cols) -> None:
    """cols[n, c, i, j, p, q] = x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W] from the padded x̃
    (m, C, H̃, W̃) into cols (m, C, K_H, K_W, OH, OW): one strided copy per kernel offset."""
    for i, j, rows, columns in geometry.windows():
        cols[:, :, i, j] = padded[:, :, rows, columns]


def add_windows(cols, geometry: Geometry, padded) -> None:
    """x̃[n, c, p·s_H + i·d_H, q·s_W + j·d_W] += cols[n, c, i, j, p, q]: the adjoint of
    ``gather_windows``, one strided add per kernel offset (overlapping windows add up)."""
    for i, j, rows, columns in geometry.windows():
        padded[:, :, rows, columns] += cols[:, :, i, j]


def wide_im2col(x, geometry: Geometry):
    """``im2col`` at stride 1: cols[n, c, i, j, p·W̃ + q] = x̃ₙ,c flattened at
    (p + i·d_H)·W̃ + q + j·d_W, for q < W̃ (see ``Geometry.wide``). Measured on the benchmark's
    layer and LeNet-5's: im2col 1.5-1.8x faster than row by row, for 7-29 % more GEMM
    columns (W̃ = 30 against 28; 18 against 14)."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    hp, wp = geometry.padded_size
    length = geometry.length
    size, blocks = sample_blocks(n, c * kh * kw * length * x.dtype.itemsize)
    cols = xp.empty((size, c, kh, kw, length), x.dtype)
    # The padded input, flattened per channel, and the tail the last offset's run reads past it;
    # border and tail stay zero throughout.
    flat = xp.zeros((size, c, hp * wp + dw * (kw - 1)), x.dtype)
    padded = flat[:, :, : hp * wp].reshape(size, c, hp, wp)
    for start, stop in blocks:
        m = stop - start
        geometry.crop(padded[:m])[...] = x[start:stop]
        for i in range(kh):
            for j in range(kw):
                offset = i * dh * wp + j * dw
                cols[:m, :, i, j] = flat[:m, :, offset : offset + length]
        yield start, stop, cols[:m]


def widened(rows, geometry: Geometry, buffer):
    """rows (m, ..., OH·OW) laid out as im2col's columns (m, ..., OH·row_width) in ``buffer``,
    zeros in the columns q ≥ OW; ``rows`` itself when not wide."""
    if not geometry.wide:
        return rows
    (oh, ow), m = geometry.out, rows.shape[0]
    target = buffer[:m]
    target.reshape(*target.shape[:-1], oh, -1)[..., :ow] = rows.reshape(*rows.shape[:-1], oh, ow)
    return target


def widened_buffer(shape: tuple, geometry: Geometry, dtype, xp):
    """A zero buffer for ``widened`` of blocks of ``shape`` (size, ..., OH·OW)."""
    if not geometry.wide:
        return None
    return xp.zeros((*shape[:-1], geometry.length), dtype)


def narrowed(wide, geometry: Geometry):
    """The (m, ..., OH, OW) view of im2col-laid-out results (m, ..., OH·row_width)."""
    oh, ow = geometry.out
    return wide.reshape(*wide.shape[:-1], oh, geometry.row_width)[..., :ow]


def col2im(kernel, g, geometry: Geometry, channels: int):
    """col2im(Kᵀ g), block by block: x[n, c, p·s_H + i·d_H, q·s_W + j·d_W] += (Kᵀ gₙ)[c, i, j, p, q]
    over the zero-padded x, cropped; K (groups, O/groups, C/groups·K_H·K_W), g (N, groups,
    O/groups, OH·OW). The input gradient of a convolution, the output of a transposed one."""
    xp = get_array_module(g)
    n, groups = g.shape[:2]
    out = xp.empty((n, channels, *geometry.size), g.dtype)
    kernel_t = kernel.transpose(0, 2, 1)
    if geometry.pointwise:
        xp.matmul(kernel_t, g, out=out.reshape(n, groups, -1, g.shape[3]))
        return out
    if geometry.stride == (1, 1):
        return wide_col2im(kernel_t, g, geometry, out)
    per_sample = kernel.shape[0] * kernel.shape[2] * g.shape[3]
    size, blocks = sample_blocks(n, per_sample * g.dtype.itemsize)
    cols = xp.empty((size, groups, kernel.shape[2], g.shape[3]), g.dtype)
    padded = geometry.padded_buffer(size, channels, g.dtype, xp)
    for start, stop in blocks:
        m = stop - start
        xp.matmul(kernel_t, g[start:stop], out=cols[:m])
        spread = cols[:m].reshape(m, channels, *geometry.kernel, *geometry.out)
        target = out[start:stop] if padded is None else padded[:m]
        target[...] = 0
        add_windows(spread, geometry, target)
        if padded is not None:
            out[start:stop] = geometry.crop(target)
    return out


def wide_col2im(kernel_t, g, geometry: Geometry, out):
    """``col2im`` at stride 1, on whole rows of the padded input. With g widened by zero
    columns to the padded width W̃, each (Kᵀ g)[:, :, i, j] lands in the padded input, flattened,
    as one contiguous run starting at i·d_H·W̃ + j·d_W: one long add per kernel offset instead of
    one short add per row (the widened columns carry zeros into the neighbouring row). Measured
    on the benchmark's layer, forward + backward: 5 % less time than adding row by row."""
    xp = get_array_module(g)
    n, groups, per_group = g.shape[:3]
    channels = out.shape[1]
    (oh, ow), (kh, kw), (dh, dw) = geometry.out, geometry.kernel, geometry.dilation
    hp, wp = geometry.padded_size
    length = oh * wp
    size, blocks = sample_blocks(
        n, kernel_t.shape[0] * kernel_t.shape[1] * length * g.dtype.itemsize
    )
    wide = xp.zeros((size, groups, per_group, oh, wp), g.dtype)  # columns ≥ OW stay zero
    cols = xp.empty((size, groups, kernel_t.shape[1], length), g.dtype)
    flat = xp.empty((size, channels, hp * wp + dw * (kw - 1)), g.dtype)  # the last run's tail
    rows = g.reshape(n, groups, per_group, oh, ow)
    for start, stop in blocks:
        m = stop - start
        wide[:m, :, :, :, :ow] = rows[start:stop]
        xp.matmul(kernel_t, wide[:m].reshape(m, groups, per_group, length), out=cols[:m])
        spread = cols[:m].reshape(m, channels, kh, kw, length)
        target = flat[:m]
        target[...] = 0
        for i in range(kh):
            for j in range(kw):
                offset = i * dh * wp + j * dw
                target[:, :, offset : offset + length] += spread[:, :, i, j]
        out[start:stop] = geometry.crop(target[:, :, : hp * wp].reshape(m, channels, hp, wp))
    return out


def kernel_gradient(g, cols, total) -> None:
    """totalᵀ += Σₙ colsₙ gₙᵀ (the transpose of Σₙ gₙ colsₙᵀ) for one block: a GEMM per
    sample, then a sum over the block; g (m, groups, O/groups, L), cols (m, groups,
    C/groups·K·K, L), total (groups, C/groups·K·K, O/groups). Measured on the benchmark's
    layer: 22 % faster than gₙ colsₙᵀ (OpenBLAS prefers the long side as rows)."""
    total += get_array_module(g).matmul(cols, g.transpose(0, 1, 3, 2)).sum(axis=0)


def bias_gradient(g, channels: int):
    """Σ_{n, p, q} g per channel, from g as (N·C, OH·OW) rows: each row's sum as the
    matrix-vector product G 1 (BLAS, ~2x NumPy's reduction over the last axis), then Σₙ."""
    ones = backend.constant(1, g.shape[1], g.dtype, get_array_module(g))
    return (g @ ones).reshape(-1, channels).sum(axis=0)


def conv_size(size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple) -> tuple:
    """Output (OH, OW) of a convolution: ⌊(H + p_top + p_bottom − d·(K − 1) − 1)/s⌋ + 1."""
    return tuple(
        (size[k] + pads[2 * k] + pads[2 * k + 1] - dilation[k] * (kernel[k] - 1) - 1) // stride[k]
        + 1
        for k in range(2)
    )
