"""The training loop: ``fit``, ``evaluate``, ``predict`` and the slides' ``train_model``.

One epoch is the slides' loop: for each mini-batch, ``optimizer.zero_grad()``, forward,
``loss = criterion(outputs, labels)``, ``loss.backward()``, ``optimizer.step()``. ``fit`` adds
what a real run needs around it: validation, metrics, callbacks, a learning-rate schedule,
checkpoints that let a killed run resume exactly where it was, and a guard against a loss
that turns NaN.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import no_grad
from aprende.data.sampler import HardExampleSampler
from aprende.training import checkpoint as ckpt
from aprende.training.callbacks import (
    CallbackList,
    LearningRateScheduler,
    ProgressBar,
)
from aprende.training.device_data import loader_on_device
from aprende.training.epoch_metrics import compute_metrics, output_kind
from aprende.training.history import History
from aprende.training.run_lock import RunLock
from aprende.training.run_state import Checkpointer, resume_run, roll_back, snapshot, still_stopped


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped before the step that would spoil the
    weights, and the last good checkpoint (if any) is untouched."""


class Run:
    """What callbacks see of a run: the model, optimizer, history, and a stop flag."""

    def __init__(self, model, optimizer, history: History):
        self.model, self.optimizer, self.history = model, optimizer, history
        self.stop_training = False
        self.resumed = False


def _to_numpy(t) -> np.ndarray:
    return backend.to_numpy(t.data if isinstance(t, Tensor) else t)


def _concatenated(arrays: list) -> np.ndarray:
    """The batches' arrays joined, then copied to the host once (not once per batch)."""
    return backend.to_numpy(backend.get_array_module(arrays[0]).concatenate(arrays))


_READ_EVERY = 50  # batches between two reads of the training loss on a GPU


class _LossSum:
    """Σ loss·size over an epoch's batches, with the guard against a non-finite loss.

    On the CPU each batch's loss is read at once, so a NaN stops training before its step
    touches the weights. On a GPU that read would make every step wait for the device, so the
    sum (in float64) stays there and is read every ``_READ_EVERY`` batches and at the end of
    the epoch: a sum is finite only when every loss in it is, and an epoch waits for the device
    a bounded number of times, whatever its number of batches.
    """

    def __init__(self, device, epoch: int):
        self.on_host = backend.device(device).type == "cpu"
        self.epoch, self.total, self.count = epoch, 0.0, 0
        self.pending, self.pending_count, self.first = None, 0, 0
        self.last = math.nan  # the latest loss the host knows, for the progress bar

    def add(self, loss: Tensor, size: int, batch: int) -> None:
        if self.on_host:
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"the loss became {value} at epoch {self.epoch + 1}, batch {batch + 1}: "
                    "training stopped before this step touched the weights; lower the "
                    "learning rate, clip gradients or check the data (the last good "
                    "checkpoint is kept)"
                )
            self.total, self.count, self.last = self.total + value * size, self.count + size, value
            return
        weighted = loss.detach().data.astype(np.float64) * size
        if self.pending is None:
            self.pending, self.first = weighted, batch
        else:
            self.pending = self.pending + weighted
        self.pending_count += size
        if batch + 1 - self.first >= _READ_EVERY:
            self.read(batch)

    def read(self, batch: int) -> None:
        """Bring the pending sum to the host (one transfer) and check it."""
        if self.pending is None:
            return
        value = float(backend.to_numpy(self.pending))
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"the loss became {value} at epoch {self.epoch + 1}, in batches "
                f"{self.first + 1}-{batch + 1} (a GPU's loss is read every {_READ_EVERY} "
                "batches): training stopped; lower the learning rate, clip gradients or check "
                "the data (the last good checkpoint is kept)"
            )
        self.total, self.count = self.total + value, self.count + self.pending_count
        self.last = value / max(self.pending_count, 1)
        self.pending, self.pending_count = None, 0

    def mean(self) -> float:
        return self.total / max(self.count, 1)


# ---- one pass over the data ------------------------------------------------------------------


def _parameters(model) -> list:
    return [p for p in model.parameters() if p.requires_grad]


def _penalty(model, l1: float, l2: float):
    """L1 (λ₁ Σ|w|) and L2 ((λ₂/2) Σ w², the same as SGD's weight_decay=λ₂) on the weights
    (parameters with two or more dims: biases and batch-norm parameters are left alone)."""
    total = None
    for p in model.parameters():
        if p.ndim < 2 or not p.requires_grad:
            continue
        term = None
        if l1:
            term = p.abs().sum() * l1
        if l2:
            squares = (p * p).sum() * (l2 / 2)
            term = squares if term is None else term + squares
        total = term if total is None else total + term
    return total


