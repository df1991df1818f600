"""aprende.linalg's inverses, solves and decompositions against torch.linalg: values, dtypes,
shapes and the gradients of every input, row by row, in float64 and float32; batches,
broadcasting, empty matrices, singular and non-positive-definite inputs, and the errors
PyTorch raises.

Eigenvectors and singular vectors are unique only up to sign, so their rows compare
sign-independent functions of them (V diag(f(λ)) Vᵀ, U diag(S) Vh, U Vh); Q and R are compared
as they come, both libraries taking LAPACK's Householder signs.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import build_inputs, compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402

RNG = np.random.default_rng(0)
FLOAT32 = (1e-4, 1e-5)  # (rtol, atol): LAPACK in float32, through an inverse or a solve


def general(*shape):
    """Well-conditioned square matrices (*, n, n): random plus n·I."""
    n = shape[-1]
    return RNG.standard_normal(shape) + n * np.eye(n)


def symmetric(*shape):
    """Symmetric matrices with well-separated eigenvalues (distinct, so eigh's gradient exists)."""
    n = shape[-1]
    x = RNG.standard_normal(shape)
    return (x + np.swapaxes(x, -1, -2)) / 2 + np.diag(np.arange(n) * 2.0)


def positive_definite(*shape):
    """Symmetric positive-definite matrices X Xᵀ + n·I."""
    x = RNG.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def rectangular(*shape):
    return RNG.standard_normal(shape)


def _reconstruct_eigh(ns, a):
    values, vectors = ns.linalg.eigh(a)
    return (vectors * ns.sin(values).unsqueeze(-2)) @ vectors.mT


def _reconstruct_svd(ns, a, full_matrices=False):
    u, s, vh = ns.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    return (u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]


def _polar_svd(ns, a):
    u, s, vh = ns.linalg.svd(a, full_matrices=False)
    return u @ vh, s


# (name, op(ns, *inputs), inputs)
ROWS = [
    ("inv", lambda ns, a: ns.linalg.inv(a), [general(4, 4)]),
    ("inv-batched", lambda ns, a: ns.linalg.inv(a), [general(2, 3, 3, 3)]),
    ("inverse", lambda ns, a: ns.inverse(a), [general(3, 3)]),
    ("inverse-method", lambda ns, a: a.inverse(), [general(3, 3)]),
    ("inv-transposed", lambda ns, a: ns.linalg.inv(a.mT), [general(3, 3)]),
    ("det", lambda ns, a: ns.linalg.det(a), [general(4, 4)]),
    ("det-batched", lambda ns, a: ns.linalg.det(a), [general(2, 3, 3)]),
    ("det-top-level", lambda ns, a: ns.det(a), [general(2, 2)]),
    ("det-method", lambda ns, a: a.det(), [general(3, 3)]),
    ("det-1x1", lambda ns, a: ns.linalg.det(a), [general(1, 1)]),
    ("slogdet", lambda ns, a: ns.linalg.slogdet(a), [general(4, 4)]),
    ("slogdet-negative", lambda ns, a: ns.linalg.slogdet(-a), [general(3, 3)]),
    ("slogdet-batched", lambda ns, a: ns.linalg.slogdet(a), [general(2, 4, 4)]),
    ("slogdet-top-level", lambda ns, a: ns.slogdet(a), [general(3, 3)]),
    ("slogdet-method", lambda ns, a: a.slogdet(), [general(3, 3)]),
    ("logdet", lambda ns, a: ns.logdet(a), [positive_definite(3, 3)]),
    ("logdet-method-batched", lambda ns, a: a.logdet(), [positive_definite(2, 3, 3)]),
    ("solve-matrix", lambda ns, a, b: ns.linalg.solve(a, b), [general(3, 3), rectangular(3, 2)]),
    ("solve-vector", lambda ns, a, b: ns.linalg.solve(a, b), [general(3, 3), rectangular(3)]),
    (
        "solve-batch-of-vectors",
        lambda ns, a, b: ns.linalg.solve(a, b),
        [general(2, 3, 3), rectangular(2, 3)],
    ),
    (
        "solve-broadcast-a",
        lambda ns, a, b: ns.linalg.solve(a, b),
        [general(3, 3), rectangular(4, 3, 2)],
    ),
    (
        "solve-broadcast-both",
        lambda ns, a, b: ns.linalg.solve(a, b),
        [general(2, 1, 3, 3), rectangular(4, 3, 2)],
    ),
    (
        "solve-vector-broadcast",
        lambda ns, a, b: ns.linalg.solve(a, b),
        [general(2, 3, 3), rectangular(3)],
    ),
    (
        "solve-matrix-not-vector",
        lambda ns, a, b: ns.linalg.solve(a, b),
        [general(2, 3, 3), rectangular(3, 2)],
    ),
    (
        "solve-right",
        lambda ns, a, b: ns.linalg.solve(a, b, left=False),
        [general(3, 3), rectangular(4, 3)],
    ),
    (
        "solve-right-batched",
        lambda ns, a, b: ns.linalg.solve(a, b, left=False),
        [general(2, 3, 3), rectangular(1, 5, 3)],
    ),
    ("matrix_power-3", lambda ns, a: ns.linalg.matrix_power(a, 3), [rectangular(3, 3)]),
    ("matrix_power-6", lambda ns, a: ns.linalg.matrix_power(a, 6), [rectangular(2, 3, 3) / 2]),
    ("matrix_power-1", lambda ns, a: ns.linalg.matrix_power(a, 1), [rectangular(3, 3)]),
    ("matrix_power-0", lambda ns, a: ns.linalg.matrix_power(a, 0), [rectangular(2, 3, 3)]),
    ("matrix_power--2", lambda ns, a: ns.linalg.matrix_power(a, -2), [general(3, 3)]),
    ("matrix_power-top-level", lambda ns, a: ns.matrix_power(a, 5), [rectangular(3, 3) / 2]),
    ("matrix_power-method", lambda ns, a: a.matrix_power(-1), [general(3, 3)]),
    ("cholesky", lambda ns, a: ns.linalg.cholesky(a), [positive_definite(4, 4)]),
    ("cholesky-batched", lambda ns, a: ns.linalg.cholesky(a), [positive_definite(2, 3, 3)]),
    ("cholesky-upper", lambda ns, a: ns.linalg.cholesky(a, upper=True), [positive_definite(3, 3)]),
    ("qr-square", lambda ns, a: ns.linalg.qr(a), [rectangular(4, 4)]),
    ("qr-tall", lambda ns, a: ns.linalg.qr(a), [rectangular(5, 3)]),
    ("qr-batched", lambda ns, a: ns.linalg.qr(a), [rectangular(2, 4, 3)]),
    ("qr-complete-square", lambda ns, a: ns.linalg.qr(a, mode="complete"), [rectangular(3, 3)]),
    ("qr-R-only", lambda ns, a: ns.linalg.qr(a).R, [rectangular(4, 3)]),
    ("qr-wide", lambda ns, a: ns.linalg.qr(a), [rectangular(2, 3, 5)]),
    ("qr-wide-complete", lambda ns, a: ns.linalg.qr(a, mode="complete"), [rectangular(3, 4)]),
    ("qr-Q-only", lambda ns, a: ns.linalg.qr(a).Q, [rectangular(4, 3)]),
    ("eigvalsh-of-eigh", lambda ns, a: ns.linalg.eigh(a).eigenvalues, [symmetric(4, 4)]),
    ("eigh-reconstruct", _reconstruct_eigh, [symmetric(4, 4)]),
    ("eigh-batched", _reconstruct_eigh, [symmetric(2, 3, 3)]),
    ("eigh-upper", lambda ns, a: ns.linalg.eigh(a, UPLO="U").eigenvalues, [symmetric(3, 3)]),
    ("eigvalsh", lambda ns, a: ns.linalg.eigvalsh(a), [symmetric(2, 4, 4)]),
    ("eigvalsh-upper", lambda ns, a: ns.linalg.eigvalsh(a, UPLO="U"), [rectangular(3, 3)]),
    ("svdvals", lambda ns, a: ns.linalg.svdvals(a), [rectangular(4, 3)]),
    ("svdvals-wide-batched", lambda ns, a: ns.linalg.svdvals(a), [rectangular(2, 3, 5)]),
    ("svd-S", lambda ns, a: ns.linalg.svd(a).S, [rectangular(3, 4)]),
    ("svd-reconstruct-tall", _reconstruct_svd, [rectangular(5, 3)]),
    ("svd-reconstruct-wide", _reconstruct_svd, [rectangular(2, 3, 5)]),
    ("svd-full-reconstruct", lambda ns, a: _reconstruct_svd(ns, a, True), [rectangular(4, 3)]),
    ("svd-polar-tall", _polar_svd, [rectangular(5, 3)]),
    ("svd-polar-wide", _polar_svd, [rectangular(3, 5)]),
    ("svd-polar-square", _polar_svd, [rectangular(2, 4, 4)]),
    ("pinv-tall", lambda ns, a: ns.linalg.pinv(a), [rectangular(5, 3)]),
    ("pinv-wide-batched", lambda ns, a: ns.linalg.pinv(a), [rectangular(2, 3, 4)]),
    ("pinv-hermitian", lambda ns, a: ns.linalg.pinv(a, hermitian=True), [symmetric(4, 4)]),
    ("pinv-atol", lambda ns, a: ns.linalg.pinv(a, atol=0.5), [rectangular(4, 3)]),
    ("pinverse", lambda ns, a: ns.pinverse(a), [rectangular(4, 3)]),
    ("pinverse-method", lambda ns, a: a.pinverse(), [rectangular(3, 4)]),
]


def _ids(rows):
    return [row[0] for row in rows]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, arrays", ROWS, ids=_ids(ROWS))
def test_against_torch(name, op, arrays, dtype):
    tolerances = {} if dtype == "float64" else dict(zip(("rtol", "atol"), FLOAT32, strict=True))
    compare(op, arrays, dtype, **tolerances)


EMPTY = [
    ("inv-0x0", lambda ns, a: ns.linalg.inv(a), [np.zeros((0, 0))]),
    ("inv-empty-batch", lambda ns, a: ns.linalg.inv(a), [np.zeros((0, 3, 3))]),
    ("det-0x0", lambda ns, a: ns.linalg.det(a), [np.zeros((0, 0))]),
    ("det-batch-of-0x0", lambda ns, a: ns.linalg.det(a), [np.zeros((3, 0, 0))]),
    ("slogdet-0x0", lambda ns, a: ns.linalg.slogdet(a), [np.zeros((0, 0))]),
    ("solve-empty-b", lambda ns, a, b: ns.linalg.solve(a, b), [general(3, 3), np.zeros((3, 0))]),
    ("cholesky-0x0", lambda ns, a: ns.linalg.cholesky(a), [np.zeros((0, 0))]),
    ("eigvalsh-0x0", lambda ns, a: ns.linalg.eigvalsh(a), [np.zeros((0, 0))]),
    ("svdvals-empty-batch", lambda ns, a: ns.linalg.svdvals(a), [np.zeros((0, 3, 2))]),
    ("qr-empty-batch", lambda ns, a: ns.linalg.qr(a), [np.zeros((0, 3, 2))]),
]


@pytest.mark.parametrize("name, op, arrays", EMPTY, ids=_ids(EMPTY))
def test_empty_against_torch(name, op, arrays):
    compare(op, arrays)


SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
RANK_TWO = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])


