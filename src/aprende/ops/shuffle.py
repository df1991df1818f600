"""Rearranging channels: pixel shuffle (channels into space, sub-pixel convolution), its
inverse, and channel shuffle (ShuffleNet). Each is a reshape, a permutation and a reshape, so
the gradient is the inverse rearrangement."""

from __future__ import annotations

from aprende._tensor import Tensor


def _check_factor(factor: int, name: str, op: str) -> None:
    if factor <= 0:
        raise RuntimeError(f"{op}: expected {name} to be greater than 0, but got: {factor}")


def _check_ndim(input: Tensor, least: int, op: str) -> None:
    if input.ndim < least:
        raise RuntimeError(
            f"{op}: expects input to have at least {least} dimensions, but got input with "
            f"{input.ndim} dimension(s) (shape {input.shape})"
        )


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r) with r = ``upscale_factor``:
    y[…, c, h·r + i, w·r + j] = x[…, c·r² + i·r + j, h, w]."""
    op, r = "pixel_shuffle", upscale_factor
    _check_factor(r, "upscale_factor", op)
    _check_ndim(input, 3, op)
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError(
            f"{op}: expected the channel dimension ({channels}) of input of shape "
            f"{input.shape} to be divisible by the square of upscale_factor, {r * r}"
        )
    k = len(batch)
    out = input.reshape(*batch, channels // (r * r), r, r, height, width)
    out = out.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return out.reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W) with r = ``downscale_factor``, the inverse of
    ``pixel_shuffle``: y[…, c·r² + i·r + j, h, w] = x[…, c, h·r + i, w·r + j]."""
    op, r = "pixel_unshuffle", downscale_factor
    _check_factor(r, "downscale_factor", op)
    _check_ndim(input, 3, op)
    *batch, channels, height, width = input.shape
    if height % r or width % r:
        raise RuntimeError(
            f"{op}: expected height ({height}) and width ({width}) of input of shape "
            f"{input.shape} to be divisible by downscale_factor, {r}"
        )
    k = len(batch)
    out = input.reshape(*batch, channels, height // r, r, width // r, r)
    out = out.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return out.reshape(*batch, channels * r * r, height // r, width // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with C = g·k channels in g groups → channel order interleaved across the
    groups: y[:, j·g + i] = x[:, i·k + j] (g = ``groups``)."""
    op = "channel_shuffle"
    _check_factor(groups, "groups", op)
    _check_ndim(input, 3, op)
    batch, channels, *rest = input.shape
    if channels % groups:
        raise RuntimeError(
            f"{op}: number of channels ({channels}) of input of shape {input.shape} must be "
            f"divisible by groups ({groups})"
        )
    out = input.reshape(batch, groups, channels // groups, *rest).transpose(1, 2)
    return out.reshape(batch, channels, *rest)
