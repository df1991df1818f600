"""Matrix decompositions: ``cholesky``, ``qr``, ``eigh`` / ``eigvalsh``, ``svd`` / ``svdvals``,
and the pseudo-inverse built on them (``pinv``), as ``torch.linalg``'s (batched over leading
dims, float32/float64).

A decomposition is computed once, by the LAPACK routine NumPy (or CuPy) calls, and each of its
outputs is a node of its own (``FactorOutput``). The derivative of a decomposition is linear in
the gradients of its outputs, so each output's node sends back the derivative with its own
gradient and zeros for the others, and the engine's sum over paths gives the full one. The
derivatives are PyTorch's (FunctionsManual.cpp), formula by formula.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops.solve import LinAlgError, check_matrices, check_square

TENSOR_METHODS = ("pinverse",)

#: What ``qr`` returns, as ``torch.return_types.linalg_qr``.
QR = namedtuple("QR", ["Q", "R"])
#: What ``eigh`` returns, as ``torch.return_types.linalg_eigh``.
Eigh = namedtuple("Eigh", ["eigenvalues", "eigenvectors"])
#: What ``svd`` returns, as ``torch.return_types.linalg_svd``.
SVD = namedtuple("SVD", ["U", "S", "Vh"])


class FactorOutput(Function):
    """Output ``index`` of a decomposition A → (F₀, F₁, …) computed beforehand (``factors``):
    ∂L/∂A = ``vjp(*factors, gradients)`` with this output's gradient in ``gradients`` and
    None (zero) for the others. The node saves the factors and hands out a copy, so an output
    changed in place afterwards leaves every gradient as it was (where PyTorch, which saves
    the outputs themselves, raises)."""

    def forward(self, a, factors=(), index=0, vjp=None):
        self.save_for_backward(*factors)
        self.index, self.vjp = index, vjp
        return factors[index].copy()

    def backward(self, grad):
        gradients = [None] * len(self.saved_tensors)
        gradients[self.index] = grad
        return (self.vjp(*self.saved_tensors, gradients),)


def _outputs(A: Tensor, factors: tuple, vjp, indices: tuple) -> list:  # noqa: N803
    return [FactorOutput.apply(A, factors=factors, index=i, vjp=vjp) for i in indices]


def _mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return x.swapaxes(-1, -2)


# ---------------------------------------------------------------------------------------------
# Cholesky
# ---------------------------------------------------------------------------------------------


def _cholesky_vjp(lower, gradients):
    """∂L/∂A = L⁻ᵀ Φ L⁻¹ with Φ = ½(P + tril(P, −1)ᵀ), P = tril(Lᵀ ∂L/∂L): symmetric, as
    PyTorch's (A is taken as symmetric; only its lower triangle is read)."""
    xp = get_array_module(lower)
    (grad,) = gradients
    product = xp.tril(_mT(lower) @ grad)
    phi = 0.5 * (product + _mT(xp.tril(product, -1)))
    lower_inverse = xp.linalg.inv(lower)
    return _mT(lower_inverse) @ phi @ lower_inverse


def _upper_cholesky_vjp(upper, gradients):
    """The derivative through U = Lᵀ: ``_cholesky_vjp`` with L = Uᵀ and G_L = G_Uᵀ."""
    return _cholesky_vjp(_mT(upper), [_mT(gradients[0])])


