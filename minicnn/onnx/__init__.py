"""mc.onnx: models out to ONNX (onnxruntime, browsers, phones), with the lecture's kernel flip made explicit.

    mc.onnx.export(model, "model.onnx")       # needs the onnx package: pip install "minicnn[onnx]"
    model = mc.onnx.load("net.onnx")          # PyTorch's and Keras' exports of CNNs, as an mc.Model
"""

from ..models.model import EXPORT_FORMATS
from ..ops.conv import cross_correlation_kernel
from .export import export
from .load import load

EXPORT_FORMATS["onnx"] = export       # model.export(path, format="onnx"), as in Keras

__all__ = ["cross_correlation_kernel", "export", "load"]
