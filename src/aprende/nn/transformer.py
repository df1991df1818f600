"""The Transformer (Vaswani et al., 2017): encoder and decoder layers of multi-head attention
and a position-wise feed-forward network, each sublayer wrapped in a residual connection and
layer normalisation; stacks of them, and the encoder-decoder model, as ``torch.nn``."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from aprende._tensor import Tensor
from aprende.backend import get_array_module
from aprende.creation import full
from aprende.nn import functional as F
from aprende.nn import init
from aprende.nn.attention import MultiheadAttention
from aprende.nn.container import ModuleList
from aprende.nn.dropout import Dropout
from aprende.nn.linear import Linear
from aprende.nn.module import Module
from aprende.nn.normalization import LayerNorm


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _feed_forward(layer: Module, x: Tensor, dropout: Dropout) -> Tensor:
    """FFN(x) = dropout(W₂ dropout(f(W₁x + b₁)) + b₂), the position-wise network."""
    return dropout(layer.linear2(layer.dropout(layer.activation(layer.linear1(x)))))


def _attend(attention: MultiheadAttention, x, memory, mask, padding, is_causal, dropout):
    """dropout(MHA(x, memory, memory)), the weights not kept."""
    out = attention(
        x,
        memory,
        memory,
        attn_mask=mask,
        key_padding_mask=padding,
        need_weights=False,
        is_causal=is_causal,
    )[0]
    return dropout(out)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each with a residual connection:

        post-norm (default): x ← LN₁(x + SA(x)),     x ← LN₂(x + FFN(x))
        ``norm_first``:      x ← x + SA(LN₁(x)),     x ← x + FFN(LN₂(x))

    SA = dropout(MultiheadAttention(x, x, x)) (``self_attn``, ``nhead`` heads), FFN(x) =
    dropout(W₂ dropout(f(W₁x + b₁)) + b₂) (``linear1`` d_model → ``dim_feedforward``,
    ``linear2`` back), f = ``activation`` ("relu", "gelu" or a callable), ``norm1``/``norm2``
    LayerNorms with ``layer_norm_eps``; ``bias=False`` drops every bias of the linear and
    normalisation layers. Input (S, N, d_model), (N, S, d_model) with ``batch_first``, or
    (S, d_model); output the same shape. ``src_mask`` (S, S) or (N·nhead, S, S) and
    ``src_key_padding_mask`` (N, S) as in ``MultiheadAttention``; ``is_causal`` is a hint
    that ``src_mask`` is the causal mask.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = src
        mask, padding = src_mask, src_key_padding_mask
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), mask, padding, is_causal)
            return x + _feed_forward(self, self.norm2(x), self.dropout2)
        x = self.norm1(x + self._self_attention(x, mask, padding, is_causal))
        return self.norm2(x + _feed_forward(self, x, self.dropout2))

    def _self_attention(self, x, mask, padding, is_causal) -> Tensor:
        return _attend(self.self_attn, x, x, mask, padding, is_causal, self.dropout1)


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's output (``memory``), then a
    feed-forward network, each with a residual connection:

        post-norm (default): x ← LN₁(x + SA(x)),  x ← LN₂(x + CA(x, m)),  x ← LN₃(x + FFN(x))
        ``norm_first``:      x ← x + SA(LN₁(x)),  x ← x + CA(LN₂(x), m),  x ← x + FFN(LN₃(x))

    SA is ``self_attn``, CA ``multihead_attn`` (queries from x, keys and values from m), FFN
    and the arguments as in ``TransformerEncoderLayer``. ``tgt`` (T, N, d_model), ``memory``
    (S, N, d_model) (batch first with ``batch_first``), output as ``tgt``; ``tgt_mask`` (T, T)
    and ``memory_mask`` (T, S), with their key-padding masks (N, T) and (N, S) and causal hints.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, **factory}
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        own = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        cross = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), *own)
            x = x + self._cross_attention(self.norm2(x), memory, *cross)
            return x + _feed_forward(self, self.norm3(x), self.dropout3)
        x = self.norm1(x + self._self_attention(x, *own))
        x = self.norm2(x + self._cross_attention(x, memory, *cross))
        return self.norm3(x + _feed_forward(self, x, self.dropout3))

    def _self_attention(self, x, mask, padding, is_causal) -> Tensor:
        return _attend(self.self_attn, x, x, mask, padding, is_causal, self.dropout1)

    def _cross_attention(self, x, memory, mask, padding, is_causal) -> Tensor:
        return _attend(self.multihead_attn, x, memory, mask, padding, is_causal, self.dropout2)


def _clones(layer: Module, num_layers: int) -> ModuleList:
    """``num_layers`` independent deep copies of ``layer`` (each its own parameters)."""
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _sequence_length(x: Tensor, batch_first: bool) -> int:
    return x.shape[1] if batch_first and x.ndim == 3 else x.shape[0]


def _is_causal(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """The causal hint: as given, or (None) whether ``mask`` equals the causal mask."""
    if is_causal is not None:
        return is_causal
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    causal = Transformer.generate_square_subsequent_mask(size, mask.device, mask.dtype)
    xp = get_array_module(mask.data)
    return bool(xp.array_equal(mask.data, causal.data))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch compatibility and
    change nothing: padded positions are computed as the others (PyTorch's nested-tensor fast
    path, taken in evaluation without gradients, returns zeros there instead). ``is_causal``
    None detects whether ``mask`` is the causal mask."""

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _is_causal(mask, is_causal, _sequence_length(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, mask, src_key_padding_mask, is_causal=is_causal)
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn to ``tgt``, each attending
    to the same ``memory``, then ``norm`` if given. ``tgt_is_causal`` None detects whether
    ``tgt_mask`` is the causal mask."""

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _is_causal(tgt_mask, tgt_is_causal, _sequence_length(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """The encoder-decoder Transformer: ``memory = encoder(src)``, ``out = decoder(tgt,
    memory)``, with ``num_encoder_layers`` encoder and ``num_decoder_layers`` decoder layers
    (the arguments as in the layers), each stack followed by a LayerNorm (``encoder.norm``,
    ``decoder.norm``); ``custom_encoder``/``custom_decoder`` replace the stacks. Every
    parameter with more than one dimension starts Xavier-uniform, as PyTorch's.

    ``src`` (S, N, d_model), ``tgt`` (T, N, d_model) (batch first with ``batch_first``, or
    unbatched) -> (T, N, d_model); the masks as in the decoder and encoder layers.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        options = {
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            **factory,
        }
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def _reset_parameters(self) -> None:
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError(
                f"Transformer: the batch number of src and tgt must be equal, got src of shape "
                f"{tuple(src.shape)} and tgt of shape {tuple(tgt.shape)}"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"Transformer: the feature number of src and tgt must be equal to d_model "
                f"({self.d_model}), got src of shape {tuple(src.shape)} and tgt of shape "
                f"{tuple(tgt.shape)}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask (sz, sz): 0 on and below the diagonal (query i may attend to keys
        j ≤ i), −∞ above it; float32 unless ``dtype``."""
        return full((sz, sz), -np.inf, dtype=dtype, device=device).triu(diagonal=1)
