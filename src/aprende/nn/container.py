"""Containers: modules that hold other modules or parameters (a pipeline, a list to index, a
dictionary by name), so that the parent module registers what they hold."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from aprende._tensor import Tensor
from aprende.nn.activation import ReLU, Sigmoid, Tanh
from aprende.nn.linear import Linear
from aprende.nn.module import Module, Parameter
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


def _pairs(values, kind: str) -> list:
    """(key, value) pairs from a mapping or an iterable of pairs, as ``dict.update`` reads them."""
    if isinstance(values, Mapping | ModuleDict | ParameterDict):
        return list(values.items())
    pairs = []
    for j, pair in enumerate(values):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(
                f"{kind} update sequence element #{j} should be a (key, value) pair, got "
                f"{type(pair).__name__}"
            )
        pairs.append(tuple(pair))
    return pairs


class ModuleDict(Module):
    """A dictionary of modules, registered under their keys (parameters "key.weight", ...).

    Ordered by insertion, like a dict: ``md["encoder"]``, ``md["head"] = Linear(8, 2)``,
    ``"head" in md``, ``len``, iteration over the keys, ``keys()``, ``values()``, ``items()``,
    ``update()``, ``pop()``, ``clear()``. It has no ``forward``.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        """Add (or replace) modules from a mapping or an iterable of (key, module) pairs."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleDict):
            raise TypeError(
                "ModuleDict.update should be called with a mapping or an iterable of "
                f"key/value pairs, got {type(modules).__name__}"
            )
        for key, module in _pairs(modules, "ModuleDict"):
            self[key] = module


def _as_parameter(value):
    """A tensor becomes a Parameter (sharing its memory), as PyTorch's parameter containers do."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (so a parent's keys are "name.0").

    Tensors put in it become Parameters. Indexing (negative from the end; a slice gives a new
    ParameterList), assignment, ``len``, iteration, ``append``, ``extend`` and ``+=``.
    """

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _key(self, index: int) -> str:
        return str(_position(index, self._size, "ParameterList"))

    def __getitem__(self, index: int | slice):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(self._size)[index]])
        return getattr(self, self._key(index))

    def __setitem__(self, index: int, value) -> None:
        setattr(self, self._key(index), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def append(self, value) -> ParameterList:
        """Add a parameter at the end; returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> ParameterList:
        """Add parameters at the end; returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                f"{type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(
            f"({i}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
            for i, p in enumerate(self)
        )


class ParameterDict(Module):
    """A dictionary of parameters, registered under their keys; tensors become Parameters.

    ``pd["scale"]``, ``pd["scale"] = Parameter(...)``, ``in``, ``len``, iteration over the
    keys, ``keys()``, ``values()``, ``items()``, ``update()``, ``pop()``, ``clear()``.
    """

    def __init__(self, parameters: Mapping | Iterable | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def clear(self) -> None:
        """Remove every parameter."""
        self._parameters.clear()

    def pop(self, key: str) -> Parameter:
        """Remove the parameter under ``key`` and return it."""
        value = self[key]
        del self[key]
        return value

    def keys(self) -> Iterable[str]:
        return self._parameters.keys()

    def items(self) -> Iterable[tuple[str, Parameter]]:
        return self._parameters.items()

    def values(self) -> Iterable[Parameter]:
        return self._parameters.values()

    def update(self, parameters: Mapping | Iterable) -> None:
        """Add (or replace) parameters from a mapping or an iterable of (key, value) pairs."""
        for key, value in _pairs(parameters, "ParameterDict"):
            self[key] = value
