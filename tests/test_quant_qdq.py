"""Pre-quantized QDQ models: onnxruntime quantize_static -> strip Q/DQ -> mnv3c int8 graph."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.quant.evaluate import evaluate, quantize_model, run_int8
from mnv3c.quant.qdq_import import is_qdq_model, strip_qdq

ort = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")


def _float_model(path, seed: int = 0) -> None:
    """conv3x3+relu -> depthwise3x3+h-swish -> 1x1 conv + residual add -> pool -> gemm -> softmax."""
    rng = np.random.default_rng(seed)

    def init(name, shape, std):
        return numpy_helper.from_array(rng.normal(0, std, shape).astype(np.float32), name)

    inits = [init("w1", (8, 3, 3, 3), 0.3), init("b1", (8,), 0.1), init("w2", (8, 1, 3, 3), 0.4),
             init("b2", (8,), 0.1), init("w3", (8, 8, 1, 1), 0.4), init("b3", (8,), 0.1),
             init("wf", (5, 8), 0.5), init("bf", (5,), 0.1)]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("HardSwish", ["c2"], ["h2"]),
        helper.make_node("Conv", ["h2", "w3", "b3"], ["c3"]),
        helper.make_node("Add", ["c3", "r1"], ["a3"]),
        helper.make_node("GlobalAveragePool", ["a3"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(nodes, "tiny_qdq", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


class _Reader(quantization.CalibrationDataReader):
    def __init__(self, x: np.ndarray) -> None:
        self._it = iter([{"input": x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self._it, None)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("qdq")
    fp, qp = d / "float.onnx", d / "qdq.onnx"
    _float_model(fp)
    calib = np.random.default_rng(1).normal(0, 1, (32, 3, 16, 16)).astype(np.float32)
    quantization.quantize_static(str(fp), str(qp), _Reader(calib), quant_format=quantization.QuantFormat.QDQ,
                                 per_channel=True, activation_type=quantization.QuantType.QUInt8,
                                 weight_type=quantization.QuantType.QInt8)
    return fp, qp, calib


def test_strip_qdq_gives_a_float_model_and_int8_activation_ranges(models):
    _, qp, _ = models
    qdq = onnx.load(str(qp))
    assert is_qdq_model(qdq)
    plain, params = strip_qdq(qdq)
    assert not is_qdq_model(plain)
    onnx.checker.check_model(plain)
    assert "input" in params and all(-128 <= z <= 127 and s > 0 for s, z in params.values())


def test_qdq_weights_and_ranges_are_reused_exactly(models):
    _, qp, _ = models
    qdq = onnx.load(str(qp))
    int8_inits = [numpy_helper.to_array(t) for t in qdq.graph.initializer if t.data_type == TensorProto.INT8]
    _, _, qg = quantize_model(qp, None)  # no calibration data: every range comes from the model
    ours = [t.data for t in qg.tensors.values() if t.is_const and t.dtype == "int8"]
    assert len(ours) == 4
    for w in ours:
        assert any(o.shape == w.shape and np.array_equal(o, w) for o in int8_inits)
    assert all(r["estimator"] == "recorded" for r in qg.meta["quant"]["ranges"].values())


def test_qdq_model_runs_like_onnxruntime(models):
    _, qp, _ = models
    x = np.random.default_rng(2).normal(0, 1, (64, 3, 16, 16)).astype(np.float32)
    sess = ort.InferenceSession(str(qp), providers=["CPUExecutionProvider"])
    expected = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])
    _, _, qg = quantize_model(qp, None)
    _, probs = run_int8(qg, x)
    assert (probs.argmax(1) == expected.argmax(1)).mean() >= 0.95
    assert np.abs(probs - expected).max() < 0.05


def test_evaluate_reports_the_spec_fields(models):
    fp, _, calib = models
    x = np.random.default_rng(3).normal(0, 1, (40, 3, 16, 16)).astype(np.float32)
    labels = np.random.default_rng(4).integers(0, 5, 40)
    r = evaluate(fp, calib, x, labels, per_layer=True, progress=False)
    assert {"samples", "float_top1", "int8_top1", "agreement", "mean_abs_err", "cosine"} <= set(r)
    assert r["samples"] == 40 and r["agreement"] >= 0.9 and r["cosine"] > 0.99
    assert [p["name"] for p in r["per_layer"]] and all(p["sqnr_db"] > 20 for p in r["per_layer"])
