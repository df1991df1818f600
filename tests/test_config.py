"""The run configuration: defaults, TOML in and out, flags over the file, one-line errors."""

import dataclasses
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: the config needs tomli there too
    tomllib = pytest.importorskip("tomli")

from aprende.config import (
    DATASETS,
    ConfigError,
    RunConfig,
    check_flag,
    from_dict,
    load_run_config,
    settings,
    to_toml,
    toml_value,
    write_toml,
)
from aprende.nn.mlp import ACTIVATIONS


def write(tmp_path, text: str):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path=None, toml: str | None = None, **flags) -> str:
    """The message of the ConfigError raised by these settings; it must be one line."""
    path = write(tmp_path, toml) if toml is not None else None
    with pytest.raises(ConfigError) as caught:
        RunConfig.from_sources(toml_path=path, flags=flags)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---- defaults and the main job ---------------------------------------------------------------


def test_defaults_are_the_main_job():
    config = RunConfig.from_sources()
    assert (config.dataset, config.optimizer, config.normalization) == (
        "digits",
        "adam",
        "standard",
    )
    assert config.patience > 0 and config.val_size > 0 and config.test_size > 0
    assert config.gamma is None  # no schedule: no decay factor
    assert config == RunConfig()


def test_every_setting_has_group_kind_and_help():
    for spec in settings():
        assert spec.metadata["group"] in ("data", "model", "optimizer", "schedule", "training")
        assert spec.metadata["help"] and spec.metadata["kind"].accepts


def test_activation_names_are_the_mlp_s():
    accepted = {a for a in ACTIVATIONS}
    for name in accepted:
        assert RunConfig.from_sources(flags={"activation": name}).activation == name
    assert "unknown" not in accepted


# ---- TOML round trip -------------------------------------------------------------------------


def test_toml_round_trip_of_a_changed_config(tmp_path):
    config = RunConfig.from_sources(
        flags={
            "hidden": ["64", "32"],
            "optimizer": "sgd",
            "lr": "0.05",
            "momentum": "0.9",
            "nesterov": True,
            "schedule": "exponential",
            "min_lr": "1e-5",
            "batch_norm": True,
            "seed": "7",
            "device": "cuda:1",
        }
    )
    path = write_toml(config, tmp_path / "config.toml")
    parsed = tomllib.loads(path.read_text())  # an independent TOML reader
    assert parsed["hidden"] == [64, 32] and parsed["nesterov"] is True
    assert parsed["gamma"] == 0.95  # resolved: exponential's default decay
    assert "out" not in parsed  # the run folder is where the file lives
    again = load_run_config(path)
    assert dataclasses.asdict(again) == dataclasses.asdict(config)


def test_to_toml_leaves_unset_gamma_out_and_groups_keys():
    text = to_toml(RunConfig())
    assert "gamma" not in text
    for group in ("data", "model", "optimizer", "schedule", "training"):
        assert f"# ---- {group}" in text
    assert tomllib.loads(text)["betas"] == [0.9, 0.999]


@pytest.mark.parametrize(
    "value",
    ["plain", 'quote " inside', "back\\slash", "tab\tand\nnewline", "ñandú €", "", "C:\\x\\y"],
)
def test_toml_strings_read_back_exactly(value):
    assert tomllib.loads(f"key = {toml_value(value)}")["key"] == value


@pytest.mark.parametrize(
    "value", [0.1, 1e-8, 1e20, 3.0, -2.5, 0, 7, True, False, [1, 2], [0.9, 0.999], []]
)
def test_toml_numbers_and_lists_read_back_exactly(value):
    parsed = tomllib.loads(f"key = {toml_value(value)}")["key"]
    assert parsed == value and type(parsed) is type(value)


def test_config_from_a_checkpoint_dict():
    config = RunConfig.from_sources(flags={"schedule": "step", "lr": "0.01"})
    assert from_dict(config.to_dict()) == config


# ---- sources: file, then flags ---------------------------------------------------------------


def test_flags_override_the_file_and_the_file_overrides_defaults(tmp_path):
    path = write(tmp_path, 'lr = 0.1\nhidden = [16]\noptimizer = "sgd"\n')
    config = RunConfig.from_sources(toml_path=path, flags={"lr": "0.01"})
    assert config.lr == 0.01 and config.hidden == [16] and config.optimizer == "sgd"
    assert config.epochs == RunConfig().epochs


def test_integers_are_accepted_where_numbers_are(tmp_path):
    config = RunConfig.from_sources(toml_path=write(tmp_path, "lr = 1\nweight_decay = 0\n"))
    assert config.lr == 1.0 and isinstance(config.lr, float)


def test_hidden_flag_takes_spaces_or_commas_or_nothing():
    assert RunConfig.from_sources(flags={"hidden": ["128,64", "32"]}).hidden == [128, 64, 32]
    assert RunConfig.from_sources(flags={"hidden": []}).hidden == []


def test_csv_path_is_resolved_and_dataset_becomes_csv(tmp_path):
    config = RunConfig.from_sources(flags={"csv": str(tmp_path / "d.csv"), "target": "y"})
    assert config.dataset == "csv" and config.csv == str((tmp_path / "d.csv").resolve())


@pytest.mark.parametrize(("schedule", "gamma"), [("step", 0.1), ("exponential", 0.95)])
def test_gamma_defaults_by_schedule(schedule, gamma):
    assert RunConfig.from_sources(flags={"schedule": schedule}).gamma == gamma


# ---- mistakes: one line naming the key and what it accepts ----------------------------------


