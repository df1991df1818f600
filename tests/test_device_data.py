"""Training data that lives on the GPU: an epoch's order goes up once, batches are gathered there.

Counted on the fake CuPy (``tests/fakecupy``): a DataLoader over a device ``TensorDataset``
uploads one array per epoch whatever its number of batches, and ``fit`` / ``train_model`` copy
an in-memory dataset to the device once, so an epoch's uploads and host syncs do not grow with
its number of batches. The CPU run, from the same seed, is the reference for every number.
"""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.data import DataLoader, Subset, TensorDataset
from aprende.training import fit, loader_on_device, train_model


def _arrays(n, shape=(6,), seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, 3, n)


def _host(batch):
    return [aprende.backend.to_numpy(t.data) for t in batch]


@pytest.mark.parametrize("batches", [4, 40])
def test_loader_over_a_device_dataset_uploads_once_per_epoch(fake_cupy, batches):
    x, y = _arrays(8 * batches)
    dataset = TensorDataset(x, y).to("cuda")
    loader = DataLoader(dataset, batch_size=8, shuffle=True, generator=3)
    reference = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=3)
    for _epoch in range(2):
        fake_cupy.counters.reset()
        got = list(loader)
        assert (fake_cupy.counters.uploads, fake_cupy.counters.syncs) == (1, 0)
        assert all(t.device == "cuda" for batch in got for t in batch)
        expected = list(reference)
        assert len(got) == len(expected) == batches
        for batch, want in zip(got, expected, strict=True):
            for array, host in zip(_host(batch), want, strict=True):
                np.testing.assert_array_equal(array, host.data)


def test_loader_over_a_device_dataset_keeps_batch_indices_and_drop_last(fake_cupy):
    x, y = _arrays(30)
    loader = DataLoader(TensorDataset(x, y).to("cuda"), batch_size=8, shuffle=True,
                        drop_last=True, generator=0)  # fmt: skip
    seen = []
    for inputs, targets in loader:
        labels = aprende.backend.to_numpy(targets.data)
        np.testing.assert_array_equal(labels, y[loader.batch_indices])
        seen.append(len(inputs))
    assert seen == [8, 8, 8]


def test_subset_of_a_device_dataset_gathers_the_subset_rows(fake_cupy):
    x, y = _arrays(20)
    indices = [19, 3, 7, 0, 12, 5, 8]
    loader = DataLoader(Subset(TensorDataset(x, y).to("cuda"), indices), batch_size=3)
    fake_cupy.counters.reset()
    got = np.concatenate([_host(batch)[1] for batch in loader])
    assert fake_cupy.counters.uploads == 1
    np.testing.assert_array_equal(got, y[indices])


def test_device_dataset_index_out_of_range_is_a_clear_error(fake_cupy):
    x, y = _arrays(5)
    loader = DataLoader(TensorDataset(x, y).to("cuda"), batch_size=2, sampler=[0, 1, 9])
    with pytest.raises(IndexError, match="dataset of 5 examples: got indices in \\[0, 9\\]"):
        list(loader)


def test_tensor_dataset_to_moves_every_tensor(fake_cupy):
    x, y = _arrays(4)
    dataset = TensorDataset(x, y, transform=None)
    moved = dataset.to("cuda")
    assert [t.device for t in moved.tensors] == ["cuda", "cuda"]
    assert fake_cupy.counters.uploads == 2
    assert moved.nbytes == dataset.nbytes == x.nbytes + y.nbytes
    np.testing.assert_array_equal(aprende.backend.to_numpy(moved.tensors[0].data), x)


def _mlp(dropout=0.3):
    return nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3)
    )


def _cnn(dropout=0.2):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(4 * 4 * 4, 3),
    )  # fmt: skip


MODELS = {"mlp": (_mlp, (6,)), "cnn": (_cnn, (1, 8, 8))}


def _fit_counts(fake_cupy, make, shape, batches, **options):
    x, y = _arrays(8 * batches, shape)
    model = make()
    optimizer = aprende.optim.Adam(model.parameters(), lr=1e-2)
    fake_cupy.counters.reset()
    fit(model, optimizer, nn.CrossEntropyLoss(),
        DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True),
        val_loader=DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8), epochs=1,
        device="cuda", verbose=0, **options)  # fmt: skip
    return fake_cupy.counters.uploads, fake_cupy.counters.syncs


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fit_epoch_transfers_do_not_grow_with_the_batches(fake_cupy, name):
    make, shape = MODELS[name]
    few, many = _fit_counts(fake_cupy, make, shape, 4), _fit_counts(fake_cupy, make, shape, 40)
    assert few == many
    uploads, _syncs = few
    parameters = len(list(make().parameters())) + 2 * sum(
        isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for m in make().modules()
    )  # weights and running statistics
    # the model once, each dataset's two tensors once, each loader's order once
    assert uploads <= parameters + 4 + 2 + 2


