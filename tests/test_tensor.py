"""Tensor construction, properties, conversions and factories, with PyTorch's semantics."""

import numpy as np
import pytest

import aprende


def test_tensor_infers_pytorch_dtypes():
    assert aprende.tensor([1.0, 2.0]).dtype == aprende.float32
    assert aprende.tensor([1, 2]).dtype == aprende.int64
    assert aprende.tensor([True]).dtype == aprende.bool
    assert aprende.tensor(np.ones(2)).dtype == aprende.float64  # NumPy arrays keep their dtype
    assert aprende.tensor([1, 2], dtype=aprende.float64).dtype == aprende.float64


def test_numpy_array_of_a_tensor_copies_unless_asked_not_to():
    t = aprende.tensor([1.0, 2.0])
    assert np.array(t) is not t.data and np.asarray(t) is t.data
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_tensor_constructor_infers_like_the_factory():
    assert aprende.Tensor([1.0, 2.0]).dtype == aprende.float32
    assert aprende.Tensor(np.ones(2)).dtype == aprende.float64


def test_tensor_copies_but_from_numpy_shares_memory():
    array = np.zeros(3, dtype=np.float32)
    copied, shared = aprende.tensor(array), aprende.from_numpy(array)
    array[0] = 5
    assert copied.numpy()[0] == 0 and shared.numpy()[0] == 5


def test_properties():
    x = aprende.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert x.is_leaf and x.grad is None and x.grad_fn is None and not x.requires_grad
    assert x.T.shape == (4, 3, 2) and len(x) == 2


def test_conversions():
    x = aprende.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert aprende.tensor(3.5).item() == 3.5 and float(aprende.tensor([2.0])) == 2.0
    assert x.double().dtype == aprende.float64 and x.long().dtype == aprende.int64
    assert x.to(aprende.float64).dtype == aprende.float64 and x.float() is x
    assert x.to("cpu") is x and x.to(device="cpu", dtype=aprende.float64).dtype == np.float64
    np.testing.assert_array_equal(np.asarray(x), [[1.5, 2.0]])


def test_cast_is_differentiable():
    x = aprende.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == aprende.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_detach_shares_data_and_leaves_the_graph():
    x = aprende.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        aprende.tensor([1, 2], requires_grad=True)
    x = aprende.ones(2).requires_grad_()
    assert x.requires_grad


def test_item_of_many_values_is_an_error():
    with pytest.raises(ValueError, match=r"one-element.*\(2,\)"):
        aprende.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(aprende.ones(2))


