"""A training step on a GPU moves nothing between host and device and never waits for it.

Counted on the fake CuPy (``tests/fakecupy``): with the data already on the device, a
steady-state step (forward, loss, backward, optimizer step, scheduler step) makes zero uploads
and zero host syncs; ``fit`` reads the device a bounded number of times per epoch.
"""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.data import DataLoader, TensorDataset
from aprende.training import fit


def _mlp():
    return nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)
    )


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip


MODELS = {"mlp": (_mlp, (8, 6)), "cnn": (_cnn, (8, 1, 8, 8))}
OPTIMIZERS = {
    "sgd_momentum": lambda p: aprende.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
    "adam": lambda p: aprende.optim.Adam(p, lr=1e-3),
}


@pytest.mark.parametrize("model_name", sorted(MODELS))
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_training_step_makes_no_host_round_trip(fake_cupy, model_name, optimizer_name):
    make, shape = MODELS[model_name]
    model = make().to("cuda")
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())
    scheduler = aprende.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = aprende.tensor(rng.standard_normal(shape).astype(np.float32), device="cuda")
    y = aprende.tensor(rng.integers(0, 3, shape[0]), device="cuda")

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        return loss

    step()  # warm-up: optimizer state and scratch buffers are allocated on the first step
    fake_cupy.counters.reset()
    for _ in range(3):
        loss = step()
    assert (fake_cupy.counters.syncs, fake_cupy.counters.uploads) == (0, 0)
    assert loss.device == "cuda" and all(p.device == "cuda" for p in model.parameters())
    assert np.isfinite(loss.item())


def _loader(n, batch_size, shape=(6,)):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, *shape)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)


def _fit_syncs(fake_cupy, batches):
    model = _mlp()
    optimizer = aprende.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = aprende.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    fake_cupy.counters.reset()
    fit(model, optimizer, nn.CrossEntropyLoss(), _loader(8 * batches, 8), epochs=1,
        device="cuda", verbose=0, grad_clip=1.0, scheduler=scheduler)  # fmt: skip
    return fake_cupy.counters.syncs


def test_fit_reads_the_device_a_bounded_number_of_times_per_epoch(fake_cupy):
    # the loss sum and the label checks, each read once at the end of the epoch
    assert _fit_syncs(fake_cupy, 4) == _fit_syncs(fake_cupy, 40) == 2
    # every 50 batches at most: 120 batches read three times
    assert _fit_syncs(fake_cupy, 120) == 6


def test_fit_with_metrics_and_validation_copies_outputs_once_per_epoch(fake_cupy):
    counts = []
    for batches in (3, 30):
        model = _mlp()
        optimizer = aprende.optim.SGD(model.parameters(), lr=1e-2)
        fake_cupy.counters.reset()
        fit(model, optimizer, nn.CrossEntropyLoss(), _loader(8 * batches, 8),
            val_loader=_loader(8 * batches, 8), metrics=["accuracy"], epochs=1, device="cuda",
            verbose=0)  # fmt: skip
        counts.append(fake_cupy.counters.syncs)
    assert counts[0] == counts[1] <= 10


def _small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip


FIT_MODELS = {
    "cnn": (_small_cnn, (1, 8, 8)),
    "lenet": (
        lambda: aprende.models.LeNet(num_classes=3, image_size=12, kernel_size=3),
        (1, 12, 12),
    ),
    "mlp_batchnorm": (
        lambda: nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3)),
        (6,),
    ),
}


@pytest.mark.parametrize("name", sorted(FIT_MODELS))
def test_fit_on_cuda_gives_the_cpu_numbers_without_device_randomness(cupy, name):
    """Trained two epochs on each device from the same weights and batches (no dropout: its
    masks come from the device's own generator), with validation and a metric."""
    make, shape = FIT_MODELS[name]
    histories = {}
    for dev in ("cpu", "cuda"):
        aprende.manual_seed(5)
        model = make()
        optimizer = aprende.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        history = fit(model, optimizer, nn.CrossEntropyLoss(), _loader(48, 8, shape),
                      val_loader=_loader(16, 8, shape), epochs=2, device=dev, verbose=0,
                      metrics=["accuracy"])  # fmt: skip
        histories[dev] = history
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(
            histories["cuda"].history[key], histories["cpu"].history[key], rtol=1e-5
        )


def test_fit_on_cuda_with_dropout_trains(cupy):
    model = _mlp()
    optimizer = aprende.optim.Adam(model.parameters(), lr=1e-2)
    history = fit(model, optimizer, nn.CrossEntropyLoss(), _loader(64, 8), epochs=3,
                  device="cuda", verbose=0)  # fmt: skip
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_fit_stops_on_a_non_finite_loss(device):
    x = np.ones((64, 6), np.float32)
    x[37, 2] = np.inf  # batch 5 of 8
    loader = DataLoader(TensorDataset(x, np.zeros(64, np.int64)), batch_size=8)
    model = nn.Linear(6, 3)
    optimizer = aprende.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(
        FloatingPointError, match="the loss became nan at epoch 1, (batch 5|in batches 1-8)"
    ):
        fit(model, optimizer, nn.CrossEntropyLoss(), loader, epochs=2, device=device, verbose=0)