@pytest.mark.parametrize("matrix", [SINGULAR, RANK_TWO, np.diag([1.0, 0.0])])
def test_det_of_a_singular_matrix_has_torch_gradient(matrix):
    """PyTorch's gradient of det is 0 at an exactly singular matrix (not the cofactors)."""
    compare(lambda ns, a: ns.linalg.det(a), [matrix])


def test_det_of_a_batch_with_one_singular_matrix():
    compare(lambda ns, a: ns.linalg.det(a), [np.stack([SINGULAR, general(2, 2)])])


def test_slogdet_and_logdet_of_a_singular_matrix():
    compare(lambda ns, a: ns.linalg.slogdet(a), [SINGULAR], grad=False)
    compare(lambda ns, a: ns.logdet(a), [SINGULAR], grad=False)
    compare(lambda ns, a: ns.logdet(a), [-positive_definite(3, 3)], grad=False)


def test_matrix_power_of_integers():
    compare(lambda ns, a: ns.linalg.matrix_power(a, 3), [RNG.integers(-3, 4, (3, 3))], "int64")
    compare(lambda ns, a: ns.linalg.matrix_power(a, 0), [RNG.integers(-3, 4, (3, 3))], "int64")


def test_linalg_error_is_a_runtime_error_named_as_torch():
    assert issubclass(aprende.linalg.LinAlgError, RuntimeError)
    assert aprende.linalg.LinAlgError.__name__ == torch.linalg.LinAlgError.__name__.lstrip("_")


