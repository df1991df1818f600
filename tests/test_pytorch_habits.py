"""Code written with PyTorch's habits runs here too: predicting over a DataLoader, the mode a
model is left in after fit, regression losses on (N, 1) outputs against (N,) targets,
state_dict tensors that share the parameters' memory, PyTorch's DataLoader worker options, and
BCE targets outside [0, 1]. Each expected value is written out by hand (the side-by-side
comparison with PyTorch is in test_pytorch_habits_torch.py)."""

import copy
import warnings

import numpy as np
import pytest

import aprende
from aprende import nn, training
from aprende.data import DataLoader, TensorDataset
from aprende.nn import functional as F

rng = np.random.default_rng(7)


def regression_data(n=10):
    X = aprende.tensor(rng.normal(size=(n, 3)).astype(np.float32))
    y = aprende.tensor(rng.normal(size=(n, 1)).astype(np.float32))
    return X, y


# ---- predict over a loader ----------------------------------------------------------------------


@pytest.mark.parametrize("with_targets", [True, False])
def test_predict_over_a_dataloader_concatenates_every_batch(with_targets):
    X, y = regression_data(10)
    model = nn.Linear(3, 1)
    dataset = TensorDataset(X, y) if with_targets else TensorDataset(X)
    out = training.predict(model, DataLoader(dataset, batch_size=4))
    assert out.shape == (10, 1)
    assert not out.requires_grad
    expected = X.numpy() @ model.weight.detach().numpy().T + model.bias.detach().numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_predict_over_a_loader_of_plain_tensors_and_a_generator_of_batches():
    X, _ = regression_data(7)
    model = nn.Linear(3, 2)
    whole = training.predict(model, X)
    np.testing.assert_allclose(
        training.predict(model, DataLoader(X.numpy(), batch_size=3)).numpy(), whole.numpy(),
        rtol=1e-6,
    )  # fmt: skip
    batches = ((X[i : i + 2], None) for i in range(0, 7, 2))
    np.testing.assert_allclose(training.predict(model, batches).numpy(), whole.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="predict: the loader gives no batches"):
        training.predict(model, iter(()))


# ---- fit ends in training mode --------------------------------------------------------------


@pytest.mark.parametrize("validate", [True, False])
def test_fit_leaves_the_model_in_training_mode(validate):
    X, y = regression_data(8)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    training.fit(
        model, aprende.optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), loader,
        val_loader=loader if validate else None, epochs=2, verbose=0,
    )  # fmt: skip
    assert model.training
    assert all(m.training for m in model.modules())


# ---- regression losses broadcast a target of another shape, with a warning ------------------


@pytest.mark.parametrize(
    "loss, elementwise",
    [(F.mse_loss, lambda d: d * d), (F.l1_loss, np.abs)],
    ids=["mse", "l1"],
)
def test_column_output_against_flat_target_broadcasts_with_a_warning(loss, elementwise):
    x = rng.normal(size=(4, 1)).astype(np.float32)
    t = rng.normal(size=4).astype(np.float32)
    xa = aprende.tensor(x, requires_grad=True)
    with pytest.warns(UserWarning, match=r"target size \(4,\) .*input size \(4, 1\).*broadcasting"):
        out = loss(xa, aprende.tensor(t))
    table = x - t  # (4, 4): every output against every target
    np.testing.assert_allclose(out.item(), elementwise(table).mean(), rtol=1e-5)
    out.backward()
    # d mean(ℓ(x_i − t_j)) / d x_i sums over the 4 targets it met
    grad = (2 * table if loss is F.mse_loss else np.sign(table)).sum(axis=1, keepdims=True) / 16
    np.testing.assert_allclose(xa.grad.numpy(), grad, rtol=1e-5, atol=1e-7)


def test_target_gradient_is_summed_back_to_its_shape():
    x = aprende.tensor(rng.normal(size=(3, 1)).astype(np.float32))
    t = aprende.tensor(rng.normal(size=(1, 2)).astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning):
        F.mse_loss(x, t, reduction="sum").backward()
    expected = (-2 * (x.numpy() - t.detach().numpy())).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5)


def test_same_shapes_do_not_warn_and_incompatible_shapes_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.MSELoss()(aprende.randn(3, 2), aprende.randn(3, 2))
    with pytest.raises(RuntimeError, match=r"mse_loss: target of shape \(4,\) cannot be broad"):
        nn.MSELoss()(aprende.randn(3, 2), aprende.randn(4))


