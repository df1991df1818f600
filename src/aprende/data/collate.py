"""Collation: a list of examples stacked into one batch, as PyTorch's ``default_collate``."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from aprende import backend
from aprende._tensor import Tensor


def default_collate(batch: list):
    """Stacks a list of examples into a batch, as ``torch.utils.data.default_collate``.

    Tensors and arrays are stacked along a new first dimension (B, ...) into a Tensor (dtype
    kept); Python floats become float64, ints int64, as in PyTorch; strings stay a list; dicts,
    tuples and lists are collated field by field (a tuple gives a list, as in PyTorch).
    """
    if not batch:
        raise ValueError("default_collate: expected a non-empty list of examples")
    first = batch[0]
    if (
        isinstance(first, Tensor)
        or hasattr(first, "__array_interface__")
        or (hasattr(first, "__cuda_array_interface__"))
    ):
        arrays = [e.data if isinstance(e, Tensor) else e for e in batch]
        return Tensor(backend.get_array_module(arrays[0]).stack(arrays))
    if isinstance(first, str | bytes):
        return list(batch)
    if isinstance(first, bool | numbers.Number):
        dtype = np.float64 if isinstance(first, float) else None
        return Tensor(np.asarray(batch, dtype=dtype))
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([example[key] for example in batch]) for key in first}
    if isinstance(first, collections.abc.Sequence):
        if any(len(example) != len(first) for example in batch):
            raise RuntimeError("default_collate: each example in the batch should be of equal size")
        fields = [default_collate(list(column)) for column in zip(*batch, strict=True)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields
    raise TypeError(
        "default_collate: batch must contain tensors, NumPy arrays, numbers, strings, dicts or "
        f"lists; found {type(first).__name__}"
    )
