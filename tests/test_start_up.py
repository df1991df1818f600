"""What users wait for: ``aprende datasets`` loads no dataset and none of the heavy libraries,
and the default dataset of ``aprende train`` (the digits) loads without importing
scikit-learn, to the same arrays as scikit-learn's own loader."""

import os
import subprocess
import sys

import numpy as np
import pytest

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


def modules_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``code``."""
    shown = "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    script = f"{code}\nimport sys\n{shown}"
    result = subprocess.run(
        [sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_aprende_datasets_imports_no_heavy_library():
    code = (
        "import contextlib, io\nfrom aprende.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['datasets']) == 0\n"
        "assert 'iris' in out.getvalue()"
    )
    loaded = modules_after(code)
    assert not loaded & {"sklearn", "scipy", "matplotlib", "rich"}, loaded


def test_the_digits_load_without_scikit_learn_as_scikit_learn_loads_them():
    pytest.importorskip("sklearn")
    loaded = modules_after("from aprende.datasets import load_digits\nload_digits()")
    assert "sklearn" not in loaded
    from sklearn.datasets import load_digits as sklearn_load_digits

    from aprende.datasets import load_digits

    X, y, info = load_digits()
    reference = sklearn_load_digits()  # the reference: scikit-learn's own loader
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, reference.data.astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)
    assert info.feature_names == reference.feature_names
    assert info.target_names == [str(c) for c in reference.target_names]
    assert (info.task, info.n_samples, info.image_shape) == ("multiclass", 1797, (8, 8))


def test_a_reader_that_leaves_the_pipe_early_gets_no_error():
    """``aprende datasets | head -1``: the list stops quietly when head has read its line."""
    reader = subprocess.Popen(
        [sys.executable, "-m", "aprende", "datasets"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader.stdout.readline()
    reader.stdout.close()  # the reader leaves: the next write meets a closed pipe
    stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 0
    assert "Broken pipe" not in stderr and "Traceback" not in stderr, stderr
