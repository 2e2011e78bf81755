"""mc.onnx: models out to ONNX (onnxruntime, browsers, phones), with the lecture's kernel flip made explicit.

    mc.onnx.export(model, "model.onnx")       # needs the onnx package: pip install "minicnn[onnx]"
"""

from ..models.model import EXPORT_FORMATS
from ..ops.conv import cross_correlation_kernel
from .export import export

EXPORT_FORMATS["onnx"] = export       # model.export(path, format="onnx"), as in Keras

__all__ = ["cross_correlation_kernel", "export"]
