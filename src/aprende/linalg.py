"""``aprende.linalg``: PyTorch's ``torch.linalg`` namespace (norms, the vector product,
inverses and solves, decompositions), re-exported from the ops."""

from aprende.ops.decompositions import cholesky, eigh, eigvalsh, pinv, qr, svd, svdvals
from aprende.ops.norm import linalg_norm as norm
from aprende.ops.norm import matrix_norm, vector_norm
from aprende.ops.products import linalg_cross as cross
from aprende.ops.solve import LinAlgError, det, inv, matrix_power, slogdet, solve

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_norm",
    "matrix_power",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vector_norm",
]
