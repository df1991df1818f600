"""The training loop: the slides' code, exact resume after a kill, checkpoints, callbacks."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import aprende
from aprende import nn, optim
from aprende.data import DataLoader, TensorDataset
from aprende.training import (
    CheckpointError,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    NonFiniteLossError,
    evaluate,
    fit,
    latest_checkpoint,
    load_checkpoint,
    lr_find,
    predict,
    save_checkpoint,
)
from aprende.training.checkpoint import flatten_state, read_checkpoint, unflatten_state


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 4)).astype(np.float32) + y[:, None].astype(np.float32)
    return x, y.astype(np.int64)


def _loader(x, y, batch_size=16, shuffle=True, seed=0):
    return DataLoader(
        TensorDataset(aprende.tensor(x), aprende.tensor(y)),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=seed,
    )


def _model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))


def _weights(model) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def _assert_same_weights(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ---- the slides' code, transcribed ------------------------------------------------------------


def slides_train_model(
    model,
    optimizer,
    criterion,
    train_loader,
    num_epochs=10,
    checkpoint_dir="checkpoints",
    device="cpu",
):
    # As on the slide "Ejemplo de código del entrenamiento de una red neuronal".
    start_epoch, model, optimizer = load_checkpoint(model, optimizer, checkpoint_dir)
    model.to(device)
    for epoch in range(start_epoch, num_epochs):
        model.train()
        for _batch_idx, (batch_data, batch_labels) in enumerate(train_loader):
            optimizer.zero_grad()
            batch_data = batch_data.to(device)
            batch_labels = batch_labels.to(device)
            outputs = model(batch_data)
            loss = criterion(outputs, batch_labels)
            loss.backward()
            optimizer.step()
        save_checkpoint(model, optimizer, epoch, checkpoint_dir)
    return model


def _slides_run(directory, epochs, seed=0):
    aprende.manual_seed(seed)
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = _blobs()
    loader = _loader(x, y, seed=None)
    return slides_train_model(model, optimizer, nn.CrossEntropyLoss(), loader, epochs, directory)


def test_slides_loop_runs_and_resumes_where_it_stopped(tmp_path):
    uninterrupted = _weights(_slides_run(tmp_path / "a", epochs=4))
    _slides_run(tmp_path / "b", epochs=2)
    assert latest_checkpoint(tmp_path / "b").name == "epoch-0002.json"  # names count from 1
    # a new process would start from fresh objects and a fresh seed: the checkpoint restores all
    resumed = _weights(_slides_run(tmp_path / "b", epochs=4, seed=123))
    _assert_same_weights(uninterrupted, resumed)


def test_load_checkpoint_without_checkpoint_leaves_everything_untouched(tmp_path):
    model = _model()
    optimizer = optim.Adam(model.parameters())
    before = _weights(model)
    start, same_model, same_optimizer = load_checkpoint(model, optimizer, tmp_path / "none")
    assert start == 0 and same_model is model and same_optimizer is optimizer
    _assert_same_weights(before, _weights(model))


# ---- kill a real process and resume -----------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import aprende
    from aprende import nn, optim
    from aprende.data import DataLoader, TensorDataset
    from aprende.training import Callback, EarlyStopping, fit, save_weights

    out, kill_at = sys.argv[1], int(sys.argv[2])

    class Kill(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    aprende.manual_seed(7)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 96)
    x = (rng.standard_normal((96, 4)) + y[:, None]).astype(np.float32)
    train = DataLoader(TensorDataset(aprende.tensor(x[:64]), aprende.tensor(y[:64])),
                       batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(aprende.tensor(x[64:]), aprende.tensor(y[64:])), batch_size=32)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(model, optimizer, nn.CrossEntropyLoss(), train, val, epochs=6,
                  metrics=["accuracy"], scheduler=scheduler, checkpoint_dir=out + "/ckpt",
                  callbacks=[Kill(), EarlyStopping(patience=10)], verbose=0)
    save_weights(model, out + "/final.safetensors")
    np.save(out + "/lr.npy", np.array(history["lr"]))
    """
)


