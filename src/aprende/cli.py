"""The ``aprende`` command: train, evaluate, predict, lr-find, datasets, report.

``aprende train`` with no arguments is the main job: an MLP on the bundled handwritten digits,
inputs standardised on the training split, a seeded stratified train/validation/test split,
Adam, early stopping on the validation loss, then the test split scored once with the chosen
(best validation) weights. Every run writes a folder (``runs/<dataset>-<date>-<time>``)::

    config.toml        the resolved settings (aprende train --config config.toml repeats it)
    history.csv        one row per epoch: loss and metric, training and validation, lr, time
    checkpoints/       epoch-NNNN and best (*.safetensors + *.json, with the preprocessing)
    model.txt          the model summary: layers, output shapes, parameter counts
    metrics.json       the test metrics
    plots/*.png        learning curves, learning rate, confusion matrix or predicted-vs-true
    report.html        all of it in one self-contained page

Every mistake in a flag or a config file ends the command with one line on stderr naming the
key and what it accepts, and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aprende import config as settings_module
from aprende import nn
from aprende.config import DATASETS, ConfigError, RunConfig, flag_name
from aprende.report import (
    as_columns,
    headline,
    is_regression,
    predicted_labels,
    print_scores,
    probabilities,
    score,
)

PROG = "aprende"
EXIT_USAGE = 2


class UsageError(ConfigError):
    """A mistake in how the command was called (a path, a file's content): one line, exit 2."""


# ---- argument parsing ------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block): ``aprende train: error: ...``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _shown(value) -> str:
    if isinstance(value, list):
        return " ".join(map(str, value)) if value else "none"
    if value is None:
        return "unset"
    return repr(value) if value == "" else str(value)


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per ``RunConfig`` key, grouped as the config file is; none has an argparse
    default, so only the flags given override the file."""
    parser.add_argument(
        "--config",
        dest="config_file",
        metavar="FILE.toml",
        help="read the settings from a TOML file (flat 'key = value' lines; the flags override "
        "it; a run folder's config.toml works)",
    )
    groups = {
        group: parser.add_argument_group(f"{group} settings (config keys of the same name)")
        for group in settings_module.GROUPS
    }
    for spec in settings_module.settings():
        kind = spec.metadata["kind"]
        default = spec.default_factory() if callable(spec.default_factory) else spec.default
        words = spec.metadata["help"]
        if "number" in kind.accepts or "integer" in kind.accepts:
            words += f"; {kind.accepts}"
        if default != "":  # empty text keys say what their absence means in their help
            words = f"{words} (default: {_shown(default)})"
        words = words.replace("%", "%%")
        options = {"dest": spec.name, "default": argparse.SUPPRESS, "help": words}
        if kind.is_flag_switch:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options.update(metavar=kind.metavar, nargs=kind.nargs)
        groups[spec.metadata["group"]].add_argument(flag_name(spec.name), **options)


def build_parser() -> ArgumentParser:
    """The ``aprende`` parser with its six subcommands."""
    parser = ArgumentParser(
        prog=PROG,
        description="aprende: train, evaluate and use neural networks from the command line. "
        "'aprende train' with no arguments trains an MLP on the bundled handwritten digits.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train a model and write a run folder",
        description="Train an MLP: load the data, split it (train/validation/test, seeded, "
        "stratified for classes), normalise the inputs on the training split, train with "
        "early stopping on the validation loss, then score the test split once with the best "
        "weights. Writes config.toml, history.csv, checkpoints/, model.txt, metrics.json, "
        "plots/ and report.html into the run folder. Run again with the same --out to resume.",
        epilog="examples: 'aprende train' (the digits); 'aprende train --dataset "
        "breast_cancer --hidden 32 --lr 0.003'; 'aprende train --csv data.csv --target label "
        "--out runs/mine'; 'aprende train --config runs/mine/config.toml --seed 1 --out "
        "runs/mine-seed1'.",
    )
    _add_setting_flags(train)
    train.set_defaults(handler=command_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved run on its test split",
        description="Rebuild a run's model and data split, load its best checkpoint and print "
        "the metrics of the slides on the test split: per class TP, FP, FN, TN, TPR, FNR, TNR, "
        "FPR, PPV, NPV, F1 and their averages, and the confusion matrix (regression: MSE, "
        "RMSE, MAE and R² per output).",
    )
    _add_run_arguments(evaluate)
    evaluate.add_argument(
        "--split",
        choices=("train", "val", "test"),
        default="test",
        help="which split to score (default: test)",
    )
    evaluate.set_defaults(handler=command_evaluate)

    predict = commands.add_parser(
        "predict",
        help="predict a CSV file with a saved run",
        description="Apply a run's saved preprocessing and model to the rows of a CSV file and "
        "write one prediction per row: the class and each class's probability (classification) "
        "or the predicted values (regression). The input holds the feature columns, with the "
        "training names as header (other columns, such as the target, are ignored) or exactly "
        "the features in order without a header.",
    )
    _add_run_arguments(predict)
    predict.add_argument("input", metavar="INPUT.csv", help="the rows to predict")
    predict.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT.csv",
        default="predictions.csv",
        help="where to write the predictions (default: predictions.csv; '-' for stdout)",
    )
    predict.set_defaults(handler=command_predict)

    lr_find = commands.add_parser(
        "lr-find",
        help="the learning-rate range test (plot and suggestion)",
        description="Train for a few hundred mini-batches while the learning rate grows "
        "exponentially from --start-lr to --end-lr, and plot the loss against it: too low (the "
        "loss barely moves), good (it falls fast), too high (it blows up). Prints the suggested "
        "rate and writes lr_find.png and lr_find.csv into --out. Takes the same settings as "
        "'train'.",
    )
    _add_setting_flags(lr_find)
    lr_find.add_argument("--start-lr", type=float, default=1e-7, help="first rate (default: 1e-07)")
    lr_find.add_argument("--end-lr", type=float, default=10.0, help="last rate (default: 10.0)")
    lr_find.add_argument(
        "--num-iter", type=int, default=100, help="mini-batches to try (default: 100)"
    )
    lr_find.set_defaults(handler=command_lr_find)

    datasets = commands.add_parser(
        "datasets",
        help="list the bundled and synthetic datasets",
        description="List the datasets 'aprende train --dataset NAME' accepts, with their task "
        "and size (bundled real data sets and seeded synthetic ones). Any CSV file works too: "
        "'aprende train --csv FILE --target COLUMN'.",
    )
    datasets.set_defaults(handler=command_datasets)

    report = commands.add_parser(
        "report",
        help="regenerate a run folder's report.html",
        description="Write RUN/report.html again from the run folder's files: one "
        "self-contained page (plots embedded) that opens in any browser without a network.",
    )
    report.add_argument("run", metavar="RUN", help="a run folder")
    report.set_defaults(handler=command_report)
    parser.subcommands = commands.choices
    return parser


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run",
        metavar="RUN",
        help="a run folder (runs/NAME) or a checkpoint file (checkpoints/best.json)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="the weights to load (default: the run's best checkpoint)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _unknown_flags(parser, args, unknown)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"{PROG} {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:  # a path given that cannot be written or read
        print(f"{PROG} {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _unknown_flags(parser, args, unknown: list[str]) -> None:
    """One line for flags no command knows, with the closest known flag."""
    subparser = parser.subcommands.get(args.command, parser)
    known = [s for action in subparser._actions for s in action.option_strings]
    flag = next((u for u in unknown if u.startswith("-")), unknown[0])
    close = difflib.get_close_matches(flag.split("=")[0], known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    subparser.error(f"unknown argument {flag!r}{hint}")


# ---- data: load, split, preprocess -----------------------------------------------------------


@dataclass
class Data:
    """A dataset split three ways, raw (before preprocessing), and what a model needs to know.

    ``spec`` is what a checkpoint keeps to rebuild the model and read its outputs: the task,
    feature and target names, the number of inputs and outputs, and (per-element tasks) the
    number of positions.
    """

    spec: dict
    X: dict
    y: dict


def _load_dataset(config: RunConfig):
    """``(X, y, info)`` of the configured dataset or CSV file; clear one-line errors."""
    from aprende import datasets

    if config.dataset == "csv":
        path = Path(config.csv)
        if not path.is_file():
            raise UsageError(f"csv: the file {str(path)!r} does not exist")
        target = config.target or -1
        if isinstance(target, str) and target.lstrip("-").isdigit():
            target = int(target)
        task = None if config.task == "auto" else config.task
        try:
            bundle = datasets.load_csv(path, target=target, task=task)
        except (OSError, ValueError, KeyError, IndexError) as error:
            raise UsageError(f"csv: cannot read {path}: {_one_line(error)}") from None
        _warn_many_classes(bundle.info, config)
        return bundle
    choice = DATASETS[config.dataset]
    options = dict(choice.options)
    if choice.synthetic:
        options["seed"] = config.seed
    try:
        return getattr(datasets, choice.loader)(**options)
    except ImportError as error:
        raise UsageError(f"dataset {config.dataset!r}: {_one_line(error)}") from None


def _warn_many_classes(info, config: RunConfig) -> None:
    """Whole numbers in a target column read as classes; say so when they look like a
    quantity (more classes than a tenth of the examples)."""
    classes = info.n_classes or 0
    if config.task == "auto" and info.task == "multiclass" and classes > info.n_samples / 10:
        print(
            f"warning: the csv target column {config.target or '(the last one)'} was read as "
            f"{classes} classes (whole numbers); pass --task regression if it is a quantity",
            file=sys.stderr,
        )


def load_data(config: RunConfig) -> Data:
    """Load and split the data as ``config`` says (seeded, stratified for class labels)."""
    from aprende.data import train_val_test_split

    X, y, info = _load_dataset(config)
    task = info.task
    if config.task not in ("auto", task):
        raise UsageError(
            f"task: {config.task!r} does not fit dataset {info.name!r}, whose task is {task!r} "
            "(use task = 'auto')"
        )
    X = X.reshape(len(X), -1)
    if task == "per_element":
        y = y.reshape(len(y), -1)
    parts = train_val_test_split(
        X,
        y,
        val_size=config.val_size,
        test_size=config.test_size,
        stratify=y if task in ("binary", "multiclass") else None,
        seed=config.seed,
    )
    n_classes = len(info.target_names)
    outputs = {
        "binary": 1,
        "multiclass": n_classes,
        "multilabel": n_classes,
        "per_element": n_classes * (y.shape[1] if y.ndim > 1 else 1),
        "regression": 1,
        "multioutput_regression": y.shape[1] if y.ndim > 1 else 1,
    }[task]
    spec = {
        "name": info.name,
        "task": task,
        "description": info.description,
        "feature_names": list(info.feature_names),
        "target_names": list(info.target_names),
        "n_features": X.shape[1],
        "n_outputs": outputs,
        "positions": y.shape[1] if task == "per_element" else None,
        "sizes": {"train": len(parts[0]), "val": len(parts[2]), "test": len(parts[4])},
    }
    names = ("train", "val", "test")
    return Data(
        spec=spec,
        X={name: parts[2 * i] for i, name in enumerate(names)},
        y={name: parts[2 * i + 1] for i, name in enumerate(names)},
    )


def _make_scaler(name: str):
    from aprende.data import MinMaxScaler, PCAWhitening, StandardScaler

    return {"standard": StandardScaler, "minmax": MinMaxScaler, "whitening": PCAWhitening}[name]()


class Preprocessing:
    """The input normalisation and (regression) target scaling of a run, fitted on the
    training split only; ``objects`` (name -> scaler) is what ``fit(preprocessing=...)`` saves
    in every checkpoint, and ``load`` restores them from one."""

    def __init__(self, config: RunConfig, task: str):
        self.task = task
        self.objects = {}
        if config.normalization != "none":
            self.objects["inputs"] = _make_scaler(config.normalization)
        if is_regression(task) and config.scale_target:
            self.objects["targets"] = _make_scaler("standard")

    def fit(self, data: Data) -> Preprocessing:
        if "inputs" in self.objects:
            self.objects["inputs"].fit(data.X["train"])
        if "targets" in self.objects:
            self.objects["targets"].fit(as_columns(data.y["train"]))
        return self

    def load(self, saved: dict, source: str) -> Preprocessing:
        """Restore the fitted statistics from a checkpoint's saved state."""
        stored = saved["state"].get("preprocessing") or {}
        for name, obj in self.objects.items():
            if name not in stored:
                raise UsageError(
                    f"checkpoint {source} holds no {name!r} preprocessing, which this run's "
                    "settings need: it comes from another run"
                )
            try:
                obj.load_state_dict(stored[name])
            except (KeyError, ValueError) as error:
                raise UsageError(f"checkpoint {source}: {_one_line(error)}") from None
        return self

    def inputs(self, X: np.ndarray) -> np.ndarray:
        scaler = self.objects.get("inputs")
        X = np.asarray(X, dtype=np.float32)
        if scaler is not None:
            expected = scaler.n_features_in_
            if X.shape[1] != expected:
                raise UsageError(
                    f"the inputs have {X.shape[1]} features; the run was trained on {expected}"
                )
            X = scaler.transform(X)
        return np.asarray(X, dtype=np.float32)

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss takes them."""
        if self.task == "binary":
            return np.asarray(y, dtype=np.float32).reshape(-1, 1)
        if self.task == "multilabel":
            return np.asarray(y, dtype=np.float32)
        if is_regression(self.task):
            y = as_columns(y)
            scaler = self.objects.get("targets")
            return np.asarray(scaler.transform(y) if scaler else y, dtype=np.float32)
        return np.asarray(y, dtype=np.int64)

    def outputs(self, outputs: np.ndarray) -> np.ndarray:
        """Model outputs back on the targets' scale (regression); unchanged otherwise."""
        scaler = self.objects.get("targets")
        return scaler.inverse_transform(outputs) if scaler is not None else outputs


def _loader(X, y, batch_size: int, shuffle: bool = False, seed: int | None = None):
    from aprende import tensor
    from aprende.data import DataLoader, TensorDataset

    dataset = TensorDataset(tensor(X), tensor(y))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=seed)


