"""Every zoo export through the frontend and the float reference executor agrees with onnxruntime,
and apache-tvm (a second, independent importer) agrees with onnxruntime on MobileNetV3-Small."""

from __future__ import annotations

import numpy as np
import pytest

from mnv3c.frontend import load_onnx
from mnv3c.reference.float_exec import run_float
from mnv3c.zoo.export import VARIANTS
from mnv3c.zoo.models import FAMILIES
from zoo_matrix import RESOLUTION, WIDTH

ort = pytest.importorskip("onnxruntime")


def _onnxruntime(path, x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])


def _inputs(n: int = 3) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((n, 3, RESOLUTION, RESOLUTION)).astype(np.float32)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_float_executor_matches_onnxruntime(zoo_model, family: str, variant: str) -> None:
    path = zoo_model(family, variant, RESOLUTION, width=WIDTH[family])
    graph = load_onnx(str(path))
    x = _inputs()
    got = run_float(graph, {graph.inputs[0]: x})[graph.outputs[0]]
    want = _onnxruntime(path, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.slow
def test_tvm_matches_onnxruntime(zoo_model) -> None:
    tvm = pytest.importorskip("tvm")
    import onnx
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    path = zoo_model("mobilenet_v3_small", "legacy17", RESOLUTION)
    mod = from_onnx(onnx.load(str(path)), shape_dict={"input": [1, 3, RESOLUTION, RESOLUTION]})
    mod = relax.transform.LegalizeOps()(relax.transform.DecomposeOpsForInference()(mod))
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    x = _inputs()
    got = np.concatenate([vm["main"](tvm.runtime.tensor(x[i : i + 1])).numpy() for i in range(len(x))])
    want = _onnxruntime(path, x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
