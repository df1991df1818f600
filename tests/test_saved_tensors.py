"""What a backward reads is declared and version-checked: an in-place change after the forward
pass raises PyTorch's RuntimeError at backward, never a silently wrong gradient.

Each case builds one graph node and names the tensor its backward reads; changing that tensor
in place must make backward raise. The same table checks the declaration itself: every array
a node keeps is in ``saved_tensors``, and an input whose memory the node keeps is saved as is.
"""

import numpy as np
import pytest

import aprende
from aprende.nn import functional as F

INPLACE = "modified by an inplace operation"


def leaf(*shape, seed=0):
    return aprende.tensor(
        np.random.default_rng(seed).normal(size=shape).astype(np.float32), requires_grad=True
    )


def constant(values):
    return aprende.tensor(np.asarray(values))


# ---- the three reproductions -----------------------------------------------------------------


def test_where_condition_changed_after_forward_raises():
    a = aprende.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = aprende.tensor([True, False, True])
    y = aprende.where(c, a, aprende.tensor([4.0, 5.0, 6.0]))
    c[0] = False
    with pytest.raises(RuntimeError, match=INPLACE):
        y.sum().backward()


def test_index_changed_after_forward_raises():
    a = aprende.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    i = aprende.tensor([0, 1])
    y = a[i]
    i[0] = 3
    with pytest.raises(RuntimeError, match=INPLACE):
        y.sum().backward()


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, t: F.cross_entropy(x, t),
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda x, t: F.cross_entropy(x, t, weight=aprende.tensor([1.0, 2.0, 0.5])),
        lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
        lambda x, t: F.nll_loss(x, t, weight=aprende.tensor([1.0, 2.0, 0.5])),
    ],
    ids=["plain", "smoothing", "weight", "nll", "nll-weight"],
)
def test_class_target_changed_after_forward_raises(loss):
    x = leaf(4, 3)
    t = aprende.tensor([0, 1, 2, 1])
    out = loss(x, t)
    t[0] = 2
    with pytest.raises(RuntimeError, match=INPLACE):
        out.backward()


def test_the_error_names_the_op_and_the_versions():
    x = leaf(3)
    y = (x * x).sum()
    with aprende.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"mul saved a tensor of shape \(3,\) at version 0, "):
        y.backward()


def test_an_unchanged_graph_still_backpropagates_after_a_rejected_change_is_undone_by_clone():
    a = aprende.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    i = aprende.tensor([0, 1])
    y = a[i.clone()]  # the node saved the clone: changing the original is harmless
    i[0] = 3
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1, 0, 0])


# ---- one case per op family ------------------------------------------------------------------
# (name, build) where build() returns (output, the tensor its backward reads, how to change it)


def bump(tensor):
    """Change ``tensor`` in place the way a user would, outside the graph."""
    with aprende.no_grad():
        tensor.add_(1) if tensor.dtype.kind == "f" else tensor.__setitem__(0, 0)


def _case_binary(op):
    def build():
        a, b = leaf(3, 4), leaf(3, 4, seed=1)
        a.data += 3  # positive, for pow and log
        return op(a, b), b

    return build


def _case_unary(op, positive=False):
    def build():
        a = leaf(3, 4)
        if positive:
            a.data = np.abs(a.data) + 0.5
        return op(a), a

    return build


def _case_output(op):
    """An op whose backward reads its own output: the output is what must not change."""

    def build():
        a = leaf(3, 4)
        out = op(a)
        return out, out

    return build


def _bce():
    x = aprende.tensor(np.full((3, 2), 0.3, np.float32), requires_grad=True)
    y = constant(np.array([[0.0, 1.0]] * 3, np.float32))
    return F.binary_cross_entropy(x, y), y


def _bce_logits_weight():
    x = leaf(3, 2)
    w = constant(np.array([1.0, 3.0], np.float32))
    return F.binary_cross_entropy_with_logits(x, constant(np.ones((3, 2), np.float32)), w), w


def _bce_logits_pos_weight():
    x = leaf(3, 2)
    pw = constant(np.array([2.0, 0.5], np.float32))
    ones = constant(np.ones((3, 2), np.float32))
    return F.binary_cross_entropy_with_logits(x, ones, pos_weight=pw), pw


