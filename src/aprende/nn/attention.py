"""Multi-head attention: each query attends, in several heads of its own projection, to a set
of keys and reads a weighted mix of their values."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.linear import Linear
from aprende.nn.module import Module, Parameter
from aprende.ops.multi_head_attention import multi_head_attention_forward


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of ``MultiheadAttention``: a ``Linear`` under PyTorch's name."""


class MultiheadAttention(Module):
    """MHA(Q, K, V) = [head₁ … head_h] W^O + b^O, headᵢ = softmax(Q Wᵢ^Q (K Wᵢ^K)ᵀ/√d + M) V Wᵢ^V
    with h = ``num_heads`` heads of d = ``embed_dim``/h features
    (``F.multi_head_attention_forward``).

    Parameters, as PyTorch's: ``in_proj_weight`` (3E, E) stacks W^Q, W^K, W^V when keys and
    values have E features; with ``kdim``/``vdim`` ≠ E they are ``q_proj_weight`` (E, E),
    ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim). ``in_proj_bias`` (3E,) and
    ``out_proj`` (a Linear E → E) with ``bias``; ``add_bias_kv`` learns ``bias_k``/``bias_v``
    (1, 1, E), one extra key and value; ``add_zero_attn`` appends a key and value of zeros.
    Initialisation as PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal
    ``bias_k``/``bias_v``, ``out_proj.weight`` a Linear's default.

    ``forward(query, key, value)``: (L, N, E), (S, N, kdim), (S, N, vdim), or (N, L, E) ... with
    ``batch_first``, or unbatched (L, E) ...; returns the output of the query's shape and the
    attention weights (N, L, S) averaged over heads (``average_attn_weights=False``: (N, h, L,
    S)) when ``need_weights``, else None. ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S)
    or (N·h, L, S): bool (True: the key takes no part) or float (added to the scores).
    ``dropout`` drops attention weights in training.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                "MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(
                f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        factory = {"dtype": dtype, "device": device}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **factory))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal
        ``bias_k`` and ``bias_v``."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batch_first = self.batch_first and query.ndim == 3
        if batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        output, weights = multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        return (output.transpose(0, 1) if batch_first else output), weights
