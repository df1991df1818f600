"""In-place methods against PyTorch: for every ``x.name_(...)``, over float, integer and bool
tensors, mixed dtypes and broadcast operands, either both frameworks refuse it with the same
exception type, or both change x in place to the same values and dtype, return x itself, keep
its memory, and count one more version (``x._version``, as PyTorch's).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import assert_same_tensor  # noqa: E402

import aprende  # noqa: E402
from aprende.ops.inplace import ELEMENTWISE  # noqa: E402

UNARY = [
    "neg", "abs", "sign", "sgn", "square", "sqrt", "rsqrt", "reciprocal", "exp", "exp2",
    "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "sigmoid", "relu", "erf", "erfc", "erfinv", "floor", "ceil", "trunc",
    "fix", "round", "frac", "logical_not", "bitwise_not", "absolute", "negative",
    "nan_to_num", "deg2rad", "rad2deg", "logit", "sinc",
]  # fmt: skip
BINARY = [
    "add", "sub", "mul", "div", "pow", "copysign", "hypot", "atan2", "arctan2", "fmod",
    "remainder", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
    "logical_or", "bitwise_and", "bitwise_or", "bitwise_xor", "multiply", "subtract", "divide",
    "true_divide", "clamp_min", "clamp_max",
    "xlogy", "heaviside", "float_power", "ldexp", "nextafter",
]  # fmt: skip

# (id, call(x, o)): o is a tensor of the operand's dtype and shape
ROWS = [(f"{name}_", lambda x, o, n=name: getattr(x, f"{n}_")()) for name in UNARY]
ROWS += [(f"{name}_(o)", lambda x, o, n=name: getattr(x, f"{n}_")(o)) for name in BINARY]
ROWS += [
    ("add_(o, alpha=2)", lambda x, o: x.add_(o, alpha=2)),
    ("sub_(o, alpha=0.5)", lambda x, o: x.sub_(o, alpha=0.5)),
    ("add_(2.5)", lambda x, o: x.add_(2.5)),
    ("mul_(3)", lambda x, o: x.mul_(3)),
    ("pow_(2)", lambda x, o: x.pow_(2)),
    ("div_(o, floor)", lambda x, o: x.div_(o, rounding_mode="floor")),
    ("div_(o, trunc)", lambda x, o: x.div_(o, rounding_mode="trunc")),
    ("clamp_(0.3, 0.6)", lambda x, o: x.clamp_(0.3, 0.6)),
    ("clamp_(2, 3)", lambda x, o: x.clamp_(2, 3)),
    ("clamp_(max=o)", lambda x, o: x.clamp_(max=o)),
    ("clip_(0.3, 0.6)", lambda x, o: x.clip_(0.3, 0.6)),
    ("lerp_(o, 0.3)", lambda x, o: x.lerp_(o, 0.3)),
    ("addcmul_(o, o, value=0.5)", lambda x, o: x.addcmul_(o, o, value=0.5)),
    ("addcmul_(o, o, value=2)", lambda x, o: x.addcmul_(o, o, value=2)),
    ("addcdiv_(o, o + 1, value=-2)", lambda x, o: x.addcdiv_(o, o + 1, value=-2)),
    ("round_(decimals=1)", lambda x, o: x.round_(decimals=1)),
    ("nan_to_num_(1.0, 2.0, -2.0)", lambda x, o: x.nan_to_num_(1.0, 2.0, -2.0)),
    ("logit_(eps=0.2)", lambda x, o: x.logit_(eps=0.2)),
    ("xlogy_(2.5)", lambda x, o: x.xlogy_(2.5)),
    ("float_power_(2)", lambda x, o: x.float_power_(2)),
    ("cumsum_(-1)", lambda x, o: x.cumsum_(-1)),
    ("cumprod_(0)", lambda x, o: x.cumprod_(0)),
    ("tril_()", lambda x, o: x.tril_()),
    ("triu_(1)", lambda x, o: x.triu_(1)),
    ("zero_()", lambda x, o: x.zero_()),
    ("fill_(2.7)", lambda x, o: x.fill_(2.7)),
    ("copy_(o)", lambda x, o: x.copy_(o)),
]

VALUES = {  # each kind drawn so that every op is defined there (no division by zero)
    "f": lambda rng, shape: rng.uniform(0.1, 0.9, shape),
    "i": lambda rng, shape: rng.integers(1, 5, shape),
    "b": lambda rng, shape: rng.integers(0, 2, shape).astype(bool),
}
#: (self dtype, operand dtype, self shape, operand shape)
CASES = {
    "float32": ("float32", "float32", (2, 3), (2, 3)),
    "float64": ("float64", "float64", (2, 3), (2, 3)),
    "int64": ("int64", "int64", (2, 3), (2, 3)),
    "bool": ("bool", "bool", (2, 3), (2, 3)),
    "float32 with float64": ("float32", "float64", (2, 3), (2, 3)),
    "float32 with int64": ("float32", "int64", (2, 3), (2, 3)),
    "int64 with float32": ("int64", "float32", (2, 3), (2, 3)),
    "int32 with int64": ("int32", "int64", (2, 3), (2, 3)),
    "int64 with bool": ("int64", "bool", (2, 3), (2, 3)),
    "broadcast operand": ("float64", "float64", (2, 3), (3,)),
    "broadcast self": ("float64", "float64", (3,), (2, 3)),
}


def _tensors(ns, case: str):
    self_dtype, operand_dtype, self_shape, operand_shape = CASES[case]
    rng = np.random.default_rng(3)
    self_values = VALUES[np.dtype(self_dtype).kind](rng, self_shape).astype(self_dtype)
    operand_values = VALUES[np.dtype(operand_dtype).kind](rng, operand_shape)
    return (
        ns.tensor(self_values, dtype=getattr(ns, self_dtype)),
        ns.tensor(operand_values.astype(operand_dtype), dtype=getattr(ns, operand_dtype)),
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name, call", ROWS, ids=[row[0] for row in ROWS])
def test_inplace_matches_pytorch(name, call, case):
    theirs, their_operand = _tensors(torch, case)
    ours, our_operand = _tensors(aprende, case)
    try:
        their_result = call(theirs, their_operand)
    except Exception as error:  # noqa: BLE001 - whatever PyTorch raises is the reference
        with pytest.raises(type(error)):
            call(ours, our_operand)
        assert ours._version == 0, "a refused in-place op changed the tensor"
        return
    memory = ours.data
    our_result = call(ours, our_operand)
    assert their_result is theirs and our_result is ours, "an in-place op returns its tensor"
    assert ours.data is memory, "the result went into new memory"
    rtol = 2e-5 if "float32" in CASES[case][:2] else 1e-7
    assert_same_tensor(ours, theirs, rtol, 1e-6)
    assert ours._version == theirs._version


def test_every_inplace_twin_is_in_the_table():
    tested = {row[0].split("(")[0].rstrip("_") for row in ROWS}
    assert set(ELEMENTWISE) <= tested, set(ELEMENTWISE) - tested


def test_adam_written_with_inplace_methods_matches_pytorch():
    """PyTorch's Adam update as its source writes it, run in both frameworks."""

    def adam(ns, steps=5, lr=0.01, betas=(0.9, 0.999), eps=1e-8):
        p = ns.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        m, v = ns.zeros_like(p), ns.zeros_like(p)
        for step in range(1, steps + 1):
            loss = ((p * p * p).sum() - p.sum()) if step % 2 else (p.exp() * p).sum()
            p.grad = None
            loss.backward()
            with ns.no_grad():
                grad = p.grad
                m.lerp_(grad, 1 - betas[0])
                v.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
                bias1, bias2 = 1 - betas[0] ** step, 1 - betas[1] ** step
                denom = (v.sqrt() / bias2**0.5).add_(eps)
                p.addcdiv_(m, denom, value=-lr / bias1)
        return p

    ours, theirs = adam(aprende), adam(torch)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
