"""Inverses, determinants and linear systems of square matrices: ``inv``, ``det``, ``slogdet``,
``logdet``, ``solve``, ``matrix_power``, as ``torch.linalg``'s (batched over leading dims).

Each node is the LAPACK routine NumPy (or CuPy) calls, with its derivative written beside it;
the derivatives all come from d(A⁻¹) = −A⁻¹ dA A⁻¹ and d(det A) = det A · tr(A⁻¹ dA).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module, is_floating

TENSOR_METHODS = ("det", "inverse", "logdet", "slogdet", "matrix_power")

#: What ``slogdet`` returns, as ``torch.return_types.linalg_slogdet``.
SignLogAbsDet = namedtuple("SignLogAbsDet", ["sign", "logabsdet"])

_TORCH_DTYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                      "uint8": "Byte", "bool": "Bool", "float16": "Half"}  # fmt: skip


class LinAlgError(RuntimeError):
    """A matrix the computation cannot go through: singular (``inv``, ``solve``) or not
    positive-definite (``cholesky``); ``torch.linalg.LinAlgError``, a RuntimeError."""


def check_floating(A: Tensor, op: str) -> None:  # noqa: N803 - PyTorch's name
    """PyTorch's dtype rule for linalg functions: float32 or float64."""
    if not is_floating(A.dtype):
        kind = _TORCH_DTYPE_NAMES.get(str(A.dtype), str(A.dtype))
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {kind}"
        )
    if A.dtype == np.float16:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")


def _check_dims(A: Tensor, op: str, square: bool = False) -> None:  # noqa: N803
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )


def check_matrices(A: Tensor, op: str) -> None:  # noqa: N803 - PyTorch's name
    """PyTorch's checks on the input of a linalg function: at least 2-d, float32/float64."""
    _check_dims(A, op)
    check_floating(A, op)


def check_square(A: Tensor, op: str) -> None:  # noqa: N803 - PyTorch's name
    """``check_matrices`` and square: (*, n, n)."""
    _check_dims(A, op, square=True)
    check_floating(A, op)


def _singular(op: str) -> LinAlgError:
    return LinAlgError(
        f"{op}: the input matrix is singular (an exact zero pivot in its LU factorization), "
        "so the computation could not be completed"
    )


def _inverse(a, op: str):
    xp = get_array_module(a)
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:  # CuPy raises NumPy's too
        raise _singular(op) from None


class Inverse(Function):
    """Y = A⁻¹; ∂L/∂A = −A⁻ᵀ G A⁻ᵀ = −Yᵀ G Yᵀ."""

    def forward(self, a):
        out = _inverse(a, "linalg.inv")
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (inverse,) = self.saved_tensors
        inverse_t = inverse.swapaxes(-1, -2)
        return (-(inverse_t @ grad @ inverse_t),)


def inv(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's name
    """A⁻¹ of each matrix of A (*, n, n); a singular matrix raises ``LinAlgError``.
    ∂L/∂A = −A⁻ᵀ G A⁻ᵀ."""
    check_square(A, "linalg.inv")
    return Inverse.apply(A)


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: the same as ``linalg.inv``."""
    return inv(input)


def _singular_as_identity(a, singular):
    """a with its singular matrices (``singular``: one bool per matrix) replaced by I, so a
    batched inverse goes through; the caller masks those entries afterwards."""
    xp = get_array_module(a)
    identity = xp.eye(a.shape[-1], dtype=a.dtype)
    return xp.where(singular[..., None, None], identity, a)


class Det(Function):
    """y = det A; ∂L/∂A = g · det A · A⁻ᵀ (the cofactor matrix), taken as 0 where det A is
    exactly 0, as PyTorch's (whose gradient there is 0, not the cofactors)."""

    def forward(self, a):
        out = get_array_module(a).linalg.det(a)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad):
        a, det = self.saved_tensors
        xp = get_array_module(grad)
        singular = det == 0
        inverse_t = xp.linalg.inv(_singular_as_identity(a, singular)).swapaxes(-1, -2)
        scale = xp.where(singular, 0, grad * det)[..., None, None]
        return (scale * inverse_t,)


