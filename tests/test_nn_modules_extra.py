"""Embedding, LayerNorm, ModuleDict/ParameterList/ParameterDict, inference_mode and the warm-up
and cyclical schedules without PyTorch: gradients against finite differences (float64),
formulas written out beside the check, container behaviour, and argument errors."""

import math

import numpy as np
import pytest

import aprende
from aprende import nn, optim
from aprende.autograd import gradcheck
from aprende.nn import functional as F
from aprende.optim import lr_scheduler


def _leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return aprende.tensor(rng.normal(size=shape), requires_grad=True)


# ---- Embedding ------------------------------------------------------------------------------


def test_embedding_gradcheck_with_repeated_ids():
    weight = _leaf(5, 3)
    ids = aprende.tensor([[0, 4, 4], [2, 0, 1]])
    assert gradcheck(lambda w: F.embedding(ids, w), (weight,))


def test_embedding_is_a_row_lookup_and_the_padding_row_gets_no_gradient():
    table = np.arange(15.0).reshape(5, 3)
    weight = aprende.tensor(table, requires_grad=True)
    ids = np.array([[1, 3], [3, 0]])
    out = F.embedding(aprende.tensor(ids), weight, padding_idx=3)
    np.testing.assert_array_equal(out.detach().numpy(), table[ids])  # out[i, j] = W[ids[i, j]]
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy()[:, 0], [1, 1, 0, 0, 0])


def test_embedding_module_padding_row_stays_zero_in_training():
    layer = nn.Embedding(4, 2, padding_idx=0)
    opt = optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        layer(aprende.tensor([0, 1, 0, 2])).pow(2).sum().backward()
        opt.step()
    np.testing.assert_array_equal(layer.weight.detach().numpy()[0], [0.0, 0.0])
    assert list(layer.state_dict()) == ["weight"]


def test_embedding_errors_name_what_came():
    layer = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range for a table of 4"):
        layer(aprende.tensor([1, 4]))
    with pytest.raises(RuntimeError, match="int64 or int32, got float32"):
        layer(aprende.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.Embedding(4, 2, padding_idx=4)


# ---- LayerNorm ------------------------------------------------------------------------------


def test_layer_norm_gradcheck_in_input_weight_and_bias():
    x, weight, bias = _leaf(3, 2, 4), _leaf(2, 4, seed=1), _leaf(2, 4, seed=2)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, weight, bias))


def test_layer_norm_formula_and_initial_parameters():
    x = np.random.default_rng(3).normal(size=(5, 6)) * 4 + 2
    layer = nn.LayerNorm(6, dtype=aprende.float64)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones(6))
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros(6))
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)  # biased variance
    expected = (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(layer(aprende.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    assert [name for name, _ in nn.LayerNorm(6, bias=False).named_parameters()] == ["weight"]
    assert list(nn.LayerNorm(6, elementwise_affine=False).parameters()) == []


def test_layer_norm_rejects_a_mismatched_shape():
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\], got .*\(3, 5\)"):
        nn.LayerNorm(4)(aprende.zeros(3, 5))


# ---- containers -----------------------------------------------------------------------------


def test_module_dict_registers_indexes_and_iterates_like_a_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 3)})
    heads["b"] = nn.Linear(3, 1)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and len(heads) == 3 and "b" in heads
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and list(heads.keys()) == ["a", "b"]
    del heads["a"]
    assert [name for name, _ in heads.named_parameters()] == ["b.weight", "b.bias"]
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        heads["train"] = nn.ReLU()
    with pytest.raises(TypeError, match="is not a Module subclass"):
        heads["x"] = 3


