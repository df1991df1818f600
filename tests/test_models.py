"""Ready-made networks: LeNet and U-Net shapes, errors, and the same numbers as the same
network built in PyTorch with the weights copied across."""

import numpy as np
import pytest

import aprende
from aprende import models, nn


def images(n, c, h, w, seed=0, dtype=np.float64):
    return aprende.tensor(np.random.default_rng(seed).normal(size=(n, c, h, w)).astype(dtype))


def test_lenet_classifies_images_of_its_size():
    aprende.manual_seed(0)
    model = models.LeNet(1, 10, image_size=28)
    assert model(images(2, 1, 28, 28, dtype=np.float32)).shape == (2, 10)
    small = models.LeNet(1, 10, image_size=8, kernel_size=3)
    assert small(images(3, 1, 8, 8, dtype=np.float32)).shape == (3, 10)


def test_lenet_names_the_shape_it_expected():
    model = models.LeNet(1, 10, image_size=8, kernel_size=3)
    with pytest.raises(RuntimeError, match=r"LeNet: expected input of shape \(N, 1, 8, 8\)"):
        model(images(2, 1, 28, 28, dtype=np.float32))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        models.LeNet(kernel_size=4)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_unet_gives_one_output_per_pixel_and_a_gradient_to_every_weight(depth):
    aprende.manual_seed(0)
    model = models.UNet(1, 11, depth=depth, width=4)
    out = model(images(2, 1, 16, 24, dtype=np.float32))
    assert out.shape == (2, 11, 16, 24)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unet_asks_for_a_multiple_of_two_to_the_depth():
    model = models.UNet(1, 2, depth=3, width=4)
    with pytest.raises(RuntimeError, match=r"multiples of 2\^3 = 8, got 12×16"):
        model(images(1, 1, 12, 16, dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 1, H, W\)"):
        model(images(1, 3, 16, 16, dtype=np.float32))


def test_models_package_offers_the_mlp_beside_the_cnns():
    assert models.MLP is nn.MLP


# ---- the same network in PyTorch ---------------------------------------------------------------


def _torch_lenet(torch, in_channels, num_classes, size, kernel):
    tnn = torch.nn

    class TorchLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            pad = kernel // 2
            self.features = tnn.Sequential(
                tnn.Conv2d(in_channels, 6, kernel, padding=pad),
                tnn.ReLU(),
                tnn.MaxPool2d(2),
                tnn.Conv2d(6, 16, kernel, padding=pad),
                tnn.ReLU(),
                tnn.MaxPool2d(2),
            )
            self.classifier = tnn.Sequential(
                tnn.Flatten(),
                tnn.Linear(16 * (size // 4) ** 2, 120),
                tnn.ReLU(),
                tnn.Linear(120, 84),
                tnn.ReLU(),
                tnn.Linear(84, num_classes),
            )

        def forward(self, x):
            return self.classifier(self.features(x))

    return TorchLeNet()


def _torch_unet(torch, in_channels, out_channels, depth, width):
    tnn = torch.nn

    def block(a, b):
        return tnn.Sequential(
            tnn.Conv2d(a, b, 3, padding=1, bias=False),
            tnn.BatchNorm2d(b),
            tnn.ReLU(),
            tnn.Conv2d(b, b, 3, padding=1, bias=False),
            tnn.BatchNorm2d(b),
            tnn.ReLU(),
        )

    widths = [width * 2**i for i in range(depth + 1)]

    class TorchUNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.ModuleList(
                [block(in_channels, widths[0])]
                + [block(widths[i - 1], widths[i]) for i in range(1, depth + 1)]
            )
            self.pool = tnn.MaxPool2d(2)
            self.up = tnn.ModuleList(
                [
                    tnn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2)
                    for i in range(depth, 0, -1)
                ]
            )
            self.decoder = tnn.ModuleList(
                [block(2 * widths[i - 1], widths[i - 1]) for i in range(depth, 0, -1)]
            )
            self.head = tnn.Conv2d(widths[0], out_channels, 1)

        def forward(self, x):
            skips = []
            for level, b in enumerate(self.encoder):
                x = b(x if level == 0 else self.pool(x))
                skips.append(x)
            skips.pop()
            for up, b in zip(self.up, self.decoder, strict=True):
                x = b(torch.cat([up(x), skips.pop()], dim=1))
            return self.head(x)

    return TorchUNet()


def _same_numbers(torch, ours, theirs, x):
    """Copy our weights into PyTorch's network; the outputs and every gradient must agree."""
    state = {k: torch.tensor(np.asarray(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)  # strict: the keys and shapes are PyTorch's
    theirs.double()
    upstream = np.random.default_rng(1).normal(size=ours(x).shape)
    out = ours(x)
    (out * aprende.tensor(upstream)).sum().backward()
    tx = torch.tensor(x.numpy())
    tout = theirs(tx)
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-7, atol=1e-9)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name
        )


def test_lenet_matches_pytorch():
    torch = pytest.importorskip("torch")
    aprende.manual_seed(0)
    ours = models.LeNet(1, 10, image_size=12, kernel_size=3).double()
    _same_numbers(torch, ours, _torch_lenet(torch, 1, 10, 12, 3), images(3, 1, 12, 12))


def test_unet_matches_pytorch_in_training_mode():
    torch = pytest.importorskip("torch")
    aprende.manual_seed(0)
    ours = models.UNet(2, 3, depth=2, width=4).double()
    _same_numbers(torch, ours, _torch_unet(torch, 2, 3, 2, 4), images(2, 2, 8, 12))


def test_the_lenet_step_benchmark_times_the_same_network_in_both(tmp_path, capsys):
    import importlib
    import json

    bench = importlib.import_module("benchmarks.cnn_step")
    assert bench.main(["--quick", "--json", str(tmp_path / "step.json")]) == 0
    medians = json.loads((tmp_path / "step.json").read_text())["medians_s"]
    assert medians["aprende"] > 0 and "LeNet-5 training step" in capsys.readouterr().out
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    y = np.arange(4)
    ours, model = bench.aprende_step(x, y, seed=0)
    weights = [p.detach().numpy().copy() for p in model.parameters()]
    theirs, reference = bench.torch_step(x, y, weights)
    for _ in range(3):  # the same steps keep the same weights
        ours()
        theirs()
    for mine, other in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(mine.detach().numpy(), other.detach().numpy(), atol=2e-6)
    assert torch.is_tensor(next(reference.parameters()))
