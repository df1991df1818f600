"""aprende.linalg's inverses, solves and decompositions without PyTorch: each result checked
against the identity that defines it (A A⁻¹ = I, AX = B, L Lᵀ = A, QR = A, AV = VΛ,
U diag(S) Vh = A, the four Penrose conditions) or against NumPy, and every gradient against
finite differences (``gradcheck`` in float64).

Cholesky and eigh read one triangle of A, and their derivatives (PyTorch's) are those of a
symmetric A; their gradient checks go through a symmetric input X + Xᵀ. Eigenvectors and
singular vectors are checked through functions that do not depend on their signs.
"""

import numpy as np
import pytest

import aprende
from aprende import linalg
from aprende.autograd import gradcheck

RNG = np.random.default_rng(1)


def tensor(array, requires_grad=False):
    return aprende.tensor(array, dtype=aprende.float64, requires_grad=requires_grad)


def general(*shape):
    n = shape[-1]
    return RNG.standard_normal(shape) + n * np.eye(n)


def positive_definite(*shape):
    x = RNG.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(*shape):
    x = RNG.standard_normal(shape)
    return (x + np.swapaxes(x, -1, -2)) / 2 + np.diag(np.arange(shape[-1]) * 2.0)


def randn(*shape):
    return RNG.standard_normal(shape)


def check_gradient(fn, *arrays):
    inputs = [tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------


def test_inv_times_matrix_is_the_identity():
    a = general(2, 4, 4)
    np.testing.assert_allclose(
        linalg.inv(tensor(a)).numpy() @ a, np.broadcast_to(np.eye(4), a.shape), atol=1e-12
    )


def test_det_of_a_2x2_matrix_is_ad_minus_bc():
    a = randn(3, 2, 2)
    expected = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
    np.testing.assert_allclose(linalg.det(tensor(a)).numpy(), expected, rtol=1e-12)


def test_det_is_the_product_of_the_eigenvalues_of_a_symmetric_matrix():
    a = symmetric(4, 4)
    np.testing.assert_allclose(aprende.det(tensor(a)).item(), np.prod(np.linalg.eigvalsh(a)))


def test_slogdet_recovers_det_and_does_not_overflow():
    a = -general(3, 3)
    sign, logabsdet = linalg.slogdet(tensor(a))
    np.testing.assert_allclose(sign.item() * np.exp(logabsdet.item()), np.linalg.det(a))
    big = np.eye(400) * 10.0  # det = 10⁴⁰⁰ overflows float64; its log does not
    sign, logabsdet = linalg.slogdet(tensor(big))
    assert sign.item() == 1.0
    np.testing.assert_allclose(logabsdet.item(), 400 * np.log(10.0))
    assert not sign.requires_grad


def test_logdet_is_nan_for_a_negative_determinant_and_minus_inf_for_zero():
    assert np.isnan(aprende.logdet(tensor(-np.eye(3))).item())
    assert aprende.logdet(tensor(np.zeros((2, 2)))).item() == -np.inf
    a = positive_definite(3, 3)
    np.testing.assert_allclose(tensor(a).logdet().item(), np.log(np.linalg.det(a)))


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((3, 3), (3,)),
        ((3, 3), (3, 2)),
        ((2, 3, 3), (2, 3)),
        ((3, 3), (4, 3, 2)),
        ((2, 1, 3, 3), (5, 3, 1)),
    ],
)
def test_solve_satisfies_the_equation(a_shape, b_shape):
    a, b = general(*a_shape), RNG.standard_normal(b_shape)
    x = linalg.solve(tensor(a), tensor(b)).numpy()
    vector = len(b_shape) == 1 or b_shape == a_shape[:-1]
    product = (a @ x[..., None])[..., 0] if vector else a @ x
    np.testing.assert_allclose(product, np.broadcast_to(b, product.shape), atol=1e-12)