def test_result_field_names_are_torch():
    a = general(3, 3)
    for op in ("slogdet", "qr", "eigh", "svd"):
        ours = getattr(aprende.linalg, op)(aprende.tensor(a))
        theirs = getattr(torch.linalg, op)(torch.tensor(a))
        assert len(ours) == len(theirs), op
        for i, field in enumerate(ours._fields):
            assert getattr(theirs, field) is theirs[i], (op, field)


def test_qr_r_mode_returns_an_empty_q():
    ours = aprende.linalg.qr(aprende.tensor(rectangular(4, 3)), mode="r")
    theirs = torch.linalg.qr(torch.tensor(rectangular(4, 3)), mode="r")
    assert tuple(ours.Q.shape) == tuple(theirs.Q.shape)
    assert tuple(ours.R.shape) == tuple(theirs.R.shape)


def test_qr_complete_tall_values():
    compare(lambda ns, a: ns.linalg.qr(a, mode="complete"), [rectangular(5, 3)], grad=False)


def test_svd_full_matrices_values():
    compare(lambda ns, a: ns.linalg.svd(a).S, [rectangular(2, 5, 3)], grad=False)


def _solve(ns, a, b):
    return ns.linalg.solve(a, b)


def _solve_right(ns, a, b):
    return ns.linalg.solve(a, b, left=False)


