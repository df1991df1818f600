"""sweep.html: a study at a glance, one self-contained page.

The best trials as a table with links to their run folders' reports, and Optuna's own
matplotlib views: the optimisation history, the parameters' importances and the parallel
coordinates of the trials. Beside it, ``best-config.toml``: the best trial's settings, which
``aprende train --config best-config.toml`` trains again.
"""

from __future__ import annotations

import base64
import io
import shutil
import warnings
from html import escape
from pathlib import Path

from aprende.report import _STYLE, _section

TOP = 10


def write_sweep_page(study, folder: Path) -> Path:
    """Write ``folder/sweep.html`` (and ``best-config.toml`` when a trial completed)."""
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if complete:
        best_run = folder / study.best_trial.user_attrs.get("run", "") / "config.toml"
        if best_run.is_file():
            shutil.copyfile(best_run, folder / "best-config.toml")
    body = [
        f"<h1>aprende sweep: {escape(study.study_name)}</h1>",
        _section("summary", "Study", _summary(study, complete)),
        _section("best", f"Best trials (top {TOP})", _best_table(study, complete)),
        _section(
            "plots",
            "Plots",
            _plots(study) if len(complete) >= 2 else "<p>(the plots need two completed trials)</p>",
        ),
    ]
    page = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>aprende sweep {escape(study.study_name)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    path = folder / "sweep.html"
    path.write_text(page, encoding="utf-8")
    return path


def _summary(study, complete: list) -> str:
    counts = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    facts = [("direction", study.direction.name.lower()), ("trials", str(len(study.trials)))]
    facts += [(state, str(n)) for state, n in sorted(counts.items())]
    if complete:
        facts.append(("best value", f"{study.best_value:.4f} (trial {study.best_trial.number})"))
        facts.append(("best settings", "best-config.toml (aprende train --config it)"))
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>"


def _best_table(study, complete: list) -> str:
    if not complete:
        return "<p>(no trial has completed yet)</p>"
    ranked = sorted(complete, key=lambda t: t.value, reverse=study.direction.name == "MAXIMIZE")
    names = sorted({k for t in ranked for k in t.params})
    head = "".join(f"<th>{escape(n)}</th>" for n in ["trial", "value", *names, "run"])
    rows = []
    for trial in ranked[:TOP]:
        run = trial.user_attrs.get("run", "")
        cells = [str(trial.number), f"{trial.value:.4f}"]
        cells += [str(trial.params.get(name, "")) for name in names]
        link = f"<a href='{escape(run)}/report.html'>{escape(run)}</a>" if run else ""
        rows.append(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + f"<td>{link}</td></tr>"
        )
    return f"<table><tr>{head}</tr>" + "".join(rows) + "</table>"


def _plots(study) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as views

    figures = []
    for name, draw in [
        (
            "Optimisation history: each trial's value and the best so far",
            views.plot_optimization_history,
        ),
        ("Parameter importances (fANOVA)", views.plot_param_importances),
        (
            "Parallel coordinates: each line a trial, coloured by its value",
            views.plot_parallel_coordinate,
        ),
    ]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                axes = draw(study)
        except (ValueError, RuntimeError, ZeroDivisionError) as error:  # too few distinct trials
            figures.append(f"<p>{escape(name)}: not available ({escape(str(error))})</p>")
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        plt.close(figure)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        figures.append(
            f"<figure><img alt='{escape(name)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{escape(name)}</figcaption></figure>"
        )
    return "\n".join(figures)
