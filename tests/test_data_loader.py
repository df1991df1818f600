"""DataLoader, datasets and samplers: the slides' three SGD regimes, seeded reshuffling, samplers'
frequencies, hard-example sampling, and memory-mapped data larger than what a batch needs."""

import collections
import json
import math
import tracemalloc

import numpy as np
import pytest

import aprende
from aprende.data import (
    ArrayDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    HardExampleSampler,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
)


def make_data(n=23, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return X, y


def epoch_labels(loader):
    return np.concatenate([host(y) for _, y in loader])


def host(t) -> np.ndarray:
    """A batch tensor's values on the host, from either device."""
    return aprende.backend.to_numpy(t.data)


def on(device, X, y, **options):
    """A TensorDataset with its tensors on ``device``."""
    return TensorDataset(X, y, **options).to(device)


# ---- one epoch: every example once, reshuffled, reproducible --------------------------------


def test_every_example_once_per_epoch_in_a_new_order_each_epoch(device):
    X, y = make_data()
    loader = DataLoader(on(device, X, y), batch_size=5, shuffle=True, generator=0)
    orders = [epoch_labels(loader) for _ in range(3)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(len(y)))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_batches_hold_the_rows_of_their_labels(device):
    X, y = make_data()
    for xb, yb in DataLoader(on(device, X, y), batch_size=4, shuffle=True, generator=1):
        assert isinstance(xb, aprende.Tensor) and isinstance(yb, aprende.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64  # dtypes kept, as torch
        np.testing.assert_array_equal(host(xb), X[host(yb)])


def test_same_seed_same_order_and_different_seed_different_order(device):
    X, y = make_data()

    def run(seed):
        return epoch_labels(DataLoader(on(device, X, y), 4, shuffle=True, generator=seed))

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_default_generator_follows_manual_seed():
    X, y = make_data()
    aprende.manual_seed(5)
    first = epoch_labels(DataLoader(TensorDataset(X, y), 4, shuffle=True))
    aprende.manual_seed(5)
    second = epoch_labels(DataLoader(TensorDataset(X, y), 4, shuffle=True))
    np.testing.assert_array_equal(first, second)


def test_unshuffled_loader_keeps_the_dataset_order(device):
    X, y = make_data()
    np.testing.assert_array_equal(epoch_labels(DataLoader(on(device, X, y), 6)), y)


def test_restoring_generator_state_continues_the_same_data_order(device):
    X, y = make_data()
    loader = DataLoader(on(device, X, y), batch_size=4, shuffle=True, generator=3)
    epoch_labels(loader)
    saved = loader.generator.bit_generator.state  # what a checkpoint stores (JSON-able)
    expected = [epoch_labels(loader) for _ in range(2)]

    resumed = DataLoader(on(device, X, y), batch_size=4, shuffle=True, generator=99)
    resumed.generator.bit_generator.state = saved
    for want in expected:
        np.testing.assert_array_equal(epoch_labels(resumed), want)


# ---- the three SGD regimes, drop_last and len ------------------------------------------------


def test_instantaneous_regime_one_example_per_batch(device):
    X, y = make_data(n=7)
    batches = list(DataLoader(on(device, X, y), batch_size=1, shuffle=True, generator=0))
    assert len(batches) == 7
    assert all(xb.shape == (1, 3) and yb.shape == (1,) for xb, yb in batches)


def test_minibatch_regime_last_batch_smaller(device):
    X, y = make_data(n=23)
    sizes = [len(yb) for _, yb in DataLoader(on(device, X, y), batch_size=5)]
    assert sizes == [5, 5, 5, 5, 3]


def test_full_batch_regime_whole_set_once_per_epoch(device):
    X, y = make_data(n=23)
    loader = DataLoader(on(device, X, y), batch_size=None, shuffle=True, generator=0)
    assert len(loader) == 1
    ((xb, yb),) = list(loader)
    assert xb.shape == (23, 3)
    assert sorted(host(yb).tolist()) == list(range(23))


def test_drop_last_drops_the_short_batch(device):
    X, y = make_data(n=23)
    loader = DataLoader(on(device, X, y), batch_size=5, shuffle=True, drop_last=True, generator=0)
    sizes = [len(yb) for _, yb in loader]
    assert sizes == [5, 5, 5, 5] and len(loader) == 4


@pytest.mark.parametrize("n", [1, 9, 10, 11])
@pytest.mark.parametrize("batch_size", [1, 3, 10, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_is_the_number_of_batches(n, batch_size, drop_last):
    X, y = make_data(n=n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, drop_last=drop_last)
    if batch_size is None:
        expected = 1
    else:
        expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected == len(list(loader))


def test_bad_arguments_raise_clear_errors():
    X, y = make_data()
    data = TensorDataset(X, y)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=SequentialSampler(data), shuffle=True)
    with pytest.raises(
        ValueError,
        match="DataLoader: batch_size should be a positive integer value, got batch_size=0",
    ):
        DataLoader(data, batch_size=0)
    with pytest.raises(ValueError, match=r"size mismatch between tensors, got shapes \[\(23, 3\)"):
        TensorDataset(X, y[:5])
    with pytest.raises(IndexError, match="dataset of 23 examples"):
        data[23]


# ---- how batches are gathered ------------------------------------------------------------------


def test_array_backed_batches_are_gathered_without_per_example_getitem(monkeypatch):
    X, y = make_data()
    data = TensorDataset(aprende.tensor(X), aprende.tensor(y))

    def fail(self, index):
        raise AssertionError("per-example __getitem__ called")

    monkeypatch.setattr(TensorDataset, "__getitem__", fail)
    loader = DataLoader(Subset(data, np.arange(10, 20)), batch_size=4, shuffle=True, generator=0)
    labels = epoch_labels(loader)
    assert sorted(labels.tolist()) == list(range(10, 20))


class Squares(Dataset):
    """A generic dataset: each example built in Python."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i, {"name": f"e{i}", "sq": float(i * i)}


def test_generic_dataset_goes_through_default_collate():
    xb, yb, extra = next(iter(DataLoader(Squares(), batch_size=4)))
    assert xb.shape == (4, 2) and xb.dtype == np.float32
    assert yb.dtype == np.int64 and np.asarray(yb).tolist() == [0, 1, 2, 3]
    assert extra["name"] == ["e0", "e1", "e2", "e3"]
    assert extra["sq"].dtype == np.float64  # Python floats become float64, as torch


def test_custom_collate_fn_receives_the_list_of_examples():
    X, y = make_data(n=4)
    loader = DataLoader(TensorDataset(X, y), batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(loader) == [2, 2]


def test_default_collate_rules_match_torch():
    Point = collections.namedtuple("Point", "x y")
    batch = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(batch, Point) and batch.x.dtype == np.int64 and batch.y.dtype == np.float64
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)  # tuples collate to lists
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_subset_and_concat_index_into_their_datasets():
    X, y = make_data(n=10)
    a, b = TensorDataset(X[:4], y[:4]), TensorDataset(X[4:], y[4:])
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 10
    assert [int(both[i][1]) for i in (0, 3, 4, 9, -1)] == [0, 3, 4, 9, 9]
    assert epoch_labels(DataLoader(both, batch_size=3)).tolist() == list(range(10))
    sub = Subset(both, [9, 0, 5])
    assert [int(sub[i][1]) for i in range(3)] == [9, 0, 5]


def test_transform_applies_to_each_batch_of_features(device):
    X, y = make_data(n=8)
    data = on(device, X, y, transform=lambda x: x * 2)
    xb, yb = next(iter(DataLoader(data, batch_size=8)))
    np.testing.assert_array_equal(host(xb), 2 * X)
    np.testing.assert_array_equal(host(data[3][0]), 2 * X[3])


# ---- samplers ----------------------------------------------------------------------------------


def chi_square(counts, probabilities):
    expected = probabilities * counts.sum()
    return ((counts - expected) ** 2 / expected).sum()


def test_weighted_random_sampler_frequencies_match_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    sampler = WeightedRandomSampler(weights, num_samples=40_000, generator=0)
    counts = np.bincount(sampler.sample_indices(), minlength=5)
    assert counts[4] == 0
    # chi-square with 3 degrees of freedom: 16.27 is its 99.9% quantile
    assert chi_square(counts[:4], weights[:4] / weights.sum()) < 16.27
    assert len(sampler) == 40_000


def test_weighted_random_sampler_without_replacement_draws_each_once():
    sampler = WeightedRandomSampler([5.0, 1.0, 1.0, 1.0], num_samples=4, replacement=False)
    assert sorted(sampler) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="cannot draw num_samples=5 without replacement from 4"):
        WeightedRandomSampler([1.0] * 4, num_samples=5, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], num_samples=2)


def test_weighted_sampler_in_a_loader_balances_classes(device):
    y = np.array([0] * 90 + [1] * 10)
    weights = 1.0 / np.bincount(y)[y]  # each class gets half of the draws
    sampler = WeightedRandomSampler(weights, num_samples=10_000, generator=1)
    labels = epoch_labels(DataLoader(on(device, np.zeros((100, 1)), y), 100, sampler=sampler))
    assert abs(labels.mean() - 0.5) < 0.02


def test_random_sampler_with_replacement_and_num_samples():
    sampler = RandomSampler(range(5), replacement=True, num_samples=1000, generator=0)
    draws = list(sampler)
    assert len(draws) == len(sampler) == 1000 and set(draws) == set(range(5))
    longer = RandomSampler(range(4), num_samples=10, generator=0).sample_indices()
    assert sorted(longer[:8].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_hard_example_sampler_probabilities_follow_the_documented_formula():
    sampler = HardExampleSampler(5, smoothing=0.2, generator=0)
    np.testing.assert_allclose(sampler.probabilities(), np.full(5, 0.2))  # nothing seen: uniform
    sampler.update(np.array([0, 1, 2]), np.array([0.0, 1.0, 3.0]))
    losses = np.array([0.0, 1.0, 3.0, 3.0, 3.0])  # unseen examples count with the largest loss
    expected = 0.8 * losses / losses.sum() + 0.2 / 5
    np.testing.assert_allclose(sampler.probabilities(), expected)
    assert sampler.probabilities()[0] == pytest.approx(0.2 / 5)  # easy examples keep a floor


def test_hard_example_sampler_favours_high_loss_examples():
    n = 10
    X, y = np.zeros((n, 1), np.float32), np.arange(n)
    sampler = HardExampleSampler(n, num_samples=5000, generator=0)
    loader = DataLoader(TensorDataset(X, y), batch_size=100, sampler=sampler)
    for _ in loader:  # the training loop reports per-example losses: here loss = index²
        sampler.update(loader.batch_indices, loader.batch_indices.astype(float) ** 2)
    counts = np.bincount(epoch_labels(loader), minlength=n)
    assert counts[9] > 5 * counts[1]
    assert np.all(np.diff(counts[1:]) > -80)  # roughly increasing with the loss
    assert counts[0] > 0  # a zero-loss example still appears (smoothing)


def test_samplers_own_generators_resume_from_their_state_dict():
    weighted = WeightedRandomSampler([1.0, 2.0, 3.0], num_samples=20, generator=5)
    state = json.loads(json.dumps(weighted.state_dict()))  # what a checkpoint stores
    expected = [weighted.sample_indices() for _ in range(2)]
    resumed = WeightedRandomSampler([1.0, 2.0, 3.0], num_samples=20, generator=6)
    resumed.load_state_dict(state)
    for want in expected:
        np.testing.assert_array_equal(resumed.sample_indices(), want)
    assert RandomSampler(range(3)).state_dict() == {"generator": None}  # the global generator


def test_hard_example_sampler_state_dict_and_errors():
    sampler = HardExampleSampler(range(4), generator=2)
    sampler.update(aprende.tensor([1, 2]), aprende.tensor([0.5, 2.0]))
    copy = HardExampleSampler(4)
    copy.load_state_dict(sampler.state_dict())
    np.testing.assert_allclose(copy.probabilities(), sampler.probabilities())
    np.testing.assert_array_equal(copy.sample_indices(), sampler.sample_indices())
    with pytest.raises(ValueError, match="expected one loss per index, got 2 indices and 1 losses"):
        sampler.update([0, 1], [1.0])
    with pytest.raises(IndexError, match=r"indices must be in \[0, 4\), got \[0, 4\]"):
        sampler.update([0, 4], [1.0, 1.0])
    with pytest.raises(ValueError, match="finite and non-negative"):
        sampler.update([0], [-1.0])


# ---- memory-mapped data ----------------------------------------------------------------------


def test_array_dataset_reads_npy_files(tmp_path):
    X, y = make_data(n=12)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    data = ArrayDataset(tmp_path / "x.npy", tmp_path / "y.npy")
    assert isinstance(data.x, np.memmap) and len(data) == 12
    loader = DataLoader(data, batch_size=5, shuffle=True, generator=0)
    for xb, yb in loader:
        np.testing.assert_array_equal(np.asarray(xb), X[np.asarray(yb)])
    x3, y3 = data[3]
    np.testing.assert_array_equal(np.asarray(x3), X[3])
    assert int(y3) == 3
    unlabeled = next(iter(DataLoader(ArrayDataset(tmp_path / "x.npy"), batch_size=4)))
    assert isinstance(unlabeled, aprende.Tensor) and unlabeled.shape == (4, 3)
    np.save(tmp_path / "short.npy", y[:5])
    with pytest.raises(ValueError, match=r"same number of rows.*\(12, 3\).*\(5,\)"):
        ArrayDataset(tmp_path / "x.npy", tmp_path / "short.npy")


def test_iterating_a_memory_mapped_file_keeps_memory_far_below_its_size(tmp_path):
    rows, width = 100 * 1024, 256  # 100 MiB of float32
    path = tmp_path / "big.npy"
    big = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))
    for start in range(0, rows, 16 * 1024):  # written in chunks: the test never holds it all
        big[start : start + 16 * 1024] = start
    big.flush()
    del big
    size = path.stat().st_size

    tracemalloc.start()
    try:
        loader = DataLoader(ArrayDataset(path), batch_size=2048, shuffle=True, generator=0)
        seen = sum(batch.shape[0] for batch in loader)
        _, peak_loader = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        np.load(path).sum()  # the control: loading the file in memory does show its size
        _, peak_load = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == rows
    assert peak_load >= size
    assert peak_loader < size / 20, (
        f"peak {peak_loader / 2**20:.1f} MiB for a {size >> 20} MiB file"
    )
