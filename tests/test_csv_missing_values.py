"""A careless user's CSV files: missing values (refused, imputed on the training split or
dropped), text columns (one-hot encoded), and predict on rows with gaps and categories."""

import csv

import numpy as np
import pytest

from aprende.cli import main
from aprende.data import SimpleImputer, TableEncoder, train_val_test_split
from aprende.datasets import load_csv


def _main(argv):
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def _write(path, header, rows, sep=","):
    lines = [sep.join(header)] + [sep.join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(n=60, seed=0, gaps=(), marker=""):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 3)), 3)
    rows = [[*x, int(x[0] + x[1] > 0)] for x in X]
    for i, j in gaps:
        rows[i][j] = marker
    return rows


def _train(path, capsys, *extra):
    out = str(path.parent / f"run_{path.stem}")
    code = _main(["train", "--csv", str(path), "--epochs", "2", "--out", out, *extra])
    return code, capsys.readouterr(), out


def _predict(run, rows_path, capsys, tmp_path):
    output = tmp_path / "predictions.csv"
    code = _main(["predict", run, str(rows_path), "-o", str(output)])
    captured = capsys.readouterr()
    if code:
        return code, captured, None
    with output.open() as handle:
        return code, captured, list(csv.reader(handle))


def _one_clear_line(code, captured):
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


# ---- the building blocks, against scikit-learn and by hand -----------------------------------


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_simple_imputer_matches_scikit_learn(strategy):
    impute = pytest.importorskip("sklearn.impute")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    new = rng.normal(size=(10, 4))
    new[rng.random(new.shape) < 0.3] = np.nan
    ours = SimpleImputer(strategy).fit(X)
    theirs = impute.SimpleImputer(strategy=strategy).fit(X)
    np.testing.assert_allclose(ours.statistics_, theirs.statistics_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(new), theirs.transform(new), rtol=1e-12)


