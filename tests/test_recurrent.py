"""The recurrent layers without torch: each cell's step written out in NumPy beside the layer,
the multi-layer bidirectional loop against a NumPy loop, finite-difference gradients (float64),
the initialisation, dropout between layers, and a small sequence task learnt with Adam."""

import math

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.autograd import gradcheck


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _numpy(module) -> dict:
    return {name: p.detach().numpy() for name, p in module.named_parameters()}


def numpy_lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """i, f, g, o = the four quarters of W_ih x + b_ih + W_hh h + b_hh; c' = f c + i g."""
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def numpy_gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """r, z from the sums of both projections; n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""
    r_x, z_x, n_x = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    r_h, z_h, n_h = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = sigmoid(r_x + r_h), sigmoid(z_x + z_h)
    n = np.tanh(n_x + r * n_h)
    return (1 - z) * n + z * h


def numpy_rnn_step(x, h, w_ih, w_hh, b_ih, b_hh):
    return np.maximum(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 0)


def test_one_lstm_step_equals_numpy():
    rng = np.random.default_rng(0)
    cell = nn.LSTMCell(3, 4, dtype=aprende.float64)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    h1, c1 = cell(aprende.tensor(x), (aprende.tensor(h), aprende.tensor(c)))
    w = _numpy(cell)
    h_ref, c_ref = numpy_lstm_step(
        x, h, c, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"]
    )
    np.testing.assert_allclose(h1.detach().numpy(), h_ref, rtol=1e-12)
    np.testing.assert_allclose(c1.detach().numpy(), c_ref, rtol=1e-12)


def test_one_gru_step_and_relu_rnn_step_equal_numpy():
    rng = np.random.default_rng(1)
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    for cell, step in [
        (nn.GRUCell(3, 4, dtype=aprende.float64), numpy_gru_step),
        (nn.RNNCell(3, 4, nonlinearity="relu", dtype=aprende.float64), numpy_rnn_step),
    ]:
        w = _numpy(cell)
        expected = step(x, h, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
        out = cell(aprende.tensor(x), aprende.tensor(h))
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)


def test_cells_start_from_zeros_and_take_unbatched_inputs():
    rng = np.random.default_rng(2)
    cell = nn.LSTMCell(3, 4, bias=False, dtype=aprende.float64)
    x = rng.normal(size=3)
    h, c = cell(aprende.tensor(x))
    w = _numpy(cell)
    zeros = np.zeros(4)
    h_ref, c_ref = numpy_lstm_step(x, zeros, zeros, w["weight_ih"], w["weight_hh"], 0, 0)
    assert h.shape == c.shape == (4,)
    np.testing.assert_allclose(h.detach().numpy(), h_ref, rtol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), c_ref, rtol=1e-12)


def numpy_gru_network(x, weights, num_layers):
    """A bidirectional GRU over x (L, N, I): each layer runs left to right and right to left
    from zeros, and the next layer reads both outputs side by side."""
    finals = []
    for layer in range(num_layers):
        outputs = []
        for suffix in (f"_l{layer}", f"_l{layer}_reverse"):
            w = [weights[k + suffix] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h = np.zeros((x.shape[1], w[1].shape[1]))
            order = range(len(x) - 1, -1, -1) if suffix.endswith("reverse") else range(len(x))
            out = [None] * len(x)
            for t in order:
                h = out[t] = numpy_gru_step(x[t], h, *w)
            outputs.append(np.stack(out))
            finals.append(h)
        x = np.concatenate(outputs, axis=-1)
    return x, np.stack(finals)


def test_bidirectional_two_layer_gru_equals_a_numpy_loop():
    rng = np.random.default_rng(3)
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=aprende.float64)
    x = rng.normal(size=(5, 2, 3))
    output, h_n = gru(aprende.tensor(x))
    expected_output, expected_h_n = numpy_gru_network(x, _numpy(gru), 2)
    np.testing.assert_allclose(output.detach().numpy(), expected_output, rtol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy(), expected_h_n, rtol=1e-12)


def test_batch_first_and_unbatched_inputs_are_the_same_computation():
    rng = np.random.default_rng(4)
    lstm = nn.LSTM(3, 4, num_layers=2, dtype=aprende.float64)
    first = nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=aprende.float64)
    first.load_state_dict(lstm.state_dict())
    x = rng.normal(size=(5, 2, 3))
    output, (h_n, c_n) = lstm(aprende.tensor(x))
    output_first, _ = first(aprende.tensor(x.transpose(1, 0, 2)))
    np.testing.assert_array_equal(
        output_first.detach().numpy().transpose(1, 0, 2), output.detach().numpy()
    )
    single, (h_single, c_single) = lstm(aprende.tensor(x[:, 1]))
    assert single.shape == (5, 4) and h_single.shape == c_single.shape == (2, 4)
    np.testing.assert_allclose(single.detach().numpy(), output.detach().numpy()[:, 1])
    np.testing.assert_allclose(c_single.detach().numpy(), c_n.detach().numpy()[:, 1])


def _flat_outputs(result):
    if isinstance(result, tuple):
        return tuple(t for part in result for t in _flat_outputs(part))
    return (result,)


@pytest.mark.parametrize(
    ("make", "states"),
    [
        (lambda: nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=aprende.float64), 2),
        (lambda: nn.LSTM(2, 3, proj_size=1, dtype=aprende.float64), 2),
        (lambda: nn.GRU(2, 2, num_layers=2, bidirectional=True, dtype=aprende.float64), 1),
        (lambda: nn.RNN(2, 3, nonlinearity="relu", bias=False, dtype=aprende.float64), 1),
    ],
    ids=["lstm", "lstm projected", "gru", "relu rnn"],
)
def test_networks_pass_gradcheck_in_every_input_and_parameter(make, states):
    rng = np.random.default_rng(5)
    network = make()
    x = aprende.tensor(rng.normal(size=(3, 2, 2)), requires_grad=True)
    _, final = network(x)
    shapes = [tuple(t.shape) for t in _flat_outputs(final)]
    hx = [aprende.tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    parameters = list(network.parameters())

    def run(x, *rest):
        state = tuple(rest[:states]) if states == 2 else rest[0]
        return _flat_outputs(network(x, state))

    assert gradcheck(run, (x, *hx, *parameters))


@pytest.mark.parametrize(
    "cell",
    [nn.LSTMCell(2, 3, dtype=aprende.float64), nn.GRUCell(2, 3, dtype=aprende.float64)],
    ids=["lstm", "gru"],
)
def test_cells_pass_gradcheck(cell):
    rng = np.random.default_rng(6)
    x = aprende.tensor(rng.normal(size=(2, 2)), requires_grad=True)
    h = aprende.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    c = aprende.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    if isinstance(cell, nn.LSTMCell):
        assert gradcheck(lambda x, h, c, *p: cell(x, (h, c)), (x, h, c, *cell.parameters()))
    else:
        assert gradcheck(lambda x, h, *p: cell(x, h), (x, h, *cell.parameters()))


def test_every_parameter_starts_uniform_within_one_over_root_hidden():
    aprende.manual_seed(0)
    lstm = nn.LSTM(10, 64, num_layers=2, bidirectional=True, proj_size=8)
    bound = 1 / math.sqrt(64)
    for name, p in lstm.named_parameters():
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound, name
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert abs(values.mean()) < 0.01 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.01 * bound  # the std of U(−b, b)


def test_parameter_shapes_and_names():
    lstm = nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {name: tuple(p.shape) for name, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (24, 3)
    assert shapes["weight_hh_l0_reverse"] == (24, 2)
    assert shapes["weight_ih_l1"] == (24, 4)  # both directions' projected outputs
    assert shapes["weight_hr_l1_reverse"] == (2, 6)
    assert shapes["bias_hh_l1"] == (24,)
    assert len(shapes) == 2 * 2 * 5
    assert list(nn.GRUCell(3, 4, bias=False).state_dict()) == ["weight_ih", "weight_hh"]


def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(7)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=aprende.float64)
    x = aprende.tensor(rng.normal(size=(6, 2, 3)))
    aprende.manual_seed(1)
    first, _ = gru(x)
    aprende.manual_seed(1)
    again, _ = gru(x)
    aprende.manual_seed(2)
    other, _ = gru(x)
    gru.eval()
    evaluated, _ = gru(x)
    np.testing.assert_array_equal(first.detach().numpy(), again.detach().numpy())
    assert not np.allclose(first.detach().numpy(), other.detach().numpy())
    assert not np.allclose(first.detach().numpy(), evaluated.detach().numpy())
    expected, _ = numpy_gru_network_one_direction(x.numpy(), _numpy(gru), 2)
    np.testing.assert_allclose(evaluated.detach().numpy(), expected, rtol=1e-12)


def numpy_gru_network_one_direction(x, weights, num_layers):
    finals = []
    for layer in range(num_layers):
        w = [weights[f"{k}_l{layer}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h, out = np.zeros((x.shape[1], w[1].shape[1])), []
        for x_t in x:
            h = numpy_gru_step(x_t, h, *w)
            out.append(h)
        x = np.stack(out)
        finals.append(h)
    return x, np.stack(finals)


def test_an_lstm_learns_to_sum_a_sequence():
    aprende.manual_seed(0)
    rng = np.random.default_rng(8)
    lstm, head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 1)
    parameters = list(lstm.parameters()) + list(head.parameters())
    optimizer = aprende.optim.Adam(parameters, lr=0.01)
    loss_fn = nn.MSELoss()
    for _ in range(300):
        x = rng.uniform(-1, 1, size=(32, 6, 1)).astype(np.float32)
        target = aprende.tensor(x.sum(axis=1))
        _, (h_n, _) = lstm(aprende.tensor(x))
        loss = loss_fn(head(h_n[0]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.02  # the variance of the sum is 2: the network explains >99% of it


def test_pad_sequence_equals_the_padding_written_out():
    rng = np.random.default_rng(9)
    sequences = [rng.normal(size=(n, 2)) for n in (3, 1, 2)]
    out = nn.utils.rnn.pad_sequence([aprende.tensor(s) for s in sequences], padding_value=7.0)
    expected = np.full((3, 3, 2), 7.0)
    for b, s in enumerate(sequences):
        expected[: len(s), b] = s
    np.testing.assert_array_equal(out.numpy(), expected)
    left = nn.utils.rnn.pad_sequence(
        [aprende.tensor(s) for s in sequences], batch_first=True, padding_side="left"
    )
    expected = np.zeros((3, 3, 2))
    for b, s in enumerate(sequences):
        expected[b, 3 - len(s) :] = s
    np.testing.assert_array_equal(left.numpy(), expected)


def test_reprs_name_the_arguments():
    assert repr(nn.LSTM(3, 4, 2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_bad_arguments_name_the_layer():
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) must be equal to input_size"):
        nn.LSTM(3, 4)(aprende.zeros(5, 2, 2))
    with pytest.raises(
        RuntimeError, match=r"GRU: Expected hidden size \(2, 2, 4\), got \(1, 2, 4\)"
    ):
        nn.GRU(3, 4, num_layers=2)(aprende.zeros(5, 2, 3), aprende.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="LSTMCell: hidden1 has inconsistent hidden_size"):
        nn.LSTMCell(3, 4)(aprende.zeros(2, 3), (aprende.zeros(2, 4), aprende.zeros(2, 5)))
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)


def test_a_packed_batch_runs_each_sequence_over_its_own_steps():
    rng = np.random.default_rng(10)
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=aprende.float64)
    x = rng.normal(size=(5, 3, 3))
    lengths = [2, 5, 4]
    packed = nn.utils.rnn.pack_padded_sequence(aprende.tensor(x), lengths, enforce_sorted=False)
    output, h_n = gru(packed)
    padded, _ = nn.utils.rnn.pad_packed_sequence(output)
    for b, length in enumerate(lengths):
        alone, h_alone = numpy_gru_network(x[:length, b : b + 1], _numpy(gru), 2)
        np.testing.assert_allclose(padded.detach().numpy()[:length, b], alone[:, 0], rtol=1e-12)
        assert np.all(padded.detach().numpy()[length:, b] == 0)
        np.testing.assert_allclose(h_n.detach().numpy()[:, b], h_alone[:, 0], rtol=1e-12)


def test_a_packed_lstm_passes_gradcheck():
    rng = np.random.default_rng(11)
    lstm = nn.LSTM(2, 2, bidirectional=True, dtype=aprende.float64)
    x = aprende.tensor(rng.normal(size=(3, 2, 2)), requires_grad=True)

    def run(x, *parameters):
        packed = nn.utils.rnn.pack_padded_sequence(x, [1, 3], enforce_sorted=False)
        output, (h_n, c_n) = lstm(packed)
        return output.data, h_n, c_n

    assert gradcheck(run, (x, *lstm.parameters()))


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_networks_on_each_device_give_the_cpus_values_and_gradients(device, name, packed):
    rng = np.random.default_rng(12)
    reference = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, dtype=aprende.float64)
    network = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, dtype=aprende.float64)
    network.load_state_dict(reference.state_dict())
    network.to(device)
    x = rng.normal(size=(5, 2, 3))
    results = []
    for module, where in ((reference, "cpu"), (network, device)):
        inputs = aprende.tensor(x, device=where, requires_grad=True)
        if packed:
            inputs_ = nn.utils.rnn.pack_padded_sequence(inputs, [3, 5], enforce_sorted=False)
            output, final = module(inputs_)
            output = output.data
        else:
            output, final = module(inputs)
        outputs = (output, *(final if isinstance(final, tuple) else (final,)))
        sum(o.sum() * (k + 1) for k, o in enumerate(outputs)).backward()
        assert all(o.device == where for o in outputs)
        grads = [inputs.grad] + [p.grad for p in module.parameters()]
        results.append([t.detach().cpu().numpy() for t in (*outputs, *grads)])
    for ours, expected in zip(*results, strict=True):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_a_training_step_on_the_device_makes_no_host_round_trip(fake_cupy):
    lstm, head = nn.LSTM(3, 8, num_layers=2).to("cuda"), nn.Linear(8, 1).to("cuda")
    optimizer = aprende.optim.Adam([*lstm.parameters(), *head.parameters()])
    rng = np.random.default_rng(13)
    x = aprende.tensor(rng.standard_normal((6, 4, 3)).astype(np.float32), device="cuda")
    y = aprende.tensor(rng.standard_normal((4, 1)).astype(np.float32), device="cuda")

    def step():
        optimizer.zero_grad()
        _, (h_n, _) = lstm(x)
        loss = nn.functional.mse_loss(head(h_n[-1]), y)
        loss.backward()
        optimizer.step()

    step()  # the optimizer's state is allocated on the first step
    fake_cupy.counters.reset()
    step()
    assert (fake_cupy.counters.syncs, fake_cupy.counters.uploads) == (0, 0)
