"""The error function erf and its complement erfc on raw arrays, vectorised to float64 rounding.

NumPy has no erf, and ``math.erf`` takes one number at a time. Two expansions cover the line
(erf is odd, erfc(−x) = 2 − erfc(x); float32 stops each series where its terms fall below
float32's precision):

- |x| < 0.75: the Maclaurin series erf(x) = (2/√π) Σₙ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1)); its terms
  fall below 2⁻⁵⁶ of the sum by n = 13, and alternate with falling size (no cancellation).
- |x| ≥ 0.75: erfc(x) = e^(−x²) · K/(K + x) · Σ′ cᵣ Tᵣ(t), t = (x − K)/(x + K), K = 3.5
  (Schonfelder's 1978 Chebyshev expansion of the scaled complement e^(x²) erfc(x), which is
  smooth on all of [0, ∞)). e^(−x²) is taken as e^(−z²) · e^(−(x−z)(x+z)) with z = x rounded
  to 20 fractional bits, so z² is exact and e^(−x²) keeps full relative accuracy up to x ≈ 26,
  where erfc underflows.
"""

from __future__ import annotations

import math

import numpy as np

from aprende.backend import get_array_module

#: (2/√π) (−1)ⁿ / (n! (2n + 1)): the Maclaurin coefficients of erf(x)/x in powers of x².
_MACLAURIN = tuple(
    2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(14)
)
_SERIES_BELOW = 0.75
_K = 3.5
#: Chebyshev coefficients c₀ … c₂₅ of (1 + x/K) e^(x²) erfc(x) in t = (x − K)/(x + K) on
#: [−1, 1], interpolated at 26 Chebyshev nodes with mpmath at 40 digits (the test suite
#: recomputes them); c₀ is already halved (the Σ′ convention).
_CHEBYSHEV = (
    0.43619650584943626,
    -0.37810219450774746,
    0.1347927221328442,
    -0.03956961500292479,
    0.009399416788484062,
    -0.001722240030487525,
    0.00021287910323983695,
    -8.02541662620833e-06,
    -3.0124601262441563e-06,
    6.020358886837482e-07,
    -8.133756678661049e-10,
    -1.5482876443250463e-08,
    1.3963619492932169e-09,
    3.481347675739388e-10,
    -6.381448374954784e-11,
    -8.188397997780523e-12,
    2.4316512135207517e-12,
    2.2914424482999536e-13,
    -9.119562385366504e-14,
    -8.404355417768073e-15,
    3.478864969254563e-15,
    3.956559187570222e-16,
    -1.331551953703181e-16,
    -2.137723521847087e-17,
    4.87139974081575e-18,
    1.266715526357681e-18,
)


def _terms(coefficients: tuple, dtype) -> tuple:
    """The leading coefficients that matter at ``dtype``'s precision (all of them for float64;
    float32 needs about half, and is computed in float32: half the work and the memory)."""
    eps = np.finfo(dtype).eps / 8
    return tuple(c for c in coefficients if abs(c) > eps * abs(coefficients[0]))


def _series(x):
    """erf(x) by the Maclaurin series (accurate for |x| < 0.75), Horner in x²."""
    coefficients = _terms(_MACLAURIN, x.dtype)
    s = x * x
    total = s * coefficients[-1]
    for c in coefficients[-2:0:-1]:  # in place: the series runs over every element
        total += c
        total *= s
    total += _MACLAURIN[0]
    return x * total


def _erfc_positive(x):
    """erfc(x) for x ≥ 0 by the Chebyshev expansion (Clenshaw's recurrence, in place)."""
    xp = get_array_module(x)
    t = (x - _K) / (x + _K)
    two_t = 2 * t
    coefficients = _terms(_CHEBYSHEV, x.dtype)
    b1, b2 = xp.full_like(x, coefficients[-1]), xp.zeros_like(x)
    for c in coefficients[-2:0:-1]:
        b2 *= -1  # b₂ ← 2t·b₁ − b₂ + c, then swap: b₁, b₂ = new, old b₁
        b2 += c
        b2 += two_t * b1
        b1, b2 = b2, b1
    scaled = t * b1 - b2 + _CHEBYSHEV[0]
    scale = x.dtype.type(2.0**20 if x.dtype == np.float64 else 2.0**7)  # z² exact: 25 / 12 bits
    z = xp.round(x * scale) / scale
    return xp.exp(-z * z) * xp.exp(-(x - z) * (x + z)) * scaled * (_K / (_K + x))


def _computed(x):
    """(x in float64, or float32 for float32 and float16; its magnitude clipped to the
    expansions' ranges): ±inf and nan pass through the final ``where``s; the clipping keeps
    the unused branch finite."""
    xp = get_array_module(x)
    x = xp.asarray(x, dtype=np.float64 if x.dtype == np.float64 else np.float32)
    a = xp.abs(x)
    return x, xp.minimum(a, _SERIES_BELOW), xp.clip(a, _SERIES_BELOW, 28.0)


def erf_values(x):
    """erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt elementwise, in x's floating dtype."""
    xp = get_array_module(x)
    x64, small, large = _computed(x)
    near = _series(xp.copysign(small, x64))
    far = xp.copysign(1 - _erfc_positive(large), x64)
    out = xp.where(xp.abs(x64) < _SERIES_BELOW, near, far)
    return xp.where(xp.isnan(x64), x64, out).astype(x.dtype, copy=False)


def erfc_values(x):
    """erfc(x) = 1 − erf(x) elementwise without the cancellation (relative accuracy for large
    x), in x's floating dtype."""
    xp = get_array_module(x)
    x64, small, large = _computed(x)
    near = 1 - _series(xp.copysign(small, x64))
    tail = _erfc_positive(large)
    far = xp.where(x64 < 0, 2 - tail, tail)
    out = xp.where(xp.abs(x64) < _SERIES_BELOW, near, far)
    return xp.where(xp.isnan(x64), x64, out).astype(x.dtype, copy=False)