# ---- the model -------------------------------------------------------------------------------


def _criterion(task: str):
    if task in ("multiclass", "per_element"):
        return nn.CrossEntropyLoss()
    if task in ("binary", "multilabel"):
        return nn.BCEWithLogitsLoss()
    return nn.MSELoss()


def build_model(config: RunConfig, spec: dict):
    """The configured MLP for ``spec``'s inputs and outputs (per-element tasks: the outputs
    reshaped to (N, C, L), the class dimension second as ``CrossEntropyLoss`` wants)."""
    mlp = nn.MLP(
        spec["n_features"],
        config.hidden,
        spec["n_outputs"],
        activation=config.activation,
        batch_norm=config.batch_norm,
        dropout=config.dropout,
        noise=config.noise,
    )
    if spec["task"] != "per_element":
        return mlp
    return PerElementClassifier(mlp, len(spec["target_names"]), spec["positions"])


class PerElementClassifier(nn.Module):
    """A network whose C·L outputs are read as C class scores at each of L positions:
    (N, D) -> (N, C, L), the class dimension second as ``CrossEntropyLoss`` wants."""

    def __init__(self, body: nn.Module, n_classes: int, positions: int):
        super().__init__()
        self.body, self.n_classes, self.positions = body, n_classes, positions

    def forward(self, x):
        return self.body(x).reshape(x.shape[0], self.n_classes, self.positions)


