"""ONNX frontend: `load_onnx` imports an ONNX model into a static-shape IR graph."""

from mnv3c.frontend.loader import load_onnx
from mnv3c.frontend.validate import ModelReadError, read_model

__all__ = ["ModelReadError", "load_onnx", "read_model"]
