"""aprende.onnx.export: the exported file, run in onnxruntime, gives aprende's outputs."""

from __future__ import annotations

import io

import numpy as np
import pytest

import aprende
from aprende import autograd, nn
from aprende.models import LeNet, UNet

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from aprende.onnx import export  # noqa: E402 - needs onnx


class Residual(nn.Module):
    """A custom forward: a view, a skip connection, ReLU by function, a cat and a mean."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 6))
        self.head = nn.Linear(12, 2)

    def forward(self, x):
        x = x.view(x.shape[0], -1)  # (N, 2, 3) -> (N, 6)
        h = aprende.relu(x + self.inner(x)) * 0.5
        both = aprende.cat([h, x.exp() - 1], dim=1)
        return self.head(both) - both.mean(dim=1, keepdim=True)


def _with_statistics(model: nn.Module) -> nn.Module:
    """Running statistics away from 0 and 1, so batch norm's eval arithmetic is tested."""
    rng = np.random.default_rng(1)
    for name, buffer in model.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            buffer.data[...] = rng.uniform(0.5, 1.5, buffer.shape).astype(buffer.data.dtype)
    return model


CASES = {
    "mlp": (lambda: nn.MLP(4, [16, 8], 3, batch_norm=True, dropout=0.2), (5, 4)),
    "lenet": (lambda: LeNet(1, 10, image_size=8, kernel_size=3), (4, 1, 8, 8)),
    "unet": (lambda: UNet(1, 3, depth=2, width=4), (2, 1, 16, 16)),
    "residual": (Residual, (3, 2, 3)),
    "layers": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=1),
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
            nn.BatchNorm2d(3),
            nn.Upsample(scale_factor=2, mode="bilinear"),
            nn.AvgPool2d(2),
            nn.Upsample(size=(8, 8)),
            nn.Dropout2d(0.3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Sigmoid(),
        ),
        (2, 2, 8, 8),
    ),
    "conv1d": (
        lambda: nn.Sequential(
            nn.Conv1d(2, 3, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Unflatten(1, (3, 7)),
            nn.Flatten(),
            nn.Linear(21, 4),
            nn.LogSoftmax(dim=1),
        ),
        (3, 2, 7),
    ),
    "activations": (
        lambda: nn.Sequential(
            nn.Linear(4, 8),
            nn.ELU(0.7),
            nn.SELU(),
            nn.CELU(1.3),
            nn.Hardtanh(-0.5, 0.8),
            nn.ReLU6(),
            nn.Hardsigmoid(),
            nn.Hardswish(),
            nn.Linear(8, 8),
            nn.GELU(),
            nn.GELU(approximate="tanh"),
            nn.SiLU(),
            nn.Softplus(beta=2.0, threshold=1.0),
            nn.Mish(),
            nn.LogSigmoid(),
            nn.Softsign(),
            nn.Linear(8, 6),
            nn.GLU(),
            nn.Softmin(dim=1),
        ),
        (5, 4),
    ),
}


def _aprende_outputs(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with aprende.no_grad():
        return model(aprende.tensor(x)).numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_onnxruntime_matches_aprende_at_other_batch_sizes(name):
    build, shape = CASES[name]
    aprende.manual_seed(0)
    model = _with_statistics(build())
    buffer = io.BytesIO()
    export(model, aprende.randn(*shape), buffer)
    session = ort.InferenceSession(buffer.getvalue())
    model.eval()
    for batch in (shape[0], 1, 9):  # dynamic batch: sizes the trace never saw
        x = np.random.default_rng(batch).normal(size=(batch, *shape[1:])).astype(np.float32)
        (got,) = session.run(None, {"input": x})
        np.testing.assert_allclose(got, _aprende_outputs(model, x), atol=1e-5, rtol=1e-5)


def test_names_dynamic_axes_and_a_file_path(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = nn.Sequential(nn.Linear(3, 2))
    path = tmp_path / "m.onnx"
    export(
        model,
        (aprende.randn(4, 3),),
        path,
        input_names=["rows"],
        output_names=["scores"],
        dynamic_axes={"rows": {0: "n"}, "scores": [0]},
        opset_version=18,
    )
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 18
    (source,), (result,) = proto.graph.input, proto.graph.output
    assert (source.name, result.name) == ("rows", "scores")
    assert source.type.tensor_type.shape.dim[0].dim_param == "n"
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias"}  # state-dict keys
    x = np.ones((6, 3), np.float32)
    (got,) = ort.InferenceSession(str(path)).run(None, {"rows": x})
    np.testing.assert_allclose(got, _aprende_outputs(model, x), atol=1e-6)


def test_the_model_keeps_its_mode_and_tracing_is_off_afterwards():
    model = nn.MLP(2, [3], 1, dropout=0.5)
    export(model, aprende.randn(2, 2), io.BytesIO())
    assert model.training and all(m.training for m in model.modules())
    assert autograd._tracer is None


def test_an_op_without_conversion_is_named():
    class Picks(nn.Module):
        def forward(self, x):
            return x[:, :2]

    with pytest.raises(NotImplementedError, match="no ONNX conversion for the op 'getitem'"):
        export(Picks(), aprende.randn(2, 3), io.BytesIO())
    assert autograd._tracer is None


def test_an_output_not_computed_from_the_inputs_is_refused():
    class Raw(nn.Module):
        def forward(self, x):
            return aprende.tensor(x.numpy() * 2)

    with pytest.raises(RuntimeError, match="not computed by recorded ops"):
        export(Raw(), aprende.randn(2, 3), io.BytesIO())
