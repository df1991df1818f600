"""Fused ops (aprende.ops: linear, cross_entropy, losses, normalization, dropout): gradcheck
(float64) of every op and option, the same values and
gradients as the unfused composition of core ops, float32 kept throughout, dropout statistics."""

import numpy as np
import pytest

import aprende
from aprende.autograd import gradcheck
from aprende.nn import functional as F
from aprende.ops.cross_entropy import CrossEntropy, PlainCrossEntropy

rng = np.random.default_rng(1234)


def t64(*shape, low=None, high=None, requires_grad=True):
    data = rng.normal(size=shape) if low is None else rng.uniform(low, high, size=shape)
    return aprende.tensor(data, dtype=aprende.float64, requires_grad=requires_grad)


def labels(*shape, classes=4, ignored=None, ignore_index=-100):
    y = rng.integers(0, classes, size=shape)
    if ignored is not None:
        y.reshape(-1)[ignored] = ignore_index
    return aprende.tensor(y)


def check_same(fused, unfused, inputs):
    """Fused and unfused: equal values, and equal gradients for a random upstream gradient."""
    a, b = fused(*inputs), unfused(*inputs)
    np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach()), rtol=1e-10)
    upstream = rng.normal(size=a.shape)
    grads = []
    for out in (fused(*inputs), unfused(*inputs)):
        for t in inputs:
            t.grad = None
        out.backward(aprende.tensor(upstream, dtype=out.dtype))
        grads.append([None if t.grad is None else np.asarray(t.grad) for t in inputs])
    for g_fused, g_unfused in zip(*grads, strict=True):
        assert (g_fused is None) == (g_unfused is None)
        if g_fused is not None:
            np.testing.assert_allclose(g_fused, g_unfused, rtol=1e-9, atol=1e-12)


# ---- linear -----------------------------------------------------------------------------------


