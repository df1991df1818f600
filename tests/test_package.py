"""The package as a user meets it: a light import and lazy subpackages."""

import subprocess
import sys


def test_import_aprende_stays_light():
    code = (
        "import sys, aprende, aprende.nn, aprende.optim, aprende.data, aprende.training;"
        "heavy = {'matplotlib', 'sklearn', 'rich', 'safetensors', 'torch', 'scipy'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_subpackages_load_on_first_use():
    code = "import aprende; print(aprende.nn.Linear.__name__, aprende.metrics.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["Linear", "aprende.metrics"]