def build_optimizer(config: RunConfig, parameters):
    """The configured optimizer, with only the options that apply to it."""
    from aprende import optim

    common = {"lr": config.lr, "weight_decay": config.weight_decay}
    name = config.optimizer
    if name == "sgd":
        return optim.SGD(parameters, momentum=config.momentum, nesterov=config.nesterov, **common)
    if name == "adagrad":
        return optim.Adagrad(parameters, eps=_eps(config, 1e-10), **common)
    if name == "rmsprop":
        return optim.RMSprop(
            parameters, alpha=config.alpha, eps=config.eps, momentum=config.momentum, **common
        )
    cls = optim.Adam if name == "adam" else optim.AdamW
    return cls(parameters, betas=tuple(config.betas), eps=config.eps, **common)


def _eps(config: RunConfig, default: float) -> float:
    """Adagrad's own default ε (1e-10) unless ``eps`` was changed from the common default."""
    return default if config.eps == settings_module.default_of("eps") else config.eps


def build_scheduler(config: RunConfig, optimizer):
    """The configured learning-rate schedule (None for 'none')."""
    from aprende.optim import lr_scheduler

    if config.schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    if config.schedule == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=config.gamma, min_lr=config.min_lr)
    if config.schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs, eta_min=config.min_lr)
    if config.schedule == "plateau":
        return lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.factor, patience=config.lr_patience, min_lr=config.min_lr
        )
    return None


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        from aprende import backend

        if not backend.cuda_is_available():
            raise UsageError(
                f"device: {device!r} is not available here (it needs CuPy and an NVIDIA GPU: "
                "pip install 'aprende[gpu]'); use --device cpu"
            )


