"""Samplers: the order (and the frequency) in which a DataLoader visits the examples.

A sampler yields dataset indices, as in PyTorch. Each one also offers ``sample_indices()``, the
whole epoch's indices as one NumPy int64 array, so the loader can slice batches out of it without
a Python loop per example. Random samplers draw from a NumPy generator (a seed, an
``np.random.Generator``, or None for ``aprende.backend.default_generator()``, which
``aprende.manual_seed`` seeds), so a run is reproducible; an epoch's order is drawn when the epoch
starts, so saving ``sampler.generator.bit_generator.state`` between epochs and restoring it later
continues the exact same sequence of orders.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sized

import numpy as np

from aprende import backend


def _resolve_generator(generator) -> np.random.Generator | None:
    """A fixed generator for a seed or a Generator; None stays None (resolved at use time)."""
    return None if generator is None else backend.generator_for(generator)


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"{owner}: {name} should be a positive integer value, got {name}={value!r}"
        )
    return int(value)


def _as_float_vector(values, name: str, owner: str) -> np.ndarray:
    """A 1-D float64 copy of an array, list or Tensor."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{owner}: {name} should be 1-D, got shape {array.shape}")
    return array.copy()


class Sampler:
    """Base class: yields the indices of one epoch, in order.

    Subclasses define ``sample_indices()`` (our samplers) or ``__iter__`` (PyTorch's habit), and
    ``__len__`` (how many indices an epoch yields).
    """

    def __iter__(self) -> Iterator[int]:
        return iter(self.sample_indices().tolist())

    def sample_indices(self) -> np.ndarray:
        """One epoch's indices as an int64 array (one draw of the randomness)."""
        if type(self).__iter__ is Sampler.__iter__:
            raise NotImplementedError(
                f"{type(self).__name__} must define sample_indices or __iter__"
            )
        return np.fromiter(iter(self), dtype=np.int64)

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def state_dict(self) -> dict:
        """What a checkpoint saves to resume the same draws: nothing for a sampler without
        randomness of its own."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict``'s output; a sampler without state has nothing to restore (so
        resuming with a sequential loader where a shuffling one was saved is fine)."""


