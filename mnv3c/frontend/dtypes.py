"""ONNX element types the IR can hold, as numpy dtype names."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from mnv3c.errors import UnsupportedModelError

_SUPPORTED = {
    TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BOOL,
    TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64,
    TensorProto.UINT8, TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64,
}


def numpy_dtype(elem_type: int, where: str) -> str:
    """The numpy dtype name for an ONNX element type; raise for types numpy cannot hold exactly."""
    if elem_type not in _SUPPORTED:
        name = TensorProto.DataType.Name(elem_type) if elem_type in TensorProto.DataType.values() else elem_type
        raise UnsupportedModelError(f"{where}: element type {name} is not supported")
    return str(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)))
