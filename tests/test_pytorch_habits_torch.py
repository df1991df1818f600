"""The PyTorch habits of test_pytorch_habits.py, run side by side with PyTorch: the same
snippet gives the same numbers, warnings, errors and sharing in both."""

import copy
import warnings

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.data import DataLoader
from aprende.nn import functional as F

torch = pytest.importorskip("torch")

rng = np.random.default_rng(11)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize(
    "shapes", [((5, 1), (5,)), ((5,), (5, 1)), ((2, 3), (3,)), ((4, 1), (1, 3))]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_broadcast_regression_losses_match_torch(name, shapes, reduction):
    x = rng.normal(size=shapes[0]).astype(np.float32)
    t = rng.normal(size=shapes[1]).astype(np.float32)
    xa, ta = aprende.tensor(x, requires_grad=True), aprende.tensor(t, requires_grad=True)
    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    with pytest.warns(UserWarning, match="This will likely lead to incorrect results") as ours:
        out = getattr(F, name)(xa, ta, reduction=reduction)
    with pytest.warns(UserWarning, match="This will likely lead to incorrect results") as theirs:
        ref = getattr(torch.nn.functional, name)(xt, tt, reduction=reduction)
    assert ours[0].category is theirs[0].category
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = rng.normal(size=tuple(ref.shape)).astype(np.float32)
    (out * aprende.tensor(upstream)).sum().backward()
    (ref * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ta.grad.numpy(), tt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_incompatible_shapes_raise_runtime_error_as_torch():
    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.functional.mse_loss(torch.ones(3, 2), torch.ones(4))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.mse_loss(aprende.ones(3, 2), aprende.ones(4))


@pytest.mark.parametrize(
    "input_dtype, target_dtype",
    [("float16", "float32"), ("float32", "float16"), ("float32", "float64"), ("float32", "int64")],
)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_result_dtype_matches_torch(name, input_dtype, target_dtype):
    x = rng.normal(size=4).astype(input_dtype)
    t = rng.integers(0, 3, size=4).astype(target_dtype)
    xa = aprende.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out = getattr(F, name)(xa, aprende.tensor(t))
    ref = getattr(torch.nn.functional, name)(xt, torch.tensor(t))
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-3)
    out.backward()
    ref.backward()
    assert str(xa.grad.dtype).split(".")[-1] == str(xt.grad.dtype).split(".")[-1]
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-3)


def test_state_dict_sharing_matches_torch():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    for model, no_grad in ((ours, aprende.no_grad), (theirs, torch.no_grad)):
        sd = model.state_dict()
        assert not sd["bias"].requires_grad
        before = model.bias.detach().numpy().copy()
        with no_grad():
            sd["bias"].add_(1)
        np.testing.assert_array_equal(model.bias.detach().numpy(), before + 1)
        kept = copy.deepcopy(model.state_dict())
        with no_grad():
            model.bias.add_(1)
        np.testing.assert_array_equal(kept["bias"].numpy(), before + 1)
        assert model.state_dict(keep_vars=True)["bias"] is model.bias


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_workers": -1},
        {"timeout": -1},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
        {"num_workers": 2, "prefetch_factor": -1},
    ],
)
def test_dataloader_option_errors_match_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError) as ours:
        DataLoader(list(range(4)), **kwargs)
    # the same sentence opens both messages
    assert " ".join(str(theirs.value).split()[:4]) in str(ours.value)


def test_dataloader_with_workers_yields_torchs_batches():
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    options = {"batch_size": 4, "num_workers": 0, "pin_memory": False, "timeout": 0}
    ours = [b.numpy() for b in DataLoader(data, **options, worker_init_fn=print)]
    theirs = [b.numpy() for b in torch.utils.data.DataLoader(data, **options)]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bce_target_range_error_matches_torch():
    p, bad = np.full(3, 0.5, np.float32), np.array([0.0, 2.0, 1.0], np.float32)
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        torch.nn.BCELoss()(torch.tensor(p), torch.tensor(bad))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        nn.BCELoss()(aprende.tensor(p), aprende.tensor(bad))


def test_fit_leaves_train_mode_like_a_torch_training_loop():
    from aprende import training
    from aprende.data import TensorDataset

    X = aprende.tensor(rng.normal(size=(8, 3)).astype(np.float32))
    y = aprende.tensor(rng.normal(size=(8, 1)).astype(np.float32))
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.2), nn.Linear(2, 1))
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    training.fit(
        model, aprende.optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), loader,
        val_loader=loader, epochs=1, verbose=0,
    )  # fmt: skip
    reference = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.2))
    reference.train()  # what the end of a torch epoch loop leaves
    assert model.training == reference.training
