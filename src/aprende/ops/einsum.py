"""Einstein summation, as ``torch.einsum``: products of tensors summed over shared subscripts.

``einsum("ij,jk->ik", a, b)`` is ``a @ b``; an equation names each operand's dimensions with a
letter, ``...`` stands for the dimensions not named (broadcast as in elementwise ops), a letter
repeated within one operand takes a diagonal (``"ii->i"``), and without ``->`` the output is
the letters that appear once, in alphabetical order, after the ``...`` dimensions. Dimensions
of size 1 broadcast against the same letter of another operand.
"""

from __future__ import annotations

import string

import numpy as np

from aprende._tensor import Tensor
from aprende.autograd import Function, unbroadcast
from aprende.backend import get_array_module


class Einsum(Function):
    """out = Σ over the letters not in the output of Πₖ operandₖ[its letters].

    The output is linear in each operand, so ∂L/∂operandₖ is again an einsum: of the upstream
    gradient with the other operands, into operand k's letters. A letter repeated in operand k
    (a diagonal) receives that einsum on the diagonal and zeros elsewhere; a letter only
    operand k has (summed within it) receives the gradient broadcast along it; a dimension of
    size 1 that was broadcast gets the gradient summed back.
    """

    def forward(self, *operands, subscripts, output, sizes):
        self.save_for_backward(*operands)
        self.subscripts, self.output, self.sizes = subscripts, output, sizes
        xp = get_array_module(operands[0])
        spread = [_broadcast(a, s, sizes) for a, s in zip(operands, subscripts, strict=True)]
        equation = ",".join(subscripts) + "->" + output
        return xp.asarray(xp.einsum(equation, *spread, optimize=len(spread) > 1))

    def backward(self, grad):
        operands, subscripts, sizes = self.saved_tensors, self.subscripts, self.sizes
        xp = get_array_module(grad)
        spread = [_broadcast(a, s, sizes) for a, s in zip(operands, subscripts, strict=True)]
        grads = []
        for k, (operand, letters) in enumerate(zip(operands, subscripts, strict=True)):
            if not self.needs[k]:
                grads.append(None)
                continue
            others = [j for j in range(len(operands)) if j != k]
            reachable = set(self.output).union(*(subscripts[j] for j in others))
            unique = "".join(dict.fromkeys(letters))
            computed = "".join(c for c in unique if c in reachable)
            equation = ",".join([self.output, *(subscripts[j] for j in others)]) + "->" + computed
            g = xp.einsum(equation, grad, *(spread[j] for j in others), optimize=len(others) > 0)
            g = xp.asarray(g)
            missing = tuple(i for i, c in enumerate(unique) if c not in reachable)
            if missing:  # summed within this operand only: d(Σ x)/dx = 1 along it
                g = xp.broadcast_to(xp.expand_dims(g, missing), [sizes[c] for c in unique])
            if len(unique) < len(letters):
                g = _onto_diagonal(g, letters, unique, sizes, xp)
            grads.append(unbroadcast(g, operand.shape))
        return tuple(grads)


def _broadcast(array, letters: str, sizes: dict):
    """The operand with its size-1 dimensions stretched to its letters' sizes (a view)."""
    shape = tuple(sizes[c] for c in letters)
    return array if array.shape == shape else get_array_module(array).broadcast_to(array, shape)


def _onto_diagonal(g, letters: str, unique: str, sizes: dict, xp):
    """Zeros shaped like ``letters`` with ``g`` (shaped like ``unique``) written on the
    diagonal that the repeated letters pick: a strided view of the buffer whose stride for a
    letter is the sum of the strides of the dimensions it names."""
    out = xp.zeros(tuple(sizes[c] for c in letters), dtype=g.dtype)
    strides = [sum(out.strides[i] for i, other in enumerate(letters) if other == c) for c in unique]
    xp.lib.stride_tricks.as_strided(out, shape=g.shape, strides=strides)[...] = g
    return out


# ---- the equation -------------------------------------------------------------------------------


def _error(message: str) -> RuntimeError:
    return RuntimeError(f"einsum(): {message}")


def _split_terms(equation: str, count: int) -> tuple[list[str], str | None]:
    """The subscripts of each operand and of the output (None without ``->``), checked."""
    equation = equation.replace(" ", "")
    for i, c in enumerate(equation):
        if not (c in string.ascii_letters or c in ".,->"):
            raise _error(
                f"invalid subscript given at index {i} in the equation string, subscripts "
                "must be in [a-zA-Z]"
            )
    left, arrow, right = equation.partition("->")
    terms = left.split(",")
    if len(terms) > count:
        raise _error("fewer operands were provided than specified in the equation")
    if len(terms) < count:
        raise _error("more operands were provided than specified in the equation")
    for term in (*terms, right):
        if term.replace("...", "", 1).strip(string.ascii_letters):
            raise _error(f"found '.' for operand that is not part of any ellipsis in {term!r}")
    return terms, right if arrow else None