def _not_positive_definite(a) -> LinAlgError:
    """The error for the first matrix of ``a`` that is not positive-definite, naming the
    order of its first leading minor that is not (they fail from one order on: bisection)."""
    xp = get_array_module(a)
    matrices = a.reshape((-1,) + a.shape[-2:])

    def factors(matrix, order: int) -> bool:
        try:
            xp.linalg.cholesky(matrix[:order, :order])
        except np.linalg.LinAlgError:  # CuPy raises NumPy's too
            return False
        return True

    batch = next(i for i, m in enumerate(matrices) if not factors(m, m.shape[-1]))
    good, bad = 0, matrices.shape[-1]
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if factors(matrices[batch], middle) else (good, middle)
    where = f"(Batch element {batch}): " if a.ndim > 2 else ""
    return LinAlgError(
        f"linalg.cholesky: {where}The factorization could not be completed because the input "
        f"is not positive-definite (the leading minor of order {bad} is not positive-definite)."
    )


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:  # noqa: N803 - PyTorch's name
    """L, lower triangular with a positive diagonal, such that A = L Lᵀ, for each symmetric
    positive-definite matrix of A (*, n, n) (its lower triangle is read); Lᵀ with
    ``upper=True``. A matrix that is not positive-definite raises ``LinAlgError``.
    ∂L/∂A = L⁻ᵀ Φ(Lᵀ G) L⁻¹, Φ(P) = ½(tril(P) + tril(P, −1)ᵀ)."""
    check_square(A, "linalg.cholesky")
    xp = get_array_module(A.data)
    try:
        lower = xp.linalg.cholesky(A.data)
    except np.linalg.LinAlgError:  # CuPy raises NumPy's too
        raise _not_positive_definite(A.data) from None
    if upper:
        return FactorOutput.apply(A, factors=(_mT(lower),), vjp=_upper_cholesky_vjp)
    return FactorOutput.apply(A, factors=(lower,), vjp=_cholesky_vjp)


# ---------------------------------------------------------------------------------------------
# QR
# ---------------------------------------------------------------------------------------------


def _qr_vjp(q, r, gradients):
    """∂L/∂A for A = QR (*, m, n); m ≥ n: ``_tall_qr_vjp``. For m < n, A = [X | Y] with X
    square: X = QU, Y = QV, R = [U | V], and V = QᵀY makes G_V reach Q and Y:
    ∂L/∂Y = Q G_V, ∂L/∂X = ``_tall_qr_vjp`` with G_Q + Y G_Vᵀ and G_U."""
    rows, columns = q.shape[-2], r.shape[-1]
    if r.shape[-2] > r.shape[-1]:  # mode="complete" with m > n: R is m × n
        raise RuntimeError(
            "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
        )
    grad_q, grad_r = gradients
    if rows >= columns:
        return _tall_qr_vjp(q, r, grad_q, grad_r)
    xp = get_array_module(q)
    square, rest = r[..., :rows], r[..., rows:]
    grad_rest = xp.zeros_like(rest) if grad_r is None else grad_r[..., rows:]
    grad_square = None if grad_r is None else grad_r[..., :rows]
    through_rest = (q @ rest) @ _mT(grad_rest)
    grad_q = through_rest if grad_q is None else grad_q + through_rest
    grad_x = _tall_qr_vjp(q, square, grad_q, grad_square)
    return xp.concatenate([grad_x, q @ grad_rest], axis=-1)


def _tall_qr_vjp(q, r, grad_q, grad_r):
    """For A (m, n) with m ≥ n, reduced Q (m, n), R (n, n), PyTorch's
    ∂L/∂A = (G_Q + Q·S(triu(G_R Rᵀ − Qᵀ G_Q))) R⁻ᵀ with S(X) = X + Xᵀ − diag(X)."""
    xp = get_array_module(q)
    columns = r.shape[-1]
    inner = xp.zeros(r.shape[:-2] + (columns, columns), dtype=q.dtype)
    if grad_r is not None:
        inner = inner + grad_r @ _mT(r)
    if grad_q is not None:
        inner = inner - _mT(q) @ grad_q
    upper = xp.triu(inner)
    symmetric = upper + _mT(upper)
    symmetric = symmetric - 0.5 * (xp.eye(columns, dtype=q.dtype) * symmetric)
    total = q @ symmetric + (grad_q if grad_q is not None else 0)
    return _mT(xp.linalg.solve(r, _mT(total)))


