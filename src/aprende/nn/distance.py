"""Distances as modules: ``CosineSimilarity`` and ``PairwiseDistance``, as ``torch.nn``."""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class CosineSimilarity(Module):
    """cos(x₁, x₂) = Σ (x₁ / max(‖x₁‖, ε)) · (x₂ / max(‖x₂‖, ε)) along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """d(x₁, x₂) = ‖x₁ − x₂ + ε‖_p along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