def _run_script(script: Path, out: Path, kill_at: int) -> int:
    out.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [sys.executable, str(script), str(out), str(kill_at)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(result.stderr)
    return result.returncode


def _final_weights(out: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(out / "final.safetensors"))


@pytest.mark.parametrize("kill_at", [0, 3])
def test_run_killed_at_an_epoch_resumes_to_exactly_the_uninterrupted_weights(tmp_path, kill_at):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    assert _run_script(script, tmp_path / "straight", kill_at=-1) == 0
    assert _run_script(script, tmp_path / "killed", kill_at=kill_at) == -signal.SIGKILL
    assert not (tmp_path / "killed" / "final.safetensors").exists()
    assert _run_script(script, tmp_path / "killed", kill_at=-1) == 0
    _assert_same_weights(_final_weights(tmp_path / "straight"), _final_weights(tmp_path / "killed"))
    np.testing.assert_array_equal(
        np.load(tmp_path / "straight" / "lr.npy"), np.load(tmp_path / "killed" / "lr.npy")
    )


def test_crash_in_the_middle_of_a_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, optimizer = _model(), optim.SGD(_model().parameters(), lr=0.1)
    save_checkpoint(model, optimizer, 0, tmp_path)
    saved = _weights(model)
    with aprende.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    real_replace = os.replace

    def crash_on_json(source, target):
        if str(target).endswith(".json"):
            raise KeyboardInterrupt("killed mid-save")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", crash_on_json)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(model, optimizer, 1, tmp_path)
    monkeypatch.undo()
    assert latest_checkpoint(tmp_path).name == "epoch-0001.json"
    fresh = _model()
    assert load_checkpoint(fresh, None, tmp_path)[0] == 1
    _assert_same_weights(saved, _weights(fresh))
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


# ---- bad checkpoints ----------------------------------------------------------------------------


def test_checkpoint_that_does_not_fit_the_model_names_the_keys(tmp_path):
    save_checkpoint(_model(), None, 0, tmp_path)
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(
        CheckpointError,
        match=r"(?s)does not fit.*Missing key.*2\.weight.*size mismatch for 0\.weight",
    ):
        load_checkpoint(other, None, tmp_path)


def test_batch_norm_model_round_trips_with_its_0d_buffer(tmp_path):
    model = nn.MLP(4, [8], 3, batch_norm=True)
    model(aprende.randn(5, 4))  # training mode: the running statistics move
    save_checkpoint(model, None, 0, tmp_path)
    fresh = nn.MLP(4, [8], 3, batch_norm=True)
    load_checkpoint(fresh, None, tmp_path)
    _assert_same_weights(_weights(model), _weights(fresh))
    assert fresh.state_dict()["1.num_batches_tracked"].shape == ()


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = save_checkpoint(_model(), None, 0, tmp_path)
    tensors = path.with_suffix(".safetensors")
    tensors.write_bytes(tensors.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(_model(), None, tmp_path)


@pytest.mark.parametrize("content", [b"\x00\x01garbage", b'{"some": "json"}'])
def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path, content):
    path = tmp_path / "epoch-0003.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not an aprende checkpoint"):
        load_checkpoint(_model(), None, tmp_path)


def test_checkpoint_state_round_trips_nested_structures():
    arrays = {}
    state = {"a": np.arange(3.0), 0: {"b": (1, 2.5, None)}, "c": [np.ones((2, 2))], "d": -np.inf}
    flat = flatten_state(state, "s", arrays)
    import json

    restored = unflatten_state(json.loads(json.dumps(flat)), arrays)
    assert restored[0] == {"b": (1, 2.5, None)} and restored["d"] == -np.inf
    np.testing.assert_array_equal(restored["a"], state["a"])
    np.testing.assert_array_equal(restored["c"][0], state["c"][0])


def test_checkpoint_holds_no_pickle_and_only_json_and_safetensors(tmp_path):
    model = _model()
    optimizer = optim.Adam(model.parameters())
    x, y = _blobs(32)
    fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        _loader(x, y),
        epochs=2,
        verbose=0,
        checkpoint_dir=tmp_path,
        config={"lr": 1e-3},
    )
    names = {p.name for p in tmp_path.iterdir()}
    best_epoch = read_checkpoint(tmp_path / "best.json")[1]["epoch"]
    # the newest two epochs (0 and 1, named from 1) and the best
    kept = {
        f"epoch-{e + 1:04d}.{ext}" for e in {0, 1, best_epoch} for ext in ("json", "safetensors")
    }
    assert names == {".lock", "best.json", *kept}
    arrays, meta = read_checkpoint(tmp_path / "epoch-0002.json")
    assert meta["epoch"] == 1 and meta["config"] == {"lr": 1e-3}
    assert any(k.startswith("optimizer.state.") for k in arrays)  # Adam's moments
    assert all(b"pickle" not in p.read_bytes() for p in tmp_path.iterdir())


# ---- callbacks -----------------------------------------------------------------------------------


class _Logs:
    """A stand-in run for driving a callback with a fixed sequence of logs."""

    def __init__(self, model):
        self.model, self.stop_training, self.resumed = model, False, False