def _power(n):
    return lambda ns, a: ns.linalg.matrix_power(a, n)


def _on(op):
    return lambda ns, *inputs: getattr(ns.linalg, op)(*inputs)


F64 = "float64"
ERRORS = [
    ("inv-rectangular", _on("inv"), [rectangular(2, 3)], F64),
    ("inv-vector", _on("inv"), [rectangular(3)], F64),
    ("inv-int", _on("inv"), [np.eye(2)], "int64"),
    ("inv-bool", _on("inv"), [np.eye(2)], "bool"),
    ("inv-half", _on("inv"), [np.eye(2)], "float16"),
    ("det-int", _on("det"), [np.eye(2)], "int64"),
    ("det-rectangular", lambda ns, a: ns.det(a), [rectangular(3, 2)], F64),
    ("slogdet-int", _on("slogdet"), [np.eye(2)], "int32"),
    ("logdet-vector", lambda ns, a: ns.logdet(a), [rectangular(3)], F64),
    ("solve-shapes", _solve, [general(3, 3), rectangular(4, 3)], F64),
    ("solve-batch-shapes", _solve, [general(2, 3, 3), rectangular(3, 3, 1)], F64),
    ("solve-right-shapes", _solve_right, [general(3, 3), rectangular(3, 4)], F64),
    ("solve-right-vector", _solve_right, [general(3, 3), rectangular(3)], F64),
    ("solve-dtypes", lambda ns, a, b: _solve(ns, a, b.float()), [general(3, 3), np.ones(3)], F64),
    ("solve-0-d", _solve, [general(3, 3), np.array(1.0)], F64),
    ("solve-int", _solve, [np.eye(3), np.ones(3)], "int64"),
    ("matrix_power-float-n", _power(1.5), [general(2, 2)], F64),
    ("matrix_power-rectangular", _power(2), [rectangular(2, 3)], F64),
    ("matrix_power-vector", _power(2), [rectangular(3)], F64),
    ("matrix_power-int-negative", _power(-1), [np.eye(2)], "int64"),
    ("cholesky-int", _on("cholesky"), [np.eye(3)], "int64"),
    ("cholesky-rectangular", _on("cholesky"), [rectangular(3, 2)], F64),
    ("qr-mode", lambda ns, a: ns.linalg.qr(a, mode="full"), [rectangular(3, 2)], F64),
    ("qr-vector", _on("qr"), [rectangular(3)], F64),
    ("qr-int", _on("qr"), [np.eye(3)], "int64"),
    ("eigh-uplo", lambda ns, a: ns.linalg.eigh(a, UPLO="X"), [symmetric(3, 3)], F64),
    ("eigh-rectangular", _on("eigh"), [rectangular(3, 2)], F64),
    ("eigh-int", _on("eigh"), [np.eye(3)], "int64"),
    ("eigvalsh-vector", _on("eigvalsh"), [rectangular(3)], F64),
    ("svd-vector", _on("svd"), [rectangular(3)], F64),
    ("svd-int", _on("svd"), [np.eye(3)], "int64"),
    ("svdvals-int", _on("svdvals"), [np.eye(3)], "int64"),
    ("pinv-int", _on("pinv"), [np.eye(3)], "int64"),
    ("pinv-vector", _on("pinv"), [rectangular(3)], F64),
]


