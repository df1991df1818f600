"""The affine map of a layer, y = x Wᵀ + b, and the same followed by its activation in one node;
the bilinear map yₒ = x₁ᵀ Aₒ x₂ + bₒ.

Shapes: x (..., in_features), W (out_features, in_features), b (out_features,).
"""

from __future__ import annotations

import math

from aprende import backend
from aprende._tensor import Tensor
from aprende.autograd import Function
from aprende.backend import get_array_module
from aprende.ops._checks import check_tensor
from aprende.ops.activation import ACTIVATIONS


class Linear(Function):
    """y = x Wᵀ + b for x of shape (..., in), W (out, in), b (out,); equals ``x @ W.T + b``
    in one node.

    ∂L/∂x = g W, ∂L/∂W = gᵀ x (one GEMM over all leading dims), ∂L/∂b = Σₙ gₙ = 1ᵀg.
    """

    def forward(self, x, weight, bias=None):
        self.save_for_backward(x, weight)
        return self._affine(x, weight, bias)

    @staticmethod
    def _affine(x, weight, bias):
        if x.ndim == 2:  # the common case: no reshapes
            out = x @ weight.T
        else:
            out = (x.reshape(-1, x.shape[-1]) @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
        if bias is not None:
            out += bias  # a fresh array from the GEMM: adding in place saves a pass
        return out

    def backward(self, grad):
        x, weight = self.saved_tensors[:2]
        needs = self.needs
        g2 = grad if grad.ndim == 2 else grad.reshape(-1, grad.shape[-1])
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        grad_x = (g2 @ weight).reshape(x.shape) if needs[0] else None
        grad_w = g2.T @ x2 if needs[1] else None
        if len(needs) == 2:
            return grad_x, grad_w
        if not needs[2]:
            return grad_x, grad_w, None
        # Σₙ gₙ as the matrix-vector product 1ᵀG: BLAS beats a NumPy reduction here (~2x).
        ones = backend.constant(1, g2.shape[0], g2.dtype, get_array_module(g2))
        return grad_x, grad_w, ones @ g2


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map y = x Wᵀ + b (the neuron's weighted sum plus bias, for a whole layer).

    ``input`` (..., in_features), ``weight`` (out_features, in_features), ``bias``
    (out_features,) or None; the result has shape (..., out_features).
    """
    return Linear.apply(*_linear_inputs(input, weight, bias))


class LinearActivation(Linear):
    """y = f(x Wᵀ + b) in one node, for f = ReLU, tanh or sigmoid (``ACTIVATIONS``).

    Equals ``f(linear(x, W, b))``: the same numbers, with one graph node and one array
    fewer: f runs in place over the fresh output of the matrix product, and its
    derivative comes from y alone (1[y > 0], 1 − y², y(1 − y)), so z = x Wᵀ + b is never
    kept. ``nn.Sequential`` uses it for a Linear layer followed by such an activation.
    """

    def forward(self, x, weight, bias=None, *, activation):
        values, self.derivative = ACTIVATIONS[activation]
        z = self._affine(x, weight, bias)
        out = values(z, out=z)
        self.save_for_backward(x, weight, out)
        return out

    def backward(self, grad):
        out = self.saved_tensors[2]
        return super().backward(self.derivative(grad, out))

    @classmethod
    def name(cls) -> str:
        return "linear+activation"


def linear_activation(
    input: Tensor, weight: Tensor, bias: Tensor | None, activation: str
) -> Tensor:
    """f(x Wᵀ + b) as one node (``LinearActivation``); ``activation`` is "relu", "tanh" or
    "sigmoid"."""
    inputs = _linear_inputs(input, weight, bias)
    return LinearActivation.apply(*inputs, activation=activation)


def _linear_inputs(input: Tensor, weight: Tensor, bias: Tensor | None) -> tuple:
    """(input, weight) or (input, weight, bias), checked to fit together."""
    check_tensor(input, "input", "linear")
    check_tensor(weight, "weight", "linear")
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape} "
            f"(expected an input of shape (..., {weight.shape[-1] if weight.ndim else '?'}) "
            "and a weight of shape (out_features, in_features))"
        )
    if bias is None:
        if w.dtype != x.dtype:
            _linear_dtype_error(input, weight, bias)
        return input, weight
    b = bias.data
    if b.shape != (w.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {bias.shape} does not fit weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))"
        )
    if w.dtype != x.dtype or b.dtype != x.dtype:
        _linear_dtype_error(input, weight, bias)
    return input, weight, bias


def _linear_dtype_error(input: Tensor, weight: Tensor, bias: Tensor | None):
    raise RuntimeError(
        f"linear: input ({input.dtype}), weight ({weight.dtype})"
        + (f" and bias ({bias.dtype})" if bias is not None else "")
        + " must have the same dtype; convert the input (x.float()) or the model "
        "(model.double())"
    )


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The bilinear map yₒ = x₁ᵀ Aₒ x₂ + bₒ = Σᵢⱼ x₁ᵢ A[o, i, j] x₂ⱼ + bₒ.

    ``input1`` (..., in1_features) and ``input2`` (..., in2_features) with the same leading
    dims, ``weight`` A (out_features, in1_features, in2_features), ``bias`` (out_features,) or
    None; the result has shape (..., out_features). Computed as one GEMM, x₁ (A as
    (in1, out·in2)), then a product with x₂ summed over j: the gradients come from those ops.
    """
    _bilinear_inputs(input1, input2, weight, bias)
    out_features, in1, in2 = weight.shape
    batch = input1.shape[:-1]
    rows = math.prod(batch)
    spread = input1.reshape(rows, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (spread.reshape(rows, out_features, in2) * input2.reshape(rows, 1, in2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*batch, out_features)


def _bilinear_inputs(input1: Tensor, input2: Tensor, weight: Tensor, bias) -> None:
    """Checks that x₁, x₂, A and b fit together, as PyTorch checks them."""
    op = "bilinear"
    for name, value in (("input1", input1), ("input2", input2), ("weight", weight)):
        check_tensor(value, name, op)
    if bias is not None:
        check_tensor(bias, "bias", op)
    if input1.ndim == 0 or input2.ndim == 0:
        raise IndexError(
            f"{op}: expected inputs of at least one dimension (..., features), got shapes "
            f"{input1.shape} and {input2.shape}"
        )
    if input1.ndim != input2.ndim:
        raise RuntimeError(
            f"{op}: expected input1 and input2 with the same number of dimensions, got shapes "
            f"{input1.shape} and {input2.shape}"
        )
    for dim, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1], strict=True)):
        if a != b:
            raise RuntimeError(
                f"{op}: input batch dimensions do not match at dim {dim}: got {a} and {b}"
            )
    if weight.ndim != 3:
        raise RuntimeError(
            f"{op}: expected a 3-D weight (out_features, in1_features, in2_features), got a "
            f"weight of shape {weight.shape}"
        )
    for name, size, expected in (
        ("input1", input1.shape[-1], weight.shape[1]),
        ("input2", input2.shape[-1], weight.shape[2]),
    ):
        if size != expected:
            raise RuntimeError(
                f"{op}: {name} size does not match weight size: got {size} but expected "
                f"{expected} (weight of shape {weight.shape})"
            )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(
            f"{op}: bias size does not match weight size: expected a bias of shape "
            f"({weight.shape[0]},), got {bias.shape}"
        )
    tensors = (input1, input2, weight) + (() if bias is None else (bias,))
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError(
            f"{op}: all tensors must have the same dtype, got "
            + ", ".join(str(t.dtype) for t in tensors)
        )
