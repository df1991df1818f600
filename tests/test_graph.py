"""The computational graph as DOT text: no Graphviz (nor matplotlib) needed to build or test it."""

import os
import re
import stat
import subprocess
import sys

import pytest

import aprende
from aprende import graph


def small_graph():
    """a = 2; b = a·a + a: db/da = 2a + 1 = 5."""
    a = aprende.tensor([2.0], requires_grad=True)
    b = a * a + a
    b.backward(retain_graph=True)
    return a, b


def test_draw_graph_dot_has_every_tensor_op_edge_value_and_grad():
    _, b = small_graph()
    dot = graph.draw_graph(b)
    assert dot.startswith("digraph {") and "rankdir=LR;" in dot
    assert len(re.findall(r"shape=record", dot)) == 3  # a, a·a, b
    assert re.findall(r'label="(\w+)"', dot) == ["Add", "Mul"]
    # a -> Mul twice (a·a reuses a), Mul -> a·a, a·a -> Add, a -> Add, Add -> b.
    assert len(re.findall(r"->", dot)) == 6
    assert "data [2.] | grad [5.]" in dot  # the leaf a with its gradient
    assert "data [4.]" in dot and "data [6.]" in dot
    assert "(1,) float32" in dot
    names = dict(re.findall(r"(op\d+) \[shape=ellipse, label=\"(\w+)\"", dot))
    mul = next(op for op, name in names.items() if name == "Mul")
    a_id = re.search(r'(t\d+) \[shape=record, label="\{ \(1,\) float32 \| data \[2\.\]', dot)[1]
    assert dot.count(f"{a_id} -> {mul};") == 2


def test_draw_graph_hides_values_of_large_tensors_and_accepts_rankdir():
    x = aprende.ones(3, 4, requires_grad=True)
    dot = graph.draw_graph((x * 2).sum(), rankdir="TB")
    assert "(3, 4) float32 }" in dot and "data [[" not in dot
    assert "rankdir=TB;" in dot
    with pytest.raises(ValueError, match="rankdir must be 'LR', 'TB', 'RL' or 'BT', got 'UP'"):
        graph.draw_graph(x, rankdir="UP")


def test_draw_graph_of_a_freed_graph_warns_how_to_keep_it():
    a = aprende.tensor([2.0], requires_grad=True)
    b = a * a + a
    b.backward()
    with pytest.warns(UserWarning, match=r"inputs of Add were freed.*retain_graph=True"):
        dot = graph.draw_graph(b)
    assert "(graph freed)" in dot and "Mul" not in dot


def test_draw_graph_without_graphviz_writes_the_dot_text_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    _, b = small_graph()
    with pytest.warns(UserWarning, match=r"Graphviz's `dot` executable is not installed"):
        dot = graph.draw_graph(b, tmp_path / "graph.svg")
    assert (tmp_path / "graph.dot").read_text() == dot
    assert not (tmp_path / "graph.svg").exists()


def test_draw_graph_writes_dot_text_and_rejects_unknown_formats(tmp_path):
    _, b = small_graph()
    dot = graph.draw_graph(b, tmp_path / "graph.dot")
    assert (tmp_path / "graph.dot").read_text() == dot
    with pytest.raises(ValueError, match=r"format must be one of .*got 'jpg'"):
        graph.draw_graph(b, tmp_path / "graph.jpg")


@pytest.mark.skipif(os.name != "posix", reason="the fake dot is a shell script")
def test_draw_graph_renders_through_the_dot_executable(tmp_path, monkeypatch):
    # A stand-in for Graphviz that records its arguments and copies its input to -o's file.
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\ncat > "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    _, b = small_graph()
    dot = graph.draw_graph(b, tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_text() == dot
    assert (fake.parent / "args").read_text().split()[0] == "-Tpng"


def test_importing_graph_does_not_import_matplotlib():
    code = "import sys, aprende; aprende.graph; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