# ---- outputs -> predictions -> metrics -------------------------------------------------------


def model_outputs(model, X: np.ndarray, device: str) -> np.ndarray:
    """The model's raw outputs for X (eval mode, no graph), as a NumPy array."""
    from aprende import backend
    from aprende.training import predict

    return backend.to_numpy(predict(model, X, device=device).data)


# ---- train -----------------------------------------------------------------------------------


def config_from_args(args) -> RunConfig:
    """The settings: defaults, then ``--config FILE``, then the flags given."""
    keys = {spec.name for spec in settings_module.settings()}
    flags = {k: v for k, v in vars(args).items() if k in keys}
    return RunConfig.from_sources(toml_path=args.config_file, flags=flags)


def _run_folder(config: RunConfig, suffix: str = "") -> Path:
    """``--out``, or a new ``runs/<dataset>[-suffix]-<date>-<time>`` folder."""
    if config.out:
        return Path(config.out)
    name = Path(config.csv).stem if config.dataset == "csv" else config.dataset
    base = Path("runs") / f"{name}{suffix}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


_MAY_CHANGE_ON_RESUME = ("out", "device", "epochs", "patience")


def _check_resumable(folder: Path, config: RunConfig) -> bool:
    """Whether ``folder`` holds a run to resume; an error when its settings differ."""
    if not (folder / "checkpoints").is_dir() or not (folder / "config.toml").is_file():
        return False
    previous = settings_module.load_run_config(folder)
    changed = previous.differences(config, ignore=_MAY_CHANGE_ON_RESUME)
    if changed:
        raise UsageError(
            f"out: {folder} holds a run with other settings ({'; '.join(changed)}): choose "
            "another --out, or repeat its settings (--config "
            f"{folder / 'config.toml'}) to resume it"
        )
    return True


