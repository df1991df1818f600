"""The six commands of ``aprende``, one function each: ``command_train``, ``command_evaluate``,
``command_predict``, ``command_lr_find``, ``command_datasets`` and ``command_report``.

Each takes the parsed arguments and returns the exit status; a mistake in them is a
``UsageError`` (or a ``ConfigError``), which ``aprende.cli.main`` prints as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from aprende import config as settings_module
from aprende import nn
from aprende.autograd import no_grad
from aprende.cli.errors import PROG, UsageError, one_line
from aprende.cli.pipeline import (
    Preprocessing,
    build_criterion,
    build_model,
    build_optimizer,
    build_scheduler,
    check_device,
    load_data,
    make_loader,
    model_outputs,
)
from aprende.cli.prediction_csv import prediction_table, read_feature_rows, write_csv
from aprende.cli.run_folder import (
    check_resumable,
    chosen_checkpoint,
    open_run,
    read_checkpoint,
    restart_folder,
    restore_weights,
    run_folder,
    train_folder,
)
from aprende.cli.scoring import (
    as_columns,
    headline,
    is_image_regression,
    predicted_labels,
    print_scores,
    score,
)
from aprende.config import RunConfig
from aprende.datasets.info import is_regression
from aprende.datasets.spec import DataSpec
from aprende.terminal import fit_text

# ---- train -----------------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The settings: defaults, then the dataset's own, then ``--config FILE``, then the flags."""
    keys = {spec.name for spec in settings_module.settings()}
    flags = {k: v for k, v in vars(args).items() if k in keys}
    return RunConfig.from_sources(toml_path=args.config_file, flags=flags)


def _fit_callbacks(config: RunConfig, folder: Path, writes: bool = True) -> list:
    from aprende.training import Callback, CSVLogger, EarlyStopping

    # A rank that does not write keeps the same list (the checkpoint restores by position).
    callbacks = [CSVLogger(folder / "history.csv") if writes else Callback()]
    if config.patience > 0:
        callbacks.append(
            EarlyStopping(patience=config.patience, restore_best_weights=True, verbose=1)
        )
    return callbacks


def command_train(args: argparse.Namespace, extra_callbacks: tuple = ()) -> int:
    """``aprende train``: train, score the test split once, write the run folder
    (``extra_callbacks`` join the training loop's, as a sweep's reporting to Optuna).

    The folder is named by the settings (``train_folder``): the same command resumes an
    interrupted run and leaves a finished one as it is; ``--restart`` starts over. The run
    folder's lock is held throughout: a second ``aprende train`` on the same folder is
    refused with the first one's process id."""
    from aprende.cli import data_parallel
    from aprende.training.run_lock import RunLock, RunLockedError

    config = config_from_args(args)
    check_device(config.device)
    world = data_parallel.join_world()  # mpirun -n K: K ranks, data-parallel
    restart = bool(getattr(args, "restart", False))
    with data_parallel.quiet_unless_writer(world):
        folder = train_folder(config, restart)
    with data_parallel.one_failure_stops_all(world):
        if not world.writes:  # rank 0 owns the folder and its lock
            with data_parallel.quiet_unless_writer(world):
                return _train(config, folder, extra_callbacks, world)
        try:
            with RunLock(folder):
                if restart and (moved := restart_folder(folder)) is not None:
                    print(f"Restarting {folder}: the run it held was moved to {moved}")
                return _train(config, folder, extra_callbacks, world)
        except RunLockedError as error:
            raise UsageError(f"out: {one_line(error)}") from None


def _write_text(path: Path, text: str) -> None:
    """Every file of a run is written atomically: the old content or the new, never a mix."""
    from aprende.training.checkpoint import atomic_write

    atomic_write(path, text.encode("utf-8"))


def write_report(folder: Path) -> Path:
    """Write ``folder/report.html`` atomically from the run folder's files."""
    from aprende.report import render_report

    path = folder / "report.html"
    _write_text(path, render_report(folder))
    return path


