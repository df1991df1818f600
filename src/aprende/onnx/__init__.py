"""ONNX export: ``aprende.onnx.export(model, args, "model.onnx")``, as ``torch.onnx.export``.

The forward pass is traced op by op (``tracer``), each op becomes ONNX nodes (``tensor_ops``,
``layer_ops``) in a graph (``graph``), written by ``export``. Needs the ``onnx`` package
(``pip install 'aprende[onnx]'``); the file runs in onnxruntime or any ONNX runtime.
"""

from aprende.onnx.export import export

__all__ = ["export"]
