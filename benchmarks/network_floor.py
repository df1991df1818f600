"""The GEMM floor of a network's training step: its layers' matrix products alone.

For every ``Conv2d``, ``ConvTranspose2d`` and ``Linear`` of an aprende model, the three
products of an im2col + GEMM training step, on operands of the sizes that one forward pass
gives them (found with forward hooks), as NumPy matmuls into reused buffers:

- convolution (N, C, H, W) → (N, O, OH, OW) with a K_H×K_W kernel: W (O, C·K_H·K_W) @ colsₙ,
  Σₙ gₙ colsₙᵀ and Wᵀ gₙ, colsₙ of C·K_H·K_W × OH·OW, per sample as a batched matmul;
- transposed convolution: the same three products for the convolution it is the adjoint of;
- linear (B, in) → (B, out): x Wᵀ, gᵀ x and g W.

The input gradient of the first layer, which no framework computes, is left out. Its time is
a floor for any implementation that runs a convolution as im2col and GEMMs through NumPy's
BLAS: whatever moves the data costs on top of it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _layer_products(module, x_shape: tuple, y_shape: tuple, first: bool, rng) -> list:
    """(a, b, out) triples: the matmuls of one layer's forward and backward."""
    from aprende import nn

    def filled(*shape):
        return rng.random(shape, dtype=np.float32)

    if isinstance(module, nn.Linear):
        batch = int(np.prod(x_shape[:-1]))
        x, g = filled(batch, x_shape[-1]), filled(batch, y_shape[-1])
        w = filled(*module.weight.shape)
        products = [(x, w.T, np.empty_like(g)), (g.T, x, np.empty_like(w))]
        return products + ([] if first else [(g, w, np.empty_like(x))])
    transposed = isinstance(module, nn.ConvTranspose2d)
    # The convolution that carries the products: from the larger map to the smaller one when
    # transposed (its forward is this layer's input gradient), else this layer.
    source, target = (y_shape, x_shape) if transposed else (x_shape, y_shape)
    n, c = source[:2]
    o, length = target[1], target[2] * target[3]
    rows = c * module.kernel_size[0] * module.kernel_size[1]
    cols, w, g = filled(n, rows, length), filled(o, rows), filled(n, o, length)
    products = [
        (w, cols, np.empty((n, o, length), np.float32)),
        (g, cols.transpose(0, 2, 1), np.empty((n, o, rows), np.float32)),
    ]
    if not first or transposed:  # a transposed layer's own forward is the Wᵀ g product
        products.append((w.T, g, np.empty_like(cols)))
    return products


def network_products(model, x) -> list:
    """(a, b, out) for every matrix product of one training step of ``model`` on ``x``."""
    from aprende import nn
    from aprende.autograd import no_grad

    shapes = []

    def record(module, args, out):
        shapes.append((module, tuple(args[0].shape), tuple(out.shape)))

    layers = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, layers)]
    try:
        with no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    rng = np.random.default_rng(0)
    return [
        triple
        for i, (module, x_shape, y_shape) in enumerate(shapes)
        for triple in _layer_products(module, x_shape, y_shape, i == 0, rng)
    ]


def network_floor(model, x) -> Callable[[], None]:
    """A function that runs the matrix products of one training step of ``model`` on ``x``."""
    products = network_products(model, x)

    def replay() -> None:
        for a, b, out in products:
            np.matmul(a, b, out=out)

    return replay