def _train(config: RunConfig, folder: Path, extra_callbacks: tuple = (), world=None) -> int:
    import aprende
    from aprende.cli import data_parallel
    from aprende.training import CheckpointError, NonFiniteLossError, fit

    world = world or data_parallel.SINGLE
    check_resumable(folder, config, writes=world.writes)
    data = load_data(config)
    spec = data.spec
    data_parallel.check_batch(world, config.batch_size, spec.sizes["train"])
    aprende.manual_seed(config.seed)
    preprocessing = Preprocessing(config, spec.task).fit(data)
    model = build_model(config, spec)
    optimizer = build_optimizer(config, model.parameters())
    scheduler = build_scheduler(config, optimizer)
    criterion = build_criterion(spec.task)

    summary = model.summary(input_size=(1, spec.n_features))
    if world.writes:
        folder.mkdir(parents=True, exist_ok=True)
        _write_text(folder / "config.toml", settings_module.to_toml(config))
        _write_text(folder / "model.txt", summary + "\n")
    data_parallel.barrier(world)  # the writer has reconciled the folder the others read
    sizes = spec.sizes
    print(
        fit_text(
            f"{spec.name}: {spec.task} task, {sizes['train']} training / {sizes['val']} "
            f"validation / {sizes['test']} test examples, {spec.n_features} features"
        )
    )
    print(summary)
    print(fit_text(f"Run folder: {folder}"))
    if world.size > 1:
        from aprende.distributed import DistributedDataParallel

        # Averages the gradients after each backward (a hook on the model itself, so the
        # checkpoints keep the model's own keys and resume with any number of ranks).
        DistributedDataParallel(model, broadcast_buffers=False, batch_weighted=True)
        print(
            f"Data-parallel over {world.size} processes: {config.batch_size // world.size} of "
            f"each batch of {config.batch_size} examples per process"
        )

    loaders = {
        split: make_loader(
            preprocessing.inputs(data.X[split]),
            preprocessing.targets(data.y[split]),
            config.batch_size if split == "train" else 1024,
            shuffle=split == "train",
            seed=config.seed if split == "train" else None,
            shard=(world.rank, world.size) if split == "train" else None,
        )
        for split in ("train", "val")
    }
    callbacks = _fit_callbacks(config, folder, writes=world.writes) + list(extra_callbacks)
    began = time.perf_counter()
    try:
        history = fit(
            model,
            optimizer,
            criterion,
            loaders["train"],
            loaders["val"],
            epochs=config.epochs,
            metrics=["r2"] if is_regression(spec.task) else ["accuracy"],
            callbacks=callbacks,
            scheduler=scheduler,
            device=config.device,
            checkpoint_dir=folder / "checkpoints",
            grad_clip=config.grad_clip or None,
            l1=config.l1,
            preprocessing=preprocessing.objects,
            config={"run": config.to_dict(), "dataset": spec.to_dict()},
            write_checkpoints=world.writes,
        )
    except NonFiniteLossError as error:
        print(f"{PROG} train: error: {one_line(error)}", file=sys.stderr)
        return 1
    except CheckpointError as error:  # resuming from a checkpoint that does not fit
        raise UsageError(f"out: cannot resume {folder}: {one_line(error)}") from None
    seconds = time.perf_counter() - began
    if not world.writes:
        return 0

    chosen = read_checkpoint(chosen_checkpoint(folder / "checkpoints"))
    restore_weights(model, chosen, config.device)
    outputs = preprocessing.outputs(
        model_outputs(model, preprocessing.inputs(data.X["test"]), config.device)
    )
    scores = score(spec, data.y["test"], outputs)
    scores.update(_run_facts(spec, history, chosen, seconds))
    scores["world_size"] = world.size
    print(
        fit_text(
            f"\nTest split ({sizes['test']} examples), scored once with the weights of epoch "
            f"{scores['best_epoch']} (lowest validation loss):"
        )
    )
    print_scores(spec, data.y["test"], outputs, scores)
    _write_text(folder / "metrics.json", json.dumps(scores, indent=1) + "\n")
    write_plots(folder, spec, history, data.y["test"], outputs, scores)
    if spec.input_shape is not None:
        inputs = preprocessing.inputs(data.X["test"])
        write_image_plots(folder, spec, model, data.X["test"], inputs, data.y["test"], outputs)
    report = write_report(folder)
    print(headline(scores))
    print(fit_text(f"Run folder: {folder} (open {report} in a browser)"))
    return 0


def _run_facts(spec: DataSpec, history, chosen: dict, seconds: float) -> dict:
    epochs_run = len(history)
    return {
        "dataset": spec.name,
        "description": spec.description,
        "split": "test",
        "sizes": spec.sizes,
        "best_epoch": int(chosen["epoch"]) + 1,
        "epochs_run": epochs_run if epochs_run else int(chosen["epoch"]) + 1,
        "train_seconds": round(seconds, 3),
    }