@pytest.mark.parametrize("name, op, arrays, dtype", ERRORS, ids=_ids(ERRORS))
def test_errors_as_torch(name, op, arrays, dtype):
    raises_like_torch(op, arrays, dtype)


#: Matrices the computation cannot go through: torch.linalg.LinAlgError there, ours here.
LINALG_ERRORS = [
    ("inv-singular", _on("inv"), [SINGULAR], "linalg.inv"),
    ("inv-one-singular-in-a-batch", _on("inv"), [np.stack([np.eye(2), SINGULAR])], "linalg.inv"),
    ("solve-singular", _solve, [SINGULAR, rectangular(2)], "linalg.solve"),
    ("matrix_power-singular-negative", _power(-1), [SINGULAR], "linalg.inv"),
    ("cholesky-not-pd", _on("cholesky"), [-np.eye(3)], "order 1"),
    ("cholesky-singular", _on("cholesky"), [SINGULAR], "order 2"),
]  # fmt: skip


@pytest.mark.parametrize("name, op, arrays, message", LINALG_ERRORS, ids=_ids(LINALG_ERRORS))
def test_linalg_errors_as_torch(name, op, arrays, message):
    ours, theirs = build_inputs(arrays, "float64", requires_grad=False)
    with pytest.raises(torch.linalg.LinAlgError, match=message):
        op(torch, *theirs)
    with pytest.raises(aprende.linalg.LinAlgError, match=message):
        op(aprende, *ours)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_not_positive_definite_names_the_minor_as_torch(dtype):
    matrix = positive_definite(4, 4)
    matrix[2, 2] = -50.0  # the leading minors of order 1 and 2 stay positive-definite
    batch = np.stack([positive_definite(4, 4), matrix])
    expected = torch.linalg.LinAlgError
    with pytest.raises(expected) as theirs:
        torch.linalg.cholesky(torch.tensor(batch, dtype=getattr(torch, dtype)))
    with pytest.raises(aprende.linalg.LinAlgError) as ours:
        aprende.linalg.cholesky(aprende.tensor(batch, dtype=getattr(aprende, dtype)))
    assert "order 3" in str(theirs.value) and "order 3" in str(ours.value)
    assert "Batch element 1" in str(theirs.value) and "Batch element 1" in str(ours.value)


def test_names_are_torch_names():
    from aprende.ops import decompositions, solve

    for module in (solve, decompositions):
        for name in module.TENSOR_METHODS:
            assert hasattr(torch.Tensor, name), name
            assert hasattr(torch, name) and getattr(aprende, name) is getattr(module, name), name
    for name in aprende.linalg.__all__:
        assert hasattr(torch.linalg, name), name