def _drive(callback, values, key="val_loss"):
    model = nn.Linear(2, 1)
    run = _Logs(model)
    callback.set_run(run)
    callback.on_train_begin()
    stopped_at = None
    for epoch, value in enumerate(values):
        with aprende.no_grad():
            model.weight.fill_(float(epoch))  # weights remember the epoch
        callback.on_epoch_end(epoch, {key: value})
        if run.stop_training:
            stopped_at = epoch
            break
    callback.on_train_end()
    return stopped_at, model


def test_early_stopping_patience_and_min_delta_as_keras():
    # best 1.0 at epoch 1; epochs 2, 3 are not better by min_delta 0.05 -> stop at epoch 3
    stopped, _ = _drive(EarlyStopping(patience=2, min_delta=0.05), [2.0, 1.0, 0.97, 0.99, 0.5])
    assert stopped == 3
    stopped, _ = _drive(EarlyStopping(patience=2), [2.0, 1.0, 0.97, 0.99, 0.98, 0.5])
    assert stopped == 4


def test_early_stopping_restores_the_best_weights():
    stopped, model = _drive(
        EarlyStopping(patience=1, restore_best_weights=True), [3.0, 1.0, 2.0, 2.5]
    )
    assert stopped == 2
    assert np.all(model.weight.detach().numpy() == 1.0)  # epoch 1's weights


def test_early_stopping_max_mode_baseline_and_missing_metric():
    stopped, _ = _drive(
        EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.55], key="val_accuracy"
    )
    assert stopped == 2
    # improvements that do not beat the baseline do not reset patience (Keras 3)
    stopped, _ = _drive(EarlyStopping(patience=2, baseline=0.5), [0.9, 0.8, 0.85])
    assert stopped == 2
    stopped, _ = _drive(EarlyStopping(patience=2), [0.9, 0.8, 0.85])
    assert stopped is None
    with pytest.warns(UserWarning, match="'val_loss' is not available.*'loss'"):
        _drive(EarlyStopping(), [1.0], key="loss")
    with pytest.raises(ValueError, match="mode='min' or 'max'"):
        EarlyStopping(monitor="val_thing")


def test_fit_with_early_stopping_ends_with_the_best_validation_weights(device, tmp_path):
    x, y = _blobs(120)
    model = _model()
    history = fit(
        model,
        optim.SGD(model.parameters(), lr=0.5, momentum=0.9),
        nn.CrossEntropyLoss(),
        _loader(x[:20], y[:20]),
        _loader(x[20:], y[20:], shuffle=False),
        epochs=30,
        verbose=0,
        device=device,
        callbacks=[
            EarlyStopping(patience=3, restore_best_weights=True),
            ModelCheckpoint(tmp_path / "w-{epoch:02d}.safetensors"),
        ],
    )
    best_epoch, best_value = history.best("val_loss")
    assert len(history) < 30, "expected overfitting on 20 examples to stop the run early"
    from aprende.training import load_weights

    reference = _model()
    load_weights(reference, tmp_path / f"w-{best_epoch + 1:02d}.safetensors")
    _assert_same_weights(_weights(reference), _weights(model))
    val = evaluate(
        model, _loader(x[20:], y[20:], shuffle=False), nn.CrossEntropyLoss(), device=device
    )
    assert val["loss"] == pytest.approx(best_value, rel=1e-5)


def test_reduce_lr_on_plateau_driven_by_validation_loss():
    x, y = _blobs(64)
    model = _model()
    # The optimizer holds a parameter outside the model: the model never changes, so the
    # validation loss is one long plateau from the start.
    optimizer = optim.SGD([aprende.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    history = fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        _loader(x, y),
        _loader(x, y, shuffle=False),
        epochs=6,
        scheduler=scheduler,
        verbose=0,
    )
    assert len(set(history["val_loss"])) == 1
    # epoch 0 sets the best; epochs 1, 2 do not improve -> halved after epoch 2, again after 4
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])


def test_csv_logger_and_history(device, tmp_path):
    x, y = _blobs(48)
    model = _model()
    history = fit(
        model,
        optim.Adam(model.parameters()),
        nn.CrossEntropyLoss(),
        _loader(x, y),
        _loader(x, y),
        epochs=3,
        metrics=["accuracy"],
        verbose=0,
        device=device,
        callbacks=[CSVLogger(tmp_path / "history.csv")],
    )
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0].split(",")[:4] == ["epoch", "loss", "accuracy", "val_loss"]
    assert len(lines) == 4 and len(history) == 3
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]  # counted from 1
    assert set(history.keys()) >= {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "time",
        "samples_per_s",
    }
    outputs = predict(model, x, device=device)
    assert outputs.device == device
    predicted = outputs.argmax(1).cpu().numpy()
    assert history["val_accuracy"][-1] == pytest.approx(np.mean(predicted == y))


