"""The settings of a training run: every key, its default, what it accepts, and TOML in and out.

``aprende train`` reads its settings from a flat TOML file (``--config run.toml``), then from
its flags (``--lr 0.01`` overrides ``lr = 0.01``); whatever is not given keeps the default of
``RunConfig``. Every value is checked on the way in: a mistake is a ``ConfigError`` whose
message is one line naming the key and what it accepts. The resolved settings are written back
as the run folder's ``config.toml``, which ``--config`` reads again::

    config = RunConfig.from_sources(toml_path="run.toml", flags={"lr": "0.01"})
    write_toml(config, "runs/x/config.toml")

The TOML file is flat (``lr = 0.01``, ``hidden = [128, 64]``), one key per setting, the same
names as the flags with ``_`` for ``-``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprende.datasets.images import IMAGE_DATASETS
from aprende.datasets.info import TASKS as DATASET_TASKS
from aprende.nn.mlp import ACTIVATIONS as MLP_ACTIVATIONS

GROUPS = ("data", "model", "optimizer", "schedule", "training")


class ConfigError(ValueError):
    """A setting that is unknown, or whose value the key does not accept (one-line message)."""


# ---- what each dataset name means ------------------------------------------------------------


@dataclass(frozen=True)
class DatasetChoice:
    """A dataset name of the CLI: the ``aprende.datasets`` loader and its arguments, and the
    run settings (``RunConfig`` keys) it trains with unless a TOML file or a flag sets them."""

    loader: str
    options: dict = field(default_factory=dict)
    synthetic: bool = False
    settings: dict = field(default_factory=dict)


DATASETS: dict[str, DatasetChoice] = {
    "iris": DatasetChoice("load_iris"),
    "wine": DatasetChoice("load_wine"),
    "breast_cancer": DatasetChoice("load_breast_cancer"),
    "digits": DatasetChoice("load_digits"),
    "diabetes": DatasetChoice("load_diabetes"),
    "linnerud": DatasetChoice("load_linnerud"),
    "xor": DatasetChoice("make_xor", {"n_samples": 400, "noise": 0.1}, True),
    "moons": DatasetChoice("make_moons", {"n_samples": 500, "noise": 0.2}, True),
    "circles": DatasetChoice("make_circles", {"n_samples": 500, "noise": 0.1}, True),
    "spirals": DatasetChoice("make_spirals", {"n_samples": 600}, True),
    "blobs": DatasetChoice("make_blobs", {"n_samples": 500, "centers": 3}, True),
    "sine": DatasetChoice("make_sine", {"n_samples": 500}, True),
    "segmentation": DatasetChoice("make_segmentation", {"n_samples": 600}, True),
    "multilabel": DatasetChoice("make_multilabel", {"n_samples": 600}, True),
    **{name: DatasetChoice(**choice) for name, choice in IMAGE_DATASETS.items()},
    # The IDX files of the user's own download (--idx-dir); the training and test files together.
    "mnist": DatasetChoice("load_idx_images", {"dataset": "mnist"}),
    "fashion_mnist": DatasetChoice("load_idx_images", {"dataset": "fashion_mnist"}),
}
IDX_DATASETS = ("mnist", "fashion_mnist")
TASKS = ("auto", *DATASET_TASKS)
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam")
SCHEDULES = ("none", "step", "exponential", "cosine", "plateau")
NORMALIZATIONS = ("standard", "minmax", "whitening", "none")
IMPUTE = ("none", "mean", "median", "drop")
ACTIVATIONS = tuple(MLP_ACTIVATIONS)
MODELS = ("auto", "mlp", "cnn", "unet")


# ---- kinds of values: what a key accepts, from TOML or from a flag's text ---------------------


@dataclass(frozen=True)
class Kind:
    """What a key accepts: ``accepts`` says it in words; ``convert(value, from_flag)`` returns
    the checked value or raises ValueError. Flags give text, TOML gives typed values."""

    accepts: str
    convert: Callable[[Any, bool], Any]
    metavar: str | None = None
    nargs: str | int | None = None
    is_flag_switch: bool = False


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value, from_flag: bool, integer: bool):
    """A flag's text parsed, or a TOML value of the right type (a bool is not a number);
    ValueError otherwise."""
    if from_flag and isinstance(value, str):
        return int(value) if integer else float(value)
    if integer and isinstance(value, int) and not isinstance(value, bool):
        return value
    if not integer and _is_number(value):
        return float(value)
    raise ValueError


def number(low=-math.inf, high=math.inf, *, low_open=False, high_open=False, integer=False):
    """A number (an integer with ``integer``) in the interval from ``low`` to ``high``."""
    noun = "an integer" if integer else "a number"
    bounds = []
    if low > -math.inf:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high < math.inf:
        bounds.append(f"{'<' if high_open else '<='} {high:g}")
    accepts = noun + (" " + " and ".join(bounds) if bounds else "")

    def convert(value, from_flag):
        value = _number(value, from_flag, integer)
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high or not math.isfinite(value):
            raise ValueError
        return value

    return Kind(accepts, convert, metavar="N" if integer else "X")


def choice(options: Sequence[str]):
    """One of the given names."""

    def convert(value, from_flag):
        if not isinstance(value, str) or value not in options:
            raise ValueError
        return value

    return Kind(f"one of {', '.join(options)}", convert, metavar="{" + ",".join(options) + "}")


def switch():
    """true or false (a flag pair ``--x`` / ``--no-x``)."""

    def convert(value, from_flag):
        if not isinstance(value, bool):
            raise ValueError
        return value

    return Kind("true or false", convert, is_flag_switch=True)


def widths():
    """A list of positive integers (possibly empty: no hidden layer)."""

    def convert(value, from_flag):
        if not isinstance(value, list | tuple):
            raise ValueError
        if from_flag:  # --hidden 128,64 as well as --hidden 128 64
            value = [part for v in value for part in str(v).split(",") if part]
        parsed = [_number(v, from_flag, integer=True) for v in value]
        if any(v <= 0 for v in parsed):
            raise ValueError
        return parsed

    accepts = "a list of positive integers (--hidden 128 64; hidden = [128, 64])"
    return Kind(accepts, convert, metavar="N", nargs="*")


def betas():
    """Two numbers in [0, 1): Adam's (β₁, β₂)."""

    def convert(value, from_flag):
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError
        parsed = [_number(v, from_flag, integer=False) for v in value]
        if not all(0.0 <= v < 1.0 for v in parsed):
            raise ValueError
        return parsed

    accepts = "two numbers in [0, 1) (--betas 0.9 0.999; betas = [0.9, 0.999])"
    return Kind(accepts, convert, metavar="B", nargs=2)


