"""A tiny training run shared by the checkpoint tests (a few milliseconds an epoch), and
another process holding a run folder's lock."""

import os
from contextlib import contextmanager

import numpy as np

import aprende
from aprende import nn, optim
from aprende.data import DataLoader, TensorDataset
from aprende.training import CSVLogger, EarlyStopping, fit

TIMING = ("time", "samples_per_s")  # the only logs that may differ between two runs


def blobs(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 4)).astype(np.float32) + y[:, None].astype(np.float32)
    return x, y.astype(np.int64)


def loader(x, y, batch_size=8, shuffle=False, generator=None):
    dataset = TensorDataset(aprende.tensor(x), aprende.tensor(y))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def tiny_run(checkpoint_dir, epochs=3, patience=5, csv=None, **options):
    """A seeded fit with everything that carries state: a shuffling loader with its own
    generator, dropout, Adam, a schedule, early stopping keeping the best weights."""
    aprende.manual_seed(0)
    x, y = blobs()
    train = loader(x[:32], y[:32], shuffle=True, generator=1)
    val = loader(x[32:], y[32:], batch_size=16)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    callbacks = [EarlyStopping(patience=patience, restore_best_weights=True)]
    if csv is not None:
        callbacks.insert(0, CSVLogger(csv))
    history = fit(
        model,
        optimizer,
        nn.CrossEntropyLoss(),
        train,
        val,
        epochs=epochs,
        metrics=["accuracy"],
        scheduler=scheduler,
        callbacks=callbacks,
        checkpoint_dir=checkpoint_dir,
        verbose=options.pop("verbose", 0),
        **options,
    )
    return model, optimizer, history


def weights(model) -> dict:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def comparable_history(history) -> dict:
    return {k: v for k, v in history.history.items() if k not in TIMING}


def assert_same_weights(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@contextmanager
def locked_by_another_process(folder):
    """A forked child holds ``folder``'s RunLock while the block runs; yields its pid."""
    from aprende.training.run_lock import RunLock

    ready_read, ready_write = os.pipe()
    done_read, done_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        with RunLock(folder):
            os.write(ready_write, b"1")
            os.read(done_read, 1)
        os._exit(0)
    os.read(ready_read, 1)
    try:
        yield pid
    finally:
        os.write(done_write, b"1")
        os.waitpid(pid, 0)
