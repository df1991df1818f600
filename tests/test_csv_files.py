"""CSV files as spreadsheets save them: separators, headers, decimal commas, encodings, and one
clear error where a file cannot be trained on."""

import numpy as np
import pytest

from aprende.cli import main
from aprende.datasets import load_csv
from aprende.datasets.csv_format import has_header, sniff_delimiter


def _table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 3)), 3)
    return X, (X[:, 0] > 0).astype(int)


def _write(path, header, rows, sep=",", encoding="utf-8"):
    lines = ([sep.join(header)] if header else []) + [sep.join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _main(argv):
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def _train(path, capsys, *extra):
    out = str(path.parent / f"run_{path.stem}_{len(extra)}")
    code = _main(["train", "--csv", str(path), "--epochs", "1", "--out", out, *extra])
    return code, capsys.readouterr()


def test_sniffs_the_delimiter_among_comma_semicolon_tab():
    assert sniff_delimiter("a,b,c\n1,2,3\n") == ","
    assert sniff_delimiter("a;b;c\n1,5;2,5;3\n4;5;6\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("a\n1\n2\n") == ","


def test_semicolon_file_with_decimal_commas(tmp_path):
    X, y = _table()
    rows = [[f"{v}".replace(".", ",") for v in x] + [t] for x, t in zip(X, y, strict=True)]
    path = _write(tmp_path / "es.csv", ["edad", "peso", "altura", "clase"], rows, sep=";")
    Xr, yr, info = load_csv(path)
    np.testing.assert_allclose(Xr, X.astype(np.float32))
    np.testing.assert_array_equal(yr, y)
    assert info.feature_names == ["edad", "peso", "altura"]
    # forcing the delimiter gives the same; forcing the wrong one is refused with the reason
    np.testing.assert_allclose(load_csv(path, delimiter=";").data, Xr)
    with pytest.raises(ValueError, match="fields"):
        load_csv(path, delimiter=",")


def test_semicolon_file_trains_from_the_cli(tmp_path, capsys):
    X, y = _table()
    rows = [[*x, t] for x, t in zip(X, y, strict=True)]  # one column per field once split on ';'
    path = _write(tmp_path / "semi.csv", ["a", "b", "c", "y"], rows, sep=";")
    code, out = _train(path, capsys)
    assert code in (0, None), out.err
    assert "separated by ';'" in out.out and "target column(s) 'y'" in out.out
    assert "last column" in out.out
    code, out = _train(path, capsys, "--delimiter", ";", "--target", "y")
    assert code in (0, None), out.err


def test_decimal_comma_refused_without_semicolons(tmp_path):
    path = tmp_path / "tab.csv"
    path.write_text("a\tb\ty\n1,5\t2\t0\n2,5\t3\t1\n3\t4\t0\n")
    with pytest.raises(ValueError, match=r"column 'a' row 2: '1,5' has a decimal comma"):
        load_csv(path)


def test_header_detected_or_columns_numbered(tmp_path):
    X, y = _table()
    rows = [[*x, t] for x, t in zip(X, y, strict=True)]
    plain = _write(tmp_path / "plain.csv", None, rows)
    Xr, yr, info = load_csv(plain)
    assert len(Xr) == len(X)  # the first row is data, not names
    assert info.feature_names == ["column0", "column1", "column2"]
    named = _write(tmp_path / "named.csv", ["a", "b", "c", "y"], rows)
    assert load_csv(named).info.feature_names == ["a", "b", "c"]
    assert has_header([["x", "label"], ["1", "cat"], ["2", "dog"]], decimal_comma=False)
    assert not has_header([["1", "cat"], ["2", "dog"]], decimal_comma=False)


def test_utf8_bom_and_windows_1252(tmp_path):
    rows = [[1, 2, 0], [3, 4, 1], [5, 6, 0]]
    bom = _write(tmp_path / "bom.csv", ["año", "b", "y"], rows, encoding="utf-8-sig")
    assert load_csv(bom).info.feature_names == ["año", "b"]
    latin = _write(tmp_path / "latin.csv", ["año", "b", "y"], rows, encoding="cp1252")
    assert load_csv(latin).info.feature_names == ["año", "b"]


@pytest.mark.parametrize("marker", ["", "nan", "NA", "?"])
def test_missing_values_name_column_and_rows(tmp_path, capsys, marker):
    X, y = _table()
    rows = [[*x, t] for x, t in zip(X, y, strict=True)]
    for i in (2, 7, 10, 11, 12, 13, 20):
        rows[i][0] = marker
    path = _write(tmp_path / "miss.csv", ["age", "b", "c", "y"], rows)
    code, out = _train(path, capsys)
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err
    # spreadsheet rows: the header is row 1, so rows[2] is row 4
    assert "column 'age' has missing values in rows 4, 9, 12, 13, 14 (and 2 more)" in lines[0]


def test_text_feature_column_refused_by_default_with_its_values(tmp_path):
    rows = [[["red", "green", "blue"][i % 3], i, i % 2] for i in range(30)]
    path = _write(tmp_path / "cat.csv", ["color", "b", "y"], rows)
    with pytest.raises(ValueError, match="column 'color'.*'red', 'green', 'blue'") as caught:
        load_csv(path)
    assert "one-hot encode it or drop it" in str(caught.value)


def test_single_class_target_refused(tmp_path, capsys):
    path = _write(tmp_path / "one.csv", ["a", "b", "y"], [[i, i * 2, "yes"] for i in range(20)])
    code, out = _train(path, capsys)
    assert code == 2
    assert "the target column 'y' holds a single value ('yes'): nothing to learn" in out.err


def test_class_too_rare_for_the_split_refused_with_counts(tmp_path, capsys):
    rows = [[i, i % 7, "z" if i == 0 else "ab"[i % 2]] for i in range(60)]
    path = _write(tmp_path / "rare.csv", ["a", "b", "y"], rows)
    code, out = _train(path, capsys)
    assert code == 2 and len(out.err.strip().splitlines()) == 1
    assert "class 'z' has too few examples (1)" in out.err
    assert "examples per class: 'a' 29, 'b' 30, 'z' 1" in out.err


def test_no_feature_column_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("y\n0\n1\n0\n")
    with pytest.raises(ValueError, match="expected at least one feature column"):
        load_csv(path)


def test_delimiter_needs_a_csv(tmp_path, capsys):
    assert _main(["train", "--delimiter", ";", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert "delimiter: applies to a csv file only" in capsys.readouterr().err


def test_quoted_decimal_comma_in_a_comma_file_refused(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('a,b,y\n"3,5",1,0\n"4,5",2,1\n5,3,0\n')
    with pytest.raises(ValueError, match=r"'3,5' has a decimal comma, read only in ';'"):
        load_csv(path)


def test_regression_target_with_decimal_comma(tmp_path):
    path = tmp_path / "precio.csv"
    path.write_text("m2;precio\n50;120,5\n70;180,25\n90;210,75\n")
    X, y, info = load_csv(path)
    assert info.task == "regression"
    np.testing.assert_allclose(y, [120.5, 180.25, 210.75])
    np.testing.assert_allclose(X[:, 0], [50, 70, 90])
