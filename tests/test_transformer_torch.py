"""MultiheadAttention and the Transformer layers against ``torch.nn``: torch's state dict loaded
into aprende's module, then the same outputs, attention weights and gradients of the inputs
and of every parameter (float64 to 1e-7, float32 to 1e-5), in evaluation and in training
with dropout 0; every option that changes the math; the state-dict keys, the initial values
that are fixed, and the errors."""

import numpy as np
import pytest

import aprende

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*upport for mismatched:UserWarning"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
]

RNG = np.random.default_rng(0)
TOL = {"float64": 1e-7, "float32": 1e-5}


def r(*shape):
    return RNG.standard_normal(shape)


def _load_torch_weights(ours, reference):
    state = {k: aprende.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()}
    ours.load_state_dict(state)


def _tensors(ns, arrays, dtype):
    """Float arrays as float tensors that require grad; bool arrays as masks."""
    out = []
    for a in arrays:
        if a is None or a.dtype == np.bool_:
            out.append(None if a is None else ns.tensor(a))
        else:
            out.append(ns.tensor(a, dtype=getattr(ns, dtype), requires_grad=True))
    return out


def _close(ours, theirs, tol, what):
    assert ours is not None and theirs is not None, what
    assert tuple(ours.shape) == tuple(theirs.shape), what
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], what
    mine, reference = ours.detach().numpy(), theirs.detach().numpy()
    np.testing.assert_allclose(mine, reference, rtol=tol, atol=tol, err_msg=what)


def check_module(make, call, arrays, dtype="float64", train=False):
    """Build both modules (``make(nn, dtype)``), load torch's weights into aprende's, run
    ``call(module, *tensors)`` in both and compare outputs, then back-propagate the same
    random upstream gradient and compare the gradients of every input and parameter."""
    reference = make(torch.nn, getattr(torch, dtype)).train(train)
    ours = make(aprende.nn, getattr(aprende, dtype)).train(train)
    assert list(ours.state_dict()) == list(reference.state_dict())
    _load_torch_weights(ours, reference)
    ours_in, theirs_in = _tensors(aprende, arrays, dtype), _tensors(torch, arrays, dtype)
    ours_out, theirs_out = call(ours, *ours_in), call(reference, *theirs_in)
    if not isinstance(theirs_out, tuple):
        ours_out, theirs_out = (ours_out,), (theirs_out,)
    assert len(ours_out) == len(theirs_out)
    tol = TOL[dtype]
    rng = np.random.default_rng(1)
    ours_loss, theirs_loss = 0, 0
    for i, (a, b) in enumerate(zip(ours_out, theirs_out, strict=True)):
        if b is None:
            assert a is None, f"output {i}: PyTorch gives None"
            continue
        _close(a, b, tol, f"output {i}")
        upstream = rng.standard_normal(tuple(b.shape))
        ours_loss = ours_loss + (a * aprende.tensor(upstream, dtype=a.dtype)).sum()
        theirs_loss = theirs_loss + (b * torch.tensor(upstream, dtype=b.dtype)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in, strict=True)):
        if b is not None and b.requires_grad and b.grad is None:  # a mask the hint skips
            assert a.grad is None, f"input {i}: PyTorch's gradient is None"
        elif b is not None and b.requires_grad:
            _close(a.grad, b.grad, tol, f"gradient of input {i}")
    ours_params = dict(ours.named_parameters())
    for name, param in reference.named_parameters():
        _close(ours_params[name].grad, param.grad, tol, f"gradient of {name}")


def mha(**options):
    return lambda nn, dtype: nn.MultiheadAttention(8, 2, dtype=dtype, **options)


def attend(**options):
    return lambda m, q, k, v, *masks: m(q, k, v, *masks, **options)


def attend_masks(**options):
    """forward(q, k, v, key_padding_mask, attn_mask) by keyword."""
    return lambda m, q, k, v, padding, mask: m(
        q, k, v, key_padding_mask=padding, attn_mask=mask, **options
    )


def self_attend(**options):
    return lambda m, x: m(x, x, x, **options)


QKV = [r(4, 3, 8), r(5, 3, 8), r(5, 3, 8)]
PADDING = RNG.random((3, 5)) > 0.7
PADDING[:, 0] = False  # every query keeps a key: no fully masked row
CAUSAL_BOOL = ~np.tri(4, dtype=bool)  # True above the diagonal: not attended
CAUSAL = np.where(CAUSAL_BOOL, -np.inf, 0.0)
BOOL_MASK = RNG.random((4, 5)) > 0.6
BOOL_MASK[:, 0] = False

