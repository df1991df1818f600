"""Activation functions as modules (the f of o = f(a) for a neuron's weighted sum a).

Each docstring gives f and its derivative f′, the factor backpropagation multiplies by.
"""

from __future__ import annotations

from aprende._tensor import Tensor
from aprende.nn import functional as F
from aprende.nn.module import Module


class ReLU(Module):
    """f(a) = max(0, a); f′(a) = 1 for a > 0, else 0.

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """f(a) = a for a > 0, negative_slope·a otherwise; f′ = 1 or negative_slope (no dead units).

    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace)


class Sigmoid(Module):
    """The logistic f(a) = 1/(1 + e⁻ᵃ) ∈ (0, 1); f′ = f(1 − f) (at most 1/4: it saturates)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """f(a) = tanh(a) ∈ (−1, 1), zero-centred; f′ = 1 − f²."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sign(Module):
    """The perceptron's step f(a) = sign(a) ∈ {−1, 0, 1}.

    Its derivative is 0 wherever it exists, so the gradient through it is zero: a network of
    sign units cannot learn by backpropagation (the reason for sigmoid, tanh and ReLU).
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sign(input)


class Identity(Module):
    """f(a) = a, the linear activation (f′ = 1); also a placeholder layer.

    Accepts and ignores any arguments, as PyTorch's.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Softmax(Module):
    """f(a)ᵢ = e^aᵢ / Σⱼ e^aⱼ along ``dim``: class probabilities that sum to one.

    ∂fᵢ/∂aⱼ = fᵢ([i = j] − fⱼ). For training, feed the raw scores to ``CrossEntropyLoss``
    instead: it fuses log-softmax and the loss stably.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """f(a)ᵢ = aᵢ − log Σⱼ e^aⱼ along ``dim`` (log-probabilities, for ``NLLLoss``);
    ∂fᵢ/∂aⱼ = [i = j] − softmax(a)ⱼ."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _inplace(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class GELU(Module):
    """f(x) = x · Φ(x), Φ the normal CDF (``approximate="tanh"``: its tanh approximation);
    f′ = Φ(x) + x · φ(x). Smooth, and negative just below 0 (transformers' default)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """f(x) = x · σ(x) (swish); f′ = σ(x)(1 + x(1 − σ(x))). ``inplace``: accepted, the result
    is a new tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Mish(SiLU):
    """f(x) = x · tanh(softplus(x)); f′ = tanh(sp) + x σ(x)(1 − tanh² sp). ``inplace``:
    accepted, the result is a new tensor."""

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input)


class Softplus(Module):
    """f(x) = (1/β) log(1 + e^(βx)), and x where βx > threshold; f′ = σ(βx): a smooth ReLU."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """f(x) = x for x > 0, α(eˣ − 1) otherwise; f′ = 1 or αeˣ. ``inplace``: accepted, the
    result is a new tensor."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace)


class CELU(ELU):
    """f(x) = x for x > 0, α(e^(x/α) − 1) otherwise; f′ = 1 or e^(x/α) (continuous at 0).
    ``inplace``: accepted, the result is a new tensor."""

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha)


class SELU(SiLU):
    """f(x) = λx for x > 0, λα(eˣ − 1) otherwise, λ ≈ 1.0507, α ≈ 1.6733 (activations keep
    mean 0 and variance 1 through the layers); f′ = λ or λαeˣ. ``inplace``: accepted, the
    result is a new tensor."""

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input)


class Hardtanh(Module):
    """f(x) = clip(x, min_val, max_val); f′ = 1 strictly between the bounds, else 0.
    ``inplace``: accepted, the result is a new tensor."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:  # PyTorch asserts this
            raise AssertionError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace)


class ReLU6(Hardtanh):
    """f(x) = min(max(0, x), 6); f′ = 1 on (0, 6), else 0. ``inplace``: accepted, the result
    is a new tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(Module):
    """f(x) = clip(x/6 + 1/2, 0, 1); f′ = 1/6 on (−3, 3), else 0. ``inplace``: accepted, the
    result is a new tensor."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input)


class Hardswish(Hardsigmoid):
    """f(x) = x · clip(x/6 + 1/2, 0, 1); f′ = 0 below −3, x/3 + 1/2 on [−3, 3], 1 above.
    ``inplace``: accepted, the result is a new tensor."""

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input)


class Softsign(Module):
    """f(x) = x / (1 + |x|) ∈ (−1, 1); f′ = 1/(1 + |x|)² (a tanh with polynomial tails)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class LogSigmoid(Module):
    """f(x) = log σ(x) = −softplus(−x), computed stably; f′ = σ(−x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Softmin(Softmax):
    """f(x) = softmax(−x) along ``dim``: weights that favour the smallest entries."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


class GLU(Module):
    """f(x) = a ⊙ σ(b), (a, b) the halves of x along ``dim`` (the gated linear unit): the
    size along ``dim`` halves."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