def text(pattern: str | None = None, accepts: str = "a string", metavar: str = "TEXT"):
    """A string (matching ``pattern`` when given)."""

    def convert(value, from_flag):
        if not isinstance(value, str) or (pattern and not re.fullmatch(pattern, value)):
            raise ValueError
        return value

    return Kind(accepts, convert, metavar=metavar)


def optional(kind: Kind, meaning: str):
    """``kind``, or unset (absent from the TOML file) meaning ``meaning``."""
    return Kind(f"{kind.accepts} (unset: {meaning})", kind.convert, metavar=kind.metavar)


def setting(default, group: str, kind: Kind, help: str):
    """A dataclass field with its group, kind and help text."""
    factory = (lambda: list(default)) if isinstance(default, list) else None
    metadata = {"group": group, "kind": kind, "help": help}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _delimiter(value) -> str:
    """A CSV field separator: ``,`` ``;`` a tab (spelt ``tab`` or ``\\t`` too), or ``""``."""
    spelt = {"tab": "\t", "\\t": "\t"}
    value = spelt.get(value, value) if isinstance(value, str) else value
    if value not in ("", ",", ";", "\t"):
        raise ValueError
    return value


# ---- the settings ----------------------------------------------------------------------------

_fraction = number(0.0, 1.0, low_open=True, high_open=True)
_non_negative = number(0.0)
_positive = number(0.0, low_open=True)