def test_simple_imputer_by_hand_and_its_errors():
    X = np.array([[1.0, np.nan], [3.0, 10.0], [np.nan, 20.0], [8.0, 60.0]])
    mean, median = SimpleImputer("mean").fit(X), SimpleImputer("median").fit(X)
    assert mean.statistics_.tolist() == [4.0, 30.0]  # (1+3+8)/3, (10+20+60)/3
    assert median.statistics_.tolist() == [3.0, 20.0]
    np.testing.assert_array_equal(mean.transform([[np.nan, 5.0]]), [[4.0, 5.0]])
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have no observed value"):
        SimpleImputer().fit([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(ValueError, match="strategy should be one of"):
        SimpleImputer("mode")


def test_table_encoder_matches_column_transformer_and_round_trips():
    compose = pytest.importorskip("sklearn.compose")
    from sklearn.impute import SimpleImputer as SkImputer
    from sklearn.preprocessing import OneHotEncoder as SkOneHot

    table = np.array(
        [[1.0, "b", 5.0], [np.nan, "a", 7.0], [3.0, "c", np.nan], [4.0, "a", 9.0]], dtype=object
    )
    ours = TableEncoder(["x", "city", "z"], text_columns=[1], strategy="median").fit(table)
    # scikit-learn puts the transformed blocks in the transformers' order: x, z, then city.
    theirs = compose.ColumnTransformer(
        [("num", SkImputer(strategy="median"), [0, 2]), ("text", SkOneHot(), [1])]
    ).fit(table)
    coded = ours.transform(table)
    np.testing.assert_allclose(coded[:, [0, 4, 1, 2, 3]], theirs.transform(table), rtol=1e-6)
    assert coded[1].tolist() == [3.0, 1, 0, 0, 7.0]  # x imputed by median(1, 3, 4); 'a'
    restored = TableEncoder([])
    restored.load_state_dict(ours.state_dict())
    np.testing.assert_array_equal(restored.transform(table), coded)
    with pytest.raises(ValueError, match=r"column 'city' row 7: unknown category 'd'"):
        ours.transform(np.array([[1.0, "d", 2.0]], dtype=object), rows=[7])
    plain = TableEncoder(["x", "city", "z"], text_columns=[1]).fit(table[[0, 1, 3]][:, :])
    with pytest.raises(ValueError, match="column 'z' row 1 has a missing value"):
        plain.transform(np.array([[1.0, "a", np.nan]], dtype=object))


def test_load_csv_missing_modes(tmp_path):
    rows = [[1, "", 0], [2, 3, 1], ["inf", 4, 0], [5, 6, 0]]
    path = _write(tmp_path / "a.csv", ["a", "b", "y"], rows)
    with pytest.raises(ValueError, match=r"column 'a' has missing values in rows 4; column 'b'"):
        load_csv(path)
    with pytest.warns(UserWarning, match=r"dropped 2 row\(s\) with a missing value \(rows 2, 4\)"):
        assert load_csv(path, missing="drop").data.tolist() == [[2.0, 3.0], [5.0, 6.0]]
    kept = load_csv(path, missing="keep").data
    np.testing.assert_array_equal(np.isnan(kept), [[0, 1], [0, 0], [1, 0], [0, 0]])


# ---- aprende train on a careless user's files ------------------------------------------------


@pytest.mark.parametrize("marker", ["", "NA", "nan", "?", "inf"])
def test_semicolon_file_with_a_gap_refused_naming_column_rows_and_impute(tmp_path, capsys, marker):
    rows = _rows(gaps=[(3, 1), (9, 1), (5, 2)], marker=marker)
    path = _write(tmp_path / "gaps.csv", ["a", "b", "c", "y"], rows, sep=";")
    line = _one_clear_line(*_train(path, capsys)[:2])
    assert "column 'b' has missing values in rows 5, 11; column 'c' in rows 7" in line
    assert "--impute mean|median|drop" in line


def test_impute_mean_trains_and_predict_fills_a_gap_as_by_hand(tmp_path, capsys):
    rows = _rows(n=80, gaps=[(3, 1), (9, 1), (20, 0)], marker="NA")
    path = _write(tmp_path / "gaps.csv", ["a", "b", "c", "y"], rows)
    code, captured, run = _train(path, capsys, "--impute", "mean")
    assert code == 0, captured.err
    # By hand: the mean of column 'b' over the training split's observed values.
    X, y, _ = load_csv(path, missing="keep")
    X_train = train_val_test_split(X, y, stratify=y, seed=0)[0]
    b_mean = float(np.mean([v for v in X_train[:, 1] if not np.isnan(v)]))
    gap = _write(tmp_path / "gap.csv", ["a", "b", "c"], [[0.5, "", -1.0], [1.0, "", 2.0]])
    filled = _write(
        tmp_path / "filled.csv", ["a", "b", "c"], [[0.5, repr(b_mean), -1.0], [1.0, b_mean, 2.0]]
    )
    code, _, with_gap = _predict(run, gap, capsys, tmp_path)
    assert code == 0
    _, _, by_hand = _predict(run, filled, capsys, tmp_path)
    assert with_gap == by_hand and len(with_gap) == 3


def test_predict_without_impute_refuses_a_gap_and_text_in_numbers(tmp_path, capsys):
    path = _write(tmp_path / "clean.csv", ["a", "b", "c", "y"], _rows())
    code, captured, run = _train(path, capsys)
    assert code == 0, captured.err
    gap = _write(tmp_path / "gap.csv", ["a", "b", "c"], [[1, 2, 3], [1, "NA", 3]])
    line = _one_clear_line(*_predict(run, gap, capsys, tmp_path)[:2])
    assert "column 'b' row 3 has a missing value ('NA')" in line and "--impute" in line
    text = _write(tmp_path / "text.csv", ["a", "b", "c"], [[1, 2, "abc"]])
    line = _one_clear_line(*_predict(run, text, capsys, tmp_path)[:2])
    assert "column 'c' row 2: expected a number, got 'abc'" in line


def test_impute_drop_says_how_many_and_trains(tmp_path, capsys):
    rows = _rows(n=80, gaps=[(3, 1), (9, 1), (20, 0)], marker="")
    path = _write(tmp_path / "gaps.csv", ["a", "b", "c", "y"], rows)
    code, captured, _ = _train(path, capsys, "--impute", "drop")
    assert code == 0, captured.err
    assert "csv: dropped 3 row(s) with a missing value (rows 5, 11, 22)" in captured.out
    assert "77 examples" not in captured.out and "53 training" in captured.out


def test_missing_target_rows_dropped_with_a_note_never_imputed(tmp_path, capsys):
    rows = _rows(n=80, gaps=[(4, 3), (6, 3)], marker="")
    path = _write(tmp_path / "target.csv", ["a", "b", "c", "y"], rows)
    code, captured, _ = _train(path, capsys, "--impute", "mean")
    assert code == 0, captured.err
    assert "csv: dropped 2 row(s) whose target 'y' is missing (rows 6, 8)" in captured.out


def test_text_column_one_hot_encoded_and_predicted(tmp_path, capsys):
    rng = np.random.default_rng(0)
    cities = ["Lisbon", "Porto", "Faro"]
    rows = [[cities[i % 3], round(float(rng.normal()), 3), int(i % 3 == 0)] for i in range(60)]
    path = _write(tmp_path / "cities.csv", ["city", "x", "y"], rows)
    code, captured, run = _train(path, capsys)
    assert code == 0, captured.err
    assert "one-hot encoded column 'city' (3 categories)" in captured.out
    assert "4 features" in captured.out  # x and the 3 one-hot columns
    known = _write(tmp_path / "known.csv", ["city", "x"], [["Porto", 0.1], ["Lisbon", -2]])
    code, _, table = _predict(run, known, capsys, tmp_path)
    assert code == 0 and table[0][0] == "prediction" and len(table) == 3
    unknown = _write(tmp_path / "unknown.csv", ["city", "x"], [["Porto", 0.1], ["Braga", 1]])
    line = _one_clear_line(*_predict(run, unknown, capsys, tmp_path)[:2])
    assert "column 'city' row 3: unknown category 'Braga'" in line
    assert "['Faro', 'Lisbon', 'Porto']" in line


def test_id_like_text_column_refused(tmp_path, capsys):
    rows = [[f"user{i}", i % 5, i % 2] for i in range(60)]
    path = _write(tmp_path / "ids.csv", ["user", "b", "y"], rows)
    line = _one_clear_line(*_train(path, capsys)[:2])
    assert "column 'user' holds text with 60 distinct values in 60 rows" in line


def test_text_column_with_a_stray_number_is_a_typo_not_a_category(tmp_path, capsys):
    rows = [[i, "x" if i == 7 else i % 3, i % 2] for i in range(60)]
    path = _write(tmp_path / "typo.csv", ["a", "b", "y"], rows)
    line = _one_clear_line(*_train(path, capsys)[:2])
    assert "line 9, column 'b': expected a number, got 'x'" in line


def test_one_class_target_and_three_row_class_refused(tmp_path, capsys):
    one = _write(tmp_path / "one.csv", ["a", "y"], [[i, 3] for i in range(20)])
    line = _one_clear_line(*_train(one, capsys)[:2])
    assert "the target column 'y' holds a single value ('3'): nothing to learn" in line
    rows = [[i, "rare" if i < 3 else "ab"[i % 2]] for i in range(60)]
    rare = _write(tmp_path / "rare.csv", ["a", "y"], rows)
    line = _one_clear_line(*_train(rare, capsys, "--val-size", "0.1", "--test-size", "0.1")[:2])
    assert "class 'rare' has too few examples (3)" in line and "'rare' 3" in line


def test_overflowing_loss_stops_with_one_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [[*(rng.normal(size=2) * 1e20), rng.normal() * 1e20] for _ in range(40)]
    path = _write(tmp_path / "huge.csv", ["a", "b", "y"], rows)
    out = str(tmp_path / "run_huge")
    code = _main(
        ["train", "--csv", str(path), "--epochs", "2", "--out", out, "--normalization", "none",
         "--no-scale-target", "--task", "regression"]
    )  # fmt: skip
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "Traceback" not in captured.err
    assert "the loss became inf at epoch 1, batch 1" in lines[0]


def test_diverging_loss_stops_with_one_line_and_keeps_the_good_epochs(tmp_path, capsys):
    import re

    rng = np.random.default_rng(0)
    rows = []
    for _ in range(60):
        a, b = rng.normal(size=2)
        rows.append([f"{a:.3f}", f"{b:.3f}", f"{(a + b) * 1e3:.4e}"])
    path = _write(tmp_path / "diverge.csv", ["a", "b", "y"], rows)
    out = tmp_path / "run_diverge"
    code = _main(
        ["train", "--csv", str(path), "--epochs", "10", "--out", str(out), "--task",
         "regression", "--no-scale-target", "--optimizer", "sgd", "--lr", "0.05",
         "--batch-size", "1000"]
    )  # fmt: skip
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "Traceback" not in captured.err
    found = re.search(r"became (?:inf|nan) at epoch (\d+)", lines[0])
    assert found and "the last good checkpoint is kept" in lines[0]
    failed = int(found.group(1))
    assert failed >= 2  # so that there are good epochs to keep
    kept = sorted(p.name for p in (out / "checkpoints").glob("epoch-*.json"))
    # epochs count from 1 in file names; the newest good epoch is kept, none after it
    assert kept[-1] == f"epoch-{failed - 1:04d}.json"
    assert set(kept) <= {f"epoch-{e:04d}.json" for e in range(1, failed)}


def test_predict_headerless_rows_with_a_gap_keep_their_first_row(tmp_path, capsys):
    path = _write(tmp_path / "gaps.csv", ["a", "b", "c", "y"], _rows(n=80, gaps=[(3, 1)]))
    code, captured, run = _train(path, capsys, "--impute", "median")
    assert code == 0, captured.err
    rows = tmp_path / "rows.csv"
    rows.write_text("0.5,,1\n1,2,3\n", encoding="utf-8")
    code, _, table = _predict(run, rows, capsys, tmp_path)
    assert code == 0 and len(table) == 3  # the header line and both rows
