"""``aprende export RUN model.onnx``: a saved run as one ONNX file that takes raw rows.

The run's input normalisation comes first in the graph (Sub, Div for z-scores; Mul, Add for
min-max; Sub, MatMul, Div for whitening), then the network, then what ``aprende predict``
applies to its outputs: softmax or sigmoid probabilities, or the target scaling undone, so
the file gives for a raw row what ``aprende predict`` writes for it.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from aprende import nn
from aprende._tensor import Tensor
from aprende.cli.commands import _rebuild
from aprende.cli.errors import UsageError
from aprende.creation import tensor
from aprende.data.preprocessing import MinMaxScaler, PCAWhitening, StandardScaler
from aprende.datasets.info import ZERO_ONE_TASKS, is_regression


def _constant(values) -> Tensor:
    return tensor(np.asarray(values, dtype=np.float32))


def _normalise(scaler, x: Tensor) -> Tensor:
    """``scaler.transform`` written with tensor ops, so the trace records it."""
    if isinstance(scaler, StandardScaler):
        x = x - _constant(scaler.mean_) if scaler.with_mean else x
        return x / _constant(scaler.scale_) if scaler.with_std else x
    if isinstance(scaler, MinMaxScaler):
        x = x * _constant(scaler.scale_) + _constant(scaler.min_)
        return x.clamp(*scaler.feature_range) if scaler.clip else x
    if isinstance(scaler, PCAWhitening):
        projected = (x - _constant(scaler.mean_)) @ _constant(scaler.components_.T)
        return projected / _constant(np.sqrt(scaler.explained_variance_ + scaler.eps))
    raise UsageError(f"export: the run's {type(scaler).__name__} has no ONNX form")


class Deployed(nn.Module):
    """Raw rows -> what ``aprende predict`` reports: normalise, the network, then
    probabilities (classification) or values on the targets' scale (regression)."""

    def __init__(self, model: nn.Module, preprocessing, task: str):
        super().__init__()
        self.model, self.preprocessing, self.task = model, preprocessing, task

    def forward(self, x: Tensor) -> Tensor:
        scaler = self.preprocessing.objects.get("inputs")
        out = self.model(_normalise(scaler, x) if scaler is not None else x)
        if self.task in ZERO_ONE_TASKS:
            return out.sigmoid()
        if not is_regression(self.task):
            return out.softmax(dim=1)
        targets = self.preprocessing.objects.get("targets")
        if targets is None:
            return out
        return out * _constant(targets.scale_) + _constant(targets.mean_)


def command_export(args: argparse.Namespace) -> int:
    """``aprende export RUN OUTPUT.onnx``: the run's preprocessing and model as ONNX."""
    try:
        from aprende.onnx import export
    except ImportError:
        raise UsageError("export needs onnx: pip install 'aprende[onnx]'") from None
    _, spec, preprocessing, model = _rebuild(args)
    if "columns" in preprocessing.objects:
        raise UsageError(
            "export: the run imputes missing values or one-hot encodes text columns, which "
            "its ONNX graph of number rows cannot hold; train without them to export"
        )
    deployed = Deployed(model, preprocessing, spec.task)
    example = tensor(np.zeros((2, spec.n_features), dtype=np.float32))
    output = "probabilities" if not is_regression(spec.task) else "values"
    export(deployed, example, args.output, input_names=["rows"], output_names=[output])
    print(
        f"{args.output}: input 'rows' (N, {spec.n_features}) raw features, output {output!r}",
        file=sys.stderr,
    )
    return 0
