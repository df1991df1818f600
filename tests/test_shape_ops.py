"""Shape and layout ops without PyTorch: gradients by finite differences, values against NumPy.

Every differentiable op of the family runs through ``gradcheck`` in float64 (the whole
Jacobian: a permutation for flip/roll/movedim, a mask for tril/triu, sums of copies for
repeat/tile/repeat_interleave, overlap sums for unfold, the diagonal for diagonal/diag_embed);
hypothesis draws random shapes, transposed layouts included, and checks the values against
NumPy's version of the same op.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aprende
from aprende.autograd import gradcheck

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def leaf(*shape, seed=0):
    values = np.random.default_rng(seed).standard_normal(shape)
    return aprende.tensor(values, dtype=aprende.float64, requires_grad=True)


# (id, op, input shapes): each op checked by central differences in float64.
GRADCHECKS = [
    ("flip", lambda a: a.flip(0, -1), [(2, 3, 2)]),
    ("fliplr", lambda a: aprende.fliplr(a), [(2, 3)]),
    ("flipud", lambda a: aprende.flipud(a), [(3, 2)]),
    ("roll", lambda a: a.roll((1, -1), (0, 1)), [(3, 4)]),
    ("roll-flat", lambda a: a.roll(5), [(3, 4)]),
    ("tril", lambda a: a.tril(1), [(2, 3, 4)]),
    ("triu", lambda a: a.triu(-1), [(3, 4)]),
    ("diagonal", lambda a: a.diagonal(1, 2, 0), [(3, 2, 4)]),
    ("diag-vector", lambda a: aprende.diag(a, -1), [(3,)]),
    ("diag-matrix", lambda a: aprende.diag(a, 1), [(3, 4)]),
    ("diag_embed", lambda a: a.diag_embed(1, 0, 2), [(2, 3)]),
    ("repeat", lambda a: a.repeat(2, 1, 3), [(2, 3)]),
    ("tile", lambda a: a.tile((2,)), [(2, 3)]),
    ("repeat_interleave", lambda a: a.repeat_interleave(2, dim=0), [(2, 3)]),
    (
        "repeat_interleave-tensor",
        lambda a: a.repeat_interleave(aprende.tensor([2, 0, 3]), 1),
        [(2, 3)],
    ),
    ("unfold-overlapping", lambda a: a.unfold(1, 3, 1), [(2, 5)]),
    ("unfold-gaps", lambda a: a.unfold(0, 2, 3), [(7,)]),
    ("unflatten", lambda a: a.unflatten(1, (-1, 2)), [(2, 4)]),
    ("narrow", lambda a: a.narrow(1, -3, 2), [(2, 4)]),
    ("movedim", lambda a: a.movedim((0, 1), (2, 0)), [(2, 3, 4)]),
    ("swapaxes", lambda a: a.swapaxes(0, 2), [(2, 3, 4)]),
    ("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), [(3, 1)]),
    ("meshgrid-xy", lambda a, b: aprende.meshgrid(a, b, indexing="xy"), [(2,), (3,)]),
    ("unbind", lambda a: a.unbind(1), [(2, 3)]),
    ("hstack", lambda a, b: aprende.hstack([a, b]), [(2, 1), (2, 3)]),
    ("vstack", lambda a, b: aprende.vstack([a, b]), [(3,), (2, 3)]),
    ("dstack", lambda a, b: aprende.dstack([a, b]), [(2,), (1, 2, 2)]),
    ("column_stack", lambda a, b: aprende.column_stack([a, b]), [(3,), (3, 2)]),
    ("cat-legacy-empty", lambda a, b: aprende.cat([a, b], 1), [(0,), (2, 3)]),
    ("chunk", lambda a: aprende.chunk(a, 3, -1), [(2, 5)]),
]


@pytest.mark.parametrize("name, op, shapes", GRADCHECKS, ids=[r[0] for r in GRADCHECKS])
def test_gradients_match_finite_differences(name, op, shapes):
    inputs = [leaf(*shape, seed=i) for i, shape in enumerate(shapes)]
    assert gradcheck(op, inputs)


def test_unfold_gradient_counts_each_element_once_per_window():
    x = leaf(5)
    x.unfold(0, 3, 1).sum().backward()  # windows [0..2], [1..3], [2..4]
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 2, 1])


def test_repeat_interleave_gradient_sums_the_copies():
    x = leaf(3)
    x.repeat_interleave(aprende.tensor([2, 0, 3])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0, 3])


def test_flip_and_roll_copy_rather_than_view():
    x = aprende.arange(6.0)
    flipped, rolled = x.flip(0), x.roll(1)
    x[0] = 100.0
    assert flipped[-1].item() == 0.0 and rolled[1].item() == 0.0


def test_meshgrid_defaults_to_ij():
    x, y = aprende.meshgrid(aprende.arange(2), aprende.arange(3))
    assert x.shape == y.shape == (2, 3)


def test_errors_name_the_op_and_what_came():
    x = aprende.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"flip: dims \(0, -2\) name a dimension more"):
        x.flip(0, -2)
    with pytest.raises(RuntimeError, match=r"roll: shifts and dims must align, got 2 shifts"):
        x.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match=r"narrow: start \(1\) \+ length \(3\) exceeds"):
        x.narrow(1, 1, 3)
    with pytest.raises(RuntimeError, match=r"repeat: the number of repeat dims \(1\)"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match=r"unfold: maximum size .* is 3 but size is 4"):
        x.unfold(1, 4, 1)


# ---- random shapes, against NumPy -----------------------------------------------------------

shapes = st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple)


def _data(shape, transposed: bool):
    """A float64 tensor of ``shape``, stored transposed when asked (a non-contiguous layout)."""
    values = np.random.default_rng(len(shape)).standard_normal(shape[::-1] if transposed else shape)
    t = aprende.tensor(values, dtype=aprende.float64)
    return (t.permute(tuple(reversed(range(t.ndim)))) if transposed else t), (
        values.T if transposed else values
    )


@SETTINGS
@given(shape=shapes, transposed=st.booleans(), data=st.data())
def test_flip_roll_movedim_match_numpy(shape, transposed, data):
    x, values = _data(shape, transposed)
    dims = data.draw(
        st.lists(st.integers(-len(shape), len(shape) - 1), unique_by=lambda d: d % len(shape))
    )
    np.testing.assert_array_equal(x.flip(dims).numpy(), np.flip(values, tuple(dims)))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    if dims:
        np.testing.assert_array_equal(
            x.roll(shifts, dims).numpy(), np.roll(values, shifts, axis=tuple(dims))
        )
    np.testing.assert_array_equal(x.roll(3).numpy(), np.roll(values, 3))
    np.testing.assert_array_equal(x.movedim(0, -1).numpy(), np.moveaxis(values, 0, -1))


@SETTINGS
@given(shape=shapes, data=st.data())
def test_repeat_and_tile_match_numpy(shape, data):
    x, values = _data(shape, False)
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2))
    np.testing.assert_array_equal(x.repeat(*sizes).numpy(), np.tile(values, sizes))
    np.testing.assert_array_equal(x.tile(sizes[:1]).numpy(), np.tile(values, sizes[:1]))
    counts = data.draw(st.integers(0, 3))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    np.testing.assert_array_equal(
        x.repeat_interleave(counts, dim).numpy(), np.repeat(values, counts, axis=dim)
    )


@SETTINGS
@given(
    rows=st.integers(0, 4),
    columns=st.integers(0, 4),
    batch=st.integers(1, 2),
    offset=st.integers(-5, 5),
    transposed=st.booleans(),
)
def test_triangles_and_diagonals_match_numpy(rows, columns, batch, offset, transposed):
    x, values = _data((batch, rows, columns), transposed)
    np.testing.assert_array_equal(x.tril(offset).numpy(), np.tril(values, offset))
    np.testing.assert_array_equal(x.triu(offset).numpy(), np.triu(values, offset))
    np.testing.assert_array_equal(
        x.diagonal(offset, 1, 2).numpy(), np.diagonal(values, offset, 1, 2)
    )
    np.testing.assert_array_equal(
        aprende.diag(x.flatten(), offset).numpy(), np.diag(values.ravel(), offset)
    )


@SETTINGS
@given(length=st.integers(0, 9), size=st.integers(0, 4), step=st.integers(1, 3))
def test_unfold_matches_numpy_sliding_windows(length, size, step):
    x, values = _data((2, length), False)
    if size > length:
        with pytest.raises(RuntimeError, match="unfold"):
            x.unfold(1, size, step)
        return
    windows = np.lib.stride_tricks.sliding_window_view(values, size, axis=1)[:, ::step]
    np.testing.assert_array_equal(x.unfold(1, size, step).numpy(), windows)


@SETTINGS
@given(length=st.integers(0, 9), pieces=st.integers(1, 5))
def test_chunk_and_split_cover_the_dimension(length, pieces):
    x = aprende.arange(float(length))
    chunks = x.chunk(pieces)
    assert sum(c.shape[0] for c in chunks) == length
    assert len({c.shape[0] for c in chunks[:-1]}) <= 1  # equal pieces, the last may be shorter
    parts = x.split(pieces)
    assert len(parts) == max(-(-length // pieces), 1)
    np.testing.assert_array_equal(aprende.cat(parts).numpy(), np.arange(float(length)))


# ---- pieces that share one gradient array (split, chunk, unbind) ------------------------------


def _pieces_reference(x: np.ndarray, weights: list[np.ndarray], axis: int) -> np.ndarray:
    """∂/∂x of Σᵢ Σ(wᵢ ⊙ pieceᵢ): the weights put back in place along ``axis``."""
    return np.stack(weights, axis=axis)


def test_unbind_pieces_used_several_times_get_the_summed_gradient():
    rng = np.random.default_rng(5)
    values = rng.normal(size=(4, 3))
    x = aprende.tensor(values, requires_grad=True)
    pieces = x.unbind(1)
    weights = [rng.normal(size=4) for _ in pieces]
    loss = sum((p * aprende.tensor(w)).sum() for p, w in zip(pieces, weights, strict=True))
    loss = loss + (pieces[0] * pieces[2]).sum()  # pieces 0 and 2 reach x twice
    loss.backward()
    expected = _pieces_reference(values, weights, axis=1)
    expected[:, 0] += values[:, 2]
    expected[:, 2] += values[:, 0]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_pieces_back_propagate_in_separate_passes_and_again_with_retain_graph():
    x = aprende.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    first, second, third = x.unbind()
    first.sum().backward()
    (2 * second).sum().backward(retain_graph=True)
    (2 * second).sum().backward()  # the same graph again: the pieces saved nothing
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [4, 4], [0, 0]])
    halves = x.split(2)
    (grad,) = aprende.autograd.grad(halves[1].sum() * 3, x)
    np.testing.assert_array_equal(grad.numpy(), [[0, 0], [0, 0], [3, 3]])


def test_a_backward_that_failed_leaves_the_pieces_ready_for_the_next():
    x = aprende.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    top, bottom = x.unbind()

    def refuse(grad):
        raise ValueError("stop")

    handle = top.register_hook(refuse)  # raises after bottom's piece has back-propagated
    with pytest.raises(ValueError, match="stop"):
        (top.sum() + bottom.sum()).backward(retain_graph=True)
    handle.remove()
    (top.sum() + 3 * bottom.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [3, 3]])


def test_pieces_of_a_tensor_without_grad_are_plain_views():
    x = aprende.tensor(np.arange(6.0).reshape(2, 3))
    pieces = x.unbind(1)
    assert all(p.grad_fn is None and not p.requires_grad for p in pieces)
    assert np.shares_memory(pieces[1].numpy(), x.numpy())
