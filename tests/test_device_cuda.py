"""The same ops, layers, losses and optimizers on device "cuda" as on the CPU.

Each case runs once on the CPU (the reference) and once on "cuda" (the fake CuPy by default,
``--cuda=real`` for a GPU), from the same inputs, and compares outputs and gradients.
"""

import numpy as np
import pytest

import aprende
import aprende.nn.functional as F
from aprende import nn

RNG = np.random.default_rng(7)


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _labels(n, classes):
    return RNG.integers(0, classes, n)


OPS = {
    "add_mul_div": lambda a, b: (a + b * 2 - b / 3) * a,
    "pow_neg": lambda a, b: (-a) ** 2 + b.abs() ** 0.5,
    "matmul": lambda a, b: a @ b.T,
    "exp_log_tanh_sigmoid": lambda a, b: a.exp().log() + a.tanh() + b.sigmoid(),
    "relu_gelu_leaky": lambda a, b: F.relu(a) + F.gelu(b) + F.leaky_relu(a, 0.1),
    "softmax_log_softmax": lambda a, b: F.softmax(a, 1) * F.log_softmax(b, 1),
    "sum_mean_dims": lambda a, b: a.sum(1, keepdim=True) * b.mean(0),
    "max_min": lambda a, b: a.max(1).values + b.min(1).values,
    "var_std": lambda a, b: a.var(1) + b.std(0).sum(),
    "reshape_transpose_cat": lambda a, b: aprende.cat([a.reshape(-1), b.T.reshape(-1)]),
    "stack_index": lambda a, b: aprende.cat(
        [aprende.stack([a[:, 1], b[0]]).sum(0), a[1:, 2] * b[1:, ::2].sum(1)]
    ),
    "where_clamp": lambda a, b: aprende.where(a > 0, a, b).clamp(-0.5, 0.5),
    "broadcast": lambda a, b: a * b[:1] + b.sum(1, keepdim=True),
    "linear": lambda a, b: F.linear(a, b, b[0]),
    "mse_l1": lambda a, b: F.mse_loss(a, b) + F.l1_loss(a, b),
    "bce_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid()),
    "cross_entropy_soft": lambda a, b: F.cross_entropy(a, F.softmax(b, 1)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name, device):
    a, b = _x(5, 5), _x(5, 5)
    results = []
    for dev in ("cpu", device):
        ta = aprende.tensor(a, requires_grad=True, device=dev)
        tb = aprende.tensor(b, requires_grad=True, device=dev)
        out = OPS[name](ta, tb)
        # a weighted sum: an all-ones upstream gradient hides bugs
        weights = np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(out.shape)
        (out * aprende.tensor(weights, device=dev)).sum().backward()
        assert out.device == dev and ta.grad.device == dev
        results.append((out.detach().cpu().numpy(), ta.grad.cpu().numpy(), tb.grad.cpu().numpy()))
    for cpu_array, dev_array in zip(*results, strict=True):
        np.testing.assert_allclose(dev_array, cpu_array, rtol=1e-6, atol=1e-6)


def _run_module(make, x, target, loss, dev, steps=1, optimizer=None):
    """Outputs and parameters of a module after ``steps`` steps, from the same start."""
    aprende.manual_seed(3)
    model = make().to(dev)
    opt = optimizer(model.parameters()) if optimizer else None
    xs = aprende.tensor(x, device=dev, requires_grad=True)
    ts = aprende.tensor(target, device=dev)
    for _ in range(steps):
        if opt:
            opt.zero_grad()
        out = model(xs)
        loss(out, ts).backward()
        if opt:
            opt.step()
    grads = [p.grad.cpu().numpy() for p in model.parameters() if p.grad is not None]
    return [out.detach().cpu().numpy(), xs.grad.cpu().numpy(), *grads] + [
        v.cpu().numpy() for v in model.state_dict().values()
    ]


def _mse(out, target):
    return F.mse_loss(out, target)


CNN_INPUT = (_x(2, 3, 8, 8), _x(2, 4, 4, 4))
MODULES = {
    "linear": (lambda: nn.Linear(5, 3), _x(4, 5), _x(4, 3), _mse),
    "mlp_tanh": (
        lambda: nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)),
        _x(6, 5),
        _labels(6, 3),
        F.cross_entropy,
    ),  # fmt: skip
    "mlp_batchnorm": (
        lambda: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)),
        _x(6, 5),
        _labels(6, 3),
        F.cross_entropy,
    ),  # fmt: skip
    "conv_pool_batchnorm": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.MaxPool2d(2)),
        *CNN_INPUT,
        _mse,
    ),  # fmt: skip
    "conv_stride_avgpool": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.AvgPool2d(1)),
        *CNN_INPUT,
        _mse,
    ),  # fmt: skip
    "layernorm_gelu": (lambda: nn.Sequential(nn.LayerNorm(5), nn.GELU()), _x(4, 5), _x(4, 5), _mse),
    "upsample": (lambda: nn.Upsample(scale_factor=2), _x(1, 2, 3, 3), _x(1, 2, 6, 6), _mse),
    "nll_log_softmax": (
        lambda: nn.Sequential(nn.Linear(5, 4), nn.LogSoftmax(1)),
        _x(6, 5),
        _labels(6, 4),
        F.nll_loss,
    ),  # fmt: skip
    "bce": (
        lambda: nn.Sequential(nn.Linear(5, 1), nn.Sigmoid()),
        _x(6, 5),
        (_x(6, 1) > 0).astype(np.float32),
        F.binary_cross_entropy,
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_matches_cpu(name, device):
    make, x, target, loss = MODULES[name]
    cpu = _run_module(make, x, target, loss, "cpu")
    dev = _run_module(make, x, target, loss, device)
    for expected, got in zip(cpu, dev, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


OPTIMIZERS = {
    "sgd_momentum": lambda p: aprende.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: aprende.optim.Adam(p, lr=0.01, weight_decay=0.01),
    "adamw_amsgrad": lambda p: aprende.optim.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop": lambda p: aprende.optim.RMSprop(p, lr=0.01, momentum=0.5),
    "adagrad": lambda p: aprende.optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_cpu(name, device):
    # No bias before a batch norm here: its gradient is pure rounding noise, which Adagrad's
    # and RMSprop's normalised steps would blow up to lr-sized differences.
    make, x, target, loss = MODULES["mlp_tanh"]
    runs = [
        _run_module(make, x, target, loss, dev, steps=3, optimizer=OPTIMIZERS[name])
        for dev in ("cpu", device)
    ]
    for expected, got in zip(*runs, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_cross_entropy_label_out_of_range_is_reported(device):
    logits = aprende.tensor(_x(4, 3), device=device)
    labels = aprende.tensor(np.array([0, 1, 3, 2]), device=device)
    with pytest.raises(IndexError, match="target label 3 is out of range for 3 classes"):
        # on a GPU the check is read with the next value the host reads
        F.cross_entropy(logits, labels).item()


def test_a_copy_to_the_host_settles_the_checks_the_device_deferred(device):
    logits = aprende.tensor(_x(4, 3), device=device)
    labels = aprende.tensor(np.array([0, 1, 3, 2]), device=device)
    with pytest.raises(IndexError, match="target label 3 is out of range for 3 classes"):
        F.cross_entropy(logits, labels).cpu()  # on a GPU: raised by the copy, not the loss


def test_cross_entropy_ignore_index_matches_cpu(device):
    logits, labels = _x(5, 3), np.array([0, -100, 2, 1, -100])
    values = [
        F.cross_entropy(aprende.tensor(logits, device=d), aprende.tensor(labels, device=d)).item()
        for d in ("cpu", device)
    ]
    assert values[1] == pytest.approx(values[0], rel=1e-6)


def test_mixing_devices_raises_pytorchs_error(cupy):
    on_gpu, on_cpu = aprende.ones(3, device="cuda"), aprende.ones(3)
    for op in (lambda: on_gpu + on_cpu, lambda: on_cpu * on_gpu, lambda: on_gpu @ on_cpu):
        with pytest.raises(RuntimeError, match="expected all tensors to be on the same device"):
            op()


def test_indexing_a_gpu_tensor_with_host_indices(device):
    x = aprende.arange(12.0, device=device).reshape(3, 4)
    picked = x[[2, 0], aprende.tensor([1, 3])]
    assert picked.device == device
    np.testing.assert_array_equal(picked.cpu().numpy(), [9.0, 3.0])
    x[np.array([0, 1]), 0] = -1.0
    np.testing.assert_array_equal(x[:, 0].cpu().numpy(), [-1.0, -1.0, 8.0])


def test_backend_moves_arrays_between_devices(cupy):
    from aprende import backend

    assert aprende.cuda.is_available()
    host = np.arange(6.0).reshape(2, 3)
    on_gpu = backend.move(host, "cuda")
    assert isinstance(on_gpu, cupy.ndarray) and backend.get_array_module(on_gpu) is cupy
    assert backend.device_of(on_gpu) == "cuda:0" and backend.xp_for("cuda") is cupy
    assert backend.move(on_gpu, "cuda:0") is on_gpu  # already there: no copy
    back = backend.to_numpy(on_gpu)
    assert type(back) is np.ndarray and backend.device_of(back) == "cpu"
    np.testing.assert_array_equal(back, host)
    np.testing.assert_array_equal(backend.move(on_gpu, "cpu"), host)
