"""The ``aprende`` command end to end: the main job in a subprocess, then evaluate, predict,
report, lr-find and datasets on its run folder, and every error path as one line, exit 2."""

import base64
import csv
import json
import os
import re
import subprocess
import sys
import time
from html import unescape

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")
pytest.importorskip("matplotlib")
pytest.importorskip("rich")

from aprende.cli import main  # noqa: E402
from aprende.config import RunConfig, load_run_config, settings  # noqa: E402
from aprende.data import train_val_test_split  # noqa: E402
from aprende.datasets import load_digits  # noqa: E402
from aprende.training import load_state  # noqa: E402

COMMANDS = ("train", "evaluate", "predict", "lr-find", "datasets", "report")


def aprende(*args, cwd):
    """Run ``python -m aprende ARGS`` in a fresh process (one BLAS thread: on a machine shared
    with other processes, OpenBLAS threads spinning for a busy core slow small runs badly)."""
    return subprocess.run(
        [sys.executable, "-m", "aprende", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_main(*args) -> int:
    """``main(args)`` in this process; argparse's own exits give their status too."""
    try:
        return main([str(a) for a in args])
    except SystemExit as exit:
        return exit.code


def one_line_error(capsys, status: int) -> str:
    """The command failed with status 2 and exactly one line on stderr, no traceback."""
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def digits_test_split():
    X, y, _ = load_digits()
    return train_val_test_split(X, y, stratify=y, seed=0)


# ---- the main job, once per session ----------------------------------------------------------


@pytest.fixture(scope="module")
def main_run(tmp_path_factory):
    """``aprende train`` with no arguments, in a fresh folder, in a new process."""
    cwd = tmp_path_factory.mktemp("main_job")
    began = time.perf_counter()
    result = aprende("train", cwd=cwd)
    seconds = time.perf_counter() - began
    assert result.returncode == 0, result.stderr
    folders = list((cwd / "runs").iterdir())
    assert len(folders) == 1 and re.fullmatch(r"digits-[0-9a-f]{8}", folders[0].name)
    return {"cwd": cwd, "folder": folders[0], "stdout": result.stdout, "seconds": seconds}


def test_main_job_reaches_97_percent_on_the_test_split(main_run):
    scores = json.loads((main_run["folder"] / "metrics.json").read_text())
    assert scores["task"] == "multiclass" and scores["metric"] == "accuracy"
    assert scores["accuracy"] >= 0.97
    assert f"test_accuracy: {scores['accuracy']:.4f}" in main_run["stdout"]
    assert main_run["seconds"] < 60


def test_main_job_prints_summary_progress_and_the_slides_tables(main_run):
    out = main_run["stdout"]
    assert "1257 training / 270 validation / 270 test examples" in out
    assert "Total params: 9,610" in out  # 64·128 + 128 + 128·10 + 10
    # In 80 columns (a pipe's default) the names are short: "acc" for "accuracy".
    assert re.search(r"Epoch 1/100: loss [\d.]+ {2}acc(uracy)? [\d.]+ {2}val_loss", out)
    for header in ("TP", "FP", "FN", "TN", "TPR", "TNR", "PPV", "NPV", "F1"):
        assert f" {header} " in out
    assert "Confusion matrix (rows: true class, columns: predicted class)" in out


def test_run_folder_holds_every_file(main_run):
    folder = main_run["folder"]
    for name in ("config.toml", "history.csv", "model.txt", "metrics.json", "report.html"):
        assert (folder / name).stat().st_size > 0, name
    for name in ("learning_curves", "learning_rate", "confusion_matrix", "confusion_by_column"):
        assert (folder / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoints = folder / "checkpoints"
    best = json.loads((checkpoints / "best.json").read_text())
    assert (checkpoints / best["tensors"]).stat().st_size > 0
    assert list(checkpoints.glob("epoch-*.json")) and list(checkpoints.glob("epoch-*.safetensors"))


def test_history_has_one_row_per_epoch_run(main_run):
    folder = main_run["folder"]
    scores = json.loads((folder / "metrics.json").read_text())
    with (folder / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == scores["epochs_run"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    val_losses = [float(r["val_loss"]) for r in rows]
    assert int(np.argmin(val_losses)) + 1 == scores["best_epoch"]  # chosen on validation


def test_config_toml_reloads_to_the_defaults(main_run):
    assert load_run_config(main_run["folder"]) == RunConfig()


def test_metrics_json_agrees_with_its_confusion_matrix(main_run):
    scores = json.loads((main_run["folder"] / "metrics.json").read_text())
    cm = np.array(scores["confusion_matrix"])
    assert cm.sum() == scores["sizes"]["test"] == 270
    assert scores["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    for c, name in enumerate(scores["class_names"]):
        row = scores["classes"][name]
        tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c].sum() - cm[c, c]
        tn = cm.sum() - tp - fp - fn
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (tp, fp, fn, tn)
        assert row["tpr"] == pytest.approx(tp / (tp + fn))
        assert row["tnr"] == pytest.approx(tn / (tn + fp))
        assert row["acc"] == pytest.approx((tp + tn) / cm.sum())


def test_checkpoint_holds_the_scaler_fitted_on_the_training_split_only(main_run):
    saved = load_state(main_run["folder"] / "checkpoints" / "best.json")
    X_train = digits_test_split()[0]
    scaler = saved["state"]["preprocessing"]["inputs"]
    np.testing.assert_allclose(scaler["mean_"], X_train.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(scaler["var_"], X_train.astype(np.float64).var(axis=0))
    assert saved["config"]["run"]["dataset"] == "digits"
    assert saved["config"]["dataset"]["n_features"] == 64


# ---- evaluate, predict, report in new processes ----------------------------------------------


def test_evaluate_a_saved_run_in_a_new_process(main_run):
    result = aprende("evaluate", main_run["folder"], cwd=main_run["cwd"])
    assert result.returncode == 0, result.stderr
    scores = json.loads((main_run["folder"] / "metrics.json").read_text())
    assert f"test_accuracy: {scores['accuracy']:.4f}" in result.stdout
    assert "Course report" in result.stdout and "PPV (column)" in result.stdout


def test_evaluate_a_checkpoint_file_and_another_split(main_run, capsys):
    best = main_run["folder"] / "checkpoints" / "best.json"
    assert run_main("evaluate", best, "--split", "val") == 0
    out = capsys.readouterr().out
    history = list(csv.DictReader((main_run["folder"] / "history.csv").open()))
    best_row = json.loads(best.read_text())["epoch"]
    val_accuracy = float(history[best_row]["val_accuracy"])
    assert f"val_accuracy: {val_accuracy:.4f}" in out  # the same weights score the same


def test_predict_writes_one_row_per_input_row(main_run):
    X_test, y_test = digits_test_split()[4:6]
    _, _, info = load_digits()
    source = main_run["cwd"] / "test_rows.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["target", *info.feature_names])  # extra column, other order
        writer.writerows([[label, *row] for label, row in zip(y_test, X_test, strict=True)])
    target = main_run["cwd"] / "predictions.csv"
    result = aprende("predict", main_run["folder"], source, "-o", target, cwd=main_run["cwd"])
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == len(X_test)
    predicted = np.array([int(r["prediction"]) for r in rows])
    scores = json.loads((main_run["folder"] / "metrics.json").read_text())
    assert np.mean(predicted == y_test) == pytest.approx(scores["accuracy"])
    probabilities = np.array([[float(r[f"p_{c}"]) for c in range(10)] for r in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities.argmax(axis=1) == predicted).all()


def test_predict_reads_headerless_rows_in_feature_order(main_run, capsys):
    X_test = digits_test_split()[4][:5]
    source = main_run["cwd"] / "bare.csv"
    np.savetxt(source, X_test, delimiter=",")
    assert run_main("predict", main_run["folder"], source, "-o", "-") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("prediction,p_0") and len(lines) == 6


def test_report_is_self_contained_with_every_section(main_run):
    html = (main_run["folder"] / "report.html").read_text()
    for section in ("summary", "metrics", "plots", "history", "model", "config", "files"):
        assert f"<section id='{section}'>" in html
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 4
    for image in images:
        assert base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n"
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    for external in ("http", "<script", "<link", "url(", "@import", "//"):
        assert external not in text, external
    assert re.findall(r"src='([^']*)'", text) == [""] * 4  # only the data URIs had a source
    shown = unescape(text)
    assert "Test metrics" in shown and "Total params" in shown and 'optimizer = "adam"' in shown
    assert "test accuracy = " in html and "TPR (row)" in html


def test_report_command_writes_the_page_again(main_run, capsys):
    page = main_run["folder"] / "report.html"
    before = page.read_text()
    page.unlink()
    assert run_main("report", main_run["folder"]) == 0
    assert page.read_text() == before


# ---- other tasks and options, briefly, in this process ---------------------------------------


def quick_train(tmp_path, name, *flags):
    folder = tmp_path / name
    assert run_main("train", "--out", folder, "--epochs", "3", *flags) == 0
    return folder, json.loads((folder / "metrics.json").read_text())


def test_binary_run_and_its_predictions(tmp_path, capsys):
    folder, scores = quick_train(tmp_path, "bc", "--dataset", "breast_cancer", "--hidden", "8")
    assert scores["task"] == "binary" and scores["class_names"] == ["malignant", "benign"]
    assert np.array(scores["confusion_matrix"]).shape == (2, 2)
    source = tmp_path / "rows.csv"
    from aprende.datasets import load_breast_cancer

    X, _, info = load_breast_cancer()
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([info.feature_names, *X[:7].tolist()])
    assert run_main("predict", folder, source, "-o", tmp_path / "p.csv") == 0
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert len(rows) == 7 and set(rows[0]) == {"prediction", "p_malignant", "p_benign"}
    for row in rows:
        assert float(row["p_malignant"]) + float(row["p_benign"]) == pytest.approx(1, abs=1e-5)


def test_regression_run_scores_on_the_original_scale(tmp_path, capsys):
    folder, scores = quick_train(tmp_path, "dia", "--dataset", "diabetes", "--epochs", "10")
    assert scores["metric"] == "r2" and set(scores["average"]) == {"mse", "rmse", "mae", "r2"}
    output = scores["outputs"]["disease_progression"]
    assert output["rmse"] == pytest.approx(np.sqrt(output["mse"]))
    assert 20 < output["mae"] < 100  # the target's own units (25..346), not standardised ones
    assert (folder / "plots" / "predicted_vs_true.png").is_file()
    assert "test_r2:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("dataset", "extra"), [("multilabel", "confusion_matrices"), ("segmentation", "mean_iou")]
)
def test_multilabel_and_per_element_runs(tmp_path, capsys, dataset, extra):
    folder, scores = quick_train(tmp_path, dataset, "--dataset", dataset)
    assert extra in scores and 0 <= scores["accuracy"] <= 1
    assert run_main("evaluate", folder) == 0
    assert f"test_accuracy: {scores['accuracy']:.4f}" in capsys.readouterr().out


def test_other_optimizers_schedules_and_layers(tmp_path, capsys):
    flags = ["--dataset", "moons", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"]
    flags += ["--nesterov", "--schedule", "step", "--step-size", "1", "--gamma", "0.5"]
    flags += ["--batch-norm", "--noise", "0.05", "--normalization", "minmax", "--l1", "1e-4"]
    folder, _ = quick_train(tmp_path, "moons", *flags)
    rows = list(csv.DictReader((folder / "history.csv").open()))
    assert [float(r["lr"]) for r in rows] == pytest.approx([0.1, 0.05, 0.025])
    assert run_main("evaluate", folder) == 0  # batch-norm buffers load back


def test_train_again_with_the_same_out_resumes(tmp_path, capsys):
    folder, _ = quick_train(tmp_path, "iris", "--dataset", "iris", "--patience", "0")
    assert (
        run_main("train", "--out", folder, "--dataset", "iris", "--patience", "0", "--epochs", "5")
        == 0
    )
    assert "Resuming from epoch 4 of 5" in capsys.readouterr().out
    assert len(list(csv.DictReader((folder / "history.csv").open()))) == 5


def test_lr_find_plots_and_suggests(tmp_path, capsys):
    folder = tmp_path / "lr"
    status = run_main("lr-find", "--dataset", "iris", "--num-iter", "40", "--out", folder)
    assert status == 0
    assert re.search(r"suggested_lr: ([\d.e-]+|none)", capsys.readouterr().out)
    assert (folder / "lr_find.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list(csv.DictReader((folder / "lr_find.csv").open()))) > 3


def test_datasets_lists_each_with_task_and_size(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # the whole table: 80 columns go without "kind"
    assert run_main("datasets") == 0
    out = capsys.readouterr().out
    assert re.search(r"digits +bundled +multiclass +1797 x 64, 10 classes", out)
    assert re.search(r"breast_cancer +bundled +binary +569 x 30", out)
    assert re.search(r"diabetes +bundled +regression +442 x 10 -> 1", out)
    assert re.search(r"linnerud +bundled +multioutput_regression +20 x 3 -> 3", out)
    for name in ("moons", "segmentation", "multilabel"):
        assert re.search(rf"\n{name} +synthetic ", out)


# ---- --help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_each_command(command, capsys):
    assert run_main(command, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: aprende {command}")
    if command in ("train", "lr-find"):
        for spec in settings():
            assert "--" + spec.name.replace("_", "-") in out
        assert "(default: 0.001)" in out and "(default: adam)" in out


def test_help_of_the_command_lists_the_subcommands(capsys):
    assert run_main("--help") == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


# ---- every mistake: one line, exit 2 ---------------------------------------------------------


def test_unknown_key_in_the_config_file(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text("hiden = [64]\n")
    err = one_line_error(capsys, run_main("train", "--config", path))
    assert "unknown key 'hiden' (did you mean 'hidden'?)" in err


def test_bad_value_of_a_flag(capsys):
    err = one_line_error(capsys, run_main("train", "--lr", "fast"))
    assert err == "aprende train: error: --lr expects a number > 0, got 'fast'\n"


def test_bad_value_in_the_config_file(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text('optimizer = "adamm"\n')
    err = one_line_error(capsys, run_main("train", "--config", path))
    assert "key 'optimizer' expects one of sgd, adagrad, rmsprop, adam, adamw" in err


def test_unknown_flag(capsys):
    err = one_line_error(capsys, run_main("train", "--hiden", "3"))
    assert "unknown argument '--hiden' (did you mean --hidden?)" in err


def test_argparse_errors_are_one_line_too(capsys):
    err = one_line_error(capsys, run_main("evaluate", "run", "--split", "dev"))
    assert "argument --split: invalid choice: 'dev'" in err


def test_missing_csv_file(tmp_path, capsys):
    err = one_line_error(capsys, run_main("train", "--csv", tmp_path / "nope.csv"))
    assert "csv: the file" in err and "nope.csv' does not exist" in err


def test_missing_config_file_and_run_folder(tmp_path, capsys):
    err = one_line_error(capsys, run_main("train", "--config", tmp_path / "nope.toml"))
    assert "nope.toml' does not exist" in err
    err = one_line_error(capsys, run_main("evaluate", tmp_path / "nope"))
    assert "RUN: " in err and "does not exist" in err


def test_missing_predict_input(main_run, capsys):
    err = one_line_error(capsys, run_main("predict", main_run["folder"], "absent.csv"))
    assert "INPUT: the file 'absent.csv' does not exist" in err


def test_unwritable_output(main_run, capsys):
    source = main_run["cwd"] / "bare.csv"
    np.savetxt(source, digits_test_split()[4][:2], delimiter=",")
    target = main_run["cwd"] / "no-such-folder" / "out.csv"
    err = one_line_error(capsys, run_main("predict", main_run["folder"], source, "-o", target))
    assert "No such file or directory" in err


def test_checkpoint_of_another_model(main_run, tmp_path, capsys):
    other = tmp_path / "other"
    assert (
        run_main("train", "--dataset", "iris", "--hidden", "4", "--epochs", "1", "--out", other)
        == 0
    )
    capsys.readouterr()
    best = other / "checkpoints" / "best.json"
    err = one_line_error(capsys, run_main("evaluate", main_run["folder"], "--checkpoint", best))
    assert "does not fit this MLP" in err and "size mismatch for 0.weight" in err


def test_not_a_checkpoint(main_run, tmp_path, capsys):
    fake = tmp_path / "fake.json"
    fake.write_text('{"hello": 1}')
    err = one_line_error(capsys, run_main("evaluate", main_run["folder"], "--checkpoint", fake))
    assert "is not an aprende checkpoint" in err


def test_out_folder_of_a_run_with_other_settings(tmp_path, capsys):
    folder, _ = quick_train(tmp_path, "iris", "--dataset", "iris", "--epochs", "1")
    capsys.readouterr()
    err = one_line_error(
        capsys, run_main("train", "--dataset", "iris", "--lr", "0.1", "--out", folder)
    )
    assert f"out: {folder} holds a run with other settings (lr: 0.001 -> 0.1)" in err


def test_unavailable_device(capsys, monkeypatch):
    from aprende import backend

    monkeypatch.setattr(backend, "cuda_is_available", lambda: False)
    err = one_line_error(capsys, run_main("train", "--device", "cuda"))
    assert "device: 'cuda' is not available here" in err


def test_error_exit_status_of_the_real_process(tmp_path):
    result = aprende("train", "--batch-size", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "aprende train: error: --batch-size expects an integer >= 1, got '0'\n"
    assert not (tmp_path / "runs").exists()


def test_the_command_imports_no_heavy_library_before_it_needs_one():
    code = (
        "import sys, aprende.cli, aprende.report, aprende.config;"
        "heavy = {'matplotlib', 'sklearn', 'rich', 'safetensors', 'torch', 'scipy'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_version_names_the_package_version(capsys):
    import aprende

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"aprende {aprende.__version__}"
