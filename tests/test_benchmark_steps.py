"""The step benchmarks time the same network in both tools: PyTorch's mirror of the U-Net,
loaded with aprende's weights, gives aprende's outputs."""

import numpy as np
import pytest

from benchmarks import unet_step


def test_torch_mirror_of_the_unet_gives_the_same_logits():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    import aprende

    x, y = unet_step.unet_batch(2, 16, seed=0)
    _, model = unet_step.aprende_unet_step(x, y, seed=0, depth=2, width=4)
    mirror = unet_step.torch_unet(depth=2, width=4)
    mirror.load_state_dict(
        {k: torch.from_numpy(v) for k, v in unet_step._numpy_state(model).items()}
    )
    ours = model(aprende.tensor(x)).detach().numpy()
    theirs = mirror(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_peak_memory_is_measured_beyond_the_resident_set():
    args = unet_step.argparse.Namespace(batch=2, size=16, depth=1, width=2, threads=1, seed=0)
    mib = unet_step.peak_step_memory("aprende", "unet", args)
    assert 0 <= mib < 200


def test_quick_run_prints_the_ratio_target(capsys):
    assert unet_step.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "U-Net" in out and "ms (median of 2)" in out


def _flops(products) -> int:
    """2·m·k·n summed over the (a, b, out) products, a batched one counted per matrix."""
    return sum(2 * out.size * a.shape[-1] for a, _, out in products)


def test_the_gemm_floor_of_lenet_counts_its_layers_products():
    import aprende
    from aprende.models import LeNet
    from benchmarks.network_floor import network_floor, network_products

    n = 3
    x = aprende.tensor(np.zeros((n, 1, 28, 28), np.float32))
    products = network_products(LeNet(1, 10, image_size=28), x)
    conv1 = 2 * 6 * 25 * 28 * 28 * n  # forward and weight gradient; no input gradient
    conv2 = 2 * 16 * (6 * 25) * 14 * 14 * n  # each of its three products
    linear = sum(2 * i * o * n for i, o in ((16 * 7 * 7, 120), (120, 84), (84, 10)))
    assert len(products) == 2 + 3 * 4
    assert _flops(products) == 2 * conv1 + 3 * conv2 + 3 * linear
    network_floor(LeNet(1, 10, image_size=28), x)()  # the products run


def test_the_gemm_floor_of_a_transposed_convolution_is_its_adjoint_convolution():
    import aprende
    from aprende import nn
    from benchmarks.network_floor import network_products

    x = aprende.tensor(np.zeros((2, 8, 5, 5), np.float32))
    model = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ConvTranspose2d(8, 4, 2, stride=2))
    products = network_products(model, x)[2:]  # after the 1×1 convolution's two
    # The convolution 4 → 8 channels, 2×2 kernel, from the 10×10 output to the 5×5 input.
    each = 2 * 8 * (4 * 2 * 2) * 5 * 5 * 2
    assert len(products) == 3 and _flops(products) == 3 * each
    assert {out.shape for _, _, out in products} == {(2, 8, 25), (2, 8, 16), (2, 16, 25)}
