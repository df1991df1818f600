"""The recurrent layers against ``torch.nn``: with torch's weights loaded through its state
dict, the same outputs, final states and gradients of the input, the initial states and every
parameter (float64 to 1e-7, float32 to 1e-5), for each constructor configuration; the same
parameter names, repr and exception types."""

import numpy as np
import pytest

import aprende
from aprende import nn

torch = pytest.importorskip("torch")

from torch_reference import raises_like_torch  # noqa: E402

# torch's own note that its LSTM with projections runs without oneDNN
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

TOLERANCE = {"float64": 1e-7, "float32": 1e-5}


def _modules(name: str, *args, dtype: str = "float64", **kwargs):
    """torch.nn.<name> and aprende.nn.<name> with the same weights (torch's, via state_dict)."""
    reference = getattr(torch.nn, name)(*args, dtype=getattr(torch, dtype), **kwargs)
    ours = getattr(nn, name)(*args, dtype=getattr(aprende, dtype), **kwargs)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert repr(ours) == repr(reference)
    ours.load_state_dict({k: aprende.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return ours, reference


def _pair(array, dtype):
    return (
        aprende.tensor(array, dtype=getattr(aprende, dtype), requires_grad=True),
        torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=True),
    )


def _flat(result) -> list:
    """The tensors of (output, h_n), (output, (h_n, c_n)), (h, c) or h, in order."""
    if isinstance(result, (tuple, list)):
        return [t for part in result for t in _flat(part)]
    return [result]


def _check_same(ours, reference, inputs, torch_inputs, dtype, rng):
    """Same forward values and shapes; then the same random upstream gradient through every
    output gives the same gradient for every input and parameter."""
    tol = TOLERANCE[dtype]
    outs, torch_outs = _flat(ours(*inputs)), _flat(reference(*torch_inputs))
    assert len(outs) == len(torch_outs)
    loss, torch_loss = 0, 0
    for out, torch_out in zip(outs, torch_outs, strict=True):
        assert tuple(out.shape) == tuple(torch_out.shape)
        assert str(out.dtype) == str(torch_out.dtype).removeprefix("torch.")
        np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), tol, tol)
        upstream = rng.normal(size=torch_out.shape)
        loss = loss + (out * aprende.tensor(upstream, dtype=out.dtype)).sum()
        torch_loss = torch_loss + (torch_out * torch.tensor(upstream, dtype=torch_out.dtype)).sum()
    loss.backward()
    torch_loss.backward()
    pairs = list(zip(_flat(inputs), _flat(torch_inputs), strict=True))
    named = dict(reference.named_parameters())
    pairs += [(p, named[name]) for name, p in ours.named_parameters()]
    for ours_leaf, torch_leaf in pairs:
        np.testing.assert_allclose(ours_leaf.grad.numpy(), torch_leaf.grad.numpy(), tol, tol)


CONFIGURATIONS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True},
    {"bias": False},
    {"num_layers": 2, "dropout": 0.5},  # evaluation mode: dropout is the identity
]
NETWORKS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("LSTM", {"proj_size": 2}),
    ("GRU", {}),
]


def _state_shapes(name, kwargs, batch):
    """The shapes of h_0 (and c_0) for one network."""
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hidden = kwargs.get("proj_size") or 5
    shapes = [(layers, *batch, hidden)]
    return shapes + [(layers, *batch, 5)] if name == "LSTM" else shapes


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
@pytest.mark.parametrize(("name", "network"), NETWORKS)
def test_networks_equal_torchs(name, network, configuration, with_state, dtype):
    rng = np.random.default_rng(0)
    kwargs = {**network, **configuration}
    ours, reference = _modules(name, 3, 5, dtype=dtype, **kwargs)
    ours.eval(), reference.eval()
    shape = (2, 4, 3) if kwargs.get("batch_first") else (4, 2, 3)
    inputs, torch_inputs = ([t] for t in _pair(rng.normal(size=shape), dtype))
    if with_state:
        states = [_pair(rng.normal(size=s), dtype) for s in _state_shapes(name, kwargs, (2,))]
        state, torch_state = zip(*states, strict=True)
        inputs.append(state if name == "LSTM" else state[0])
        torch_inputs.append(torch_state if name == "LSTM" else torch_state[0])
    _check_same(ours, reference, inputs, torch_inputs, dtype, rng)


