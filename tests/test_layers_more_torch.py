"""Activation, padding, shuffle, normalisation and dropout layers against ``torch.nn``: the
same weights (copied from the torch module) and inputs give the same outputs and the same
gradients of inputs and parameters; the same state-dict keys, running statistics after
training steps, evaluation behaviour, and the exception types PyTorch raises."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

import aprende  # noqa: E402
from aprende import nn  # noqa: E402

rng = np.random.default_rng(0)
KINKS = np.array([-2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0, math.nan, math.inf])
IMAGES = rng.standard_normal((2, 4, 3, 5))


def f(name, *args, **options):
    """``ns.nn.functional.<name>(a, *args, **options)``."""
    return lambda ns, a: getattr(ns.nn.functional, name)(a, *args, **options)


FUNCTIONAL = {
    "hardshrink": (f("hardshrink"), KINKS),
    "hardshrink-lambd": (f("hardshrink", 1.0), KINKS),
    "softshrink": (f("softshrink"), KINKS),
    "softshrink-lambd": (f("softshrink", lambd=1.0), KINKS),
    "softshrink-zero": (f("softshrink", 0.0), KINKS),
    "tanhshrink": (f("tanhshrink"), KINKS[:-2]),
    "threshold": (f("threshold", 0.5, -3.0), KINKS),
    "threshold-negative": (f("threshold", -0.5, 7.0), rng.standard_normal((3, 4))),
    "rrelu-eval": (f("rrelu"), KINKS),
    "rrelu-eval-bounds": (f("rrelu", 0.2, 0.6), rng.standard_normal((2, 3))),
    "pixel_shuffle": (f("pixel_shuffle", 2), rng.standard_normal((2, 8, 3, 2))),
    "pixel_shuffle-3d": (f("pixel_shuffle", 3), rng.standard_normal((9, 2, 2))),
    "pixel_shuffle-5d": (f("pixel_shuffle", 2), rng.standard_normal((2, 2, 4, 1, 3))),
    "pixel_unshuffle": (f("pixel_unshuffle", 2), rng.standard_normal((2, 2, 4, 6))),
    "pixel_unshuffle-3d": (f("pixel_unshuffle", 3), rng.standard_normal((1, 3, 6))),
    "channel_shuffle": (f("channel_shuffle", 2), rng.standard_normal((2, 6, 3))),
    "channel_shuffle-4d": (f("channel_shuffle", 3), IMAGES[:, :3].repeat(2, axis=1)),
    "softmax2d": (lambda ns, a: ns.nn.Softmax2d()(a), IMAGES),
    "softmax2d-3d": (lambda ns, a: ns.nn.Softmax2d()(a), IMAGES[0]),
    "0-d hardshrink": (f("hardshrink"), np.array(0.7)),
    "empty softshrink": (f("softshrink"), np.zeros((0, 3))),
    "empty pixel_shuffle": (f("pixel_shuffle", 2), np.zeros((0, 4, 2, 2))),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_equals_torch(name, dtype):
    op, array = FUNCTIONAL[name]
    compare(op, [array], dtype)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_threshold_keeps_integer_dtypes(dtype):
    compare(f("threshold", 2, -1), [np.arange(-3, 6)], dtype, grad=False)


@pytest.mark.parametrize(
    ("weight", "shape"),
    [((1,), (2, 3, 4)), ((3,), (2, 3, 4)), ((3,), (2, 3)), ((2,), (1, 2, 3, 3)), ((1,), (5,))],
)
def test_prelu_equals_torch_with_gradient_of_weight(weight, shape):
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0  # the kink: PyTorch's slope there is a
    compare(lambda ns, a, w: ns.nn.functional.prelu(a, w), [x, rng.uniform(0, 1, weight)])
    compare(lambda ns, a, w: a.prelu(w), [x, rng.uniform(0, 1, weight)], "float32")


ERRORS = {
    "prelu weight count": lambda ns, a: ns.nn.functional.prelu(a, ns.ones(2, dtype=a.dtype)),
    "prelu weight 2-D": lambda ns, a: ns.nn.functional.prelu(a, ns.ones(1, 1, dtype=a.dtype)),
    "softshrink negative": f("softshrink", -1.0),
    "pixel_shuffle channels": f("pixel_shuffle", 3),
    "pixel_shuffle factor 0": f("pixel_shuffle", 0),
    "pixel_unshuffle size": f("pixel_unshuffle", 2),
    "channel_shuffle groups": f("channel_shuffle", 5),
    "softmax2d 2-D": lambda ns, a: ns.nn.Softmax2d()(a[0, 0]),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_arguments_raise_torchs_type(name):
    raises_like_torch(ERRORS[name], [rng.standard_normal((2, 3, 3, 5))])


def test_pixel_shuffle_of_2d_input_raises_torchs_type():
    raises_like_torch(f("pixel_shuffle", 1), [rng.standard_normal((4, 4))])


INTEGER_ERRORS = {
    "hardshrink": f("hardshrink"),
    "softshrink": f("softshrink"),
    "prelu": lambda ns, a: ns.nn.functional.prelu(a, ns.ones(1)),
    "rrelu": f("rrelu"),
    "group_norm": f("group_norm", 1),
    "rms_norm": f("rms_norm", [3]),
    "instance_norm": f("instance_norm"),
}


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", INTEGER_ERRORS)
def test_float_ops_refuse_integers_with_torchs_type(name, dtype):
    raises_like_torch(INTEGER_ERRORS[name], [np.ones((2, 2, 3))], dtype)


def test_threshold_of_bool_raises_torchs_type():
    raises_like_torch(f("threshold", 0, 1), [np.ones(3)], "bool")


def test_rrelu_bounds_in_the_wrong_order_raise_torchs_type():
    raises_like_torch(f("rrelu", 0.5, 0.1, True), [np.ones(3)])


def test_tanhshrink_of_bool_raises_torchs_type():
    raises_like_torch(f("tanhshrink"), [np.ones(3)], "bool")


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_inputs_where_torch_takes_them(dtype):
    compare(f("tanhshrink"), [np.arange(-2, 3)], dtype, grad=False)
    compare(f("local_response_norm", 2), [np.arange(-6, 6).reshape(2, 3, 2) % 5], "int64")
    compare(f("pixel_shuffle", 2), [np.arange(16).reshape(1, 4, 2, 2)], dtype, grad=False)


# ---- modules: the same weights → the same outputs and gradients --------------------------------


def check_module(ours, theirs, array, tol=1e-7, upstream_seed=1):
    """Copy torch's state into ours, run both on ``array`` (in its dtype), back-propagate one
    random upstream gradient, compare everything."""
    state = {k: aprende.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x_ours = aprende.tensor(array, requires_grad=True)
    x_theirs = torch.tensor(array, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), tol, tol)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(y_theirs.shape))
    (y_ours * aprende.tensor(upstream, dtype=y_ours.dtype)).sum().backward()
    (y_theirs * torch.tensor(upstream, dtype=y_theirs.dtype)).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), tol, tol)
    for (name, p_ours), p_theirs in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(
            p_ours.grad.numpy(), p_theirs.grad.numpy(), tol, tol, err_msg=name
        )
    for (name, b_ours), b_theirs in zip(ours.named_buffers(), theirs.buffers(), strict=True):
        np.testing.assert_allclose(b_ours.numpy(), b_theirs.numpy(), tol, tol, err_msg=name)
    assert repr(ours) == repr(theirs)
    return y_ours, y_theirs


@pytest.mark.parametrize(
    ("args", "shape"), [((), (3, 4)), ((4,), (2, 4, 3)), ((3, 0.1), (2, 3, 2, 2))]
)
def test_prelu_module_equals_torchs(args, shape):
    theirs = torch.nn.PReLU(*args, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.uniform_(-1, 1)
    ours = nn.PReLU(*args, dtype=aprende.float64)
    assert np.allclose(ours.weight.detach().numpy(), args[1] if len(args) > 1 else 0.25)
    check_module(ours, theirs, rng.standard_normal(shape))


ACTIVATION_MODULES = {
    "Threshold": ((0.1, 20.0), {}),
    "Hardshrink": ((), {}),
    "Hardshrink-lambd": ((1.2,), {}),
    "Softshrink": ((0.3,), {}),
    "Tanhshrink": ((), {}),
    "Softmax2d": ((), {}),
    "RReLU": ((0.1, 0.3), {}),
}


@pytest.mark.parametrize("name", ACTIVATION_MODULES)
def test_activation_module_equals_torchs(name):
    args, kwargs = ACTIVATION_MODULES[name]
    cls = name.split("-")[0]
    ours, theirs = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, IMAGES)


def test_threshold_inplace_module_changes_its_input_as_torchs():
    ours, theirs = nn.Threshold(0.0, -1.0, inplace=True), torch.nn.Threshold(0.0, -1.0, True)
    x_ours, x_theirs = aprende.tensor(IMAGES), torch.tensor(IMAGES)
    assert ours(x_ours) is x_ours
    theirs(x_theirs)
    np.testing.assert_array_equal(x_ours.numpy(), x_theirs.numpy())
    assert repr(ours) == repr(theirs)


PADDINGS = [
    ("ZeroPad1d", (2,), (2, 3, 4)),
    ("ZeroPad1d", ((1, -1),), (3, 4)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 4)),
    ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (3, 4, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 2, 3, 2)),
    ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad1d", ((3, 1),), (3, 4)),
    ("ReflectionPad2d", ((1, 2, 2, 0),), (2, 3, 4, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 2, 3, 2)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 4)),
    ("ReplicationPad2d", (2,), (3, 4, 4)),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 2)),
    ("CircularPad1d", ((3, 1),), (2, 3, 4)),
    ("CircularPad2d", (1,), (3, 4, 4)),
    ("CircularPad3d", ((1, 0, 2, 1, 0, 1),), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize(("name", "args", "shape"), PADDINGS)
def test_padding_module_equals_torchs(name, args, shape):
    check_module(
        getattr(nn, name)(*args), getattr(torch.nn, name)(*args), rng.standard_normal(shape)
    )


@pytest.mark.parametrize(
    ("name", "args", "shape"),
    [("ReflectionPad1d", (4,), (2, 3, 4)), ("ZeroPad2d", ((1, 2, 3),), (2, 3, 4, 4)),
     ("CircularPad2d", (1,), (4, 4)), ("ReplicationPad2d", (1,), (1, 1, 2, 3, 4))],
)  # fmt: skip
def test_bad_padding_raises_torchs_type(name, args, shape):
    raises_like_torch(lambda ns, a: getattr(ns.nn, name)(*args)(a), [rng.standard_normal(shape)])


@pytest.mark.parametrize(
    ("name", "arg", "shape"),
    [("PixelShuffle", 2, (2, 8, 3, 2)), ("PixelUnshuffle", 2, (2, 2, 4, 6)),
     ("ChannelShuffle", 3, (2, 6, 2, 2))],
)  # fmt: skip
def test_shuffle_module_equals_torchs(name, arg, shape):
    check_module(getattr(nn, name)(arg), getattr(torch.nn, name)(arg), rng.standard_normal(shape))


INPLACE = {
    "relu_": (),
    "leaky_relu_": (0.2,),
    "elu_": (0.5,),
    "selu_": (),
    "celu_": (2.0,),
    "hardtanh_": (-0.5, 0.7),
    "threshold_": (0.1, -4.0),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_functional_changes_its_input_as_torchs(name, dtype):
    args = INPLACE[name]
    x_ours = aprende.tensor(KINKS, dtype=getattr(aprende, dtype))
    x_theirs = torch.tensor(KINKS, dtype=getattr(torch, dtype))
    view = x_ours[2:]
    assert getattr(aprende.nn.functional, name)(x_ours, *args) is x_ours
    getattr(torch.nn.functional, name)(x_theirs, *args)
    np.testing.assert_allclose(x_ours.numpy(), x_theirs.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(view.numpy(), x_ours.numpy()[2:])


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_functional_on_a_leaf_that_requires_grad_raises_torchs_type(name):
    x_theirs = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(x_theirs, *INPLACE[name])
    x_ours = aprende.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=name):
        getattr(aprende.nn.functional, name)(x_ours, *INPLACE[name])


# ---- normalisation -----------------------------------------------------------------------------


def _randomise(module):
    """Non-trivial affine parameters, so that γ and β are checked too."""
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(0.5, 1.5)
    return module


NORMS = [
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 4), {"eps": 1e-3}, (2, 4, 2, 3)),
    ("GroupNorm", (4, 4), {"affine": False}, (2, 4, 3)),
    ("GroupNorm", (2, 6), {"bias": False}, (2, 6)),
    ("RMSNorm", (5,), {}, (3, 4, 5)),
    ("RMSNorm", ([4, 5],), {"eps": 1e-3}, (3, 4, 5)),
    ("RMSNorm", ((5,),), {"elementwise_affine": False}, (2, 5)),
    ("LocalResponseNorm", (2,), {}, (2, 5, 3)),
    ("LocalResponseNorm", (3,), {"alpha": 0.5, "beta": 0.6, "k": 2.0}, (2, 4, 3, 2)),
    ("LocalResponseNorm", (4,), {"alpha": 1.0}, (1, 3, 2, 2, 2)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True}, (3, 5)),
    ("InstanceNorm2d", (4,), {"affine": True, "bias": False}, (2, 4, 3, 5)),
    ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}, (2, 4, 3, 5)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), NORMS)
def test_norm_module_equals_torchs(name, args, kwargs, shape, dtype):
    theirs = _randomise(getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype)))
    ours = getattr(nn, name)(*args, **kwargs).to(getattr(aprende, dtype))
    tol = 1e-7 if dtype == "float64" else 2e-5
    x = rng.standard_normal(shape) * 2 + 1
    check_module(ours, theirs, x.astype(dtype), tol)


def test_rms_norm_default_eps_is_the_dtypes_epsilon():
    x = np.full((2, 3), 1e-4)  # mean(x²) = 1e-8 is close enough to ε(float32) ≈ 1.2e-7 to tell
    for dtype in ("float32", "float64"):
        ours = aprende.nn.functional.rms_norm(aprende.tensor(x, dtype=getattr(aprende, dtype)), [3])
        theirs = torch.nn.functional.rms_norm(torch.tensor(x, dtype=getattr(torch, dtype)), [3])
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize(
    ("cls", "shape"), [("InstanceNorm1d", (3, 2, 6)), ("InstanceNorm2d", (2, 2, 3, 3))]
)
def test_instance_norm_running_stats_and_eval_equal_torchs(cls, shape, momentum):
    theirs = getattr(torch.nn, cls)(2, momentum=momentum, affine=True, track_running_stats=True)
    theirs = _randomise(theirs.double())
    ours = getattr(nn, cls)(2, momentum=momentum, affine=True, track_running_stats=True)
    ours = ours.double()
    step_rng = np.random.default_rng(3)
    check_module(ours, theirs, step_rng.standard_normal(shape))
    for _ in range(3):
        x = step_rng.standard_normal(shape) * 3 + 2
        ours(aprende.tensor(x)), theirs(torch.tensor(x))
    for (key, ours_value), theirs_value in zip(
        ours.state_dict().items(), theirs.state_dict().values(), strict=True
    ):
        np.testing.assert_allclose(
            ours_value.detach().numpy(), theirs_value.numpy(), 1e-12, err_msg=key
        )
    ours.eval(), theirs.eval()
    check_module(ours, theirs, step_rng.standard_normal(shape))


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_functional_instance_norm_with_running_stats_equals_torchs(use_input_stats):
    x = rng.standard_normal((4, 3, 5))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    stats = {aprende: [aprende.tensor(mean)], torch: [torch.tensor(mean)]}
    stats[aprende].append(aprende.tensor(var.copy()))
    stats[torch].append(torch.tensor(var.copy()))

    def op(ns, a, w, b):
        return ns.nn.functional.instance_norm(a, *stats[ns], w, b, use_input_stats, 0.3)

    compare(op, [x, rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)])
    for ours, theirs in zip(stats[aprende], stats[torch], strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), 1e-12)


FUNCTIONAL_NORMS = {
    "group_norm": lambda ns, a, w, b: ns.nn.functional.group_norm(a, 2, w, b),
    "group_norm-no-affine": lambda ns, a, w, b: (
        ns.nn.functional.group_norm(a, 4) + w.sum() * b.sum()
    ),
    "rms_norm": lambda ns, a, w, b: ns.nn.functional.rms_norm(a, [4, 5], None, 1e-6) * b[0],
    "instance_norm": lambda ns, a, w, b: ns.nn.functional.instance_norm(a, weight=w, bias=b),
    "local_response_norm": lambda ns, a, w, b: ns.nn.functional.local_response_norm(a, 3) * w[0],
}


@pytest.mark.parametrize("name", FUNCTIONAL_NORMS)
def test_functional_norm_equals_torchs(name):
    compare(
        FUNCTIONAL_NORMS[name],
        [rng.standard_normal((2, 4, 4, 5)), rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)],
    )


NORM_ERRORS = {
    "group_norm groups": lambda ns, a: ns.nn.functional.group_norm(a, 3),
    "group_norm weight": lambda ns, a: ns.nn.functional.group_norm(a, 2, ns.ones(3, dtype=a.dtype)),
    "GroupNorm channels": lambda ns, a: ns.nn.GroupNorm(3, 4),
    "rms_norm shape": lambda ns, a: ns.nn.functional.rms_norm(a, [4]),
    "RMSNorm shape": lambda ns, a: ns.nn.RMSNorm([4, 4])(a),
    "local_response_norm 2-D": lambda ns, a: ns.nn.functional.local_response_norm(a[0, :, 0], 2),
    "InstanceNorm1d 4-D": lambda ns, a: ns.nn.InstanceNorm1d(4)(a),
    "InstanceNorm2d 2-D": lambda ns, a: ns.nn.InstanceNorm2d(4)(a[0, 0]),
    "InstanceNorm2d affine features": lambda ns, a: ns.nn.InstanceNorm2d(3, affine=True)(a),
    "instance_norm one position": lambda ns, a: ns.nn.functional.instance_norm(a[:, :, :1, :1]),
}


@pytest.mark.parametrize("name", NORM_ERRORS)
def test_bad_norm_arguments_raise_torchs_type(name):
    raises_like_torch(NORM_ERRORS[name], [rng.standard_normal((2, 4, 3, 5))])


def test_instance_norm_warns_as_torch_when_features_do_not_match_without_affine():
    x = rng.standard_normal((2, 3, 4))
    with pytest.warns(UserWarning):
        torch.nn.InstanceNorm1d(5)(torch.tensor(x))
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm1d(5)(aprende.tensor(x))


# ---- dropout: PyTorch's random stream differs, so compare the maps, not the masks -------------


def _alpha_dropout_map(y, grad, x):
    """(a, b, dropped value, gradient slope) read off an alpha-dropout output: kept elements
    are a·x + b with gradient a, dropped ones one constant with gradient 0."""
    kept = grad != 0
    a, b = np.polyfit(x[kept], y[kept], 1)
    dropped = np.unique(np.round(y[~kept], 12))
    assert dropped.size == 1
    return np.array([a, b, dropped[0], np.unique(np.round(grad[kept], 12)).item()])


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_is_torchs_affine_map(name, p):
    x = rng.standard_normal((40, 30, 2))
    maps = []
    for ns in (aprende, torch):
        t = ns.tensor(x, requires_grad=True)
        y = getattr(ns.nn.functional, name)(t, p, True)
        y.sum().backward()
        maps.append(_alpha_dropout_map(y.detach().numpy(), t.grad.numpy(), x))
    np.testing.assert_allclose(maps[0], maps[1], rtol=1e-9)


@pytest.mark.parametrize(
    ("cls", "shape"),
    [("Dropout1d", (6, 5, 4)), ("Dropout1d", (6, 4)), ("AlphaDropout", (3, 4)),
     ("FeatureAlphaDropout", (3, 4, 2, 2))],
)  # fmt: skip
def test_dropout_module_repr_and_eval_as_torchs(cls, shape):
    ours, theirs = getattr(nn, cls)(0.4), getattr(torch.nn, cls)(0.4)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal(shape)
    ours.eval(), theirs.eval()
    check_module(ours, theirs, x)


@pytest.mark.parametrize(
    "op",
    [lambda ns, a: ns.nn.functional.dropout1d(a, 0.5),
     lambda ns, a: ns.nn.functional.dropout1d(a[0], 1.5),
     lambda ns, a: ns.nn.functional.alpha_dropout(a, -0.1, True),
     lambda ns, a: ns.nn.functional.feature_alpha_dropout(a[0, 0, 0], 0.5, True),
     lambda ns, a: ns.nn.AlphaDropout(2.0)],
)  # fmt: skip
def test_bad_dropout_arguments_raise_torchs_type(op):
    raises_like_torch(op, [rng.standard_normal((2, 3, 4, 5))])


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_with_p_one_gives_zeros_as_torch(name):
    x = rng.standard_normal((3, 4))
    ours = getattr(aprende.nn.functional, name)(aprende.tensor(x), 1.0, True)
    theirs = getattr(torch.nn.functional, name)(torch.tensor(x), 1.0, True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
