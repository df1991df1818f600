"""aprende: a deep-learning framework built from first principles on NumPy.

PyTorch's names and semantics: ``aprende.tensor``, ``Tensor.backward``, ``aprende.no_grad``,
``aprende.nn``, ``aprende.optim``. Heavy optional parts (plots, datasets, progress bars) are
imported only when used.
"""

from aprende import autograd, backend
from aprende._tensor import Tensor
from aprende.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from aprende.backend import (
    bool_,
    cuda_is_available,
    device,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    get_rng_state,
    int32,
    int64,
    long,
    manual_seed,
    set_default_dtype,
    set_rng_state,
    uint8,
)
from aprende.backend import float as float  # noqa: PLC0414 - torch.float is float32
from aprende.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from aprende.ops.activation import leaky_relu, relu, sigmoid, tanh
from aprende.ops.einsum import einsum
from aprende.ops.elementwise import (
    abs,
    add,
    allclose,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    clamp,
    clip,
    div,
    eq,
    exp,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sign,
    sqrt,
    square,
    sub,
    where,
)
from aprende.ops.linalg import bmm, dot, inner, matmul, mm, mv, outer, vdot
from aprende.ops.reduce import (
    all,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    var,
)
from aprende.ops.shape import (
    broadcast_to,
    cat,
    chunk,
    concatenate,
    expand,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

__version__ = "0.1.0"
bool = bool_  # noqa: A001 - torch.bool


class cuda:  # noqa: N801 - torch.cuda
    """``aprende.cuda.is_available()`` as in PyTorch."""

    is_available = staticmethod(cuda_is_available)


def __getattr__(name: str):
    """Import the heavier subpackages on first use, so ``import aprende`` stays light."""
    import importlib

    lazy = {
        "nn",
        "optim",
        "data",
        "datasets",
        "metrics",
        "models",
        "training",
        "classic",
        "plots",
        "graph",
    }
    if name in lazy:
        return importlib.import_module(f"aprende.{name}")
    raise AttributeError(f"module 'aprende' has no attribute {name!r}")