MHA_CASES = [
    ("plain", mha(), attend(), QKV),
    ("no-weights", mha(), attend(need_weights=False), QKV),
    ("per-head-weights", mha(), attend(average_attn_weights=False), QKV),
    ("self-attention", mha(), self_attend(), [r(4, 3, 8)]),
    ("batch-first", mha(batch_first=True), attend(), [r(3, 4, 8), r(3, 5, 8), r(3, 5, 8)]),
    (
        "batch-first-no-weights",
        mha(batch_first=True),
        attend(need_weights=False),
        [r(3, 4, 8), r(3, 5, 8), r(3, 5, 8)],
    ),
    ("unbatched", mha(), attend(), [r(4, 8), r(5, 8), r(5, 8)]),
    ("unbatched-per-head", mha(), attend(average_attn_weights=False), [r(4, 8), r(5, 8), r(5, 8)]),
    ("kdim-vdim", mha(kdim=3, vdim=6), attend(), [r(4, 3, 8), r(5, 3, 3), r(5, 3, 6)]),
    (
        "kdim-vdim-no-weights",
        mha(kdim=3, vdim=6),
        attend(need_weights=False),
        [r(4, 3, 8), r(5, 3, 3), r(5, 3, 6)],
    ),
    ("add-bias-kv", mha(add_bias_kv=True), attend(), QKV),
    ("add-zero-attn", mha(add_zero_attn=True), attend(need_weights=False), QKV),
    ("bias-kv-zero-attn", mha(add_bias_kv=True, add_zero_attn=True), attend(), QKV),
    ("no-bias", mha(bias=False), attend(), QKV),
    ("key-padding-bool", mha(), attend_masks(), [*QKV, PADDING, None]),
    ("key-padding-bool-no-weights", mha(), attend_masks(need_weights=False), [*QKV, PADDING, None]),
    ("key-padding-float", mha(), attend_masks(), [*QKV, r(3, 5), None]),
    ("attn-mask-bool", mha(), attend_masks(), [*QKV, None, BOOL_MASK]),
    ("attn-mask-float-2d", mha(), attend_masks(need_weights=False), [*QKV, None, r(4, 5)]),
    ("attn-mask-float-3d", mha(), attend_masks(), [*QKV, None, r(6, 4, 5)]),
    (
        "attn-mask-3d-no-weights",
        mha(),
        attend_masks(need_weights=False),
        [*QKV, None, r(6, 4, 5)],
    ),
    ("both-masks", mha(), attend_masks(), [*QKV, PADDING, r(4, 5)]),
    (
        "both-masks-bias-kv-zero-attn",
        mha(add_bias_kv=True, add_zero_attn=True),
        attend_masks(need_weights=False),
        [*QKV, PADDING, BOOL_MASK],
    ),
    (
        "causal-hint",
        mha(),
        attend_masks(need_weights=False, is_causal=True),
        [r(4, 3, 8), r(4, 3, 8), r(4, 3, 8), None, CAUSAL_BOOL],
    ),
    (
        "causal-hint-with-weights",
        mha(),
        attend_masks(is_causal=True),
        [r(4, 3, 8), r(4, 3, 8), r(4, 3, 8), None, CAUSAL],
    ),
    ("dropout-in-eval", mha(dropout=0.5), attend(), QKV),
]


@pytest.mark.parametrize(
    ("make", "call", "arrays"), [c[1:] for c in MHA_CASES], ids=[c[0] for c in MHA_CASES]
)
def test_multihead_attention_equals_torchs(make, call, arrays):
    check_module(make, call, arrays)


def test_mismatched_mask_types_warn_as_torch():
    arrays = [*QKV, PADDING, r(4, 5)]
    for ns in (torch, aprende):
        module = ns.nn.MultiheadAttention(8, 2, dtype=ns.float64)
        q, k, v, padding, mask = (ns.tensor(a) for a in arrays)
        with pytest.warns(UserWarning, match="upport for mismatched key_padding_mask"):
            module(q, k, v, key_padding_mask=padding, attn_mask=mask)


def test_multihead_attention_in_training_with_dropout_0_equals_torchs():
    check_module(mha(dropout=0.0), attend_masks(), [*QKV, PADDING, r(4, 5)], train=True)


