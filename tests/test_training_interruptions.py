"""The fit loop around an interruption or a bad number: a second fit after Ctrl-C, a NaN
validation loss, an empty loader, raised patience, the slides' loop with its own generator,
the folder's lock, NumPy's warnings."""

import math
import os
import warnings

import numpy as np
import pytest

import aprende
from aprende import nn, optim
from aprende.training import (
    Callback,
    EarlyStopping,
    History,
    NonFiniteLossError,
    fit,
    load_checkpoint,
    save_checkpoint,
    train_model,
)
from aprende.training.run_lock import RunLockedError
from tests.checkpoint_helpers import (
    assert_same_weights,
    blobs,
    comparable_history,
    loader,
    locked_by_another_process,
    tiny_run,
    weights,
)


class _InterruptOnce(Callback):
    """Ctrl-C in the middle of epoch ``epoch`` (0-based), the first time only."""

    def __init__(self, epoch):
        self.epoch, self.fired = epoch, False

    def on_batch_end(self, batch, logs=None):
        if not self.fired and len(self.run.history) == self.epoch and batch == 1:
            self.fired = True
            raise KeyboardInterrupt


@pytest.mark.parametrize("checkpoints", [True, False])
def test_fit_again_after_ctrl_c_in_the_first_epoch_is_the_uninterrupted_run(tmp_path, checkpoints):
    reference, _, expected = tiny_run(tmp_path / "reference")
    folder = tmp_path / "run" if checkpoints else None
    interrupt = _InterruptOnce(0)
    with pytest.raises(KeyboardInterrupt):
        _run_with(folder, interrupt)
    model, history = _run_with(folder, interrupt, fresh=False)
    assert_same_weights(weights(reference), weights(model))
    assert comparable_history(history) == comparable_history(expected)


_objects: dict = {}


def _run_with(folder, extra, fresh=True):
    """``tiny_run``'s objects, kept between the interrupted fit and the next one."""
    if fresh:
        aprende.manual_seed(0)
        x, y = blobs()
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
        optimizer = optim.Adam(model.parameters(), lr=0.05)
        _objects.update(
            model=model,
            optimizer=optimizer,
            scheduler=optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7),
            train=loader(x[:32], y[:32], shuffle=True, generator=1),
            val=loader(x[32:], y[32:], batch_size=16),
            stopper=EarlyStopping(patience=5, restore_best_weights=True),
        )
    o = _objects
    history = fit(
        o["model"], o["optimizer"], nn.CrossEntropyLoss(), o["train"], o["val"], epochs=3,
        metrics=["accuracy"], scheduler=o["scheduler"], callbacks=[o["stopper"], extra],
        checkpoint_dir=folder, verbose=0,
    )  # fmt: skip
    return o["model"], history


def test_nan_validation_loss_stops_the_run_naming_the_epoch(tmp_path):
    x, y = blobs()
    val_x = x[32:].copy()
    val_x[0, 0] = np.nan
    model = nn.Linear(4, 3)
    with pytest.raises(NonFiniteLossError, match="val_loss became nan at epoch 1"):
        fit(
            model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            loader(x[:32], y[:32]), loader(val_x, y[32:]), epochs=2,
            checkpoint_dir=tmp_path, verbose=0,
        )  # fmt: skip
    assert not list(tmp_path.glob("epoch-*"))  # the NaN epoch was not recorded


def test_nan_is_never_the_best_epoch():
    history = History()
    for epoch, value in enumerate([math.nan, 0.5, 0.7]):
        history.append(epoch, {"val_loss": value})
    assert history.best() == (1, 0.5)
    stopper = EarlyStopping(patience=1)

    class Run:
        model, stop_training, resumed = nn.Linear(1, 1), False, False

    stopper.set_run(Run())
    stopper.on_train_begin()
    for epoch, value in enumerate([math.nan, 0.5, 0.4]):
        stopper.on_epoch_end(epoch, {"val_loss": value})
    assert stopper.best == 0.4 and stopper.best_epoch == 2 and not Run.stop_training


@pytest.mark.parametrize("which", ["train", "val"])
def test_an_empty_loader_is_a_clear_error(which):
    x, y = blobs()
    empty = loader(x[:0], y[:0])
    full = loader(x, y)
    model = nn.Linear(4, 3)
    train, val = (empty, full) if which == "train" else (full, empty)
    with pytest.raises(ValueError, match=f"fit: {which}_loader gives no batches"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), train, val,
            metrics=["accuracy"], verbose=0)  # fmt: skip


def test_raising_patience_continues_an_early_stopped_run(tmp_path, capsys):
    _, _, stopped = tiny_run(tmp_path / "run", epochs=30, patience=1)
    assert len(stopped) < 30
    _, _, again = tiny_run(tmp_path / "run", epochs=30, patience=1, verbose=1)
    assert len(again) == len(stopped) and "nothing to do" in capsys.readouterr().out
    _, _, longer = tiny_run(tmp_path / "run", epochs=30, patience=4)
    _, _, straight = tiny_run(tmp_path / "straight", epochs=30, patience=4)
    assert len(longer) > len(stopped)
    assert comparable_history(longer) == comparable_history(straight)


def _slides(directory, epochs, seed):
    aprende.manual_seed(seed)
    x, y = blobs()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train = loader(x, y, shuffle=True, generator=5)  # the loader's own generator
    start, model, optimizer = load_checkpoint(model, optimizer, directory, loaders=[train])
    for epoch in range(start, epochs):
        for inputs, labels in train:
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(inputs), labels).backward()
            optimizer.step()
        save_checkpoint(model, optimizer, epoch, directory, loaders=[train])
    return weights(model)


def test_the_slides_loop_with_a_seeded_loader_resumes_exactly(tmp_path, capsys):
    straight = _slides(tmp_path / "a", 4, seed=0)
    _slides(tmp_path / "b", 2, seed=0)
    assert_same_weights(straight, _slides(tmp_path / "b", 4, seed=123))
    x, y = blobs()

    def course(folder, epochs, seed):
        aprende.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
        optimizer = optim.SGD(model.parameters(), lr=0.05)
        train = loader(x, y, shuffle=True, generator=5)
        return train_model(model, optimizer, nn.CrossEntropyLoss(), train, epochs, folder)[0]

    whole = weights(course(tmp_path / "c", 3, 0))
    course(tmp_path / "d", 1, 0)
    assert_same_weights(whole, weights(course(tmp_path / "d", 3, 9)))


def test_a_diverging_run_reports_one_error_and_no_numpy_warnings(tmp_path):
    x, y = blobs()
    model = nn.Linear(4, 1)
    targets = y.astype(np.float32)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning from inside an op would fail here
        with pytest.raises(NonFiniteLossError, match="the loss became"):
            fit(model, optim.SGD(model.parameters(), lr=1e3), nn.MSELoss(),
                loader(x * 1e3, targets), epochs=20, verbose=0)  # fmt: skip


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    with locked_by_another_process(tmp_path) as pid:
        with pytest.raises(RunLockedError, match=f"in use by another process \\(pid {pid}\\)"):
            tiny_run(tmp_path, epochs=1)
    tiny_run(tmp_path, epochs=1)  # released when its holder ends
