"""Training data on the GPU: an in-memory dataset copied to the device whole, so that an
epoch moves the order of its examples once instead of every batch."""

from __future__ import annotations

import copy

from aprende import backend
from aprende.data.dataloader import DataLoader
from aprende.data.dataset import TensorDataset

# The share of a GPU's free memory an in-memory dataset may take to be copied there whole:
# the rest is left to the weights, the activations and the optimizer's state.
DEVICE_DATA_FRACTION = 0.5


def _free_device_bytes(dev: backend.device) -> int | None:
    """Free memory of the GPU ``dev`` in bytes (None when CUDA cannot say)."""
    cupy = backend._cupy()
    try:
        with cupy.cuda.Device(dev.index):
            free, _total = cupy.cuda.runtime.memGetInfo()
    except (AttributeError, RuntimeError):  # CUDARuntimeError is a RuntimeError
        return None
    return int(free)


def loader_on_device(loader, device):
    """``loader``, or a copy of it that iterates over its dataset copied to ``device`` whole.

    On a GPU, a ``DataLoader`` over a plain ``TensorDataset`` (no transform, no collate_fn)
    whose bytes are at most ``DEVICE_DATA_FRACTION`` of the device's free memory is copied
    there once (one upload per tensor); its batches are then gathered on the device, one
    transfer of the epoch's order per epoch instead of two uploads per batch. The copy shares
    the loader's sampler and generator: the same batches, in the same order, and checkpoints
    of the original loader stay exact. Anything else is returned as it is (batches uploaded
    one by one).
    """
    dev = backend.device(device)
    if dev.type == "cpu" or not isinstance(loader, DataLoader) or loader.collate_fn is not None:
        return loader
    dataset = loader.dataset
    if type(dataset) is not TensorDataset or dataset.transform is not None:
        return loader  # a transform may be host code (NumPy augmentation)
    if dataset._device() == dev:
        return loader
    free = _free_device_bytes(dev)
    if free is None or dataset.nbytes > DEVICE_DATA_FRACTION * free:
        return loader
    moved = copy.copy(loader)
    moved.dataset = dataset.to(dev)
    return moved