def _dropout_run(checkpoint_dir, epochs, device="cuda"):
    aprende.manual_seed(11)
    model = _mlp()
    optimizer = aprende.optim.Adam(model.parameters(), lr=1e-2)
    fit(model, optimizer, nn.CrossEntropyLoss(), _loader(32, 8), epochs=epochs, device=device,
        verbose=0, checkpoint_dir=checkpoint_dir)  # fmt: skip
    return [p.detach().cpu().numpy() for p in model.parameters()]


def test_fit_on_cuda_resumes_with_the_devices_dropout_masks(cupy, tmp_path):
    """CuPy's generator state cannot be saved, so saving the state starts a fresh stream from
    (seed, stream number): a run stopped after epoch 1 and resumed draws the same masks in
    epochs 2 and 3 as the run that never stopped."""
    uninterrupted = _dropout_run(tmp_path / "a", 3)
    _dropout_run(tmp_path / "b", 1)
    resumed = _dropout_run(tmp_path / "b", 3)
    for expected, got in zip(uninterrupted, resumed, strict=True):
        np.testing.assert_array_equal(got, expected)
    # each epoch starts a stream (fit snapshots the state), so writing checkpoints or not
    # gives the same run
    for expected, got in zip(uninterrupted, _dropout_run(None, 3), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_dropout_on_cuda_draws_on_the_device_from_manual_seed(fake_cupy):
    x = aprende.ones(4, 50, device="cuda")
    masks = []
    for _ in range(2):
        aprende.manual_seed(4)
        fake_cupy.counters.reset()
        masks.append(aprende.nn.functional.dropout(x, 0.5))
        assert fake_cupy.counters.uploads == 0
    first, second = (m.cpu().numpy() for m in masks)
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 2.0}


def test_dropout_on_the_cpu_still_draws_from_the_host_generator():
    aprende.manual_seed(4)
    kept = aprende.nn.functional.dropout(aprende.ones(4, 50), 0.5).numpy() != 0
    expected = np.random.default_rng(4).random((4, 50), dtype=np.float32) >= 0.5  # m
    np.testing.assert_array_equal(kept, expected)


@pytest.mark.parametrize(
    "layer", [nn.Dropout(0.5), nn.Dropout2d(0.5), nn.GaussianNoise(0.3)], ids=repr
)
def test_noise_layers_draw_on_the_device(fake_cupy, layer):
    x = aprende.ones(4, 3, 5, 5, device="cuda", requires_grad=True)
    fake_cupy.counters.reset()
    out = layer(x)
    out.sum().backward()
    assert (fake_cupy.counters.syncs, fake_cupy.counters.uploads) == (0, 0)
    assert out.device == "cuda" and x.grad.device == "cuda"
    assert not np.allclose(out.detach().cpu().numpy(), 1.0)  # noise was applied


def test_a_bad_label_on_the_device_is_reported_by_fit(cupy):
    x = np.ones((32, 6), np.float32)
    y = np.zeros(32, np.int64)
    y[13] = 7
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = nn.Linear(6, 3)
    optimizer = aprende.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(IndexError, match="target label 7 is out of range for 3 classes"):
        fit(model, optimizer, nn.CrossEntropyLoss(), loader, epochs=1, device="cuda", verbose=0)


def test_deferred_checks_are_settled_every_256_checks(fake_cupy):
    logits = aprende.zeros(2, 3, device="cuda")
    labels = aprende.tensor([0, 1], device="cuda")
    fake_cupy.counters.reset()
    for _ in range(300):
        aprende.nn.functional.cross_entropy(logits, labels)
    assert fake_cupy.counters.syncs == 1  # one read settled the first 256; 44 still pending


@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0])
@pytest.mark.parametrize("max_norm", [0.01, 100.0])  # clipped, and left alone
def test_clip_grad_norm_on_the_device_matches_the_cpu_without_a_sync(cupy, norm_type, max_norm):
    grads = [np.random.default_rng(i).standard_normal(s).astype(np.float32)
             for i, s in enumerate([(3, 4), (4,), (0,)])]  # fmt: skip
    results = []
    for dev in ("cpu", "cuda"):
        params = [aprende.zeros(*g.shape, device=dev, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = aprende.tensor(g, device=dev)
        if dev == "cuda" and hasattr(cupy, "counters"):
            cupy.counters.reset()
        total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        if dev == "cuda" and hasattr(cupy, "counters"):
            assert (cupy.counters.syncs, cupy.counters.uploads) == (0, 0)
        results.append([total.cpu().numpy()] + [p.grad.cpu().numpy() for p in params])
    for expected, got in zip(*results, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
