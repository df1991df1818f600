"""Module and Parameter: registration, traversal and dotted names, modes, devices/dtypes, state
dicts (round trips and strict errors), repr and summary, hooks; and nn.utils."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.nn import utils

rng = np.random.default_rng(17)


class Encoder(nn.Module):
    """A small nested model: dotted names two levels deep, a buffer, a shared submodule."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU())
        self.head = nn.Linear(6, 2)
        self.scale = nn.Parameter(aprende.ones(1))
        self.register_buffer("steps", aprende.tensor(0))

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def test_parameter_is_a_tensor():
    p = nn.Parameter(aprende.randn(2, 3))
    assert isinstance(p, aprende.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter([1.0, 2.0]).dtype == aprende.float32
    assert not nn.Parameter(aprende.zeros(2), requires_grad=False).requires_grad
    assert type(p * 2) is aprende.Tensor  # ops give plain tensors
    shared = aprende.zeros(3)
    assert nn.Parameter(shared).data is shared.data


def test_registration_and_dotted_names():
    model = Encoder()
    assert [name for name, _ in model.named_parameters()] == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.1.weight",
        "encoder.1.bias",
        "head.weight",
        "head.bias",
    ]
    assert [name for name, _ in model.named_buffers()] == [
        "steps",
        "encoder.1.running_mean",
        "encoder.1.running_var",
        "encoder.1.num_batches_tracked",
    ]
    assert [name for name, _ in model.named_children()] == ["encoder", "head"]
    assert [name for name, _ in model.named_modules()] == [
        "",
        "encoder",
        "encoder.0",
        "encoder.1",
        "encoder.2",
        "head",
    ]
    assert len(list(model.parameters(recurse=False))) == 1
    assert len(list(model.buffers())) == 4
    assert len(list(model.modules())) == 6 and len(list(model.children())) == 2
    assert model.encoder[0] is dict(model.named_modules())["encoder.0"]


def test_shared_parameters_and_modules_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_attribute_assignment_rules():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight'"):
        model.weight = aprende.zeros(2, 2)
    model.bias = None
    assert model.bias is None and [n for n, _ in model.named_parameters()] == ["weight"]
    model.extra = nn.Parameter(aprende.zeros(1))
    assert "extra" in dict(model.named_parameters())
    del model.extra
    assert "extra" not in dict(model.named_parameters())
    model.note = "plain attribute"
    assert model.note == "plain attribute" and "note" not in model.state_dict()
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        _ = model.missing
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        model.register_parameter("forward", None)
    with pytest.raises(KeyError, match=r'can.*t contain "\.", got: a\.b'):
        model.register_buffer("a.b", aprende.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None required"):
        model.register_buffer("stats", np.zeros(2))


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\)"):
        Broken()


def test_missing_forward():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing the required"):
        nn.Module()(aprende.zeros(1))


def test_train_eval_propagate():
    model = Encoder()
    assert model.training and model.encoder[1].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train("yes")


def test_zero_grad():
    model = nn.Linear(3, 2)
    model(aprende.randn(4, 3)).sum().backward()
    grad_before = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert not model.weight.grad.numpy().any() and model.weight.grad is not grad_before
    assert grad_before.numpy().any()  # the old gradient array was not written in place
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_to_changes_dtype_in_place_so_references_stay_valid():
    model = Encoder()
    params = list(model.parameters())  # what an optimizer holds
    model(aprende.randn(5, 4)).sum().backward()
    assert model.double() is model
    assert all(p.dtype == aprende.float64 for p in params)
    assert all(a is b for a, b in zip(params, model.parameters(), strict=True))
    assert params[1].grad.dtype == aprende.float64
    assert model.encoder[1].running_mean.dtype == aprende.float64
    assert model.encoder[1].num_batches_tracked.dtype == aprende.int64  # integers stay
    out = model(aprende.randn(5, 4, dtype=aprende.float64))
    assert out.dtype == aprende.float64
    model.to("cpu").float()
    assert all(p.dtype == aprende.float32 for p in params)
    with pytest.raises(TypeError, match="only accepts floating point dtypes.*int64"):
        model.to(aprende.int64)


