"""Random sampling without PyTorch: with a fixed seed, sample means and variances against each
distribution's formulas (within 5 standard errors over 10⁵ draws), multinomial counts against
the weights (a chi-square statistic), determinism (the same seed gives the same values, and a
``generator=`` leaves the global stream alone), distinct draws without replacement, the zero
gradient of bernoulli and poisson, the in-place rules, and bernoulli and multinomial on each
device.
"""

import math

import numpy as np
import pytest

import aprende
from aprende.ops.sampling import TENSOR_METHODS

N = 100_000


def assert_moments(sample, mean: float, variance: float) -> None:
    """The sample mean within 5 standard errors of ``mean``, and the sample variance within 5
    of its own standard errors of ``variance`` (its standard error estimated from the fourth
    central moment of the sample)."""
    values = np.asarray(sample, dtype=np.float64).ravel()
    n = values.size
    assert abs(values.mean() - mean) <= 5 * math.sqrt(variance / n), (values.mean(), mean)
    m4 = ((values - values.mean()) ** 4).mean()
    assert abs(values.var() - variance) <= 5 * math.sqrt((m4 - variance**2) / n), (
        values.var(),
        variance,
    )


def test_bernoulli_frequency_is_each_probability():
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    sample = aprende.bernoulli(aprende.tensor(np.tile(p, (N, 1)))).numpy()
    for j, pj in enumerate(p):
        assert_moments(sample[:, j], pj, pj * (1 - pj))
    assert set(np.unique(sample)) <= {0.0, 1.0}


def test_bernoulli_with_p_ignores_the_values_and_keeps_the_dtype():
    x = aprende.full((N,), 7, dtype=aprende.int64)
    sample = aprende.bernoulli(x, 0.3)
    assert sample.dtype == aprende.int64 and sample.shape == (N,)
    assert_moments(sample.numpy(), 0.3, 0.3 * 0.7)


def test_bernoulli_inplace_with_a_tensor_of_probabilities_broadcast():
    x = aprende.zeros(N, 2)
    memory, version = x.data, x._version
    x.bernoulli_(aprende.tensor([0.25, 0.75]))
    assert x.data is memory and x._version == version + 1
    assert_moments(x.numpy()[:, 0], 0.25, 0.25 * 0.75)
    assert_moments(x.numpy()[:, 1], 0.75, 0.75 * 0.25)


def test_multinomial_with_replacement_counts_follow_the_weights():
    weights = np.array([1.0, 2.0, 0.0, 3.0, 4.0])
    draws = aprende.multinomial(aprende.tensor(weights), N, replacement=True).numpy()
    counts = np.bincount(draws, minlength=weights.size)
    expected = N * weights / weights.sum()
    assert counts[2] == 0
    chi_square = (((counts - expected) ** 2)[expected > 0] / expected[expected > 0]).sum()
    assert chi_square < 18.5  # the 99.97th percentile of χ² with 3 degrees of freedom


