"""The HTML page of a run: ``report.html``.

``write_report`` writes the run folder's ``report.html``: one self-contained page that opens in
any browser, offline. Everything is inside the file: the plots as base64 ``data:`` URIs, the
styles in a ``<style>`` element, no script, no font, no link to anything outside. The page is
built only from the files of the run folder (``config.toml``, ``metrics.json``,
``history.csv``, ``model.txt``, ``plots/*.png``), so ``aprende report RUN`` can write it again
at any time.

Sections (each an element with that id): ``summary`` (the task T, the experience E and the
metric M of the run, Mitchell's definition), ``metrics`` (the test metrics table of the slides
and the confusion matrix, or the regression table), ``plots`` (every PNG), ``history`` (one row
per epoch), ``model`` (the layers and parameter counts), ``config`` (the resolved settings) and
``files`` (what the folder holds).
"""

from __future__ import annotations

import base64
import csv
import json
from html import escape
from pathlib import Path

SECTIONS = ("summary", "metrics", "plots", "history", "model", "config", "files")
_PLOT_ORDER = (
    "learning_curves",
    "learning_rate",
    "confusion_matrix",
    "confusion_by_column",
    "predicted_vs_true",
)
_PLOT_CAPTIONS = {
    "learning_curves": "Learning curves: training vs validation, per epoch (the star marks "
    "each curve's best validation epoch; the dashed line the epoch whose weights were kept, "
    "the lowest validation loss). Validation rising while training falls is overfitting; "
    "both high and flat is underfitting.",
    "learning_rate": "The learning rate η of each epoch.",
    "confusion_matrix": "Confusion matrix on the test split, with the rates by row (true "
    "class): the diagonal is each class's TPR (sensitivity, recall).",
    "confusion_by_column": "The same matrix with the rates by column (predicted class): the "
    "diagonal is each class's PPV (precision).",
    "predicted_vs_true": "Predicted against true values on the test split; points on the "
    "dashed line are perfect predictions.",
}
_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f2f2; } td.name, th.name { text-align: left; }
tr.average td { background: #fafafa; font-style: italic; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; max-width: 40em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; }
"""


# ---- the page --------------------------------------------------------------------------------


def write_report(folder: str | Path) -> Path:
    """Write ``folder/report.html`` from the run folder's files; returns its path."""
    folder = Path(folder)
    path = folder / "report.html"
    path.write_text(render_report(folder), encoding="utf-8")
    return path


def render_report(folder: str | Path) -> str:
    """The report page of a run folder, as HTML text."""
    folder = Path(folder)
    scores = _read_json(folder / "metrics.json")
    body = [
        f"<h1>aprende run: {escape(folder.resolve().name)}</h1>",
        _section("summary", "Task, experience, metric", _summary(scores)),
        _section("metrics", "Test metrics", _metrics(scores)),
        _section("plots", "Plots", _plots(folder)),
        _section("history", "Training history", _history(folder / "history.csv")),
        _section("model", "Model", _preformatted(folder / "model.txt")),
        _section("config", "Configuration (config.toml)", _preformatted(folder / "config.toml")),
        _section("files", "Files of the run folder", _files(folder)),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>aprende run {escape(folder.resolve().name)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


# ---- pieces ----------------------------------------------------------------------------------


def _section(section_id: str, title: str, content: str) -> str:
    return f"<section id='{section_id}'>\n<h2>{escape(title)}</h2>\n{content}\n</section>"


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _missing(path: Path) -> str:
    return f"<p>(no {escape(path.name)} in the run folder)</p>"


def _number(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _summary(scores: dict) -> str:
    if not scores:
        return "<p>(no metrics.json: the run has not finished)</p>"
    sizes = scores.get("sizes", {})
    metric = scores.get("metric", "?")
    facts = {
        "Task (T)": f"{scores.get('task', '?')} on {scores.get('dataset', '?')}",
        "Experience (E)": f"{sizes.get('train', '?')} training examples "
        f"({sizes.get('val', '?')} for validation, {sizes.get('test', '?')} for the test). "
        + scores.get("description", ""),
        "Metric (M)": f"test {metric} = {_number(scores.get('value'))}",
        "Chosen weights": f"epoch {scores.get('best_epoch', '?')} of "
        f"{scores.get('epochs_run', '?')} (lowest validation loss); the test split was scored "
        "once, with these",
        "Training time": f"{scores.get('train_seconds', '?')} s",
    }
    if scores.get("world_size", 1) > 1:
        facts["Processes"] = (
            f"{scores['world_size']} (data-parallel: each took a slice of every batch)"
        )
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts.items())
    return f"<dl>{items}</dl>"


_CLASS_COLUMNS = (
    ("tp", "TP"),
    ("fp", "FP"),
    ("fn", "FN"),
    ("tn", "TN"),
    ("acc", "ACC"),
    ("tpr", "TPR"),
    ("fnr", "FNR"),
    ("tnr", "TNR"),
    ("fpr", "FPR"),
    ("ppv", "PPV"),
    ("npv", "NPV"),
    ("f1-score", "F1"),
    ("support", "support"),
)


_ACCURACY_NAMES = {
    "multilabel": "Subset accuracy (every label of an example right)",
    "per_element": "Pixel accuracy (ACC over every position)",
}


def _metrics(scores: dict) -> str:
    if not scores:
        return "<p>(no metrics.json)</p>"
    if "outputs" in scores:
        return _regression_table(scores)
    accuracy = _ACCURACY_NAMES.get(scores.get("task"), "Accuracy (ACC)")
    parts = [
        f"<p>{accuracy} = {_number(scores['accuracy'])}. Per class, one class against the "
        "rest. Read by row: TPR = TP/(TP+FN) = 1 − FNR (sensitivity, recall), TNR = "
        "TN/(TN+FP) = 1 − FPR (specificity); by column: PPV = TP/(TP+FP) (precision), NPV = "
        "TN/(TN+FN).</p>",
        _class_table(scores),
    ]
    if "mean_iou" in scores:
        parts.append(f"<p>Mean IoU over the classes = {_number(scores['mean_iou'])}.</p>")
    if "confusion_matrix" in scores:
        parts.append(_confusion_table(scores["confusion_matrix"], scores["class_names"]))
    return "\n".join(parts)


def _class_table(scores: dict) -> str:
    columns = list(_CLASS_COLUMNS)
    iou = scores.get("per_class_iou")
    if iou:
        columns.insert(-1, ("iou", "IoU"))
    head = "".join(f"<th>{escape(title)}</th>" for _, title in columns)
    rows = [f"<tr><th class='name'>class</th>{head}</tr>"]
    for name, row in scores["classes"].items():
        row = {**row, "iou": iou.get(name) if iou else None}
        rows.append(_row(name, row, columns))
    for name, row in scores["averages"].items():
        rows.append(_row(name, row, columns, css="average"))
    return "<table>" + "".join(rows) + "</table>"


def _row(name: str, row: dict, columns, css: str | None = None) -> str:
    cells = []
    for key, _ in columns:
        value = row.get(key)
        if key in ("tp", "fp", "fn", "tn", "support") and isinstance(value, float):
            value = int(value) if value.is_integer() else value
        cells.append(f"<td>{'' if value is None and key not in row else _number(value)}</td>")
    attribute = f" class='{css}'" if css else ""
    return f"<tr{attribute}><td class='name'>{escape(name)}</td>{''.join(cells)}</tr>"


def _confusion_table(matrix: list, names: list) -> str:
    """Counts with the true class on rows, the predicted class on columns; each row's TPR and
    each column's PPV at the ends (the slides read the matrix both ways)."""
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = [f"<tr><th class='name'>true \\ predicted</th>{head}<th>TPR (row)</th></tr>"]
    column_sums = [sum(row[j] for row in matrix) for j in range(len(names))]
    for i, (name, row) in enumerate(zip(names, matrix, strict=True)):
        total = sum(row)
        rate = row[i] / total if total else None
        cells = "".join(f"<td>{v}</td>" for v in row)
        rows.append(f"<tr><th class='name'>{escape(name)}</th>{cells}<td>{_number(rate)}</td></tr>")
    ppv = "".join(
        f"<td>{_number(matrix[j][j] / s if s else None)}</td>" for j, s in enumerate(column_sums)
    )
    rows.append(f"<tr class='average'><th class='name'>PPV (column)</th>{ppv}<td></td></tr>")
    caption = "<caption>Confusion matrix (test split)</caption>"
    return f"<table>{caption}" + "".join(rows) + "</table>"


def _regression_table(scores: dict) -> str:
    keys = (("mse", "MSE"), ("rmse", "RMSE"), ("mae", "MAE"), ("r2", "R²"))
    head = "".join(f"<th>{title}</th>" for _, title in keys)
    rows = [f"<tr><th class='name'>output</th>{head}</tr>"]
    rows += [_row(name, values, keys) for name, values in scores["outputs"].items()]
    rows.append(_row("average", scores["average"], keys, css="average"))
    return (
        "<p>Per output on the test split: MSE = mean (y − ŷ)², RMSE = √MSE, MAE = mean |y − ŷ|, "
        "R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)².</p><table>" + "".join(rows) + "</table>"
    )


def _plot_files(folder: Path) -> list[Path]:
    directory = folder / "plots"
    if not directory.is_dir():
        return []
    found = sorted(directory.glob("*.png"))
    rank = {name: i for i, name in enumerate(_PLOT_ORDER)}
    return sorted(found, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


def _plots(folder: Path) -> str:
    figures = []
    for path in _plot_files(folder):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        caption = _PLOT_CAPTIONS.get(path.stem, path.name)
        figures.append(
            f"<figure><img alt='{escape(path.stem)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    return "\n".join(figures) if figures else "<p>(no plots in the run folder)</p>"


def _history(path: Path) -> str:
    if not path.is_file():
        return _missing(path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return _missing(path)
    header, body = rows[0], rows[1:]
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = [f"<tr>{head}</tr>"]
    for row in body:
        cells = "".join(
            f"<td>{escape(_short(cell, column))}</td>"
            for cell, column in zip(row, header, strict=False)
        )
        lines.append(f"<tr>{cells}</tr>")
    return "<table>" + "".join(lines) + "</table>"


def _short(cell: str, column: str) -> str:
    """Numbers to 4 significant digits (epochs as written: history.csv counts them from 1)."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    if column == "epoch":
        return str(int(value))
    return f"{value:.4g}"


def _preformatted(path: Path) -> str:
    if not path.is_file():
        return _missing(path)
    return f"<pre>{escape(path.read_text(encoding='utf-8'))}</pre>"


def _files(folder: Path) -> str:
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "report.html" and not path.name.startswith("."):
            size = path.stat().st_size
            entries.append(
                f"<li><code>{escape(str(path.relative_to(folder)))}</code> ({size:,} bytes)</li>"
            )
    entries.append("<li><code>report.html</code> (this page)</li>")
    return "<ul>" + "".join(entries) + "</ul>"