class _GeneratorMixin:
    """The ``generator`` property shared by the random samplers."""

    _generator: np.random.Generator | None

    @property
    def generator(self) -> np.random.Generator:
        """The generator the next epoch draws from (the global one when none was given)."""
        return self._generator if self._generator is not None else backend.default_generator()

    def state_dict(self) -> dict:
        """The sampler's own generator state (JSON-able; None when it uses the global one,
        which checkpoints save on their own), so a resumed run draws the same orders."""
        return {
            "generator": None if self._generator is None else self._generator.bit_generator.state
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned."""
        if state.get("generator") is not None:
            if self._generator is None:
                self._generator = np.random.default_rng()
            self._generator.bit_generator.state = state["generator"]


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., N−1 in order, every epoch."""

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def sample_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_GeneratorMixin, Sampler):
    """A new random permutation of 0..N−1 every epoch (or ``num_samples`` draws with replacement).

    As ``torch.utils.data.RandomSampler(data_source, replacement=False, num_samples=None,
    generator=None)``; ``generator`` is a seed, an ``np.random.Generator`` or None (the global one).
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator=None,
    ):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self._generator = _resolve_generator(generator)
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def sample_indices(self) -> np.ndarray:
        n, generator = len(self.data_source), self.generator
        if self.replacement:
            return generator.integers(0, n, size=self.num_samples, dtype=np.int64)
        # Without replacement, more than N samples are whole permutations back to back (as torch).
        full, rest = divmod(self.num_samples, n) if n else (0, 0)
        orders = [generator.permutation(n) for _ in range(full)]
        orders.append(generator.permutation(n)[:rest])
        return np.concatenate(orders).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class WeightedRandomSampler(_GeneratorMixin, Sampler):
    """``num_samples`` indices drawn with P(i) = wᵢ / Σⱼ wⱼ, as ``torch``'s sampler of that name.

    Args:
        weights: (N,) non-negative weights (need not sum to 1).
        num_samples: indices drawn per epoch.
        replacement: draw with replacement (default); without it each index appears at most once,
            so ``num_samples`` may not exceed the number of non-zero weights.
        generator: a seed, an ``np.random.Generator`` or None (the global generator).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        weights = _as_float_vector(weights, "weights", "WeightedRandomSampler")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw num_samples={num_samples} without "
                f"replacement from {np.count_nonzero(weights)} non-zero weights"
            )
        self.weights = weights
        self.replacement = bool(replacement)
        self._generator = _resolve_generator(generator)

    def sample_indices(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        draws = self.generator.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return draws.astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples


class HardExampleSampler(_GeneratorMixin, Sampler):
    """Draws hard (high-loss) examples more often: the slides' "uso de ejemplos más difíciles".

    Each example i keeps ℓᵢ, the last loss the training loop reported for it with
    ``update(indices, losses)``. An epoch draws ``num_samples`` indices with

        P(i) = (1 − α) · ℓᵢ / Σⱼ ℓⱼ + α / N

    where α = ``smoothing`` mixes in the uniform distribution, so every example keeps a chance of
    at least α/N (easy examples are revisited, and their loss refreshed). An example not seen yet
    counts with the largest loss seen so far, so it is visited soon; before any update (or when
    every loss is 0) the draw is uniform. The order is drawn when an epoch starts: losses reported
    during an epoch shape the next one.

    Args:
        data_source: the dataset (or its length N).
        num_samples: indices per epoch (default N).
        replacement: draw with replacement (default, so a hard example can appear several times
            in one epoch); without it, every index appears once, hard ones earlier on average.
        smoothing: α in [0, 1].
        generator: a seed, an ``np.random.Generator`` or None (the global generator).

    The training loop pairs each batch's per-example losses (``reduction="none"``) with the
    batch's indices (``DataLoader.batch_indices``) and calls ``update``.
    """

    def __init__(
        self,
        data_source: Sized | int,
        num_samples: int | None = None,
        replacement: bool = True,
        smoothing: float = 0.2,
        generator=None,
    ):
        size = data_source if isinstance(data_source, numbers.Integral) else len(data_source)
        self.size = _positive_int(size, "data_source length", "HardExampleSampler")
        self.num_samples = (
            self.size
            if num_samples is None
            else _positive_int(num_samples, "num_samples", "HardExampleSampler")
        )
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"HardExampleSampler: smoothing should be in [0, 1], got {smoothing}")
        if not replacement and self.num_samples > self.size:
            raise ValueError(
                f"HardExampleSampler: cannot draw num_samples={self.num_samples} without "
                f"replacement from {self.size} examples"
            )
        self.replacement = bool(replacement)
        self.smoothing = float(smoothing)
        self._generator = _resolve_generator(generator)
        self.losses = np.zeros(self.size)
        self.seen = np.zeros(self.size, dtype=bool)

    def update(self, indices, losses) -> None:
        """Record the last loss of each example: ``losses[k]`` belongs to ``indices[k]``."""
        indices = np.asarray(indices).reshape(-1)
        losses = np.asarray(losses, dtype=np.float64).reshape(-1)
        if indices.shape != losses.shape:
            raise ValueError(
                f"HardExampleSampler.update: expected one loss per index, got {indices.size} "
                f"indices and {losses.size} losses"
            )
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise IndexError(
                f"HardExampleSampler.update: indices must be in [0, {self.size}), got "
                f"[{indices.min()}, {indices.max()}]"
            )
        if not np.all(np.isfinite(losses)) or np.any(losses < 0):
            raise ValueError("HardExampleSampler.update: losses must be finite and non-negative")
        self.losses[indices] = losses
        self.seen[indices] = True

    def probabilities(self) -> np.ndarray:
        """P(i) for every example, by the formula above."""
        uniform = np.full(self.size, 1.0 / self.size)
        losses = np.where(self.seen, self.losses, self.losses[self.seen].max(initial=0.0))
        total = losses.sum()
        if total <= 0:
            return uniform
        return (1.0 - self.smoothing) * losses / total + self.smoothing * uniform

    def sample_indices(self) -> np.ndarray:
        p = self.probabilities()
        draws = self.generator.choice(self.size, self.num_samples, replace=self.replacement, p=p)
        return draws.astype(np.int64, copy=False)

    def __len__(self) -> int:
        return self.num_samples

    def state_dict(self) -> dict:
        """The recorded losses (arrays) and the generator state, to save with a checkpoint."""
        return {**super().state_dict(), "losses": self.losses.copy(), "seen": self.seen.copy()}

    def load_state_dict(self, state: dict) -> None:
        """Restore the losses and generator saved by ``state_dict``."""
        losses, seen = np.asarray(state["losses"], np.float64), np.asarray(state["seen"], bool)
        if losses.shape != (self.size,) or seen.shape != (self.size,):
            raise ValueError(
                f"HardExampleSampler.load_state_dict: expected arrays of shape ({self.size},), "
                f"got {losses.shape} and {seen.shape}"
            )
        super().load_state_dict(state)
        self.losses, self.seen = losses.copy(), seen.copy()


class BatchSampler:
    """Groups a sampler's indices into batches of ``batch_size`` (the last one may be smaller).

    As ``torch.utils.data.BatchSampler(sampler, batch_size, drop_last)``, except that each batch
    is a NumPy int64 array (so it gathers with one fancy index) and that ``batch_size=None`` makes
    the whole epoch one batch (the slides' full-batch gradient descent).
    """

    def __init__(self, sampler, batch_size: int | None, drop_last: bool = False):
        if batch_size is not None:
            batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[np.ndarray]:
        if isinstance(self.sampler, Sampler):
            order = self.sampler.sample_indices()
        else:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        size = len(order) if self.batch_size is None else self.batch_size
        stop = len(order) - len(order) % size if self.drop_last and size else len(order)
        for start in range(0, stop, max(size, 1)):
            yield order[start : start + size]

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.batch_size is None:
            return int(n > 0)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
