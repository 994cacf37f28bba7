"""The ONNX backend test cases (onnx/backend/test/data) for every ONNX op the frontend imports,
run through load_onnx + the float reference and compared with the expected outputs.

A case is selected by the op types inside its model, not by its name. Parameter inputs (weights,
shapes, axes, pads, ...) are bound as initializers first, as real models carry them.

Cases the IR cannot represent (EXCLUDED: 1-D/3-D layers, training modes, element types numpy has
no exact dtype for, ...) are not skipped: each is checked to be rejected with a clear error or to
differ, so the list cannot hide a case that works (or one that silently gives wrong numbers and
should be rejected instead).
"""

from __future__ import annotations

import glob
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

from mnv3c.errors import MnvError
from mnv3c.frontend import load_onnx
from mnv3c.frontend.op_import import IMPORTERS
from mnv3c.reference.float_exec import run_float

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")

# ONNX op -> indices of inputs that are parameters (bound as initializers before import).
PARAM_INPUTS: dict[str, set[int]] = {
    "Conv": {1, 2}, "BatchNormalization": {1, 2, 3, 4}, "Reshape": {1}, "Slice": {1, 2, 3, 4},
    "Gather": {1}, "Pad": {1, 2, 3}, "Clip": {1, 2}, "ReduceMean": {1}, "Squeeze": {1}, "Unsqueeze": {1},
    "Gemm": {1, 2}, "MatMul": {1}, "Dropout": {1, 2}, "ConvTranspose": {1, 2}, "Resize": {1, 2, 3},
    "Upsample": {1}, "Split": {1},
}

EXCLUDED: dict[str, str] = {
    "node/test_averagepool_2d_dilations": "dilated AveragePool is not in the IR",
    "node/test_batchnorm_epsilon_training_mode": "training-mode BatchNormalization",
    "node/test_batchnorm_example_training_mode": "training-mode BatchNormalization",
    "node/test_identity_opt": "optional type input",
    "node/test_identity_sequence": "sequence type input",
    "node/test_wrap_pad": "Pad mode 'wrap' is not in the IR",
    "node/test_maxpool_with_argmax_2d_precomputed_pads": "MaxPool Indices output",
    "node/test_maxpool_with_argmax_2d_precomputed_strides": "MaxPool Indices output",
    "node/test_training_dropout": "training-mode Dropout is random",
    "node/test_training_dropout_default": "training-mode Dropout is random",
    "node/test_training_dropout_default_mask": "training-mode Dropout is random",
    "node/test_training_dropout_mask": "training-mode Dropout is random",
    "node/test_training_dropout_zero_ratio": "training-mode Dropout",
    "node/test_training_dropout_zero_ratio_mask": "training-mode Dropout",
}
for _case in ("crop", "crop_and_pad", "crop_axes_chw", "crop_axes_hwc", "crop_negative_axes_hwc", "pad"):
    EXCLUDED[f"node/test_center_crop_pad_{_case}_expanded"] = "target shape is a runtime input (data-dependent shapes)"
for _case in ("decode_step", "with_bias_and_past_state", "with_past_state", "silu_with_past_state"):
    EXCLUDED[f"node/test_causal_conv_with_state_{_case}_expanded"] = "1-D Conv: IR layers are 2-D only"
EXCLUDED["pytorch-operator/test_operator_maxpool"] = "1-D MaxPool: IR layers are 2-D only"
# The stored expected output is rounded to 4 decimals; onnxruntime and onnx.reference agree with us exactly.
LOOSE_ATOL = {"node/test_averagepool_2d_ceil_last_window_starts_on_pad": 1e-4}
# Whole families excluded by name fragment: the IR's conv/pool layers are 2-D (NCHW) only.
EXCLUDED_FRAGMENTS: dict[str, str] = {
    "1d": "1-D conv/pool: IR layers are 2-D only",
    "3d": "3-D conv/pool: IR layers are 2-D only",
}
# Resize modes outside the IR: they must be rejected at import.
RESIZE_EXCLUDED_FRAGMENTS: dict[str, str] = {
    "cubic": "cubic Resize is not in the IR",
    "antialias": "antialiased Resize is not in the IR",
    "tf_crop_and_resize": "tf_crop_and_resize Resize is not in the IR",
}
NUMPY_TYPES = {
    TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BOOL, TensorProto.INT8,
    TensorProto.INT16, TensorProto.INT32, TensorProto.INT64, TensorProto.UINT8, TensorProto.UINT16,
    TensorProto.UINT32, TensorProto.UINT64,
}


