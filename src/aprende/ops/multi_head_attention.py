"""Multi-head attention, as ``torch.nn.functional.multi_head_attention_forward``.

The query, key and value are projected, split into ``num_heads`` heads of size E/heads,
attended to head by head (scaled dot-product attention) and the heads' outputs joined and
projected again (Vaswani et al., 2017):

    headᵢ = softmax(Q Wᵢ^Q (K Wᵢ^K)ᵀ / √d + M) V Wᵢ^V,   MHA(Q, K, V) = [head₁ … head_h] W^O

Composed of differentiable ops (``linear``, ``matmul``, ``softmax``,
``scaled_dot_product_attention``), so every input, weight and float mask gets its gradient
from the chain rule.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from aprende._tensor import Tensor
from aprende.backend import get_array_module, is_floating
from aprende.ops.attention import scaled_dot_product_attention
from aprende.ops.dropout import dropout
from aprende.ops.linalg import matmul
from aprende.ops.linear import linear
from aprende.ops.reduce import softmax
from aprende.ops.resample import pad
from aprende.ops.shape import cat, expand


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's checks of the inputs' ranks; True for a batched (3-D) query."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            "multi_head_attention_forward: query should be unbatched 2D or batched 3D tensor "
            f"but received {query.ndim}-D query tensor"
        )
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"multi_head_attention_forward: for {kind} `query`, expected `key` and `value` to "
            f"be {query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"multi_head_attention_forward: for {kind} `query`, expected `key_padding_mask` to "
            f"be `None` or {query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(
            f"multi_head_attention_forward: for {kind} `query`, expected `attn_mask` to be "
            f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor instead"
        )
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise AssertionError(
                f"multi_head_attention_forward: expected `attn_mask` shape to be {expected} "
                f"but got {tuple(attn_mask.shape)}"
            )
    return batched


def _canonical_mask(mask: Tensor | None, name: str, dtype) -> Tensor | None:
    """A mask as an additive float mask of ``dtype``: a bool mask becomes −∞ where True (the
    position takes no part) and 0 elsewhere; a float mask is returned as it is."""
    if mask is None or is_floating(mask.dtype):
        return mask
    if mask.dtype != np.bool_:
        raise AssertionError(
            f"multi_head_attention_forward: only bool and floating types of {name} are "
            f"supported, got {mask.dtype}"
        )
    xp = get_array_module(mask.data)
    additive = xp.where(mask.data, -np.inf, 0).astype(dtype)
    return Tensor._make(additive, False)


def _warn_if_mismatched(key_padding_mask: Tensor, attn_mask: Tensor) -> None:
    if key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn(
            "multi_head_attention_forward: support for mismatched key_padding_mask "
            f"({key_padding_mask.dtype}) and attn_mask ({attn_mask.dtype}) is deprecated. Use "
            "same type for both instead.",
            stacklevel=3,
        )


def _check_attn_mask(attn_mask: Tensor, expected_2d: tuple, expected_3d: tuple) -> Tensor:
    """A 2-D (L, S) mask, shared by every batch entry and head, or a 3-D (N·heads, L, S) one;
    returned 3-D."""
    shape = tuple(attn_mask.shape)
    if attn_mask.ndim == 2:
        if shape != expected_2d:
            raise RuntimeError(
                f"multi_head_attention_forward: the shape of the 2D attn_mask is {shape}, but "
                f"should be {expected_2d}."
            )
        return attn_mask.unsqueeze(0)
    if shape != expected_3d:
        raise RuntimeError(
            f"multi_head_attention_forward: the shape of the 3D attn_mask is {shape}, but "
            f"should be {expected_3d}."
        )
    return attn_mask


def _in_projection(query, key, value, weights, in_proj_bias) -> tuple[Tensor, Tensor, Tensor]:
    """q = query W_qᵀ + b_q, k = key W_kᵀ + b_k, v = value W_vᵀ + b_v, the biases the three
    thirds of ``in_proj_bias``."""
    if in_proj_bias is None:
        biases = (None, None, None)
    else:
        biases = in_proj_bias.chunk(3)
    return tuple(
        linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases, strict=True)
    )


def _append_key(k: Tensor, v: Tensor, k_row: Tensor, v_row: Tensor, dim: int, masks: list):
    """One more key and value (``k_row``, ``v_row``) at the end of dimension ``dim``; each mask
    gets a column of zeros for it, so every query attends to it."""
    k, v = cat([k, k_row], dim=dim), cat([v, v_row], dim=dim)
    return k, v, [None if mask is None else pad(mask, (0, 1)) for mask in masks]


def _check_embed_dims(
    embed_dim: int, embed_dim_to_check: int, num_heads: int, key, value, separate
):
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"multi_head_attention_forward: was expecting embedding dimension of "
            f"{embed_dim_to_check}, but got {embed_dim}"
        )
    if embed_dim % num_heads:
        raise AssertionError(
            f"multi_head_attention_forward: embed_dim {embed_dim} not divisible by num_heads "
            f"{num_heads}"
        )
    if separate and key.shape[:2] != value.shape[:2]:
        raise AssertionError(
            f"multi_head_attention_forward: key's sequence and batch dims {key.shape[:2]} do "
            f"not match value's {value.shape[:2]}"
        )
    if not separate and key.shape != value.shape:
        raise AssertionError(
            f"multi_head_attention_forward: key shape {key.shape} does not match value shape "
            f"{value.shape}"
        )


def _merge_padding(attn_mask, key_padding_mask: Tensor, bsz: int, num_heads: int, src_len: int):
    """attn_mask + the key-padding mask (N, S) repeated over the heads as (N·h, 1, S)."""
    if tuple(key_padding_mask.shape) != (bsz, src_len):
        raise AssertionError(
            f"multi_head_attention_forward: expected key_padding_mask of shape "
            f"{(bsz, src_len)}, but got {tuple(key_padding_mask.shape)}"
        )
    per_head = expand(key_padding_mask.reshape(bsz, 1, 1, src_len), (bsz, num_heads, 1, src_len))
    per_head = per_head.reshape(bsz * num_heads, 1, src_len)
    return per_head if attn_mask is None else attn_mask + per_head


def _heads(x: Tensor, static: Tensor | None, name: str, heads_batch: int, head_dim: int):
    """Keys or values (S, N, E) as (N·h, S, d) heads, or ``static`` ones given as such."""
    if static is None:
        return x.reshape(x.shape[0], heads_batch, head_dim).transpose(0, 1)
    if static.shape[0] != heads_batch or static.shape[2] != head_dim:
        raise AssertionError(
            f"multi_head_attention_forward: expecting {name} of shape ({heads_batch}, S, "
            f"{head_dim}), but got {tuple(static.shape)}"
        )
    return static


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """MHA(Q, K, V) = [head₁ … head_h] W^O + b^O, headᵢ = softmax(qᵢ kᵢᵀ/√d + M) vᵢ with
    q = Q W_qᵀ + b_q (likewise k and v) split into h heads of d = E/h features.

    Shapes (sequence first): query (L, N, E), key (S, N, E_k), value (S, N, E_v), or
    unbatched (L, E), (S, E_k), (S, E_v). ``in_proj_weight`` (3E, E) holds W_q, W_k, W_v
    stacked (or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, E_k), ``v_proj_weight``
    (E, E_v) with ``use_separate_proj_weight``), ``in_proj_bias`` (3E,), ``out_proj_weight``
    (E, E). ``bias_k``/``bias_v`` (1, 1, E) append one learnt key and value to every
    sequence, ``add_zero_attn`` one key and value of zeros (after the projection).

    Masks, bool (True: the position takes no part) or float (added to the scores):
    ``key_padding_mask`` (N, S) or (S,) per key, ``attn_mask`` (L, S) or (N·h, L, S).
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask, which it then need not
    read. Attention weights are dropped with probability ``dropout_p`` when ``training``.
    ``static_k``/``static_v`` (N·h, S, d) replace the projected keys/values, given already
    split into heads.

    Returns the output (L, N, E) (or (L, E)) and, with ``need_weights``, the attention
    weights (N, L, S), averaged over heads (``average_attn_weights``) or (N, h, L, S) per
    head (without the batch dimension for an unbatched query); else None.
    """
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if key_padding_mask is not None and attn_mask is not None:
        _warn_if_mismatched(key_padding_mask, attn_mask)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "multi_head_attention_forward: need attn_mask if specifying the is_causal hint. "
            "You may use the Transformer module method `generate_square_subsequent_mask` to "
            "create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint lets scaled_dot_product_attention build the causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        is_causal = is_causal and key_padding_mask is None
    _check_embed_dims(
        embed_dim, embed_dim_to_check, num_heads, key, value, use_separate_proj_weight
    )
    head_dim = embed_dim // num_heads
    if use_separate_proj_weight:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        weights = in_proj_weight.chunk(3)
    q, k, v = _in_projection(query, key, value, weights, in_proj_bias)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(
            attn_mask, (tgt_len, src_len), (bsz * num_heads, tgt_len, src_len)
        )
    if (bias_k is None) != (bias_v is None):
        raise AssertionError(
            "multi_head_attention_forward: bias_k and bias_v must be both given or both None"
        )
    if bias_k is not None and (static_k is not None or static_v is not None):
        raise AssertionError(
            "multi_head_attention_forward: bias_k and bias_v cannot be added to a static key "
            "or value"
        )
    if bias_k is not None:
        k, v, (attn_mask, key_padding_mask) = _append_key(
            k,
            v,
            expand(bias_k, (1, bsz, embed_dim)),
            expand(bias_v, (1, bsz, embed_dim)),
            0,
            [attn_mask, key_padding_mask],
        )
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        xp = get_array_module(k.data)
        zero = Tensor._make(xp.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype), False)
        k, v, (attn_mask, key_padding_mask) = _append_key(
            k, v, zero, zero, 1, [attn_mask, key_padding_mask]
        )
    src_len = k.shape[1]
    if key_padding_mask is not None:
        attn_mask = _merge_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len)
    if not training:
        dropout_p = 0.0
    if need_weights:
        output, weights = _attention_with_weights(q, k, v, attn_mask, dropout_p, embed_dim)
    else:
        output, weights = _attention(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads)
    output = linear(output, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if weights is not None:
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
    if not batched:
        output = output.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return output, weights


def _attention_with_weights(q, k, v, attn_mask, dropout_p, embed_dim):
    """softmax(q kᵀ/√d + M) v for q, k, v (N·h, ·, d), and the weights; the output with its
    heads joined, (L·N, E), for the output projection. A query whose keys are all masked
    gets nan weights, as PyTorch's plain softmax gives."""
    scores = matmul(q * math.sqrt(1.0 / q.shape[-1]), k.transpose(-2, -1))
    if attn_mask is not None:
        scores = attn_mask + scores
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, p=dropout_p)
    output = matmul(weights, v).transpose(0, 1).reshape(-1, embed_dim)
    return output, weights


def _attention(q, k, v, attn_mask, dropout_p, is_causal, bsz, num_heads):
    """The same output through ``scaled_dot_product_attention`` on the heads as (N, h, ·, d),
    without the weights (None); a query whose keys are all masked gets zeros."""
    if attn_mask is not None and attn_mask.shape[0] == 1:
        attn_mask = attn_mask.unsqueeze(0)
    elif attn_mask is not None:
        attn_mask = attn_mask.reshape(bsz, num_heads, *attn_mask.shape[1:])
    heads = [t.reshape(bsz, num_heads, *t.shape[1:]) for t in (q, k, v)]
    output = scaled_dot_product_attention(*heads, attn_mask, dropout_p, is_causal)
    return output.permute(2, 0, 1, 3).reshape(-1, num_heads * q.shape[-1]), None
