"""``aprende sweep``: Optuna studies over the train settings, shared by several workers.

Workers are separate processes on one SQLite file (and on a PostgreSQL server when
``APRENDE_TEST_POSTGRES_URL`` names one, as CI does). Skipped without Optuna.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="optuna not installed (pip install 'aprende[sweep]')")

from aprende.cli import main  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
TINY = ["--dataset", "iris", "--epochs", "3", "--hidden", "8", "--patience", "0"]


def _space(tmp_path: Path) -> Path:
    path = tmp_path / "space.toml"
    path.write_text('[lr]\ntype = "float"\nlow = 1e-3\nhigh = 1e-1\nlog = true\n')
    return path


def _worker(*flags: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "aprende", "sweep", *TINY, *flags]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _trials(storage: str, study: str = "sweep"):
    return optuna.load_study(study_name=study, storage=storage).trials


def _two_workers_share_one_study(tmp_path: Path, storage: str, study: str) -> None:
    flags = [
        "--trials",
        "2",
        "--space",
        str(_space(tmp_path)),
        "--storage",
        storage,
        "--study",
        study,
        "--out",
        str(tmp_path / "sweep"),
    ]
    workers = [_worker(*flags), _worker(*flags)]
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, out + err
    trials = _trials(storage, study)
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]  # unique numbers, none run twice
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both workers took part
    for trial in trials:
        run = tmp_path / "sweep" / trial.user_attrs["run"]
        assert (run / "history.csv").is_file() and (run / "config.toml").is_file()


def test_two_workers_share_one_sqlite_study(tmp_path):
    _two_workers_share_one_study(tmp_path, f"sqlite:///{tmp_path / 'study.db'}", "shared")


@pytest.mark.skipif(
    not os.environ.get("APRENDE_TEST_POSTGRES_URL"),
    reason="no PostgreSQL server: set APRENDE_TEST_POSTGRES_URL (.ci/run starts one)",
)
def test_two_workers_share_one_postgresql_study(tmp_path):
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'psycopg[binary]')")
    study = f"pg-{os.getpid()}-{time.time_ns()}"
    _two_workers_share_one_study(tmp_path, os.environ["APRENDE_TEST_POSTGRES_URL"], study)


def test_a_sweep_writes_its_page_and_a_best_config_that_trains(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                *TINY,
                "--trials",
                "2",
                "--space",
                str(_space(tmp_path)),
                "--sampler",
                "random",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "Best of 2 completed trials" in printed
    page = (out / "sweep.html").read_text()
    assert "trial-0000/report.html" in page and page.count("<img") >= 1
    best = optuna.load_study(study_name="sweep", storage=f"sqlite:///{out / 'study.db'}")
    assert f"lr = {best.best_params['lr']!r}" in (out / "best-config.toml").read_text()
    assert (
        main(["train", "--config", str(out / "best-config.toml"), "--out", str(tmp_path / "again")])
        == 0
    )
    assert main(["sweep", "--show", "--out", str(out)]) == 0  # the results again, no trial
    assert len(best.trials) == 2


def test_a_killed_worker_leaves_its_trial_failed_and_the_study_goes_on(tmp_path):
    out = tmp_path / "sweep"
    flags = ["--space", str(_space(tmp_path)), "--out", str(out), "--epochs", "400"]
    worker = _worker("--trials", "1", *flags)
    history = out / "trial-0000" / "history.csv"
    deadline = time.monotonic() + 60
    while not (history.is_file() and history.read_text().count("\n") >= 3):
        assert time.monotonic() < deadline and worker.poll() is None, worker.communicate()
        time.sleep(0.1)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    storage = f"sqlite:///{out / 'study.db'}"
    assert _trials(storage)[0].state == optuna.trial.TrialState.RUNNING
    again = _worker("--trials", "1", *flags[:-2])  # the same command, shorter trials
    printed, err = again.communicate(timeout=120)
    assert again.returncode == 0, printed + err
    assert "trial 0: its worker" in printed
    states = [t.state for t in _trials(storage)]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]


def test_a_trial_whose_worker_has_not_named_itself_yet_is_left_running(tmp_path):
    from aprende.cli.sweep import _fail_trials_of_dead_workers

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")
    just_created = study.ask()  # its worker has set the host, not yet the pid
    just_created.set_user_attr("host", socket.gethostname())
    dead = study.ask()
    dead.set_user_attr("host", socket.gethostname())
    dead.set_user_attr("pid", _pid_of_an_ended_process())
    _fail_trials_of_dead_workers(study)
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.FAIL]


def _pid_of_an_ended_process() -> int:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def test_a_trial_ended_by_another_worker_costs_only_that_trial(tmp_path, capsys):
    from aprende.cli.sweep import _run_trials

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'study.db'}")

    def objective(trial):
        if trial.number == 0:  # as another worker's heartbeat check would, mid-trial
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        return float(trial.number)

    _run_trials(study, objective, 3)
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.FAIL] + [optuna.trial.TrialState.COMPLETE] * 2
    assert "a trial was failed by another worker first" in capsys.readouterr().out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--storage", "nosuch://here"], "storage: cannot open 'nosuch://here'"),
        (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "storage: cannot open"),
        (["--metric", "val_r2"], "metric: a multiclass task has val_loss, val_accuracy"),
        (["--sampler", "grid"], "grid needs a finite set of values"),
    ],
)
def test_bad_sweep_input_gets_one_line(tmp_path, capsys, flags, message):
    assert main(["sweep", *TINY, "--trials", "1", "--out", str(tmp_path / "s"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_an_unknown_parameter_in_the_space_is_named(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text('[weight_decy]\ntype = "float"\nlow = 0.001\nhigh = 0.1\n')
    assert main(["sweep", *TINY, "--space", str(space), "--out", str(tmp_path / "s")]) == 2
    assert (
        "unknown parameter 'weight_decy' (did you mean 'weight_decay'?)" in capsys.readouterr().err
    )


def test_show_names_the_studies_a_storage_holds(tmp_path, capsys):
    out = tmp_path / "s"
    assert (
        main(
            [
                "sweep",
                *TINY,
                "--trials",
                "1",
                "--space",
                str(_space(tmp_path)),
                "--study",
                "first",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert main(["sweep", "--show", "--study", "other", "--out", str(out)]) == 2
    assert "no study 'other'" in capsys.readouterr().err