@dataclass
class RunConfig:
    """Every setting of ``aprende train``; the defaults are the main job (digits, 97%+).

    Groups: data (dataset, split, normalisation), model (the MLP), optimizer, schedule (the
    learning rate per epoch), training (epochs, batches, early stopping, where to write).
    """

    # data
    dataset: str = setting(
        "digits",
        "data",
        choice([*DATASETS, "csv"]),
        "a bundled or synthetic dataset (see 'aprende datasets'); 'csv' with --csv",
    )
    csv: str = setting(
        "", "data", text(accepts="a path to a CSV file", metavar="PATH"), "train on a CSV file"
    )
    target: str = setting(
        "",
        "data",
        text(accepts="a column name or index", metavar="COLUMN"),
        "the CSV's target column, by name or index (default: the last column)",
    )
    idx_dir: str = setting(
        "",
        "data",
        text(accepts="a folder of IDX files", metavar="FOLDER"),
        "with --dataset mnist or fashion_mnist: the folder of the IDX files you downloaded",
    )
    delimiter: str = setting(
        "",
        "data",
        Kind(
            "',', ';', tab (or '\\t'), or empty to find it from the file",
            lambda value, from_flag: _delimiter(value),
            metavar="SEP",
        ),
        "the CSV's field separator (default: found among ',' ';' tab from its first lines)",
    )
    impute: str = setting(
        "none",
        "data",
        choice(IMPUTE),
        "missing feature values in a CSV: none (refused, naming the rows), mean or median (of "
        "the training split, saved with the run, applied in predict), drop (the rows)",
    )
    task: str = setting(
        "auto",
        "data",
        choice(TASKS),
        "the task; 'auto' takes the dataset's (a CSV's is inferred from its target column)",
    )
    normalization: str = setting(
        "standard",
        "data",
        choice(NORMALIZATIONS),
        "input normalisation fitted on the training split: z-norm, min-max, PCA whitening",
    )
    scale_target: bool = setting(
        True,
        "data",
        switch(),
        "standardise regression targets (on the training split); predictions are mapped back",
    )
    val_size: float = setting(0.15, "data", _fraction, "fraction of the data for validation")
    test_size: float = setting(0.15, "data", _fraction, "fraction of the data for the test")
    seed: int = setting(
        0, "data", number(0, integer=True), "seed of the split, the weights and the shuffling"
    )
    # model
    model: str = setting(
        "auto",
        "model",
        choice(MODELS),
        "the network: mlp, cnn (LeNet-style, for image classes), unet (per-pixel outputs); "
        "auto: a CNN for image classification, a U-Net for per-pixel tasks on images, else an MLP",
    )
    channels: int = setting(
        16,
        "model",
        number(1, integer=True),
        "cnn: channels of the first convolution (the second has twice as many); unet: of the "
        "first level (doubling at each level down)",
    )
    depth: int = setting(2, "model", number(1, 5, integer=True), "unet: levels down and up")
    hidden: list = setting([128], "model", widths(), "hidden layer widths (none: a linear model)")
    activation: str = setting(
        "relu", "model", choice(ACTIVATIONS), "activation of the hidden layers"
    )
    dropout: float = setting(
        0.1, "model", number(0.0, 1.0, high_open=True), "dropout rate after each hidden layer"
    )
    noise: float = setting(0.0, "model", _non_negative, "std of Gaussian noise on the inputs")
    batch_norm: bool = setting(False, "model", switch(), "BatchNorm1d after each hidden Linear")
    # optimizer
    optimizer: str = setting("adam", "optimizer", choice(OPTIMIZERS), "the optimizer")
    lr: float = setting(1e-3, "optimizer", _positive, "learning rate η")
    momentum: float = setting(0.0, "optimizer", _non_negative, "momentum (sgd, rmsprop)")
    nesterov: bool = setting(False, "optimizer", switch(), "Nesterov momentum (sgd)")
    betas: list = setting([0.9, 0.999], "optimizer", betas(), "(β₁, β₂) of the adam family")
    eps: float = setting(
        1e-8, "optimizer", _positive, "ε added to the denominator (not sgd; adagrad: 1e-10)"
    )
    alpha: float = setting(
        0.99, "optimizer", number(0.0, 1.0, high_open=True), "smoothing constant of rmsprop"
    )
    weight_decay: float = setting(
        1e-4, "optimizer", _non_negative, "L2 weight decay (adamw: decoupled)"
    )
    l1: float = setting(0.0, "optimizer", _non_negative, "L1 penalty λ₁ Σ|w| on the weights")
    grad_clip: float = setting(
        0.0, "optimizer", _non_negative, "clip the gradient norm to this (0: no clipping)"
    )
    # schedule
    schedule: str = setting(
        "none", "schedule", choice(SCHEDULES), "learning-rate schedule, stepped once per epoch"
    )
    step_size: int = setting(10, "schedule", number(1, integer=True), "step: epochs between decays")
    gamma: float | None = setting(
        None,
        "schedule",
        optional(number(0.0, 1.0, low_open=True), "0.1 for step, 0.95 for exponential"),
        "step/exponential: decay factor η ← γ η",
    )
    min_lr: float = setting(
        0.0, "schedule", _non_negative, "exponential/plateau: floor; cosine: η_min"
    )
    factor: float = setting(
        0.1,
        "schedule",
        number(0.0, 1.0, low_open=True, high_open=True),
        "plateau: η ← factor η when the validation loss stalls",
    )
    lr_patience: int = setting(
        5, "schedule", number(0, integer=True), "plateau: epochs without improvement to wait"
    )
    # training
    epochs: int = setting(100, "training", number(1, integer=True), "maximum number of epochs")
    batch_size: int = setting(32, "training", number(1, integer=True), "mini-batch size")
    patience: int = setting(
        15,
        "training",
        number(0, integer=True),
        "early stopping on the validation loss after this many epochs without improvement, "
        "restoring the best weights (0: off)",
    )
    device: str = setting(
        "cpu",
        "training",
        text(r"cpu|cuda(:\d+)?", "cpu, cuda or cuda:N", "DEVICE"),
        "where to train",
    )
    out: str = setting(
        "",
        "training",
        text(accepts="a folder path", metavar="FOLDER"),
        "the run folder (default: runs/<dataset>-<hash of the settings>)",
    )

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_sources(
        cls, toml_path: str | Path | None = None, flags: dict | None = None
    ) -> RunConfig:
        """Defaults, overridden by the dataset's own settings (``DatasetChoice.settings``),
        overridden by the TOML file, overridden by flags (text values as typed); checked and
        resolved. Raises ConfigError (one line) for any mistake."""
        values = {}
        if toml_path is not None:
            values.update(_checked(read_toml(toml_path), where=str(toml_path), from_flag=False))
        values.update(_checked(flags or {}, where=None, from_flag=True))
        choice = DATASETS.get(values.get("dataset", default_of("dataset")))
        if choice is not None:
            own = _checked(choice.settings, where="the dataset's settings", from_flag=False)
            values = {**own, **values}
        config = cls(**values)
        config.resolve()
        return config

    def resolve(self) -> None:
        """Check settings against each other and fill in what depends on others."""
        if self.val_size + self.test_size >= 1:
            raise ConfigError(
                f"val_size + test_size must be < 1 (they leave no training data), got "
                f"{self.val_size} + {self.test_size}"
            )
        if self.csv:
            if self.dataset not in ("csv", default_of("dataset")):
                raise ConfigError(
                    f"dataset: give a dataset name or a csv file, not both (dataset = "
                    f"{self.dataset!r}, csv = {self.csv!r})"
                )
            self.dataset = "csv"
            self.csv = str(Path(self.csv).expanduser().resolve())
        elif self.dataset == "csv":
            raise ConfigError("dataset: 'csv' needs the csv key (--csv PATH) naming the file")
        elif self.target:
            raise ConfigError("target: applies to a csv file only (--csv PATH --target COLUMN)")
        elif self.delimiter:
            raise ConfigError("delimiter: applies to a csv file only (--csv PATH --delimiter SEP)")
        elif self.impute != "none":
            raise ConfigError("impute: applies to a csv file only (--csv PATH --impute mean)")
        if self.idx_dir and self.dataset not in IDX_DATASETS:
            raise ConfigError(
                f"idx_dir: applies to --dataset {' or '.join(IDX_DATASETS)}, not {self.dataset!r}"
            )
        if self.idx_dir:
            self.idx_dir = str(Path(self.idx_dir).expanduser().resolve())
        _only_for(self, "optimizer", self.optimizer, APPLIES_TO_OPTIMIZER)
        _only_for(self, "schedule", self.schedule, APPLIES_TO_SCHEDULE)
        if self.nesterov and self.momentum <= 0:
            raise ConfigError("nesterov: Nesterov momentum requires momentum > 0")
        if self.gamma is None and self.schedule in _GAMMA_DEFAULTS:
            self.gamma = _GAMMA_DEFAULTS[self.schedule]

    # ---- views -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The settings as a plain dict (JSON- and TOML-able; unset optional keys left out)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def differences(self, other: RunConfig, ignore: Sequence[str] = ()) -> list[str]:
        """The keys whose values differ, as ``key: this -> other`` lines."""
        mine, theirs = dataclasses.asdict(self), dataclasses.asdict(other)
        return [
            f"{k}: {mine[k]!r} -> {theirs[k]!r}"
            for k in mine
            if k not in ignore and mine[k] != theirs[k]
        ]