def test_multihead_attention_float32_equals_torchs():
    check_module(mha(kdim=3, vdim=6), attend(), [r(4, 3, 8), r(5, 3, 3), r(5, 3, 6)], "float32")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_multihead_attention_fully_masked_query_gives_torchs_nan_weights():
    padding = PADDING.copy()
    padding[1] = True  # batch entry 1 attends to nothing
    reference = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    ours = aprende.nn.MultiheadAttention(8, 2, dtype=aprende.float64)
    _load_torch_weights(ours, reference)
    with torch.no_grad():
        expected = reference(*map(torch.tensor, QKV), key_padding_mask=torch.tensor(padding))
    out = ours(*map(aprende.tensor, QKV), key_padding_mask=aprende.tensor(padding))
    for a, b in zip(out, expected, strict=True):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-7, atol=1e-9)
    assert np.isnan(out[1].detach().numpy()[1]).all()


def functional_mha(ns, q, k, v, w, b, w_out, b_out, *static, **options):
    static_k, static_v = static if static else (None, None)
    return ns.nn.functional.multi_head_attention_forward(
        q,
        k,
        v,
        4,
        2,
        w,
        b,
        None,
        None,
        False,
        0.0,
        w_out,
        b_out,
        static_k=static_k,
        static_v=static_v,
        **options,
    )


WEIGHTS = [r(12, 4), r(12), r(4, 4), r(4)]
FUNCTIONAL_CASES = [
    (
        "plain",
        lambda ns, *a: functional_mha(ns, *a),
        [r(3, 2, 4), r(5, 2, 4), r(5, 2, 4), *WEIGHTS],
    ),
    (
        "static-kv",
        lambda ns, *a: functional_mha(ns, *a),
        [r(3, 2, 4), r(5, 2, 4), r(5, 2, 4), *WEIGHTS, r(4, 6, 2), r(4, 6, 2)],
    ),
    (
        "static-kv-no-weights",
        lambda ns, *a: functional_mha(ns, *a, need_weights=False)[0],  # the weights: None
        [r(3, 2, 4), r(5, 2, 4), r(5, 2, 4), *WEIGHTS, r(4, 6, 2), r(4, 6, 2)],
    ),
]


@pytest.mark.parametrize(
    ("op", "arrays"), [c[1:] for c in FUNCTIONAL_CASES], ids=[c[0] for c in FUNCTIONAL_CASES]
)
def test_functional_multi_head_attention_equals_torchs(op, arrays):
    compare(op, arrays)


def test_functional_static_key_of_the_wrong_shape_is_refused_like_torch():
    arrays = [r(3, 2, 4), r(5, 2, 4), r(5, 2, 4), *WEIGHTS, r(3, 6, 2), r(4, 6, 2)]
    assert raises_like_torch(lambda ns, *a: functional_mha(ns, *a), arrays) is AssertionError


def encoder_layer(**options):
    return lambda nn, dtype: nn.TransformerEncoderLayer(8, 2, 16, dtype=dtype, **options)


def decoder_layer(**options):
    return lambda nn, dtype: nn.TransformerDecoderLayer(8, 2, 16, dtype=dtype, **options)


def silu_encoder_layer(nn, dtype):
    """A callable activation: each framework's own silu."""
    silu = nn.functional.silu
    return nn.TransformerEncoderLayer(8, 2, 16, activation=silu, dtype=dtype)


def encode(**options):
    return lambda m, x, *masks: m(x, *masks, **options)


def decode(**options):
    return lambda m, tgt, memory, *masks: m(tgt, memory, *masks, **options)


SRC = r(5, 3, 8)
TGT = r(4, 3, 8)
SRC_CAUSAL = np.where(~np.tri(5, dtype=bool), -np.inf, 0.0)
TGT_PADDING = RNG.random((3, 4)) > 0.7
TGT_PADDING[:, 0] = False

