"""The ``aprende`` command: train, evaluate, predict, export, lr-find, datasets, report.

``aprende train`` with no arguments is the main job: an MLP on the bundled handwritten digits,
inputs standardised on the training split, a seeded stratified train/validation/test split,
Adam, early stopping on the validation loss, then the test split scored once with the chosen
(best validation) weights. Every run writes a folder (``runs/<dataset>-<hash of the settings>``)::

    config.toml        the resolved settings (aprende train --config config.toml repeats it)
    history.csv        one row per epoch: loss and metric, training and validation, lr, time
    checkpoints/       epoch-NNNN and best (*.safetensors + *.json, with the preprocessing)
    model.txt          the model summary: layers, output shapes, parameter counts
    metrics.json       the test metrics
    plots/*.png        learning curves, learning rate, confusion matrix or predicted-vs-true
    report.html        all of it in one self-contained page

Every mistake in a flag or a config file ends the command with one line on stderr naming the
key and what it accepts, and exit status 2.

This module holds the argument parser and ``main``; the package around it::

    commands.py        one function per command (command_train, command_evaluate, ...)
    pipeline.py        settings -> objects: data, preprocessing, model, loss, optimizer, schedule
    csv_data.py        a CSV file as data: missing values, text columns, classes vs the split
    run_folder.py      naming, resuming and reading back a run folder and its checkpoints
    scoring.py         predictions from outputs, the test metrics, the printed tables
    prediction_csv.py  the CSV files 'aprende predict' reads and writes
    export.py          'aprende export': a run as an ONNX file that takes raw rows
    errors.py          UsageError and the one-line error message
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
import threading

from aprende import config as settings_module
from aprende.cli.commands import (
    command_datasets,
    command_evaluate,
    command_lr_find,
    command_predict,
    command_report,
    command_train,
)
from aprende.cli.errors import EXIT_USAGE, PROG, one_line
from aprende.cli.export import command_export
from aprende.config import ConfigError, flag_name
from aprende.training.checkpoint_files import CheckpointError

__all__ = ["ArgumentParser", "build_parser", "main"]


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
    from aprende import __version__

    parser.add_argument("--version", action="version", version=f"aprende {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train a model and write a run folder",
        description="Train an MLP: load the data, split it (train/validation/test, seeded, "
        "stratified for classes), normalise the inputs on the training split, train with "
        "early stopping on the validation loss, then score the test split once with the best "
        "weights. Writes config.toml, history.csv, checkpoints/, model.txt, metrics.json, "
        "plots/ and report.html into the run folder, runs/<dataset>-<hash of the settings> "
        "(or --out). The same command again resumes an interrupted run; after a finished "
        "one it starts runs/<dataset>-<hash>-2.",
        epilog="examples: 'aprende train' (the digits); 'aprende train --dataset "
        "breast_cancer --hidden 32 --lr 0.003'; 'aprende train --csv data.csv --target label "
        "--out runs/mine'; 'aprende train --config runs/mine/config.toml --seed 1 --out "
        "runs/mine-seed1'.",
    )
    _add_setting_flags(train)
    train.add_argument(
        "--restart",
        action="store_true",
        help="train the run folder afresh; the run it held moves to its previous-run-N/",
    )
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
    predict.add_argument(
        "input",
        metavar="INPUT",
        help="the rows to predict (a CSV), or for an image run an .npy array or a folder of PNGs",
    )
    predict.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT.csv",
        default=None,
        help="where to write the predictions (default: predictions.csv, or predictions.npy "
        "for per-pixel tasks; '-' for stdout)",
    )
    predict.set_defaults(handler=command_predict)

    export = commands.add_parser(
        "export",
        help="write a saved run as an ONNX file",
        description="Write a run's input normalisation, model and output probabilities (or "
        "values on the targets' scale) as one ONNX file: its input 'rows' takes raw feature "
        "rows, as 'aprende predict' does, any number of them (needs the onnx package).",
    )
    _add_run_arguments(export)
    export.add_argument("output", metavar="OUTPUT.onnx", help="the ONNX file to write")
    export.set_defaults(handler=command_export)

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

    _add_sweep_parser(commands)

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


def _add_sweep_parser(commands) -> None:
    from aprende.cli.sweep import command_sweep

    sweep = commands.add_parser(
        "sweep",
        help="search the settings with Optuna (several workers may share one study)",
        description="Train --trials runs with settings drawn by Optuna: the train flags given "
        "fix a setting for every trial, the search space (default: lr, optimizer, hidden, "
        "dropout, weight_decay, batch_size; or --space FILE.toml) covers the rest. Each trial "
        "is a run folder under --out (trial-NNNN); the study is stored in --out/study.db, or "
        "in any database --storage names, so that the same command on several machines "
        "shares one study. Writes sweep.html and best-config.toml. Running the command again "
        "continues the study.",
        epilog="examples: 'aprende sweep --dataset iris --epochs 30 --trials 20'; 'aprende "
        "sweep --trials 10 --study digits --storage postgresql://user@host/db' on each "
        "machine; 'aprende sweep --show --study digits --storage ...'.",
    )
    _add_setting_flags(sweep)
    group = sweep.add_argument_group("sweep")
    group.add_argument(
        "--trials", type=int, default=10, help="trials this worker runs (default: 10)"
    )
    group.add_argument("--study", default="sweep", help="the study's name (default: sweep)")
    group.add_argument(
        "--storage", metavar="URL", help="an Optuna RDB URL (default: sqlite in --out)"
    )
    group.add_argument("--space", metavar="FILE.toml", help="the search space (see the docs)")
    group.add_argument(
        "--metric", help="what to optimise: val_loss (default), val_accuracy, val_r2, loss, ..."
    )
    group.add_argument("--direction", choices=("minimize", "maximize"), help="default: by metric")
    group.add_argument("--sampler", choices=("tpe", "random", "grid"), default="tpe")
    group.add_argument("--pruner", choices=("median", "none"), default="median")
    group.add_argument("--show", action="store_true", help="only write and print the results")
    group.add_argument("--verbose", action="store_true", help="print each trial's training")
    sweep.set_defaults(handler=command_sweep)


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
    previous = _terminate_as_interrupt()
    try:
        return args.handler(args)
    except (ConfigError, CheckpointError) as error:
        print(f"{PROG} {args.command}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader left (``aprende datasets | head``): stop quietly
        _silence_stdout()
        return 0
    except OSError as error:  # a path given that cannot be written or read
        print(f"{PROG} {args.command}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, Terminated)
        kept = "; every finished epoch is kept: the same command resumes" * (
            args.command == "train"
        )
        print(
            f"{PROG} {args.command}: {'terminated' if terminated else 'interrupted'}{kept}",
            file=sys.stderr,
        )
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit does not raise again into
    a pipe whose reader has gone (Python's documented recipe for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output)
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C, so the same clean-up runs (exit status 143)."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _terminate_as_interrupt():
    """Make SIGTERM raise ``Terminated``; the previous handler (None off the main thread,
    where signal handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _unknown_flags(parser, args, unknown: list[str]) -> None:
    """One line for flags no command knows, with the closest known flag."""
    subparser = parser.subcommands.get(args.command, parser)
    known = [s for action in subparser._actions for s in action.option_strings]
    flag = next((u for u in unknown if u.startswith("-")), unknown[0])
    close = difflib.get_close_matches(flag.split("=")[0], known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    subparser.error(f"unknown argument {flag!r}{hint}")
