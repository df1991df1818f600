"""How a CSV file is written: its text encoding, field separator, header line, decimal mark and
missing-value markers, found from the file itself as spreadsheets save it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

DELIMITERS = (",", ";", "\t")
# Spellings of an empty cell that spreadsheets, R and pandas write; compared lower-cased.
# A non-finite number measures nothing either: infinities read as missing too.
MISSING = frozenset(
    {"", "nan", "na", "n/a", "?", "null", "inf", "+inf", "-inf", "infinity", "-infinity"}
)
_SNIFF_LINES = 20


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark, as Excel writes, is dropped), else Windows-1252,
    the encoding of Excel's plain "CSV" in Western European locales."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte, so it never fails.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def sniff_delimiter(text: str) -> str:
    """The field separator among ``,`` ``;`` and tab that the first lines use consistently
    (``csv.Sniffer``), or ``,`` for a file of one column."""
    sample = "\n".join(text.splitlines()[:_SNIFF_LINES])
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        found = None
    if found in DELIMITERS:
        return found
    # The sniffer gives up on a few lines with quoted cells; the separator that is on every
    # line, most often, is the one.
    lines = [line for line in sample.splitlines() if line.strip()]
    counts = {d: min((line.count(d) for line in lines), default=0) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def is_missing(cell: str) -> bool:
    """Whether a cell is one of the spellings of an empty value (``MISSING``)."""
    return cell.strip().lower() in MISSING


def missing_mask(cells: np.ndarray) -> np.ndarray:
    """``is_missing`` over an array of cells, at NumPy's speed."""
    return np.isin(np.char.lower(np.char.strip(cells.astype(str))), list(MISSING))


def to_number(cell: str, decimal_comma: bool) -> float | None:
    """The cell as a number (``3,5`` is 3.5 where ``decimal_comma``), or None if it is none."""
    text = cell.strip()
    if decimal_comma and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def has_header(rows: list[list[str]], decimal_comma: bool) -> bool:
    """Whether the first row names the columns: some cell of it is not a number in a column
    whose other cells all are, or every cell of it is text (a file of text columns)."""
    if len(rows) < 2:
        return bool(rows) and all(to_number(c, decimal_comma) is None for c in rows[0])
    first, rest = rows[0], rows[1:]
    if all(to_number(cell, decimal_comma) is None for cell in first):
        return True
    for j, cell in enumerate(first):
        if to_number(cell, decimal_comma) is not None or is_missing(cell):
            continue
        below = [row[j] for row in rest if j < len(row) and not is_missing(row[j])]
        if below and all(to_number(c, decimal_comma) is not None for c in below):
            return True
    return False