def _fit_callbacks(config: RunConfig, folder: Path) -> list:
    from aprende.training import CSVLogger, EarlyStopping

    callbacks = [CSVLogger(folder / "history.csv")]
    if config.patience > 0:
        callbacks.append(
            EarlyStopping(patience=config.patience, restore_best_weights=True, verbose=1)
        )
    return callbacks


def _chosen_checkpoint(directory: Path) -> Path | None:
    """The best checkpoint (lowest validation loss), else the newest."""
    from aprende.training.checkpoint import best_checkpoint, latest_checkpoint

    return best_checkpoint(directory) or latest_checkpoint(directory)


def command_train(args) -> int:
    """``aprende train``: train, score the test split once, write the run folder."""
    import aprende
    from aprende.training import CheckpointError, NonFiniteLossError, fit

    config = config_from_args(args)
    _check_device(config.device)
    folder = _run_folder(config)
    resuming = _check_resumable(folder, config)
    data = load_data(config)
    spec = data.spec
    aprende.manual_seed(config.seed)
    preprocessing = Preprocessing(config, spec["task"]).fit(data)
    model = build_model(config, spec)
    optimizer = build_optimizer(config, model.parameters())
    scheduler = build_scheduler(config, optimizer)
    criterion = _criterion(spec["task"])

    folder.mkdir(parents=True, exist_ok=True)
    settings_module.write_toml(config, folder / "config.toml")
    summary = model.summary(input_size=(1, spec["n_features"]))
    (folder / "model.txt").write_text(summary + "\n", encoding="utf-8")
    sizes = spec["sizes"]
    print(
        f"{spec['name']}: {spec['task']} task, {sizes['train']} training / {sizes['val']} "
        f"validation / {sizes['test']} test examples, {spec['n_features']} features"
    )
    print(summary)
    print(f"Run folder: {folder}" + (" (resuming)" if resuming else ""))

    loaders = {
        split: _loader(
            preprocessing.inputs(data.X[split]),
            preprocessing.targets(data.y[split]),
            config.batch_size if split == "train" else 1024,
            shuffle=split == "train",
            seed=config.seed if split == "train" else None,
        )
        for split in ("train", "val")
    }
    began = time.perf_counter()
    try:
        history = fit(
            model,
            optimizer,
            criterion,
            loaders["train"],
            loaders["val"],
            epochs=config.epochs,
            metrics=["r2"] if is_regression(spec["task"]) else ["accuracy"],
            callbacks=_fit_callbacks(config, folder),
            scheduler=scheduler,
            device=config.device,
            checkpoint_dir=folder / "checkpoints",
            grad_clip=config.grad_clip or None,
            l1=config.l1,
            preprocessing=preprocessing.objects,
            config={"run": config.to_dict(), "dataset": spec},
        )
    except NonFiniteLossError as error:
        print(f"{PROG} train: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except CheckpointError as error:  # resuming from a checkpoint that does not fit
        raise UsageError(f"out: cannot resume {folder}: {_one_line(error)}") from None
    seconds = time.perf_counter() - began

    chosen = read_checkpoint(_chosen_checkpoint(folder / "checkpoints"))
    restore_weights(model, chosen, config.device)
    outputs = preprocessing.outputs(
        model_outputs(model, preprocessing.inputs(data.X["test"]), config.device)
    )
    scores = score(spec, data.y["test"], outputs)
    scores.update(_run_facts(spec, history, chosen, seconds))
    print(
        f"\nTest split ({sizes['test']} examples), scored once with the weights of epoch "
        f"{scores['best_epoch']} (lowest validation loss):"
    )
    print_scores(spec, data.y["test"], outputs, scores)
    (folder / "metrics.json").write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
    write_plots(folder, spec, history, data.y["test"], outputs, scores)
    from aprende.report import write_report

    report = write_report(folder)
    print(headline(scores))
    print(f"Run folder: {folder} (open {report} in a browser)")
    return 0


def read_checkpoint(path: Path | None) -> dict:
    """The saved state of a checkpoint file (one-line errors for a missing or bad one)."""
    from aprende.training.checkpoint import CheckpointError, load_state

    if path is None:
        raise UsageError("no checkpoint found in the run folder")
    try:
        return load_state(path)
    except CheckpointError as error:
        raise UsageError(_one_line(error)) from None


def restore_weights(model, saved: dict, device: str) -> None:
    """Load a checkpoint's weights into ``model`` (a one-line error when they do not fit)."""
    from aprende.training.checkpoint import CheckpointError, restore_model

    try:
        restore_model(model, saved)
    except CheckpointError as error:
        raise UsageError(_one_line(error)) from None
    model.to(device)


def _run_facts(spec: dict, history, chosen: dict, seconds: float) -> dict:
    epochs_run = len(history)
    return {
        "dataset": spec["name"],
        "description": spec["description"],
        "split": "test",
        "sizes": spec["sizes"],
        "best_epoch": int(chosen["epoch"]) + 1,
        "epochs_run": epochs_run if epochs_run else int(chosen["epoch"]) + 1,
        "train_seconds": round(seconds, 3),
    }


def write_plots(folder: Path, spec: dict, history, y_true, outputs, scores: dict) -> list[Path]:
    """The run's PNGs: learning curves, learning rate, and the confusion matrix (by row and by
    column) or predicted-vs-true."""
    from aprende import plots

    directory = folder / "plots"
    directory.mkdir(exist_ok=True)
    written = []
    if len(history):
        metric = "r2" if is_regression(spec["task"]) else "accuracy"
        path = directory / "learning_curves.png"
        plots.plot_learning_curves(history, metrics=("loss", metric), path=path)
        written.append(path)
        written.append(directory / "learning_rate.png")
        plots.plot_lr(history, path=written[-1])
    if "confusion_matrix" in scores:
        names = scores["class_names"]
        for normalize, name in (("true", "confusion_matrix"), ("pred", "confusion_by_column")):
            path = directory / f"{name}.png"
            plots.plot_confusion_matrix(
                scores["confusion_matrix"], names, normalize=normalize, path=path
            )
            written.append(path)
    if is_regression(spec["task"]):
        path = directory / "predicted_vs_true.png"
        plots.plot_regression(
            as_columns(y_true), as_columns(outputs), output_names=spec["target_names"], path=path
        )
        written.append(path)
    return written


# ---- evaluate and predict --------------------------------------------------------------------


def _open_run(args) -> tuple[RunConfig, dict]:
    """(settings, checkpoint state) of ``RUN`` and ``--checkpoint``.

    RUN is a run folder (settings from its config.toml, weights from its best checkpoint) or
    a checkpoint file (both from it); ``--checkpoint`` picks other weights.
    """
    run = Path(args.run)
    if not run.exists():
        raise UsageError(
            f"RUN: {str(run)!r} does not exist (expected a run folder or a checkpoint)"
        )
    config = None
    if run.is_dir():
        if not (run / "config.toml").is_file():
            raise UsageError(f"RUN: {run} is not a run folder (it has no config.toml)")
        config = settings_module.load_run_config(run)
        checkpoint = _chosen_checkpoint(run / "checkpoints")
    else:
        checkpoint = run
    if args.checkpoint:
        checkpoint = Path(args.checkpoint)
        if not checkpoint.exists():
            raise UsageError(f"--checkpoint: {str(checkpoint)!r} does not exist")
    saved = read_checkpoint(checkpoint)
    stored = saved.get("config") or {}
    if "run" not in stored or "dataset" not in stored:
        raise UsageError(
            f"checkpoint {checkpoint} was not written by 'aprende train' (it holds no run "
            "settings): pass the run folder as RUN and the file as --checkpoint"
        )
    if config is None:
        config = settings_module.from_dict(stored["run"])
    return config, saved


def _rebuild(args):
    """(settings, spec, preprocessing, model) of a saved run, weights loaded."""
    config, saved = _open_run(args)
    spec = saved["config"]["dataset"]
    settings_module.check_flag("device", args.device)
    _check_device(args.device)
    model = build_model(config, spec)
    restore_weights(model, saved, args.device)
    preprocessing = Preprocessing(config, spec["task"]).load(saved, saved["path"])
    return config, spec, preprocessing, model


def command_evaluate(args) -> int:
    """``aprende evaluate RUN``: the metrics table and confusion matrix on the test split."""
    config, spec, preprocessing, model = _rebuild(args)
    data = load_data(config)
    for key in ("name", "target_names", "n_features"):
        if data.spec[key] != spec[key]:
            raise UsageError(
                f"the checkpoint was trained on {spec['name']!r} ({key} {spec[key]}), the run's "
                f"settings load {data.spec['name']!r} ({key} {data.spec[key]})"
            )
    X, y = data.X[args.split], data.y[args.split]
    outputs = preprocessing.outputs(model_outputs(model, preprocessing.inputs(X), args.device))
    scores = score(spec, y, outputs)
    print(f"{spec['name']}: {args.split} split, {len(X)} examples")
    print_scores(spec, y, outputs, scores)
    print(headline(scores, args.split))
    return 0


def read_feature_rows(path: Path, spec: dict) -> np.ndarray:
    """The feature matrix (N, D) of a CSV file: columns picked by the training feature names
    when the first row is a header holding them, else all columns in order."""
    if not path.is_file():
        raise UsageError(f"INPUT: the file {str(path)!r} does not exist")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise UsageError(f"INPUT: {path} is empty")
    names = spec["feature_names"]
    header, body = (rows[0], rows[1:]) if not _all_numbers(rows[0]) else (None, rows)
    if header is not None and set(names) <= set(header):
        columns = [header.index(name) for name in names]
    elif len(rows[0]) == len(names):
        columns = list(range(len(names)))
    else:
        raise UsageError(
            f"INPUT: {path} has {len(rows[0])} columns; the run expects its {len(names)} "
            f"features, by name in a header ({', '.join(names[:4])}, ...) or in order"
        )
    try:
        return np.array([[float(row[j]) for j in columns] for row in body], dtype=np.float32)
    except (ValueError, IndexError) as error:
        raise UsageError(f"INPUT: {path}: a row is not numeric or too short ({error})") from None


def _all_numbers(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True


def prediction_table(spec: dict, outputs: np.ndarray) -> tuple[list[str], list[list]]:
    """(header, rows) of the predictions CSV for each task."""
    task, names = spec["task"], spec["target_names"]
    if is_regression(task):
        return list(names), as_columns(outputs).tolist()
    labels = predicted_labels(task, outputs)
    p = probabilities(task, outputs)
    if task == "binary":
        header = ["prediction", *(f"p_{n}" for n in names)]
        rows = [[names[k], 1 - q, q] for k, q in zip(labels, p[:, 0], strict=True)]
        return header, rows
    if task == "multiclass":
        header = ["prediction", *(f"p_{n}" for n in names)]
        return header, [[names[k], *q] for k, q in zip(labels, p.tolist(), strict=True)]
    if task == "multilabel":
        header = [*names, *(f"p_{n}" for n in names)]
        return header, [[*k, *q] for k, q in zip(labels.tolist(), p.tolist(), strict=True)]
    header = [f"y{i}" for i in range(labels.shape[1])]
    return header, [[names[k] for k in row] for row in labels]


def command_predict(args) -> int:
    """``aprende predict RUN INPUT.csv -o OUTPUT.csv``: one prediction per input row."""
    _, spec, preprocessing, model = _rebuild(args)
    X = read_feature_rows(Path(args.input), spec)
    outputs = preprocessing.outputs(model_outputs(model, preprocessing.inputs(X), args.device))
    header, rows = prediction_table(spec, outputs)
    if args.output == "-":
        _write_csv(sys.stdout, header, rows)
    else:
        with open(args.output, "w", newline="", encoding="utf-8") as handle:
            _write_csv(handle, header, rows)
        print(f"{len(rows)} predictions written to {args.output}", file=sys.stderr)
    return 0


def _write_csv(handle, header, rows) -> None:
    writer = csv.writer(handle)
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])


