"""Random sampling: bernoulli, multinomial, poisson, randint_like, and the in-place fills
exponential_, geometric_, log_normal_, cauchy_, random_ and bernoulli_.

Draws come from aprende's generators, never PyTorch's random stream, so the values differ from
PyTorch's for the same seed; the distributions, shapes, dtypes and errors are PyTorch's. With
``generator=None`` a tensor on a GPU draws from that device's own generator (nothing is drawn on
the host and uploaded); a NumPy ``generator=`` draws on the host and the values are moved to the
tensor's device. Checks of a GPU tensor's values (a probability outside [0, 1]) are deferred to
the next host read (``backend.defer_check``), so sampling never waits for the device.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_on_device
from aprende.ops.inplace import check_inplace, write_inplace

TENSOR_METHODS = (
    "bernoulli", "bernoulli_", "multinomial",
    "exponential_", "geometric_", "log_normal_", "cauchy_", "random_",
)  # fmt: skip

#: PyTorch's limit on the categories of one multinomial distribution.
_MAX_CATEGORIES = 2**24


# ---------------------------------------------------------------------------------------------
# Where draws come from
# ---------------------------------------------------------------------------------------------


def _draw(array, generator, method: str, *args, **kwargs):
    """``generator.method(*args, **kwargs)`` on ``array``'s device: with no generator, the
    device's own (``backend.generator_of``); with a NumPy one, on the host, then moved."""
    if generator is None:
        return getattr(backend.generator_of(array), method)(*args, **kwargs)
    values = getattr(backend.generator_for(generator), method)(*args, **kwargs)
    return backend.move(values, backend.device_of(array))


def _uniform(array, shape: tuple, generator):
    """U[0, 1) draws in float64, of the given shape, on ``array``'s device."""
    return _draw(array, generator, "random", shape, dtype=np.float64)


class _Sampled(Function):
    """y = a sample drawn from a distribution with parameter a; ∂L/∂a = 0, as PyTorch defines
    it: a sample does not vary smoothly with its parameter."""

    def forward(self, parameter, *, sample):
        return sample

    def backward(self, grad):
        return (get_array_module(grad).zeros_like(grad),)


class Bernoulli(_Sampled):
    """y ~ Bernoulli(p) elementwise; ∂L/∂p = 0."""


class Poisson(_Sampled):
    """y ~ Poisson(λ) elementwise; ∂L/∂λ = 0."""


# ---------------------------------------------------------------------------------------------
# bernoulli, poisson
# ---------------------------------------------------------------------------------------------


def _check_probability(p: float, op: str) -> None:
    if not 0 <= p <= 1:  # a nan fails too
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p}")


def _check_probabilities(probabilities, op: str) -> None:
    """Every probability in [0, 1] (nan is not)."""
    bad = ~((probabilities >= 0) & (probabilities <= 1))
    check_on_device(
        bad, lambda: RuntimeError(f"{op}: expected probabilities in [0, 1], got values outside")
    )


def _check_floating(tensor: Tensor, op: str, what: str) -> None:
    if not backend.is_floating(tensor.dtype):
        raise NotImplementedError(
            f"{op}: not implemented for {tensor.dtype} tensors (expected {what} of a floating "
            "dtype)"
        )


def bernoulli(input: Tensor, p: float | None = None, generator=None) -> Tensor:
    """Samples of Bernoulli(p): yᵢ = 1 with probability pᵢ = ``input[i]``, else 0, in
    ``input``'s shape and dtype. With ``p`` given, every element has probability ``p`` and
    ``input`` gives only the shape and dtype (any dtype).

    ∂L/∂input = 0 (PyTorch's definition); with ``p`` given the result has no graph. The
    values come from aprende's generators, not PyTorch's stream.
    """
    if p is not None:
        _check_probability(p, "bernoulli")
        draws = _uniform(input.data, input.shape, generator)
        return Tensor._make((draws < p).astype(input.dtype), False)
    _check_floating(input, "bernoulli", "probabilities")
    _check_probabilities(input.data, "bernoulli")
    draws = _uniform(input.data, input.shape, generator)
    return Bernoulli.apply(input, sample=(draws < input.data).astype(input.dtype))