def _soft_cross_entropy_weight():
    x = leaf(3, 4)
    w = constant(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    q = constant(np.full((3, 4), 0.25, np.float32))
    return F.cross_entropy(x, q, weight=w), w


def _soft_cross_entropy_target():
    x, q = leaf(3, 4), aprende.tensor(np.full((3, 4), 0.25, np.float32))
    return F.cross_entropy(x, q), q


def _per_pixel_cross_entropy():
    x = leaf(2, 3, 4, 4)
    t = constant(np.random.default_rng(0).integers(0, 3, size=(2, 4, 4)))
    return F.cross_entropy(x, t), t


def _linear_weight():
    x, w, b = leaf(5, 3), leaf(2, 3, seed=1), leaf(2, seed=2)
    return F.linear(x, w, b), w


def _linear_input():
    x, w = leaf(5, 3), leaf(2, 3, seed=1)
    return F.linear(x, w), x


def _linear_relu_output():
    model = aprende.nn.Sequential(aprende.nn.Linear(3, 4), aprende.nn.ReLU())
    out = model(leaf(5, 3))
    return out, out


def _batch_norm_eval_running_mean():
    x = leaf(6, 3)
    mean, var = constant(np.zeros(3, np.float32)), constant(np.ones(3, np.float32))
    return F.batch_norm(x, mean, var, leaf(3, seed=1), leaf(3, seed=2), training=False), mean


def _batch_norm_weight():
    x, w = leaf(6, 3), leaf(3, seed=1)
    return F.batch_norm(x, None, None, w, None, training=True), w


def _conv2d_weight():
    w = leaf(4, 3, 3, 3, seed=1)
    return F.conv2d(leaf(2, 3, 5, 5), w, leaf(4, seed=2), stride=2, padding=1), w


def _conv_input(op, x_shape, w_shape, **options):
    def build():
        x = leaf(*x_shape)  # backward rebuilds im2col from it, for the weight gradient
        return op(x, leaf(*w_shape, seed=1), **options), x

    return build


def _conv_transpose2d(read):
    def build():
        x, w = leaf(2, 3, 4, 4), leaf(3, 2, 3, 3, seed=1)
        return F.conv_transpose2d(x, w, leaf(2, seed=2), stride=2), {"input": x, "weight": w}[read]

    return build


def _matmul():
    a, b = leaf(3, 4), leaf(4, 2, seed=1)
    return a @ b, a


def _where_condition():
    c = constant(np.array([True, False, True]))
    return aprende.where(c, leaf(3), leaf(3, seed=1)), c


def _bool_mask_index():
    m = constant(np.array([True, False, True, True]))
    return leaf(4)[m], m


def _tuple_index():
    i = constant(np.array([0, 2]))
    return leaf(3, 4)[1:, i], i


def _max_unpool2d_indices():
    _, indices = F.max_pool2d(leaf(1, 2, 4, 4), 2, return_indices=True)
    return F.max_unpool2d(leaf(1, 2, 2, 2, seed=1), indices, 2), indices


def _max_unpool2d_unbatched_indices():
    _, indices = F.max_pool2d(leaf(2, 4, 4), 2, return_indices=True)
    return F.max_unpool2d(leaf(2, 2, 2, seed=1), indices, 2), indices


def _returned_indices(op):
    """A value-picking op along a dim: backward reads the indices it returned."""

    def build():
        values, indices = op(leaf(3, 4))
        return values, indices

    return build


def _einsum(read):
    def build():
        a, b = leaf(3, 3), leaf(3, 2, seed=1)
        return aprende.einsum("ii,ij->ij", a, b), {"a": a, "b": b}[read]

    return build


def _gathered(op, index=((0, 2), (1, 1), (3, 0))):
    """A gather-family op whose backward reads its index (or mask): that is what must not change."""

    def build():
        i = constant(np.array(index))
        return op(leaf(3, 4), i), i

    return build


def _scatter_reduce_src(reduce):
    def build():
        src = leaf(3, 2, seed=1)
        return aprende.scatter_reduce(
            leaf(3, 4), 1, constant(np.array([[0, 0]] * 3)), src, reduce
        ), src

    return build


def _cummax_indices():
    values, indices = aprende.cummax(leaf(3, 4), 1)
    return values, indices


def _attention_float_mask():
    from aprende.ops.attention import MaskedSoftmax

    out = MaskedSoftmax.apply(leaf(3, 4), constant(np.zeros((1, 4), np.float32)), present=(True,))
    return out, out


CASES = {
    "max-dim-indices": _returned_indices(lambda a: a.max(1)),
    "sort-indices": _returned_indices(lambda a: a.sort(0)),
    "median-dim-indices": _returned_indices(lambda a: a.median(1)),
    "prod": _case_unary(lambda a: a.prod(1)),
    "amax": _case_unary(lambda a: a.amax(0)),
    "median": _case_unary(lambda a: a.median()),
    "nansum": _case_unary(lambda a: a.nansum(1)),
    "vector_norm": _case_unary(lambda a: aprende.linalg.vector_norm(a, 3, 1)),
    "vector_norm-output": _case_output(lambda a: aprende.linalg.vector_norm(a, dim=1)),
    "mul": _case_binary(lambda a, b: a * b),
    "div": _case_binary(lambda a, b: a / b),
    "pow": _case_binary(lambda a, b: a**b),
    "maximum": _case_binary(aprende.maximum),
    "minimum": _case_binary(aprende.minimum),
    "log": _case_unary(aprende.log, positive=True),
    "square": _case_unary(aprende.square),
    "abs": _case_unary(aprende.abs),
    "clamp": _case_unary(lambda a: a.clamp(-0.5, 0.5)),
    "leaky_relu": _case_unary(F.leaky_relu),
    "max": _case_unary(lambda a: a.max()),
    "logsumexp": _case_unary(lambda a: aprende.logsumexp(a, 1)),
    "exp": _case_output(aprende.exp),
    "sqrt": _case_output(lambda a: (a * a).sqrt()),
    "relu": _case_output(aprende.relu),
    "sigmoid": _case_output(aprende.sigmoid),
    "tanh": _case_output(aprende.tanh),
    "softmax": _case_output(lambda a: F.softmax(a, 1)),
    "log_softmax": _case_output(lambda a: F.log_softmax(a, 1)),
    "matmul": _matmul,
    **{
        name: _case_unary(op)
        for name, op in {
            "gelu": F.gelu,
            "gelu-tanh": lambda a: F.gelu(a, approximate="tanh"),
            "silu": F.silu,
            "softplus": F.softplus,
            "elu": F.elu,
            "hardtanh": F.hardtanh,
            "hardsigmoid": F.hardsigmoid,
            "hardswish": F.hardswish,
            "mish": F.mish,
            "logsigmoid": F.logsigmoid,
            "softsign": F.softsign,
            "glu": lambda a: F.glu(a, 1),
            "normalize": F.normalize,
        }.items()
    },
    "where": _where_condition,
    "index-mask": _bool_mask_index,
    "index-tuple": _tuple_index,
    "linear-weight": _linear_weight,
    "linear-input": _linear_input,
    "linear+relu-output": _linear_relu_output,
    "cross_entropy-per-pixel": _per_pixel_cross_entropy,
    "cross_entropy-soft-weight": _soft_cross_entropy_weight,
    "cross_entropy-soft-target": _soft_cross_entropy_target,
    "binary_cross_entropy-target": _bce,
    "bce_with_logits-weight": _bce_logits_weight,
    "bce_with_logits-pos_weight": _bce_logits_pos_weight,
    "batch_norm-eval-running_mean": _batch_norm_eval_running_mean,
    "batch_norm-weight": _batch_norm_weight,
    "conv2d-weight": _conv2d_weight,
    "conv2d-input": _conv_input(F.conv2d, (2, 3, 5, 5), (4, 3, 3, 3), padding="same"),
    "conv2d-pointwise-input": _conv_input(F.conv2d, (2, 3, 4, 4), (4, 3, 1, 1)),
    "conv1d-input": _conv_input(F.conv1d, (2, 3, 7), (4, 3, 3), stride=2),
    "conv_transpose2d-input": _conv_transpose2d("input"),
    "conv_transpose2d-weight": _conv_transpose2d("weight"),
    "max_unpool2d-indices": _max_unpool2d_indices,
    "max_unpool2d-unbatched-indices": _max_unpool2d_unbatched_indices,
    "gather-index": _gathered(lambda a, i: a.gather(1, i)),
    "take_along_dim-index": _gathered(lambda a, i: aprende.take_along_dim(a, i, 1), [[0, 2]]),
    "scatter-index": _gathered(lambda a, i: a.scatter(1, i, leaf(3, 2, seed=1))),
    "scatter_add-index": _gathered(lambda a, i: a.scatter_add(1, i, leaf(3, 2, seed=1))),
    "scatter_reduce-mean-index": _gathered(lambda a, i: a.scatter_reduce(1, i, a[:, :2], "mean")),
    "scatter_reduce-amax-src": _scatter_reduce_src("amax"),
    "scatter_reduce-prod-src": _scatter_reduce_src("prod"),
    "index_select-index": _gathered(lambda a, i: a.index_select(1, i), [3, 3, 0]),
    "embedding-indices": _gathered(lambda a, i: F.embedding(i, a, padding_idx=1), [[0, 2], [1, 1]]),
    "masked_select-mask": _gathered(aprende.masked_select, [True, False, True, True]),
    "cummax-indices": _cummax_indices,
    "cumprod": _case_unary(lambda a: a.cumprod(1)),
    "logcumsumexp": _case_output(lambda a: a.logcumsumexp(1)),
    # elementwise math (ops/math.py, special.py, binary_math.py, arithmetic.py)
    "sin": _case_unary(aprende.sin),
    "acosh": _case_unary(aprende.acosh, positive=True),
    "erf": _case_unary(aprende.erf),
    "frac": _case_unary(aprende.frac),
    "copysign": _case_unary(lambda a: aprende.copysign(a, -1.0)),
    "tan": _case_output(aprende.tan),
    "rsqrt": _case_output(aprende.rsqrt),
    "erfinv": _case_output(aprende.erfinv),
    "lerp-end": _case_binary(lambda a, b: aprende.lerp(a, b, 0.3)),
    "lerp-weight": _case_binary(lambda a, b: aprende.lerp(a, a * 2, b)),
    "logaddexp": _case_binary(aprende.logaddexp),
    "hypot": _case_binary(aprende.hypot),
    "atan2": _case_binary(aprende.atan2),
    "fmax": _case_binary(aprende.fmax),
    "remainder": _case_binary(lambda a, b: a % b),
    "fmod": _case_binary(aprende.fmod),
    "clamp-tensor-min": _case_binary(lambda a, b: a.clamp(min=b)),
    "einsum-first": _einsum("a"),
    "einsum-second": _einsum("b"),
    "attention-weights-output": _attention_float_mask,
}


@pytest.mark.parametrize("name", CASES)
def test_changing_what_backward_reads_raises(name):
    out, read = CASES[name]()
    bump(read)
    with pytest.raises(RuntimeError, match=INPLACE):
        out.sum().backward()


@pytest.mark.parametrize("name", CASES)
def test_without_a_change_backward_runs(name):
    out, _ = CASES[name]()
    out.sum().backward()


def _arrays(value):
    """Every array inside an attribute value (tuples and lists walked)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, tuple | list):
        return [a for item in value for a in _arrays(item)]
    return []


#: Nodes whose backward reads only what they made in forward (or nothing): no in-place change
#: of an input can reach it, but what they keep must still be declared.
KEEP_THEIR_OWN = {
    "add": lambda: leaf(3) + leaf(3, seed=1),
    "sub": lambda: leaf(3) - leaf(3, seed=1),
    "neg": lambda: -leaf(3),
    "sign": lambda: leaf(3).sign(),
    "sum": lambda: leaf(3, 4).sum(1),
    "mean": lambda: leaf(3, 4).mean(),
    "var": lambda: leaf(3, 4).var(0),
    "reshape": lambda: leaf(3, 4).reshape(4, 3),
    "permute": lambda: leaf(3, 4).T,
    "expand": lambda: leaf(1, 4).expand(3, 4),
    "cat": lambda: aprende.cat([leaf(2), leaf(3, seed=1)]),
    "clone": lambda: leaf(3).clone(),
    "cast": lambda: leaf(3).double(),
    "index-basic": lambda: leaf(3, 4)[1:, ::2],
    "dropout": lambda: F.dropout(leaf(50), 0.5),
    "mse": lambda: F.mse_loss(leaf(3), aprende.zeros(3)),
    "l1": lambda: F.l1_loss(leaf(3), aprende.zeros(3)),
    "batch_norm-training": lambda: F.batch_norm(leaf(6, 3), None, None, training=True),
    "dropout2d": lambda: F.dropout2d(leaf(4, 6, 2, 2), 0.5),
    "pad-constant": lambda: F.pad(leaf(2, 3, 4), (1, -1, 2, 0)),
    "pad-reflect": lambda: F.pad(leaf(2, 3, 4), (1, 2, 2, 1), mode="reflect"),
    "interpolate-nearest": lambda: F.interpolate(leaf(1, 2, 3, 4), scale_factor=1.5),
    "interpolate-bilinear": lambda: F.interpolate(leaf(1, 2, 3, 4), size=5, mode="bilinear"),
    "max_pool2d": lambda: F.max_pool2d(leaf(1, 2, 5, 5), 3, 2, 1, return_indices=True)[0],
    "avg_pool2d": lambda: F.avg_pool2d(leaf(1, 2, 5, 5), 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(leaf(1, 2, 5, 5), 3),
    "adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(leaf(1, 2, 5, 5), 3, True)[0],
    "matrix_norm-2": lambda: aprende.linalg.matrix_norm(leaf(2, 3, 4), 2),
    "matrix_norm-nuc": lambda: aprende.linalg.matrix_norm(leaf(3, 4), "nuc"),
    "flip": lambda: leaf(3, 4).flip(0, 1),
    "roll": lambda: leaf(3, 4).roll((1, 2), (0, 1)),
    "roll-flat": lambda: leaf(3, 4).roll(5),
    "tril": lambda: leaf(3, 4).tril(1),
    "triu": lambda: leaf(3, 4).triu(-1),
    "diagonal": lambda: leaf(2, 3, 4).diagonal(1, 0, 2),
    "diag_embed": lambda: leaf(2, 3).diag_embed(-1),
    "repeat": lambda: leaf(2, 3).repeat(2, 1, 2),
    "repeat_interleave": lambda: leaf(2, 3).repeat_interleave(2, 1),
    "unfold": lambda: leaf(2, 7).unfold(1, 3, 2),
    "cumsum": lambda: leaf(3, 4).cumsum(1),
    "floor": lambda: leaf(3).floor(),
    "round-decimals": lambda: leaf(3).round(decimals=2),
    "div-trunc": lambda: aprende.div(leaf(3), leaf(3, seed=1), rounding_mode="trunc"),
}


@pytest.mark.parametrize("name", [*CASES, *KEEP_THEIR_OWN])
def test_every_array_a_node_keeps_is_declared(name):
    out = KEEP_THEIR_OWN[name]() if name in KEEP_THEIR_OWN else CASES[name]()[0]
    node = out.grad_fn
    kept_outside = {
        key: value
        for key, value in vars(node).items()
        if key not in ("saved_tensors", "parents") and _arrays(value)
    }
    assert not kept_outside, f"{type(node).__name__} keeps arrays outside saved_tensors"
    saved = _arrays(node.saved_tensors)
    for tensor in (*node.parents, out):
        if any(np.shares_memory(array, tensor.data) for array in saved):
            assert any(array is tensor.data for array in node.saved_tensors), (
                f"{type(node).__name__} keeps a view of a tensor it did not save as is"
            )


# ---- what may change -------------------------------------------------------------------------


def test_changing_an_input_that_backward_does_not_read_is_allowed():
    a, b = leaf(3), leaf(3, seed=1)
    y = (a + b).sum()
    with aprende.no_grad():
        b.add_(1)
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1, 1])


def test_mse_reads_only_the_difference_made_in_forward():
    x, y = leaf(3), constant(np.zeros(3, np.float32))
    loss = F.mse_loss(x, y)
    expected = 2 * x.detach().numpy() / 3
    bump(y)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_training_batch_norm_updates_its_running_statistics_as_an_inplace_change():
    x = leaf(6, 3)
    mean, var = constant(np.zeros(3, np.float32)), constant(np.ones(3, np.float32))
    evaluated = F.batch_norm(x, mean, var, training=False)
    F.batch_norm(x.detach(), mean, var, training=True)  # moves the running mean in place
    assert mean._version == 1
    with pytest.raises(RuntimeError, match=INPLACE):
        evaluated.sum().backward()


def test_a_numpy_index_is_copied_so_changing_it_later_changes_nothing():
    a = aprende.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    index = np.array([0, 1])
    y = a[index]
    index[0] = 3
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1, 0, 0])


def test_retained_graph_checks_again_on_the_second_backward():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    with aprende.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match=INPLACE):
        y.backward()
