"""MultiheadAttention and the Transformer layers without PyTorch: attention written out in
NumPy (one head, then two), the encoder layer's residual and normalisation formulas, the
causal mask, initialisation, dropout in training, and gradcheck in float64 on tiny layers."""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck

RNG = np.random.default_rng(3)


def r(*shape):
    return RNG.standard_normal(shape)


def t(array, requires_grad=False):
    return aprende.tensor(array, dtype=aprende.float64, requires_grad=requires_grad)


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def numpy_mha(module, query, key, value, mask=None):
    """MHA for sequence-first (L, N, E) arrays, head by head: headᵢ = softmax(qᵢkᵢᵀ/√d + M)vᵢ,
    out = [head₁ … head_h] W_oᵀ + b_o; returns the output and the weights averaged over heads."""
    w = module.in_proj_weight.detach().numpy()
    b = module.in_proj_bias.detach().numpy()
    e, h = module.embed_dim, module.num_heads
    d = e // h
    q = query @ w[:e].T + b[:e]
    k = key @ w[e : 2 * e].T + b[e : 2 * e]
    v = value @ w[2 * e :].T + b[2 * e :]
    heads, weights = [], []
    for i in range(h):
        part = slice(i * d, (i + 1) * d)
        qi, ki, vi = (x[..., part].transpose(1, 0, 2) for x in (q, k, v))  # (N, L, d)
        scores = qi @ ki.transpose(0, 2, 1) / np.sqrt(d)
        a = softmax(scores if mask is None else scores + mask)
        weights.append(a)
        heads.append(a @ vi)
    joined = np.concatenate(heads, axis=-1).transpose(1, 0, 2)  # (L, N, E)
    out = joined @ module.out_proj.weight.detach().numpy().T + module.out_proj.bias.detach().numpy()
    return out, np.mean(weights, axis=0)


@pytest.mark.parametrize("num_heads", [1, 2])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_equals_the_formula_written_out(num_heads, need_weights):
    aprende.manual_seed(0)
    module = nn.MultiheadAttention(4, num_heads, dtype=aprende.float64)
    with aprende.no_grad():
        module.in_proj_bias.copy_(t(r(12)))
        module.out_proj.bias.copy_(t(r(4)))
    query, key, value = r(3, 2, 4), r(5, 2, 4), r(5, 2, 4)
    out, weights = module(t(query), t(key), t(value), need_weights=need_weights)
    expected_out, expected_weights = numpy_mha(module, query, key, value)
    np.testing.assert_allclose(out.detach().numpy(), expected_out, rtol=1e-10, atol=1e-12)
    if need_weights:
        np.testing.assert_allclose(weights.detach().numpy(), expected_weights, rtol=1e-10)
        np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0)
    else:
        assert weights is None


def test_bool_masks_take_the_true_positions_out():
    aprende.manual_seed(1)
    module = nn.MultiheadAttention(4, 2, dtype=aprende.float64)
    query, key = r(3, 2, 4), r(5, 2, 4)
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, 3:] = True  # batch entry 0 ignores its last two keys
    causal = ~np.tri(3, 5, dtype=bool)
    out, weights = module(
        t(query),
        t(key),
        t(key),
        key_padding_mask=aprende.tensor(padding),
        attn_mask=aprende.tensor(causal),
    )
    additive = np.where(causal, -np.inf, 0.0) + np.where(padding, -np.inf, 0.0)[:, None, :]
    expected_out, expected_weights = numpy_mha(module, query, key, key, additive)
    np.testing.assert_allclose(weights.detach().numpy(), expected_weights, atol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), expected_out, rtol=1e-10, atol=1e-12)
    assert (weights.detach().numpy()[0, :, 3:] == 0).all()


def test_unbatched_and_batch_first_give_the_sequence_first_values():
    aprende.manual_seed(2)
    first = nn.MultiheadAttention(4, 2, dtype=aprende.float64)
    batch_first = nn.MultiheadAttention(4, 2, batch_first=True, dtype=aprende.float64)
    batch_first.load_state_dict(first.state_dict())
    query, key = r(3, 2, 4), r(5, 2, 4)
    out, weights = first(t(query), t(key), t(key))
    out_bf, weights_bf = batch_first(*(t(x.transpose(1, 0, 2)) for x in (query, key, key)))
    np.testing.assert_allclose(out_bf.detach().numpy(), out.detach().numpy().transpose(1, 0, 2))
    np.testing.assert_allclose(weights_bf.detach().numpy(), weights.detach().numpy())
    single, single_weights = first(t(query[:, 1]), t(key[:, 1]), t(key[:, 1]))
    np.testing.assert_allclose(single.detach().numpy(), out.detach().numpy()[:, 1], atol=1e-12)
    np.testing.assert_allclose(single_weights.detach().numpy(), weights.detach().numpy()[1])