def bernoulli_(self: Tensor, p: float | Tensor = 0.5, generator=None) -> Tensor:
    """In place: each element becomes 1 with probability ``p`` (a number, or a floating
    tensor broadcast to this shape), else 0, in this tensor's dtype (any dtype)."""
    check_inplace(self, "bernoulli_")
    if isinstance(p, Tensor):
        _check_floating(p, "bernoulli_", "probabilities")
        if not _broadcasts_to(p.shape, self.shape):
            raise RuntimeError(
                f"bernoulli_: probabilities of shape {tuple(p.shape)} cannot be broadcast to "
                f"the tensor's shape {tuple(self.shape)}"
            )
        _check_probabilities(p.data, "bernoulli_")
        p = p.data
    else:
        _check_probability(p, "bernoulli_")
    draws = _uniform(self.data, self.shape, generator)
    return write_inplace(self, (draws < p).astype(self.dtype))


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def poisson(input: Tensor, generator=None) -> Tensor:
    """Samples of Poisson(λ): yᵢ ∈ {0, 1, 2, ...} with P(yᵢ = k) = λᵢᵏ e^(−λᵢ)/k!, λ =
    ``input`` (non-negative rates of a floating dtype); the result has ``input``'s shape and
    dtype.

    ∂L/∂λ = 0 (PyTorch's definition). The values come from aprende's generators, not
    PyTorch's stream; a rate too large for NumPy's sampler (above about 9·10¹⁸, or inf)
    raises, where PyTorch returns a meaningless number.
    """
    _check_floating(input, "poisson", "rates")
    rates = input.data
    check_on_device(
        ~(rates >= 0),
        lambda: RuntimeError("poisson: invalid Poisson rate, expected rates to be non-negative"),
    )
    if generator is not None:
        rates = backend.to_numpy(rates)
    try:
        counts = _draw(input.data, generator, "poisson", rates, size=rates.shape)
    except ValueError as error:
        raise RuntimeError(f"poisson: rate too large to sample ({error})") from None
    return Poisson.apply(input, sample=counts.astype(input.dtype))


# ---------------------------------------------------------------------------------------------
# multinomial
# ---------------------------------------------------------------------------------------------


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, generator=None
) -> Tensor:
    """``num_samples`` category indices drawn from each row of ``input``: index j with
    probability wⱼ / Σₖ wₖ, for non-negative weights w that need not sum to 1. A 1-d input
    (n,) gives (num_samples,); a 2-d input (rows, n) gives (rows, num_samples); int64.

    Without replacement the draws of a row are distinct, in the order drawn (each next one
    among the categories left, in proportion to their weights); num_samples ≤ n, and as in
    PyTorch the zero-weight categories follow once the others are drawn. No gradient. The
    values come from aprende's generators, not PyTorch's stream.
    """
    weights = _check_multinomial(input, num_samples, replacement)
    rows = weights.reshape(1, -1) if input.ndim == 1 else weights
    sample = (
        _with_replacement(rows, num_samples, generator)
        if replacement
        else _without_replacement(rows, num_samples, generator)
    )
    return Tensor._make(sample.reshape(*input.shape[:-1], num_samples), False)


def _check_multinomial(input: Tensor, num_samples: int, replacement: bool):
    """PyTorch's checks, in its order; returns the weights array."""
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool):
        raise TypeError(
            f"multinomial: num_samples must be an int, got {type(num_samples).__name__}"
        )
    if not backend.is_floating(input.dtype):
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {input.dtype}"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError(
            f"multinomial: prob_dist must be 1 or 2 dim, got a {input.ndim}-d tensor"
        )
    categories = input.shape[-1]
    if categories > _MAX_CATEGORIES:
        raise RuntimeError(
            f"multinomial: number of categories cannot exceed 2^24, got {categories}"
        )
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples, got {num_samples}")
    if not replacement and num_samples > categories:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement ({num_samples} > {categories})"
        )
    weights = input.data
    xp = get_array_module(weights)
    check_on_device(
        ~((weights >= 0) & xp.isfinite(weights)),
        lambda: RuntimeError(
            "multinomial: probability tensor contains either `inf`, `nan` or element < 0"
        ),
    )
    check_on_device(
        weights.sum(axis=-1) <= 0,
        lambda: RuntimeError(
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
        ),
    )
    return weights


def _with_replacement(rows, num_samples: int, generator):
    """Inverse-CDF sampling: index = #{j : Fⱼ ≤ u} for u ~ U[0, 1) and the row's normalised
    cumulative weights F (F ends at exactly 1, so the index stays below n and a zero-weight
    category, where F does not rise, is never drawn)."""
    xp = get_array_module(rows)
    cumulative = xp.cumsum(rows.astype(np.float64), axis=-1)
    cdf = cumulative / cumulative[:, -1:]
    draws = _uniform(rows, (rows.shape[0], num_samples), generator)
    sample = xp.empty((rows.shape[0], num_samples), dtype=np.int64)
    for row in range(rows.shape[0]):  # searchsorted is 1-d in NumPy and CuPy
        sample[row] = xp.searchsorted(cdf[row], draws[row], side="right")
    return sample


