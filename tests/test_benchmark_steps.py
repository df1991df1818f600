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
