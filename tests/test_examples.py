"""Each example of examples/ runs briefly (--quick) in its own process and prints its metric."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
pytest.importorskip("rich")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NUMBER = r"(-?\d+\.\d+)"

# Each example's metric lines and the range a brief run must reach (loose: --quick trains for
# a few epochs only; the full runs reach far more).
EXPECTED = {
    "autograd_from_scratch.py": {"test_accuracy": (0.9, 1)},
    "cnn_digits.py": {"test_accuracy_cnn": (0.5, 1), "test_accuracy_mlp": (0.5, 1)},
    "segmentation_unet.py": {"test_pixel_accuracy": (0.6, 1), "test_mean_iou": (0.0, 1)},
    "reconstruction_unet.py": {"test_mse": (0.0, 0.5), "test_psnr": (3, 60)},
    "binary_breast_cancer.py": {
        "test_accuracy": (0.85, 1),
        "test_tpr": (0.5, 1),
        "test_tnr": (0.5, 1),
        "test_ppv": (0.5, 1),
        "test_npv": (0.5, 1),
    },
    "multiclass_digits.py": {"test_accuracy": (0.9, 1)},
    "multilabel.py": {"test_label_accuracy": (0.8, 1), "test_subset_accuracy": (0.3, 1)},
    "per_element.py": {"test_pixel_accuracy": (0.7, 1), "test_mean_iou": (0.4, 1)},
    "regression_diabetes.py": {"test_r2": (0.0, 1), "test_rmse": (20, 120)},
    "multioutput_diabetes.py": {
        "test_r2_ldl": (0.5, 1),
        "test_r2_tc_hdl": (0.5, 1),
        "test_r2_progression": (0.0, 1),
        "test_r2": (0.4, 1),
        "linear_test_r2": (0.6, 0.8),
    },
    "perceptron_vs_adaline.py": {
        "test_accuracy_perceptron": (0.95, 1),
        "test_accuracy_adaline": (0.95, 1),
    },
    "optimizer_comparison.py": {
        f"test_accuracy_{key}": (0.3, 1)
        for key in ("sgd", "momentum", "adagrad", "rmsprop", "adam")
    },
    "regularisation.py": {},  # a table: test_regularisation_table_is_consistent reads it
}
REGULARISERS = ("none", "weight_decay", "dropout", "noise", "augmentation", "early_stopping")

# Each example's baseline line (the majority class, the training mean, or a model without
# learning), the range its value must be in, and the metric that a brief run must already beat
# (None where three epochs of a U-Net are too few to beat it: the full run does).
BASELINES = {
    "autograd_from_scratch.py": ("baseline_test_accuracy", (0.4, 0.6), "test_accuracy"),
    "binary_breast_cancer.py": ("baseline_test_accuracy", (0.55, 0.7), "test_accuracy"),
    "cnn_digits.py": ("baseline_test_accuracy", (0.09, 0.12), "test_accuracy_mlp"),
    "multiclass_digits.py": ("baseline_test_accuracy", (0.09, 0.12), "test_accuracy"),
    "multilabel.py": ("baseline_test_label_accuracy", (0.5, 0.8), "test_label_accuracy"),
    "multioutput_diabetes.py": ("baseline_test_r2", (-0.1, 0.0), "test_r2"),
    "optimizer_comparison.py": ("baseline_test_accuracy", (0.45, 0.55), "test_accuracy_adagrad"),
    "per_element.py": ("baseline_test_pixel_accuracy", (0.3, 0.7), "test_pixel_accuracy"),
    "perceptron_vs_adaline.py": ("baseline_test_accuracy", (0.4, 0.6), "test_accuracy_adaline"),
    "reconstruction_unet.py": ("baseline_test_psnr", (15, 17), None),
    "regression_diabetes.py": ("baseline_test_r2", (-0.1, 0.0), "test_r2"),
    "segmentation_unet.py": ("baseline_test_pixel_accuracy", (0.6, 0.8), None),
}
# Where scikit-learn's comparable model is printed too.
SKLEARN = {"binary_breast_cancer.py": (0.9, 1), "multiclass_digits.py": (0.9, 1)}
PLOTS = {
    "autograd_from_scratch.py": ["graph.dot"],
    "cnn_digits.py": ["cnn_curves.png", "cnn_filters.png"],
    "segmentation_unet.py": ["unet_curves.png", "unet_masks.png"],
    "reconstruction_unet.py": ["reconstruction_curves.png", "reconstructions.png"],
    "binary_breast_cancer.py": ["bc_learning_curves.png", "bc_confusion_matrix.png"],
    "multiclass_digits.py": ["digits_curves.png", "digits_confusion_matrix.png"],
    "multilabel.py": ["multilabel_curves.png"],
    "per_element.py": ["per_element_curves.png", "per_element_confusion_matrix.png"],
    "regression_diabetes.py": ["diabetes_curves.png", "diabetes_predictions.png"],
    "multioutput_diabetes.py": ["multioutput_curves.png", "multioutput_predictions.png"],
    "perceptron_vs_adaline.py": ["perceptron_vs_adaline.png"],
    "optimizer_comparison.py": ["optimizer_comparison.png"],
    "regularisation.py": ["regularisation.png"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every example at once (they are independent), then collect each one's output.

    One BLAS thread each: several processes share the machine's cores, and OpenBLAS threads
    that spin waiting for a busy core can slow a small run down a hundredfold.
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    started = {}
    for name in EXPECTED:
        out = tmp_path_factory.mktemp(name.removesuffix(".py"))
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / name), "--quick", "--out", str(out)],
            cwd=out,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[name] = (process, out)
    results = {}
    for name, (process, out) in started.items():
        stdout, stderr = process.communicate(timeout=300)
        results[name] = (process.returncode, stdout, stderr, out)
    return results


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_prints_its_metrics(runs, name):
    status, stdout, stderr, _ = runs[name]
    assert status == 0, stderr
    for metric, (low, high) in EXPECTED[name].items():
        found = re.findall(rf"^{metric}: {NUMBER}\b", stdout, flags=re.MULTILINE)
        assert len(found) == 1, f"{metric} not printed once in:\n{stdout}"
        assert low <= float(found[0]) <= high, f"{metric} = {found[0]}"


def printed(stdout: str, name: str) -> float:
    """The number on the one line that starts with ``name: ``."""
    found = re.findall(rf"^{name}: {NUMBER}\b", stdout, flags=re.MULTILINE)
    assert len(found) == 1, f"{name} not printed once in:\n{stdout}"
    return float(found[0])


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_example_prints_a_baseline_beside_its_metric(runs, name):
    status, stdout, stderr, _ = runs[name]
    assert status == 0, stderr
    key, (low, high), metric = BASELINES[name]
    baseline = printed(stdout, key)
    assert low <= baseline <= high, f"{key} = {baseline}"
    if metric is not None:
        assert printed(stdout, metric) > baseline, f"{metric} does not beat {key}"
    if name in SKLEARN:
        low, high = SKLEARN[name]
        assert low <= printed(stdout, "sklearn_test_accuracy") <= high


def test_every_example_has_a_baseline():
    assert sorted(BASELINES) == sorted(set(EXPECTED) - {"regularisation.py"})


def test_regularisation_table_is_consistent(runs):
    status, stdout, stderr, _ = runs["regularisation.py"]
    assert status == 0, stderr
    rows = {}
    for key in REGULARISERS:
        found = re.findall(
            rf"^{key} +{NUMBER} +{NUMBER} +{NUMBER} +(\d+)  \S", stdout, flags=re.MULTILINE
        )
        assert len(found) == 1, f"no table row for {key} in:\n{stdout}"
        train, test, gap, epochs = found[0]
        assert 0 <= float(test) <= 1 and 1 <= int(epochs) <= 5  # --quick: 5 epochs at most
        assert abs(float(train) - float(test) - float(gap)) <= 1.5e-4, key
        rows[key] = float(test)
    for key in REGULARISERS[1:]:  # each regulariser's verdict follows from the table
        found = re.findall(
            rf"^{key}: (helps|does not help here) \(test accuracy ([-+]\d+\.\d+) against no ",
            stdout,
            flags=re.MULTILINE,
        )
        assert len(found) == 1, f"no verdict for {key} in:\n{stdout}"
        verdict, difference = found[0][0], float(found[0][1])
        assert abs(difference - (rows[key] - rows["none"])) <= 1.5e-4, key
        assert (verdict == "helps") == (difference > 0), key


# How each kind of drawing an example writes starts.
SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".dot": b"digraph {"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_writes_its_plots(runs, name):
    out = runs[name][3]
    for plot in PLOTS[name]:
        signature = SIGNATURES[Path(plot).suffix]
        assert (out / plot).read_bytes()[: len(signature)] == signature, plot


def test_autograd_example_matches_the_chain_rule_and_finite_differences(runs):
    status, stdout, stderr, _ = runs["autograd_from_scratch.py"]
    assert status == 0, stderr
    # Each gradient backward() left, beside the same one written out with the chain rule.
    pairs = re.findall(r"^(\w)\.grad: (.+)  by hand: (.+)$", stdout, flags=re.MULTILINE)
    assert [name for name, _, _ in pairs] == ["y", "z", "w", "b"]
    for name, backward, by_hand in pairs:
        assert backward == by_hand, name
    assert re.search(r"^gradcheck: True$", stdout, flags=re.MULTILINE)
    assert re.search(r"label=\"Tanh\"", stdout)  # the DOT text is printed
    epochs = re.findall(rf"^epoch +\d+: train_loss {NUMBER}$", stdout, flags=re.MULTILINE)
    losses = [float(loss) for loss in epochs]
    assert len(losses) >= 3 and losses[-1] < losses[0] / 2, losses


def test_quick_mode_by_environment_variable(tmp_path):
    env = {**os.environ, "APRENDE_QUICK": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "perceptron_vs_adaline.py"), "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "test_accuracy_perceptron: 1.0000" in result.stdout