APPLIES_TO_OPTIMIZER = {
    "momentum": ("sgd", "rmsprop"),
    "nesterov": ("sgd",),
    "betas": ("adam", "adamw", "adamax", "nadam", "radam"),
    "eps": ("adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam"),
    "alpha": ("rmsprop",),
}
APPLIES_TO_SCHEDULE = {
    "step_size": ("step",),
    "gamma": ("step", "exponential"),
    "min_lr": ("exponential", "cosine", "plateau"),
    "factor": ("plateau",),
    "lr_patience": ("plateau",),
}
_GAMMA_DEFAULTS = {"step": 0.1, "exponential": 0.95}


def settings() -> list[dataclasses.Field]:
    """The fields of ``RunConfig``, in order (each with ``metadata`` group, kind, help)."""
    return list(dataclasses.fields(RunConfig))


def default_of(name: str):
    """The default value of a key."""
    spec = next(f for f in settings() if f.name == name)
    return spec.default_factory() if spec.default is dataclasses.MISSING else spec.default


def _only_for(config: RunConfig, owner: str, value: str, applies: dict) -> None:
    """A key changed from its default that the chosen optimizer/schedule ignores is a mistake
    (it would silently do nothing)."""
    for key, allowed in applies.items():
        if value not in allowed and getattr(config, key) not in (None, default_of(key)):
            raise ConfigError(
                f"{key}: applies to {owner} {' or '.join(allowed)}, not {owner} {value!r} "
                f"(remove it, or choose {owner} {allowed[0]!r})"
            )


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def check_flag(key: str, value):
    """The value of flag ``--key`` (text) converted and checked as the config key ``key``."""
    return _checked({key: value}, where=None, from_flag=True)[key]


