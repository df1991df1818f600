"""Data-parallel training benchmark: epoch time with 1 and K MPI ranks, and the all-reduce's share.

Run from the repository root (needs mpi4py and an MPI; see benchmarks/README.md)::

    python -m benchmarks.distributed                  # configs B and C, 1 and 2 ranks
    python -m benchmarks.distributed --quick          # seconds; the numbers mean nothing

Each measurement starts ``mpirun -n K`` on this module's worker: every rank builds the same MLP
(benchmarks.mlp's configs), wraps it in ``DistributedDataParallel`` and trains on its shard of
an MNIST-sized synthetic set, with ``--batch-size``/K examples per rank per step (the global
batch stays the config's), one BLAS thread per rank. The worker times each epoch and, inside
it, the gradient averaging (packing, ``all_reduce``, unpacking); the table shows the median
epoch, the speed-up over one rank, and the averaging's share of the epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from benchmarks.mlp import CONFIGS, mnist_like


def worker(config: str, samples: int, epochs: int) -> None:
    import aprende
    from aprende import distributed as dist
    from aprende import nn, optim
    from aprende.data import DataLoader, TensorDataset

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    cfg = CONFIGS[config]
    X, y = mnist_like(samples, seed=0)
    aprende.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(cfg.layers):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(cfg.layers) - 1:
            layers.append(nn.ReLU())
    ddp = dist.DistributedDataParallel(nn.Sequential(*layers))
    opt = optim.Adam(ddp.parameters(), lr=cfg.lr)
    data = TensorDataset(aprende.from_numpy(X), aprende.from_numpy(y))
    sampler = dist.DistributedSampler(data, seed=0)
    loader = DataLoader(data, batch_size=cfg.batch_size // world, sampler=sampler)
    reducing = [0.0]
    average = ddp._average_gradients

    def timed_average():
        began = time.perf_counter()
        average()
        reducing[0] += time.perf_counter() - began

    ddp._average_gradients = timed_average
    rows = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        reducing[0] = 0.0
        dist.barrier()
        began = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(ddp(xb), yb).backward()
            opt.step()
        dist.barrier()
        rows.append({"epoch_s": time.perf_counter() - began, "reduce_s": reducing[0]})
    if rank == 0:
        print("RESULT " + json.dumps({"world": world, "rows": rows}), flush=True)


def measure(config: str, ranks: int, samples: int, epochs: int) -> dict:
    env = os.environ | {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
    }
    command = [
        "mpirun",
        "-n",
        str(ranks),
        "--bind-to",
        "none",
        sys.executable,
        "-m",
        "benchmarks.distributed",
        "--worker",
        config,
        "--samples",
        str(samples),
        "--epochs",
        str(epochs),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"mpirun -n {ranks} failed:\n{done.stdout}\n{done.stderr}")
    rows = json.loads(line.removeprefix("RESULT "))["rows"][1:]  # the first epoch warms up
    epoch = statistics.median(r["epoch_s"] for r in rows)
    reduce = statistics.median(r["reduce_s"] for r in rows)
    return {"config": config, "ranks": ranks, "epoch_s": epoch, "reduce_share": reduce / epoch}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="B,C")
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (first dropped)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.samples, args.epochs)
        return 0
    if shutil.which("mpirun") is None:
        print("benchmarks.distributed: mpirun not found (install Open MPI)", file=sys.stderr)
        return 2
    if args.quick:
        args.samples, args.epochs = 1024, 2
    results = []
    for config in args.configs.split(","):
        single = None
        for ranks in map(int, args.ranks.split(",")):
            result = measure(config, ranks, args.samples, args.epochs)
            single = single or result["epoch_s"]
            result["speedup"] = single / result["epoch_s"]
            results.append(result)
            print(
                f"config {config}  {ranks} rank{'s' if ranks > 1 else ' '}  epoch "
                f"{result['epoch_s']:.3f} s  speed-up {result['speedup']:.2f}x  gradient "
                f"averaging {100 * result['reduce_share']:.1f}% of the epoch",
                flush=True,
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump({"samples": args.samples, "results": results}, file, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
