"""DistributedDataParallel: the same model on every rank, each on its shard of the batch.

Data-parallel SGD: with a global batch B split into K equal shards, the mean of the K ranks'
gradients of their shard's mean loss is the gradient of the global batch's mean loss,

    ∇L(B) = (1/K) Σ_k ∇L(B_k),

so after averaging, every rank takes the step one process would take on the whole batch, and
the ranks' weights stay identical (up to the float rounding of the reduction's order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from aprende import autograd
from aprende._tensor import Tensor
from aprende.distributed import process_group
from aprende.nn.module import Module


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training, as ``torch.nn.parallel.DistributedDataParallel``.

    On construction every rank takes rank 0's parameters and buffers. Each forward in training
    mode first copies rank 0's buffers to all ranks (``broadcast_buffers``, PyTorch's default),
    and queues, for the end of the next ``backward()``, the averaging of all gradients: they
    are packed into one flat buffer per dtype, summed over the ranks in one ``all_reduce``,
    divided by the world size and unpacked. Batch norm therefore normalises with each rank's
    own batch statistics, as in PyTorch (no SyncBatchNorm). The state dict keys carry the
    ``module.`` prefix, as PyTorch's; save ``ddp.module.state_dict()`` for plain keys.

    The averaging hangs on ``module`` itself (a forward hook), so calling the wrapped module
    directly after wrapping it trains data-parallel too. With ``batch_weighted=True`` each
    rank's gradient weighs by its batch size (the first input's first dimension),
    Σ_k n_k g_k / Σ_k n_k: the exact gradient of the global batch's mean loss when the shards
    differ in size (PyTorch weighs the ranks equally).
    """

    def __init__(
        self,
        module: Module,
        broadcast_buffers: bool = True,
        batch_weighted: bool = False,
        **ignored,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: expected a Module, got {type(module).__name__}"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.batch_weighted = batch_weighted
        self._sync_queued = False
        self._sync_enabled = True
        self._batch = 1
        for tensor in [*module.parameters(), *module.buffers()]:
            process_group.broadcast(tensor, src=0)
        self._hook = module.register_forward_hook(self._after_forward)

    def forward(self, *args, **kwargs):
        if self.training and self.broadcast_buffers and process_group.get_world_size() > 1:
            for buffer in self.module.buffers():
                process_group.broadcast(buffer, src=0)
        return self.module(*args, **kwargs)

    def _after_forward(self, module, args, output) -> None:
        if autograd.is_grad_enabled() and self._sync_enabled and not self._sync_queued:
            self._sync_queued = True
            first = args[0] if args else None
            self._batch = len(first) if isinstance(first, Tensor) and first.ndim else 1
            autograd.queue_callback(self._average_gradients)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally (no averaging) for the backward passes inside; the
        first backward after the block averages the accumulated sum."""
        self._sync_enabled = False
        try:
            yield
        finally:
            self._sync_enabled = True

    def _average_gradients(self) -> None:
        self._sync_queued = False
        size = process_group.get_world_size()
        if size == 1:
            return
        trained = [p for p in self.module.parameters() if p.requires_grad]
        missing = [
            name for name, p in self.module.named_parameters() if p.requires_grad and p.grad is None
        ]
        if missing:
            raise RuntimeError(
                "DistributedDataParallel: parameters received no gradient in this backward "
                f"pass ({', '.join(missing[:5])}); every trained parameter must take part in "
                "the loss on every rank"
            )
        weight = self._batch if self.batch_weighted else 1
        for dtype in dict.fromkeys(p.grad.dtype for p in trained):
            group = [p for p in trained if p.grad.dtype == dtype]
            # One buffer: the weighted gradients, then the weight (their sum is the divisor).
            flat = np.empty(sum(p.grad.data.size for p in group) + 1, dtype=dtype)
            start = 0
            for p in group:
                stop = start + p.grad.data.size
                np.multiply(np.ravel(p.grad.data), weight, out=flat[start:stop])
                start = stop
            flat[-1] = weight
            flat_tensor = Tensor(flat)
            process_group.all_reduce(flat_tensor, op="sum")
            total = flat[-1]
            start = 0
            for p in group:
                stop = start + p.grad.data.size
                np.divide(flat[start:stop].reshape(p.grad.shape), total, out=p.grad.data)
                start = stop