def _checked(values: dict, where: str | None, from_flag: bool) -> dict:
    """Each value converted by its key's kind; a ConfigError naming the key otherwise."""
    kinds = {f.name: f.metadata["kind"] for f in settings()}
    checked = {}
    for key, value in values.items():
        if key not in kinds:
            close = difflib.get_close_matches(key, kinds, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(kinds)}"
            raise ConfigError(f"{where}: unknown key {key!r} ({hint})")
        try:
            checked[key] = kinds[key].convert(value, from_flag)
        except ValueError:
            name = flag_name(key) if from_flag else f"{where}: key {key!r}"
            shown = " ".join(value) if from_flag and isinstance(value, list) else value
            raise ConfigError(f"{name} expects {kinds[key].accepts}, got {shown!r}") from None
    return checked


# ---- TOML in and out -------------------------------------------------------------------------


def _toml_module():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise ConfigError(
                "reading a TOML config needs Python 3.11+ or the tomli package: pip install tomli"
            ) from None
    return tomllib


def read_toml(path: str | Path) -> dict:
    """The key/value pairs of a flat TOML file; ConfigError for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    tomllib = _toml_module()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def toml_value(value) -> str:
    """One value in TOML syntax: strings, booleans, integers, floats and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"toml_value: cannot write a {type(value).__name__} as TOML")


def to_toml(config: RunConfig, leave_out: Sequence[str] = ("out",)) -> str:
    """The resolved settings as a flat TOML document, grouped under comments with each key's
    help; ``leave_out`` keys are not written (the run folder is where the file lives)."""
    values = config.to_dict()
    lines = ["# aprende run configuration (aprende train --config this-file.toml)"]
    for group in GROUPS:
        lines.append(f"\n# ---- {group}")
        for spec in settings():
            if spec.metadata["group"] != group or spec.name in leave_out:
                continue
            if spec.name in values:
                lines.append(f"{spec.name} = {toml_value(values[spec.name])}")
    return "\n".join(lines) + "\n"


def write_toml(config: RunConfig, path: str | Path) -> Path:
    """Write ``to_toml(config)`` to ``path``."""
    path = Path(path)
    path.write_text(to_toml(config), encoding="utf-8")
    return path


def load_run_config(path: str | Path) -> RunConfig:
    """The settings of a run folder's ``config.toml`` (or of a TOML file)."""
    path = Path(path)
    return RunConfig.from_sources(toml_path=path / "config.toml" if path.is_dir() else path)


def from_dict(values: dict) -> RunConfig:
    """Settings from a dict such as ``to_dict()`` (e.g. the copy stored in a checkpoint)."""
    config = RunConfig(**_checked(values, where="checkpoint config", from_flag=False))
    config.resolve()
    return config