@pytest.mark.parametrize("x_shape", [(3, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_and_unfused(x_shape, bias):
    x, w = t64(*x_shape), t64(2, 4)
    inputs = (x, w, t64(2)) if bias else (x, w)
    assert gradcheck(lambda *a: F.linear(*a), inputs)

    def unfused(x, w, b=None):
        out = x @ w.T
        return out if b is None else out + b

    check_same(lambda *a: F.linear(*a), unfused, inputs)
    assert F.linear(*inputs).shape == x_shape[:-1] + (2,)


def test_linear_keeps_float32_and_reports_shapes_and_dtypes():
    x, w, b = aprende.randn(5, 3), aprende.randn(2, 3, requires_grad=True), aprende.zeros(2)
    out = F.linear(x, w, b)
    out.sum().backward()
    assert out.dtype == aprende.float32 and w.grad.dtype == aprende.float32
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(5, 4\).*\(2, 3\)"):
        F.linear(aprende.randn(5, 4), w)
    with pytest.raises(RuntimeError, match=r"bias of shape \(3,\).*expected \(2,\)"):
        F.linear(x, w, aprende.zeros(3))
    with pytest.raises(RuntimeError, match="float64.*float32.*same dtype"):
        F.linear(x.double(), w)
    with pytest.raises(TypeError, match="expected input to be a Tensor, got ndarray"):
        F.linear(np.zeros((5, 3)), w)


# ---- cross-entropy and NLL --------------------------------------------------------------------


def reference_cross_entropy(x, y, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's documented formula, from core ops: ℓ_n = −Σ_c q_nc log softmax(x_n)_c with
    q = (1 − ε)·w_y·onehot(y) + (ε/C)·w, zero for ignored targets; the mean divides by
    Σ w_yn over the non-ignored elements."""
    classes = x.shape[1]
    y = np.asarray(y)
    w = np.ones(classes) if weight is None else np.asarray(weight)
    valid = y != ignore_index
    safe = np.where(valid, y, 0)
    onehot = np.moveaxis(np.eye(classes)[safe], -1, 1)
    shape = (1, classes) + (1,) * (x.ndim - 2)
    valid_b = np.expand_dims(valid, 1)
    w_b = w.reshape(shape)
    q = ((1 - eps) * w_b * onehot + eps / classes * w_b) * valid_b
    losses = -(aprende.tensor(q) * aprende.log_softmax(x, 1)).sum(1)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / float((w[safe] * valid).sum())


CE_OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": True},
    {"weight": True, "reduction": "none"},
    {"ignored": [1]},
    {"ignored": [0, 2], "weight": True},
    {"label_smoothing": 0.2},
    {"label_smoothing": 0.3, "weight": True},
    {"label_smoothing": 0.1, "weight": True, "ignored": [1], "reduction": "sum"},
    {"label_smoothing": 0.25, "ignored": [2], "reduction": "none"},
    {"ignore_index": 1, "ignore_label_1": True},
]


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (2, 4, 2, 2)])
@pytest.mark.parametrize("options", CE_OPTIONS)
def test_cross_entropy_class_targets(shape, options):
    options = dict(options)
    ignored = options.pop("ignored", None)
    use_weight = options.pop("weight", False)
    forced_ignore = options.pop("ignore_label_1", False)
    target_shape = shape[:1] + shape[2:]
    y = labels(*target_shape, ignored=ignored)
    if forced_ignore:
        y.data.reshape(-1)[0] = 1  # make sure the custom ignore_index occurs
    weight = aprende.tensor(rng.uniform(0.5, 2.0, size=4), dtype=aprende.float64)
    if use_weight:
        options["weight"] = weight
    x = t64(*shape)

    def fused(x):
        return F.cross_entropy(x, y, **options)

    def unfused(x):
        eps = options.get("label_smoothing", 0.0)
        return reference_cross_entropy(
            x,
            y.data,
            weight.data if use_weight else None,
            options.get("ignore_index", -100),
            options.get("reduction", "mean"),
            eps,
        )

    assert gradcheck(fused, (x,))
    check_same(fused, unfused, (x,))


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(shape, reduction, weighted, smoothing):
    x = t64(*shape)
    q = aprende.softmax(t64(*shape, requires_grad=False), 1).detach().requires_grad_()
    weight = aprende.tensor(rng.uniform(0.5, 2.0, size=4), dtype=aprende.float64)
    options = {"reduction": reduction, "label_smoothing": smoothing}
    if weighted:
        options["weight"] = weight

    def fused(x, q):
        return F.cross_entropy(x, q, **options)

    def unfused(x, q):
        w = weight.reshape((1, 4) + (1,) * (len(shape) - 2)) if weighted else 1.0
        mixed = q * (1 - smoothing) + smoothing / 4
        losses = -(mixed * w * aprende.log_softmax(x, 1)).sum(1)
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.mean()

    assert gradcheck(fused, (x, q))
    check_same(fused, unfused, (x, q))


def test_cross_entropy_unbatched_and_one_hot():
    x = t64(4)
    y = aprende.tensor(2)
    assert gradcheck(lambda x: F.cross_entropy(x, y), (x,))
    one_hot = aprende.tensor(np.eye(4)[2], dtype=aprende.float64)
    np.testing.assert_allclose(
        F.cross_entropy(x, y).item(), F.cross_entropy(x, one_hot).item(), rtol=1e-12
    )
    assert F.cross_entropy(x, y, reduction="none").shape == ()


def test_cross_entropy_is_stable_for_huge_logits():
    x = aprende.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, aprende.tensor([1]))
    loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    np.testing.assert_allclose(np.asarray(x.grad), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_cross_entropy_all_ignored_mean_is_nan_as_torch():
    x = t64(2, 3)
    loss = F.cross_entropy(x, aprende.tensor([-100, -100]))
    assert np.isnan(loss.item())


@pytest.mark.parametrize(
    "options", [{}, {"weight": True}, {"ignored": [0]}, {"reduction": "none"}, {"reduction": "sum"}]
)
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_nll_loss(options, shape):
    options = dict(options)
    ignored = options.pop("ignored", None)
    y = labels(*(shape[:1] + shape[2:]), ignored=ignored)
    weight = aprende.tensor(rng.uniform(0.5, 2.0, size=4), dtype=aprende.float64)
    if options.pop("weight", False):
        options["weight"] = weight
    logp = t64(*shape)
    assert gradcheck(lambda x: F.nll_loss(x, y, **options), (logp,))
    # nll_loss(log_softmax(x)) is cross_entropy(x)
    x = t64(*shape)
    check_same(
        lambda x: F.nll_loss(aprende.log_softmax(x, 1), y, **options),
        lambda x: F.cross_entropy(x, y, **options),
        (x,),
    )


# ---- binary cross-entropy ---------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_shape", [None, (3,), (4, 3)])
def test_binary_cross_entropy(reduction, weight_shape):
    x, y = t64(4, 3, low=0.05, high=0.95), t64(4, 3, low=0.0, high=1.0)
    weight = None if weight_shape is None else t64(*weight_shape, low=0.5, high=2.0)
    if weight is not None:
        weight.requires_grad_(False)

    def fused(x, y):
        return F.binary_cross_entropy(x, y, weight, reduction=reduction)

    def unfused(x, y):
        log_x = aprende.clamp(aprende.log(x), min=-100)
        log_1mx = aprende.clamp(aprende.log(1 - x), min=-100)
        losses = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            losses = losses * weight
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.mean()

    assert gradcheck(fused, (x, y))
    check_same(fused, unfused, (x, y))


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    x = aprende.tensor([0.0, 1.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, aprende.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0])
    loss.sum().backward()
    assert np.isfinite(np.asarray(x.grad)).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("use_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(reduction, use_weight, use_pos_weight):
    x, y = t64(4, 3) * 3, t64(4, 3, low=0.0, high=1.0)
    x = x.detach().requires_grad_()
    weight = t64(4, 1, low=0.5, high=2.0, requires_grad=False) if use_weight else None
    pos_weight = t64(3, low=0.5, high=3.0, requires_grad=False) if use_pos_weight else None

    def fused(x, y):
        return F.binary_cross_entropy_with_logits(
            x, y, weight, reduction=reduction, pos_weight=pos_weight
        )

    def unfused(x, y):
        # −[pw·y log σ(x) + (1 − y) log(1 − σ(x))], written with the core's sigmoid and log
        log_sig, log_1msig = aprende.log(aprende.sigmoid(x)), aprende.log(aprende.sigmoid(-x))
        positive = y * log_sig if pos_weight is None else pos_weight * y * log_sig
        losses = -(positive + (1 - y) * log_1msig)
        if weight is not None:
            losses = losses * weight
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.mean()

    assert gradcheck(fused, (x, y))
    check_same(fused, unfused, (x, y))


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    x = aprende.tensor([1000.0, -1000.0, 1000.0], requires_grad=True)
    y = aprende.tensor([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [0.0, 0.0, 1.0])


# ---- squared and absolute error ---------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1(reduction):
    x, y = t64(4, 3), t64(4, 3)

    def reduce(losses):
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.mean()

    for fused, unfused in [
        (
            lambda x, y: F.mse_loss(x, y, reduction=reduction),
            lambda x, y: reduce((x - y) ** 2),
        ),
        (
            lambda x, y: F.l1_loss(x, y, reduction=reduction),
            lambda x, y: reduce(aprende.abs(x - y)),
        ),
    ]:
        assert gradcheck(fused, (x, y))
        check_same(fused, unfused, (x, y))


def test_mse_mean_divides_by_elements_not_samples():
    x, y = aprende.zeros(2, 3), aprende.ones(2, 3)
    assert F.mse_loss(x, y).item() == 1.0
    assert F.mse_loss(x, y, reduction="sum").item() == 6.0


# ---- batch norm -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, affine, training):
    x = t64(*shape)
    axes = (0,) if len(shape) == 2 else (0, 2)
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    running_mean = aprende.tensor(rng.normal(size=3), dtype=aprende.float64)
    running_var = aprende.tensor(rng.uniform(0.5, 2, size=3), dtype=aprende.float64)
    params = (t64(3), t64(3)) if affine else ()

    def fused(x, *params):
        weight, bias = params if params else (None, None)
        # Copies: training updates the running statistics in place at every call.
        return F.batch_norm(
            x, running_mean.clone(), running_var.clone(), weight, bias, training, 0.1, 1e-5
        )

    def unfused(x, *params):
        if training:
            mean = x.mean(axes, keepdim=True)
            var = x.var(axes, unbiased=False, keepdim=True)
        else:
            mean, var = running_mean.reshape(bshape), running_var.reshape(bshape)
        out = (x - mean) / aprende.sqrt(var + 1e-5)
        if params:
            out = out * params[0].reshape(bshape) + params[1].reshape(bshape)
        return out

    assert gradcheck(fused, (x, *params))
    check_same(fused, unfused, (x, *params))


def test_batch_norm_updates_running_statistics_with_unbiased_variance():
    x = aprende.tensor(rng.normal(2.0, 3.0, size=(8, 3)))
    mean, var = aprende.zeros(3), aprende.ones(3)
    F.batch_norm(x, mean, var, training=True, momentum=0.25)
    data = x.numpy()
    np.testing.assert_allclose(mean.numpy(), 0.25 * data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var.numpy(), 0.75 + 0.25 * data.var(0, ddof=1), rtol=1e-5)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(aprende.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"running_mean should have shape \(3,\).*got \(4,\)"):
        F.batch_norm(aprende.randn(2, 3), aprende.zeros(4), aprende.ones(4))
    with pytest.raises(ValueError, match="evaluation.*needs running_mean"):
        F.batch_norm(aprende.randn(2, 3), None, None, training=False)


# ---- dropout ----------------------------------------------------------------------------------


def test_dropout_gradcheck_with_a_fixed_mask():
    x = t64(6, 5)

    def fn(x):
        aprende.manual_seed(7)  # the same mask at every call
        return F.dropout(x, p=0.4)

    assert gradcheck(fn, (x,))

    def unfused(x):
        aprende.manual_seed(7)
        keep = aprende.backend.default_generator().random(x.shape, dtype=np.float32) >= 0.4
        return x * aprende.tensor(keep, dtype=aprende.float64) / 0.6

    check_same(fn, unfused, (x,))


def test_dropout_scaling_statistics():
    x = aprende.ones(200, 500)
    out = F.dropout(x, p=0.3).numpy()
    assert out.dtype == np.float32
    zeroed = (out == 0).mean()
    assert zeroed == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # the expectation is preserved


def test_dropout_edge_cases():
    x = aprende.randn(4, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    assert not out.detach().numpy().any()
    out.sum().backward()
    assert not x.grad.numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


# ---- dtypes -----------------------------------------------------------------------------------


def test_losses_keep_float32_for_values_and_gradients():
    # (mse_loss and l1_loss promote as PyTorch does: float32 with a float64 target gives
    # float64; tests/test_pytorch_habits_torch.py checks them against PyTorch.)
    x = aprende.randn(6, 4, requires_grad=True)
    p = aprende.rand(6, 4, requires_grad=True)
    y = aprende.tensor(rng.integers(0, 4, size=6))
    weight = aprende.tensor(np.ones(4))  # float64 weight: must not upcast
    target64 = aprende.tensor(rng.uniform(size=(6, 4)), dtype=aprende.float64)
    bn_weight = aprende.ones(4, requires_grad=True)
    losses = [
        F.cross_entropy(x, y, weight, label_smoothing=0.1),
        F.cross_entropy(x, target64),
        F.nll_loss(x, y, weight),
        F.binary_cross_entropy(p, target64, weight),
        F.binary_cross_entropy_with_logits(x, target64, pos_weight=weight),
        F.batch_norm(x, aprende.zeros(4), aprende.ones(4), bn_weight, None, True).sum(),
    ]
    for loss in losses:
        assert loss.dtype == aprende.float32
        x.grad = p.grad = None
        loss.backward()
        for t in (x, p):
            assert t.grad is None or t.grad.dtype == aprende.float32


def test_binary_cross_entropy_gradient_near_zero_and_one():
    """∂ℓ/∂x = (x − y)/max(x(1 − x), 10⁻¹²) as PyTorch, also where x(1 − x) is tiny or 0."""
    x = np.array([1e-4, 1 - 1e-4, 0.0, 1.0, 0.5], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    xt = aprende.tensor(x, requires_grad=True)
    F.binary_cross_entropy(xt, aprende.tensor(y), reduction="sum").backward()
    expected = (x - y) / np.maximum(x * (1 - x), np.float32(1e-12))
    np.testing.assert_allclose(xt.grad.numpy(), expected, rtol=1e-5)


# ---- the fast paths of the common case --------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 40])  # below and above max_keepdims' argmax threshold
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
def test_plain_cross_entropy_matches_the_general_node(rows, reduction, label_dtype):
    x = t64(rows, 5)
    y = aprende.tensor(rng.integers(0, 5, size=rows).astype(label_dtype))
    assert type(F.cross_entropy(x, y, reduction=reduction).grad_fn) is PlainCrossEntropy

    def plain(x):
        return F.cross_entropy(x, y, reduction=reduction)

    def general(x):
        return CrossEntropy.apply(x, y, ignore_index=None, reduction=reduction, smoothing=0.0)

    assert gradcheck(plain, (x,))
    check_same(plain, general, (x,))


def test_plain_cross_entropy_leaves_ignored_and_wrong_labels_to_the_general_path():
    x = t64(4, 3)
    ignored = F.cross_entropy(x, aprende.tensor([0, -100, 2, 1]))
    assert type(ignored.grad_fn) is CrossEntropy
    kept = F.cross_entropy(x[[0, 2, 3]], aprende.tensor([0, 2, 1]))
    assert ignored.item() == pytest.approx(kept.item(), rel=1e-12)
    custom = F.cross_entropy(x, aprende.tensor([0, 1, 2, 1]), ignore_index=1)
    assert type(custom.grad_fn) is CrossEntropy
    for label in (3, -1):
        with pytest.raises(IndexError, match=f"target label {label} is out of range for 3"):
            F.cross_entropy(x, aprende.tensor([0, label, 2, 1]))


@pytest.mark.parametrize("shape", [(40, 10), (3, 4), (64, 1), (33, 7)])
def test_max_keepdims_matches_numpy_nan_and_layout_included(shape):
    from aprende.ops.reduce import max_keepdims

    a = rng.normal(size=shape).astype(np.float32)
    a[-1, 0] = np.nan  # a NaN row's max is NaN, as np.max
    a[0, :] = -np.inf
    for array in (a, np.asfortranarray(a)):
        for axis in (1, -1):
            result = max_keepdims(array, axis)
            assert result.shape == (shape[0], 1)
            np.testing.assert_array_equal(result, a.max(axis=1, keepdims=True))


@pytest.mark.parametrize("size", [10, 4096])  # the scalar path and the cached-zeros path
def test_relu_values_and_gradient_on_both_paths(size):
    data = rng.normal(size=size).astype(np.float32)
    data[:4] = [np.nan, -np.inf, np.inf, 0.0]
    x = aprende.tensor(data, requires_grad=True)
    y = aprende.relu(x)
    expected = np.where(data > 0, data, 0).astype(np.float32)
    expected[0] = np.nan
    np.testing.assert_array_equal(np.asarray(y.detach()), expected)
    y.data[5] += 1  # a fresh, writeable array: never the shared zeros
    x2 = aprende.tensor(data[4:], requires_grad=True)
    aprende.relu(x2).sum().backward()
    np.testing.assert_array_equal(np.asarray(x2.grad), (data[4:] > 0).astype(np.float32))


def test_cached_constants_are_shared_read_only_and_bounded():
    from aprende import backend

    ones = backend.constant(1, 5, np.float32)
    assert ones is backend.constant(1, 5, np.float32)
    np.testing.assert_array_equal(ones, np.ones(5, np.float32))
    with pytest.raises(ValueError, match="read-only"):
        ones[0] = 2
    for size in range(100):  # the cache keeps the most recent 64 shapes, not every one
        backend.constant(0, (size, 2), np.float64)
    assert len(backend._CONSTANTS) <= 64
