"""Differentiable operations, grouped by kind: elementwise, reduce, shape, linalg, nn (fused)."""
