"""``DataSpec``, what a checkpoint keeps of its data: the dict it writes is the one checkpoints
and run folders have always held (same keys, same order, same values), it reads that dict
back, and a dict with a missing or unknown key is a ValueError naming the key."""

import json

import pytest

from aprende.datasets.spec import DataSpec

# The "dataset" entry of a checkpoint's config, as `aprende train` writes it for iris.
SAVED = {
    "name": "iris",
    "task": "multiclass",
    "description": "Fisher's iris flowers.",
    "feature_names": ["sepal length (cm)", "sepal width (cm)"],
    "target_names": ["setosa", "versicolor", "virginica"],
    "n_features": 2,
    "n_outputs": 3,
    "positions": None,
    "sizes": {"train": 104, "val": 23, "test": 23},
}


def test_round_trip_gives_the_same_json_text():
    spec = DataSpec.from_dict(json.loads(json.dumps(SAVED)))
    assert spec.n_outputs == 3 and spec.positions is None and spec.sizes["test"] == 23
    assert json.dumps(spec.to_dict(), indent=1) == json.dumps(SAVED, indent=1)
    assert DataSpec.from_dict(spec.to_dict()) == spec


def test_per_element_spec_keeps_its_positions():
    saved = {**SAVED, "task": "per_element", "n_outputs": 3 * 16, "positions": 16}
    assert DataSpec.from_dict(saved).to_dict() == saved


def test_to_dict_is_a_copy():
    spec = DataSpec.from_dict(json.loads(json.dumps(SAVED)))
    spec.to_dict()["sizes"]["test"] = 0
    assert spec.sizes["test"] == 23


def test_missing_key_is_named():
    saved = {k: v for k, v in SAVED.items() if k != "n_outputs"}
    with pytest.raises(
        ValueError, match="DataSpec: missing key 'n_outputs' \\(expected name, task,"
    ):
        DataSpec.from_dict(saved)


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="DataSpec: unknown key 'classes'"):
        DataSpec.from_dict({**SAVED, "classes": 3})


def test_missing_and_unknown_keys_are_named_together():
    saved = {k: v for k, v in SAVED.items() if k not in ("task", "sizes")} | {"kind": "multiclass"}
    with pytest.raises(ValueError, match="missing keys 'task', 'sizes'; unknown key 'kind'"):
        DataSpec.from_dict(saved)


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="DataSpec: task should be one of .*, got 'ranking'"):
        DataSpec.from_dict({**SAVED, "task": "ranking"})


def test_evaluate_names_the_missing_key_of_a_checkpoint(tmp_path, capsys):
    pytest.importorskip("safetensors")
    pytest.importorskip("matplotlib")
    from aprende.cli import main

    folder = tmp_path / "xor"
    assert (
        main(["train", "--dataset", "xor", "--epochs", "1", "--hidden", "4", "--out", str(folder)])
        == 0
    )
    from aprende.training.checkpoint import best_checkpoint
    from aprende.training.checkpoint_files import encode_record

    sidecar = best_checkpoint(folder / "checkpoints")
    meta = json.loads(sidecar.read_text())
    assert list(meta["config"]["dataset"]) == list(SAVED)
    del meta["config"]["dataset"]["n_features"]
    sidecar.write_bytes(encode_record(meta))  # a crafted record, sealed as aprende would
    capsys.readouterr()
    assert main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"aprende evaluate: error: checkpoint {sidecar}: DataSpec: missing key 'n_features' "
        "(expected name, task, description, feature_names, target_names, n_features, n_outputs, "
        "positions, sizes, input_shape, pixel_max)\n"
    )
