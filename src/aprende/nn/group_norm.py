"""Group normalisation: each sample's channels split into groups, each group normalised over
its channels and positions, then scaled and shifted per channel (independent of the batch)."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.module import Module, Parameter
from aprende.ops.activation import require_floating
from aprende.ops.math import rsqrt


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ_g)/√(σ²_g + eps) · γ_c + β_c for an input (N, C, ...) whose C channels form
    ``num_groups`` groups of C/G consecutive channels.

    μ_g and σ²_g are the mean and biased variance of each sample's group, over its channels and
    all positions; γ (``weight``) and β (``bias``) have shape (C,). Composed of mean, var and
    rsqrt, so the gradient is the chain rule through them.
    """
    op = "group_norm"
    require_floating(input, op)
    if input.ndim < 2:
        raise RuntimeError(
            f"{op}: expected an input of shape (N, C, ...) with at least 2 dimensions, got "
            f"{input.shape}"
        )
    batch, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            f"{op}: Expected number of channels in input to be divisible by num_groups, but "
            f"got input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise RuntimeError(
                f"{op}: Expected {name} to be a vector of size equal to the number of channels "
                f"in input ({channels}), but got {name} of shape {list(value.shape)}"
            )
    groups = input.reshape(batch, num_groups, -1)
    mean = groups.mean(dim=-1, keepdim=True)
    var = groups.var(dim=-1, keepdim=True, correction=0)
    out = ((groups - mean) * rsqrt(var + eps)).reshape(input.shape)
    per_channel = (channels,) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


class GroupNorm(Module):
    """Group normalisation over ``num_groups`` groups of an input (N, C, ...) with C =
    ``num_channels``:

        y = (x − E[x]) / √(Var[x] + eps) · γ + β

    E and the biased Var over each sample's group (its C/G channels and every position), γ
    (``weight``) and β (``bias``) per channel, starting at 1 and 0; ``affine=False`` learns
    neither, ``bias=False`` only γ. The same computation in training and evaluation.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups, got "
                f"num_channels={num_channels} and num_groups={num_groups}"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(empty(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(empty(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ to 1 and β to 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
