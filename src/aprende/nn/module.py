"""Module and Parameter: the building blocks every layer and model is made of.

A ``Module`` owns parameters (tensors the optimizer trains), buffers (state that is saved but
not trained, such as BatchNorm's running statistics) and submodules, all registered by plain
attribute assignment (``self.fc = Linear(4, 3)``). From that registry it derives everything
else: ``parameters()``, dotted names (``"encoder.0.weight"``), ``state_dict()``, ``train()`` /
``eval()``, ``to(device)``, a readable ``repr`` and a ``summary()`` table, as ``torch.nn.Module``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

import numpy as np

from aprende import backend
from aprende._tensor import Tensor, to_arguments
from aprende.autograd import no_grad
from aprende.creation import tensor as _tensor
from aprende.creation import zeros


class Parameter(Tensor):
    """A tensor that is a trainable parameter of a module (``requires_grad=True`` by default).

    Assigning a Parameter to a module attribute registers it, so it appears in
    ``module.parameters()`` and the state dict. ``Parameter(t)`` shares ``t``'s memory.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = zeros(0)
        elif not isinstance(data, Tensor) and not hasattr(data, "dtype"):
            data = _tensor(data)  # Python numbers take the default dtype, as tensors do
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


#: What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(name, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


class Module:
    """Base class of every layer and model, as ``torch.nn.Module``.

    Subclasses call ``super().__init__()``, assign their layers and parameters as attributes,
    and define ``forward``; calling the module runs ``forward`` (and any forward hooks).
    """

    training: bool

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_hooks", {})

    def forward(self, *args, **kwargs):
        """The computation of the module; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if not self._forward_hooks:  # the common case, on the hot path of every layer
            return out
        for hook in tuple(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a non-None result replaces
        the output. Returns a handle whose ``remove()`` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---- registration ------------------------------------------------------------------------

    def _registry(self, name: str, kind: str) -> dict:
        store = self.__dict__.get(name)
        if store is None:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        return store

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry (it is about to be registered as something else)."""
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None: a declared but absent one, such as ``bias=False``)."""
        parameters = self._registry("_parameters", "parameters")
        _check_name(name, "parameter")
        if hasattr(self, name) and name not in parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(aprende.nn.Parameter or None required)"
            )
        parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: module state that is not trained (running statistics, counters).

        Persistent buffers are saved in the state dict; ``to()`` moves all of them.
        """
        buffers = self._registry("_buffers", "buffers")
        _check_name(name, "buffer")
        if hasattr(self, name) and name not in buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(Tensor or None required)"
            )
        buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule, reachable as an attribute and by its name in dotted paths."""
        modules = self._registry("_modules", "module")
        _check_name(name, "module")
        if hasattr(self, name) and name not in modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        parameters = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            self._registry("_parameters", "parameters")
            self._forget(name)
            self.register_parameter(name, value)
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(aprende.nn.Parameter or None expected)"
                )
            parameters[name] = None
        elif isinstance(value, Module):
            self._registry("_modules", "module")
            self._forget(name)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(aprende.nn.Module or None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails; reads __dict__ directly so that copy/pickle,
        # which probe attributes before __init__ has run, do not recurse.
        state = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in state and name in state[store]:
                return state[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    # ---- traversal ---------------------------------------------------------------------------

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every submodule, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                path = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, path, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct submodules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), e.g. ("0.weight", ...) in a Sequential; shared ones once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module and (with ``recurse``) of every submodule."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer), e.g. ("1.running_mean", ...)."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers of this module and (with ``recurse``) of every submodule."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first), then on this one; returns self.

        The usual use is custom initialisation: ``model.apply(init_weights)``.
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -----------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Training mode (``mode=True``) or evaluation mode, for this module and all below it.

        It changes what Dropout, GaussianNoise and BatchNorm do; returns self.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter: None, or new zero tensors."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                xp = backend.get_array_module(param.grad.data)
                param.grad = Tensor._make(xp.zeros_like(param.grad.data), False)

    # ---- devices and dtypes ------------------------------------------------------------------

    def to(self, *args, **kwargs) -> Module:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype.

        ``to("cuda")``, ``to(aprende.float64)``, ``to(device=..., dtype=...)``. The data is
        replaced inside the existing tensors, so an optimizer built before keeps working.
        """
        device, dtype = to_arguments(args, kwargs)
        dtype = backend.to_dtype(dtype)
        if dtype is not None and not np.issubdtype(dtype, np.floating):
            raise TypeError(
                f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
            )
        device = None if device is None else backend.device(device)
        for module in self.modules():
            for value in (*module._parameters.values(), *module._buffers.values()):
                if value is not None:
                    _convert(value, device, dtype)
        return self

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(backend.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64 (for gradient checks)."""
        return self.to(backend.float64)

    def cpu(self) -> Module:
        """Move parameters and buffers to the host."""
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Module:
        """Move parameters and buffers to a GPU (needs CuPy)."""
        return self.to("cuda" if device is None else f"cuda:{device}")

    # ---- state dict --------------------------------------------------------------------------

    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, as detached tensors.

        The tensors share memory with the module (copy them to keep a snapshot);
        this module's own entries come first, then each submodule's, in registration order.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers, in place.

        With ``strict``, the keys must match exactly; a value of the wrong shape is always an
        error. Either error raises RuntimeError listing the missing keys, the unexpected keys
        and the mismatched shapes, before anything is copied (a failed load changes nothing).
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and missing:
            keys = ", ".join(f'"{key}"' for key in missing)
            errors.append(f"Missing key(s) in state_dict: {keys}.")
        if strict and unexpected:
            keys = ", ".join(f'"{key}"' for key in unexpected)
            errors.append(f"Unexpected key(s) in state_dict: {keys}.")
        for key, target in own.items():
            if key in state_dict and _shape_of(state_dict[key]) != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_shape_of(state_dict[key])} from checkpoint, the shape in current "
                    f"model is {target.shape}."
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
                target.data[...] = backend.move(value, target.device)
                target._version += 1
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The module's own settings, shown inside its repr (``in_features=4, ...``)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = type(self).__name__ + "("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def summary(
        self, input_size=None, dtype=None, print_fn: Callable[[str], None] | None = None
    ) -> str:
        """A table of the layers, their output shapes and parameter counts (total/trainable).

        ``input_size`` is the full shape of one input batch, e.g. ``(32, 4)`` (or a list of
        shapes for several inputs): a forward pass on zeros of that shape, under ``no_grad`` and
        in evaluation mode (so running statistics and random state stay untouched), records
        each layer's output shape. Without it the shape column is left out. Returns the table;
        ``print_fn`` (e.g. ``print``) also receives it.
        """
        shapes = {} if input_size is None else self._output_shapes(input_size, dtype)
        table = [["Layer (type)", "Output Shape", "Param #"]]
        for name, module in self.named_modules():
            own = sum(p.numel() for p in module.parameters(recurse=False))
            if not name and self._modules and not own:
                continue  # the model's row only when it has parameters of its own
            table.append(
                [
                    f"{name} ({type(module).__name__})" if name else type(module).__name__,
                    str(shapes.get(id(module), "--")),
                    "--" if own == 0 and module._modules else f"{own:,}",
                ]
            )
        if input_size is None:
            table = [[row[0], row[2]] for row in table]
        widths = [max(len(row[i]) for row in table) + 2 for i in range(len(table[0]))]
        lines = [
            "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        rule = "=" * max(sum(widths), 40)
        params = list(self.parameters())
        total = sum(p.numel() for p in params)
        trainable = sum(p.numel() for p in params if p.requires_grad)
        text = "\n".join(
            [
                rule,
                lines[0],
                rule,
                *lines[1:],
                rule,
                f"Total params: {total:,}",
                f"Trainable params: {trainable:,}",
                f"Non-trainable params: {total - trainable:,}",
                rule,
            ]
        )
        if print_fn is not None:
            print_fn(text)
        return text

    def _output_shapes(self, input_size, dtype) -> dict:
        """id(module) -> its output shape, recorded by hooks during one forward pass."""
        sizes = [input_size] if all(isinstance(s, int) for s in input_size) else input_size
        first = next(self.parameters(), None)
        dtype = dtype or (first.dtype if first is not None else backend.get_default_dtype())
        device = first.device if first is not None else "cpu"
        inputs = [zeros(*size, dtype=dtype, device=device) for size in sizes]
        shapes: dict = {}

        def record(module, args, output):
            outputs = output if isinstance(output, tuple | list) else (output,)
            found = [tuple(o.shape) for o in outputs if isinstance(o, Tensor)]
            shapes[id(module)] = found[0] if len(found) == 1 else found

        modes = {id(m): m.training for m in self.modules()}
        handles = [m.register_forward_hook(record) for m in self.modules()]
        try:
            self.eval()
            with no_grad():
                self(*inputs)
        finally:
            for handle in handles:
                handle.remove()
            for module in self.modules():
                object.__setattr__(module, "training", modes[id(module)])
        return shapes


def _shape_of(value) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _convert(value: Tensor, device, dtype) -> None:
    """Replace a tensor's data (and its gradient's) by a moved and/or cast copy, in place."""
    for holder in (value, value.grad):
        if holder is None:
            continue
        data = holder.data
        if dtype is not None and np.issubdtype(data.dtype, np.floating) and data.dtype != dtype:
            data = data.astype(dtype)
        if device is not None:
            data = backend.move(data, device)
        if data is not holder.data:
            holder.data = data
            holder._version += 1
