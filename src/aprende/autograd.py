"""Reverse-mode automatic differentiation over a computational graph.

Every differentiable operation is a ``Function``: ``forward`` computes the output from raw arrays,
``backward`` turns the gradient of the output into the gradients of the inputs (the chain rule,
one local step). ``Function.apply`` records the node when some input requires grad, so running
the forward pass builds the graph (define-by-run). ``backward`` walks that graph in reverse
topological order, iteratively, and sums the gradients that reach a tensor along every path.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import operator
import warnings
import weakref
from collections.abc import Callable

import numpy as np

from aprende.backend import get_array_module

_grad_enabled = True
#: Called as ``_tracer(cls, inputs, options, output)`` after every op while a forward pass is
#: recorded (``aprende.onnx``); None otherwise, so an op pays one global lookup for it.
_tracer: Callable | None = None
#: Creation order of graph nodes: a node's inputs were always made before it (see ``backward``).
_sequence = itertools.count()
_after_backward: list[Callable[[], None]] = []  # see queue_callback
# attrgetter + map read an attribute of every input without a Python frame per input: apply()
# runs for every op of every batch.
_version_of = operator.attrgetter("_version")
_data_of = operator.attrgetter("data")
_requires_grad_of = operator.attrgetter("requires_grad")


def is_grad_enabled() -> bool:
    """True when operations record the graph (outside ``no_grad``)."""
    return _grad_enabled


class _GradMode:
    """Sets whether operations record the graph: on ``__enter__``, back on ``__exit__``; used
    as a decorator, each call of the function runs inside a fresh context of the same mode."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.previous, _grad_enabled = _grad_enabled, self.mode
        return self

    def __exit__(self, *exc_info) -> None:
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with _GradMode(self.mode):
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager / decorator: nothing inside records a graph (inference, optimizer steps)."""

    def __init__(self):
        super().__init__(False)


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager / decorator for inference: as ``no_grad`` (nothing records a graph);
    ``inference_mode(False)`` leaves the current mode as it is."""

    def __init__(self, mode: bool = True):
        super().__init__(not mode and _grad_enabled)
        self.keep = not mode

    def __enter__(self):
        if self.keep:
            self.mode = _grad_enabled
        return super().__enter__()

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with inference_mode(not self.keep):
                return function(*args, **kwargs)

        return wrapper


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager / decorator: record the graph again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Turn graph recording on or off: at once when called (``set_grad_enabled(False)``), and
    back to the previous mode at the end of a ``with`` block; also a decorator."""

    def __init__(self, mode: bool):
        super().__init__(mode)
        super().__enter__()

    def __enter__(self):
        return self  # the mode was set by the call already


# ---------------------------------------------------------------------------------------------
# Function: one node of the graph
# ---------------------------------------------------------------------------------------------


class Function:
    """One operation of the graph: ``forward`` on arrays, ``backward`` from the output's gradient.

    Subclasses write ``forward(self, *arrays, **options) -> array`` and
    ``backward(self, grad) -> tuple`` (one gradient or None per input, shaped like that input).
    Every array that backward reads is declared in forward with ``self.save_for_backward(...)``
    and read back from ``self.saved_tensors`` (PyTorch's ``ctx`` protocol); options such as a
    reduction or a shape may stay plain attributes. Arrays the caller can change in place
    (targets, index arrays, conditions, class weights) are passed as inputs, never as options,
    so that saving them puts them under the version check: an input or the output changed in
    place between forward and backward makes backward raise instead of computing a wrong
    gradient. ``self.needs[i]`` tells whether input ``i`` requires a gradient, so backward can
    skip work nobody asked for.
    """

    parents: tuple = ()
    needs: tuple = ()
    saved_tensors: tuple = ()

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the forward pass on tensors and record the node when a gradient is needed."""
        fn = cls()
        try:
            out = fn.forward(*map(_data_of, inputs), **options)
        except ValueError as error:
            shapes = " and ".join(str(tuple(t.data.shape)) for t in inputs)
            raise RuntimeError(f"{fn.name()}: invalid shapes {shapes}: {error}") from None
        except TypeError:
            # CuPy's TypeError for a host array in a GPU op, said as PyTorch says it; looked
            # at only on this error path, so the common case pays nothing
            devices = list(dict.fromkeys(str(t.device) for t in inputs if isinstance(t, Tensor)))
            if len(devices) > 1:
                raise RuntimeError(
                    f"{fn.name()}: expected all tensors to be on the same device, but found at "
                    f"least two devices, {devices[0]} and {devices[1]}"
                ) from None
            raise
        if not _grad_enabled:
            result = Tensor._make(out, False)
        elif True not in (needs := tuple(map(_requires_grad_of, inputs))):  # a C-level scan
            result = Tensor._make(out, False)
        else:
            result = Tensor._make(out, True)
            fn.parents = inputs
            fn.needs = needs
            fn.sequence = next(_sequence)
            fn.versions = tuple(map(_version_of, inputs))
            result._ctx = fn
        if _tracer is not None:
            _tracer(cls, inputs, options, result)
        return result

    @classmethod
    def name(cls) -> str:
        """The op's name as shown in errors and graph drawings (``AddBackward`` -> ``add``)."""
        return cls.__name__.lower()

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def save_for_backward(self, *arrays) -> None:
        """Declare the arrays backward reads (inputs, the output, or arrays made in forward;
        None where an optional one is absent). Saved inputs and a saved output are checked
        for in-place changes before backward runs."""
        self.saved_tensors = arrays

    def release(self) -> None:
        """Free everything the node saved: the graph behind it is gone after backward.

        The creation number stays, so a later backward that reaches the node can say why it
        cannot go through."""
        self.__dict__ = {"parents": None, "sequence": self.sequence}

    def check_saved(self, output) -> None:
        """Raise if a saved input, or the saved output, was changed in place since forward.

        The versions are compared first (one tuple comparison, the common case); only when
        one moved is it looked up whether backward reads that tensor's array."""
        if not output._version and tuple(map(_version_of, self.parents)) == self.versions:
            return
        changed = [(output, 0)] if output._version else []
        changed += [
            (parent, version)
            for parent, version in zip(self.parents, self.versions, strict=True)
            if parent._version != version
        ]
        for tensor, version in changed:
            if any(saved is tensor.data for saved in self.saved_tensors):
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: {self.name()} saved a tensor of shape "
                    f"{tensor.shape} at version {version}, and it is now at version "
                    f"{tensor._version}; clone it before changing it (x.clone()), or change "
                    "it after backward()"
                )