def parse(equation: str, shapes: list[tuple]) -> tuple[list[str], str, dict]:
    """(each operand's letters, the output's letters, the size of each letter), with ``...``
    spelled out as letters the equation does not use."""
    terms, output = _split_terms(equation, len(shapes))
    used = set(equation)
    fresh = [c for c in string.ascii_letters if c not in used]
    named = [len(t.replace("...", "")) for t in terms]
    spans = [len(s) - n if "..." in t else 0 for t, s, n in zip(terms, shapes, named, strict=True)]
    for k, (term, shape, n) in enumerate(zip(terms, shapes, named, strict=True)):
        if len(shape) < n or ("..." not in term and len(shape) != n):
            raise _error(
                f"the number of subscripts in the equation ({n}) does not match the number of "
                f"dimensions ({len(shape)}) for operand {k}"
                + ("" if "..." in term else " and no ellipsis was given")
            )
    ellipsis = "".join(fresh[: max(spans, default=0)])
    subscripts = [
        t.replace("...", ellipsis[len(ellipsis) - span :])
        for t, span in zip(terms, spans, strict=True)
    ]
    if output is None:
        counts = "".join(terms).replace("...", "")
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    else:
        output = output.replace("...", ellipsis)
        for c in output:
            if output.count(c) > 1:
                raise _error(f"output subscript {c} appears more than once in the output")
            if not any(c in s for s in subscripts):
                raise _error(
                    f"output subscript {c} does not appear in the equation for any input operand"
                )
    return subscripts, output, _letter_sizes(subscripts, shapes)


def _letter_sizes(subscripts: list[str], shapes: list[tuple]) -> dict:
    """The size of each letter: equal where it repeats within an operand, broadcast (size 1
    against any) across operands."""
    sizes: dict = {}
    for k, (letters, shape) in enumerate(zip(subscripts, shapes, strict=True)):
        own: dict = {}
        for c, n in zip(letters, shape, strict=True):
            if own.setdefault(c, n) != n:
                raise _error(
                    f"subscript {c} is repeated for operand {k} but the sizes don't match, "
                    f"{own[c]} != {n}"
                )
        for c, n in own.items():
            seen = sizes.setdefault(c, n)
            if n == seen or n == 1:
                continue
            if seen != 1:
                raise _error(
                    f"subscript {c} has size {n} for operand {k} which does not broadcast with "
                    f"previously seen size {seen}"
                )
            sizes[c] = n
    return sizes


def _from_sublists(args: tuple) -> tuple[str, list]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``einsum("AB,BC->AC", a, b)``: the numbers
    0-51 spelled as letters in the same order, so the implicit output sorts alike."""
    letters = string.ascii_uppercase + string.ascii_lowercase

    def spell(sublist) -> str:
        return "".join("..." if i is ... else letters[i] for i in sublist)

    output = ""
    if len(args) % 2:  # the last item is the output's sublist
        output, args = "->" + spell(args[-1]), args[:-1]
    return ",".join(map(spell, args[1::2])) + output, list(args[0::2])


def einsum(equation: str | Tensor, *operands) -> Tensor:
    """Einstein summation over ``operands`` as ``equation`` says, as ``torch.einsum``.

    ``einsum("bij,bjk->bik", a, b)`` is a batched matmul, ``einsum("ii", a)`` the trace,
    ``einsum("i,j->ij", x, y)`` the outer product. The operands may also come as one list
    (``einsum(eq, [a, b])``) or in the sublist form (``einsum(a, [0, 1], b, [1, 2])``).
    All operands share one dtype (no promotion); integer sums stay integer.
    """
    if isinstance(equation, Tensor):
        equation, operands = _from_sublists((equation, *operands))
    elif len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise _error("must provide at least one operand")
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"einsum(): expected operand {k} to be a Tensor, got {type(t).__name__}"
            )
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        names = ", ".join(sorted(map(str, dtypes)))
        raise _error(f"expected all operands to have the same dtype, got {names}")
    if operands[0].dtype == np.bool_:
        raise NotImplementedError("einsum(): not implemented for 'Bool' tensors")
    subscripts, output, sizes = parse(equation, [t.shape for t in operands])
    return Einsum.apply(*operands, subscripts=subscripts, output=output, sizes=sizes)
