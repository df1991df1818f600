"""Plots: each writes a PNG and draws what it says."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import aprende
from aprende import plots
from aprende.classic import Perceptron
from aprende.training import LRFinderResult

needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

HISTORY = {
    "loss": [1.0, 0.5, 0.3, 0.2, 0.15],
    "val_loss": [1.1, 0.6, 0.4, 0.45, 0.5],
    "accuracy": [0.5, 0.7, 0.8, 0.9, 0.95],
    "val_accuracy": [0.5, 0.6, 0.7, 0.75, 0.72],
    "lr": [0.1, 0.1, 0.01, 0.01, 0.001],
}


def blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2, 1, (30, 2)), rng.normal(2, 1, (30, 2))])
    return X, np.r_[np.zeros(30), np.ones(30)]


# ---------------------------------------------------------------------------------------------
# matplotlib plots
# ---------------------------------------------------------------------------------------------


def test_importing_plots_does_not_import_matplotlib():
    code = "import sys, aprende.plots; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_missing_matplotlib_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'aprende\[plots\]'"):
        plots.plot_lr([0.1, 0.01])


def plot_calls():
    X, y = blobs()
    perceptron = Perceptron().fit(X, y)
    rng = np.random.default_rng(0)
    lrs = np.logspace(-5, 1, 40)
    return {
        "learning_curves": lambda p: plots.plot_learning_curves(HISTORY, ["loss"], path=p),
        "lr": lambda p: plots.plot_lr(HISTORY, path=p),
        "confusion_matrix": lambda p: plots.plot_confusion_matrix([[5, 1], [2, 7]], path=p),
        "decision_boundary": lambda p: plots.plot_decision_boundary(perceptron, X, y, path=p),
        "hyperplane": lambda p: plots.plot_hyperplane([1.0, 2.0], 0.5, path=p),
        "regression": lambda p: plots.plot_regression(
            rng.normal(size=20), rng.normal(size=20), path=p
        ),
        "lr_finder": lambda p: plots.plot_lr_finder(lrs, np.cos(np.log(lrs)) + 2, path=p),
        "optimizer_comparison": lambda p: plots.plot_optimizer_comparison(
            {"SGD": [1.0, 0.5], "Adam": [1.0, 0.1]}, path=p
        ),
        "filters": lambda p: plots.plot_filters(rng.normal(size=(6, 1, 5, 5)), path=p),
        "feature_maps": lambda p: plots.plot_feature_maps(rng.random((5, 8, 8)), path=p),
        "masks": lambda p: plots.plot_masks(
            rng.random((2, 1, 8, 8)),
            rng.integers(0, 3, (2, 8, 8)),
            rng.integers(0, 3, (2, 8, 8)),
            path=p,
        ),
        "reconstructions": lambda p: plots.plot_reconstructions(
            rng.random((2, 1, 8, 8)), rng.random((2, 8, 8)), rng.random((2, 8, 8)), path=p
        ),
    }


@needs_matplotlib
@pytest.mark.parametrize("name", list(plot_calls()))
def test_each_plot_writes_a_png(name, tmp_path):
    path = tmp_path / f"{name}.png"
    figure = plot_calls()[name](path)
    content = path.read_bytes()
    assert content.startswith(PNG_SIGNATURE) and len(content) > 2000
    assert figure.axes


def lines(axis, label):
    return [line for line in axis.get_lines() if line.get_label() == label]


@needs_matplotlib
def test_learning_curves_show_train_validation_and_best_epoch():
    figure = plots.plot_learning_curves(HISTORY, ("loss", "accuracy"))
    loss_ax, accuracy_ax = figure.axes
    np.testing.assert_array_equal(lines(loss_ax, "training")[0].get_ydata(), HISTORY["loss"])
    np.testing.assert_array_equal(lines(loss_ax, "validation")[0].get_ydata(), HISTORY["val_loss"])
    np.testing.assert_array_equal(lines(loss_ax, "training")[0].get_xdata(), [1, 2, 3, 4, 5])
    # Lowest validation loss at epoch 3, highest validation accuracy at epoch 4.
    assert lines(loss_ax, "best epoch 3")[0].get_xdata()[0] == 3
    assert lines(accuracy_ax, "best epoch 4")[0].get_xdata()[0] == 4


@needs_matplotlib
def test_learning_curves_accept_keras_histories_and_csv_rows():
    class KerasLike:
        history = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}

    figure = plots.plot_learning_curves(KerasLike())
    assert lines(figure.axes[0], "best epoch 2")
    rows = [
        {"epoch": "1", "loss": "0.9", "val_loss": ""},
        {"epoch": "2", "loss": "0.4", "val_loss": "0.5"},
    ]
    figure = plots.plot_learning_curves(rows)
    np.testing.assert_array_equal(lines(figure.axes[0], "training")[0].get_ydata(), [0.9, 0.4])
    with pytest.raises(KeyError, match=r"history has no 'accuracy'; it has \['loss', 'val_loss'\]"):
        plots.plot_learning_curves(KerasLike(), ["accuracy"])
    with pytest.raises(TypeError, match="expected a history"):
        plots.plot_learning_curves(42)
    with pytest.raises(ValueError, match="expected 2 Axes in ax=, got 1"):
        plots.plot_learning_curves(HISTORY, ["loss", "accuracy"], ax=figure.axes[0])


@needs_matplotlib
def test_lr_plot_is_log_scaled_from_a_history_or_a_list():
    axis = plots.plot_lr(HISTORY).axes[0]
    assert axis.get_yscale() == "log"
    np.testing.assert_array_equal(axis.get_lines()[0].get_ydata(), HISTORY["lr"])
    axis = plots.plot_lr(np.array([0.1, 0.05])).axes[0]
    np.testing.assert_array_equal(axis.get_lines()[0].get_ydata(), [0.1, 0.05])


@needs_matplotlib
@pytest.mark.parametrize("normalize", [None, "true", "pred"])
def test_confusion_matrix_shows_counts_and_rates_by_row_or_column(normalize):
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    figure = plots.plot_confusion_matrix(aprende.tensor(cm), ["a", "b", "c"], normalize)
    texts = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
        for t in figure.axes[0].texts
    }
    row_rate = cm[1, 0] / (2 + 7 + 1)  # by true class: how much of class b went to a
    column_rate = cm[1, 0] / (5 + 2 + 0)  # by predicted class: how much of "a" was really b
    expected = {None: "2", "true": f"2\n{row_rate:.2f}", "pred": f"2\n{column_rate:.2f}"}
    assert texts[(1, 0)] == expected[normalize]
    # Class c: all 4 of its examples found (TPR 1.00); 4 of the 5 predicted c were c (PPV 0.80).
    assert texts[(2, 2)] == {None: "4", "true": "4\n1.00", "pred": "4\n0.80"}[normalize]
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["a", "b", "c"]


@needs_matplotlib
def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"expected a square matrix \(C, C\), got \(2, 3\)"):
        plots.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="normalize must be None, 'true' or 'pred', got 'all'"):
        plots.plot_confusion_matrix(np.eye(2), normalize="all")
    with pytest.raises(ValueError, match="expected 2 class names, got 3"):
        plots.plot_confusion_matrix(np.eye(2), ["a", "b", "c"])


def contour_levels(axis):
    return [list(c.levels) for c in axis.collections if hasattr(c, "levels")]


@needs_matplotlib
def test_decision_boundary_from_a_model_a_score_function_or_a_module():
    X, y = blobs()
    axis = plots.plot_decision_boundary(Perceptron().fit(X, y), X, y, resolution=50).axes[0]
    points = [c for c in axis.collections if not hasattr(c, "levels")]
    assert points[0].get_offsets().shape == (60, 2)
    # A probability (sigmoid of a margin): the boundary drawn at 0.5.
    axis = plots.plot_decision_boundary(lambda g: 1 / (1 + np.exp(-g.sum(1))), X, y).axes[0]
    assert [0.5] in contour_levels(axis)
    # A margin of any sign: the boundary at 0.
    axis = plots.plot_decision_boundary(lambda g: g.sum(1) * 3, X, y).axes[0]
    assert [0.0] in contour_levels(axis)

    class TwoLogits:  # an aprende module: called on a tensor, without recording a graph
        def forward(self, x):
            assert isinstance(x, aprende.Tensor) and not aprende.is_grad_enabled()
            return aprende.stack([-x.sum(1), x.sum(1)], dim=1)

        __call__ = forward

    plots.plot_decision_boundary(TwoLogits(), X, y, resolution=20)
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 2\).*got \(60, 3\)"):
        plots.plot_decision_boundary(TwoLogits(), np.zeros((60, 3)), y)


@needs_matplotlib
def test_hyperplane_is_the_line_where_w_x_plus_b_is_zero():
    w, b = np.array([1.5, -2.0]), 0.5
    line = plots.plot_hyperplane(w, b, xlim=(-3, 3)).axes[0].get_lines()[0]
    x1, x2 = line.get_xdata(), line.get_ydata()
    np.testing.assert_allclose(w[0] * x1 + w[1] * x2 + b, 0, atol=1e-12)
    np.testing.assert_array_equal(x1, [-3, 3])
    vertical = plots.plot_hyperplane([[2.0, 0.0]], 1.0).axes[0].get_lines()[0]
    np.testing.assert_array_equal(vertical.get_xdata(), [-0.5, -0.5])
    with pytest.raises(ValueError, match="w is zero"):
        plots.plot_hyperplane([0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match=r"expected w with 2 elements, got shape \(3,\)"):
        plots.plot_hyperplane([1.0, 2.0, 3.0], 1.0)


@needs_matplotlib
def test_hyperplane_on_the_decision_boundary_axes_keeps_the_view():
    X, y = blobs()
    model = Perceptron().fit(X, y)
    axis = plots.plot_decision_boundary(model, X, y, resolution=20).axes[0]
    view = axis.get_xlim(), axis.get_ylim()
    plots.plot_hyperplane(model.coef_, model.intercept_, ax=axis)
    assert (axis.get_xlim(), axis.get_ylim()) == view
    line = lines(axis, "w1 x1 + w2 x2 + b = 0")[0]
    np.testing.assert_allclose(line.get_xdata(), view[0])


@needs_matplotlib
def test_regression_plot_has_one_panel_per_output_with_the_identity_line():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(25, 3)), rng.normal(size=(25, 3))
    figure = plots.plot_regression(y_true, y_pred)
    assert len(figure.axes) == 3
    for i, axis in enumerate(figure.axes):
        identity = lines(axis, "y = ŷ")[0]
        np.testing.assert_array_equal(identity.get_xdata(), identity.get_ydata())
        np.testing.assert_array_equal(axis.collections[0].get_offsets()[:, 1], y_pred[:, i])
    with pytest.raises(ValueError, match=r"same shape.*got \(25, 3\) and \(25,\)"):
        plots.plot_regression(y_true, y_pred[:, 0])


def span(patch):
    """The x extent of an axvspan (a Rectangle in recent matplotlib, a Polygon before)."""
    if hasattr(patch, "get_width"):
        return patch.get_x(), patch.get_x() + patch.get_width()
    xs = np.asarray(patch.get_xy())[:, 0]
    return xs.min(), xs.max()


@needs_matplotlib
def test_lr_finder_shades_too_low_good_and_too_high():
    lrs = np.logspace(-5, 0, 11)
    losses = [2.3, 2.3, 2.29, 2.1, 1.6, 1.0, 0.7, 0.5, 0.9, 3.0, np.inf]
    axis = plots.plot_lr_finder(lrs, losses, suggestion=1e-2).axes[0]
    assert axis.get_xscale() == "log"
    spans = {p.get_label(): span(p) for p in axis.patches}
    # The loss first falls below 2.3 − 0.1·(2.3 − 0.5) = 2.12 at index 3; lowest at index 7.
    np.testing.assert_allclose(spans["too low"], (lrs[0], lrs[3]))
    np.testing.assert_allclose(spans["good"], (lrs[3], lrs[7]))
    np.testing.assert_allclose(spans["too high"], (lrs[7], lrs[9]))  # the inf is left out
    assert lines(axis, "suggested lr 0.01")[0].get_xdata()[0] == 1e-2
    with pytest.raises(ValueError, match=r"same shape \(K,\), got \(11,\) and \(3,\)"):
        plots.plot_lr_finder(lrs, [1.0, 2.0, 3.0])


@needs_matplotlib
def test_lr_finder_draws_what_lr_find_returns():
    result = LRFinderResult(list(np.logspace(-5, 0, 6)), [2.3, 2.0, 1.0, 0.5, 0.9, 3.0], 1e-3)
    axis = plots.plot_lr_finder(result).axes[0]
    np.testing.assert_array_equal(axis.get_lines()[0].get_xdata(), result.lrs)
    np.testing.assert_array_equal(axis.get_lines()[0].get_ydata(), result.losses)
    assert lines(axis, "suggested lr 0.001")


@needs_matplotlib
def test_optimizer_comparison_on_one_set_of_axes():
    curves = {"SGD": [1.0, 0.8, 0.6], "Adam": [1.0, 0.3, 0.1]}
    figure = plots.plot_optimizer_comparison(curves)
    (axis,) = figure.axes
    assert axis.get_yscale() == "log"
    np.testing.assert_array_equal(lines(axis, "Adam")[0].get_ydata(), curves["Adam"])
    assert plots.plot_optimizer_comparison(curves, log=False).axes[0].get_yscale() == "linear"


@needs_matplotlib
def test_filters_use_a_scale_symmetric_about_zero_and_one_tile_per_filter():
    weight = np.zeros((3, 2, 3, 3))
    weight[0, :, 1, 1] = 2.0
    weight[2, :, 0, 0] = -0.5
    figure = plots.plot_filters(aprende.tensor(weight))
    images = [axis.images[0] for axis in figure.axes if axis.images]
    assert len(images) == 3
    assert images[0].get_clim() == (-2.0, 2.0)
    np.testing.assert_array_equal(images[0].get_array(), weight[0].mean(axis=0))


@needs_matplotlib
def test_masks_show_input_truth_and_prediction_in_the_same_colours():
    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 4, (2, 6, 6)), rng.integers(0, 4, (2, 6, 6))
    figure = plots.plot_masks(rng.random((2, 6, 6)), truth, predicted, num_classes=11)
    assert len(figure.axes) == 6
    middle, right = figure.axes[1].images[0], figure.axes[2].images[0]
    assert middle.get_clim() == right.get_clim() == (0, 10)
    np.testing.assert_array_equal(right.get_array(), predicted[0])
    with pytest.raises(ValueError, match="must have the same"):
        plots.plot_masks(rng.random((2, 6, 6)), truth, predicted[:1])