def test_solve_on_the_right_satisfies_xa_equals_b():
    a, b = general(2, 3, 3), randn(4, 3)
    x = linalg.solve(tensor(a), tensor(b), left=False).numpy()
    np.testing.assert_allclose(x @ a, np.broadcast_to(b, (2, 4, 3)), atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, -1, -4])
def test_matrix_power_is_repeated_products(n):
    a = general(2, 3, 3) / 3
    expected = np.broadcast_to(np.eye(3), a.shape).copy()
    base = np.linalg.inv(a) if n < 0 else a
    for _ in range(abs(n)):
        expected = expected @ base
    np.testing.assert_allclose(linalg.matrix_power(tensor(a), n).numpy(), expected, rtol=1e-10)


def test_matrix_power_of_integers_stays_integer():
    a = RNG.integers(-2, 3, (3, 3))
    out = aprende.matrix_power(aprende.tensor(a), 4)
    assert out.dtype == aprende.int64
    np.testing.assert_array_equal(out.numpy(), a @ a @ a @ a)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_factor_is_triangular_and_reproduces_a(upper):
    a = positive_definite(2, 4, 4)
    factor = linalg.cholesky(tensor(a), upper=upper).numpy()
    triangle = np.triu if upper else np.tril
    np.testing.assert_array_equal(factor, triangle(factor))
    assert (np.diagonal(factor, axis1=-2, axis2=-1) > 0).all()
    product = (
        np.swapaxes(factor, -1, -2) @ factor if upper else factor @ np.swapaxes(factor, -1, -2)
    )
    np.testing.assert_allclose(product, a, rtol=1e-12)


def test_cholesky_names_the_failing_leading_minor():
    a = positive_definite(5, 5)
    a[3, 3] = -100.0
    with pytest.raises(linalg.LinAlgError, match="order 4"):
        linalg.cholesky(tensor(a))
    with pytest.raises(RuntimeError, match="linalg.cholesky"):
        linalg.cholesky(tensor(a))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_factors_are_orthonormal_and_triangular(shape, mode):
    a = RNG.standard_normal(shape)
    q, r = (t.numpy() for t in linalg.qr(tensor(a), mode=mode))
    k = min(shape[-2:]) if mode == "reduced" else shape[-2]
    assert q.shape == shape[:-2] + (shape[-2], k) and r.shape == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose(
        np.swapaxes(q, -1, -2) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), atol=1e-12
    )
    np.testing.assert_array_equal(r, np.triu(r))
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    r_only = linalg.qr(tensor(a), mode="r")
    assert r_only.Q.numel() == 0
    np.testing.assert_allclose(r_only.R.numpy(), r[..., : min(shape[-2:]), :], atol=1e-12)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_ascending_eigenpairs_of_the_chosen_triangle(uplo):
    a = symmetric(2, 4, 4)
    triangle = np.tril(a) if uplo == "L" else np.triu(a)
    full = triangle + np.swapaxes(triangle, -1, -2) - np.eye(4) * a  # the other triangle ignored
    noisy = a + (
        np.triu(RNG.standard_normal(a.shape), 1)
        if uplo == "L"
        else np.tril(RNG.standard_normal(a.shape), -1)
    )
    values, vectors = (t.numpy() for t in linalg.eigh(tensor(noisy), UPLO=uplo))
    assert (np.diff(values, axis=-1) > 0).all()
    np.testing.assert_allclose(full @ vectors, vectors * values[..., None, :], atol=1e-12)
    np.testing.assert_allclose(linalg.eigvalsh(tensor(noisy), UPLO=uplo).numpy(), values)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_reproduces_a_with_descending_singular_values(shape, full_matrices):
    a = RNG.standard_normal(shape)
    u, s, vh = (t.numpy() for t in linalg.svd(tensor(a), full_matrices=full_matrices))
    m, n = shape[-2:]
    k = min(m, n)
    assert u.shape[-1] == (m if full_matrices else k) and vh.shape[-2] == (
        n if full_matrices else k
    )
    assert (np.diff(s, axis=-1) <= 0).all() and (s >= 0).all()
    np.testing.assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=1e-12)
    np.testing.assert_allclose(
        linalg.svdvals(tensor(a)).numpy(), np.linalg.svd(a, compute_uv=False)
    )


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv_meets_the_penrose_conditions(shape):
    a = RNG.standard_normal(shape)
    p = linalg.pinv(tensor(a)).numpy()
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-12)
    np.testing.assert_allclose(p @ a @ p, p, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(a @ p, -1, -2), a @ p, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(p @ a, -1, -2), p @ a, atol=1e-12)
    np.testing.assert_allclose(aprende.pinverse(tensor(a)).numpy(), np.linalg.pinv(a), atol=1e-12)