def test_mixed_float_dtypes_promote_as_pytorch():
    half, single = aprende.ones(3, dtype=aprende.float16), aprende.zeros(3)
    assert F.mse_loss(half, single).dtype == aprende.float32
    assert F.l1_loss(single, aprende.zeros(3, dtype=aprende.float64)).dtype == aprende.float64
    # integer targets take the input's dtype
    assert F.mse_loss(single, aprende.tensor([0, 1, 2])).dtype == aprende.float32
    x = aprende.zeros(3, requires_grad=True)
    F.mse_loss(x, aprende.ones(3, dtype=aprende.float64)).backward()
    assert x.grad.dtype == aprende.float32
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, -2 / 3), rtol=1e-6)


# ---- state_dict shares memory --------------------------------------------------------------


def test_state_dict_tensors_are_detached_views_of_the_parameters():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = model.state_dict()
    assert not sd["0.weight"].requires_grad and sd["0.weight"].grad_fn is None
    before = model[0].bias.detach().numpy().copy()
    with aprende.no_grad():
        sd["0.bias"].add_(1)
    np.testing.assert_array_equal(model[0].bias.detach().numpy(), before + 1)
    sd["1.running_mean"].fill_(5.0)
    np.testing.assert_array_equal(model[1].running_mean.numpy(), np.full(3, 5.0))
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight


def test_deepcopy_of_a_state_dict_is_a_snapshot():
    model = nn.Linear(2, 1)
    kept = copy.deepcopy(model.state_dict())
    with aprende.no_grad():
        model.weight.add_(1)
    np.testing.assert_array_equal(kept["weight"].numpy() + 1, model.weight.detach().numpy())
    model.load_state_dict(kept)
    np.testing.assert_array_equal(model.weight.detach().numpy(), kept["weight"].numpy())


def test_the_epoch_snapshot_copies_the_weights():
    from aprende.training.run_state import snapshot

    model = nn.Linear(2, 1)
    optimizer = aprende.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(aprende.zeros(2, 2)), batch_size=1)
    taken = snapshot(model, optimizer, None, loader)
    before = taken["model"]["weight"].copy()
    with aprende.no_grad():
        model.weight.add_(1)
    np.testing.assert_array_equal(taken["model"]["weight"], before)


# ---- DataLoader takes PyTorch's worker options ----------------------------------------------


def test_dataloader_accepts_worker_options_and_loads_in_this_process():
    X, y = regression_data(6)
    calls = []
    loader = DataLoader(
        TensorDataset(X, y), batch_size=4, shuffle=False, num_workers=4, pin_memory=True,
        persistent_workers=True, prefetch_factor=2, worker_init_fn=calls.append, timeout=30,
    )  # fmt: skip
    batches = list(loader)
    assert [len(b[0]) for b in batches] == [4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X.numpy())
    assert loader.num_workers == 4 and loader.pin_memory and loader.prefetch_factor == 2
    assert calls == []  # no worker process is started, so none is initialised


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"num_workers": 1.5}, TypeError, "num_workers should be an integer, got float"),
        ({"num_workers": True}, TypeError, "num_workers should be an integer, got bool"),
        ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
        ({"timeout": "5"}, TypeError, "timeout should be a number, got str"),
        ({"worker_init_fn": 3}, TypeError, "worker_init_fn should be a callable or None"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
        ({"num_workers": 2, "prefetch_factor": -1}, ValueError, "prefetch_factor option should"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_work"),
    ],
)
def test_dataloader_checks_worker_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(list(range(4)), **kwargs)


# ---- BCE targets in [0, 1] ------------------------------------------------------------------


def test_bce_refuses_targets_outside_zero_one():
    p = aprende.full((3,), 0.5)
    with pytest.raises(RuntimeError, match=r"all elements of target should be between 0 and 1"):
        nn.BCELoss()(p, aprende.tensor([0.0, 2.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"got values in \[-1, 1\]"):
        F.binary_cross_entropy(p, aprende.tensor([0.0, -1.0, 1.0]))
    np.testing.assert_allclose(
        nn.BCELoss()(p, aprende.tensor([0.0, 0.3, 1.0])).item(), np.log(2), rtol=1e-6
    )
