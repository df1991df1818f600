"""Scaled dot-product attention, as ``torch.nn.functional.scaled_dot_product_attention``.

softmax(Q Kᵀ · scale + mask) V, with the masked softmax one graph node and the products the
differentiable ``matmul``; dropout on the attention weights is aprende's ``dropout``.
"""

from __future__ import annotations

import math

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast, unpack_optional
from aprende.backend import get_array_module, is_floating
from aprende.ops.dropout import dropout
from aprende.ops.elementwise import mul
from aprende.ops.linalg import matmul
from aprende.ops.shape import expand, reshape, transpose, unsqueeze


class MaskedSoftmax(Function):
    """Attention weights along the last dimension: y = softmax(s + m) for a float mask m, or
    softmax of s where the bool mask is True and −∞ elsewhere; a row with no finite score
    (everything masked) gives zeros, as PyTorch's safe softmax does, not nan.

    ∂L/∂s = y ⊙ (g − Σ g ⊙ y) (zero on a fully masked row); a float mask gets the same,
    summed over the dimensions it was broadcast along.
    """

    def forward(self, scores, *optional, present):
        (mask,) = unpack_optional(optional, present)
        xp = get_array_module(scores)
        if mask is None:
            logits = scores
        elif mask.dtype == np.bool_:
            logits = xp.where(mask, scores, scores.dtype.type(-np.inf))
        else:
            logits = scores + mask
        top = logits.max(axis=-1, keepdims=True)
        top[xp.isneginf(top)] = 0  # a fully masked row: every e^(−∞ − 0) is 0
        e = xp.exp(logits - top)
        total = e.sum(axis=-1, keepdims=True)
        total[total == 0] = 1
        out = e / total
        self.save_for_backward(out)
        self.shapes = (scores.shape,) if mask is None else (scores.shape, mask.shape)
        return out

    def backward(self, grad):
        (y,) = self.saved_tensors
        grad_logits = y * (grad - (grad * y).sum(axis=-1, keepdims=True))
        return tuple(
            unbroadcast(grad_logits, shape) if need else None
            for shape, need in zip(self.shapes, self.needs, strict=True)
        )


def _repeat_heads(t: Tensor, heads: int, name: str) -> Tensor:
    """Key or value heads repeated to ``heads`` (grouped-query attention): head h of the
    result is head h // r of ``t``, r = heads / t's heads (``repeat_interleave`` on dim −3)."""
    own = t.shape[-3]
    if heads % own:
        raise RuntimeError(
            f"scaled_dot_product_attention: the number of heads in {name} ({own}) must divide "
            f"the number of heads in query ({heads})"
        )
    shape = t.shape[:-3] + (own, heads // own) + t.shape[-2:]
    return reshape(expand(unsqueeze(t, -3), shape), t.shape[:-3] + (heads,) + t.shape[-2:])


def _check(query: Tensor, key: Tensor, value: Tensor, attn_mask, is_causal: bool) -> None:
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to all be at least 2 "
            f"dimensional, but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
            f"{value.ndim} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to have the same "
            f"dtype, but got query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
            f"{value.dtype} instead."
        )
    if not is_floating(query.dtype):
        raise RuntimeError(
            f"scaled_dot_product_attention: expected floating point inputs, got {query.dtype}"
        )
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        if attn_mask.dtype not in (np.bool_, query.dtype):
            raise RuntimeError(
                "scaled_dot_product_attention: Expected attn_mask dtype to be bool or to match "
                f"query dtype, but got attn_mask.dtype: {attn_mask.dtype} and query.dtype: "
                f"{query.dtype} instead."
            )


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention(Q, K, V) = dropout(softmax(Q Kᵀ · scale + M)) V.

    Shapes: query (…, L, E), key (…, S, E), value (…, S, Ev) -> (…, L, Ev), the leading
    dimensions broadcast. ``scale`` defaults to 1/√E. ``attn_mask`` broadcasts to (…, L, S):
    a bool mask says which keys a query may attend to (True takes part), a float mask (of
    the query's dtype) is added to the scores. ``is_causal`` lets query i attend to keys
    j ≤ i (the mask ``ones(L, S).tril()``, aligned to the upper left); it excludes
    ``attn_mask``. A query that may attend to no key gets zeros. ``dropout_p`` drops
    attention weights with aprende's ``dropout`` (the global generator), whether or not the
    model is training, as PyTorch's functional does. ``enable_gqa`` repeats each key/value
    head over a group of query heads (dim −3) when they have fewer heads than the query.
    """
    _check(query, key, value, attn_mask, is_causal)
    if enable_gqa and query.ndim >= 3:
        heads = query.shape[-3]
        if key.shape[-3] != heads:
            key = _repeat_heads(key, heads, "key")
        if value.shape[-3] != heads:
            value = _repeat_heads(value, heads, "value")
    if is_causal:
        xp = get_array_module(query.data)
        attn_mask = Tensor._make(xp.tri(query.shape[-2], key.shape[-2], dtype=bool), False)
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = mul(matmul(query, transpose(key, -2, -1)), factor)
    if attn_mask is None:
        weights = MaskedSoftmax.apply(scores, present=(False,))
    else:
        weights = MaskedSoftmax.apply(scores, attn_mask, present=(True,))
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)
