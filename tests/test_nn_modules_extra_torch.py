"""Embedding, LayerNorm and the dictionary/parameter containers against ``torch.nn``: the same
outputs and gradients with copied weights (float64, to 1e-7), the same initial values where
they are fixed, and the same state-dict keys."""

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.nn import functional as F

torch = pytest.importorskip("torch")


def _pair(array, requires_grad=True):
    """The same float64 array as an aprende tensor and a torch tensor."""
    return (
        aprende.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _close(ours, reference, tol=1e-7):
    np.testing.assert_allclose(
        ours.detach().numpy(), reference.detach().numpy(), rtol=tol, atol=tol
    )


def _copy_weights(ours, reference):
    with aprende.no_grad():
        for name, value in reference.state_dict().items():
            ours.state_dict()[name].copy_(aprende.tensor(value.numpy()))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2), ()])
def test_embedding_output_and_gradient_equal_torchs(shape, padding_idx):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=shape)
    ours = nn.Embedding(6, 3, padding_idx=padding_idx, dtype=aprende.float64)
    reference = torch.nn.Embedding(6, 3, padding_idx=padding_idx, dtype=torch.float64)
    _copy_weights(ours, reference)
    out = ours(aprende.tensor(ids))
    torch_out = reference(torch.tensor(ids))
    _close(out, torch_out)
    upstream = rng.normal(size=torch_out.shape)
    (out * aprende.tensor(upstream)).sum().backward()
    (torch_out * torch.tensor(upstream)).sum().backward()
    _close(ours.weight.grad, reference.weight.grad)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert ours.padding_idx == reference.padding_idx
    assert repr(ours) == repr(reference)


def test_embedding_initialisation_is_standard_normal_with_a_zero_padding_row():
    aprende.manual_seed(0)
    weight = nn.Embedding(4000, 5, padding_idx=7).weight.detach().numpy()
    assert np.all(weight[7] == 0)
    rest = np.delete(weight, 7, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02  # N(0, 1), as torch's


def test_functional_embedding_equals_torchs():
    rng = np.random.default_rng(1)
    weight, torch_weight = _pair(rng.normal(size=(7, 4)))
    ids = rng.integers(0, 7, size=(3, 5))
    out = F.embedding(aprende.tensor(ids), weight, padding_idx=0)
    torch_out = torch.nn.functional.embedding(torch.tensor(ids), torch_weight, padding_idx=0)
    _close(out, torch_out)
    out.sum().backward()
    torch_out.sum().backward()
    _close(weight.grad, torch_weight.grad)


def test_embedding_from_pretrained_equals_torchs():
    table = np.arange(12.0).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(aprende.tensor(table))
    reference = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert ours.weight.requires_grad == reference.weight.requires_grad is False
    _close(ours(aprende.tensor([3, 0])), reference(torch.tensor([3, 0])))


@pytest.mark.parametrize(
    ("normalized_shape", "input_shape", "options"),
    [
        (4, (3, 4), {}),
        ((3, 4), (2, 3, 4), {}),
        ([5], (2, 3, 5), {"eps": 1e-3}),
        (4, (4,), {"bias": False}),
        ((2, 3), (4, 2, 3), {"elementwise_affine": False}),
    ],
)
def test_layer_norm_output_and_gradients_equal_torchs(normalized_shape, input_shape, options):
    rng = np.random.default_rng(2)
    ours = nn.LayerNorm(normalized_shape, dtype=aprende.float64, **options)
    reference = torch.nn.LayerNorm(normalized_shape, dtype=torch.float64, **options)
    assert list(ours.state_dict()) == list(reference.state_dict())
    for name, value in reference.state_dict().items():  # ones and zeros, as torch's
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy())
    with torch.no_grad():
        for parameter in reference.parameters():
            parameter.copy_(torch.tensor(rng.normal(size=parameter.shape)))
    _copy_weights(ours, reference)
    x, torch_x = _pair(rng.normal(size=input_shape) * 3 + 1)
    out, torch_out = ours(x), reference(torch_x)
    _close(out, torch_out)
    upstream = rng.normal(size=input_shape)
    (out * aprende.tensor(upstream)).sum().backward()
    (torch_out * torch.tensor(upstream)).sum().backward()
    _close(x.grad, torch_x.grad)
    for name, parameter in reference.named_parameters():
        _close(dict(ours.named_parameters())[name].grad, parameter.grad)
    assert repr(ours) == repr(reference)


def test_functional_layer_norm_equals_torchs():
    rng = np.random.default_rng(3)
    x, torch_x = _pair(rng.normal(size=(2, 3, 4)))
    w, torch_w = _pair(rng.normal(size=(3, 4)))
    out = F.layer_norm(x, (3, 4), w, None, 1e-6)
    torch_out = torch.nn.functional.layer_norm(torch_x, (3, 4), torch_w, None, 1e-6)
    _close(out, torch_out)
    out.sum().backward()
    torch_out.sum().backward()
    _close(x.grad, torch_x.grad)
    _close(w.grad, torch_w.grad)


def _model(ns):
    class Model(ns.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = ns.nn.ModuleDict({"a": ns.nn.Linear(2, 3), "b": ns.nn.LayerNorm(3)})
            self.heads["c"] = ns.nn.Embedding(4, 2)
            self.scales = ns.nn.ParameterList([ns.nn.Parameter(ns.ones(3)), ns.zeros(2)])
            self.named = ns.nn.ParameterDict({"gain": ns.nn.Parameter(ns.ones(1))})
            self.layers = ns.nn.ModuleList([ns.nn.Linear(3, 3)])

    return Model()


def test_container_state_dict_keys_and_order_equal_torchs():
    ours, reference = _model(aprende), _model(torch)
    assert list(ours.state_dict()) == list(reference.state_dict())
    assert [name for name, _ in ours.named_parameters()] == [
        name for name, _ in reference.named_parameters()
    ]
    assert list(ours.heads) == list(reference.heads)
    assert len(ours.scales) == len(reference.scales) == 2
    assert isinstance(ours.scales[1], nn.Parameter)
    assert isinstance(reference.scales[1], torch.nn.Parameter)