UNBATCHED = [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("configuration", UNBATCHED)
@pytest.mark.parametrize(("name", "network"), NETWORKS)
def test_unbatched_networks_equal_torchs(name, network, configuration, with_state):
    rng = np.random.default_rng(1)
    kwargs = {**network, **configuration}
    ours, reference = _modules(name, 3, 5, **kwargs)
    inputs, torch_inputs = ([t] for t in _pair(rng.normal(size=(4, 3)), "float64"))
    if with_state:
        states = [_pair(rng.normal(size=s), "float64") for s in _state_shapes(name, kwargs, ())]
        state, torch_state = zip(*states, strict=True)
        inputs.append(state if name == "LSTM" else state[0])
        torch_inputs.append(torch_state if name == "LSTM" else torch_state[0])
    _check_same(ours, reference, inputs, torch_inputs, "float64", rng)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_an_empty_batch_gives_torchs_shapes(name):
    ours, reference = _modules(name, 3, 5, num_layers=2)
    outs = _flat(ours(aprende.zeros(4, 0, 3, dtype=aprende.float64)))
    torch_outs = _flat(reference(torch.zeros(4, 0, 3, dtype=torch.float64)))
    assert [tuple(t.shape) for t in outs] == [tuple(t.shape) for t in torch_outs]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_one_in_training_equals_torchs(name):
    # p = 1 zeroes the whole input of layer 2 in both frameworks, whatever their streams
    rng = np.random.default_rng(2)
    ours, reference = _modules(name, 3, 5, num_layers=2, dropout=1.0)
    assert ours.training and reference.training
    x, torch_x = _pair(rng.normal(size=(4, 2, 3)), "float64")
    _check_same(ours, reference, [x], [torch_x], "float64", rng)


CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("RNNCell", {"bias": False}),
    ("LSTMCell", {}),
    ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch", [(3,), ()])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize(("name", "kwargs"), CELLS)
def test_cells_equal_torchs(name, kwargs, with_state, batch, dtype):
    rng = np.random.default_rng(3)
    ours, reference = _modules(name, 4, 5, dtype=dtype, **kwargs)
    inputs, torch_inputs = ([t] for t in _pair(rng.normal(size=(*batch, 4)), dtype))
    if with_state:
        count = 2 if name == "LSTMCell" else 1
        state, torch_state = zip(
            *[_pair(rng.normal(size=(*batch, 5)), dtype) for _ in range(count)], strict=True
        )
        inputs.append(state if count == 2 else state[0])
        torch_inputs.append(torch_state if count == 2 else torch_state[0])
    _check_same(ours, reference, inputs, torch_inputs, dtype, rng)


def test_a_cell_stepped_by_hand_equals_the_network():
    # the multi-layer LSTM is the cell applied at each step, with the same weights
    rng = np.random.default_rng(4)
    network = nn.LSTM(3, 5, dtype=aprende.float64)
    cell = nn.LSTMCell(3, 5, dtype=aprende.float64)
    cell.load_state_dict({k[:-3]: v for k, v in network.state_dict().items()})
    x = aprende.tensor(rng.normal(size=(6, 2, 3)))
    output, (h_n, c_n) = network(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        np.testing.assert_allclose(state[0].detach().numpy(), output[t].detach().numpy())
    np.testing.assert_allclose(state[1].detach().numpy(), c_n[0].detach().numpy())


# ---- errors --------------------------------------------------------------------------------


def _network(ns, name, *args, **kwargs):
    return getattr(ns.nn, name)(*args, dtype=ns.float64, **kwargs)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "shape",
    [(4, 2, 6), (4, 2, 3, 1), (3,), (0, 2, 3)],
    ids=["wrong features", "4-D", "1-D", "empty sequence"],
)
def test_bad_inputs_raise_as_torch(name, shape):
    raises_like_torch(lambda ns, x: _network(ns, name, 3, 5)(x), [np.zeros(shape)])


@pytest.mark.parametrize(
    "shape",
    [(2, 2, 5), (1, 3, 5), (1, 2, 4), (2, 5), (1, 1, 2, 5)],
    ids=["layers", "batch", "features", "2-D for batched", "4-D"],
)
@pytest.mark.parametrize("name", ["RNN", "GRU"])
def test_bad_initial_states_raise_as_torch(name, shape):
    raises_like_torch(
        lambda ns, x, h: _network(ns, name, 3, 5)(x, h), [np.zeros((4, 2, 3)), np.zeros(shape)]
    )


@pytest.mark.parametrize(
    ("h_shape", "c_shape"),
    [((1, 2, 5), (2, 2, 5)), ((2, 2, 5), (2, 2, 4)), ((2, 5), (2, 5)), ((2, 2, 5), (2, 5))],
)
def test_bad_lstm_states_raise_as_torch(h_shape, c_shape):
    raises_like_torch(
        lambda ns, x, h, c: _network(ns, "LSTM", 3, 5, num_layers=2)(x, (h, c)),
        [np.zeros((4, 2, 3)), np.zeros(h_shape), np.zeros(c_shape)],
    )


def test_unbatched_input_with_batched_state_raises_as_torch():
    raises_like_torch(
        lambda ns, x, h: _network(ns, "GRU", 3, 5)(x, h), [np.zeros((4, 3)), np.zeros((1, 1, 5))]
    )


def test_input_of_another_dtype_raises_as_torch():
    raises_like_torch(lambda ns, x: _network(ns, "LSTM", 3, 5)(x), [np.zeros((4, 2, 3))], "float32")


def test_states_of_another_dtype_raise_as_torch():
    raises_like_torch(
        lambda ns, x, h: _network(ns, "GRU", 3, 5)(x, h),
        [np.zeros((4, 2, 3)), np.zeros((1, 2, 5))],
        ["float64", "float32"],
    )
    raises_like_torch(
        lambda ns, x, h: _network(ns, "GRUCell", 3, 5)(x, h),
        [np.zeros((2, 3)), np.zeros((2, 5))],
        ["float32", "float64"],
    )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("RNN", {"nonlinearity": "sigmoid"}),
        ("RNN", {"dropout": 1.5}),
        ("GRU", {"dropout": -0.1}),
        ("LSTM", {"num_layers": 0}),
        ("LSTM", {"proj_size": 5}),
        ("LSTM", {"proj_size": -1}),
    ],
)
def test_bad_constructor_arguments_raise_as_torch(name, kwargs):
    raises_like_torch(lambda ns: _network(ns, name, 3, 5, **kwargs), [])