def test_parameter_list_and_dict_register_their_tensors_as_parameters():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2)])
            self.scales = nn.ParameterList([aprende.ones(2)])
            self.scales.append(nn.Parameter(aprende.zeros(3)))
            self.named = nn.ParameterDict({"gain": aprende.ones(1)})

    model = Model()
    assert list(model.state_dict()) == [
        "layers.0.weight",
        "layers.0.bias",
        "scales.0",
        "scales.1",
        "named.gain",
    ]
    assert all(isinstance(p, nn.Parameter) for p in model.scales)
    assert model.scales[-1].shape == (3,) and len(model.scales[0:1]) == 1
    assert len(list(model.parameters())) == 5
    with pytest.raises(IndexError, match="index 2 is out of range"):
        model.scales[2]
    model.scales[0] = aprende.zeros(4)
    assert model.state_dict()["scales.0"].shape == (4,)
    assert list(model.named) == ["gain"] and model.named["gain"].requires_grad


# ---- inference_mode -------------------------------------------------------------------------


def test_inference_mode_records_no_graph_as_a_context_and_a_decorator():
    x = aprende.ones(2, requires_grad=True)
    with aprende.inference_mode():
        assert not (x * 2).requires_grad
    with aprende.inference_mode(False):
        assert (x * 2).requires_grad

    @aprende.inference_mode()
    def predict():
        return x * 2

    assert not predict().requires_grad and aprende.is_grad_enabled()


# ---- schedules, hand-computed ---------------------------------------------------------------


def _rates(scheduler, steps):
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return rates


def _sgd(lr=0.3, momentum=0.9):
    return optim.SGD([aprende.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)


def test_linear_lr_warms_up_from_a_third_in_five_steps():
    rates = _rates(lr_scheduler.LinearLR(_sgd()), 7)
    expected = [0.3 * (1 / 3 + (2 / 3) * min(t, 5) / 5) for t in range(8)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_one_cycle_lr_and_momentum_by_hand():
    opt = _sgd()
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)

    # phase 1 ends at step 0.3·10 − 1 = 2 (lr 1/25 → 1), phase 2 at 9 (1 → 1/25/1e4)
    def cos(start, end, pct):
        return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2

    expected = [cos(0.04, 1.0, t / 2) for t in range(3)] + [
        cos(1.0, 4e-6, (t - 2) / 7) for t in range(3, 10)
    ]
    momenta = []
    rates = [scheduler.get_last_lr()[0]]
    momenta.append(opt.param_groups[0]["momentum"])
    for _ in range(9):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert rates == pytest.approx(expected, rel=1e-12)
    assert momenta[0] == pytest.approx(0.95) and momenta[2] == pytest.approx(0.85)
    assert momenta[-1] == pytest.approx(0.95)


def test_one_cycle_cycles_adams_beta1():
    opt = optim.Adam([aprende.zeros(1, requires_grad=True)], betas=(0.9, 0.99))
    lr_scheduler.OneCycleLR(opt, 0.01, epochs=2, steps_per_epoch=5)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)


def test_cosine_warm_restarts_restarts_every_cycle():
    rates = _rates(lr_scheduler.CosineAnnealingWarmRestarts(_sgd(), T_0=2, T_mult=2), 7)
    # cycles of 2 then 4 steps: T_cur = 0, 1 | 0, 1, 2, 3 | 0, 1
    t_cur = [(0, 2), (1, 2), (0, 4), (1, 4), (2, 4), (3, 4), (0, 8), (1, 8)]
    expected = [0.3 * (1 + math.cos(math.pi * t / t_i)) / 2 for t, t_i in t_cur]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_sequential_lr_starts_the_second_schedule_at_its_milestone():
    opt = _sgd(lr=1.0)
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    rates = _rates(lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3]), 5)
    assert rates == pytest.approx([0.5, 0.75, 1.0, 1.0, 0.5, 0.25], rel=1e-12)


def test_schedule_argument_errors():
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(_sgd(), start_factor=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(_sgd(), 0.1)
    with pytest.raises(ValueError, match="positive integer T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(_sgd(), T_0=0)
    opt = _sgd()
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt)], milestones=[2])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(
            opt, [lr_scheduler.LinearLR(opt), lr_scheduler.ReduceLROnPlateau(opt)], [2]
        )
