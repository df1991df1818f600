"""``F.scaled_dot_product_attention`` against PyTorch's: outputs and the gradients of query,
key, value and a float mask, in float64 (to 1e-7) and float32; masks, causality, scale,
grouped-query heads, broadcasting, fully masked rows and the errors."""

import numpy as np
import pytest

import aprende

torch = pytest.importorskip("torch")
from torch_reference import compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(0)


def r(*shape):
    return RNG.standard_normal(shape)


def sdpa(ns, *args, **options):
    functional = aprende.nn.functional if ns is aprende else torch.nn.functional
    return functional.scaled_dot_product_attention(*args, **options)


QKV = [r(2, 3, 4, 5), r(2, 3, 6, 5), r(2, 3, 6, 7)]
BOOL_MASK = RNG.random((4, 6)) > 0.4
FULLY_MASKED = BOOL_MASK.copy()
FULLY_MASKED[1] = False
NEG_INF_ROW = np.where(FULLY_MASKED, 0.0, -np.inf)

# (id, op(ns, *tensors), inputs, dtype)
CASES = [
    ("plain", lambda ns, q, k, v: sdpa(ns, q, k, v), QKV, "float64"),
    ("plain-float32", lambda ns, q, k, v: sdpa(ns, q, k, v), QKV, "float32"),
    ("unbatched", lambda ns, q, k, v: sdpa(ns, q, k, v), [r(4, 5), r(6, 5), r(6, 3)], "float64"),
    ("scale", lambda ns, q, k, v: sdpa(ns, q, k, v, scale=0.7), QKV, "float64"),
    ("causal", lambda ns, q, k, v: sdpa(ns, q, k, v, is_causal=True), QKV, "float64"),
    (
        "causal-more-queries",  # upper-left aligned: query 4 sees keys 0..3 of 3
        lambda ns, q, k, v: sdpa(ns, q, k, v, is_causal=True),
        [r(6, 4), r(3, 4), r(3, 2)],
        "float64",
    ),
    (
        "bool-mask",
        lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m),
        [*QKV, BOOL_MASK],
        ["float64"] * 3 + ["bool"],
    ),
    (
        "bool-mask-fully-masked-row",
        lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m),
        [*QKV, FULLY_MASKED],
        ["float64"] * 3 + ["bool"],
    ),
    (
        "float-mask-broadcast",  # the mask's gradient is summed over the broadcast dims
        lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m),
        [*QKV, r(3, 1, 6)],
        "float64",
    ),
    (
        "float-mask-neg-inf-row",
        lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m),
        [*QKV, NEG_INF_ROW],
        "float64",
    ),
    (
        "float-mask-float32",
        lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m),
        [*QKV, r(2, 3, 4, 6)],
        "float32",
    ),
    (
        "batch-broadcast",
        lambda ns, q, k, v: sdpa(ns, q, k, v),
        [r(2, 1, 3, 5), r(1, 4, 6, 5), r(1, 4, 6, 2)],
        "float64",
    ),
    (
        "gqa",
        lambda ns, q, k, v: sdpa(ns, q, k, v, enable_gqa=True),
        [r(2, 4, 3, 5), r(2, 2, 6, 5), r(2, 2, 6, 3)],
        "float64",
    ),
    (
        "transposed-heads",  # (B, L, H, E) laid out as PyTorch users do with .transpose(1, 2)
        lambda ns, q, k, v: sdpa(ns, q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)),
        [r(2, 4, 3, 5), r(2, 6, 3, 5), r(2, 6, 3, 5)],
        "float64",
    ),
    (
        "empty-batch",
        lambda ns, q, k, v: sdpa(ns, q, k, v),
        [r(0, 4, 5), r(0, 6, 5), r(0, 6, 2)],
        "float64",
    ),
    ("float16", lambda ns, q, k, v: sdpa(ns, q, k, v), [r(4, 8), r(5, 8), r(5, 2)], "float16"),
    ("dropout-zero", lambda ns, q, k, v: sdpa(ns, q, k, v, dropout_p=0.0), QKV, "float64"),
]


@pytest.mark.parametrize("op, arrays, dtype", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_attention_matches_torch(op, arrays, dtype):
    compare(op, arrays, dtype)


def test_a_fully_masked_row_gives_zeros_as_torch():
    q, k, v = (aprende.tensor(a) for a in QKV)
    out = aprende.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=aprende.tensor(FULLY_MASKED)
    )
    assert not np.isnan(out.numpy()).any()
    np.testing.assert_array_equal(out.numpy()[:, :, 1], 0)


ERRORS = [
    ("mask-and-causal", lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m, is_causal=True)),
    ("mask-dtype", lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m.long())),
    ("mask-shape", lambda ns, q, k, v, m: sdpa(ns, q, k, v, attn_mask=m[:, :4])),
    ("dtypes", lambda ns, q, k, v, m: sdpa(ns, q.float(), k, v)),
    ("one-dim", lambda ns, q, k, v, m: sdpa(ns, q[0, 0, 0], k, v)),
    ("embedding", lambda ns, q, k, v, m: sdpa(ns, q, k[..., :4], v)),
    ("heads-without-gqa", lambda ns, q, k, v, m: sdpa(ns, q, k[:, :1].expand(2, 2, 6, 5), v)),
    ("gqa-not-dividing", lambda ns, q, k, v, m: sdpa(ns, q, k[:, :2], v[:, :2], enable_gqa=True)),
    ("integer", lambda ns, q, k, v, m: sdpa(ns, q.long(), k.long(), v.long())),
]


@pytest.mark.parametrize("op", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(op):
    raises_like_torch(op, [*QKV, BOOL_MASK.astype(np.float64)])


def test_dropout_uses_the_global_generator_and_keeps_the_expectation():
    """Dropped weights are zero and kept ones scaled by 1/(1 − p): with V = I the output is
    the dropped weight matrix itself; the same seed gives the same mask."""
    F = aprende.nn.functional
    q, k = aprende.tensor(r(2000, 3)), aprende.tensor(r(8, 3))
    eye = aprende.eye(8, dtype=aprende.float64)
    plain = F.scaled_dot_product_attention(q, k, eye).numpy()
    aprende.manual_seed(3)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    kept = dropped != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(dropped[kept], plain[kept] / 0.75, rtol=1e-12)
    aprende.manual_seed(3)
    again = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    np.testing.assert_array_equal(again, dropped)
    np.testing.assert_allclose(dropped.mean(axis=0), plain.mean(axis=0), atol=0.02)