# ---- the NaN guard ---------------------------------------------------------------------------


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_the_last_good_checkpoint(device, tmp_path):
    x, y = _blobs(64)
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        _loader(x, y),
        epochs=1,
        verbose=0,
        checkpoint_dir=tmp_path,
        device=device,
    )
    good = _weights(model)
    x_bad = x.copy()
    x_bad[37] = np.nan  # batch 3 of 4 (16 per batch, no shuffling)
    # a GPU's loss is read every few batches: it names the batches read together
    where = r"epoch 2, batch 3" if device == "cpu" else r"epoch 2, in batches 1-4"
    with pytest.raises(NonFiniteLossError, match=where):
        fit(
            model,
            optimizer,
            nn.CrossEntropyLoss(),
            _loader(x_bad, y, shuffle=False),
            epochs=2,
            verbose=0,
            checkpoint_dir=tmp_path,
            device=device,
        )
    assert latest_checkpoint(tmp_path).name == "epoch-0001.json"
    restored = _model()
    load_checkpoint(restored, None, tmp_path)
    _assert_same_weights(good, _weights(restored))


# ---- lr_find -----------------------------------------------------------------------------------


def test_lr_find_finds_the_good_range_of_a_quadratic_and_leaves_the_model_alone(device):
    # Least squares with MSE: full-batch gradient descent converges iff lr < 2/λmax of the
    # Hessian H = (2/N) XᵀX; far below, it barely moves. The suggestion must lie in between.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 1)) + 0.01 * rng.standard_normal((256, 1))).astype(np.float32)
    hessian_max = np.linalg.eigvalsh(2 * x.T.astype(np.float64) @ x / len(x)).max()
    limit = 2 / hessian_max
    model = nn.Linear(5, 1, bias=False)
    before = _weights(model)
    optimizer = optim.SGD(model.parameters(), lr=0.123)
    loader = _loader(x, y, batch_size=None, shuffle=False)
    result = lr_find(model, optimizer, nn.MSELoss(), loader, start_lr=1e-5, end_lr=100, num_iter=80,
                     device=device)  # fmt: skip
    assert limit / 30 < result.suggestion < limit
    assert result.losses[0] > result.losses[int(np.argmin(result.losses))]
    _assert_same_weights(before, _weights(model))
    assert optimizer.param_groups[0]["lr"] == 0.123


# ---- penalties, clipping, hard examples ----------------------------------------------------


def _bias_free_model():
    return nn.Sequential(nn.Linear(4, 8, bias=False), nn.Tanh(), nn.Linear(8, 3, bias=False))


def test_l2_penalty_is_sgd_weight_decay(device):
    # (λ/2)·Σw² adds λ·w to each weight's gradient: exactly SGD's weight_decay=λ
    x, y = _blobs(48)
    runs = []
    for l2, weight_decay in [(0.1, 0.0), (0.0, 0.1)]:
        aprende.manual_seed(3)
        model = _bias_free_model()
        optimizer = optim.SGD(model.parameters(), lr=0.1, weight_decay=weight_decay)
        fit(
            model,
            optimizer,
            nn.CrossEntropyLoss(),
            _loader(x, y, seed=1),
            epochs=2,
            l2=l2,
            verbose=0,
            device=device,
        )
        runs.append(_weights(model))
    for key in runs[0]:
        np.testing.assert_allclose(runs[0][key], runs[1][key], rtol=1e-5, atol=1e-7)


