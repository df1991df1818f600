"""Gradient clipping, the L1 penalty, and flattening parameters into one vector;
``aprende.nn.utils.rnn`` pads batches of sequences of different lengths."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.creation import tensor
from aprende.nn.utils import rnn
from aprende.ops.shape import cat


def _as_list(parameters) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients so that their joint norm is at most ``max_norm``; returns that norm
    before clipping, as PyTorch.

    The total norm ‖g‖ is the ``norm_type``-norm of all gradients together (``inf``: the largest
    |g|); when it exceeds ``max_norm`` each gradient becomes g·max_norm/(‖g‖ + 10⁻⁶).
    """
    grads = [p.grad.data for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    xp = backend.get_array_module(grads[0])
    dtype = grads[0].dtype
    if math.isinf(norm_type) and xp is not np and any(g.size for g in grads):
        total = xp.stack([xp.abs(g).max() for g in grads if g.size]).max()  # no host compare
    elif math.isinf(norm_type):
        total = max(xp.abs(g).max() for g in grads if g.size) if any(g.size for g in grads) else 0
    elif norm_type == 2.0:
        total = xp.sqrt(sum(xp.dot(g.reshape(-1), g.reshape(-1)) for g in grads))
    else:
        total = sum((xp.abs(g) ** norm_type).sum() for g in grads) ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = dtype.type(max_norm) / (total + dtype.type(1e-6))
    if xp is not np:
        # On a GPU, comparing with 1 would wait for the device: scale by min(coefficient, 1)
        # always, as PyTorch does.
        coefficient = xp.minimum(coefficient, dtype.type(1))
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad = Tensor(p.grad.data * coefficient)
        return Tensor(total)
    if coefficient < 1:
        for p in _as_list(parameters):
            if p.grad is not None:
                # A new array: gradient arrays may be shared, so they are never written in place.
                p.grad = Tensor(p.grad.data * coefficient)
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp = backend.get_array_module(p.grad.data)
            p.grad = Tensor(xp.clip(p.grad.data, -clip_value, clip_value))


def l1_penalty(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """Σ|w| over every element of the given parameters, differentiable (gradient sign(w)).

    L1 weight decay: ``loss = criterion(out, y) + lam * l1_penalty(model.parameters())`` pushes
    weights to exactly zero (sparse models), where L2 (``weight_decay``) only shrinks them.
    Pass only the weights to leave biases unpenalised.
    """
    total = None
    for p in _as_list(parameters):
        term = p.abs().sum()
        total = term if total is None else total + term
    return tensor(0.0) if total is None else total


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: expected at least one parameter")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place (the inverse of
    ``parameters_to_vector``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = _as_list(parameters)
    needed = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != needed:
        raise ValueError(
            f"vector_to_parameters: expected a vector of {needed} elements for the parameters, "
            f"got shape {vec.shape}"
        )
    offset = 0
    for p in params:
        n = p.numel()
        p.data[...] = backend.move(vec.data[offset : offset + n].reshape(p.shape), p.device)
        p._version += 1
        offset += n