def write_plots(folder: Path, spec: DataSpec, history, y_true, outputs, scores: dict) -> list[Path]:
    """The run's PNGs: learning curves, learning rate, and the confusion matrix (by row and by
    column) or predicted-vs-true."""
    from aprende import plots

    directory = folder / "plots"
    directory.mkdir(exist_ok=True)
    written = []
    if len(history):
        metric = "r2" if is_regression(spec.task) else "accuracy"
        path = directory / "learning_curves.png"
        plots.plot_learning_curves(
            history, metrics=("loss", metric), path=path, kept_epoch=scores.get("best_epoch")
        )
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
    if is_regression(spec.task) and not is_image_regression(spec):
        path = directory / "predicted_vs_true.png"
        plots.plot_regression(
            as_columns(y_true), as_columns(outputs), output_names=spec.target_names, path=path
        )
        written.append(path)
    return written


def write_image_plots(folder: Path, spec: DataSpec, model, images, inputs, y_true, outputs) -> list:
    """What an image run shows rather than tells: the first convolution's filters, the
    feature maps of the first test image, and for per-pixel tasks a grid of input / true /
    predicted masks (or input / target / reconstruction) for the first test images."""
    from aprende import plots, tensor
    from aprende.nn.conv import Conv2d

    directory = folder / "plots"
    shape = tuple(spec.input_shape)
    written = []
    shown = min(4, len(images))
    images = np.asarray(images[:shown]).reshape(shown, *shape)
    height, width = shape[1:]
    if spec.task == "per_element":
        written.append(directory / "masks.png")
        truth = np.asarray(y_true[:shown]).reshape(shown, height, width)
        predicted = np.asarray(outputs[:shown]).argmax(axis=1).reshape(shown, height, width)
        plots.plot_masks(images, truth, predicted, len(spec.target_names), path=written[-1])
    elif is_image_regression(spec):
        written.append(directory / "reconstructions.png")
        targets = np.asarray(y_true[:shown]).reshape(shown, height, width)
        rebuilt = np.asarray(outputs[:shown]).reshape(shown, height, width)
        plots.plot_reconstructions(images, targets, rebuilt, path=written[-1])
    first = next((m for m in model.modules() if isinstance(m, Conv2d)), None)
    if first is not None:
        written.append(directory / "filters.png")
        plots.plot_filters(first.weight, path=written[-1])
        model.eval()
        with no_grad():
            maps = first(tensor(np.asarray(inputs[:1]).reshape(1, *shape)).to(first.weight.device))
        written.append(directory / "feature_maps.png")
        plots.plot_feature_maps(maps.relu().cpu().numpy()[0], path=written[-1])
    return written


# ---- evaluate and predict --------------------------------------------------------------------


def _rebuild(args: argparse.Namespace) -> tuple[RunConfig, DataSpec, Preprocessing, nn.Module]:
    """(settings, spec, preprocessing, model) of a saved run, weights loaded."""
    config, saved = open_run(args)
    try:
        spec = DataSpec.from_dict(saved["config"]["dataset"])
    except (TypeError, ValueError) as error:
        raise UsageError(f"checkpoint {saved['path']}: {one_line(error)}") from None
    settings_module.check_flag("device", args.device)
    check_device(args.device)
    model = build_model(config, spec)
    restore_weights(model, saved, args.device)
    preprocessing = Preprocessing(config, spec.task).load(saved, saved["path"], spec)
    return config, spec, preprocessing, model


def command_evaluate(args: argparse.Namespace) -> int:
    """``aprende evaluate RUN``: the metrics table and confusion matrix on the test split."""
    config, spec, preprocessing, model = _rebuild(args)
    data = load_data(config)
    for key in ("name", "target_names", "n_features"):
        trained, loaded = getattr(spec, key), getattr(data.spec, key)
        if loaded != trained:
            raise UsageError(
                f"the checkpoint was trained on {spec.name!r} ({key} {trained}), the run's "
                f"settings load {data.spec.name!r} ({key} {loaded})"
            )
    X, y = data.X[args.split], data.y[args.split]
    outputs = preprocessing.outputs(model_outputs(model, preprocessing.inputs(X), args.device))
    scores = score(spec, y, outputs)
    print(f"{spec.name}: {args.split} split, {len(X)} examples")
    print_scores(spec, y, outputs, scores)
    print(headline(scores, args.split))
    return 0


