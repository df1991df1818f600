"""One harness to check an op against PyTorch: value, dtype, shape and every gradient.

An op is written once against a namespace ``ns`` (``aprende`` or ``torch``), so a row of a test
table reads like the PyTorch code it mirrors::

    ("sin", lambda ns, a: ns.sin(a), [shape_or_array, ...])

``compare(op, arrays, dtype)`` builds the inputs in both frameworks, runs the op, and checks that
every output has PyTorch's type (Tensor or tuple), dtype, shape and value (nan where PyTorch has
nan); then it back-propagates the same random upstream gradient (not ones) through every
floating output and compares the gradients of every floating input. Importing this module
requires torch: test files import it after ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

import aprende

TOLERANCES = {
    "float64": (1e-7, 1e-9),
    "float32": (2e-5, 1e-6),
    "float16": (2e-3, 1e-3),
}


def _torch_dtype(name: str):
    return getattr(torch, "bool" if name == "bool_" else name)


def _aprende_dtype(name: str):
    return aprende.bool_ if name == "bool" else getattr(aprende, name)


def is_floating(dtype_name: str) -> bool:
    return dtype_name.startswith("float")


def build_inputs(arrays: Sequence, dtype: str | Sequence[str], requires_grad: bool = True):
    """The same values as aprende and torch tensors. ``dtype`` is one name or one per input;
    non-array entries (ints, tuples, None) pass through unchanged to both."""
    dtypes = [dtype] * len(arrays) if isinstance(dtype, str) else list(dtype)
    ours, theirs = [], []
    for array, name in zip(arrays, dtypes, strict=True):
        if not isinstance(array, np.ndarray):
            ours.append(array)
            theirs.append(array)
            continue
        values = array.astype(np.bool_ if name == "bool" else name)
        grad = requires_grad and is_floating(name)
        ours.append(aprende.tensor(values, dtype=_aprende_dtype(name), requires_grad=grad))
        theirs.append(torch.tensor(values, dtype=_torch_dtype(name), requires_grad=grad))
    return ours, theirs


def _outputs(result) -> list:
    """The tensors of a result: one tensor, or a tuple (values, indices) flattened."""
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _outputs(item)]
    return [result]


def assert_same_tensor(ours, theirs, rtol: float, atol: float, what: str = "output") -> None:
    """Same kind, dtype, shape and values (nan matching nan)."""
    if not isinstance(theirs, torch.Tensor):  # a Python number or bool, as PyTorch returns
        assert not isinstance(ours, aprende.Tensor), f"{what}: PyTorch gives {type(theirs)}"
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)
        return
    assert isinstance(ours, aprende.Tensor), f"{what}: expected a Tensor, got {type(ours)}"
    expected_dtype = np.dtype(str(theirs.dtype).removeprefix("torch."))
    assert np.dtype(ours.dtype) == expected_dtype, f"{what}: dtype {ours.dtype} != {expected_dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {ours.shape} != {theirs.shape}"
    mine, reference = ours.detach().numpy(), theirs.detach().numpy()
    if mine.dtype.kind in "biu":
        np.testing.assert_array_equal(mine, reference, err_msg=what)
    else:
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol, err_msg=what)


def compare(
    op: Callable,
    arrays: Sequence,
    dtype: str | Sequence[str] = "float64",
    rtol: float | None = None,
    atol: float | None = None,
    grad: bool = True,
    seed: int = 7,
) -> None:
    """Run ``op(ns, *inputs)`` in aprende and in PyTorch and compare outputs and gradients."""
    names = [dtype] if isinstance(dtype, str) else list(dtype)
    default_rtol, default_atol = max((TOLERANCES.get(n, (0, 0)) for n in names), default=(0, 0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    ours_in, theirs_in = build_inputs(arrays, dtype, requires_grad=grad)
    ours_out, theirs_out = op(aprende, *ours_in), op(torch, *theirs_in)
    assert type(ours_out) is not tuple or isinstance(theirs_out, tuple), "output kind differs"
    mine, reference = _outputs(ours_out), _outputs(theirs_out)
    assert len(mine) == len(reference), f"{len(mine)} outputs, PyTorch gives {len(reference)}"
    for i, (a, b) in enumerate(zip(mine, reference, strict=True)):
        assert_same_tensor(a, b, rtol, atol, what=f"output {i}")
    if not grad:
        return
    rng = np.random.default_rng(seed)
    pairs = [
        (a, b)
        for a, b in zip(mine, reference, strict=True)
        if isinstance(b, torch.Tensor) and b.requires_grad and b.numel() > 0
    ]
    if not pairs:
        return
    ours_loss, theirs_loss = 0, 0
    for a, b in pairs:
        upstream = rng.standard_normal(tuple(b.shape))
        ours_loss = ours_loss + (a * aprende.tensor(upstream, dtype=a.dtype)).sum()
        theirs_loss = theirs_loss + (b * torch.tensor(upstream, dtype=b.dtype)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in, strict=True)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            if b.grad is None:
                assert a.grad is None or not a.grad.numpy().any(), f"input {i}: grad not None"
                continue
            assert a.grad is not None, f"input {i}: no gradient, PyTorch has one"
            assert_same_tensor(a.grad, b.grad, rtol, atol, what=f"gradient of input {i}")


def raises_like_torch(op: Callable, arrays: Sequence, dtype: str = "float64") -> type:
    """Both frameworks refuse the input with the same exception type; returns that type."""
    ours_in, theirs_in = build_inputs(arrays, dtype, requires_grad=False)
    try:
        op(torch, *theirs_in)
    except Exception as error:  # noqa: BLE001 - whatever PyTorch raises is the reference
        expected = type(error)
    else:
        raise AssertionError("PyTorch accepts this input")
    try:
        op(aprende, *ours_in)
    except expected:
        return expected
    except Exception as error:  # noqa: BLE001
        raise AssertionError(
            f"aprende raises {type(error).__name__}: {error}; PyTorch raises {expected.__name__}"
        ) from None
    raise AssertionError(f"aprende accepts what PyTorch refuses with {expected.__name__}")
