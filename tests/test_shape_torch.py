"""Shape and layout ops against PyTorch: value, dtype, shape and gradients (tests/torch_reference).

Each row is the PyTorch code it mirrors, written once against ``ns`` (aprende or torch): flips,
rolls, triangles, diagonals, repeats, sliding windows, grids, joins and splits, on float64 and
float32, with negative dims, 0-d and empty tensors and non-contiguous (transposed or strided)
inputs; integer and bool inputs compare value and dtype. Errors must be PyTorch's exception type.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_reference import compare, raises_like_torch  # noqa: E402

RNG = np.random.default_rng(11)


def R(*shape):  # noqa: N802 - reads like a shape in the tables
    """Seeded values, scaled so integer casts are not all zero."""
    return np.asarray(RNG.standard_normal(shape) * 3)


def repeats(*counts):
    return np.array(counts)


# (id, op(ns, *inputs), input arrays): float rows run in float64 and float32.
FLOAT_ROWS = [
    ("flip-0", lambda ns, a: ns.flip(a, (0,)), [R(2, 3, 4)]),
    ("flip-neg-dims", lambda ns, a: ns.flip(a, (0, -1)), [R(2, 3, 4)]),
    ("flip-method-varargs", lambda ns, a: a.flip(1, 2), [R(2, 3, 4)]),
    ("flip-transposed", lambda ns, a: ns.flip(a.t(), (1,)), [R(3, 4)]),
    ("flip-0d", lambda ns, a: ns.flip(a, (0,)), [R()]),
    ("flip-empty", lambda ns, a: ns.flip(a, (0, 1)), [R(0, 3)]),
    ("flip-none", lambda ns, a: ns.flip(a, ()), [R(2, 3)]),
    ("fliplr", lambda ns, a: ns.fliplr(a), [R(2, 3, 2)]),
    ("flipud", lambda ns, a: a.flipud(), [R(3, 2)]),
    ("roll-dim", lambda ns, a: ns.roll(a, 1, 0), [R(3, 4)]),
    ("roll-dims", lambda ns, a: ns.roll(a, (1, -2), (0, 1)), [R(3, 4)]),
    ("roll-same-dim-twice", lambda ns, a: ns.roll(a, (1, 2), (1, 1)), [R(3, 4)]),
    ("roll-flat", lambda ns, a: ns.roll(a, 5), [R(3, 4)]),
    ("roll-flat-negative", lambda ns, a: a.roll(-13), [R(3, 4)]),
    ("roll-beyond-size", lambda ns, a: ns.roll(a, 7, -1), [R(2, 3)]),
    ("roll-strided", lambda ns, a: ns.roll(a[:, ::2], 1, 1), [R(3, 6)]),
    ("roll-0d", lambda ns, a: ns.roll(a, 2), [R()]),
    ("roll-empty", lambda ns, a: ns.roll(a, 1, 0), [R(0, 2)]),
    ("tril", lambda ns, a: ns.tril(a), [R(3, 4)]),
    ("tril-above", lambda ns, a: ns.tril(a, 1), [R(3, 4)]),
    ("tril-below-batched", lambda ns, a: a.tril(-1), [R(2, 3, 4)]),
    ("tril-far", lambda ns, a: ns.tril(a, -5), [R(3, 4)]),
    ("triu", lambda ns, a: ns.triu(a), [R(4, 3)]),
    ("triu-transposed", lambda ns, a: ns.triu(a.t(), 1), [R(3, 4)]),
    ("triu-batched-below", lambda ns, a: a.triu(-2), [R(2, 4, 3)]),
    ("triu-empty", lambda ns, a: ns.triu(a), [R(0, 3)]),
    ("diagonal", lambda ns, a: ns.diagonal(a), [R(3, 4)]),
    ("diagonal-above", lambda ns, a: ns.diagonal(a, 1), [R(3, 4)]),
    ("diagonal-below", lambda ns, a: a.diagonal(-2), [R(4, 3)]),
    ("diagonal-dims", lambda ns, a: ns.diagonal(a, 1, 0, 2), [R(3, 2, 4)]),
    ("diagonal-dims-reversed", lambda ns, a: ns.diagonal(a, 1, 2, 0), [R(3, 2, 4)]),
    ("diagonal-neg-dims", lambda ns, a: ns.diagonal(a, -1, -1, -2), [R(2, 3, 4)]),
    ("diagonal-past-the-matrix", lambda ns, a: ns.diagonal(a, 7), [R(3, 4)]),
    ("diagonal-transposed", lambda ns, a: ns.diagonal(a.t()), [R(3, 4)]),
    ("diag-vector", lambda ns, a: ns.diag(a), [R(3)]),
    ("diag-vector-above", lambda ns, a: ns.diag(a, 2), [R(3)]),
    ("diag-vector-below", lambda ns, a: a.diag(-1), [R(3)]),
    ("diag-matrix", lambda ns, a: ns.diag(a), [R(3, 4)]),
    ("diag-matrix-above", lambda ns, a: ns.diag(a, 1), [R(3, 4)]),
    ("diag-matrix-below", lambda ns, a: ns.diag(a, -2), [R(3, 4)]),
    ("diag-empty", lambda ns, a: ns.diag(a), [R(0)]),
    ("diag_embed", lambda ns, a: ns.diag_embed(a), [R(3)]),
    ("diag_embed-batched-above", lambda ns, a: ns.diag_embed(a, 1), [R(2, 3)]),
    ("diag_embed-dims", lambda ns, a: a.diag_embed(-1, 0, 2), [R(2, 3)]),
    ("diag_embed-neg-dims", lambda ns, a: ns.diag_embed(a, 2, -1, 0), [R(2, 3)]),
    ("unfold", lambda ns, a: a.unfold(1, 3, 2), [R(2, 7)]),
    ("unfold-overlapping", lambda ns, a: a.unfold(0, 3, 1), [R(5, 2)]),
    ("unfold-gaps", lambda ns, a: a.unfold(-1, 2, 3), [R(2, 8)]),
    ("unfold-whole", lambda ns, a: a.unfold(0, 4, 1), [R(4)]),
    ("unfold-size-0", lambda ns, a: a.unfold(0, 0, 2), [R(4)]),
    ("unfold-middle-transposed", lambda ns, a: a.transpose(0, 2).unfold(1, 2, 1), [R(3, 2, 4)]),
    ("unfold-0d", lambda ns, a: a.unfold(0, 1, 1), [R()]),
    ("unflatten", lambda ns, a: ns.unflatten(a, 1, (2, 3)), [R(2, 6)]),
    ("unflatten-inferred", lambda ns, a: a.unflatten(-1, (-1, 2)), [R(2, 6)]),
    ("unflatten-empty", lambda ns, a: ns.unflatten(a, 0, (2, 0)), [R(0, 3)]),
    ("repeat", lambda ns, a: a.repeat(2, 1), [R(2, 3)]),
    ("repeat-new-dims", lambda ns, a: a.repeat(3, 1, 2), [R(2, 3)]),
    ("repeat-tuple", lambda ns, a: a.repeat((2, 2)), [R(2, 3)]),
    ("repeat-zero", lambda ns, a: a.repeat(0, 2), [R(2, 3)]),
    ("repeat-0d", lambda ns, a: a.repeat(3), [R()]),
    ("repeat-transposed", lambda ns, a: a.t().repeat(2, 2), [R(2, 3)]),
    ("tile", lambda ns, a: ns.tile(a, (2,)), [R(2, 3)]),
    ("tile-more-dims", lambda ns, a: ns.tile(a, (2, 1, 3)), [R(2, 3)]),
    ("tile-method", lambda ns, a: a.tile(2, 2), [R(2, 3)]),
    ("tile-none", lambda ns, a: ns.tile(a, ()), [R(2, 3)]),
    ("repeat_interleave-flat", lambda ns, a: ns.repeat_interleave(a, 2), [R(2, 3)]),
    ("repeat_interleave-dim", lambda ns, a: a.repeat_interleave(3, dim=1), [R(2, 3)]),
    ("repeat_interleave-neg-dim", lambda ns, a: ns.repeat_interleave(a, 2, -2), [R(2, 3)]),
    (
        "repeat_interleave-output_size",
        lambda ns, a: a.repeat_interleave(2, 0, output_size=4),
        [R(2, 3)],
    ),
    ("repeat_interleave-0d", lambda ns, a: ns.repeat_interleave(a, 3), [R()]),
    ("repeat_interleave-empty", lambda ns, a: ns.repeat_interleave(a, 2, 0), [R(0, 2)]),
    ("meshgrid-ij", lambda ns, a, b: ns.meshgrid(a, b, indexing="ij"), [R(2), R(3)]),
    ("meshgrid-xy", lambda ns, a, b: ns.meshgrid(a, b, indexing="xy"), [R(2), R(3)]),
    ("meshgrid-xy-3", lambda ns, a, b, c: ns.meshgrid(a, b, c, indexing="xy"), [R(2), R(3), R(4)]),
    ("meshgrid-list-0d", lambda ns, a, b: ns.meshgrid([a, b], indexing="ij"), [R(), R(3)]),
    ("meshgrid-one", lambda ns, a: ns.meshgrid(a, indexing="xy"), [R(3)]),
    ("chunk-5-into-3", lambda ns, a: ns.chunk(a, 3), [R(5, 2)]),
    ("chunk-6-into-4", lambda ns, a: a.chunk(4, 0), [R(6)]),
    ("chunk-more-than-length", lambda ns, a: ns.chunk(a, 5, -1), [R(2, 3)]),
    ("chunk-empty", lambda ns, a: ns.chunk(a, 3), [R(0, 3)]),
    ("split-empty", lambda ns, a: ns.split(a, 2), [R(0, 3)]),
    ("split-zero-of-empty", lambda ns, a: ns.split(a, 0, 1), [R(2, 0)]),
    ("split-sizes", lambda ns, a: ns.split(a, [1, 0, 3], -1), [R(2, 4)]),
    ("narrow", lambda ns, a: ns.narrow(a, 1, 1, 2), [R(2, 4)]),
    ("narrow-negative-start", lambda ns, a: a.narrow(-1, -3, 2), [R(2, 4)]),
    ("narrow-empty-at-end", lambda ns, a: ns.narrow(a, 0, 2, 0), [R(2, 4)]),
    ("narrow-transposed", lambda ns, a: ns.narrow(a.t(), 0, 1, 2), [R(2, 4)]),
    ("movedim", lambda ns, a: ns.movedim(a, 0, -1), [R(2, 3, 4)]),
    ("movedim-several", lambda ns, a: a.movedim((0, 2), (2, 0)), [R(2, 3, 4)]),
    ("movedim-into-order", lambda ns, a: ns.movedim(a, (-1, 0), (0, 1)), [R(2, 3, 4)]),
    ("moveaxis", lambda ns, a: ns.moveaxis(a, 1, 0), [R(2, 3, 4)]),
    ("swapaxes", lambda ns, a: ns.swapaxes(a, 0, -1), [R(2, 3, 4)]),
    ("swapdims", lambda ns, a: a.swapdims(1, 2), [R(2, 3, 4)]),
    ("broadcast_to", lambda ns, a: ns.broadcast_to(a, (2, 3, 4)), [R(3, 1)]),
    ("broadcast_to-keep", lambda ns, a: a.broadcast_to((2, -1, 4)), [R(3, 1)]),
    ("expand_as", lambda ns, a, b: a.expand_as(b), [R(1, 3), R(2, 3)]),
    ("flatten-0d", lambda ns, a: ns.flatten(a), [R()]),
    ("flatten-middle", lambda ns, a: ns.flatten(a, 1, 2), [R(2, 3, 4, 2)]),
    ("flatten-neg", lambda ns, a: a.flatten(-2), [R(2, 3, 4)]),
    ("flatten-empty", lambda ns, a: ns.flatten(a), [R(0, 3)]),
    ("squeeze-tuple", lambda ns, a: ns.squeeze(a, (0, 2)), [R(1, 3, 1, 1)]),
    ("squeeze-tuple-neg", lambda ns, a: a.squeeze((-1, 1)), [R(1, 3, 1)]),
    ("squeeze-empty-tuple", lambda ns, a: ns.squeeze(a, ()), [R(1, 3)]),
    ("unbind", lambda ns, a: ns.unbind(a), [R(3, 2)]),
    ("unbind-neg", lambda ns, a: a.unbind(-1), [R(3, 2)]),
    ("unbind-empty", lambda ns, a: ns.unbind(a, 1), [R(0, 2)]),
    ("t-1d", lambda ns, a: a.t(), [R(3)]),
    ("t-0d", lambda ns, a: ns.t(a), [R()]),
    ("t-2d", lambda ns, a: ns.t(a), [R(2, 3)]),
    ("permute-neg", lambda ns, a: ns.permute(a, (-1, 0, 1)), [R(2, 3, 4)]),
    ("stack", lambda ns, a, b: ns.stack([a, b], -1), [R(2, 3), R(2, 3)]),
    ("hstack", lambda ns, a, b: ns.hstack([a, b]), [R(2, 3), R(2, 1)]),
    ("hstack-vectors", lambda ns, a, b: ns.hstack([a, b]), [R(), R(3)]),
    ("vstack", lambda ns, a, b: ns.vstack([a, b]), [R(3), R(2, 3)]),
    ("row_stack", lambda ns, a, b: ns.row_stack((a, b)), [R(3), R(3)]),
    ("dstack", lambda ns, a, b: ns.dstack([a, b]), [R(2), R(1, 2, 3)]),
    ("column_stack", lambda ns, a, b: ns.column_stack([a, b]), [R(3), R(3, 2)]),
    ("column_stack-0d", lambda ns, a, b: ns.column_stack([a, b]), [R(), R(1, 2)]),
    ("cat-legacy-empty", lambda ns, a, b: ns.cat([a, b], 1), [R(0), R(2, 3)]),
    ("concat", lambda ns, a, b: ns.concat([a, b], -1), [R(2, 1), R(2, 3)]),
    ("atleast_1d", lambda ns, a: ns.atleast_1d(a), [R()]),
    ("atleast_2d", lambda ns, a, b: ns.atleast_2d(a, b), [R(3), R(2, 2, 2)]),
    ("atleast_3d", lambda ns, a, b, c: ns.atleast_3d([a, b, c]), [R(), R(3), R(2, 3)]),
]

INT_ROWS = [
    row
    for row in FLOAT_ROWS
    if row[0].split("-")[0]
    in (
        "flip",
        "roll",
        "tril",
        "triu",
        "diagonal",
        "diag",
        "diag_embed",
        "unfold",
        "repeat",
        "tile",
        "repeat_interleave",
        "meshgrid",
        "narrow",
        "movedim",
        "chunk",
        "unbind",
        "hstack",
        "dstack",
        "column_stack",
    )
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, op, arrays", FLOAT_ROWS, ids=[r[0] for r in FLOAT_ROWS])
def test_matches_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype)


@pytest.mark.parametrize("dtype", ["int32", "bool"])
@pytest.mark.parametrize("name, op, arrays", INT_ROWS, ids=[r[0] for r in INT_ROWS])
def test_integer_and_bool_inputs_match_torch(name, op, arrays, dtype):
    compare(op, arrays, dtype, grad=False)


# Rows with an integer tensor beside the float one: (id, op, arrays, dtypes).
MIXED_ROWS = [
    (
        "repeat_interleave-tensor",
        lambda ns, a, r: ns.repeat_interleave(a, r, 0),
        [R(3, 2), repeats(1, 0, 2)],
        ["float64", "int64"],
    ),
    (
        "repeat_interleave-tensor-one",
        lambda ns, a, r: a.repeat_interleave(r, dim=1),
        [R(2, 3), repeats(2)],
        ["float32", "int64"],
    ),
    (
        "repeat_interleave-tensor-0d",
        lambda ns, a, r: ns.repeat_interleave(a, r),
        [R(2, 2), np.array(3)],
        ["float64", "int64"],
    ),
    (
        "repeat_interleave-counts-only",
        lambda ns, r: ns.repeat_interleave(r),
        [repeats(2, 0, 3)],
        ["int64"],
    ),
    (
        "cat-promotes-int-with-float",
        lambda ns, a, b: ns.cat([a, b]),
        [R(2), R(3)],
        ["int64", "float32"],
    ),
    (
        "cat-promotes-bool-with-int",
        lambda ns, a, b: ns.cat([a, b]),
        [R(2), R(3)],
        ["bool", "uint8"],
    ),
    ("stack-promotes", lambda ns, a, b: ns.stack([a, b]), [R(2), R(2)], ["float32", "float64"]),
    (
        "narrow-tensor-start",
        lambda ns, a, s: ns.narrow(a, 0, s, 2),
        [R(4, 2), np.array(1)],
        ["float64", "int64"],
    ),
]


@pytest.mark.parametrize("name, op, arrays, dtypes", MIXED_ROWS, ids=[r[0] for r in MIXED_ROWS])
def test_mixed_dtype_rows_match_torch(name, op, arrays, dtypes):
    compare(op, arrays, dtypes)


ERRORS = [
    ("flip-repeated-dim", lambda ns, a: ns.flip(a, (0, 0)), [R(2, 3)]),
    ("flip-repeated-neg-dim", lambda ns, a: ns.flip(a, (1, -1)), [R(2, 3)]),
    ("flip-dim-out-of-range", lambda ns, a: ns.flip(a, (2,)), [R(2, 3)]),
    ("fliplr-1d", lambda ns, a: ns.fliplr(a), [R(3)]),
    ("flipud-0d", lambda ns, a: ns.flipud(a), [R()]),
    ("roll-shifts-dims-mismatch", lambda ns, a: ns.roll(a, (1, 2), (0,)), [R(2, 3)]),
    ("roll-several-shifts-no-dims", lambda ns, a: ns.roll(a, (1, 2)), [R(2, 3)]),
    ("roll-dim-out-of-range", lambda ns, a: ns.roll(a, 1, 2), [R(2, 3)]),
    ("roll-0d-with-dim", lambda ns, a: ns.roll(a, 1, 0), [R()]),
    ("roll-nothing", lambda ns, a: ns.roll(a, (), ()), [R(2, 3)]),
    ("tril-1d", lambda ns, a: ns.tril(a), [R(3)]),
    ("triu-0d", lambda ns, a: ns.triu(a), [R()]),
    ("diagonal-same-dims", lambda ns, a: ns.diagonal(a, 0, 1, -1), [R(2, 3)]),
    ("diagonal-0d", lambda ns, a: ns.diagonal(a), [R()]),
    ("diagonal-dim-out-of-range", lambda ns, a: ns.diagonal(a, 0, 0, 2), [R(2, 3)]),
    ("diag-3d", lambda ns, a: ns.diag(a), [R(2, 2, 2)]),
    ("diag-0d", lambda ns, a: ns.diag(a), [R()]),
    ("diag_embed-same-dims", lambda ns, a: ns.diag_embed(a, 0, 0, -3), [R(2, 3)]),
    ("diag_embed-0d", lambda ns, a: ns.diag_embed(a), [R()]),
    ("unfold-too-big", lambda ns, a: a.unfold(0, 6, 1), [R(5)]),
    ("unfold-step-0", lambda ns, a: a.unfold(0, 2, 0), [R(5)]),
    ("unfold-negative-size", lambda ns, a: a.unfold(0, -1, 1), [R(5)]),
    ("unfold-dim-out-of-range", lambda ns, a: a.unfold(1, 1, 1), [R(5)]),
    ("unflatten-wrong-product", lambda ns, a: ns.unflatten(a, 1, (2, 2)), [R(2, 6)]),
    ("unflatten-indivisible", lambda ns, a: ns.unflatten(a, 1, (-1, 4)), [R(2, 6)]),
    ("unflatten-two-inferred", lambda ns, a: ns.unflatten(a, 1, (-1, -1)), [R(2, 6)]),
    ("unflatten-0d", lambda ns, a: ns.unflatten(a, 0, (1,)), [R()]),
    ("repeat_interleave-0d-with-dim", lambda ns, a: ns.repeat_interleave(a, 2, 0), [R()]),
    ("unflatten-no-sizes", lambda ns, a: ns.unflatten(a, 1, ()), [R(2, 6)]),
    ("repeat-fewer-sizes", lambda ns, a: a.repeat(2), [R(2, 3)]),
    ("repeat-negative", lambda ns, a: a.repeat(-1, 2), [R(2, 3)]),
    ("repeat_interleave-negative", lambda ns, a: ns.repeat_interleave(a, -1, 0), [R(2, 3)]),
    (
        "repeat_interleave-bad-output_size",
        lambda ns, a: ns.repeat_interleave(a, 2, 1, output_size=5),
        [R(2, 3)],
    ),
    ("repeat_interleave-dim-out-of-range", lambda ns, a: ns.repeat_interleave(a, 2, 2), [R(2, 3)]),
    ("meshgrid-2d", lambda ns, a, b: ns.meshgrid(a, b, indexing="ij"), [R(2), R(2, 2)]),
    ("meshgrid-bad-indexing", lambda ns, a: ns.meshgrid(a, indexing="ab"), [R(2)]),
    ("meshgrid-nothing", lambda ns: ns.meshgrid([], indexing="ij"), []),
    ("chunk-zero", lambda ns, a: ns.chunk(a, 0), [R(2, 3)]),
    ("split-zero", lambda ns, a: ns.split(a, 0), [R(2, 3)]),
    ("split-negative", lambda ns, a: ns.split(a, -1), [R(2, 3)]),
    ("split-sizes-wrong-sum", lambda ns, a: ns.split(a, [1, 2]), [R(2, 3)]),
    ("narrow-start-out-of-range", lambda ns, a: ns.narrow(a, 1, 4, 0), [R(2, 3)]),
    ("narrow-too-long", lambda ns, a: ns.narrow(a, 1, 1, 3), [R(2, 3)]),
    ("narrow-negative-length", lambda ns, a: ns.narrow(a, 1, 1, -1), [R(2, 3)]),
    ("narrow-dim-out-of-range", lambda ns, a: ns.narrow(a, 2, 0, 1), [R(2, 3)]),
    ("movedim-lengths-differ", lambda ns, a: ns.movedim(a, (0, 1), (1,)), [R(2, 3, 4)]),
    ("movedim-repeated-source", lambda ns, a: ns.movedim(a, (0, 0), (1, 2)), [R(2, 3, 4)]),
    ("movedim-repeated-destination", lambda ns, a: ns.movedim(a, (0, 1), (1, 1)), [R(2, 3, 4)]),
    ("movedim-out-of-range", lambda ns, a: ns.movedim(a, 0, 5), [R(2, 3, 4)]),
    ("permute-out-of-range", lambda ns, a: ns.permute(a, (5, 0)), [R(2, 3)]),
    ("permute-duplicate", lambda ns, a: ns.permute(a, (0, 0)), [R(2, 3)]),
    ("permute-too-few", lambda ns, a: ns.permute(a, (0,)), [R(2, 3)]),
    ("squeeze-repeated", lambda ns, a: ns.squeeze(a, (0, 0)), [R(1, 2)]),
    ("unbind-0d", lambda ns, a: ns.unbind(a), [R()]),
    ("t-3d", lambda ns, a: ns.t(a), [R(2, 2, 2)]),
    ("flatten-start-after-end", lambda ns, a: ns.flatten(a, 1, 0), [R(2, 3)]),
    ("broadcast_to-incompatible", lambda ns, a: ns.broadcast_to(a, (2, 4)), [R(2, 3)]),
    ("stack-unequal", lambda ns, a, b: ns.stack([a, b]), [R(2), R(3)]),
    ("hstack-nothing", lambda ns: ns.hstack([]), []),
    ("cat-0d", lambda ns, a: ns.cat([a, a]), [R()]),
]


@pytest.mark.parametrize("name, op, arrays", ERRORS, ids=[r[0] for r in ERRORS])
def test_errors_are_torchs_exception_types(name, op, arrays):
    raises_like_torch(op, arrays)


def test_chunk_sizes_are_torchs():
    import aprende

    for length in range(0, 9):
        for chunks in range(1, 6):
            ours = [p.shape[0] for p in aprende.chunk(aprende.zeros(length), chunks)]
            theirs = [p.shape[0] for p in torch.chunk(torch.zeros(length), chunks)]
            assert ours == theirs, (length, chunks)
