"""cumsum, cumprod, cummax, cummin and logcumsumexp against PyTorch: values, dtypes, shapes and
gradients (zeros in cumprod, ties and nan in cummax / cummin, ±inf in logcumsumexp)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 4))
X3 = RNG.standard_normal((2, 3, 4))
ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, 2.0, -1.0, 3.0], [1.0, 2.0, 3.0, 4.0, 0.0]])
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 0.0], [2.0, 2.0, 1.0, 2.0, -1.0, -1.0, 7.0]])
NAN = np.array([[np.nan, 1.0, np.nan, 3.0], [1.0, np.nan, 3.0, 0.0]])
INF = np.array([[-np.inf, -np.inf, 1.0, 2.0], [1.0, np.inf, 2.0, 3.0]])
INTS = np.array([[1, 2, -3], [4, 0, 6]])

F64, F32 = "float64", "float32"

CASES = [
    # ---- cumsum
    *[(f"cumsum-dim{d}", lambda ns, a, d=d: ns.cumsum(a, d), [X], F64) for d in (0, 1, -1)],
    ("cumsum-float32", lambda ns, a: ns.cumsum(a, 1), [X], F32),
    ("cumsum-float16", lambda ns, a: ns.cumsum(a, 1), [X], "float16"),
    ("cumsum-permuted", lambda ns, a: ns.cumsum(a.permute(2, 0, 1), 1), [X3], F64),
    ("cumsum-slice", lambda ns, a: ns.cumsum(a[:, ::2], 1), [X], F64),
    ("cumsum-0d", lambda ns, a: ns.cumsum(a, 0), [np.array(2.5)], F64),
    ("cumsum-0d-dim-1", lambda ns, a: ns.cumsum(a, -1), [np.array(2.5)], F64),
    ("cumsum-empty", lambda ns, a: ns.cumsum(a, 0), [np.zeros((0, 3))], F64),
    ("cumsum-nan-inf", lambda ns, a: ns.cumsum(a, 1), [NAN + INF], F64),
    ("cumsum-int32-to-int64", lambda ns, a: ns.cumsum(a, 1), [INTS], "int32"),
    ("cumsum-bool-to-int64", lambda ns, a: ns.cumsum(a, 0), [INTS > 0], "bool"),
    ("cumsum-uint8", lambda ns, a: ns.cumsum(a, 0), [np.array([200, 100, 50])], "uint8"),
    ("cumsum-dtype-float64", lambda ns, a: ns.cumsum(a, 0, dtype=ns.float64), [X], F32),
    ("cumsum-int-dtype-float32", lambda ns, a: ns.cumsum(a, 0, dtype=ns.float32), [INTS], "int64"),
    ("cumsum-dtype-int32", lambda ns, a: ns.cumsum(a, 1, dtype=ns.int32), [INTS], "int64"),
    ("cumsum-method", lambda ns, a: a.cumsum(dim=-1), [X3], F64),
    # ---- cumprod
    *[(f"cumprod-dim{d}", lambda ns, a, d=d: ns.cumprod(a, d), [X], F64) for d in (0, 1, -1)],
    ("cumprod-zeros", lambda ns, a: ns.cumprod(a, 1), [ZEROS], F64),
    ("cumprod-zeros-dim0", lambda ns, a: ns.cumprod(a, 0), [ZEROS.T.copy()], F64),
    ("cumprod-zeros-float32", lambda ns, a: ns.cumprod(a, -1), [ZEROS], F32),
    ("cumprod-all-zeros", lambda ns, a: ns.cumprod(a, 1), [np.zeros((2, 3))], F64),
    ("cumprod-transposed", lambda ns, a: ns.cumprod(a.t(), 1), [ZEROS], F64),
    ("cumprod-0d", lambda ns, a: ns.cumprod(a, 0), [np.array(0.0)], F64),
    ("cumprod-empty", lambda ns, a: ns.cumprod(a, 1), [np.zeros((2, 0))], F64),
    ("cumprod-float16", lambda ns, a: ns.cumprod(a, 1), [X], "float16"),
    ("cumprod-int32-to-int64", lambda ns, a: ns.cumprod(a, 1), [INTS], "int32"),
    ("cumprod-bool", lambda ns, a: ns.cumprod(a, 1), [INTS > 0], "bool"),
    ("cumprod-dtype", lambda ns, a: ns.cumprod(a, 1, dtype=ns.float64), [ZEROS], F32),
    ("cumprod-method", lambda ns, a: a.cumprod(0), [X3], F64),
    # ---- cummax / cummin: ties take the last position, nan takes over
    *[
        (f"{op}-{name}", lambda ns, a, op=op, d=d: getattr(ns, op)(a, d), [array], dtype)
        for op in ("cummax", "cummin")
        for name, array, d, dtype in (
            ("ties", TIES, 1, F64),
            ("ties-dim0", TIES.T.copy(), 0, F64),
            ("random-3d", X3, -1, F32),
            ("nan", NAN, 1, F64),
            ("inf", INF, 1, F64),
            ("signed-zeros", np.array([0.0, -0.0, 0.0, -0.0]), 0, F64),
            ("int32", INTS, 1, "int32"),
            ("bool", INTS > 0, 0, "bool"),
            ("float16", X, 1, "float16"),
            ("0d", np.array(3.0), 0, F64),
            ("empty", np.zeros((0, 3)), 1, F64),
        )
    ],
    ("cummax-transposed", lambda ns, a: ns.cummax(a.t(), 0), [TIES], F64),
    ("cummax-method", lambda ns, a: a.cummax(1), [TIES], F64),
    ("cummin-method-values", lambda ns, a: a.cummin(dim=0).values * 2, [X], F64),
    # ---- logcumsumexp
    *[
        (f"logcumsumexp-dim{d}", lambda ns, a, d=d: ns.logcumsumexp(a, d), [X], F64)
        for d in (0, 1, -1)
    ],
    ("logcumsumexp-float32", lambda ns, a: ns.logcumsumexp(a, 1), [X3], F32),
    (
        "logcumsumexp-large",
        lambda ns, a: ns.logcumsumexp(a, 1),
        [np.array([[-1000.0, 0.0, 1000.0, 999.0]])],
        F64,
    ),
    (
        "logcumsumexp-spread",
        lambda ns, a: ns.logcumsumexp(a, 0),
        [np.array([-800.0, 0.0, -800.0])],
        F64,
    ),
    ("logcumsumexp-inf", lambda ns, a: ns.logcumsumexp(a, 1), [INF], F64),
    ("logcumsumexp-nan", lambda ns, a: ns.logcumsumexp(a, 1), [NAN], F64),
    ("logcumsumexp-0d", lambda ns, a: ns.logcumsumexp(a, 0), [np.array(1.5)], F64),
    ("logcumsumexp-empty", lambda ns, a: ns.logcumsumexp(a, 0), [np.zeros((0, 2))], F64),
    ("logcumsumexp-float16", lambda ns, a: ns.logcumsumexp(a, 1), [X], "float16"),
    ("logcumsumexp-permuted", lambda ns, a: ns.logcumsumexp(a.permute(1, 2, 0), 2), [X3], F64),
    ("logcumsumexp-method", lambda ns, a: a.logcumsumexp(0), [X], F64),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nan and inf rows reach the loss sum
@pytest.mark.parametrize("name, op, arrays, dtype", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


ERRORS = [
    ("cumsum-dim-out-of-range", lambda ns, a: ns.cumsum(a, 2), [X]),
    ("cumsum-0d-dim-1", lambda ns, a: ns.cumsum(a, 1), [np.array(1.0)]),
    ("cumprod-dim-out-of-range", lambda ns, a: ns.cumprod(a, -3), [X]),
    ("cummax-dim-out-of-range", lambda ns, a: ns.cummax(a, 2), [X]),
    ("logcumsumexp-int", lambda ns, a: ns.logcumsumexp(a.long(), 0), [X]),
]


@pytest.mark.parametrize("name, op, arrays", ERRORS, ids=[c[0] for c in ERRORS])
def test_refuses_what_torch_refuses(name, op, arrays):
    raises_like_torch(op, arrays)