def test_pinv_drops_singular_values_under_the_tolerance():
    a = np.diag([4.0, 1.0, 1e-3])
    np.testing.assert_allclose(linalg.pinv(tensor(a), atol=0.01).numpy(), np.diag([0.25, 1.0, 0.0]))
    np.testing.assert_allclose(linalg.pinv(tensor(a), rtol=0.5).numpy(), np.diag([0.25, 0.0, 0.0]))
    np.testing.assert_allclose(
        linalg.pinv(tensor(-a), hermitian=True, atol=0.01).numpy(), -np.diag([0.25, 1.0, 0.0])
    )


def test_float32_in_float32_out():
    a = aprende.tensor(general(3, 3), dtype=aprende.float32)
    results = [
        linalg.inv(a),
        linalg.det(a),
        *linalg.slogdet(a),
        linalg.solve(a, a),
        *linalg.qr(a),
        *linalg.eigh(a @ a.mT),
        *linalg.svd(a),
        linalg.pinv(a),
        linalg.cholesky(a @ a.mT),
    ]
    assert all(r.dtype == aprende.float32 for r in results)


# ---------------------------------------------------------------------------------------------
# gradients against finite differences
# ---------------------------------------------------------------------------------------------


def _sym(x):
    return x + x.mT


GRADIENTS = [
    ("inv", lambda a: linalg.inv(a), [general(2, 3, 3)]),
    ("det", lambda a: linalg.det(a), [general(2, 3, 3)]),
    ("logabsdet", lambda a: linalg.slogdet(a).logabsdet, [-general(3, 3)]),
    ("logdet", lambda a: aprende.logdet(a), [positive_definite(3, 3)]),
    ("solve-matrix", lambda a, b: linalg.solve(a, b), [general(3, 3), randn(3, 2)]),
    ("solve-vector", lambda a, b: linalg.solve(a, b), [general(3, 3), randn(3)]),
    ("solve-broadcast", lambda a, b: linalg.solve(a, b), [general(1, 3, 3), randn(2, 3, 2)]),
    ("solve-right", lambda a, b: linalg.solve(a, b, left=False), [general(2, 3, 3), randn(4, 3)]),
    ("matrix_power-5", lambda a: linalg.matrix_power(a, 5), [general(3, 3) / 3]),
    ("matrix_power--3", lambda a: linalg.matrix_power(a, -3), [general(3, 3)]),
    ("matrix_power-0", lambda a: linalg.matrix_power(a, 0), [general(3, 3)]),
    ("cholesky", lambda x: linalg.cholesky(_sym(x)), [positive_definite(2, 3, 3)]),
    ("cholesky-upper", lambda x: linalg.cholesky(_sym(x), upper=True), [positive_definite(3, 3)]),
    ("qr-square", lambda a: linalg.qr(a), [randn(3, 3)]),
    ("qr-tall", lambda a: linalg.qr(a), [randn(2, 4, 3)]),
    ("qr-complete-square", lambda a: linalg.qr(a, mode="complete"), [randn(3, 3)]),
    ("qr-Q", lambda a: linalg.qr(a).Q, [randn(4, 2)]),
    ("qr-wide", lambda a: linalg.qr(a), [randn(2, 3, 5)]),
    ("qr-wide-R", lambda a: linalg.qr(a).R, [randn(3, 4)]),
    ("qr-wide-complete", lambda a: linalg.qr(a, mode="complete").Q, [randn(2, 4)]),
    ("eigh-values", lambda x: linalg.eigh(_sym(x)).eigenvalues, [symmetric(2, 3, 3)]),
    ("eigh-function", lambda x: _matrix_function(*linalg.eigh(_sym(x))), [symmetric(3, 3)]),
    ("eigvalsh", lambda x: linalg.eigvalsh(_sym(x), UPLO="U"), [symmetric(3, 3)]),
    ("svdvals", lambda a: linalg.svdvals(a), [randn(2, 4, 3)]),
    ("svd-reconstruct", lambda a: _reconstruct(*linalg.svd(a, False)), [randn(4, 3)]),
    ("svd-full-wide", lambda a: _reconstruct(*linalg.svd(a)), [randn(2, 4)]),
    ("svd-polar-tall", lambda a: _polar(*linalg.svd(a, False)), [randn(4, 3)]),
    ("svd-polar-wide", lambda a: _polar(*linalg.svd(a, False)), [randn(3, 4)]),
    ("pinv-tall", lambda a: linalg.pinv(a), [randn(4, 3)]),
    ("pinv-wide", lambda a: linalg.pinv(a), [randn(2, 2, 3)]),
    ("pinv-hermitian", lambda x: linalg.pinv(_sym(x), hermitian=True), [symmetric(3, 3)]),
]