def test_zero_hidden_size_raises_as_torch():
    raises_like_torch(lambda ns: _network(ns, "GRU", 3, 0), [])


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 5, dropout=0.2)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        torch.nn.GRU(3, 5, dropout=0.2)


@pytest.mark.parametrize(
    ("name", "x_shape", "h_shape"),
    [
        ("RNNCell", (2, 6), None),
        ("GRUCell", (2, 3, 4), None),
        ("GRUCell", (2, 4), (3, 5)),
        ("RNNCell", (2, 4), (2, 6)),
        ("GRUCell", (2, 4), (2, 5, 1)),
    ],
)
def test_bad_cell_inputs_raise_as_torch(name, x_shape, h_shape):
    arrays = [np.zeros(x_shape)] + ([] if h_shape is None else [np.zeros(h_shape)])
    raises_like_torch(lambda ns, *xs: _network(ns, name, 4, 5)(*xs), arrays)


def test_unknown_cell_nonlinearity_raises_as_torch_at_forward():
    raises_like_torch(
        lambda ns, x: _network(ns, "RNNCell", 4, 5, nonlinearity="sigmoid")(x), [np.zeros((2, 4))]
    )


# ---- pad_sequence ----------------------------------------------------------------------------


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 3)])
def test_pad_sequence_equals_torchs(trailing, batch_first, padding_side):
    rng = np.random.default_rng(5)
    pairs = [_pair(rng.normal(size=(length, *trailing)), "float64") for length in (2, 5, 1)]
    ours, theirs = zip(*pairs, strict=True)
    options = {"batch_first": batch_first, "padding_value": -1.5, "padding_side": padding_side}
    out = nn.utils.rnn.pad_sequence(ours, **options)
    torch_out = torch.nn.utils.rnn.pad_sequence(theirs, **options)
    np.testing.assert_array_equal(out.detach().numpy(), torch_out.detach().numpy())
    upstream = rng.normal(size=torch_out.shape)
    (out * aprende.tensor(upstream)).sum().backward()
    (torch_out * torch.tensor(upstream)).sum().backward()
    for a, b in pairs:
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pad_sequence_of_a_tensor_and_mixed_dtypes_equal_torchs():
    table = np.arange(6.0).reshape(3, 2)
    out = nn.utils.rnn.pad_sequence(aprende.tensor(table))
    np.testing.assert_array_equal(out.numpy(), torch.nn.utils.rnn.pad_sequence(torch.tensor(table)))
    mixed = [np.ones(2, np.float32), np.ones(3)]
    out = nn.utils.rnn.pad_sequence([aprende.tensor(a) for a in mixed])
    torch_out = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in mixed])
    assert str(out.dtype) == str(torch_out.dtype).removeprefix("torch.")


