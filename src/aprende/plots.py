"""Plots of the course: learning curves, confusion matrices, boundaries, LR curves.

Every plotting function takes data (arrays, lists or tensors), optionally ``ax=`` (draw on an
existing matplotlib Axes) and ``path=`` (also write the figure there, PNG by the suffix), and
returns the matplotlib ``Figure``. Figures are built with ``matplotlib.figure.Figure`` and saved
through the Agg canvas, never through ``pyplot``: nothing opens a window, nothing changes the
global backend, and no figure stays alive in pyplot's registry (headless servers and notebooks
alike; a notebook displays the returned Figure).

matplotlib is imported inside the functions, so ``import aprende.plots`` stays light. The
computational graph is drawn by ``aprende.graph.draw_graph`` (DOT text, no matplotlib).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np

# ---------------------------------------------------------------------------------------------
# matplotlib helpers
# ---------------------------------------------------------------------------------------------


def _figure(ax=None, ncols: int = 1, size: tuple[float, float] = (5.5, 4.0)):
    """``(figure, [axes...])``: ``ax``'s figure, or a new headless one with ``ncols`` axes."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("aprende.plots needs matplotlib: pip install 'aprende[plots]'") from error
    if ax is not None:
        axes = list(np.ravel(ax)) if isinstance(ax, (Sequence, np.ndarray)) else [ax]
        if len(axes) != ncols:
            raise ValueError(f"expected {ncols} Axes in ax=, got {len(axes)}")
        return axes[0].figure, axes
    figure = Figure(figsize=(size[0] * ncols, size[1]), layout="constrained")
    return figure, list(np.atleast_1d(figure.subplots(1, ncols)))


def _finish(figure, path):
    """Write the figure to ``path`` when given (format by suffix, PNG by default)."""
    if path is not None:
        figure.savefig(os.fspath(path), dpi=100)
    return figure


def _epoch_axis(axis, ylabel: str, title: str) -> None:
    """Label an axes whose x is the epoch number (whole numbers only) and grid it."""
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set(xlabel="epoch", ylabel=ylabel, title=title)
    axis.grid(alpha=0.3, which="both")


def _history_dict(history) -> Mapping:
    """Per-epoch series from a mapping, an object with a ``.history`` mapping (Keras) or a list
    of per-epoch rows (``csv.DictReader`` of ``history.csv``)."""
    history = getattr(history, "history", history)
    if isinstance(history, Sequence) and history and isinstance(history[0], Mapping):
        keys = history[0].keys()
        history = {k: [row.get(k) for row in history] for k in keys}
    if not hasattr(history, "keys"):
        raise TypeError(
            "expected a history: a mapping name -> per-epoch values, an object with a "
            f".history mapping, or a list of per-epoch rows; got {type(history).__name__}"
        )
    return history


def _series(history: Mapping, name: str) -> np.ndarray:
    """One per-epoch series as floats; a missing value (None, or "" in a CSV row) is NaN."""
    if name not in history:
        raise KeyError(f"history has no {name!r}; it has {sorted(history.keys())}")
    values = [np.nan if v is None or (isinstance(v, str) and not v) else v for v in history[name]]
    return np.asarray(values, dtype=float)


def _lower_is_better(metric: str) -> bool:
    """Losses and errors are minimised; every other metric (accuracy, F1, R²...) maximised."""
    return any(word in metric.lower() for word in ("loss", "error", "mse", "mae", "rmse"))


# ---------------------------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------------------------


