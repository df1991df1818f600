"""A dataset's own run settings: what it trains with unless a TOML file or a flag says otherwise,
and the README's figures for the digit canvases stated with the registry's numbers."""

import dataclasses
import json
from pathlib import Path

import pytest

from aprende import config as config_module
from aprende.config import DATASETS, RunConfig, default_of

README = Path(__file__).resolve().parents[1] / "README.md"
CANVASES = DATASETS["digit_canvases"]


def test_the_canvases_train_with_their_own_settings_unless_told_otherwise(tmp_path):
    assert CANVASES.settings  # the registry gives the canvases settings of their own
    config = RunConfig.from_sources(flags={"dataset": "digit_canvases"})
    for key, value in CANVASES.settings.items():
        assert getattr(config, key) == value, key
    assert any(default_of(key) != value for key, value in CANVASES.settings.items())
    flagged = RunConfig.from_sources(flags={"dataset": "digit_canvases", "lr": "0.05"})
    assert flagged.lr == 0.05 and flagged.batch_size == CANVASES.settings["batch_size"]
    toml = tmp_path / "run.toml"
    toml.write_text('dataset = "digit_canvases"\nepochs = 3\n', encoding="utf-8")
    from_file = RunConfig.from_sources(toml_path=toml)
    assert from_file.epochs == 3 and from_file.lr == CANVASES.settings["lr"]
    # another dataset keeps RunConfig's defaults, even after the canvases were read
    digits = RunConfig.from_sources(flags={"dataset": "digits"})
    assert all(getattr(digits, key) == default_of(key) for key in CANVASES.settings)


def test_the_readme_states_the_canvases_defaults_from_the_registry():
    from aprende import models, nn

    text = " ".join(README.read_text(encoding="utf-8").split())
    n = CANVASES.options["n_samples"]
    train = round(n * (1 - default_of("val_size") - default_of("test_size")))
    chosen = {**{k: default_of(k) for k in ("channels", "depth")}, **CANVASES.settings}
    stated = (
        f"`aprende train --dataset digit_canvases` makes {n} canvases ({train} for training) "
        f"and trains with `lr = {chosen['lr']:g}`, `batch_size = {chosen['batch_size']}`, "
        f'`normalization = "{chosen["normalization"]}"`, up to {chosen["epochs"]} epochs '
        f"with `patience = {chosen['patience']}`"
    )
    assert stated in text
    unet = models.UNet(1, 11, depth=chosen["depth"], width=chosen["channels"])
    assert f"U-Net ({sum(p.numel() for p in unet.parameters()):,} parameters)" in text
    mlp = nn.MLP(32 * 32, [9], 11 * 32 * 32)
    assert f"`--model mlp --hidden 9`, {sum(p.numel() for p in mlp.parameters()):,}" in text


@pytest.fixture
def few_canvases(monkeypatch):
    """The canvases' entry with 60 canvases: the per-pixel pipeline, briefly."""
    small = dataclasses.replace(CANVASES, options={**CANVASES.options, "n_samples": 60})
    monkeypatch.setitem(config_module.DATASETS, "digit_canvases", small)


def test_an_mlp_gives_every_pixel_its_class_scores_and_is_scored_by_iou(tmp_path, few_canvases):
    pytest.importorskip("matplotlib")
    import numpy as np

    from aprende.cli import main
    from aprende.cli.pipeline import build_model, load_data, model_outputs

    folder = tmp_path / "mlp"
    args = ["train", "--dataset", "digit_canvases", "--model", "mlp", "--hidden", "9"]
    assert main([*args, "--epochs", "2", "--out", str(folder)]) == 0
    assert "Linear" in (folder / "model.txt").read_text()
    config = RunConfig.from_sources(flags={"dataset": "digit_canvases", "model": "mlp"})
    data = load_data(config)
    assert data.spec.sizes == {"train": 42, "val": 9, "test": 9}
    outputs = model_outputs(build_model(config, data.spec), data.X["test"], "cpu")
    assert outputs.shape == (9, 11, 32 * 32)  # (N, classes, pixels), as CrossEntropyLoss takes
    # the run's mean IoU against IoU_c = TP / (TP + FP + FN) from its own confusion counts,
    # averaged over the classes present in the truth or the predictions
    scores = json.loads((folder / "metrics.json").read_text())
    counts = [scores["classes"][name] for name in scores["class_names"]]
    union = np.array([c["tp"] + c["fp"] + c["fn"] for c in counts], dtype=float)
    tp = np.array([c["tp"] for c in counts], dtype=float)
    assert scores["mean_iou"] == pytest.approx(np.mean(tp[union > 0] / union[union > 0]))