def command_predict(args: argparse.Namespace) -> int:
    """``aprende predict RUN INPUT -o OUTPUT``: one prediction per input row or image.

    INPUT is a CSV of feature rows, or for an image run an .npy array or a folder of PNGs;
    per-pixel tasks write an .npy (a class mask, or an image, per input), the others a CSV."""
    from aprende.cli.prediction_images import is_image_input, read_images, write_array

    _, spec, preprocessing, model = _rebuild(args)
    source = Path(args.input)
    columns = preprocessing.objects.get("columns")
    X = (
        read_images(source, spec)
        if is_image_input(source)
        else read_feature_rows(source, spec, columns)
    )
    outputs = preprocessing.outputs(model_outputs(model, preprocessing.inputs(X), args.device))
    per_pixel = spec.task == "per_element" or is_image_regression(spec)
    output = args.output or ("predictions.npy" if per_pixel else "predictions.csv")
    if per_pixel:
        if spec.task == "per_element":
            values = predicted_labels(spec.task, outputs)
        else:
            values = outputs.reshape(len(outputs), *spec.input_shape)
        write_array(output, values)
        print(
            f"{len(values)} predictions of shape {values.shape[1:]} written to {output}",
            file=sys.stderr,
        )
        return 0
    header, rows = prediction_table(spec, outputs)
    if output == "-":
        write_csv(sys.stdout, header, rows)
    else:
        with open(output, "w", newline="", encoding="utf-8") as handle:
            write_csv(handle, header, rows)
        print(f"{len(rows)} predictions written to {output}", file=sys.stderr)
    return 0


# ---- lr-find, datasets, report ---------------------------------------------------------------


def command_lr_find(args: argparse.Namespace) -> int:
    """``aprende lr-find``: the LR range test on the training split, plotted."""
    import aprende
    from aprende.training import lr_find

    config = config_from_args(args)
    check_device(config.device)
    if not 0 < args.start_lr < args.end_lr:
        raise UsageError(
            f"--start-lr and --end-lr: expected 0 < start < end, got {args.start_lr}, {args.end_lr}"
        )
    if args.num_iter < 3:
        raise UsageError(f"--num-iter expects an integer >= 3, got {args.num_iter}")
    data = load_data(config)
    spec = data.spec
    aprende.manual_seed(config.seed)
    preprocessing = Preprocessing(config, spec.task).fit(data)
    model = build_model(config, spec)
    optimizer = build_optimizer(config, model.parameters())
    loader = make_loader(
        preprocessing.inputs(data.X["train"]),
        preprocessing.targets(data.y["train"]),
        config.batch_size,
        shuffle=True,
        seed=config.seed,
    )
    result = lr_find(
        model,
        optimizer,
        build_criterion(spec.task),
        loader,
        start_lr=args.start_lr,
        end_lr=args.end_lr,
        num_iter=args.num_iter,
        device=config.device,
    )
    folder = run_folder(config, "-lr-find")
    folder.mkdir(parents=True, exist_ok=True)
    _write_text(folder / "config.toml", settings_module.to_toml(config))
    with open(folder / "lr_find.csv", "w", newline="", encoding="utf-8") as handle:
        write_csv(
            handle, ["lr", "loss"], [[a, b] for a, b in zip(result.lrs, result.losses, strict=True)]
        )
    from aprende import plots  # matplotlib loads only for the commands that draw

    plots.plot_lr_finder(result, path=folder / "lr_find.png")
    if result.suggestion is None:
        print("suggested_lr: none (the loss did not fall; try a wider range)")
    else:
        print(f"suggested_lr: {result.suggestion:.3g}")
    print(f"Plot: {folder / 'lr_find.png'}")
    return 0


def command_datasets(args: argparse.Namespace) -> int:
    """``aprende datasets``: the dataset names, their task and size."""
    from aprende.cli.dataset_list import dataset_list

    print("\n".join(dataset_list()))
    return 0


def command_report(args: argparse.Namespace) -> int:
    """``aprende report RUN``: write RUN/report.html again."""
    folder = Path(args.run)
    if not (folder / "config.toml").is_file():
        raise UsageError(f"RUN: {str(folder)!r} is not a run folder (it has no config.toml)")
    metrics = folder / "metrics.json"
    if metrics.is_file():
        try:
            scores = json.loads(metrics.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            scores = None
        if not isinstance(scores, dict):
            raise UsageError(
                f"RUN: {metrics} is damaged (not a JSON object): 'aprende evaluate {folder}' "
                "prints the test metrics again from the checkpoint"
            )
    print(f"Report written to {write_report(folder)}")
    return 0