def plot_learning_curves(
    history, metrics: Sequence[str] = ("loss",), ax=None, path=None, kept_epoch: int | None = None
):
    """Learning curves: per epoch, training vs validation of each metric, one subplot each.

    ``history`` maps names to per-epoch values (``{"loss": [...], "val_loss": [...],
    "accuracy": [...], ...}``), or has such a mapping as ``.history`` (Keras), or is a list of
    per-epoch rows. For each name ``m`` in ``metrics`` the curve ``m`` is drawn as training and
    ``val_m`` (when present) as validation, with the best validation epoch marked (lowest for
    losses and errors, highest otherwise): validation rising while training keeps falling is
    overfitting; both high and flat is underfitting. ``ax``: one Axes per metric.
    ``kept_epoch`` (counted from 1): the epoch whose weights a run kept; the dashed line marks
    it on every subplot (by default each curve's own best epoch), the stars stay on each
    curve's best.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    series = _history_dict(history)
    figure, axes = _figure(ax, len(metrics))
    for axis, metric in zip(axes, metrics, strict=True):
        train = _series(series, metric)
        epochs = np.arange(1, len(train) + 1)
        axis.plot(epochs, train, marker=".", label="training")
        val_name = f"val_{metric}"
        val = _series(series, val_name) if val_name in series else np.array([np.nan])
        if np.isfinite(val).any():
            axis.plot(np.arange(1, len(val) + 1), val, marker=".", label="validation")
            best = np.nanargmin(val) if _lower_is_better(metric) else np.nanargmax(val)
            axis.plot([best + 1], [val[best]], "k*", markersize=10)
            if kept_epoch is None:
                axis.axvline(best + 1, color="gray", linestyle="--", label=f"best epoch {best + 1}")
        if kept_epoch is not None:
            axis.axvline(
                kept_epoch, color="gray", linestyle="--", label=f"weights kept: epoch {kept_epoch}"
            )
        _epoch_axis(axis, metric, metric)
        axis.legend()
    return _finish(figure, path)


def plot_lr(history_or_lrs, ax=None, path=None):
    """The learning rate per epoch (log y): a sequence of rates, or a history with ``"lr"``."""
    history = getattr(history_or_lrs, "history", history_or_lrs)
    rows = isinstance(history, Sequence) and len(history) and isinstance(history[0], Mapping)
    if hasattr(history, "keys") or rows:
        lrs = _series(_history_dict(history), "lr")
    else:
        lrs = np.asarray(history, dtype=float)
    figure, (axis,) = _figure(ax)
    axis.plot(np.arange(1, len(lrs) + 1), lrs, marker=".")
    axis.set_yscale("log")
    _epoch_axis(axis, "learning rate", "learning rate")
    return _finish(figure, path)


def plot_lr_finder(result_or_lrs, losses=None, suggestion: float | None = None, ax=None, path=None):
    """The LR range test: loss against learning rate (log x), with its three regimes shaded.

    Takes what ``aprende.training.lr_find`` returns (its ``lrs``, ``losses`` and
    ``suggestion``), or the rates and the losses themselves. Rates before the loss starts to
    fall (by 10% of its total drop) are *too low*, rates from there to the lowest loss are
    *good*, rates past the lowest loss are *too high* (the loss climbs, then diverges;
    non-finite losses are left out). ``suggestion`` is marked.
    """
    if losses is None:
        lrs, losses = result_or_lrs.lrs, result_or_lrs.losses
        suggestion = result_or_lrs.suggestion if suggestion is None else suggestion
    else:
        lrs = result_or_lrs
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if lrs.shape != losses.shape or lrs.ndim != 1:
        raise ValueError(
            f"plot_lr_finder: expected lrs and losses of the same shape (K,), got {lrs.shape} "
            f"and {losses.shape}"
        )
    finite = np.isfinite(losses)
    if not finite.any():
        raise ValueError("plot_lr_finder: every loss is NaN or infinite")
    lrs, losses = lrs[finite], losses[finite]
    figure, (axis,) = _figure(ax)
    axis.plot(lrs, losses)
    axis.set_xscale("log")
    lowest = int(np.argmin(losses))
    drop = losses[0] - losses[lowest]
    start = int(np.argmax(losses < losses[0] - 0.1 * drop)) if drop > 0 else lowest
    regions = [
        (lrs[0], lrs[start], "tab:orange", "too low"),
        (lrs[start], lrs[lowest], "tab:green", "good"),
        (lrs[lowest], lrs[-1], "tab:red", "too high"),
    ]
    for left, right, color, label in regions:
        if right > left:
            axis.axvspan(left, right, color=color, alpha=0.12, label=label)
    if suggestion is not None:
        axis.axvline(suggestion, color="k", linestyle="--", label=f"suggested lr {suggestion:.2g}")
    axis.set(xlabel="learning rate (log)", ylabel="loss", title="LR range test")
    axis.legend()
    return _finish(figure, path)


def plot_optimizer_comparison(
    curves: Mapping[str, Sequence[float]],
    ax=None,
    path=None,
    log: bool = True,
    xlabel: str = "epoch",
):
    """Loss curves of several optimizers on one set of axes (log y when ``log``)."""
    figure, (axis,) = _figure(ax)
    for name, losses in curves.items():
        losses = np.asarray(losses, dtype=float)
        axis.plot(np.arange(1, len(losses) + 1), losses, label=name)
    if log:
        axis.set_yscale("log")
    axis.set(xlabel=xlabel, ylabel="loss", title="optimizer comparison")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    return _finish(figure, path)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def plot_confusion_matrix(
    cm,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
    ax=None,
    path=None,
):
    """The confusion matrix as a heatmap with the count in each cell.

    ``cm`` (C, C) has the true class on rows and the predicted class on columns (scikit-learn's
    layout; the slides draw its transpose). ``normalize="true"`` also shows the rates by true
    class, cmᵢⱼ / Σⱼ cmᵢⱼ: the diagonal reads TPR (sensitivity, recall) and the rest of a row
    its misses (FNR); ``"pred"`` the rates by predicted class, cmᵢⱼ / Σᵢ cmᵢⱼ: the diagonal
    reads PPV (precision). Colours follow the rates when shown, else the counts.
    """
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix (C, C), got {cm.shape}")
    n = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"plot_confusion_matrix: expected {n} class names, got {len(names)}")
    if normalize not in (None, "true", "pred"):
        raise ValueError(
            f"plot_confusion_matrix: normalize must be None, 'true' or 'pred', got {normalize!r}"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        axis_sum = {"true": cm.sum(axis=1, keepdims=True), "pred": cm.sum(axis=0, keepdims=True)}
        rates = cm / axis_sum[normalize] if normalize else None
    shown = rates if normalize else cm
    figure, (axis,) = _figure(ax, size=(max(4.5, 1.0 + 0.7 * n), max(4.0, 0.6 + 0.7 * n)))
    image = axis.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    figure.colorbar(image, ax=axis)
    threshold = np.nanmax(shown) / 2 if np.isfinite(shown).any() else 0
    for i in range(n):
        for j in range(n):
            text = f"{cm[i, j]:g}"
            if normalize:
                text += "\n" + ("n/a" if np.isnan(rates[i, j]) else f"{rates[i, j]:.2f}")
            color = "white" if shown[i, j] > threshold else "black"
            axis.text(j, i, text, ha="center", va="center", color=color, fontsize=9)
    titles = {
        None: "confusion matrix (counts)",
        "true": "rates by row: diagonal = TPR (recall)",
        "pred": "rates by column: diagonal = PPV (precision)",
    }
    axis.set(
        xticks=range(n),
        yticks=range(n),
        xticklabels=names,
        yticklabels=names,
        xlabel="predicted class",
        ylabel="true class",
        title=titles[normalize],
    )
    return _finish(figure, path)


def plot_regression(y_true, y_pred, ax=None, path=None, output_names: Sequence[str] | None = None):
    """Predicted against true values with the identity line y = ŷ, one subplot per output.

    ``y_true`` and ``y_pred`` have the same shape, (N,) or (N, K); points on the line are
    perfect predictions, a cloud tilted flatter than it is a model that regresses to the mean.
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.ndim not in (1, 2):
        raise ValueError(
            f"plot_regression: expected y_true and y_pred of the same shape (N,) or (N, K), "
            f"got {y_true.shape} and {y_pred.shape}"
        )
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    k = y_true.shape[1]
    names = (
        list(output_names)
        if output_names is not None
        else (["output"] if k == 1 else [f"output {i}" for i in range(k)])
    )
    if len(names) != k:
        raise ValueError(f"plot_regression: expected {k} output names, got {len(names)}")
    figure, axes = _figure(ax, k, size=(4.5, 4.0))
    for i, axis in enumerate(axes):
        axis.scatter(y_true[:, i], y_pred[:, i], s=12, alpha=0.7)
        low = min(y_true[:, i].min(), y_pred[:, i].min())
        high = max(y_true[:, i].max(), y_pred[:, i].max())
        axis.plot([low, high], [low, high], "k--", label="y = ŷ")
        axis.set(xlabel="true", ylabel="predicted", title=names[i])
        axis.legend()
    return _finish(figure, path)