# ---- state dict -------------------------------------------------------------------------------


def test_state_dict_contents_and_order_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 1)
    )
    state = ours.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == list(theirs.state_dict())
    assert all(not value.requires_grad for value in state.values())
    assert state["0.weight"].data is ours[0].weight.data  # shares memory, as torch
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    x = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(aprende.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_state_dict_round_trip():
    a, b = Encoder(), Encoder()
    x = aprende.randn(8, 4)
    a(x)  # moves the running statistics away from their initial values
    with aprende.no_grad():
        a.steps.fill_(5)
    result = b.load_state_dict(a.state_dict())
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(b.state_dict()[key]))
        assert value.data is not b.state_dict()[key].data  # copied, not shared
    a.eval()
    b.eval()
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_keeps_parameter_objects_and_accepts_arrays():
    model = nn.Linear(2, 2)
    weight = model.weight
    model.load_state_dict({"weight": np.eye(2), "bias": [1.0, 2.0]})
    assert model.weight is weight and weight.dtype == aprende.float32
    np.testing.assert_array_equal(weight.detach().numpy(), np.eye(2))
    np.testing.assert_array_equal(model.bias.detach().numpy(), [1.0, 2.0])


def test_load_state_dict_strict_errors_list_every_problem():
    model = Encoder()
    state = model.state_dict()
    del state["head.bias"]
    del state["encoder.1.running_var"]
    state["head.extra"] = aprende.zeros(1)
    state["encoder.0.weight"] = aprende.zeros(5, 4)
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert message.startswith("Error(s) in loading state_dict for Encoder:")
    assert 'Missing key(s) in state_dict: "encoder.1.running_var", "head.bias".' in message
    assert 'Unexpected key(s) in state_dict: "head.extra".' in message
    assert (
        "size mismatch for encoder.0.weight: copying a param with shape (5, 4) from checkpoint, "
        "the shape in current model is (6, 4)." in message
    )
    for key, value in model.state_dict().items():  # a failed load changes nothing
        np.testing.assert_array_equal(np.asarray(value), before[key])


def test_load_state_dict_non_strict_reports_keys():
    model = nn.Linear(2, 1)
    result = model.load_state_dict({"weight": aprende.ones(1, 2), "other": aprende.ones(1)}, False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(model.weight.detach().numpy(), [[1.0, 1.0]])
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        model.load_state_dict({"weight": aprende.ones(2, 2)}, strict=False)


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    model = nn.Module()
    model.register_buffer("saved", aprende.zeros(2))
    model.register_buffer("scratch", aprende.zeros(2), persistent=False)
    assert list(model.state_dict()) == ["saved"]
    assert [name for name, _ in model.named_buffers()] == ["saved", "scratch"]


def test_deepcopy_gives_an_independent_module():
    model = Encoder()
    clone = copy.deepcopy(model)
    assert isinstance(clone.head.weight, nn.Parameter)
    with aprende.no_grad():
        clone.head.weight.fill_(0.0)
    assert model.head.weight.detach().numpy().any()


# ---- repr, summary, hooks, apply --------------------------------------------------------------


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        nn.Linear(4, 3),
        nn.Sequential(nn.BatchNorm1d(3), nn.LeakyReLU(0.1), nn.Dropout(0.2)),
        nn.Flatten(),
        nn.Linear(3, 1, bias=False),
        nn.Sigmoid(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 3),
        torch.nn.Sequential(
            torch.nn.BatchNorm1d(3), torch.nn.LeakyReLU(0.1), torch.nn.Dropout(0.2)
        ),
        torch.nn.Flatten(),
        torch.nn.Linear(3, 1, bias=False),
        torch.nn.Sigmoid(),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.Linear(4, 3)) == "Linear(in_features=4, out_features=3, bias=True)"


