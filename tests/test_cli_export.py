"""``aprende export RUN model.onnx``: onnxruntime on raw rows gives ``aprende predict``'s output."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from aprende.cli import main

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("safetensors")


def _run(*args) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize(
    ("dataset", "flags", "columns"),
    [
        ("iris", ("--normalization", "minmax"), lambda row: row[1:]),  # p_<class> columns
        ("breast_cancer", (), lambda row: row[1:]),  # binary: p_malignant, p_benign
        ("diabetes", (), lambda row: row),  # regression with the targets scaled
    ],
)
def test_onnxruntime_on_raw_rows_equals_aprende_predict(tmp_path, capsys, dataset, flags, columns):
    folder = tmp_path / dataset
    assert _run("train", "--dataset", dataset, "--epochs", "2", "--hidden", "8",
                "--out", folder, *flags) == 0  # fmt: skip
    capsys.readouterr()
    assert _run("export", folder, tmp_path / "model.onnx") == 0
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    n_features = session.get_inputs()[0].shape[1]
    rows = np.random.default_rng(0).normal(3, 2, size=(7, n_features)).astype(np.float32)
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",")
    assert _run("predict", folder, tmp_path / "rows.csv", "-o", tmp_path / "out.csv") == 0
    table = list(csv.reader(open(tmp_path / "out.csv")))[1:]
    expected = np.array([[float(v) for v in columns(row)] for row in table])
    (got,) = session.run(None, {"rows": rows})
    if dataset == "breast_cancer":  # one sigmoid output: P(class 1); the CSV has both
        got = np.hstack([1 - got, got])
    got = got.reshape(len(rows), -1)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)  # the CSV's 6 digits