def unbroadcast(grad, shape: tuple):
    """Sum a gradient back to the shape of an input that was broadcast to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad.reshape(shape)


def unpack_optional(arrays: tuple, present: tuple[bool, ...]) -> list:
    """Optional inputs passed after the required ones, only those given: back as a list with
    None where one was not given (``present`` says which were)."""
    given = iter(arrays)
    return [next(given) if there else None for there in present]


# ---------------------------------------------------------------------------------------------
# The backward engine
# ---------------------------------------------------------------------------------------------


#: Hooks from ``Tensor.register_hook``, by id(tensor), in registration order. They live here,
#: not on the Tensor, so a tensor without hooks costs nothing: the engine only tests whether
#: this dict is empty. An entry goes when its tensor does (``weakref.finalize``).
_hooks: dict[int, dict[int, Callable]] = {}
_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook (also on
    leaving a ``with handle:`` block)."""

    def __init__(self, tensor_id: int, hooks: dict, key: int):
        self._tensor_id, self._hooks, self.id = tensor_id, hooks, key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        if not self._hooks and _hooks.get(self._tensor_id) is self._hooks:
            del _hooks[self._tensor_id]  # an empty entry would keep the engine checking

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def register_hook(tensor: Tensor, hook: Callable) -> RemovableHandle:
    """Call ``hook(grad)`` with the gradient of ``tensor`` each time backward computes it; a
    tensor it returns replaces the gradient (None keeps it). Hooks run in registration order,
    on a non-leaf before its gradient flows on (and before ``retain_grad`` stores it), on a
    leaf once per backward with the gradient summed over every path, before it is
    accumulated into ``.grad``."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    key = id(tensor)
    hooks = _hooks.get(key)
    if hooks is None:
        hooks = _hooks[key] = {}
        weakref.finalize(tensor, _forget_hooks, key, hooks)
    handle = RemovableHandle(key, hooks, next(_hook_ids))
    hooks[handle.id] = hook
    return handle


def _forget_hooks(key: int, hooks: dict) -> None:
    if _hooks.get(key) is hooks:
        del _hooks[key]


def _apply_hooks(tensor, grad):
    """The gradient after the tensor's hooks (each may return a replacement)."""
    for hook in list(_hooks.get(id(tensor), {}).values()):
        result = hook(Tensor._make(grad, False))
        if result is not None:
            replacement = result.data if isinstance(result, Tensor) else result
            if replacement.shape != grad.shape:
                name = getattr(hook, "__name__", type(hook).__name__)
                raise RuntimeError(
                    f"hook '{name}' has changed the size of value: the gradient has shape "
                    f"{tuple(grad.shape)}, the hook returned shape {tuple(replacement.shape)}"
                )
            grad = replacement
    return grad


