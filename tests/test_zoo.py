"""The model zoo: architectures match the reference models, every export variant has the exporter's
shape and the torch model's numbers, and the bundled MNIST model and data are what PROVENANCE.md says."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest

from mnv3c.zoo import mnist

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from mnv3c.zoo.export import VARIANTS, export, reference_model  # noqa: E402
from mnv3c.zoo.models import FAMILIES, build  # noqa: E402
from zoo_matrix import RESOLUTION, WIDTH  # noqa: E402
# torchvision's (V2, V3) and Keras' (V1) parameter counts and MACs at 224x224 (PEERS.md, the papers).
PARAMS = {"mobilenet_v3_small": 2_542_856, "mobilenet_v3_large": 5_483_032, "mobilenet_v2": 3_504_872, "mobilenet_v1": 4_231_976}
MACS_224 = {"mobilenet_v3_small": 56_510_400, "mobilenet_v3_large": 216_589_760, "mobilenet_v2": 300_774_272, "mobilenet_v1": 568_740_352}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """On a busy 2-core machine two torch threads run ~10x slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _ops(path: Path) -> Counter[str]:
    return Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _macs(model: torch.nn.Module, resolution: int) -> int:
    total = 0

    def count(mod: torch.nn.Module, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, torch.nn.Conv2d):
            total += out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        else:
            total += mod.in_features * mod.out_features

    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(count)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, resolution, resolution))
    return total


@pytest.mark.parametrize("family", FAMILIES)
def test_reference_param_and_mac_counts(family: str) -> None:
    model = build(family)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[family]
    assert _macs(model, 224) == MACS_224[family]


def test_v3_small_at_96_matches_peers_figures() -> None:
    assert round(_macs(build("mobilenet_v3_small"), 96) / 1e6, 1) == 12.1


def test_build_options() -> None:
    m = build("mobilenet_v3_small", 0.75, num_classes=10, in_channels=1)
    assert m(torch.zeros(2, 1, 80, 72)).shape == (2, 10)
    with pytest.raises(ValueError):
        build("mobilenet_v2", hsigmoid_alpha=0.2)
    with pytest.raises(ValueError):
        build("resnet18")


