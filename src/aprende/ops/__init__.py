"""Differentiable operations, one kind per file: elementwise, reduce, shape, indexing, linalg, and
the fused nodes of neural networks (linear, cross_entropy, losses, normalization, dropout), and
images (resample: pad and interpolate)."""
