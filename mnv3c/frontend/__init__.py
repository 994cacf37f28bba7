"""ONNX frontend: `load_onnx` imports an ONNX model into a static-shape IR graph."""

from mnv3c.frontend.loader import ModelReadError, load_onnx

__all__ = ["ModelReadError", "load_onnx"]