@pytest.mark.parametrize("family", FAMILIES)
def test_deterministic_init_is_lively(family: str) -> None:
    """Logits differ between inputs; block activations stay O(1) through the depth."""
    from mnv3c.zoo.init import init_deterministic, synthetic_images

    model = init_deterministic(build(family, WIDTH[family]), seed=0, resolution=RESOLUTION)
    stds: list[float] = []
    for block in model.features:
        block.register_forward_hook(lambda _m, _i, out: stds.append(float(out.std())))
    x = synthetic_images(torch.Generator().manual_seed(1), 8, 3, RESOLUTION).float()
    with torch.no_grad():
        logits = model(x)
    assert 0.2 < min(stds) and max(stds) < 10.0, stds  # residual streams grow a little, nothing explodes or dies
    assert float(logits.std(0).mean()) > 0.3  # spread across inputs
    assert len(set(logits.argmax(1).tolist())) >= 2
    again = init_deterministic(build(family, WIDTH[family]), seed=0, resolution=RESOLUTION)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def _expected_ops(family: str, variant: str) -> tuple[set[str], set[str]]:
    """(ops that must be present, ops that must be absent) in an export."""
    v3 = family.startswith("mobilenet_v3")
    present, absent = {"Conv", "Gemm"} | ({"Add"} if family != "mobilenet_v1" else set()), set()
    if variant == "dynamo":
        present |= {"ReduceMean", "Reshape"}
        absent |= {"GlobalAveragePool", "Flatten", "BatchNormalization"}
    else:
        present |= {"GlobalAveragePool", "Flatten"}
        absent |= {"ReduceMean"}
        (present if variant == "legacy_nofold" else absent).add("BatchNormalization")
    if variant == "rewritten":
        present |= {"Constant", "Reshape", "Clip", "MaxPool", "Softmax"} | ({"Div", "HardSigmoid"} if v3 else set())
        absent |= {"HardSwish"}
    else:
        absent |= {"MaxPool", "Softmax"}
    if v3 and variant in ("legacy11", "legacy13", "legacy_nofold"):
        present |= {"HardSigmoid", "Mul"}
        absent |= {"HardSwish"}
    elif v3 and variant in ("legacy17", "dynamo"):
        present |= {"HardSwish", "HardSigmoid", "Mul"}
    if not v3:
        present |= {"Clip"}
        absent |= {"HardSwish", "HardSigmoid"}
    return present, absent


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_export_variant(zoo_model, family: str, variant: str) -> None:
    path = zoo_model(family, variant, RESOLUTION, width=WIDTH[family])
    ops = _ops(path)
    present, absent = _expected_ops(family, variant)
    assert present <= set(ops), present - set(ops)
    assert not absent & set(ops), absent & set(ops)
    proto = onnx.load(str(path), load_external_data=False)
    opset = {"legacy11": 11, "legacy13": 13, "legacy_nofold": 13, "legacy17": 17, "rewritten": 17,
             "dynamo": 18}[variant]
    assert proto.opset_import[0].version == opset
    external = [t for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if variant == "dynamo":
        assert external and path.with_name(path.name + ".data").stat().st_size > 100_000
    else:
        assert not external
    if family.startswith("mobilenet_v3") and variant == "rewritten":
        assert ops["HardSigmoid"] == 1

    sess = _session(path)
    assert [tuple(i.shape) for i in sess.get_inputs()] == [(1, 3, RESOLUTION, RESOLUTION)]
    model = reference_model(family, variant, RESOLUTION, WIDTH[family])
    x = np.random.default_rng(0).standard_normal((1, 3, RESOLUTION, RESOLUTION)).astype(np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("alpha", [1 / 6, 0.2])
def test_rewritten_hsigmoid_spellings(zoo_model, alpha: float) -> None:
    """One HardSigmoid(alpha) kept; the other SE gates as Clip(x + 0.5/alpha, 0, 1/alpha) / (1/alpha)."""
    path = zoo_model("mobilenet_v3_small", "rewritten", 64, hsigmoid_alpha=alpha)
    graph = onnx.load(str(path)).graph
    consts = {t.name: float(onnx.numpy_helper.to_array(t)) for t in graph.initializer if not t.dims}
    (hs,) = [n for n in graph.node if n.op_type == "HardSigmoid"]
    assert onnx.helper.get_attribute_value(hs.attribute[0]) == pytest.approx(alpha)
    clip_max = {consts[n.input[2]] for n in graph.node if n.op_type == "Clip"}
    assert clip_max == {6.0, float(np.float32(1 / alpha))}
    sess = _session(path)
    x = np.random.default_rng(3).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want = reference_model("mobilenet_v3_small", "rewritten", 64, hsigmoid_alpha=alpha)(torch.from_numpy(x)).numpy()
    # probabilities of a seeded, untrained 1000-class net: logits span ~60, so float32 summation order
    # (thread counts) moves a probability by ~1.5e-4 relative (seen in CI); a wrong gate is far off
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], want, rtol=1e-3, atol=1e-4 * np.abs(want).max())


def test_export_is_byte_deterministic(zoo_model, tmp_path: Path) -> None:
    cached = zoo_model("mobilenet_v3_small", "rewritten", 64, hsigmoid_alpha=0.2)
    fresh = export("mobilenet_v3_small", "rewritten", tmp_path / "again.onnx", 64, hsigmoid_alpha=0.2)
    assert fresh.read_bytes() == cached.read_bytes()


def test_shipped_splits() -> None:
    x, y = mnist.load_split("test")
    assert x.shape == (1000, 1, 96, 96) and x.dtype == np.float32
    assert y.shape == (1000,) and y.dtype == np.int64 and set(y.tolist()) == set(range(10))
    assert x[:, :, :6, :].max() == x.min() == pytest.approx(-mnist.MEAN / mnist.STD)  # the padding
    xc, yc = mnist.load_split("calib")
    assert xc.shape == (200, 1, 96, 96) and yc.shape == (200,)
    raw, _ = mnist.load_raw("test")
    np.testing.assert_array_equal(x[:, 0, 6::3, 6::3][:, :28, :28], ((raw / np.float32(255) - np.float32(mnist.MEAN)) / np.float32(mnist.STD)).astype(np.float32))


def test_bundled_model_reaches_recorded_accuracy() -> None:
    path = mnist.DATA_DIR / "mnv3_small_mnist.onnx"
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 17
    recorded = float(re.search(r"\*\*([\d.]+)%\*\*", (mnist.DATA_DIR / "PROVENANCE.md").read_text()).group(1)) / 100
    sess = _session(path)
    assert [tuple(i.shape) for i in sess.get_inputs()] == [mnist.INPUT_SHAPE]
    x, y = mnist.load_split("test")
    pred = np.array([sess.run(None, {"input": x[i : i + 1]})[0].argmax() for i in range(len(x))])
    accuracy = float(np.mean(pred == y))
    assert accuracy >= 0.95
    assert accuracy == pytest.approx(recorded, abs=0.0006)