def _owned_grad(grad, data, stored: set):
    """``grad`` as a gradient of ``data``: its dtype and shape, in memory of its own (never a
    view, never an array already handed to another tensor)."""
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    if grad.shape != data.shape:
        grad = get_array_module(grad).broadcast_to(grad, data.shape)
    if grad.base is not None or id(grad) in stored or not grad.flags.writeable:
        grad = grad.copy()
    stored.add(id(grad))
    return grad


def _store_grad(tensor, grad, stored: set) -> None:
    """Accumulate ``grad`` into ``tensor.grad``; a stored array is never shared with another."""
    if tensor.grad is None:
        tensor.grad = Tensor._make(_owned_grad(grad, tensor.data, stored), False)
    else:
        tensor.grad.data = tensor.grad.data + grad


def _seed_grad(output, grad, what: str):
    """∂L/∂output as an array: 1 for a single-valued output when ``grad`` is None."""
    xp = get_array_module(output.data)
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs, but the "
                f"output has shape {output.shape}; pass a gradient of that shape"
            )
        if xp is np:
            return xp.asarray(1, dtype=output.data.dtype).reshape(output.data.shape)  # 5x ones_like
        return xp.ones_like(output.data)  # filled on the device: asarray(1) would upload it
    grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=output.data.dtype)
    if grad.shape != output.data.shape:
        raise RuntimeError(
            f"{what}: gradient of shape {tuple(grad.shape)} does not match the output's "
            f"shape {output.shape}"
        )
    return grad


def backward(root, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``: ∂root/∂x for every leaf x that requires grad, into ``x.grad``.

    ``grad`` is ∂L/∂root (defaults to 1 for a scalar root). Each node receives the sum of the
    gradients of all its consumers before it passes its own on (the multivariate chain rule).
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no grad_fn; "
            "did you create it under no_grad() or from tensors with requires_grad=False?"
        )
    grad = _seed_grad(root, grad, "backward")
    if root._ctx is None:  # a leaf: its gradient is the one given
        _store_grad(root, _apply_hooks(root, grad) if _hooks else grad, set())
    else:
        stored: set = set()
        for leaf, leaf_grad in _run_backward([(root, grad)], retain_graph, stored).values():
            _store_grad(leaf, _apply_hooks(leaf, leaf_grad), stored)
    if _after_backward:
        callbacks = _after_backward[:]
        _after_backward.clear()
        for callback in callbacks:
            callback()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once, after the next backward pass has stored every gradient.

    Data-parallel training uses it to average the gradients across processes before the
    optimizer step (PyTorch's ``Variable._execution_engine.queue_callback``)."""
    _after_backward.append(callback)


_pass_number = 0


def backward_pass_number() -> int:
    """Which backward pass is running (or ran last): a node that shares state across its
    pieces (``ops.shape.Piece``) tells passes apart with it."""
    return _pass_number


def _run_backward(
    roots: list, retain_graph: bool, stored: set, reach: set | None = None, captured=None
) -> dict:
    """The chain rule over the graph below ``roots`` ((tensor, gradient) pairs, non-leaves),
    each node once, after all its consumers.

    Nodes are taken newest first (a heap on their creation number): an op's inputs always
    exist before it, so every consumer of a node is newer and has already passed its gradient
    on when the node's turn comes. No traversal of the graph is needed beforehand; a node
    joins the heap when the first gradient reaches it.

    Leaf gradients go straight into ``.grad``, except for leaves with hooks (a hook sees the
    sum over all paths) and, for ``grad()`` (``reach`` given: the ids of the tensors with a
    path to an input), every leaf: those come back summed, {id: (leaf, gradient)}. A non-leaf
    whose id is in ``captured`` has its gradient recorded there. ``stored`` holds the ids of
    the arrays already handed to a ``.grad``.
    """
    global _pass_number
    _pass_number += 1
    grads: dict = {}
    heap: list = []
    for tensor, grad in roots:
        key = id(tensor)
        if key in grads:
            grads[key] = grads[key] + grad
        else:
            grads[key] = grad
            heap.append((-tensor._ctx.sequence, tensor))
    heapq.heapify(heap)
    pending: dict = {}
    while heap:
        tensor = heapq.heappop(heap)[1]
        ctx = tensor._ctx
        parents = ctx.parents
        if parents is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time: the graph was freed "
                "by the first backward(); pass retain_graph=True to the first call"
            )
        g = grads.pop(id(tensor))
        if captured is not None and id(tensor) in captured:
            captured[id(tensor)] = g
        if _hooks:
            g = _apply_hooks(tensor, g)
        if tensor._retains_grad:
            _store_grad(tensor, g, stored)
        if ctx.saved_tensors:
            ctx.check_saved(tensor)
        if reach is None or not reach.isdisjoint(map(id, parents)):
            for parent, parent_grad in zip(parents, ctx.backward(g), strict=True):
                if parent_grad is None or not parent.requires_grad:
                    continue
                key = id(parent)
                if reach is not None and key not in reach:
                    continue
                parent_ctx = parent._ctx
                if parent_ctx is None:  # a leaf: accumulate into .grad right away
                    if reach is None and not (_hooks and key in _hooks):
                        _store_grad(parent, parent_grad, stored)
                    else:
                        previous = pending.get(key)
                        total = parent_grad if previous is None else previous[1] + parent_grad
                        pending[key] = (parent, total)
                    continue
                previous = grads.get(key)
                if previous is None:
                    grads[key] = parent_grad
                    heapq.heappush(heap, (-parent_ctx.sequence, parent))
                else:
                    grads[key] = previous + parent_grad
        if not retain_graph:
            ctx.release()
    return pending


