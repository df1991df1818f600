"""aprende: a deep-learning framework built from first principles on NumPy.

PyTorch's names and semantics: ``aprende.tensor``, ``Tensor.backward``, ``aprende.no_grad``,
``aprende.nn``, ``aprende.optim``. Heavy optional parts (plots, datasets, progress bars) are
imported only when used.
"""

from aprende import autograd, backend, cuda
from aprende._tensor import Tensor
from aprende.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from aprende.backend import (
    bool_,
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
    logspace,
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
from aprende.ops.activation import celu, leaky_relu, relu, selu, sigmoid, tanh
from aprende.ops.activation_shrink import hardshrink, prelu, rrelu, threshold
from aprende.ops.aliases import absolute, divide, multiply, negative, sgn, subtract, true_divide
from aprende.ops.arithmetic import floor_divide, fmod, remainder
from aprende.ops.binary_math import (
    addcdiv,
    addcmul,
    allclose,
    arctan2,
    atan2,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    copysign,
    float_power,
    fmax,
    fmin,
    heaviside,
    hypot,
    isclose,
    lerp,
    logaddexp,
    logaddexp2,
)
from aprende.ops.comparison import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    eq,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
)
from aprende.ops.cumulative import cummax, cummin, cumprod, cumsum, diff, logcumsumexp
from aprende.ops.decompositions import pinverse
from aprende.ops.distances import cosine_similarity, pairwise_distance, pdist
from aprende.ops.einsum import einsum
from aprende.ops.elementwise import (
    abs,
    add,
    clone,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sign,
    sqrt,
    square,
    sub,
    where,
)
from aprende.ops.floating_point import frexp, ldexp, nan_to_num, nextafter, signbit
from aprende.ops.index_update import index_add, index_copy, index_fill, masked_scatter
from aprende.ops.indexing import index_select, masked_fill, masked_select, nonzero, select, take
from aprende.ops.layout import (
    flip,
    fliplr,
    flipud,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    roll,
    rot90,
    swapaxes,
    swapdims,
    unflatten,
)
from aprende.ops.linalg import bmm, dot, inner, matmul, mm, mv, outer, vdot
from aprende.ops.math import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cos,
    cosh,
    deg2rad,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    isinf,
    isneginf,
    isposinf,
    log1p,
    log2,
    log10,
    rad2deg,
    reciprocal,
    round,
    rsqrt,
    sin,
    sinh,
    tan,
    trunc,
)
from aprende.ops.norm import norm
from aprende.ops.products import (
    block_diag,
    cartesian_prod,
    cdist,
    cross,
    dist,
    kron,
    tensordot,
    trace,
)
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
from aprende.ops.repeat import repeat_interleave, tile
from aprende.ops.sampling import bernoulli, multinomial, poisson, randint_like
from aprende.ops.scatter import (
    gather,
    scatter,
    scatter_add,
    scatter_reduce,
    take_along_dim,
)
from aprende.ops.search import (
    argwhere,
    bincount,
    bucketize,
    histc,
    isin,
    unique_consecutive,
    unravel_index,
)
from aprende.ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    column_stack,
    concat,
    concatenate,
    dstack,
    expand,
    flatten,
    hstack,
    numel,
    permute,
    ravel,
    reshape,
    row_stack,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unsqueeze,
    vstack,
)
from aprende.ops.shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from aprende.ops.solve import det, inverse, logdet, matrix_power, slogdet
from aprende.ops.sort import argsort, kthvalue, msort, searchsorted, sort, topk, unique
from aprende.ops.special import erf, erfc, erfinv, logit, sinc, xlogy
from aprende.ops.statistics import (
    amax,
    amin,
    aminmax,
    corrcoef,
    count_nonzero,
    cov,
    median,
    mode,
    nanmean,
    nanmedian,
    nansum,
    prod,
    std_mean,
    var_mean,
)
from aprende.ops.triangular import (
    diag,
    diag_embed,
    diagflat,
    diagonal,
    tril,
    tril_indices,
    triu,
    triu_indices,
)
from aprende.threads import get_num_threads, set_num_threads

__version__ = "0.1.0"
bool = bool_  # noqa: A001 - torch.bool


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
        "distributed",
        "linalg",
        "sklearn",
        "onnx",
        "serialization",
    }
    if name in lazy:
        return importlib.import_module(f"aprende.{name}")
    if name in ("save", "load", "save_model", "load_model"):  # safetensors files
        return getattr(importlib.import_module("aprende.serialization"), name)
    raise AttributeError(f"module 'aprende' has no attribute {name!r}")