@pytest.mark.parametrize(
    ("shapes", "kwargs"),
    [([], {}), ([(2, 3), (2, 4)], {}), ([(2,), (3,)], {"padding_side": "middle"})],
    ids=["empty list", "trailing sizes differ", "padding_side"],
)
def test_bad_pad_sequence_arguments_raise_as_torch(shapes, kwargs):
    raises_like_torch(
        lambda ns, *xs: ns.nn.utils.rnn.pad_sequence(list(xs), **kwargs),
        [np.zeros(s) for s in shapes],
    )


# ---- packed sequences ------------------------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    ("lengths", "enforce_sorted"), [([5, 3, 3, 1], True), ([2, 5, 1, 3], False)]
)
def test_pack_and_pad_equal_torchs(lengths, enforce_sorted, batch_first):
    rng = np.random.default_rng(6)
    shape = (4, 5, 2) if batch_first else (5, 4, 2)
    x, torch_x = _pair(rng.normal(size=shape), "float64")
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    torch_packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch_x, lengths, batch_first, enforce_sorted
    )
    for ours, theirs in zip(packed[1:], torch_packed[1:], strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(packed.data.detach().numpy(), torch_packed.data.detach().numpy())
    options = {"batch_first": batch_first, "padding_value": -2.0, "total_length": 6}
    padded, out_lengths = nn.utils.rnn.pad_packed_sequence(packed, **options)
    torch_padded, torch_lengths = torch.nn.utils.rnn.pad_packed_sequence(torch_packed, **options)
    np.testing.assert_array_equal(padded.detach().numpy(), torch_padded.detach().numpy())
    np.testing.assert_array_equal(out_lengths.numpy(), torch_lengths.numpy())
    assert out_lengths.dtype == aprende.int64
    upstream = rng.normal(size=torch_padded.shape)
    (padded * aprende.tensor(upstream)).sum().backward()
    (torch_padded * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), torch_x.grad.numpy())


@pytest.mark.parametrize("configuration", [{}, {"num_layers": 2, "bidirectional": True}])
@pytest.mark.parametrize(("name", "network"), NETWORKS)
def test_networks_over_packed_sequences_equal_torchs(name, network, configuration):
    rng = np.random.default_rng(7)
    kwargs = {**network, **configuration}
    ours, reference = _modules(name, 3, 5, **kwargs)
    x, torch_x = _pair(rng.normal(size=(5, 4, 3)), "float64")
    lengths = [2, 5, 1, 3]
    states = [_pair(rng.normal(size=s), "float64") for s in _state_shapes(name, kwargs, (4,))]
    state, torch_state = zip(*states, strict=True)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    torch_packed = torch.nn.utils.rnn.pack_padded_sequence(torch_x, lengths, enforce_sorted=False)
    output, final = ours(packed, state if name == "LSTM" else state[0])
    torch_output, torch_final = reference(
        torch_packed, torch_state if name == "LSTM" else torch_state[0]
    )
    np.testing.assert_array_equal(output.batch_sizes.numpy(), torch_output.batch_sizes.numpy())
    outs = [output.data, *_flat(final)]
    torch_outs = [torch_output.data, *_flat(torch_final)]
    loss, torch_loss = 0, 0
    for out, torch_out in zip(outs, torch_outs, strict=True):
        np.testing.assert_allclose(out.detach().numpy(), torch_out.detach().numpy(), 1e-7, 1e-7)
        upstream = rng.normal(size=torch_out.shape)
        loss = loss + (out * aprende.tensor(upstream)).sum()
        torch_loss = torch_loss + (torch_out * torch.tensor(upstream)).sum()
    loss.backward()
    torch_loss.backward()
    leaves = [(x, torch_x), *states]
    named = dict(reference.named_parameters())
    leaves += [(p, named[name]) for name, p in ours.named_parameters()]
    for leaf, torch_leaf in leaves:
        np.testing.assert_allclose(leaf.grad.numpy(), torch_leaf.grad.numpy(), 1e-7, 1e-7)


@pytest.mark.parametrize(
    ("lengths", "kwargs"),
    [([3, 2], {}), ([2, 3, 1], {}), ([3, 0, 1], {"enforce_sorted": False})],
    ids=["batch size", "unsorted", "zero length"],
)
def test_bad_pack_arguments_raise_as_torch(lengths, kwargs):
    raises_like_torch(
        lambda ns, x: ns.nn.utils.rnn.pack_padded_sequence(x, lengths, **kwargs),
        [np.zeros((3, 3, 2))],
    )


def test_pad_packed_to_a_short_total_length_raises_as_torch():
    def op(ns, x):
        packed = ns.nn.utils.rnn.pack_padded_sequence(x, [3, 2])
        return ns.nn.utils.rnn.pad_packed_sequence(packed, total_length=2)

    raises_like_torch(op, [np.zeros((3, 2, 1))])