def _reaching(outputs: tuple, inputs: tuple) -> set:
    """The ids of the tensors below ``outputs`` with a path down to one of ``inputs``
    (inputs included): the only nodes ``grad`` needs to run. Iterative (deep graphs); a
    node freed by an earlier backward counts, so that reaching it raises the usual error."""
    targets = {id(t) for t in inputs}
    useful: dict = {}
    stack = [(t, False) for t in outputs]
    while stack:
        tensor, parents_done = stack.pop()
        key = id(tensor)
        ctx = tensor._ctx
        parents = () if ctx is None or ctx.parents is None else ctx.parents
        parents = [p for p in parents if p.requires_grad]
        if parents_done:
            useful[key] = useful[key] or any(useful[id(p)] for p in parents)
        elif key not in useful:
            useful[key] = key in targets or (ctx is not None and ctx.parents is None)
            stack.append((tensor, True))
            stack.extend((p, False) for p in parents if id(p) not in useful)
    return {key for key, yes in useful.items() if yes}


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """∂(Σᵢ ⟨grad_outputsᵢ, outputsᵢ⟩)/∂x for every x in ``inputs``, as ``torch.autograd.grad``:
    returned as a tuple of tensors, without touching any leaf's ``.grad``.

    ``outputs`` and ``inputs`` are a tensor or a sequence of tensors; a grad_output may be
    None (or all of them omitted) for an output holding one value, where it means 1. The
    graph is freed unless ``retain_graph`` (by default ``create_graph``). An input that no
    output depends on is an error unless ``allow_unused`` (its gradient is then None) or
    ``materialize_grads`` (zeros). Hooks run as in ``backward``, and tensors that
    ``retain_grad()`` still receive ``.grad``.
    """
    if create_graph:
        raise NotImplementedError(
            "grad: create_graph=True (higher-order gradients) is not supported: aprende's "
            "backward functions compute on raw arrays and record no graph"
        )
    outputs, inputs = tuple(_outputs_as_tuple(outputs)), tuple(_outputs_as_tuple(inputs))
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = tuple(_outputs_as_tuple(grad_outputs))
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; pass one "
            "per output"
        )
    for i, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
    if not all(t.requires_grad for t in inputs):
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True requires allow_unused to be True or None")
    seeds = [
        (output, _seed_grad(output, g, f"grad: Mismatch in shape: grad_output[{i}], output[{i}]"))
        for i, (output, g) in enumerate(zip(outputs, grad_outputs, strict=True))
    ]
    reach = _reaching(outputs, inputs)
    captured = {id(t): None for t in inputs if t._ctx is not None}
    leaves: dict = {}
    for output, seed in seeds:  # an output that is itself a leaf input
        if output._ctx is None and id(output) in reach:
            previous = leaves.get(id(output))
            leaves[id(output)] = (output, seed if previous is None else previous[1] + seed)
    roots = [(output, seed) for output, seed in seeds if output._ctx is not None]
    stored: set = set()
    if roots:
        retain = create_graph if retain_graph is None else retain_graph
        for key, (leaf, total) in _run_backward(roots, retain, stored, reach, captured).items():
            previous = leaves.get(key)
            leaves[key] = (leaf, total if previous is None else previous[1] + total)
    found = {key: _apply_hooks(leaf, total) for key, (leaf, total) in leaves.items()}
    found.update(captured)
    results = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the "
                "graph. Set allow_unused=True if this is the desired behavior."
            )
        if g is None:
            g = get_array_module(t.data).zeros_like(t.data) if materialize_grads else None
        results.append(None if g is None else Tensor._make(_owned_grad(g, t.data, stored), False))
    return tuple(results)