# ---- lr-find, datasets, report ---------------------------------------------------------------


def command_lr_find(args) -> int:
    """``aprende lr-find``: the LR range test on the training split, plotted."""
    import aprende
    from aprende.training import lr_find

    config = config_from_args(args)
    _check_device(config.device)
    if not 0 < args.start_lr < args.end_lr:
        raise UsageError(
            f"--start-lr and --end-lr: expected 0 < start < end, got {args.start_lr}, {args.end_lr}"
        )
    if args.num_iter < 3:
        raise UsageError(f"--num-iter expects an integer >= 3, got {args.num_iter}")
    data = load_data(config)
    spec = data.spec
    aprende.manual_seed(config.seed)
    preprocessing = Preprocessing(config, spec["task"]).fit(data)
    model = build_model(config, spec)
    optimizer = build_optimizer(config, model.parameters())
    loader = _loader(
        preprocessing.inputs(data.X["train"]),
        preprocessing.targets(data.y["train"]),
        config.batch_size,
        shuffle=True,
        seed=config.seed,
    )
    result = lr_find(
        model,
        optimizer,
        _criterion(spec["task"]),
        loader,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
        device=config.device,
    )
    folder = _run_folder(config, "-lr-find")
    folder.mkdir(parents=True, exist_ok=True)
    settings_module.write_toml(config, folder / "config.toml")
    with open(folder / "lr_find.csv", "w", newline="", encoding="utf-8") as handle:
        _write_csv(
            handle, ["lr", "loss"], [[a, b] for a, b in zip(result.lrs, result.losses, strict=True)]
        )
    result.plot(path=folder / "lr_find.png")
    if result.suggestion is None:
        print("suggested_lr: none (the loss did not fall; try a wider range)")
    else:
        print(f"suggested_lr: {result.suggestion:.3g}")
    print(f"Plot: {folder / 'lr_find.png'}")
    return 0


