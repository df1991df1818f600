"""``aprende sweep``: an Optuna study over ``aprende train``'s settings.

Each trial is an ordinary run folder (``trial-0007/`` under the sweep folder) trained by the
same code as ``aprende train``, with the flags given to the sweep fixed and the rest drawn
from the search space. The study lives in Optuna's relational storage: by default a SQLite
file in the sweep folder; with ``--storage postgresql://...`` the same command started on
several machines shares one study (Optuna hands each worker unique trial numbers, and no
trial runs twice). The validation metric is reported to Optuna every epoch, so a pruner can
stop trials that fall behind. A worker killed mid-trial leaves that trial marked failed when
the study is next opened on the same machine (other machines' trials fail after their
heartbeat stops), and running the command again continues the study.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import time
import warnings
from pathlib import Path

from aprende import config as settings_module
from aprende.cli.errors import UsageError, one_line
from aprende.cli.sweep_space import as_flags, distributions, read_space
from aprende.datasets.info import is_regression
from aprende.terminal import fit_text
from aprende.training.callbacks import Callback

HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120


def metrics_for(task: str) -> list[str]:
    """The per-epoch values a study of this task can optimise (history.csv's columns)."""
    score = "r2" if is_regression(task) else "accuracy"
    return ["val_loss", f"val_{score}", "loss", score]


def _import_optuna():
    try:
        import optuna
    except ImportError:
        raise UsageError("sweep needs Optuna: pip install 'aprende[sweep]'") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own one line per trial
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def open_storage(url: str):
    """Optuna's RDB storage at ``url``, with a heartbeat so that other workers can tell a
    trial whose worker died; one clear error for a malformed or unreachable URL."""
    optuna = _import_optuna()
    attempt = 0
    while True:  # workers starting together race to create the tables: retry that
        attempt += 1
        try:
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
                engine_kwargs={"pool_pre_ping": True},
            )
        except Exception as error:  # noqa: BLE001 - SQLAlchemy raises many kinds
            if attempt == 3 or not _may_be_a_race(error):
                raise UsageError(f"storage: cannot open {url!r}: {one_line(error)}") from None
            time.sleep(0.5 * attempt)


def _may_be_a_race(error: Exception) -> bool:
    text = str(error)
    return "UNIQUE constraint" in text or "already exists" in text or "locked" in text


def _sampler(name: str, space: dict):
    optuna = _import_optuna()
    if name == "random":
        return optuna.samplers.RandomSampler()
    if name == "tpe":
        return optuna.samplers.TPESampler()
    grid = {}
    for key, distribution in space.items():
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            grid[key] = list(distribution.choices)
        elif distribution.step is not None and not distribution.log:
            count = round((distribution.high - distribution.low) / distribution.step) + 1
            grid[key] = [distribution.low + i * distribution.step for i in range(count)]
        else:
            raise UsageError(
                f"sampler: grid needs a finite set of values; give [{key}] choices or a step"
            )
    return optuna.samplers.GridSampler(grid)


def _fail_trials_of_dead_workers(study) -> None:
    """Trials left RUNNING by a process of this machine that no longer exists are failed
    (their worker was killed); another machine's are left to the heartbeat."""
    optuna = _import_optuna()
    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        attrs = trial.user_attrs
        pid = attrs.get("pid")
        # A trial another worker has just created has no pid yet: it is alive, not dead.
        if attrs.get("host") == host and isinstance(pid, int) and pid > 0 and not _alive(pid):
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
            print(f"trial {trial.number}: its worker (pid {attrs.get('pid')}) stopped; failed")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists; ``pid`` > 0 (0 and -1 would address groups)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _ReportEpochs(Callback):
    """Reports the metric to Optuna after each epoch, keeps the best value, and raises
    TrialPruned when the pruner says so."""

    def __init__(self, trial, metric: str, maximize: bool):
        self.trial, self.metric, self.maximize = trial, metric, maximize
        self.best = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = float((logs or {})[self.metric])
        if self.best is None or (value > self.best if self.maximize else value < self.best):
            self.best = value
        self.trial.report(value, step=epoch + 1)
        if self.trial.should_prune():
            import optuna

            raise optuna.TrialPruned(f"epoch {epoch + 1}: {self.metric} {value:.4g}")


def command_sweep(args: argparse.Namespace) -> int:
    """``aprende sweep``: run this worker's trials of the study, then write sweep.html."""
    from aprende.cli.commands import config_from_args
    from aprende.cli.pipeline import load_dataset
    from aprende.cli.sweep_page import write_sweep_page

    optuna = _import_optuna()
    folder = Path(getattr(args, "out", None) or "sweeps/" + args.study)
    storage_url = args.storage or f"sqlite:///{(folder / 'study.db').resolve()}"
    if args.storage is None:
        folder.mkdir(parents=True, exist_ok=True)
    storage = open_storage(storage_url)
    if args.show:
        study = _load_study(optuna, args.study, storage, storage_url)
        page = write_sweep_page(study, folder)
        _print_best(study)
        print(f"Sweep page: {page}")
        return 0

    fixed = {k for k in vars(args) if k in {f.name for f in settings_module.settings()}}
    base = config_from_args(args)  # checks the fixed settings once, before any trial
    metric = args.metric or "val_loss"
    task = load_dataset(base).info.task
    if metric not in metrics_for(task):
        raise UsageError(
            f"metric: a {task} task has {', '.join(metrics_for(task))}; got {metric!r}"
        )
    direction = args.direction or ("minimize" if metric.endswith("loss") else "maximize")
    space = distributions(read_space(args.space), fixed | {"out"})
    pruner = (
        optuna.pruners.MedianPruner() if args.pruner == "median" else optuna.pruners.NopPruner()
    )
    try:
        study = optuna.create_study(
            study_name=args.study,
            storage=storage,
            sampler=_sampler(args.sampler, space),
            pruner=pruner,
            direction=direction,
            load_if_exists=True,
        )
    except ValueError as error:  # an existing study with another direction
        raise UsageError(f"study: {one_line(error)}") from None
    if study.direction.name.lower() != direction:
        raise UsageError(
            f"direction: study {args.study!r} was created to {study.direction.name.lower()} "
            f"its metric; got --direction {direction}"
        )
    _fail_trials_of_dead_workers(study)
    folder.mkdir(parents=True, exist_ok=True)
    objective = _objective(args, space, metric, direction == "maximize", folder)
    _run_trials(study, objective, args.trials)
    page = write_sweep_page(study, folder)
    _print_best(study)
    print(f"Sweep page: {page}")
    return 0


