"""Containers: modules that hold other modules (a pipeline, or a list to index)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from aprende.nn.activation import ReLU, Sigmoid, Tanh
from aprende.nn.linear import Linear
from aprende.nn.module import Module
from aprende.ops.linear import linear_activation


def _position(index: int, length: int, kind: str) -> int:
    """A list index (negative counts from the end) checked against ``length``."""
    if not isinstance(index, int):
        raise TypeError(f"{kind} indices must be integers or slices, not {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a {kind} of length {length}")
    return index % length


class _ModuleSequence(Module):
    """Shared indexing of Sequential and ModuleList: submodules named "0", "1", ..."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, index: int) -> str:
        return list(self._modules)[_position(index, len(self), type(self).__name__)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), module)

    def __delitem__(self, index: int | slice) -> None:
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [self._key(index)]
        for key in doomed:
            del self._modules[key]
        if all(key.isdigit() for key in keys):  # keep the numbering contiguous, as PyTorch
            modules = list(self._modules.values())
            self._modules.clear()
            for i, module in enumerate(modules):
                self._modules[str(i)] = module

    def append(self, module: Module) -> _ModuleSequence:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        """Add modules at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, item in enumerate(modules):
            self.add_module(str(i), item)


class Sequential(_ModuleSequence):
    """A pipeline: ``forward`` feeds the input through each module in order.

    ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))`` names its layers "0", "1", "2" (so
    parameters are "0.weight", ...); ``Sequential(OrderedDict(fc=..., act=...))`` uses the
    given names. Indexing with an int gives a layer, with a slice a new Sequential.

    A Linear layer followed by ReLU, Tanh or Sigmoid runs as one graph node
    (``ops.linear.LinearActivation``): the same numbers as layer by layer, with one node and one
    array fewer; not where a forward hook on either module must see the layer's own output.
    """

    def __init__(self, *args: Module):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], dict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def forward(self, input):
        modules = tuple(self._modules.values())
        plan = self.__dict__.get("_fusion_plan")
        if plan is None or plan[0] != modules:  # built again whenever the layers change
            plan = (modules, _fusion_plan(modules))
            object.__setattr__(self, "_fusion_plan", plan)
        for i, activation in plan[1]:
            module = modules[i]
            if activation is None:
                input = module(input)
            elif module._forward_hooks or modules[i + 1]._forward_hooks:
                input = modules[i + 1](module(input))  # hooks must see the layer's own output
            else:  # Linear then ReLU/Tanh/Sigmoid in one graph node: the same numbers
                parameters = module._parameters
                weight, bias = parameters["weight"], parameters.get("bias")
                input = linear_activation(input, weight, bias, activation)
        return input


#: Activation modules that a preceding Linear layer computes in the same graph node.
_FUSED = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid"}


def _fusion_plan(modules: tuple) -> tuple:
    """(position, activation or None) for each step of the pipeline: a Linear layer followed
    by an activation of ``_FUSED`` is one step that computes both, any other module one step.

    Exact classes only: a subclass may override ``forward``.
    """
    plan, i = [], 0
    while i < len(modules):
        after = modules[i + 1] if i + 1 < len(modules) else None
        if type(modules[i]) is Linear and type(after) in _FUSED:
            plan.append((i, _FUSED[type(after)]))
            i += 2
        else:
            plan.append((i, None))
            i += 1
    return tuple(plan)


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent module sees (a Python list would hide them).

    It has no ``forward``: the parent decides how to use its items.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)