def _hard_example_sampler(loader):
    sampler = getattr(loader, "sampler", None)
    return sampler if isinstance(sampler, HardExampleSampler) else None


def _per_example_losses(criterion, outputs, targets) -> np.ndarray:
    """Each example's loss (the criterion with reduction='none', averaged over extra dims)."""
    reduction = criterion.reduction
    criterion.reduction = "none"
    try:
        with no_grad():
            losses = _to_numpy(criterion(outputs, targets))
    finally:
        criterion.reduction = reduction
    return losses.reshape(losses.shape[0], -1).mean(axis=1) if losses.ndim > 1 else losses


def train_one_epoch(
    model,
    optimizer,
    criterion,
    loader,
    *,
    epoch: int,
    device,
    callbacks,
    metrics,
    kind,
    grad_clip=None,
    l1=0.0,
    l2=0.0,
) -> dict:
    """One pass of mini-batch gradient descent over ``loader``; returns the epoch's logs."""
    model.train()
    losses = _LossSum(device, epoch)
    kept_targets, kept_outputs = [], []
    sampler = _hard_example_sampler(loader)
    batch = -1
    for batch, (inputs, targets) in enumerate(loader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        size = len(inputs)
        losses.add(loss, size, batch)
        penalty = _penalty(model, l1, l2) if (l1 or l2) else None
        (loss if penalty is None else loss + penalty).backward()
        if grad_clip:
            from aprende.nn.utils import clip_grad_norm_

            clip_grad_norm_(_parameters(model), grad_clip)
        optimizer.step()
        if sampler is not None:
            sampler.update(loader.batch_indices, _per_example_losses(criterion, outputs, targets))
        if metrics:
            kept_targets.append(targets.data)
            kept_outputs.append(outputs.detach().data)
        callbacks.on_batch_end(batch, {"loss": losses.last, "size": size})
    losses.read(batch)
    logs = {"loss": losses.mean()}
    if metrics:
        outputs = _concatenated(kept_outputs)
        logs.update(compute_metrics(metrics, _concatenated(kept_targets), outputs, kind))
    logs["samples"] = losses.count
    return logs


def evaluate(model, loader, criterion=None, metrics=(), device="cpu") -> dict:
    """Loss and metrics of ``model`` (in eval mode, no graph) over every batch of ``loader``."""
    model.eval()
    total, count = 0.0, 0
    kept_targets, kept_outputs = [], []
    with no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            if criterion is not None:
                total = total + _weighted(criterion(outputs, targets), len(inputs))
            count += len(inputs)
            kept_targets.append(targets.data)
            kept_outputs.append(outputs.data)
    if not count:
        raise ValueError("evaluate: the loader gives no examples (an empty dataset)")
    if not isinstance(total, float):
        total = float(backend.to_numpy(total))  # a GPU's sum, read once
    logs = {"loss": total / count} if criterion is not None else {}
    outputs, targets = _concatenated(kept_outputs), _concatenated(kept_targets)
    kind = output_kind(criterion, outputs, targets)
    logs.update(compute_metrics(metrics, targets, outputs, kind))
    return logs


def _weighted(loss: Tensor, size: int):
    """loss·size: a Python float on the CPU, a float64 0-d array left on a GPU."""
    if type(loss.data) is np.ndarray:
        return loss.item() * size
    return loss.data.astype(np.float64) * size


def predict(model, x, batch_size: int | None = 1024, device="cpu") -> Tensor:
    """The model's outputs for ``x``, in eval mode, in batches, no graph: ŷ = f(x).

    ``x`` is an array or tensor (split into batches of ``batch_size``; None: one batch), or a
    ``DataLoader`` / any iterable of batches, where a batch is the inputs themselves or a
    tuple whose first element is the inputs (``(X, y)`` of a ``TensorDataset``: the targets
    are ignored). Returns the outputs of every batch, concatenated along dim 0.
    """
    model.eval()
    if not isinstance(x, Tensor | np.ndarray | list | tuple) and hasattr(x, "__iter__"):
        batches = (batch[0] if isinstance(batch, list | tuple) else batch for batch in x)
    else:
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if batch_size is None or len(x) <= batch_size:
            with no_grad():
                return model(x.to(device))
        batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
    with no_grad():
        parts = [model(_as_tensor(batch).to(device)) for batch in batches]
    if not parts:
        raise ValueError("predict: the loader gives no batches (an empty dataset)")
    xp = backend.get_array_module(parts[0].data)
    return Tensor(xp.concatenate([p.data for p in parts]))


def _as_tensor(batch) -> Tensor:
    return batch if isinstance(batch, Tensor) else Tensor(np.asarray(batch))


# ---- fit ---------------------------------------------------------------------------------------


def _current_lr(optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _check_finite(logs: dict, monitor: str, epoch: int) -> None:
    """A NaN or infinite validation loss (or monitored value) stops the run: it would
    otherwise be compared, scheduled on and written as if it were a number."""
    for key in dict.fromkeys((monitor, "val_loss")):
        value = logs.get(key)
        if value is not None and not math.isfinite(value):
            raise NonFiniteLossError(
                f"{key} became {value} at epoch {epoch + 1}: training stopped before this epoch "
                "was recorded (the last good checkpoint is kept); lower the learning rate, "
                "clip gradients or check the validation data"
            )


def _check_not_empty(loader, name: str) -> None:
    size = _batches(loader)
    if size == 0:
        raise ValueError(
            f"fit: {name} gives no batches (an empty dataset, or drop_last=True with fewer "
            "examples than batch_size)"
        )


def fit(
    model,
    optimizer,
    criterion,
    train_loader,
    val_loader=None,
    epochs: int = 10,
    metrics=(),
    callbacks=(),
    scheduler=None,
    device="cpu",
    checkpoint_dir=None,
    resume: bool = True,
    verbose: int = 1,
    grad_clip: float | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    monitor: str | None = None,
    preprocessing: dict | None = None,
    config: dict | None = None,
    write_checkpoints: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return the per-epoch ``History``.

    Each epoch runs mini-batch SGD over ``train_loader`` (w ← w − η ∂J/∂w through the
    optimizer), then scores ``val_loader``; logs hold ``loss``, each metric, ``val_*``, ``lr``,
    ``time`` and ``samples_per_s``. ``scheduler`` steps once per epoch (``ReduceLROnPlateau``
    on ``monitor``, default ``val_loss``, else ``loss``). With ``checkpoint_dir`` every epoch
    ends with an atomic checkpoint (and ``best`` when ``monitor`` improves), and with
    ``resume`` a run started again continues from the newest one exactly as if never stopped.
    ``l1``/``l2`` add λ₁Σ|w| and (λ₂/2)Σw² on the weights; ``grad_clip`` clips the gradient
    norm. A NaN or infinite loss raises ``NonFiniteLossError`` naming the epoch and batch, and
    so does a NaN or infinite validation loss (or ``monitor``), naming the epoch; an empty
    loader is a ``ValueError``. While it runs, ``fit`` holds ``checkpoint_dir``'s ``RunLock``
    (a second process gets ``RunLockedError``). A run that stopped early resumes only when an
    ``EarlyStopping`` callback now has patience left. ``write_checkpoints=False`` resumes from
    ``checkpoint_dir`` but writes nothing there and takes no lock: the other ranks of a
    data-parallel run, whose rank 0 writes. ``fit`` returns with the model in training mode
    (``model.train()``), whatever the last validation left; call ``model.eval()`` to infer.
    On a GPU, training and validation ``TensorDataset``s that fit are copied to the device
    once for the run (see ``loader_on_device``) and the loss is read a bounded number of
    times per epoch.
    """
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, got {epochs}")
    _check_not_empty(train_loader, "train_loader")
    if val_loader is not None:
        _check_not_empty(val_loader, "val_loader")
    monitor = monitor or ("val_loss" if val_loader is not None else "loss")
    metrics = list(metrics or ())
    kind = output_kind(criterion)
    model.to(device)
    train_data = loader_on_device(train_loader, device)
    val_data = None if val_loader is None else loader_on_device(val_loader, device)
    history = History()
    run = Run(model, optimizer, history)
    user_callbacks = list(callbacks or ())
    if scheduler is not None:
        user_callbacks.append(LearningRateScheduler(scheduler, monitor))
    stateful = {f"{i}.{type(c).__name__}": c for i, c in enumerate(user_callbacks)}
    checkpointer = None
    if checkpoint_dir is not None:
        components = {
            "scheduler": scheduler,
            "preprocessing": preprocessing,
            "callbacks": stateful,
            "loaders": [train_loader],
            "config": config,
        }
        checkpointer = Checkpointer(checkpoint_dir, monitor, components, write=write_checkpoints)
        stateful["checkpointer"] = checkpointer
    all_callbacks = list(user_callbacks)
    if verbose:
        all_callbacks.append(ProgressBar(epochs, _batches(train_loader)))
    if checkpointer is not None:
        all_callbacks.append(checkpointer)  # last: it saves what the others have just updated
    callback_list = CallbackList(all_callbacks)
    callback_list.set_run(run)
    # One writer per checkpoint folder for the whole run: two processes resuming the same
    # folder would interleave their epochs.
    writing = checkpoint_dir is not None and write_checkpoints
    with RunLock(checkpoint_dir) if writing else nullcontext():
        start = 0
        if checkpoint_dir is not None and resume:
            start = resume_run(
                checkpoint_dir, run, components, [train_loader], reconcile=write_checkpoints
            )
            done = "epoch 1" if start == 1 else f"epochs 1-{start}"
            if checkpointer.stopped and still_stopped(user_callbacks):
                if verbose:
                    print(
                        f"The run had stopped early after epoch {start}: nothing to do (raise "
                        "EarlyStopping's patience to continue it)"
                    )
                start = epochs
            elif start and verbose and start < epochs:
                print(
                    f"Resuming from epoch {start + 1} of {epochs} ({checkpoint_dir} holds {done})"
                )
            elif start and verbose:
                print(
                    f"All {epochs} epochs are done ({checkpoint_dir} holds {done}): nothing to do"
                )
            checkpointer.stopped = False
        callback_list.on_train_begin()
        for epoch in range(start, epochs):
            began = snapshot(model, optimizer, scheduler, train_loader)
            try:
                _run_epoch(
                    run, criterion, train_data, val_data, callback_list, epoch, monitor,
                    device=device, metrics=metrics, kind=kind, grad_clip=grad_clip, l1=l1, l2=l2,
                )  # fmt: skip
            except KeyboardInterrupt:
                # An interrupted epoch leaves no trace, so calling fit again starts where the
                # last finished epoch left off (or afresh), exactly as an uninterrupted run.
                roll_back(began, model, optimizer, scheduler, train_loader)
                raise
            if run.stop_training:
                break
        callback_list.on_train_end()
    # The last validation left the model in eval mode; training ends in training mode, as
    # in Keras and Lightning (dropout and batch-norm behave as during training until
    # model.eval()).
    model.train()
    return history


def _run_epoch(run, criterion, train_loader, val_loader, callbacks, epoch, monitor, **options):
    """Train one epoch, score the validation split, record and announce the logs."""
    callbacks.on_epoch_begin(epoch)
    began = time.perf_counter()
    # Overflow on the way to a diverging loss is reported once, as NonFiniteLossError,
    # not as NumPy's RuntimeWarnings from inside the ops.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        logs = train_one_epoch(
            run.model, run.optimizer, criterion, train_loader, epoch=epoch, callbacks=callbacks,
            **options,
        )  # fmt: skip
        samples = logs.pop("samples")
        if val_loader is not None:
            scores = evaluate(
                run.model, val_loader, criterion, options["metrics"], options["device"]
            )
            logs.update({f"val_{k}": v for k, v in scores.items()})
    _check_finite(logs, monitor, epoch)
    seconds = time.perf_counter() - began
    logs.update(
        lr=_current_lr(run.optimizer), time=seconds, samples_per_s=samples / max(seconds, 1e-9)
    )
    run.history.append(epoch, logs)
    callbacks.on_epoch_end(epoch, logs)


def _batches(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


# ---- the slides' training function -------------------------------------------------------------


def train_model(
    model,
    optimizer,
    criterion,
    train_loader,
    num_epochs: int = 10,
    checkpoint_dir="checkpoints",
    device="cpu",
):
    """The course slides' training code, as written there, with checkpoints to resume from.

    ``start_epoch, model, optimizer = load_checkpoint(model, optimizer, checkpoint_dir)``, then
    for each epoch and mini-batch: ``zero_grad``, forward, loss, ``backward``, ``step``; the
    epoch ends with ``save_checkpoint``. Returns the model and the mean loss of each epoch run.
    On a GPU the running loss stays on the device and is read once per epoch (reading it
    every batch would make each step wait for the device), and the data is copied there
    once when it fits (``loader_on_device``).
    """
    start_epoch, model, optimizer = ckpt.load_checkpoint(
        model, optimizer, checkpoint_dir, loaders=[train_loader]
    )
    model.to(device)
    on_host = backend.device(device).type == "cpu"
    data = loader_on_device(train_loader, device)
    losses = []
    for epoch in range(start_epoch, num_epochs):
        model.train()
        running = 0.0
        for batch_data, batch_labels in data:
            optimizer.zero_grad()
            batch_data = batch_data.to(device)
            batch_labels = batch_labels.to(device)
            outputs = model(batch_data)
            loss = criterion(outputs, batch_labels)
            loss.backward()
            optimizer.step()
            if on_host:
                running += loss.item()
            else:
                running = running + loss.detach().data.astype(np.float64)
        running = running if isinstance(running, float) else float(backend.to_numpy(running))
        losses.append(running / max(len(train_loader), 1))
        print(f"Epoch {epoch + 1}/{num_epochs}: loss {losses[-1]:.4f}")
        ckpt.save_checkpoint(model, optimizer, epoch, checkpoint_dir, loaders=[train_loader])
    return model, losses