def test_unknown_key_suggests_the_closest(tmp_path):
    message = config_error(tmp_path, "hiden = [3]\n")
    assert "unknown key 'hiden'" in message and "did you mean 'hidden'" in message
    assert "run.toml" in message


def test_unknown_key_without_a_close_one_lists_the_keys(tmp_path):
    message = config_error(tmp_path, "zzzzzz = 1\n")
    assert "unknown key 'zzzzzz'" in message and "known keys: dataset," in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("lr = -1", "key 'lr' expects a number > 0, got -1"),
        ('lr = "0.1"', "key 'lr' expects a number > 0, got '0.1'"),
        ("lr = true", "key 'lr' expects a number > 0, got True"),
        ("epochs = 1.5", "key 'epochs' expects an integer >= 1, got 1.5"),
        ("hidden = [0]", "key 'hidden' expects a list of positive integers"),
        ("hidden = 3", "key 'hidden' expects a list of positive integers"),
        ('batch_norm = "yes"', "key 'batch_norm' expects true or false, got 'yes'"),
        ('optimizer = "adamm"', "key 'optimizer' expects one of sgd, adagrad, rmsprop, adam"),
        ('dataset = "nope"', "key 'dataset' expects one of iris, wine"),
        ("betas = [0.9]", "key 'betas' expects two numbers in [0, 1)"),
        ("betas = [0.9, 1.0]", "key 'betas' expects two numbers in [0, 1)"),
        ("dropout = 1.0", "key 'dropout' expects a number >= 0 and < 1, got 1.0"),
        ('device = "gpu"', "key 'device' expects cpu, cuda or cuda:N, got 'gpu'"),
        ("gamma = 0", "key 'gamma' expects a number > 0 and <= 1"),
        ("val_size = 0", "key 'val_size' expects a number > 0 and < 1, got 0"),
        ("[model]\nhidden = [3]", "key 'model' expects one of auto, mlp, cnn, unet, got {"),
        ("[optimizer_settings]\nlr = 0.1", "unknown key 'optimizer_settings'"),
    ],
)
def test_bad_values_in_the_file(tmp_path, toml, expected):
    assert expected in config_error(tmp_path, toml + "\n")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"lr": "abc"}, "--lr expects a number > 0, got 'abc'"),
        ({"epochs": "ten"}, "--epochs expects an integer >= 1, got 'ten'"),
        ({"hidden": ["64", "x"]}, "--hidden expects a list of positive integers"),
        (
            {"betas": ["0.9", "2"]},
            "--betas expects two numbers in [0, 1) (--betas 0.9 0.999; betas = [0.9, 0.999]), "
            "got '0.9 2'",
        ),
        ({"schedule": "linear"}, "--schedule expects one of none, step, exponential"),
        ({"seed": "-1"}, "--seed expects an integer >= 0, got '-1'"),
    ],
)
def test_bad_flag_values(flags, expected):
    assert expected in config_error(**flags)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"val_size": "0.5", "test_size": "0.5"}, "val_size + test_size must be < 1"),
        (
            {"momentum": "0.9"},
            "momentum: applies to optimizer sgd or rmsprop, not optimizer 'adam'",
        ),
        ({"betas": ["0.8", "0.9"], "optimizer": "sgd"}, "betas: applies to optimizer adam"),
        ({"optimizer": "sgd", "nesterov": True}, "nesterov: Nesterov momentum requires momentum"),
        ({"gamma": "0.5"}, "gamma: applies to schedule step or exponential, not schedule 'none'"),
        ({"factor": "0.5", "schedule": "step"}, "factor: applies to schedule plateau"),
        ({"dataset": "csv"}, "dataset: 'csv' needs the csv key"),
        ({"target": "label"}, "target: applies to a csv file only"),
        ({"dataset": "iris", "csv": "x.csv"}, "dataset: give a dataset name or a csv file"),
    ],
)
def test_settings_that_contradict_each_other(flags, expected):
    assert expected in config_error(**flags)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match=r"config file '.*nope.toml' does not exist"):
        RunConfig.from_sources(toml_path=tmp_path / "nope.toml")
    assert "not valid TOML" in config_error(tmp_path, "lr = \n")


def test_check_flag_converts_one_value():
    assert check_flag("device", "cuda:0") == "cuda:0"
    with pytest.raises(ConfigError, match="--device expects cpu, cuda or cuda:N, got 'tpu'"):
        check_flag("device", "tpu")


def test_reading_toml_without_tomllib_or_tomli_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10 without tomli
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(ConfigError, match="needs Python 3.11\\+ or the tomli package"):
        RunConfig.from_sources(toml_path=write(tmp_path, "lr = 0.1\n"))


def test_every_dataset_name_is_a_loader_of_aprende_datasets():
    import aprende.datasets as datasets

    for name, choice in DATASETS.items():
        assert callable(getattr(datasets, choice.loader)), name


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "nadam", "radam"])
def test_every_adam_family_optimizer_is_built_with_the_configured_betas_and_eps(name):
    from aprende import nn, optim
    from aprende.cli.pipeline import build_optimizer

    config = from_dict({"optimizer": name, "betas": [0.8, 0.95], "eps": 1e-6, "lr": 0.01})
    optimizer = build_optimizer(config, nn.Linear(2, 1).parameters())
    expected = {"adam": optim.Adam, "adamw": optim.AdamW, "adamax": optim.Adamax}
    expected |= {"nadam": optim.NAdam, "radam": optim.RAdam}
    assert type(optimizer) is expected[name]
    group = optimizer.param_groups[0]
    assert group["betas"] == (0.8, 0.95) and group["eps"] == 1e-6 and group["lr"] == 0.01