def test_multinomial_without_replacement_first_draw_follows_the_weights():
    weights = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 0.0, 0.0, 1.0]])
    rows = np.broadcast_to(weights[:, None, :], (2, N // 10, 4)).reshape(-1, 4)
    draws = aprende.multinomial(aprende.tensor(rows), 2).numpy()
    first = draws[:, 0].reshape(2, -1)
    for row, w in zip(first, weights, strict=True):
        expected = len(row) * w / w.sum()
        counts = np.bincount(row, minlength=4)
        assert np.all(counts[w == 0] == 0)
        chi_square = (((counts - expected) ** 2)[w > 0] / expected[w > 0]).sum()
        assert chi_square < 18.5
    # the second row has two non-zero weights: its two draws are always those two
    second_row = draws.reshape(2, -1, 2)[1]
    np.testing.assert_array_equal(
        np.sort(second_row, axis=1), np.tile([0, 3], (len(second_row), 1))
    )


def test_multinomial_without_replacement_draws_are_distinct_and_zero_weights_come_last():
    weights = aprende.tensor(np.random.default_rng(1).uniform(0.1, 1.0, (50, 20)))
    draws = aprende.multinomial(weights, 20).numpy()
    assert draws.dtype == np.int64 and draws.shape == (50, 20)
    np.testing.assert_array_equal(np.sort(draws, axis=1), np.tile(np.arange(20), (50, 1)))
    draws = aprende.multinomial(aprende.tensor([0.0, 1.0, 0.0, 2.0]), 4).numpy()
    assert set(draws[:2]) == {1, 3} and list(draws[2:]) == [0, 2]


def test_poisson_moments_are_the_rate():
    for rate in (0.5, 4.0, 30.0):
        sample = aprende.poisson(aprende.full((N,), rate, dtype=aprende.float64))
        assert sample.dtype == aprende.float64
        values = sample.numpy()
        assert np.all(values == np.round(values)) and values.min() >= 0
        assert_moments(values, rate, rate)


def test_exponential_moments():
    x = aprende.empty(N, dtype=aprende.float64).exponential_(2.5)
    assert x.numpy().min() >= 0
    assert_moments(x.numpy(), 1 / 2.5, 1 / 2.5**2)


@pytest.mark.parametrize("dtype", [aprende.float64, aprende.int64, aprende.uint8])
def test_geometric_moments_on_one_two_three(dtype):
    p = 0.3
    x = aprende.zeros(N, dtype=dtype).geometric_(p)
    values = x.numpy()
    assert values.min() == 1
    assert_moments(values, 1 / p, (1 - p) / p**2)
    # P(x = 1) = p
    assert abs((values == 1).mean() - p) < 5 * math.sqrt(p * (1 - p) / N)


def test_log_normal_has_normal_logarithm():
    x = aprende.empty(N, dtype=aprende.float64).log_normal_(0.5, 0.75)
    assert x.numpy().min() > 0
    assert_moments(np.log(x.numpy()), 0.5, 0.75**2)


def test_cauchy_quartiles_are_median_plus_minus_sigma():
    x = aprende.empty(N, dtype=aprende.float64).cauchy_(1.5, 2.0).numpy()
    # F(median ± σ) = ½ ± ¼: the quartiles, with the binomial standard error of a frequency
    for point, probability in ((1.5, 0.5), (-0.5, 0.25), (3.5, 0.75)):
        frequency = (x <= point).mean()
        assert abs(frequency - probability) < 5 * math.sqrt(probability * (1 - probability) / N)


@pytest.mark.parametrize(
    "dtype, low, top",
    [
        (aprende.float32, 0, 2**24),
        (aprende.float64, 0, 2**53),
        (aprende.int32, 0, 2**31 - 1),
        (aprende.uint8, 0, 255),
        (aprende.bool_, 0, 1),
    ],
)
def test_random_default_range(dtype, low, top):
    values = aprende.zeros(N, dtype=dtype).random_().numpy().astype(np.float64)
    assert values.min() >= low and values.max() <= top
    assert values.max() > top * 0.99  # the range is used up to its top
    assert_moments(values, top / 2, ((top + 1) ** 2 - 1) / 12)


def test_random_int64_default_range_reaches_the_top():
    values = aprende.zeros(1000, dtype=aprende.int64).random_().numpy()
    assert values.min() >= 0 and values.max() > 0.99 * (2**63 - 1)


@pytest.mark.parametrize(
    "args, kwargs, low, high",
    [
        ((10,), {}, 0, 10),
        ((-3, 4), {}, -3, 4),
        ((), {"from": 2, "to": 6}, 2, 6),
        ((), {"to": 5}, 0, 5),
        ((2,), {"to": 9}, 2, 9),
    ],
)
def test_random_discrete_uniform_moments(args, kwargs, low, high):
    values = aprende.zeros(N, dtype=aprende.float64).random_(*args, **kwargs).numpy()
    np.testing.assert_array_equal(np.unique(values), np.arange(low, high))
    k = high - low
    assert_moments(values, (low + high - 1) / 2, (k * k - 1) / 12)


def test_random_from_with_no_to_goes_to_the_default_top():
    values = aprende.zeros(N, dtype=aprende.uint8).random_(250, None).numpy()
    np.testing.assert_array_equal(np.unique(values), np.arange(250, 256))


def test_randint_like_shape_dtype_and_range():
    x = aprende.zeros(N // 10, 10, dtype=aprende.float64)
    values = aprende.randint_like(x, 3, 8)
    assert values.shape == x.shape and values.dtype == aprende.float64
    np.testing.assert_array_equal(np.unique(values.numpy()), np.arange(3, 8))
    assert_moments(values.numpy(), 5, (25 - 1) / 12)
    high_only = aprende.randint_like(x, 4, dtype=aprende.int32)
    assert high_only.dtype == aprende.int32
    np.testing.assert_array_equal(np.unique(high_only.numpy()), np.arange(4))
    assert aprende.randint_like(x, 4, requires_grad=True).requires_grad


# --- determinism --------------------------------------------------------------------------


SAMPLERS = {
    "bernoulli": lambda g: aprende.bernoulli(aprende.full((50,), 0.5), generator=g),
    "bernoulli(p)": lambda g: aprende.bernoulli(aprende.zeros(50), 0.5, generator=g),
    "bernoulli_": lambda g: aprende.zeros(50).bernoulli_(0.5, generator=g),
    "multinomial": lambda g: aprende.multinomial(aprende.ones(3, 50), 20, generator=g),
    "multinomial(replacement)": lambda g: aprende.multinomial(
        aprende.ones(3, 50), 20, True, generator=g
    ),
    "poisson": lambda g: aprende.poisson(aprende.full((50,), 3.0), generator=g),
    "randint_like": lambda g: aprende.randint_like(aprende.zeros(50), 1000, generator=g),
    "exponential_": lambda g: aprende.zeros(50).exponential_(generator=g),
    "geometric_": lambda g: aprende.zeros(50).geometric_(0.1, generator=g),
    "log_normal_": lambda g: aprende.zeros(50).log_normal_(generator=g),
    "cauchy_": lambda g: aprende.zeros(50).cauchy_(generator=g),
    "random_": lambda g: aprende.zeros(50).random_(generator=g),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_same_seed_same_values(name):
    draw = SAMPLERS[name]
    aprende.manual_seed(5)
    first, after_first = draw(None).numpy(), aprende.rand(3).numpy()
    aprende.manual_seed(5)
    np.testing.assert_array_equal(draw(None).numpy(), first)
    np.testing.assert_array_equal(aprende.rand(3).numpy(), after_first)  # same stream after
    assert not np.array_equal(draw(None).numpy(), first)  # the stream moves on


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_generator_leaves_the_global_stream_alone(name):
    draw = SAMPLERS[name]
    aprende.manual_seed(5)
    untouched = aprende.rand(3).numpy()
    aprende.manual_seed(5)
    first = draw(np.random.default_rng(11)).numpy()
    np.testing.assert_array_equal(aprende.rand(3).numpy(), untouched)
    np.testing.assert_array_equal(draw(np.random.default_rng(11)).numpy(), first)


# --- gradients and graph ------------------------------------------------------------------


@pytest.mark.parametrize("op", [aprende.bernoulli, aprende.poisson])
def test_gradient_through_a_sample_is_zero(op):
    parameter = aprende.full((4,), 0.5, dtype=aprende.float64, requires_grad=True)
    sample = op(parameter)
    assert sample.requires_grad
    (sample * aprende.arange(4.0, dtype=aprende.float64)).sum().backward()
    np.testing.assert_array_equal(parameter.grad.numpy(), np.zeros(4))


def test_multinomial_and_bernoulli_with_p_carry_no_graph():
    weights = aprende.ones(4, requires_grad=True)
    assert not aprende.multinomial(weights, 2).requires_grad
    assert not aprende.bernoulli(weights, 0.5).requires_grad


FILLS = {
    "bernoulli_": lambda x: x.bernoulli_(),
    "exponential_": lambda x: x.exponential_(),
    "geometric_": lambda x: x.geometric_(0.5),
    "log_normal_": lambda x: x.log_normal_(),
    "cauchy_": lambda x: x.cauchy_(),
    "random_": lambda x: x.random_(0, 5),
}


@pytest.mark.parametrize("name", FILLS)
def test_fills_refuse_a_tensor_that_requires_grad_and_bump_the_version(name):
    fill = FILLS[name]
    leaf = aprende.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=name):
        fill(leaf)
    with aprende.no_grad():
        fill(leaf)
    x = aprende.zeros(3)
    memory, version = x.data, x._version
    assert fill(x) is x and x.data is memory and x._version == version + 1


def test_a_fill_after_the_forward_pass_breaks_the_backward():
    a = aprende.ones(3, requires_grad=True)
    b = aprende.ones(3)
    y = (a * b).sum()
    b.exponential_()
    with pytest.raises(RuntimeError):
        y.backward()


def test_tensor_methods_are_installed():
    for name in TENSOR_METHODS:
        assert callable(getattr(aprende.Tensor, name)), name
    x = aprende.full((10,), 0.5)
    assert x.bernoulli().shape == (10,) and x.multinomial(3).shape == (3,)


# --- devices ------------------------------------------------------------------------------


def test_bernoulli_on_each_device(device):
    p = aprende.tensor(np.tile([0.0, 0.2, 1.0], (20_000, 1)), device=device)
    sample = aprende.bernoulli(p)
    assert sample.device == device and sample.dtype == p.dtype
    values = sample.cpu().numpy()
    np.testing.assert_array_equal(values[:, 0], 0)
    np.testing.assert_array_equal(values[:, 2], 1)
    assert_moments(values[:, 1], 0.2, 0.16)
    x = aprende.zeros(5, device=device).bernoulli_(aprende.full((5,), 1.0, device=device))
    assert x.device == device
    np.testing.assert_array_equal(x.cpu().numpy(), 1)


def test_multinomial_on_each_device(device):
    weights = aprende.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]], device=device)
    with_replacement = aprende.multinomial(weights, 4000, replacement=True)
    assert with_replacement.device == device and with_replacement.dtype == aprende.int64
    draws = with_replacement.cpu().numpy()
    counts = [np.bincount(row, minlength=3) for row in draws]
    assert counts[0][1] == 0 and counts[1][0] == 0
    assert abs(counts[0][2] / 4000 - 0.75) < 5 * math.sqrt(0.75 * 0.25 / 4000)
    without = aprende.multinomial(weights, 3).cpu().numpy()
    np.testing.assert_array_equal(np.sort(without, axis=1), [[0, 1, 2], [0, 1, 2]])
    assert without[0, 2] == 1 and without[1, 2] == 0


def test_bad_probabilities_on_a_gpu_raise_at_the_next_read(device):
    p = aprende.tensor([0.5, 1.5], device=device)
    with pytest.raises(RuntimeError, match="bernoulli"):
        aprende.bernoulli(p).sum().item()  # the read that settles a GPU's deferred checks
    with pytest.raises(RuntimeError, match="multinomial"):
        aprende.multinomial(aprende.tensor([1.0, -1.0], device=device), 1).sum().item()
