"""The ONNX graph under construction: value names, initializers (weights, constants), nodes."""

from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper

from aprende import backend
from aprende._tensor import Tensor


class GraphBuilder:
    """Names every tensor the traced ops touch and collects the nodes that compute them.

    A tensor first met as an op's input that no earlier op made (a parameter, a buffer, a
    constant such as the 2 of ``x * 2``) becomes an initializer holding its value; parameters
    and buffers keep their state-dict names (``features.0.weight``).
    """

    def __init__(self, opset: int, names: dict[int, str]):
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._values: dict[int, str] = {}
        self._keep: list = []  # the tensors named: their ids stay theirs while the graph is built
        self._state_names = names
        self._count = 0

    def fresh(self, stem: str) -> str:
        """A new unique value or node name."""
        self._count += 1
        return f"{stem}_{self._count}"

    def bind(self, tensor: Tensor, name: str) -> None:
        """Give ``tensor`` the value name ``name`` (a graph input, or a node's output)."""
        self._values[id(tensor)] = name
        self._keep.append(tensor)

    def has(self, tensor: Tensor) -> bool:
        return id(tensor) in self._values

    def value(self, tensor: Tensor) -> str:
        """The name of ``tensor`` in the graph, made an initializer when nothing computed it."""
        key = id(tensor)
        if key not in self._values:
            name = self._state_names.get(key) or self.fresh("const")
            self.constant(backend.to_numpy(tensor.data), name)
            self.bind(tensor, name)
        return self._values[key]

    def constant(self, array, name: str | None = None) -> str:
        """An initializer holding ``array``; returns its name."""
        name = name or self.fresh("const")
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def ints(self, values) -> str:
        """An int64 1-d initializer (shapes, axes, pads given as inputs)."""
        return self.constant(np.asarray(list(values), dtype=np.int64))

    def node(self, op_type: str, inputs: list[str], outputs: int = 1, **attributes) -> list[str]:
        """Add a node; returns the names of its outputs."""
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, inputs, names, name=self.fresh(op_type), **attributes)
        )
        return names

    def one(self, op_type: str, inputs: list[str], **attributes) -> str:
        """Add a node with one output; returns its name."""
        return self.node(op_type, inputs, **attributes)[0]