def layer_norm(x, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_is_the_residual_formula(norm_first):
    aprende.manual_seed(3)
    layer = nn.TransformerEncoderLayer(4, 2, 6, norm_first=norm_first, dtype=aprende.float64)
    layer.eval()
    x = r(3, 2, 4)
    w1, b1 = layer.linear1.weight.detach().numpy(), layer.linear1.bias.detach().numpy()
    w2, b2 = layer.linear2.weight.detach().numpy(), layer.linear2.bias.detach().numpy()

    def sa(y):
        return numpy_mha(layer.self_attn, y, y, y)[0]

    def ffn(y):
        return np.maximum(y @ w1.T + b1, 0) @ w2.T + b2

    if norm_first:  # x + SA(LN₁(x)), then x + FFN(LN₂(x)) (γ = 1, β = 0 at the start)
        h = x + sa(layer_norm(x))
        expected = h + ffn(layer_norm(h))
    else:  # LN₁(x + SA(x)), then LN₂(x + FFN(x))
        h = layer_norm(x + sa(x))
        expected = layer_norm(h + ffn(h))
    np.testing.assert_allclose(layer(t(x)).detach().numpy(), expected, rtol=1e-9, atol=1e-10)


def test_generate_square_subsequent_mask_is_minus_infinity_above_the_diagonal():
    mask = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    assert mask.dtype == np.float32
    rows, cols = np.indices((4, 4))
    np.testing.assert_array_equal(mask, np.where(cols > rows, -np.inf, 0.0))


def test_initialisation_is_xavier_with_zero_biases():
    aprende.manual_seed(4)
    module = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    weight = module.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 192))  # Xavier-uniform over (3E, E)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    for bias in (module.in_proj_bias, module.out_proj.bias):
        assert not bias.detach().numpy().any()
    assert module.bias_k.shape == (1, 1, 64) and module.bias_k.detach().numpy().std() > 0
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert separate.in_proj_weight is None
    assert separate.k_proj_weight.shape == (8, 3) and separate.v_proj_weight.shape == (8, 5)
    model = nn.Transformer(8, 2, 1, 1, 16)
    for name, param in model.named_parameters():
        if param.ndim > 1:
            fan_out, fan_in = param.shape
            assert np.abs(param.detach().numpy()).max() <= np.sqrt(6 / (fan_in + fan_out)), name


def test_dropout_acts_in_training_only():
    aprende.manual_seed(5)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.5, dtype=aprende.float64)
    x = t(r(3, 2, 4))
    layer.eval()
    first, second = layer(x).detach().numpy(), layer(x).detach().numpy()
    np.testing.assert_array_equal(first, second)
    layer.train()
    aprende.manual_seed(6)
    dropped = layer(x).detach().numpy()
    aprende.manual_seed(6)
    np.testing.assert_array_equal(layer(x).detach().numpy(), dropped)  # seeded: repeatable
    assert not np.allclose(dropped, first)


def test_multihead_attention_gradcheck():
    aprende.manual_seed(7)
    module = nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=aprende.float64)
    q, k = t(r(3, 2, 4), True), t(r(2, 2, 4), True)
    mask = t(r(3, 2), True)
    params = [module.in_proj_weight, module.in_proj_bias, module.bias_k, module.out_proj.weight]

    def attend(q, k, mask, *params):
        out, weights = module(q, k, k, attn_mask=mask)
        return out.sum() + (weights * weights).sum()

    assert gradcheck(attend, (q, k, mask, *params))


def test_multihead_attention_separate_projections_gradcheck():
    aprende.manual_seed(8)
    module = nn.MultiheadAttention(4, 2, kdim=3, vdim=2, add_zero_attn=True, dtype=aprende.float64)
    q, k, v = t(r(2, 1, 4), True), t(r(3, 1, 3), True), t(r(3, 1, 2), True)
    params = [module.q_proj_weight, module.k_proj_weight, module.v_proj_weight]
    assert gradcheck(lambda q, k, v, *p: module(q, k, v, need_weights=False)[0], (q, k, v, *params))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_decoder_layers_gradcheck(norm_first):
    aprende.manual_seed(9)
    options = {"dim_feedforward": 3, "dropout": 0.0, "norm_first": norm_first}
    encoder = nn.TransformerEncoderLayer(4, 2, activation="gelu", dtype=aprende.float64, **options)
    decoder = nn.TransformerDecoderLayer(4, 2, dtype=aprende.float64, **options)
    src, tgt = t(r(3, 1, 4), True), t(r(2, 1, 4), True)
    causal = nn.Transformer.generate_square_subsequent_mask(2, dtype=aprende.float64)
    params = [encoder.linear1.weight, encoder.norm1.weight, decoder.multihead_attn.in_proj_weight]

    def model(src, tgt, *params):
        return decoder(tgt, encoder(src), tgt_mask=causal)

    assert gradcheck(model, (src, tgt, *params))


def _run_on(device, model, arrays, masks):
    """Output and the gradients of the float inputs and of every parameter, as NumPy arrays."""
    model.to(device)
    model.zero_grad()
    inputs = [aprende.tensor(a, device=device, requires_grad=True) for a in arrays]
    out = model(*inputs, *(aprende.tensor(m, device=device) for m in masks))
    out = out[0] if isinstance(out, tuple) else out
    out.backward(aprende.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), device=device))
    grads = [x.grad for x in inputs] + [p.grad for p in model.parameters()]
    return [out.detach().cpu().numpy()] + [g.cpu().numpy() for g in grads]


def test_layers_on_device_cuda_give_the_cpu_values_and_gradients(device):
    src, tgt = r(3, 2, 4).astype(np.float32), r(2, 2, 4).astype(np.float32)
    padding = np.array([[False, False, True], [False, False, False]])
    causal = nn.Transformer.generate_square_subsequent_mask(2).numpy()
    attention = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True)
    transformer = nn.Transformer(4, 2, 1, 1, 6, dropout=0.0)
    cases = [
        (attention, [tgt, src, src], [padding]),
        (transformer, [src, tgt], [np.zeros((3, 3), np.float32), causal]),
    ]
    for model, arrays, masks in cases:
        expected = _run_on("cpu", model, arrays, masks)
        for got, want in zip(_run_on(device, model, arrays, masks), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
