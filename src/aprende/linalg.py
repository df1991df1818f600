"""``aprende.linalg``: PyTorch's ``torch.linalg`` namespace (norms, the vector product),
re-exported from the ops."""

from aprende.ops.norm import linalg_norm as norm
from aprende.ops.norm import matrix_norm, vector_norm
from aprende.ops.products import linalg_cross as cross

__all__ = ["cross", "matrix_norm", "norm", "vector_norm"]