LAYER_CASES = [
    ("encoder", encoder_layer(), encode(), [SRC]),
    ("encoder-norm-first", encoder_layer(norm_first=True), encode(), [SRC]),
    ("encoder-gelu", encoder_layer(activation="gelu"), encode(), [SRC]),
    ("encoder-callable-activation", silu_encoder_layer, encode(), [SRC]),
    ("encoder-no-bias", encoder_layer(bias=False), encode(), [SRC]),
    ("encoder-eps", encoder_layer(layer_norm_eps=1e-2), encode(), [SRC]),
    ("encoder-batch-first", encoder_layer(batch_first=True), encode(), [r(3, 5, 8)]),
    ("encoder-unbatched", encoder_layer(), encode(), [r(5, 8)]),
    ("encoder-masks", encoder_layer(), encode(), [SRC, r(5, 5), PADDING]),
    ("encoder-causal", encoder_layer(), encode(is_causal=True), [SRC, SRC_CAUSAL]),
    ("encoder-bool-mask", encoder_layer(norm_first=True), encode(), [SRC, ~np.tri(5, dtype=bool)]),
    ("decoder", decoder_layer(), decode(), [TGT, SRC]),
    ("decoder-norm-first", decoder_layer(norm_first=True), decode(), [TGT, SRC]),
    (
        "decoder-gelu-batch-first",
        decoder_layer(activation="gelu", batch_first=True),
        decode(),
        [r(3, 4, 8), r(3, 5, 8)],
    ),
    (
        "decoder-masks",
        decoder_layer(),
        decode(tgt_is_causal=True),
        [TGT, SRC, CAUSAL, r(4, 5), TGT_PADDING, PADDING],
    ),
    ("decoder-no-bias", decoder_layer(bias=False), decode(), [TGT, SRC]),
]


@pytest.mark.parametrize(
    ("make", "call", "arrays"), [c[1:] for c in LAYER_CASES], ids=[c[0] for c in LAYER_CASES]
)
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_transformer_layers_equal_torchs(make, call, arrays, train):
    def without_dropout(nn, dtype):  # dropout 0.1 (the default) is off in eval; 0 in train
        module = make(nn, dtype)
        for sub in module.modules():
            if isinstance(sub, nn.Dropout):
                sub.p = 0.0 if train else sub.p
            if isinstance(sub, nn.MultiheadAttention):
                sub.dropout = 0.0 if train else sub.dropout
        return module

    check_module(without_dropout, call, arrays, train=train)


def test_encoder_layer_float32_equals_torchs():
    check_module(encoder_layer(norm_first=True), encode(), [SRC, r(5, 5), PADDING], "float32")


def encoder_stack(nn, dtype):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dtype=dtype)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=dtype))


def decoder_stack(nn, dtype):
    layer = nn.TransformerDecoderLayer(8, 2, 16, norm_first=True, dtype=dtype)
    return nn.TransformerDecoder(layer, 2)


def transformer(**options):
    return lambda nn, dtype: nn.Transformer(8, 2, 2, 2, 16, dtype=dtype, **options)


STACK_CASES = [
    (
        "encoder-stack",
        encoder_stack,
        lambda m, x, mask, pad: m(x, mask, pad),
        [SRC, SRC_CAUSAL, PADDING],
    ),
    (
        "decoder-stack",
        decoder_stack,
        lambda m, t, s, mask: m(t, s, tgt_mask=mask),
        [TGT, SRC, CAUSAL],
    ),
    ("transformer", transformer(), lambda m, s, t: m(s, t), [SRC, TGT]),
    (
        "transformer-masks",
        transformer(),
        lambda m, s, t, mask, sp, tp: m(
            s,
            t,
            tgt_mask=mask,
            src_key_padding_mask=sp,
            tgt_key_padding_mask=tp,
            memory_key_padding_mask=sp,
        ),
        [SRC, TGT, CAUSAL, PADDING, TGT_PADDING],
    ),
    (
        "transformer-batch-first-norm-first-gelu",
        transformer(batch_first=True, norm_first=True, activation="gelu"),
        lambda m, s, t: m(s, t),
        [r(3, 5, 8), r(3, 4, 8)],
    ),
]


@pytest.mark.parametrize(
    ("make", "call", "arrays"), [c[1:] for c in STACK_CASES], ids=[c[0] for c in STACK_CASES]
)
def test_transformer_stacks_equal_torchs(make, call, arrays):
    check_module(make, call, arrays)


def test_stacked_layers_are_independent_copies():
    model = aprende.nn.TransformerEncoder(aprende.nn.TransformerEncoderLayer(8, 2, 16), 3)
    reference = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 3)
    assert list(model.state_dict()) == list(reference.state_dict())
    weights = [layer.linear1.weight for layer in model.layers]
    assert len({id(w) for w in weights}) == 3


