"""mnv3c: MobileNetV3 from ONNX to int8, dependency-free C for microcontrollers."""

__version__ = "0.1.0"