def test_summary_with_shapes_and_counts():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    model[1].requires_grad_(False)
    printed = []
    state = aprende.get_rng_state()
    text = model.summary((16, 4), print_fn=printed.append)
    assert printed == [text]
    lines = text.splitlines()
    assert "Layer (type)" in lines[1] and "Output Shape" in lines[1] and "Param #" in lines[1]
    row = next(line for line in lines if line.startswith("0 (Linear)"))
    assert row.split()[-3:] == ["(16,", "8)", "40"]
    assert next(line for line in lines if line.startswith("3 (Linear)")).endswith("27")
    assert "(16, 3)" in text
    assert "Total params: 83" in text  # 40 + 16 + 27
    assert "Trainable params: 67" in text and "Non-trainable params: 16" in text
    # the forward pass left no trace: statistics, modes and random state untouched
    assert model.training and model[1].num_batches_tracked.item() == 0
    assert aprende.get_rng_state() == state


def test_summary_without_input_and_of_a_single_layer():
    text = nn.MLP(10, [100], 2).summary()
    assert "Output Shape" not in text
    assert "Total params: 1,302" in text  # thousands separated, as Keras
    single = nn.Linear(3, 2).summary((1, 3))
    assert "Linear" in single and "(1, 2)" in single and "Total params: 8" in single


def test_forward_hooks_and_apply():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    handle = model[0].register_forward_hook(lambda m, args, out: seen.append(out.shape))
    model(aprende.randn(4, 2))
    handle.remove()
    model(aprende.randn(4, 2))
    assert seen == [(4, 3)]
    order = []
    model.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "ReLU", "Sequential"]


# ---- nn.utils ---------------------------------------------------------------------------------


def grads_pair(torch):
    """Two parameters with the same gradients in aprende and torch."""
    values = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=5).astype(np.float32)]
    grads = [3 * rng.normal(size=v.shape).astype(np.float32) for v in values]
    ours = [nn.Parameter(aprende.tensor(v)) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad = aprende.tensor(g)
        q.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = grads_pair(torch)
    total_ours = utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total_ours.dtype == aprende.float32
    np.testing.assert_allclose(total_ours.item(), total_theirs.item(), rtol=1e-5)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_formula_and_edge_cases():
    p = nn.Parameter(aprende.zeros(2))
    original = aprende.tensor([3.0, 4.0])
    p.grad = original
    assert utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    np.testing.assert_array_equal(original.numpy(), [3.0, 4.0])  # never written in place
    assert utils.clip_grad_norm_([nn.Parameter(aprende.zeros(1))], 1.0).item() == 0.0
    p.grad = aprende.tensor([np.inf, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    p = nn.Parameter(aprende.zeros(4))
    p.grad = aprende.tensor([-3.0, -0.5, 0.5, 3.0])
    utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.5, 1.0])


def test_l1_penalty_value_and_gradient():
    model = nn.Linear(3, 2)
    penalty = utils.l1_penalty(model.parameters())
    expected = sum(np.abs(p.detach().numpy()).sum() for p in model.parameters())
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    penalty.backward()
    np.testing.assert_array_equal(model.weight.grad.numpy(), np.sign(model.weight.data))
    assert utils.l1_penalty([]).item() == 0.0


def test_parameters_to_vector_round_trip():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    vector = utils.parameters_to_vector(a.parameters())
    assert vector.shape == (8,)
    np.testing.assert_array_equal(vector.detach().numpy()[:6], a.weight.detach().numpy().ravel())
    weight = b.weight
    utils.vector_to_parameters(vector.detach(), b.parameters())
    assert b.weight is weight
    np.testing.assert_array_equal(b.weight.detach().numpy(), a.weight.detach().numpy())
    with pytest.raises(ValueError, match=r"vector of 8 elements.*got shape \(5,\)"):
        utils.vector_to_parameters(aprende.zeros(5), b.parameters())
    with pytest.raises(TypeError, match="expected Tensor, but got: list"):
        utils.vector_to_parameters([0.0] * 8, b.parameters())


def test_summary_shows_the_models_own_parameters():
    text = Encoder().summary((3, 4))
    first = text.splitlines()[3]
    assert first.split() == ["Encoder", "(3,", "2)", "1"]  # the `scale` parameter
    assert "encoder.1 (BatchNorm1d)" in text and "Total params: 57" in text  # 30 + 12 + 14 + 1