@pytest.mark.parametrize("dtype", [None, torch.float64])
def test_generate_square_subsequent_mask_equals_torchs(dtype):
    ours_dtype = None if dtype is None else aprende.float64
    mask = aprende.nn.Transformer.generate_square_subsequent_mask(5, dtype=ours_dtype)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype)
    assert str(mask.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(mask.numpy(), expected.numpy())


@pytest.mark.parametrize(
    "options", [{}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True}, {"bias": False}]
)
def test_multihead_attention_fixed_initial_values_and_repr_equal_torchs(options):
    ours = aprende.nn.MultiheadAttention(6, 3, **options)
    reference = torch.nn.MultiheadAttention(6, 3, **options)
    assert list(ours.state_dict()) == list(reference.state_dict())
    for name, value in reference.state_dict().items():
        assert tuple(ours.state_dict()[name].shape) == tuple(value.shape), name
        if name.endswith("bias") and name not in ("bias_k", "bias_v"):
            np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy())
    assert repr(ours) == repr(reference)
    assert ours.head_dim == reference.head_dim


def _both(build):
    """The exception types ``build(ns)`` raises in torch and in aprende."""
    types = []
    for ns in (torch, aprende):
        with pytest.raises(Exception) as info:  # noqa: PT011 - compared below
            build(ns)
        types.append(info.type)
    return types


def _mha_call(ns, query_shape=(4, 3, 8), key_shape=(5, 3, 8), **options):
    module = ns.nn.MultiheadAttention(8, 2, dtype=ns.float64)
    q = ns.tensor(r(*query_shape))
    k = ns.tensor(r(*key_shape))
    return module(q, k, k, **options)


ERROR_CASES = [
    ("heads-do-not-divide", lambda ns: ns.nn.MultiheadAttention(7, 2)),
    ("zero-embed-dim", lambda ns: ns.nn.MultiheadAttention(0, 2)),
    ("zero-heads", lambda ns: ns.nn.MultiheadAttention(8, 0)),
    ("wrong-embed-size", lambda ns: _mha_call(ns, (4, 3, 6), (5, 3, 6))),
    ("key-rank", lambda ns: _mha_call(ns, (4, 3, 8), (5, 8))),
    ("query-rank", lambda ns: _mha_call(ns, (2, 4, 3, 8), (2, 5, 3, 8))),
    ("mask-2d-shape", lambda ns: _mha_call(ns, attn_mask=ns.zeros(4, 4, dtype=ns.float64))),
    ("mask-3d-shape", lambda ns: _mha_call(ns, attn_mask=ns.zeros(3, 4, 5, dtype=ns.float64))),
    ("mask-4d", lambda ns: _mha_call(ns, attn_mask=ns.zeros(1, 1, 4, 5, dtype=ns.float64))),
    ("int-mask", lambda ns: _mha_call(ns, attn_mask=ns.zeros(4, 5, dtype=ns.int64))),
    ("padding-shape", lambda ns: _mha_call(ns, key_padding_mask=ns.zeros(3, 4, dtype=ns.bool))),
    ("causal-without-mask", lambda ns: _mha_call(ns, is_causal=True)),
    ("activation", lambda ns: ns.nn.TransformerEncoderLayer(8, 2, activation="tanh")),
    (
        "transformer-batch",
        lambda ns: ns.nn.Transformer(8, 2, 1, 1, 16)(ns.zeros(5, 3, 8), ns.zeros(4, 2, 8)),
    ),
    (
        "transformer-features",
        lambda ns: ns.nn.Transformer(8, 2, 1, 1, 16)(ns.zeros(5, 3, 8), ns.zeros(4, 3, 6)),
    ),
]


@pytest.mark.parametrize("build", [c[1] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_errors_have_torchs_exception_types(build):
    theirs, ours = _both(build)
    assert ours is theirs


def test_errors_name_the_layer_and_the_sizes():
    with pytest.raises(AssertionError, match="MultiheadAttention.*embed_dim=7.*num_heads=2"):
        aprende.nn.MultiheadAttention(7, 2)
    with pytest.raises(AssertionError, match="expecting embedding dimension of 8, but got 6"):
        _mha_call(aprende, (4, 3, 6), (5, 3, 6))
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(4, 4\), but should be \(4, 5\)"):
        _mha_call(aprende, attn_mask=aprende.zeros(4, 4, dtype=aprende.float64))
