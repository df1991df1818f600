"""aprende.save / load / save_model / load_model: safetensors files with PyTorch's key names."""

from __future__ import annotations

import numpy as np
import pytest

import aprende
from aprende import nn
from aprende.models import LeNet, UNet

pytest.importorskip("safetensors")


def _same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert set(sa) == set(sb)
    for key in sa:
        np.testing.assert_array_equal(sa[key].numpy(), sb[key].numpy(), err_msg=key)


def test_save_load_round_trip_keeps_names_dtypes_and_values(tmp_path):
    aprende.manual_seed(0)
    state = nn.MLP(4, [8], 3).state_dict() | {"steps": aprende.tensor([3], dtype=aprende.int64)}
    aprende.save(state, tmp_path / "w.safetensors")
    loaded = aprende.load(tmp_path / "w.safetensors")
    assert set(loaded) == set(state)  # safetensors keeps the keys sorted
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())


@pytest.mark.parametrize(
    ("obj", "named"),
    [(nn.Linear(2, 1), "Linear module"), ([1, 2], "got list"), ({"w": "text"}, "'w' is a str")],
)
def test_save_refuses_what_is_not_a_state_dict(tmp_path, obj, named):
    with pytest.raises(TypeError, match=named) as error:
        aprende.save(obj, tmp_path / "x.safetensors")
    assert "dict of str -> aprende.Tensor" in str(error.value)
    assert not (tmp_path / "x.safetensors").exists()


def test_load_of_a_foreign_file_is_a_clear_error(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ValueError, match="is not a safetensors file"):
        aprende.load(tmp_path / "x.safetensors")


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.MLP(4, [8, 8], 3, activation="tanh", dropout=0.2, batch_norm=True),
        lambda: nn.MLP(5, [], 2),
        lambda: LeNet(1, 10, image_size=8, kernel_size=3, hidden=(16,), dropout=0.1),
        lambda: UNet(1, 3, depth=2, width=4),
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * 4 * 4, 3),
            nn.LogSoftmax(dim=1),
        ),
    ],
)
def test_save_model_load_model_rebuilds_the_same_model(tmp_path, build):
    aprende.manual_seed(0)
    model = build()
    aprende.save_model(model, tmp_path / "m.safetensors")
    loaded = aprende.load_model(tmp_path / "m.safetensors")
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert not loaded.training
    _same_weights(model, loaded)


def test_save_model_refuses_a_custom_class_and_a_changed_model(tmp_path):
    class Mine(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="cannot rebuild a .*Mine.*aprende.save"):
        aprende.save_model(Mine(), tmp_path / "m.safetensors")
    changed = nn.MLP(2, [3], 1)
    changed[1] = nn.LeakyReLU(0.2)  # MLP(..., activation="leaky_relu") has slope 0.01
    with pytest.raises(TypeError, match="cannot be rebuilt from its constructor arguments"):
        aprende.save_model(changed, tmp_path / "m.safetensors")


def test_load_model_of_weights_alone_says_what_to_do(tmp_path):
    aprende.save(nn.Linear(2, 1).state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="without a model description"):
        aprende.load_model(tmp_path / "w.safetensors")


# ---- the same files in PyTorch ---------------------------------------------------------------


def _torch_lenet(torch):
    """models.LeNet(1, 10, image_size=8, kernel_size=3) written in PyTorch, same key names."""
    tnn = torch.nn
    model = tnn.Module()
    model.features = tnn.Sequential(
        tnn.Conv2d(1, 6, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
    )
    model.classifier = tnn.Sequential(
        tnn.Flatten(),
        tnn.Linear(16 * 2 * 2, 120),
        tnn.ReLU(),
        tnn.Linear(120, 84),
        tnn.ReLU(),
        tnn.Linear(84, 10),
    )
    model.forward = lambda x: model.classifier(model.features(x))
    return model


@pytest.mark.reference
@pytest.mark.parametrize("name", ["mlp", "lenet"])
def test_files_load_both_ways_between_aprende_and_pytorch(tmp_path, name):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    aprende.manual_seed(0)
    torch.manual_seed(0)
    if name == "mlp":
        ours = nn.MLP(4, [8, 8], 3)
        theirs = torch.nn.Sequential(
            torch.nn.Linear(4, 8),
            torch.nn.ReLU(),
            torch.nn.Linear(8, 8),
            torch.nn.ReLU(),
            torch.nn.Linear(8, 3),
        )
        x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    else:
        ours, theirs = LeNet(1, 10, image_size=8, kernel_size=3), _torch_lenet(torch)
        x = np.random.default_rng(0).normal(size=(5, 1, 8, 8)).astype(np.float32)
    ours.eval()
    # aprende -> PyTorch: the same outputs from the same file.
    aprende.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs.load_state_dict(load_file(tmp_path / "ours.safetensors"))
    with aprende.no_grad(), torch.no_grad():
        expected = ours(aprende.tensor(x)).numpy()
        np.testing.assert_allclose(theirs(torch.tensor(x)).numpy(), expected, atol=1e-5)
    # PyTorch -> aprende: fresh PyTorch weights into a fresh aprende model.
    for parameter in theirs.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    ours.load_state_dict(aprende.load(tmp_path / "theirs.safetensors"))
    with aprende.no_grad(), torch.no_grad():
        np.testing.assert_allclose(
            ours(aprende.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5
        )
