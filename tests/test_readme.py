"""The README's tour runs as written (its Python blocks, in order, in one namespace)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)  # the tour writes its checkpoints into the working folder
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    history = namespace["history"]
    assert history["val_accuracy"][-1] >= 0.9
    assert (tmp_path / "checkpoints" / "best.json").exists()
    printed = capsys.readouterr().out
    assert "tensor([" in printed