#: Tensor methods defined here: ``x.register_hook(hook)``.
TENSOR_METHODS = ("register_hook",)


# ---------------------------------------------------------------------------------------------
# gradcheck: finite differences against backward
# ---------------------------------------------------------------------------------------------


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _outputs_as_tuple(outputs) -> tuple:
    return outputs if isinstance(outputs, tuple | list) else (outputs,)


def _numerical_jacobian(fn, inputs, index: int, eps: float) -> np.ndarray:
    """J[i, j] = ∂ out_j / ∂ x_i by central differences (f(x+ε) − f(x−ε)) / 2ε."""
    x = inputs[index].data
    rows = []
    with no_grad():
        for position in np.ndindex(x.shape):  # works for any layout, transposed views too
            original = x[position].item()
            x[position] = original + eps
            plus = _flat_outputs(_outputs_as_tuple(fn(*inputs)))
            x[position] = original - eps
            minus = _flat_outputs(_outputs_as_tuple(fn(*inputs)))
            x[position] = original
            rows.append((plus - minus) / (2 * eps))
    return np.stack(rows) if rows else np.zeros((0, 0))


def _flat_outputs(outputs) -> np.ndarray:
    parts = [np.asarray(o.detach().data, dtype=np.float64).reshape(-1) for o in outputs]
    return np.concatenate(parts) if parts else np.zeros(0)


def _analytical_jacobians(fn, inputs, checked: list) -> list:
    """J[i, j] from backward: one pass per output element j, with a one-hot upstream gradient."""
    outputs = _outputs_as_tuple(fn(*inputs))
    total = sum(o.numel() for o in outputs)
    jacobians = [np.zeros((inputs[i].numel(), total)) for i in checked]
    column = 0
    for output in outputs:
        for j in range(output.numel() if output.requires_grad else 0):
            for i in checked:
                inputs[i].grad = None
            one_hot = np.zeros(output.numel(), dtype=output.data.dtype)
            one_hot[j] = 1
            output.backward(one_hot.reshape(output.shape), retain_graph=True)
            for k, i in enumerate(checked):
                if inputs[i].grad is not None:
                    jacobians[k][:, column + j] = inputs[i].grad.data.reshape(-1)
        column += output.numel()
    for i in checked:
        inputs[i].grad = None
    return jacobians


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check ``backward`` against finite differences, as ``torch.autograd.gradcheck``.

    For every input x that requires grad, the Jacobian ∂fn/∂x from backward must match the
    central difference (fn(x + ε) − fn(x − ε)) / 2ε elementwise within ``atol + rtol·|numerical|``.
    Use float64 inputs: float32 rounding swamps the differences.
    """
    inputs = tuple(inputs) if isinstance(inputs, tuple | list) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; finite differences "
                "will be imprecise",
                stacklevel=2,
            )
    analytical = _analytical_jacobians(fn, inputs, checked)
    for k, i in enumerate(checked):
        numerical = _numerical_jacobian(fn, inputs, i, eps)
        if numerical.shape != analytical[k].shape:
            numerical = numerical.reshape(analytical[k].shape)
        close = np.abs(analytical[k] - numerical) <= atol + rtol * np.abs(numerical)
        if not close.all():
            if not raise_exception:
                return False
            bad = np.argwhere(~close)[0]
            raise GradcheckError(
                f"gradcheck: Jacobian mismatch for input {i} at (input element {bad[0]}, output "
                f"element {bad[1]}): analytical {analytical[k][tuple(bad)]:.8g}, numerical "
                f"{numerical[tuple(bad)]:.8g}\nanalytical:\n{analytical[k]}\nnumerical:\n{numerical}"
            )
    return True


from aprende._tensor import Tensor  # noqa: E402 - the tensor module needs this one first