def test_factories():
    assert aprende.zeros((2, 3)).shape == (2, 3) and aprende.ones(4).numpy().sum() == 4
    assert aprende.full((2, 2), 7.0).dtype == aprende.float32
    assert aprende.full((2,), 7).dtype == aprende.int64
    np.testing.assert_array_equal(aprende.arange(5).numpy(), np.arange(5))
    assert aprende.arange(0, 1, 0.25).dtype == aprende.float32
    np.testing.assert_allclose(aprende.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(aprende.eye(3).numpy(), np.eye(3))
    like = aprende.ones(2, 3, dtype=aprende.float64)
    for made in (
        aprende.zeros_like(like),
        aprende.ones_like(like),
        aprende.rand_like(like),
        aprende.randn_like(like),
        aprende.full_like(like, 2.0),
        aprende.empty_like(like),
    ):
        assert made.shape == (2, 3) and made.dtype == aprende.float64
    ints = aprende.randint(0, 5, (1000,))
    assert ints.dtype == aprende.int64 and ints.numpy().min() == 0 and ints.numpy().max() == 4
    assert sorted(aprende.randperm(6).tolist()) == list(range(6))


def test_random_factories_follow_manual_seed_and_their_distributions():
    aprende.manual_seed(42)
    a = aprende.randn(10_000)
    aprende.manual_seed(42)
    b = aprende.randn(10_000)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert abs(a.numpy().mean()) < 0.05 and abs(a.numpy().std() - 1) < 0.05
    u = aprende.rand(10_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    state = aprende.get_rng_state()
    first = aprende.rand(3).tolist()
    aprende.set_rng_state(state)
    assert aprende.rand(3).tolist() == first


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: aprende.zeros(-1), ValueError, "non-negative integers"),
        (lambda: aprende.tensor([[1, 2], [3]]), ValueError, "cannot build a tensor"),
        (lambda: aprende.from_numpy([1, 2]), TypeError, "expected a numpy.ndarray, got list"),
        (lambda: aprende.manual_seed(-3), ValueError, "non-negative integer"),
        (lambda: aprende.device("tpu"), ValueError, "expected 'cpu' or 'cuda"),
        (lambda: aprende.randint(5, 5), ValueError, "low < high"),
    ],
)
def test_factory_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_repr_reads_like_pytorch():
    assert repr(aprende.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(aprende.ones(1, requires_grad=True))
    assert "grad_fn=<Mul>" in repr(aprende.ones(1, requires_grad=True) * 2)
    assert "dtype=aprende.float64" in repr(aprende.ones(1, dtype=aprende.float64))


def test_numpy_arrays_defer_to_tensor_operators():
    x = aprende.ones(2, requires_grad=True)
    y = np.array([1.0, 2.0], dtype=np.float32) * x
    assert isinstance(y, aprende.Tensor) and y.requires_grad


def test_python_scalars_keep_float32():
    x = aprende.ones(2)
    for y in (x * 2.5, 2.5 * x, x / 3, x - 1, x**2, 1 - x):
        assert y.dtype == aprende.float32
    assert (aprende.arange(3) / 2).dtype == aprende.float32


def test_iteration_and_hashing():
    x = aprende.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert len({x, x}) == 1


def test_cuda_is_reported_unavailable_without_cupy():
    assert isinstance(aprende.cuda.is_available(), bool)


def test_cuda_without_cupy_is_a_clear_error():
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed")
    with pytest.raises(
        RuntimeError, match=r"device 'cuda' needs CuPy: pip install 'aprende\[gpu\]'"
    ):
        aprende.ones(2).to("cuda")
    assert aprende.device("cuda:1") == "cuda:1" and aprende.device("cpu") != "cuda"


# ---- on each device: the same values as NumPy computes on the host -------------------------


def _host(t):
    return t.detach().cpu().numpy()


def test_factories_on_each_device(device):
    made = {
        "zeros": (aprende.zeros(2, 3, device=device), np.zeros((2, 3))),
        "ones": (aprende.ones(4, dtype=aprende.float64, device=device), np.ones(4)),
        "full": (aprende.full((2, 2), 7.0, device=device), np.full((2, 2), 7.0)),
        "arange": (aprende.arange(0, 1, 0.25, device=device), np.arange(0, 1, 0.25)),
        "linspace": (aprende.linspace(0, 1, 5, device=device), np.linspace(0, 1, 5)),
        "eye": (aprende.eye(3, 2, device=device), np.eye(3, 2)),
        "tensor": (aprende.tensor([[1, 2], [3, 4]], device=device), np.array([[1, 2], [3, 4]])),
    }
    for name, (ours, reference) in made.items():
        assert ours.device == device, name
        np.testing.assert_array_equal(_host(ours), reference, err_msg=name)
    like = aprende.ones(2, 3, dtype=aprende.float64, device=device)
    for factory in (aprende.zeros_like, aprende.ones_like, aprende.rand_like, aprende.randn_like):
        out = factory(like)
        assert (out.shape, out.dtype, out.device) == ((2, 3), aprende.float64, device)
    ints = _host(aprende.randint(0, 5, (1000,), device=device))
    assert ints.dtype == np.int64 and ints.min() == 0 and ints.max() == 4
    assert sorted(_host(aprende.randperm(6, device=device)).tolist()) == list(range(6))


def test_arithmetic_reductions_and_indexing_on_each_device(device):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 3 - 1
    b = np.linspace(-2, 2, 4, dtype=np.float32)
    x, y = aprende.tensor(a, device=device), aprende.tensor(b, device=device)
    results = {
        "add": (x + y, a + b),
        "sub": (1 - x, 1 - a),
        "mul": (x * y, a * b),
        "div": (x / (y + 3), a / (b + 3)),
        "pow": (x**2, a**2),
        "neg": (-x, -a),
        "matmul": (x @ y, a @ b),
        "sum": (x.sum(dim=1), a.sum(axis=1)),
        "mean": (x.mean(dim=0, keepdim=True), a.mean(axis=0, keepdims=True)),
        "max": (x.max(), a.max()),
        "argmax": (x.argmax(dim=1), a.argmax(axis=1)),
        "row": (x[1], a[1]),
        "slice": (x[:, 1:3], a[:, 1:3]),
        "fancy": (x[aprende.tensor([2, 0], device=device)], a[[2, 0]]),
        "mask": (x[x > 0], a[a > 0]),
        "transpose": (x.T, a.T),
        "reshape": (x.reshape(2, 6), a.reshape(2, 6)),
    }
    for name, (ours, reference) in results.items():
        assert ours.device == device, name
        np.testing.assert_allclose(_host(ours), reference, rtol=1e-6, err_msg=name)


def test_backward_on_each_device(device):
    a = np.array([[1.0, -2.0], [3.0, 0.5]], dtype=np.float32)
    x = aprende.tensor(a, requires_grad=True, device=device)
    (x * x + x).sum().backward()  # ∂/∂x Σ(x² + x) = 2x + 1
    assert x.grad.device == device
    np.testing.assert_allclose(_host(x.grad), 2 * a + 1)
    moved = x.detach().to("cpu")
    assert moved.device == "cpu"
    np.testing.assert_array_equal(moved.numpy(), a)