# ---------------------------------------------------------------------------------------------
# 2-D classifiers
# ---------------------------------------------------------------------------------------------


def _predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    """A function (M, 2) float array -> (M,) or (M, C) NumPy array from ``model``.

    An object with ``predict`` (scikit-learn, ``aprende.classic``) is called on the array; an
    ``aprende`` module (it has ``forward``) on a float32 tensor without recording a graph; any
    other callable on the array.
    """
    if hasattr(model, "predict"):
        return lambda grid: np.asarray(model.predict(grid))
    if hasattr(model, "forward"):
        from aprende import float32, no_grad, tensor

        def call_module(grid):
            with no_grad():
                return np.asarray(model(tensor(grid, dtype=float32)))

        return call_module
    if callable(model):
        return lambda grid: np.asarray(model(grid))
    raise TypeError(f"expected a callable or an object with predict(), got {type(model).__name__}")


def plot_decision_boundary(model, X, y, ax=None, resolution: int = 200, path=None):
    """The regions a 2-D classifier assigns to each class, with the points (X, y) on top.

    ``model`` maps an (M, 2) array of grid points to labels (M,), to class scores (M, C) (the
    argmax is taken), or to one score per point (M,): a score in [0, 1] is read as a
    probability (boundary at 0.5), any other as a margin or logit (boundary at 0). It may be a
    callable, an object with ``predict`` or an ``aprende`` module. X is (N, 2), y (N,).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"plot_decision_boundary: expected X of shape (N, 2) and y of shape (N,), got "
            f"{X.shape} and {y.shape}"
        )
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.where(high > low, 0.1 * (high - low), 1.0)
    g1, g2 = np.meshgrid(
        np.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
        np.linspace(low[1] - margin[1], high[1] + margin[1], resolution),
    )
    out = _predictor(model)(np.column_stack([g1.ravel(), g2.ravel()]))
    if out.ndim == 2 and out.shape[1] > 1:
        out = out.argmax(axis=1)
    out = out.reshape(g1.shape)
    figure, (axis,) = _figure(ax)
    classes = np.unique(y)
    is_labels = out.dtype.kind in "biuU" or np.isin(out, classes).all()
    if is_labels:
        # Regions coloured by class index, in the same colours as the points.
        index = np.searchsorted(classes, out).clip(0, len(classes) - 1)
        levels = np.arange(len(classes) + 1) - 0.5
        axis.contourf(g1, g2, index, levels=levels, cmap="coolwarm", alpha=0.3)
    else:
        # Levels symmetric about the boundary, so its colour is the neutral middle of the map.
        if out.min() >= 0 and out.max() <= 1:
            threshold, levels = 0.5, np.linspace(0, 1, 21)
        else:
            spread = max(float(np.abs(out).max()), 1e-12)
            threshold, levels = 0.0, np.linspace(-spread, spread, 21)
        axis.contourf(g1, g2, out, levels=levels, cmap="coolwarm", alpha=0.3)
        axis.contour(g1, g2, out, levels=[threshold], colors="k", linewidths=1.5)
    point_index = np.searchsorted(classes, y)
    axis.scatter(
        X[:, 0],
        X[:, 1],
        c=point_index,
        cmap="coolwarm",
        vmin=0,
        vmax=max(len(classes) - 1, 1),
        edgecolors="k",
        s=25,
    )
    axis.set(xlabel="x1", ylabel="x2", title="decision regions")
    return _finish(figure, path)


def plot_hyperplane(
    w,
    b,
    ax=None,
    path=None,
    xlim: tuple[float, float] | None = None,
    label: str = "w1 x1 + w2 x2 + b = 0",
    **line_options,
):
    """The line w1 x1 + w2 x2 + b = 0 a perceptron or ADALINE draws in the plane.

    ``w`` has 2 elements (shape (2,) or scikit-learn's (1, 2)), ``b`` is a number. On an existing
    ``ax`` (e.g. from ``plot_decision_boundary``) the line spans its x range and the view is left
    as it was; on a new figure it spans ``xlim`` (default (-1, 1)).
    """
    w = np.asarray(w, dtype=float).reshape(-1)
    b = float(np.asarray(b, dtype=float).reshape(-1)[0])
    if w.shape != (2,):
        raise ValueError(f"plot_hyperplane: expected w with 2 elements, got shape {w.shape}")
    if not w.any():
        raise ValueError("plot_hyperplane: w is zero, so w1 x1 + w2 x2 + b = 0 is no line")
    figure, (axis,) = _figure(ax)
    limits = (axis.get_xlim(), axis.get_ylim()) if ax is not None else None
    x_low, x_high = xlim or (limits[0] if limits else (-1.0, 1.0))
    if w[1] != 0:
        x1 = np.array([x_low, x_high])
        axis.plot(x1, -(w[0] * x1 + b) / w[1], label=label, **{"color": "k", **line_options})
    else:
        axis.axvline(-b / w[0], label=label, **{"color": "k", **line_options})
    if limits:
        axis.set(xlim=limits[0], ylim=limits[1])
    axis.legend()
    return _finish(figure, path)


# ---------------------------------------------------------------------------------------------
# images: filters, feature maps, per-pixel predictions
# ---------------------------------------------------------------------------------------------


def _grid(rows: int, cols: int, tile: float = 1.3):
    """A new headless figure with a rows × cols grid of axes, ticks off."""
    figure, _ = _figure(size=(tile * cols, tile * rows + 0.4))
    figure.clear()
    axes = np.atleast_2d(figure.subplots(rows, cols, squeeze=False))
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    return figure, axes


def _as_array(values, name: str, ndim: int, op: str) -> np.ndarray:
    array = np.asarray(values.detach().numpy() if hasattr(values, "detach") else values)
    if array.ndim != ndim:
        raise ValueError(f"{op}: expected {name} with {ndim} dimensions, got shape {array.shape}")
    return array


def plot_filters(weight, max_filters: int = 64, path=None):
    """A convolution layer's learned filters, one tile per output channel.

    ``weight`` (out_channels, in_channels, kH, kW), e.g. ``model.features[0].weight``: each
    tile shows a filter's weights over its first input channel (the mean over the input
    channels when there are several), blue negative and red positive on a scale symmetric
    about 0, so a tile reads as the pattern the filter responds to.
    """
    weight = _as_array(weight, "a weight", 4, "plot_filters")
    filters = weight[:max_filters].mean(axis=1)
    cols = min(8, len(filters))
    rows = -(-len(filters) // cols)
    figure, axes = _grid(rows, cols)
    limit = float(np.abs(filters).max()) or 1.0
    for i, axis in enumerate(axes.ravel()):
        if i < len(filters):
            axis.imshow(filters[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axis.set_title(str(i), fontsize=8)
        else:
            axis.set_axis_off()
    figure.suptitle(f"first-layer filters ({weight.shape[2]}×{weight.shape[3]})")
    return _finish(figure, path)


def plot_feature_maps(maps, max_maps: int = 32, path=None):
    """The feature maps of one example, (channels, H, W): what each filter found where."""
    maps = _as_array(maps, "maps of one example (C, H, W)", 3, "plot_feature_maps")[:max_maps]
    cols = min(8, len(maps))
    rows = -(-len(maps) // cols)
    figure, axes = _grid(rows, cols)
    for i, axis in enumerate(axes.ravel()):
        if i < len(maps):
            axis.imshow(maps[i], cmap="viridis")
            axis.set_title(str(i), fontsize=8)
        else:
            axis.set_axis_off()
    figure.suptitle("feature maps of one example")
    return _finish(figure, path)


def _first_channel(images, op: str) -> np.ndarray:
    images = np.asarray(images.detach().numpy() if hasattr(images, "detach") else images)
    if images.ndim == 4:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"{op}: expected images (N, C, H, W) or (N, H, W), got {images.shape}")
    return images


def plot_masks(images, true_masks, predicted_masks, num_classes: int | None = None, path=None):
    """Per-pixel classification, one row per example: input | true mask | predicted mask.

    ``images`` (N, C, H, W) or (N, H, W); masks (N, H, W) of class indices, drawn with one
    colour per class (the same colours in both mask columns).
    """
    images = _first_channel(images, "plot_masks")
    true_masks = _as_array(true_masks, "masks (N, H, W)", 3, "plot_masks")
    predicted_masks = _as_array(predicted_masks, "masks (N, H, W)", 3, "plot_masks")
    if not images.shape == true_masks.shape == predicted_masks.shape:
        raise ValueError(
            f"plot_masks: images {images.shape}, true masks {true_masks.shape} and predicted "
            f"masks {predicted_masks.shape} must have the same (N, H, W)"
        )
    top = num_classes - 1 if num_classes else int(max(true_masks.max(), predicted_masks.max()))
    figure, axes = _grid(len(images), 3, tile=1.8)
    for row, (image, truth, predicted) in enumerate(
        zip(images, true_masks, predicted_masks, strict=True)
    ):
        axes[row, 0].imshow(image, cmap="gray")
        axes[row, 1].imshow(truth, cmap="tab20", vmin=0, vmax=max(top, 1), interpolation="nearest")
        axes[row, 2].imshow(
            predicted, cmap="tab20", vmin=0, vmax=max(top, 1), interpolation="nearest"
        )
    for axis, title in zip(axes[0], ("input", "true mask", "predicted mask"), strict=True):
        axis.set_title(title, fontsize=9)
    return _finish(figure, path)


def plot_reconstructions(inputs, targets, outputs, path=None):
    """Per-pixel regression, one row per example: input | target | reconstruction (gray)."""
    columns = [_first_channel(a, "plot_reconstructions") for a in (inputs, targets, outputs)]
    if len({c.shape for c in columns}) != 1:
        raise ValueError(
            "plot_reconstructions: inputs, targets and outputs must have the same shape, got "
            + ", ".join(str(c.shape) for c in columns)
        )
    low = min(float(c.min()) for c in columns[1:])
    high = max(float(c.max()) for c in columns[1:])
    figure, axes = _grid(len(columns[0]), 3, tile=1.8)
    for row in range(len(columns[0])):
        for col, column in enumerate(columns):
            axes[row, col].imshow(column[row], cmap="gray", vmin=low, vmax=high)
    for axis, title in zip(axes[0], ("input", "target", "reconstruction"), strict=True):
        axis.set_title(title, fontsize=9)
    return _finish(figure, path)