def _run_trials(study, objective, count: int) -> None:
    """This worker's ``count`` trials. A trial another worker has already failed (its
    heartbeat stopped for the grace period: a stalled machine) is lost, not the others."""
    optuna = _import_optuna()
    ended = 0

    def checked(trial) -> float:
        value = objective(trial)
        if study._storage.get_trial(trial._trial_id).state != optuna.trial.TrialState.RUNNING:
            raise RuntimeError("ended by another worker")  # Optuna cannot record its value
        return value

    def after_trial(study, trial) -> None:
        nonlocal ended
        ended += 1
        _report_trial(study, trial)

    while ended < count:
        try:
            study.optimize(
                checked,
                n_trials=count - ended,
                catch=(Exception,),  # a failed trial is recorded as failed; the study goes on
                callbacks=[after_trial],
            )
            return  # all run, or the sampler stopped the study (a grid is exhausted)
        except ValueError as error:  # Optuna's "Cannot tell a FAIL trial."
            if "Cannot tell" not in str(error):
                raise
            ended += 1
            print(
                f"a trial was failed by another worker first (no heartbeat for {GRACE_SECONDS} s)",
                flush=True,
            )


def _load_study(optuna, name: str, storage, url: str):
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise UsageError(
            f"study: no study {name!r} in {url} (studies there: {', '.join(names) or 'none'})"
        ) from None


def _suggest(trial, space: dict) -> dict:
    """One value per searched setting, drawn by the study's sampler."""
    import optuna

    values = {}
    for key, distribution in space.items():
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            values[key] = trial.suggest_categorical(key, distribution.choices)
        elif isinstance(distribution, optuna.distributions.IntDistribution):
            values[key] = trial.suggest_int(
                key,
                distribution.low,
                distribution.high,
                step=distribution.step,
                log=distribution.log,
            )
        else:
            values[key] = trial.suggest_float(
                key,
                distribution.low,
                distribution.high,
                step=distribution.step,
                log=distribution.log,
            )
    return values


def _shown(params: dict) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _objective(args, space: dict, metric: str, maximize: bool, folder: Path):
    """One trial: an ``aprende train`` run in ``trial-NNNN`` with the drawn settings."""
    from aprende.cli.commands import command_train

    def objective(trial) -> float:
        params = _suggest(trial, space)
        trial.set_user_attr("pid", os.getpid())  # before the host: see _fail_trials_of_dead_workers
        trial.set_user_attr("host", socket.gethostname())
        run = folder / f"trial-{trial.number:04d}"
        trial.set_user_attr("run", run.name)
        trial_args = argparse.Namespace(**vars(args))
        for key, value in as_flags(params).items():
            setattr(trial_args, key, value)
        trial_args.out = str(run)
        print(fit_text(f"trial {trial.number}: {_shown(params)}"), flush=True)
        reporter = _ReportEpochs(trial, metric, maximize)
        quiet = (
            contextlib.nullcontext() if args.verbose else contextlib.redirect_stdout(io.StringIO())
        )
        try:
            with quiet:
                status = command_train(trial_args, extra_callbacks=[reporter])
        except Exception as error:
            trial.set_user_attr("error", one_line(error) or type(error).__name__)
            raise
        if status != 0 or reporter.best is None:
            raise RuntimeError(f"training ended with exit status {status}")
        print(f"trial {trial.number}: {metric} {reporter.best:.4f} ({run})", flush=True)
        return reporter.best

    return objective


def _report_trial(study, trial) -> None:
    """Optuna's callback after each trial: say why a trial did not complete."""
    import optuna

    if trial.state == optuna.trial.TrialState.PRUNED:
        print(f"trial {trial.number}: pruned at epoch {trial.last_step}", flush=True)
    elif trial.state == optuna.trial.TrialState.FAIL:
        reason = trial.user_attrs.get("error", "see its run folder")
        print(f"trial {trial.number}: failed: {reason}", flush=True)


def _print_best(study) -> None:
    optuna = _import_optuna()
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        print("No trial has completed yet.")
        return
    best = study.best_trial
    shown = _shown(best.params)
    print(
        fit_text(
            f"Best of {len(done)} completed trials: trial {best.number}, value {best.value:.4f} "
            f"({shown}); run folder {best.user_attrs.get('run')}"
        )
    )
