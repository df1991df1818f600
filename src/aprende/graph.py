"""The computational graph behind a tensor, as Graphviz DOT text (micrograd's ``draw_dot``).

``draw_graph(loss)`` returns the DOT text, which needs nothing to build or test; with a path it
also renders the drawing through Graphviz's ``dot`` executable when that is installed. No
matplotlib is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np

from aprende import Tensor
from aprende.backend import to_numpy

_GRAPH_FORMATS = ("svg", "png", "pdf", "dot")
_MAX_SHOWN_ELEMENTS = 6


def _record_text(text: str) -> str:
    """Escape the characters that structure a Graphviz record label."""
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def _values_text(array) -> str:
    values = np.array2string(to_numpy(array), precision=4, separator=", ", suppress_small=True)
    return " ".join(values.split())


def _tensor_label(tensor) -> str:
    """``shape | dtype`` and, for small tensors, ``data`` and ``grad`` values."""
    fields = [f"{tuple(tensor.shape)} {np.dtype(tensor.dtype).name}"]
    if tensor.data.size <= _MAX_SHOWN_ELEMENTS:
        fields.append(f"data {_values_text(tensor.data)}")
        if tensor.grad is not None:
            fields.append(f"grad {_values_text(tensor.grad.data)}")
    return "{ " + " | ".join(_record_text(f) for f in fields) + " }"


def _graph_dot(tensor: Tensor, rankdir: str = "LR") -> str:
    """The computational graph behind ``tensor`` as Graphviz DOT text (micrograd's ``draw_dot``).

    One record node per tensor (shape, dtype; for tensors of at most 6 elements also the values
    and, when set, ``.grad``), one ellipse per operation (its ``grad_fn`` class name: ``Mul``,
    ``Add``, ...), and edges input → op → output; a tensor used twice has two edges. The output
    tensor is filled green, leaves that require grad (the parameters) blue. The graph is walked
    iteratively from ``tensor.grad_fn`` through ``fn.parents``, so deep graphs work.

    ``backward()`` frees the graph (``fn.parents`` becomes None) unless called with
    ``retain_graph=True``: an op whose inputs are gone is drawn dashed, with a warning.
    """
    ids: dict[int, str] = {}
    nodes, edges, freed = [], [], []

    def tensor_id(t) -> str:
        if id(t) not in ids:
            ids[id(t)] = f"t{len(ids)}"
            style = ""
            if t is tensor:
                style = ', style=filled, fillcolor="darkolivegreen1"'
            elif t.grad_fn is None and t.requires_grad:
                style = ', style=filled, fillcolor="lightblue"'
            nodes.append(f'  {ids[id(t)]} [shape=record, label="{_tensor_label(t)}"{style}];')
            stack.append(t)
        return ids[id(t)]

    stack: list = []
    tensor_id(tensor)
    op_count = 0
    while stack:
        t = stack.pop()
        fn = t.grad_fn
        if fn is None:
            continue
        op = f"op{op_count}"
        op_count += 1
        name = type(fn).__name__
        if fn.parents is None:
            freed.append(name)
            nodes.append(f'  {op} [shape=ellipse, style=dashed, label="{name}\\n(graph freed)"];')
        else:
            nodes.append(f'  {op} [shape=ellipse, label="{name}"];')
            edges.extend(f"  {tensor_id(parent)} -> {op};" for parent in fn.parents)
        edges.append(f"  {op} -> {ids[id(t)]};")
    if freed:
        warnings.warn(
            f"draw_graph: the inputs of {', '.join(freed)} were freed by backward(); "
            f"call backward(retain_graph=True) to draw the whole graph",
            stacklevel=3,
        )
    return "\n".join([f"digraph {{\n  rankdir={rankdir};", *nodes, *edges, "}\n"])


def draw_graph(
    tensor: Tensor,
    path: str | os.PathLike | None = None,
    format: str | None = None,
    rankdir: str = "LR",
) -> str:
    """Draw the computational graph behind ``tensor``: returns its DOT text (see ``_graph_dot``).

    With ``path``, also writes the drawing there, in ``format`` (``"svg"``, ``"png"``, ``"pdf"``
    or ``"dot"`` for the text itself; by default the path's suffix, else svg), rendered by
    Graphviz's ``dot`` executable. When ``dot`` is not installed this does not fail: it writes
    the DOT text next to ``path`` (suffix ``.dot``) and warns how to install Graphviz, so a
    notebook or script goes on; render the text later with ``dot -Tsvg graph.dot -o graph.svg``.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    dot = _graph_dot(tensor, rankdir)
    if path is None:
        return dot
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if fmt not in _GRAPH_FORMATS:
        raise ValueError(f"draw_graph: format must be one of {_GRAPH_FORMATS}, got {fmt!r}")
    if fmt == "dot":
        path.write_text(dot)
        return dot
    executable = shutil.which("dot")
    if executable is None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(dot)
        warnings.warn(
            f"draw_graph: Graphviz's `dot` executable is not installed (not on PATH), so "
            f"{path} was not rendered; the DOT text was written to {dot_path}. Install "
            f"Graphviz (apt install graphviz, brew install graphviz or conda install graphviz) "
            f"and run: dot -T{fmt} {dot_path} -o {path}",
            stacklevel=2,
        )
        return dot
    result = subprocess.run(
        [executable, f"-T{fmt}", "-o", os.fspath(path)], input=dot, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"draw_graph: Graphviz's dot failed: {result.stderr.strip()}")
    return dot
