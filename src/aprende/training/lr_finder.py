"""The learning-rate range test: the slides' "too low / good / too high" figure, measured.

Train for a few hundred mini-batches while the learning rate grows exponentially from tiny to
huge, recording the loss at each. Too low: the loss barely moves. Good: it falls fast. Too high:
it blows up. The suggestion is the rate where the smoothed loss falls most steeply. Draw the
result with ``aprende.plots.plot_lr_finder(result)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from aprende import backend
from aprende.training.callbacks import snapshot_weights


@dataclass
class LRFinderResult:
    """The curve (``lrs``, smoothed ``losses``) and the suggested learning rate."""

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    suggestion: float | None = None


def _snapshot(model, optimizer) -> tuple:
    return snapshot_weights(model), _deep_copy(optimizer.state_dict()), backend.get_rng_state()


def _deep_copy(state):
    if isinstance(state, dict):
        return {k: _deep_copy(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_deep_copy(v) for v in state)
    if hasattr(state, "clone"):
        return state.clone().detach()
    if hasattr(state, "copy"):
        return state.copy()
    return state


def _batches(loader):
    """Mini-batches forever (the loader restarts when it runs out)."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the loader yields no batches")


def suggest_lr(lrs, losses) -> float | None:
    """The rate of steepest descent of the (smoothed) loss before its minimum."""
    losses = np.asarray(losses, dtype=np.float64)
    lowest = int(np.argmin(losses))
    if lowest < 2:
        return None
    slopes = np.gradient(losses[: lowest + 1], np.log10(np.asarray(lrs[: lowest + 1])))
    return float(lrs[int(np.argmin(slopes))])


def lr_find(
    model,
    optimizer,
    criterion,
    loader,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    smooth: float = 0.05,
    diverge_threshold: float = 5.0,
    device="cpu",
) -> LRFinderResult:
    """Run the LR range test and return the curve and a suggested rate.

    Step k of ``num_iter`` uses η_k = start_lr · (end_lr/start_lr)^(k/(num_iter−1)); the loss is
    smoothed exponentially (weight ``smooth``, bias-corrected) and the test stops once it exceeds
    ``diverge_threshold`` times the best seen. The model, the optimizer and the global RNG are
    restored afterwards: the test leaves no trace. On a GPU every step reads its loss (one
    wait for the device per step): the smoothing and the stop when the loss diverges need
    each value before the next step, and the test is a few hundred steps, not a training run.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find: expected 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    if num_iter < 3:
        raise ValueError(f"lr_find: num_iter must be at least 3, got {num_iter}")
    weights, optimizer_state, rng_state = _snapshot(model, optimizer)
    result = LRFinderResult()
    model.to(device)
    model.train()
    average, best = 0.0, math.inf
    ratio = end_lr / start_lr
    try:
        for k, (inputs, targets) in zip(range(num_iter), _batches(loader), strict=False):
            lr = start_lr * ratio ** (k / (num_iter - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad()
            loss = criterion(model(inputs.to(device)), targets.to(device))
            value = loss.item()
            if not math.isfinite(value):
                break
            loss.backward()
            optimizer.step()
            average = smooth * value + (1 - smooth) * average
            smoothed = average / (1 - (1 - smooth) ** (k + 1))
            result.lrs.append(lr)
            result.losses.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge_threshold * best:
                break
    finally:
        model.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)
        backend.set_rng_state(rng_state)
        optimizer.zero_grad()
    result.suggestion = suggest_lr(result.lrs, result.losses) if result.lrs else None
    return result