def _r_only_vjp(r, gradients):
    raise RuntimeError(
        "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
        "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
        "linalg.qr."
    )


def qr(A: Tensor, mode: str = "reduced") -> QR:  # noqa: N803 - PyTorch's name
    """``(Q, R)`` with A = QR, Q orthonormal columns and R upper triangular, for each matrix of
    A (*, m, n), k = min(m, n): "reduced" Q (*, m, k), R (*, k, n); "complete" Q (*, m, m),
    R (*, m, n); "r" R only (Q empty). Householder's signs, as LAPACK (R's diagonal may be
    negative). Differentiable except for ``mode="complete"`` with m > n, and ``mode="r"``;
    for m ≥ n, ∂L/∂A = (G_Q + Q·S(triu(G_R Rᵀ − Qᵀ G_Q))) R⁻ᵀ, S(X) = X + Xᵀ − diag(X)
    (m < n: ``_qr_vjp``)."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    check_matrices(A, "linalg.qr")
    xp = get_array_module(A.data)
    if mode == "r":
        r = xp.linalg.qr(A.data, mode="r")
        empty = Tensor._make(xp.zeros((0,), dtype=A.dtype), False)
        return QR(empty, FactorOutput.apply(A, factors=(r,), vjp=_r_only_vjp))
    q, r = xp.linalg.qr(A.data, mode=mode)
    return QR(*_outputs(A, (q, r), _qr_vjp, (0, 1)))


# ---------------------------------------------------------------------------------------------
# Symmetric eigendecomposition
# ---------------------------------------------------------------------------------------------


def _eigh_vjp(eigenvalues, eigenvectors, gradients):
    """∂L/∂A = V (diag(G_λ) + skew(Vᵀ G_V) / E) Vᵀ with skew(X) = ½(X − Xᵀ) and
    E_ij = λ_j − λ_i (1 on the diagonal): infinite for repeated eigenvalues, as PyTorch's."""
    xp = get_array_module(eigenvectors)
    grad_values, grad_vectors = gradients
    v = eigenvectors
    middle = xp.zeros_like(v)
    if grad_vectors is not None:
        projected = _mT(v) @ grad_vectors
        skew = 0.5 * (projected - _mT(projected))
        gaps = eigenvalues[..., None, :] - eigenvalues[..., :, None]
        gaps = gaps + xp.eye(gaps.shape[-1], dtype=gaps.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            middle = skew / gaps
    if grad_values is not None:
        middle = middle + grad_values[..., None, :] * xp.eye(v.shape[-1], dtype=v.dtype)
    return v @ middle @ _mT(v)


def _check_symmetric_input(A: Tensor, UPLO: str, op: str) -> None:  # noqa: N803
    """PyTorch's checks for eigh: UPLO "L" or "U", square float32/float64 matrices (other
    dtypes have no kernel: NotImplementedError)."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"{op}: not implemented for {A.dtype} tensors")
    check_square(A, op)


def eigh(A: Tensor, UPLO: str = "L") -> Eigh:  # noqa: N803 - PyTorch's names
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix of A (*, n, n), read from its
    lower (``UPLO="L"``) or upper triangle: A = V diag(λ) Vᵀ, λ (*, n) ascending, V (*, n, n)
    orthonormal columns (each column's sign is arbitrary, as in every LAPACK-based library).
    ∂L/∂A = V (diag(G_λ) + ½(VᵀG_V − G_VᵀV) / (λ_j − λ_i)) Vᵀ: defined for distinct
    eigenvalues, and for functions that do not depend on the columns' signs."""
    _check_symmetric_input(A, UPLO, "linalg.eigh")
    values, vectors = get_array_module(A.data).linalg.eigh(A.data, UPLO=UPLO)
    return Eigh(*_outputs(A, (values, vectors), _eigh_vjp, (0, 1)))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803 - PyTorch's names
    """The eigenvalues of each symmetric matrix of A (*, n, n), ascending, shape (*, n);
    ∂L/∂A = V diag(G) Vᵀ."""
    _check_symmetric_input(A, UPLO, "linalg.eigvalsh")
    values, vectors = get_array_module(A.data).linalg.eigh(A.data, UPLO=UPLO)
    return FactorOutput.apply(A, factors=(values, vectors), index=0, vjp=_eigh_vjp)


# ---------------------------------------------------------------------------------------------
# Singular value decomposition
# ---------------------------------------------------------------------------------------------


def _svd_vjp(u, s, vh, gradients):
    """PyTorch's ``svd_backward`` on the first k = min(m, n) columns of U and rows of Vh:
    ∂L/∂A = U [(skew(UᵀG_U) S + S skew(Vh G_Vhᵀ)) / E + diag(G_S)] Vh, skew(X) = X − Xᵀ,
    E_ij = σ_j² − σ_i² (1 on the diagonal), plus (I − UUᵀ) G_U S⁻¹ Vh when m > n or
    U S⁻¹ G_Vh (I − VVᵀ) when m < n."""
    xp = get_array_module(s)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    grad_u, grad_s, grad_vh = gradients
    if grad_u is not None:
        grad_u = grad_u[..., :k]
    if grad_vh is not None:
        grad_vh = grad_vh[..., :k, :]
    rows, columns = u.shape[-2], vh.shape[-1]
    middle = xp.zeros(s.shape + (k,), dtype=s.dtype)
    squares = s * s
    gaps = squares[..., None, :] - squares[..., :, None] + xp.eye(k, dtype=s.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):  # repeated σ: inf, as PyTorch
        if grad_u is not None:
            projected = _mT(u) @ grad_u
            middle = middle + (projected - _mT(projected)) * s[..., None, :] / gaps
        if grad_vh is not None:
            projected = vh @ _mT(grad_vh)
            middle = middle + s[..., :, None] * (projected - _mT(projected)) / gaps
        if grad_s is not None:
            middle = middle + grad_s[..., None, :] * xp.eye(k, dtype=s.dtype)
        if rows > columns and grad_u is not None:
            scaled = grad_u / s[..., None, :]
            return (u @ middle + scaled - u @ (_mT(u) @ scaled)) @ vh
        if rows < columns and grad_vh is not None:
            scaled = grad_vh / s[..., :, None]
            return u @ (middle @ vh + scaled - (scaled @ _mT(vh)) @ vh)
    return u @ middle @ vh


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SVD:  # noqa: N803
    """``(U, S, Vh)`` with A = U diag(S) Vh for each matrix of A (*, m, n), k = min(m, n):
    S (*, k) descending and non-negative; U (*, m, m) and Vh (*, n, n) orthogonal
    (``full_matrices=True``, the default) or U (*, m, k), Vh (*, k, n). The columns of U and
    rows of Vh are unique only up to sign (LAPACK's choice here). ∂L/∂A is PyTorch's
    (``_svd_vjp``): it reads the first k columns of U and rows of Vh, and is defined for
    distinct singular values and sign-independent functions. ``driver`` (CUDA only in
    PyTorch) is accepted and ignored."""
    check_matrices(A, "linalg.svd")
    u, s, vh = get_array_module(A.data).linalg.svd(A.data, full_matrices=full_matrices)
    return SVD(*_outputs(A, (u, s, vh), _svd_vjp, (0, 1, 2)))


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:  # noqa: N803 - PyTorch's name
    """The singular values of each matrix of A (*, m, n), descending, shape (*, min(m, n));
    ∂L/∂A = U diag(G) Vh."""
    check_matrices(A, "linalg.svdvals")
    u, s, vh = get_array_module(A.data).linalg.svd(A.data, full_matrices=False)
    return FactorOutput.apply(A, factors=(u, s, vh), index=1, vjp=_svd_vjp)


# ---------------------------------------------------------------------------------------------
# Pseudo-inverse
# ---------------------------------------------------------------------------------------------


def _tolerance(values, largest, atol, rtol, size: int):
    """max(atol, rtol · largest), PyTorch's default rtol: eps · max(m, n) unless atol > 0."""
    xp = get_array_module(values)
    if rtol is None:
        positive_atol = atol is not None and bool(xp.all(_raw(atol) > 0))
        rtol = 0.0 if positive_atol else float(np.finfo(values.dtype).eps) * size
    return xp.maximum(_raw(0.0 if atol is None else atol), _raw(rtol) * largest)


def _raw(value):
    """A tolerance as an array or a number, with a dim of its own to meet the values' dim."""
    return value.data[..., None] if isinstance(value, Tensor) else value


def _reciprocal_above(values, magnitudes, tolerance):
    """1/λ where |λ| > tolerance, else 0."""
    xp = get_array_module(values)
    kept = magnitudes > tolerance
    return xp.where(kept, 1 / xp.where(kept, values, 1), 0).astype(values.dtype)


class PseudoInverse(Function):
    """A⁺ = V diag(1/σ) Uᵀ over the σ above the tolerance (``eigh`` and |λ| for symmetric A).

    ∂L/∂A, PyTorch's ``pinv_backward`` (P = A⁺, K = P Gᵀ, for m > n):
    −(K P)ᵀ + (Gᵀ − A K) P Pᵀ + Pᵀ K − Pᵀ K P A; for m ≤ n, with K = Gᵀ P:
    −(P K)ᵀ + K Pᵀ − A P K Pᵀ + Pᵀ P (Gᵀ − K A). Exact where the rank does not change."""

    def forward(self, a, atol=None, rtol=None, hermitian=False):
        xp = get_array_module(a)
        size = max(a.shape[-2], a.shape[-1])
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            magnitudes = xp.abs(values)
            # λ ascends, so the largest |λ| is at one end (an empty slice for 0 × 0 matrices)
            largest = xp.maximum(magnitudes[..., :1], magnitudes[..., -1:])
            tolerance = _tolerance(values, largest, atol, rtol, size)
            inverse = _reciprocal_above(values, magnitudes, tolerance)
            out = (vectors * inverse[..., None, :]) @ _mT(vectors)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            inverse = _reciprocal_above(s, s, _tolerance(s, s[..., :1], atol, rtol, size))
            out = (_mT(vh) * inverse[..., None, :]) @ _mT(u)
        self.save_for_backward(a, out)
        return out

    def backward(self, grad):
        a, p = self.saved_tensors
        grad_t, p_t = _mT(grad), _mT(p)
        if a.shape[-2] > a.shape[-1]:
            k = p @ grad_t
            p_t_k = p_t @ k
            return (-_mT(k @ p) + (grad_t - a @ k) @ p @ p_t + p_t_k - p_t_k @ p @ a,)
        k = grad_t @ p
        k_p_t = k @ p_t
        return (-_mT(p @ k) + k_p_t - (a @ p) @ k_p_t + (p_t @ p) @ (grad_t - k @ a),)


def pinv(
    A: Tensor,  # noqa: N803 - PyTorch's name
    *,
    atol: float | Tensor | None = None,
    rtol: float | Tensor | None = None,
    hermitian: bool = False,
) -> Tensor:
    """The Moore–Penrose pseudo-inverse A⁺ = V diag(1/σ) Uᵀ of each matrix of A (*, m, n),
    shape (*, n, m), with 1/σ taken as 0 where σ ≤ max(atol, rtol · σ_max) (rtol defaults to
    eps · max(m, n), or 0 when atol > 0); ``hermitian=True`` reads the lower triangle of a
    symmetric A and uses ``eigh`` (|λ| for σ). ∂L/∂A is PyTorch's (``PseudoInverse``)."""
    check_matrices(A, "linalg.pinv")
    return PseudoInverse.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv(input, rtol=rcond)``."""
    return pinv(input, rtol=rcond)