def test_fit_uploads_each_batch_when_the_data_does_not_fit(fake_cupy, monkeypatch):
    monkeypatch.setitem(fake_cupy.memory, "free", 1000)  # bytes: far below the dataset's
    few = _fit_counts(fake_cupy, _mlp, (6,), 4)
    many = _fit_counts(fake_cupy, _mlp, (6,), 40)
    assert many[0] - few[0] == 2 * 36  # inputs and targets of each extra batch
    assert few[1] == many[1]  # the loss is still read a bounded number of times


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("free", [64 << 30, 1000])
def test_fit_on_device_data_gives_the_cpu_history(cupy, monkeypatch, name, free):
    """No dropout (its masks come from the device's own generator): the same weights and
    batches give the CPU's numbers, whether the data was copied whole or batch by batch."""
    if hasattr(cupy, "memory"):
        monkeypatch.setitem(cupy.memory, "free", free)
    make, shape = MODELS[name]
    x, y = _arrays(48, shape)
    histories = {}
    for dev in ("cpu", "cuda"):
        aprende.manual_seed(5)
        model = make(0.0)
        optimizer = aprende.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        train = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=2)
        val = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
        history = fit(model, optimizer, nn.CrossEntropyLoss(), train, val_loader=val, epochs=2,
                      device=dev, verbose=0, metrics=["accuracy"])  # fmt: skip
        histories[dev] = history.history
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(histories["cuda"][key], histories["cpu"][key], rtol=1e-5)


def test_loader_on_device_keeps_what_it_cannot_move(fake_cupy):
    x, y = _arrays(8)
    plain = DataLoader(TensorDataset(x, y), batch_size=4)
    transformed = DataLoader(TensorDataset(x, y, transform=lambda a: a * 2), batch_size=4)
    collated = DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=lambda b: b)
    assert loader_on_device(plain, "cpu") is plain
    assert loader_on_device(transformed, "cuda") is transformed
    assert loader_on_device(collated, "cuda") is collated
    moved = loader_on_device(plain, "cuda")
    assert moved is not plain and moved.generator is plain.generator
    assert moved.sampler is plain.sampler and plain.dataset.tensors[0].device == "cpu"
    assert loader_on_device(moved, "cuda") is moved  # already there


def _train_model_losses(device, tmp_path, batches):
    aprende.manual_seed(4)
    x, y = _arrays(8 * batches)
    model = _mlp(0.0)
    optimizer = aprende.optim.SGD(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=1)
    folder = tmp_path / f"{device}-{batches}"
    _, losses = train_model(model, optimizer, nn.CrossEntropyLoss(), loader, num_epochs=2,
                            checkpoint_dir=folder, device=device)  # fmt: skip
    return losses


def test_train_model_reads_the_loss_once_per_epoch_on_a_gpu(fake_cupy, tmp_path, capsys):
    counts = []
    for batches in (4, 40):
        fake_cupy.counters.reset()
        cuda = _train_model_losses("cuda", tmp_path, batches)
        counts.append((fake_cupy.counters.uploads, fake_cupy.counters.syncs))
        np.testing.assert_allclose(cuda, _train_model_losses("cpu", tmp_path, batches), rtol=1e-5)
    assert counts[0] == counts[1]
    assert "Epoch 2/2: loss" in capsys.readouterr().out


def test_cli_train_evaluate_predict_on_cuda_give_the_cpu_run(cupy, tmp_path, capsys):
    """``aprende train --device cuda`` with dropout 0 (no draws on the device): the CPU run's
    history and test scores; ``evaluate`` and ``predict`` then work on the GPU run's folder."""
    pytest.importorskip("safetensors")
    import csv
    import json

    from aprende.cli import main
    from aprende.datasets import load_iris

    flags = ["--dataset", "iris", "--dropout", "0", "--epochs", "4", "--hidden", "8"]
    runs = {}
    for dev in ("cpu", "cuda"):
        folder = tmp_path / dev
        assert main(["train", *flags, "--device", dev, "--out", str(folder)]) == 0
        runs[dev] = folder
    capsys.readouterr()
    scores = {dev: json.loads((runs[dev] / "metrics.json").read_text()) for dev in runs}
    assert scores["cuda"]["accuracy"] == scores["cpu"]["accuracy"]
    np.testing.assert_allclose(
        np.array(scores["cuda"]["confusion_matrix"]), np.array(scores["cpu"]["confusion_matrix"])
    )
    histories = {dev: (runs[dev] / "history.csv").read_text().splitlines() for dev in runs}
    assert histories["cuda"][0] == histories["cpu"][0] and len(histories["cuda"]) == 5
    columns = histories["cpu"][0].split(",")
    for column in ("loss", "val_loss", "val_accuracy"):
        at = columns.index(column)
        np.testing.assert_allclose(
            [float(line.split(",")[at]) for line in histories["cuda"][1:]],
            [float(line.split(",")[at]) for line in histories["cpu"][1:]],
            rtol=1e-5,
        )

    assert main(["evaluate", str(runs["cuda"]), "--device", "cuda"]) == 0
    evaluated = capsys.readouterr().out
    assert main(["evaluate", str(runs["cpu"])]) == 0
    assert evaluated == capsys.readouterr().out  # the same table from either run and device
    X, _, info = load_iris()
    source = tmp_path / "rows.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([info.feature_names, *X[:5].tolist()])
    predictions = {}
    for dev in runs:
        out = tmp_path / f"p-{dev}.csv"
        assert main(["predict", str(runs[dev]), str(source), "--device", dev, "-o", str(out)]) == 0
        predictions[dev] = list(csv.DictReader(out.open()))
    assert len(predictions["cuda"]) == 5
    assert [r["prediction"] for r in predictions["cuda"]] == [
        r["prediction"] for r in predictions["cpu"]
    ]
