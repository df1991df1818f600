"""What the terminal takes: how many columns a line may use, and whether to print plain text.

Plain text (no ANSI escapes, no progress bars redrawn in place, one line per epoch) when the
output is not a terminal (a pipe, a file, a CI log) or when ``NO_COLOR`` is set
(https://no-color.org). Only the standard library: every layer may ask.
"""

from __future__ import annotations

import os
import shutil
import sys

MIN_WIDTH = 20  # narrower than this, nothing useful fits: lines then keep their key fields


def terminal_width() -> int:
    """The columns a line may use: ``COLUMNS`` when set, else the terminal's width, else 80
    (``shutil.get_terminal_size``); never below ``MIN_WIDTH``."""
    return max(shutil.get_terminal_size().columns, MIN_WIDTH)


def is_plain(stream=None) -> bool:
    """Whether output to ``stream`` (default: standard output) should be plain text: it is not
    a terminal, or ``NO_COLOR`` is set to anything non-empty."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty())


def records(headers, rows, width: int) -> list[str]:
    """Each row as its first cell, then its ``header: value`` pairs indented below it and
    wrapped at ``width`` (a pair is never split; blank cells are left out)."""
    lines = []
    for row in rows:
        lines.append(row[0])
        pairs = [f"{h}: {c}" for h, c in zip(headers[1:], row[1:], strict=True) if c]
        line = ""
        for pair in pairs:
            if line and len(line) + 3 + len(pair) > width:
                lines.append(line)
                line = ""
            line += f"   {pair}" if line else f"  {pair}"
        if line:
            lines.append(line)
    return lines


def print_table(
    headers,
    rows,
    *,
    title: str | None = None,
    caption: str | None = None,
    section: int | None = None,
    width: int | None = None,
    drop=(),
    short: dict | None = None,
    file=None,
) -> None:
    """Print a table with ``rich`` (right-aligned cells, never cut short) in at most ``width``
    columns, or at its natural width when ``width`` is None.

    Too wide for ``width``, it becomes: borderless with the ``short`` headers, then without
    the columns of ``drop`` (the least useful first) one by one, and at last one
    ``header: value`` list per row. ``section`` is the index of the first row of the
    averages (a rule above it). Plain text (``is_plain``): no ANSI escapes.
    """
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.measure import Measurement
    from rich.table import Table

    stream = sys.stdout if file is None else file
    color = None if is_plain(stream) else "auto"
    headers, rows = list(headers), [list(row) for row in rows]

    def build(shown: list[int], compact: bool) -> Table:
        heads = [(short or {}).get(h, h) if compact else h for h in headers]
        table = Table(title=title, caption=caption, box=box.HEAVY_HEAD)
        if compact:  # no border: two columns more for the numbers
            table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
        for i in shown:
            table.add_column(escape(heads[i]), justify="right", no_wrap=True)
        for n, row in enumerate(rows):
            if n == section:
                table.add_section()
            table.add_row(*(escape(row[i]) for i in shown))
        return table

    probe = Console(file=stream, color_system=color, width=10_000)

    def natural(table) -> int:
        return Measurement.get(probe, probe.options, table).maximum

    shown = list(range(len(headers)))
    table = build(shown, compact=False)
    if width is None:
        Console(file=stream, color_system=color, width=natural(table)).print(table)
        return
    compact = natural(table) > width
    if compact:
        table = build(shown, compact=True)
    for header in drop:
        if natural(table) <= width:
            break
        if header in headers and headers.index(header) in shown:
            shown.remove(headers.index(header))
            table = build(shown, compact=True)
    if natural(table) <= width:
        Console(file=stream, color_system=color, width=width).print(table)
        return
    import textwrap

    lines = textwrap.wrap(title, width) if title else []
    lines += records(headers, rows, width)
    lines += textwrap.wrap(caption, width) if caption else []
    print("\n".join(lines), file=stream)


def fit_text(text: str, width: int | None = None) -> str:
    """``text`` wrapped at spaces into lines of at most ``width`` columns (default: the
    terminal's); a word longer than that (a path) stays whole on its own line."""
    import textwrap

    width = terminal_width() if width is None else width
    lines = text.split("\n")
    wrapped = (
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
        for line in lines
    )
    return "\n".join(wrapped)