def _cases() -> tuple[list[str], dict[str, str]]:
    """(supported cases, excluded case -> reason) among the cases whose ops the frontend imports."""
    supported, excluded = [], {}
    for suite in SUITES:
        for case_dir in sorted(glob.glob(os.path.join(DATA, suite, "*"))):
            model = onnx.load(os.path.join(case_dir, "model.onnx"), load_external_data=False)
            op_types = {n.op_type for n in model.graph.node}
            if not op_types or not op_types <= set(IMPORTERS):
                continue
            case = f"{suite}/{os.path.basename(case_dir)}"
            reason = _exclusion_reason(case, op_types, model)
            if reason:
                excluded[case] = reason
            else:
                supported.append(case)
    return supported, excluded


def _exclusion_reason(case: str, op_types: set[str], model: onnx.ModelProto) -> str | None:
    if case in EXCLUDED:
        return EXCLUDED[case]
    name = case.split("/", 1)[1]
    if op_types & {"Conv", "ConvTranspose", "AveragePool", "MaxPool"} and not op_types & {"Squeeze"}:
        for frag, reason in EXCLUDED_FRAGMENTS.items():
            if frag in name.lower():
                return reason
    if "Resize" in op_types:
        for frag, reason in RESIZE_EXCLUDED_FRAGMENTS.items():
            if frag in name:
                return reason
    exotic = sorted(_unsupported_types(model))
    if exotic:
        return f"element type {'/'.join(exotic)} has no exact numpy dtype"
    return None


def _unsupported_types(model: onnx.ModelProto) -> set[str]:
    """bfloat16, float8/4, int4/2, string: element types numpy cannot represent exactly."""
    types = {vi.type.tensor_type.elem_type for vi in list(model.graph.input) + list(model.graph.output)}
    types |= {a.i for n in model.graph.node if n.op_type == "Cast" for a in n.attribute if a.name == "to"}
    return {TensorProto.DataType.Name(t) for t in types - NUMPY_TYPES - {0}}


def _bind_parameters(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Move parameter inputs into initializers; return the remaining runtime feeds."""
    params = {
        name
        for node in model.graph.node
        for i, name in enumerate(node.input)
        if name and i in PARAM_INPUTS.get(node.op_type, ())
    }
    feeds = {}
    for name, value in inputs.items():
        if name in params:
            model.graph.initializer.append(numpy_helper.from_array(value, name))
        else:
            feeds[name] = value
    keep = [vi for vi in model.graph.input if vi.name not in params]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    return feeds


def _read_pb(path: str) -> np.ndarray:
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


SUPPORTED, EXCLUDED_CASES = _cases()


def test_node_data_is_present() -> None:
    """onnx 1.22.0 wheels ship the node test data (pinned in the test extra); without it the suite
    would be empty and prove nothing."""
    assert len(SUPPORTED) > 250, f"only {len(SUPPORTED)} ONNX backend cases found under {DATA}"


@pytest.mark.parametrize("case", SUPPORTED)
def test_node_case(case: str) -> None:
    _check_case(case)


@pytest.mark.parametrize("case", sorted(EXCLUDED_CASES))
def test_excluded_case_is_rejected_or_differs(case: str) -> None:
    """An excluded case must be rejected at import with a clear error, or give different numbers."""
    try:
        load_onnx(onnx.load(os.path.join(DATA, case, "model.onnx")), require_image_input=False)
    except MnvError as exc:
        assert str(exc) and "\n" not in str(exc), case
        return
    try:
        _check_case(case)
    except (AssertionError, MnvError):
        return
    pytest.fail(f"{case} passes now: remove it from the exclusion list ({EXCLUDED_CASES[case]})")


def _check_case(case: str) -> None:
    case_dir = os.path.join(DATA, case)
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    data_dir = os.path.join(case_dir, "test_data_set_0")
    initializers = {i.name for i in model.graph.initializer}
    runtime = [vi.name for vi in model.graph.input if vi.name not in initializers]
    inputs = {name: _read_pb(os.path.join(data_dir, f"input_{k}.pb")) for k, name in enumerate(runtime)}
    expected = [_read_pb(os.path.join(data_dir, f"output_{k}.pb")) for k in range(len(model.graph.output))]

    feeds = _bind_parameters(model, inputs)
    graph = load_onnx(model, require_image_input=False)
    got = run_float(graph, feeds)

    assert graph.outputs == [o.name for o in model.graph.output]
    for name, want in zip(graph.outputs, expected):
        y = np.asarray(got[name])
        assert y.shape == want.shape, f"{name}: shape {y.shape} != {want.shape}"
        assert graph.tensors[name].shape == want.shape
        if want.dtype.kind == "f":
            np.testing.assert_allclose(y, want, rtol=1e-5, atol=LOOSE_ATOL.get(case, 1e-6), err_msg=name)
        else:
            np.testing.assert_array_equal(y, want, err_msg=name)