def dataset_rows() -> list[tuple[str, str, str, str, str]]:
    """(name, kind, task, size, description) of every dataset name the CLI accepts."""
    rows = []
    for name, choice in DATASETS.items():
        try:
            X, y, info = _load_dataset(RunConfig(dataset=name))
        except UsageError as error:
            rows.append((name, "bundled", "?", "?", _one_line(error)))
            continue
        size = f"{len(X)} x {int(np.prod(X.shape[1:]))}"
        if info.task not in ("binary", "multiclass"):
            size += f" -> {int(np.prod(y.shape[1:])) if y.ndim > 1 else 1}"
        if info.n_classes:
            size += f", {info.n_classes} {'labels' if info.task == 'multilabel' else 'classes'}"
        kind = "synthetic" if choice.synthetic else "bundled"
        rows.append((name, kind, info.task, size, info.description))
    return rows


def command_datasets(args) -> int:
    """``aprende datasets``: the dataset names, their task and size."""
    rows = dataset_rows()
    header = ("name", "kind", "task", "size (N x D [-> outputs])")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)).rstrip())
    print("\nAny CSV file too: aprende train --csv FILE --target COLUMN")
    return 0


def command_report(args) -> int:
    """``aprende report RUN``: write RUN/report.html again."""
    from aprende.report import write_report

    folder = Path(args.run)
    if not (folder / "config.toml").is_file():
        raise UsageError(f"RUN: {str(folder)!r} is not a run folder (it has no config.toml)")
    print(f"Report written to {write_report(folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