def test_l1_penalty_adds_lambda_sign_w_and_spares_biases(device):
    x, y = _blobs(16)
    aprende.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 3))
    before = _weights(model)
    criterion = nn.CrossEntropyLoss()
    loader = _loader(x, y, batch_size=None, shuffle=False)
    reference = nn.Sequential(nn.Linear(4, 3))
    reference.load_state_dict(model.state_dict())
    criterion(reference(aprende.tensor(x)), aprende.tensor(y)).backward()
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    fit(model, optimizer, criterion, loader, epochs=1, l1=0.2, verbose=0, device=device)
    weight_grad = reference[0].weight.grad.numpy() + 0.2 * np.sign(before["0.weight"])
    np.testing.assert_allclose(
        model[0].weight.detach().cpu().numpy(),
        before["0.weight"] - 0.5 * weight_grad,
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        model[0].bias.detach().cpu().numpy(),
        before["0.bias"] - 0.5 * reference[0].bias.grad.numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_grad_clip_bounds_the_step(device):
    x, y = _blobs(16)
    model = nn.Sequential(nn.Linear(4, 3))
    before = np.concatenate([v.ravel() for v in _weights(model).values()])
    fit(
        model,
        optim.SGD(model.parameters(), lr=1.0),
        nn.CrossEntropyLoss(),
        _loader(x * 100, y, batch_size=None, shuffle=False),
        epochs=1,
        grad_clip=0.01,
        verbose=0,
        device=device,
    )
    after = np.concatenate([v.ravel() for v in _weights(model).values()])
    assert np.linalg.norm(after - before) == pytest.approx(0.01, rel=1e-4)


def test_fit_feeds_per_example_losses_to_a_hard_example_sampler(device):
    from aprende.data import HardExampleSampler

    x, y = _blobs(40)
    dataset = TensorDataset(aprende.tensor(x), aprende.tensor(y))
    sampler = HardExampleSampler(dataset, generator=5)
    reported = []
    original = sampler.update
    sampler.update = lambda i, losses: (reported.append((np.array(i), losses)), original(i, losses))
    model = _model()
    history = fit(
        model,
        optim.SGD(model.parameters(), lr=0.01),
        nn.CrossEntropyLoss(),
        DataLoader(dataset, batch_size=8, sampler=sampler),
        epochs=1,
        verbose=0,
        device=device,
    )
    indices = np.concatenate([i for i, _ in reported])
    losses = np.concatenate([loss for _, loss in reported])
    assert len(indices) == len(losses) == 40 and np.all(losses > 0)
    # the batch means of the per-example losses are the epoch's reported training loss
    assert losses.mean() == pytest.approx(history["loss"][0], rel=1e-5)
    assert sampler.seen[indices].all()


@pytest.mark.parametrize(
    "name, options",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("Adagrad", {"lr": 0.1}),
        ("RMSprop", {"lr": 0.01}),
        ("Adam", {"lr": 0.01}),
        ("AdamW", {"lr": 0.01}),
    ],
)
def test_nn_mlp_fit_with_each_optimizer_solves_xor_and_two_spirals(name, options):
    from aprende.datasets import make_spirals, make_xor

    for maker, kwargs in [(make_spirals, {"n_samples": 300}), (make_xor, {"n_samples": 200})]:
        x, y, _ = maker(seed=0, **kwargs)
        aprende.manual_seed(0)
        model = nn.MLP(2, [32, 32], 2, activation="tanh")
        optimizer = getattr(optim, name)(model.parameters(), **options)
        fit(
            model,
            optimizer,
            nn.CrossEntropyLoss(),
            _loader(x * 3, y, batch_size=32),
            epochs=150,
            verbose=0,
        )
        accuracy = evaluate(model, _loader(x * 3, y, shuffle=False), metrics=["accuracy"])
        assert accuracy["accuracy"] >= 0.97, (maker.__name__, accuracy)


def test_progress_bar_plain_lines_and_rich_bar(capsys):
    import io

    from aprende.training import ProgressBar

    x, y = _blobs(32)
    stream = io.StringIO()
    model = _model()
    fit(
        model,
        optim.Adam(model.parameters()),
        nn.CrossEntropyLoss(),
        _loader(x, y),
        _loader(x, y),
        epochs=2,
        metrics=["accuracy"],
        verbose=0,
        callbacks=[ProgressBar(2, stream=stream, rich=False)],
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2: loss ")
    for field in ("accuracy", "val_loss", "val_accuracy", "lr ", "samples/s"):
        assert field in lines[1]
    fit(
        model,
        optim.Adam(model.parameters()),
        nn.CrossEntropyLoss(),
        _loader(x, y),
        epochs=1,
        verbose=0,
        callbacks=[ProgressBar(1, rich=True)],
    )
    assert "Epoch 1/1" in capsys.readouterr().out


def test_resume_with_preprocessing_the_checkpoint_lacks_is_a_clear_error(tmp_path):
    from aprende.data import StandardScaler

    x, y = _blobs(32)
    model = _model()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        _loader(x, y),
        epochs=1,
        verbose=0,
        checkpoint_dir=tmp_path,
    )
    scaler = StandardScaler().fit(x)
    with pytest.raises(CheckpointError, match=r"no preprocessing state 'scaler'"):
        fit(
            model,
            optimizer,
            nn.CrossEntropyLoss(),
            _loader(x, y),
            epochs=2,
            verbose=0,
            checkpoint_dir=tmp_path,
            preprocessing={"scaler": scaler},
        )