def _without_replacement(rows, num_samples: int, generator):
    """Exponential races: category j finishes at time Eⱼ/wⱼ with Eⱼ ~ Exp(1); the first
    ``num_samples`` to finish are a draw without replacement in drawing order (a zero weight
    never finishes, so those come last, by index)."""
    xp = get_array_module(rows)
    times = -xp.log1p(-_uniform(rows, rows.shape, generator))
    positive = rows > 0
    finish = xp.where(positive, times / xp.where(positive, rows, 1), np.inf)
    return xp.argsort(finish, axis=-1, kind="stable")[:, :num_samples].astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Integers: random_, randint_like
# ---------------------------------------------------------------------------------------------


def _type_limits(dtype: np.dtype) -> tuple:
    """(lowest, highest, default highest) of a dtype: a float's default range stops at
    2^digits, where consecutive integers are still all representable."""
    if dtype == np.bool_:
        return 0, 1, 1
    if backend.is_floating(dtype):
        info = np.finfo(dtype)
        return float(info.min), float(info.max), 2 ** (info.nmant + 1)
    info = np.iinfo(dtype)
    return int(info.min), int(info.max), int(info.max)


def _integer_range(dtype: np.dtype, low: int, high: int | None, op: str) -> tuple:
    """The inclusive range [low, high − 1] (or [low, default highest] when high is None),
    with PyTorch's checks: low < high, both ends representable in the dtype, and a warning
    for a float range beyond ±2^digits, where not every integer is representable."""
    lowest, highest, default = _type_limits(dtype)
    top = default if high is None else high - 1
    if high is not None and low >= high:
        raise RuntimeError(
            f"{op} expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    if high is None and low > top:
        raise RuntimeError(f"{op}: from={low} is above the largest value {top} of {dtype}")
    for name, value in (("from", low), ("to - 1", top)):
        if not lowest <= value <= highest:
            raise RuntimeError(
                f"{op}: {name} is out of bounds for {dtype} (expected values in "
                f"[{lowest:g}, {highest:g}], got {value})"
            )
        if backend.is_floating(dtype) and abs(value) > default:
            warnings.warn(
                f"{op}: {name} = {value} is out of bounds [-2^{default.bit_length() - 1}, "
                f"2^{default.bit_length() - 1}]: {dtype} cannot represent every integer there",
                UserWarning,
                stacklevel=3,
            )
    return low, top


def _check_integer(value, op: str, name: str) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{op}: '{name}' must be an int, got {type(value).__name__}")


def _fill_integers(tensor: Tensor, low: int, high: int | None, generator, op: str) -> Tensor:
    """Write integers uniform in [low, high − 1] into the tensor."""
    low, top = _integer_range(tensor.dtype, low, high, op)
    values = _draw(tensor.data, generator, "integers", low, top, tensor.shape, endpoint=True)
    return write_inplace(tensor, values.astype(tensor.dtype))


def random_(self: Tensor, *bounds: int, generator=None, **from_to: int | None) -> Tensor:
    """In place: integers uniform in [from, to − 1], as PyTorch's overloads ``random_()``,
    ``random_(to)``, ``random_(from, to)`` (``from`` by keyword as ``random_(**{"from": 1,
    "to": 5})``; ``to=None`` goes to the top of the default range). The default range is
    [0, 2^digits] for a floating dtype (2^24 for float32, 2^53 for float64: every integer there
    is representable), [0, max] for an integer dtype, {0, 1} for bool.

    The values come from aprende's generators, not PyTorch's stream.
    """
    low, high = _random_bounds(bounds, from_to)
    check_inplace(self, "random_")
    return _fill_integers(self, low, high, generator, "random_")


def _random_bounds(bounds: tuple, from_to: dict) -> tuple:
    """(from, to) of PyTorch's random_ overloads."""
    unknown = set(from_to) - {"from", "to"}
    if unknown or len(bounds) > 2 or (len(bounds) == 2 and from_to):
        raise TypeError(
            f"random_: expected random_(), random_(to) or random_(from, to), got "
            f"{len(bounds)} positional and keywords {sorted(from_to)}"
        )
    if len(bounds) == 2:
        low, high = bounds
    elif len(bounds) == 1:
        low, high = (bounds[0], from_to["to"]) if "to" in from_to else (0, bounds[0])
        if "from" in from_to:
            raise TypeError("random_: 'from' given twice")
    elif "from" in from_to:
        if "to" not in from_to:
            raise TypeError("random_: 'from' needs 'to' (random_(from, to), to may be None)")
        low, high = from_to["from"], from_to["to"]
    else:
        low, high = 0, from_to.get("to")
    _check_integer(low, "random_", "from")
    if high is not None:
        _check_integer(high, "random_", "to")
    return low, high


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    generator=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers uniform in [low, high − 1] in ``input``'s shape, and its dtype and device
    unless given; ``randint_like(x, high)`` draws from [0, high − 1], as in PyTorch. Both
    ends must be representable in the dtype.

    The values come from aprende's generators, not PyTorch's stream.
    """
    if high is None:
        low, high = 0, low
    _check_integer(low, "randint_like", "low")
    _check_integer(high, "randint_like", "high")
    dtype = input.dtype if dtype is None else backend.to_dtype(dtype)
    device = input.device if device is None else device
    out = Tensor._make(backend.move(np.zeros(input.shape, dtype), device), False)
    _fill_integers(out, low, high, generator, "randint_like")
    return out.requires_grad_(requires_grad)


# ---------------------------------------------------------------------------------------------
# Continuous fills: exponential_, log_normal_, cauchy_ (and geometric_, on a continuous draw)
# ---------------------------------------------------------------------------------------------


def _check_continuous(self: Tensor, op: str, name: str) -> None:
    if not backend.is_floating(self.dtype):
        raise RuntimeError(
            f"{op}: the {name} distribution is a continuous probability distribution; the "
            f"tensor's dtype must be a floating point, got {self.dtype}"
        )


def _check_positive(value: float, op: str, name: str) -> None:
    if not value > 0:  # a nan fails too
        raise RuntimeError(f"{op} expects {name} > 0.0, but found {name}={value}")


def _fill(self: Tensor, op: str, values) -> Tensor:
    check_inplace(self, op)
    return write_inplace(self, values.astype(self.dtype))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """In place: samples of Exp(λ), density λe^(−λx) on x ≥ 0, drawn as x = −ln(1 − u)/λ with
    u ~ U[0, 1) (mean 1/λ, variance 1/λ²). A floating tensor only. The values come from
    aprende's generators, not PyTorch's stream."""
    _check_positive(lambd, "exponential_", "lambda")
    _check_continuous(self, "exponential_", "exponential")
    xp = get_array_module(self.data)
    u = _uniform(self.data, self.shape, generator)
    return _fill(self, "exponential_", -xp.log1p(-u) / lambd)


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """In place: samples of Geometric(p) on {1, 2, ...}, P(x = k) = (1 − p)^(k−1) p (the
    number of trials up to the first success; mean 1/p, variance (1 − p)/p²), drawn as
    x = ⌊ln(u)/ln(1 − p)⌋ + 1 with u ~ U(0, 1]. Any dtype but bool. The values come from
    aprende's generators, not PyTorch's stream."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    if self.dtype == np.bool_:
        raise NotImplementedError("geometric_: not implemented for bool tensors")
    xp = get_array_module(self.data)
    u = 1 - _uniform(self.data, self.shape, generator)
    return _fill(self, "geometric_", xp.floor(xp.log(u) / np.log1p(-p)) + 1)


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """In place: samples of LogNormal(μ, σ²), x = exp(μ + σz) with z ~ N(0, 1) (so ln x has
    mean ``mean`` and standard deviation ``std``). A floating tensor only. The values come
    from aprende's generators, not PyTorch's stream."""
    _check_positive(std, "log_normal_", "std")
    if not backend.is_floating(self.dtype):
        raise NotImplementedError(f"log_normal_: not implemented for {self.dtype} tensors")
    xp = get_array_module(self.data)
    z = _draw(self.data, generator, "standard_normal", self.shape)
    return _fill(self, "log_normal_", xp.exp(mean + std * z))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """In place: samples of Cauchy(median, σ), density 1 / (πσ(1 + ((x − median)/σ)²)), drawn
    as x = median + σ·tan(π(u − ½)) with u ~ U[0, 1). A floating tensor only. The values come
    from aprende's generators, not PyTorch's stream."""
    _check_positive(sigma, "cauchy_", "sigma")
    _check_continuous(self, "cauchy_", "Cauchy")
    xp = get_array_module(self.data)
    u = _uniform(self.data, self.shape, generator)
    return _fill(self, "cauchy_", median + sigma * xp.tan(np.pi * (u - 0.5)))