def _matrix_function(values, vectors):
    """V diag(sin λ) Vᵀ: does not depend on the signs of the eigenvectors."""
    return (vectors * aprende.sin(values).unsqueeze(-2)) @ vectors.mT


def _reconstruct(u, s, vh):
    k = s.shape[-1]
    return (u[..., :k] * aprende.cos(s).unsqueeze(-2)) @ vh[..., :k, :]


def _polar(u, s, vh):
    return u @ vh


@pytest.mark.parametrize("name, fn, arrays", GRADIENTS, ids=[row[0] for row in GRADIENTS])
def test_gradients_against_finite_differences(name, fn, arrays):
    check_gradient(fn, *arrays)


def test_det_gradient_is_the_cofactor_matrix():
    a = general(3, 3)
    x = tensor(a, requires_grad=True)
    linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.det(a) * np.linalg.inv(a).T)


def test_both_factors_send_their_gradient():
    """A = QR used through both outputs: the gradient is the sum of the two paths."""
    a = randn(4, 3)
    x = tensor(a, requires_grad=True)
    q, r = linalg.qr(x)
    (q @ r).sum().backward()  # QR = A, so ∂/∂A of sum(QR) is all ones
    np.testing.assert_allclose(x.grad.numpy(), np.ones_like(a), atol=1e-12)


def test_no_gradient_for_mode_r_or_complete_tall_qr():
    x = tensor(randn(3, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        linalg.qr(x, mode="r").R.sum().backward()
    tall = tensor(randn(3, 2), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        linalg.qr(tall, mode="complete").R.sum().backward()


def test_changing_an_output_in_place_is_caught_at_backward():
    x = tensor(general(3, 3), requires_grad=True)
    y = linalg.inv(x)
    loss = y.sum()
    with aprende.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_factor_changed_in_place_leaves_the_gradient_as_it_was():
    """Each factor's node keeps its own copy of the decomposition."""
    a = randn(4, 3)
    expected = tensor(a, requires_grad=True)
    q, r = linalg.qr(expected)
    (q.sum() + r.sum()).backward()
    x = tensor(a, requires_grad=True)
    q, r = linalg.qr(x)
    loss = q.sum() + r.sum()
    with aprende.no_grad():
        q.mul_(2)
        r.zero_()
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected.grad.numpy())


def test_no_graph_under_no_grad():
    x = tensor(general(3, 3), requires_grad=True)
    with aprende.no_grad():
        outputs = [linalg.inv(x), *linalg.qr(x), *linalg.svd(x), linalg.pinv(x)]
    assert not any(o.requires_grad for o in outputs)