def det(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's name
    """det A of each matrix of A (*, n, n), shape (*); ∂L/∂A = g · det A · A⁻ᵀ (0 for a
    matrix whose determinant is exactly 0, as PyTorch)."""
    check_square(A, "linalg.det")
    return Det.apply(A)


class LogAbsDet(Function):
    """y = log |det A|; ∂L/∂A = g · A⁻ᵀ (nan for a singular matrix, where PyTorch's has inf
    and nan)."""

    def forward(self, a, logabsdet=None):
        self.save_for_backward(a)
        return logabsdet

    def backward(self, grad):
        (a,) = self.saved_tensors
        xp = get_array_module(grad)
        try:
            inverse_t = xp.linalg.inv(a).swapaxes(-1, -2)
        except np.linalg.LinAlgError:  # CuPy raises NumPy's too
            singular = xp.linalg.det(a) == 0
            inverse_t = xp.linalg.inv(_singular_as_identity(a, singular)).swapaxes(-1, -2)
            inverse_t = xp.where(singular[..., None, None], xp.nan, inverse_t)
        return (grad[..., None, None] * inverse_t,)


def slogdet(A: Tensor) -> SignLogAbsDet:  # noqa: N803 - PyTorch's name
    """``(sign, logabsdet)`` with det A = sign · exp(logabsdet), each of shape (*): sign is
    ±1 (0 for a singular matrix, whose logabsdet is −inf), computed without overflow for
    large matrices. ∂logabsdet/∂A = A⁻ᵀ; sign carries no gradient."""
    check_square(A, "linalg.slogdet")
    sign, logabsdet = get_array_module(A.data).linalg.slogdet(A.data)
    return SignLogAbsDet(Tensor._make(sign, False), LogAbsDet.apply(A, logabsdet=logabsdet))


def logdet(input: Tensor) -> Tensor:
    """log det A of each matrix (*, n, n): nan where det A < 0, −inf where it is 0;
    logabsdet + log(sign) from ``slogdet``, whose gradient (A⁻ᵀ) it takes."""
    from aprende.ops.elementwise import log

    check_square(input, "logdet")
    sign, logabsdet = slogdet(input)
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = −inf, log(−1) = nan
        return logabsdet + log(sign)


class Solve(Function):
    """X = A⁻¹B for A (*, n, n) and B (*, n, k), batch dims broadcast;
    ∂L/∂B = A⁻ᵀ G, ∂L/∂A = −(∂L/∂B) Xᵀ (each summed back over its broadcast dims)."""

    def forward(self, a, b):
        xp = get_array_module(a)
        try:
            out = xp.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # CuPy raises NumPy's too
            raise _singular("linalg.solve") from None
        self.save_for_backward(a, out)
        self.b_shape = b.shape
        return out

    def backward(self, grad):
        a, out = self.saved_tensors
        grad_b = get_array_module(grad).linalg.solve(a.swapaxes(-1, -2), grad)
        grad_a = unbroadcast(-(grad_b @ out.swapaxes(-1, -2)), a.shape) if self.needs[0] else None
        return grad_a, unbroadcast(grad_b, self.b_shape) if self.needs[1] else None


def _is_vector_system(A: Tensor, B: Tensor) -> bool:  # noqa: N803 - PyTorch's names
    """PyTorch's rule: B is a (batch of) vector(s) when 1-d, or when shaped A.shape[:-1]."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803 - PyTorch's names
    """X with AX = B (``left=False``: XA = B) for A (*, n, n) and B (*, n, k), or B a vector
    (*, n) with X of B's shape; batch dims broadcast. A singular A raises ``LinAlgError``.
    ∂L/∂B = A⁻ᵀ G, ∂L/∂A = −A⁻ᵀ G Xᵀ; XA = B is solved as Aᵀ Xᵀ = Bᵀ."""
    check_square(A, "linalg.solve")
    check_floating(B, "linalg.solve")
    if B.ndim == 0:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{A.dtype} and B of type {B.dtype} instead"
        )
    vector = _is_vector_system(A, B)
    matrices = B.unsqueeze(-1) if vector else B
    rows = matrices.shape[-2] if left else matrices.shape[-1]
    try:
        np.broadcast_shapes(A.shape[:-2], matrices.shape[:-2])
        compatible = rows == A.shape[-1]
    except ValueError:
        compatible = False
    if not compatible:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {equation} "
            f"({A.shape[-2]}x{A.shape[-1]} and {matrices.shape[-2]}x{matrices.shape[-1]})"
        )
    if left:
        out = Solve.apply(A, matrices)
    else:
        out = Solve.apply(A.mT, matrices.mT).mT
    return out.squeeze(-1) if vector else out


class IdentityPower(Function):
    """Y = A⁰ = I, shaped as A; ∂L/∂A = 0 (as PyTorch's, a zero gradient rather than none)."""

    def forward(self, a):
        self.shape = a.shape
        xp = get_array_module(a)
        return xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()

    def backward(self, grad):
        return (get_array_module(grad).zeros(self.shape, dtype=grad.dtype),)


def matrix_power(A: Tensor, n: int) -> Tensor:  # noqa: N803 - PyTorch's name
    """Aⁿ of each matrix of A (*, m, m) for an integer n: I for n = 0, A·A·…·A by repeated
    squaring for n > 0, (A⁻¹)^|n| for n < 0 (floating A only). A composition of ``matmul``
    and ``inv``, whose gradients it takes."""
    from aprende.ops.linalg import matmul

    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(
            f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}"
        )
    _check_dims(A, "linalg.matrix_power", square=True)
    if n == 0:
        return IdentityPower.apply(A)
    base = inv(A) if n < 0 else A  # base = A^(2^k) at binary digit k of |n|
    result = None
    for k, digit in enumerate(reversed(bin(abs(int(n)))[2:])):
        if k:
            base = matmul(base, base)
        if digit == "1":
            result = base if result is None else matmul(result, base)
    return result
