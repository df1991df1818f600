"""``aprende.linalg``: PyTorch's ``torch.linalg`` namespace (norms), re-exported from the ops."""

from aprende.ops.norm import linalg_norm as norm
from aprende.ops.norm import matrix_norm, vector_norm

__all__ = ["matrix_norm", "norm", "vector_norm"]
