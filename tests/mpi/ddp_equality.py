"""Run under ``mpirun -n K``: K ranks of DistributedDataParallel end with the weights that one
process reaches on the same global batches; also checks the collectives. Exits non-zero on a
mismatch (the pytest test in test_distributed.py starts it)."""

import sys

import numpy as np

import aprende
from aprende import distributed as dist
from aprende import nn, optim
from aprende.data import DataLoader, TensorDataset

GLOBAL_BATCH, STEPS, EPOCHS = 32, 4, 2


def make_model(batch_norm: bool):
    aprende.manual_seed(dist.get_rank() + 11)  # different on each rank: DDP must broadcast
    norm = [nn.BatchNorm1d(16)] if batch_norm else []
    return nn.Sequential(nn.Linear(6, 16), *norm, nn.Tanh(), nn.Linear(16, 3))


def train(model, loader, sampler=None):
    """SGD with momentum; ``loader`` yields (x, y) batches (all epochs, for a plain list)."""
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS if sampler is not None else 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()


def main() -> int:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world > 1, "start with mpirun -n 2"

    values = aprende.tensor([float(rank + 1)] * 3)
    dist.all_reduce(values)
    assert values.tolist() == [sum(range(1, world + 1))] * 3, values
    top = aprende.tensor([float(rank)])
    dist.all_reduce(top, op=dist.ReduceOp.MAX)
    assert top.item() == world - 1
    shared = aprende.tensor([float(rank)] * 2)
    dist.broadcast(shared, src=world - 1)
    assert shared.tolist() == [world - 1.0] * 2

    rng = np.random.default_rng(0)
    x = aprende.tensor(rng.standard_normal((GLOBAL_BATCH * STEPS, 6)), dtype=aprende.float32)
    y = aprende.tensor(rng.integers(0, 3, len(x)))
    data = TensorDataset(x, y)

    # With batch norm: the ranks stay identical (rank 0's start, averaged gradients).
    sampler = dist.DistributedSampler(data, seed=5)
    ddp = dist.DistributedDataParallel(make_model(batch_norm=True))
    train(ddp, DataLoader(data, batch_size=GLOBAL_BATCH // world, sampler=sampler), sampler)
    weights = {k: v.numpy() for k, v in ddp.module.state_dict().items() if "running" not in k}
    from mpi4py import MPI

    for other in MPI.COMM_WORLD.allgather(weights)[1:]:
        for key, value in other.items():
            assert np.array_equal(value, weights[key]), f"ranks disagree on {key}"

    # Without batch norm: the weights one process reaches on the same global batches (each
    # global batch is the union of the ranks' shards: consecutive slices of the permutation).
    sampler = dist.DistributedSampler(data, seed=5)
    ddp = dist.DistributedDataParallel(make_model(batch_norm=False))
    start = {k: v.clone() for k, v in ddp.module.state_dict().items()}
    train(ddp, DataLoader(data, batch_size=GLOBAL_BATCH // world, sampler=sampler), sampler)
    if rank == 0:
        single = make_model(batch_norm=False)
        single.load_state_dict(start)
        orders = [np.random.default_rng(5 + e).permutation(len(data)) for e in range(EPOCHS)]
        batches = [
            order[i : i + GLOBAL_BATCH]
            for order in orders
            for i in range(0, len(order), GLOBAL_BATCH)
        ]
        train(single, [(x[b], y[b]) for b in batches])
        for key, value in single.state_dict().items():
            np.testing.assert_allclose(
                ddp.module.state_dict()[key].numpy(),
                value.numpy(),
                rtol=1e-4,
                atol=1e-6,
                err_msg=key,
            )
        print(f"ddp_equality: {world} ranks match one process", flush=True)
    dist.barrier()
    return 0


if __name__ == "__main__":
    sys.exit(main())
