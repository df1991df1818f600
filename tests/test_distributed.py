"""Data-parallel training: the sampler's shards, DDP on a world of one, and, under
``mpirun -n 2``, K ranks reaching one process's weights (skipped without MPI)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aprende
from aprende import distributed as dist
from aprende import nn, optim
from aprende.data import DataLoader, TensorDataset

SCRIPTS = Path(__file__).parent / "mpi"
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def world_of_one():
    dist.init_process_group()
    yield
    dist.destroy_process_group()


def test_a_world_of_one_outside_mpirun(world_of_one):
    assert dist.is_initialized() and (dist.get_rank(), dist.get_world_size()) == (0, 1)
    values = aprende.tensor([1.0, 2.0])
    dist.all_reduce(values, op="avg")
    dist.broadcast(values, src=0)
    dist.barrier()
    assert values.tolist() == [1.0, 2.0]


def test_collectives_refuse_bad_input(world_of_one):
    with pytest.raises(ValueError, match="op should be one of"):
        dist.all_reduce(aprende.ones(2), op="median")
    with pytest.raises(TypeError, match="expected a Tensor"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="src should be a rank"):
        dist.broadcast(aprende.ones(2), src=1)
    with pytest.raises(RuntimeError, match="already initialized"):
        dist.init_process_group()
    with pytest.raises(ValueError, match="backend should be 'mpi'"):
        dist.destroy_process_group()
        dist.init_process_group(backend="nccl")


def test_uninitialised_group_says_so():
    with pytest.raises(RuntimeError, match="has not been initialized"):
        dist.get_rank()


@pytest.mark.parametrize(
    "size, replicas, drop_last", [(10, 3, False), (10, 3, True), (8, 4, False)]
)
def test_sampler_shards_are_disjoint_and_cover_the_data(size, replicas, drop_last):
    data = list(range(size))
    shards = [
        dist.DistributedSampler(data, num_replicas=replicas, rank=r, seed=3, drop_last=drop_last)
        for r in range(replicas)
    ]
    for shard in shards:
        shard.set_epoch(2)
    drawn = [s.sample_indices() for s in shards]
    assert {len(d) for d in drawn} == {len(shards[0])}
    everything = np.concatenate(drawn)
    if drop_last:  # the tail is dropped: no index twice
        assert len(set(everything.tolist())) == len(everything) == size // replicas * replicas
    else:  # padded by repeating the start: every index at least once
        assert set(everything.tolist()) == set(data)
        assert len(everything) == -(-size // replicas) * replicas
    again = dist.DistributedSampler(
        data, num_replicas=replicas, rank=0, seed=3, drop_last=drop_last
    )
    again.set_epoch(2)
    np.testing.assert_array_equal(again.sample_indices(), drawn[0])
    again.set_epoch(3)
    assert not np.array_equal(again.sample_indices(), drawn[0])


def test_sampler_refuses_a_rank_outside_the_world():
    with pytest.raises(ValueError, match="Invalid rank 3"):
        dist.DistributedSampler(range(5), num_replicas=3, rank=3)


def test_ddp_on_one_process_trains_as_the_plain_model(world_of_one):
    aprende.manual_seed(0)
    plain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    wrapped = dist.DistributedDataParallel(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    )
    wrapped.module.load_state_dict(plain.state_dict())
    assert list(wrapped.state_dict()) == ["module." + k for k in plain.state_dict()]
    data = TensorDataset(aprende.randn(32, 4), aprende.randint(0, 2, (32,)))
    for model in (plain, wrapped):
        opt = optim.Adam(model.parameters(), lr=0.01)
        for x, y in DataLoader(data, batch_size=8, shuffle=True, generator=1):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for key, value in plain.state_dict().items():
        np.testing.assert_array_equal(wrapped.module.state_dict()[key].numpy(), value.numpy())


def _mpirun(script: str, *args: str, ranks: int = 2, timeout: float = 120):
    """``mpirun -n ranks python SCRIPT args`` (``script`` "-m" runs a module)."""
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)")
    pytest.importorskip(
        "mpi4py", reason="mpi4py not installed (pip install 'aprende[distributed]')"
    )
    env = os.environ | {
        "PYTHONPATH": str(SRC),
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
    }
    target = [script] if script == "-m" else [str(SCRIPTS / script)]
    command = ["mpirun", "-n", str(ranks), sys.executable, *target, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def test_two_ranks_reach_the_weights_of_one_process():
    done = _mpirun("ddp_equality.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 ranks match one process" in done.stdout


@pytest.mark.parametrize("how", ["raise", "exit", "hang"])
def test_a_failing_rank_ends_the_job_instead_of_hanging(how):
    done = _mpirun("rank_fails.py", *([] if how == "raise" else [how]), timeout=50)
    assert done.returncode != 0
    if how == "raise":
        assert "rank 1 failed (ValueError)" in done.stderr
    if how == "hang":
        assert "rank 0 waited 2 s in all_reduce" in done.stderr


TRAIN = [
    "train",
    "--dataset",
    "breast_cancer",
    "--hidden",
    "16",
    "--dropout",
    "0",
    "--batch-size",
    "32",
    "--patience",
    "0",
]


def _weights(folder: Path) -> dict:
    from safetensors.numpy import load_file

    path = max((folder / "checkpoints").glob("epoch-*.safetensors"))  # the newest epoch
    return {k: v for k, v in load_file(path).items() if k.startswith("model.")}


def _aprende_cli(*args: str, ranks: int = 1):
    if ranks == 1:
        command = [sys.executable, "-m", "aprende", *args]
        env = os.environ | {"PYTHONPATH": str(SRC)}
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    return _mpirun("-m", "aprende", *args, ranks=ranks, timeout=300)


def test_mpirun_aprende_train_follows_the_one_process_run_and_resumes_with_another_k(tmp_path):
    pytest.importorskip("safetensors")
    one = _aprende_cli(*TRAIN, "--epochs", "4", "--out", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two = _aprende_cli(*TRAIN, "--epochs", "2", "--out", str(tmp_path / "two"), ranks=2)
    assert two.returncode == 0, two.stdout + two.stderr
    assert "Data-parallel over 2 processes: 16 of each batch of 32" in two.stdout
    assert two.stdout.count("test_accuracy") == 1  # rank 0 alone prints
    assert "Processes</dt><dd>2 (data-parallel" in (tmp_path / "two" / "report.html").read_text()
    resumed = _aprende_cli(*TRAIN, "--epochs", "4", "--out", str(tmp_path / "two"))
    assert resumed.returncode == 0, resumed.stderr
    ours, reference = _weights(tmp_path / "two"), _weights(tmp_path / "one")
    for key, value in reference.items():
        np.testing.assert_allclose(ours[key], value, rtol=1e-4, atol=1e-6, err_msg=key)
    scores = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert scores["world_size"] == 1


def test_mpirun_refuses_a_global_batch_the_ranks_cannot_share(tmp_path):
    done = _aprende_cli(
        *TRAIN, "--batch-size", "33", "--epochs", "1", "--out", str(tmp_path / "r"), ranks=2
    )
    assert done.returncode != 0
    assert "give a multiple of 2" in done.stderr and "Traceback" not in done.stderr
