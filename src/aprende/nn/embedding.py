"""Embeddings: a lookup table that maps integer ids (words, items, classes) to learnt vectors."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.autograd import Function, no_grad
from aprende.backend import get_array_module
from aprende.creation import empty
from aprende.nn import init
from aprende.nn.module import Module, Parameter
from aprende.ops._checks import check_tensor
from aprende.ops.scatter import INDEX_DTYPES


class EmbeddingLookup(Function):
    """out[..., :] = W[i[...], :]: row i of the table for each id. ∂L/∂W: each output row's
    gradient added to the row it was read from (repeated ids summing); the row
    ``padding_idx`` gets none. Equals ``weight.index_select(0, i.flatten())`` reshaped."""

    def forward(self, indices, weight, padding_idx=None):
        self.save_for_backward(indices)
        self.shape, self.padding_idx = weight.shape, padding_idx
        return weight[indices]

    def backward(self, grad):
        (indices,) = self.saved_tensors
        xp = get_array_module(grad)
        full = xp.zeros(self.shape, dtype=grad.dtype)
        xp.add.at(full, indices.reshape(-1), grad.reshape(-1, self.shape[1]))
        if self.padding_idx is not None:
            full[self.padding_idx] = 0
        return None, full


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a row number (a negative one counts from the end), checked."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"padding_idx must be within the number of embeddings [{-num_embeddings}, "
            f"{num_embeddings}), got {padding_idx}"
        )
    return padding_idx % num_embeddings


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
) -> Tensor:
    """The rows of ``weight`` (num_embeddings, embedding_dim) at the ids ``input`` (any shape,
    int64 or int32): output shape ``input.shape + (embedding_dim,)``. The row ``padding_idx``
    receives no gradient. ``max_norm`` (renormalising rows in place) is not supported."""
    op = "embedding"
    if max_norm is not None:
        raise NotImplementedError(f"{op}: max_norm is not supported, got max_norm={max_norm}")
    check_tensor(input, "input", op)
    if input.dtype not in INDEX_DTYPES:
        raise RuntimeError(
            f"{op}: expected indices of dtype int64 or int32, got {input.dtype} "
            "(convert them with .long())"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: expected a 2-D weight, got shape {tuple(weight.shape)}")
    size = weight.shape[0]
    if input.numel():
        low, high = int(input.data.min()), int(input.data.max())
        if low < 0 or high >= size:
            raise IndexError(
                f"{op}: index {low if low < 0 else high} is out of range for a table of "
                f"{size} embeddings"
            )
    return EmbeddingLookup.apply(input, weight, padding_idx=_padding_index(padding_idx, size))


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``: ``Embedding(n, d)(i)``
    is row i of ``weight`` (n, d) for each id in i, i.e. one-hot(i) · W without the product.

    ``weight`` starts standard normal N(0, 1), as in PyTorch; the row ``padding_idx`` starts
    at zero and gets no gradient, so it stays zero in training (an id for padding).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError(
                "Embedding: max_norm, scale_grad_by_freq and sparse are not supported, got "
                f"max_norm={max_norm}, scale_grad_by_freq={scale_grad_by_freq}, sparse={sparse}"
            )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            weight = empty(num_embeddings, embedding_dim, dtype=dtype, device=device)
            self.weight = Parameter(weight, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: expected _weight of shape {(num_embeddings, embedding_dim)}, "
                    f"got {tuple(_weight.shape)}"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Draw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding whose table is ``embeddings`` (2-D), not trained when ``freeze``."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embeddings parameter is expected to be 2-dimensional, got shape "
                f"{tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, _weight=embeddings, _freeze=freeze)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
