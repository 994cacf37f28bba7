"""mnv3c's activation arena vs its own lower bound and vs TensorFlow Lite Micro's arena, same int8 network.

Networks: the zoo families of --models (MobileNetV3-Small by default; V3-Large, V2 and V1 too), width 1.0,
1000 classes (the zoo's legacy17 export, seed 0) at --resolutions (224x224 and 96x96 by default), and
the bundled mnv3c/data/mnv3_small_mnist.onnx (96x96, 1 channel, 10 classes) when it exists.

mnv3c side: `quantize_model` + `write_project` (target host), the report's arena_bytes and
arena_lower_bound_bytes. The graph input and output are buffers of mnv3c's arena (report.json
tensor_ram_bytes = arena_bytes), as they are of TFLM's tensor memory. That is the default schedule
(patched early stages); report.json's layer_by_layer_tensor_ram_bytes is the same plan with every layer
run whole, printed beside it.

TFLM side, built offline from PyPI packages in a separate venv (they pull in jax and a second converter
stack; torch stays 2.13.0): the ONNX file's weights are loaded into the zoo's torch module (BatchNorm
removed, as the ONNX export folded it; checked against onnxruntime), litert-torch converts it with NHWC
I/O, ai-edge-quantizer quantizes it to full int8 (static int8 weights and activations, int8 I/O), the
buffers the quantizer appends after the flatbuffer are moved inside it (TFLM would run with zero weights
otherwise), and tflite-micro's host interpreter runs it; `print_allocations()` gives the arena it used.
TFLM's output is checked against TFLite's reference kernels (ai-edge-litert) and against the float model.

    python benchmarks/arena_vs_tflm.py                     # whole table (about 5 minutes)
    python benchmarks/arena_vs_tflm.py --resolutions 96 --no-mnist
    python benchmarks/arena_vs_tflm.py --models mobilenet_v3_small,mobilenet_v3_large,mobilenet_v2,mobilenet_v1 \
        --resolutions 224 160 128 96 --no-mnist    # the four families (issue 14's table)
    python benchmarks/arena_vs_tflm.py --skip-tflm         # mnv3c columns only
    python benchmarks/arena_vs_tflm.py --setup-tflm        # create the TFLM venv (about 4 minutes)

The TFLM venv is --tflm-venv, $MNV3C_TFLM_VENV, or venv-tflm beside the repository checkout; without it
(or with --skip-tflm) the TFLM columns say so and mnv3c's numbers are still printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MNIST_MODEL = REPO / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
DEFAULT_VENV = Path(os.environ.get("MNV3C_TFLM_VENV", REPO.parent / "venv-tflm"))
# What --setup-tflm installs: the `tflm` extra of pyproject.toml (resolved with torch 2.13.0 CPU, Python 3.11).
TFLM_PINS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["tflm"]
TFLM_MODULES = ("litert_torch", "ai_edge_quantizer", "ai_edge_litert", "tflite_micro")
CALIB_SAMPLES = 16
TEST_SAMPLES = 4
WORKER_TIMEOUT_S = 1800
TFLM_PROBE_ARENA = 16 << 20
# PEERS.md (shared/), measured on Cortex-M7 under QEMU: TFLM + CMSIS-NN arena for this network.
PEERS_TFLM = {224: 570_116, 96: 192_260}
FAMILY_NAMES = {"mobilenet_v3_small": "MobileNetV3-Small", "mobilenet_v3_large": "MobileNetV3-Large",
                "mobilenet_v2": "MobileNetV2", "mobilenet_v1": "MobileNetV1"}


# --------------------------------------------------------------------------------------------- driver
def _configs(models: list[str], resolutions: list[int], mnist: bool) -> list[dict]:
    out = [{"label": f"{FAMILY_NAMES[m]} 1.0, 1000 classes, {r}x{r}", "kind": "zoo", "family": m, "resolution": r}
           for m in models for r in resolutions]
    if mnist and MNIST_MODEL.exists():
        out.append({"label": "bundled mnv3_small_mnist.onnx, 10 classes, 96x96x1", "kind": "mnist",
                    "family": "mobilenet_v3_small", "resolution": 96})
    return out


def _model_and_data(cfg: dict, tmp: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """(ONNX path, calibration samples, test samples), NCHW float32."""
    if cfg["kind"] == "mnist":
        from mnv3c.zoo.mnist import load_split

        calib = load_split("calib")[0][:CALIB_SAMPLES]
        test = load_split("test")[0][:TEST_SAMPLES]
        return MNIST_MODEL, calib, test
    import torch

    from mnv3c.zoo.export import export
    from mnv3c.zoo.init import synthetic_images

    r = cfg["resolution"]
    path = export(cfg["family"], "legacy17", tmp / f"{cfg['family']}_{r}.onnx", resolution=r, num_classes=1000, seed=0)
    images = synthetic_images(torch.Generator().manual_seed(1), CALIB_SAMPLES + TEST_SAMPLES, 3, r).float().numpy()
    return path, images[:CALIB_SAMPLES], images[CALIB_SAMPLES:]


def _mnv3c_side(onnx_path: Path, calib: np.ndarray, outdir: Path) -> dict:
    from mnv3c.compiler import quantize_model, resolve_board, write_project

    q = quantize_model(str(onnx_path), None, calib, progress=False)
    report = write_project(q.qgraph, "host", resolve_board("host", None), outdir, force=True)
    return {"arena": report["arena_bytes"], "lower_bound": report["arena_lower_bound_bytes"],
            "tensor_ram": report["tensor_ram_bytes"],
            "layer_by_layer": report["schedule"].get("layer_by_layer_tensor_ram_bytes", report["tensor_ram_bytes"]),
            "macs": report["macs"]}


def _export_job(onnx_path: Path, family: str, calib: np.ndarray, test: np.ndarray, job: Path) -> None:
    """The ONNX network's weights in node order, its float outputs (onnxruntime) and the samples, for the worker."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    weights: list[np.ndarray] = []
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = inits[node.input[1]]
            b = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[0], np.float32)
            weights += [w, b]
        elif node.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            w = inits[node.input[1]]
            weights += [w if attrs.get("transB", 0) else w.T, inits[node.input[2]]]
        elif node.op_type in ("MatMul", "BatchNormalization"):
            raise SystemExit(f"{onnx_path}: {node.op_type} not expected in a constant-folded zoo export")
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    ref = np.concatenate([sess.run(None, {name: test[i:i + 1]})[0] for i in range(len(test))])
    np.savez(job, calib=calib, test=test, ref=ref, n_weights=len(weights), family=family,
             **{f"w{i}": w.astype(np.float32) for i, w in enumerate(weights)})


def _tflm_python(venv: Path) -> tuple[str | None, str]:
    """The interpreter that has the TFLM toolchain, or None and why not."""
    probe = "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in %r) else 1)" % (TFLM_MODULES,)
    candidates = [sys.executable, str(venv / "bin" / "python")]
    for py in candidates:
        if Path(py).exists() and subprocess.run([py, "-c", probe], capture_output=True).returncode == 0:
            return py, py
    return None, (f"TFLM toolchain ({', '.join(TFLM_MODULES)}) not importable here nor in {venv}; "
                  f"create it with: python {Path(__file__).relative_to(REPO)} --setup-tflm --tflm-venv {venv}")


def _tflm_side(py: str, job: Path, out: Path, log: Path) -> dict:
    with open(log, "w") as f:
        proc = subprocess.run([py, str(Path(__file__).resolve()), "--worker", str(job), str(out)],
                              stdout=f, stderr=subprocess.STDOUT, timeout=WORKER_TIMEOUT_S)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"TFLM worker failed (exit {proc.returncode}); last lines of {log}:\n{tail}")
    return json.loads(out.read_text())


def _setup(venv: Path) -> None:
    py = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(py if py.exists() else sys.executable), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", *TFLM_PINS], check=True)
    print(f"TFLM toolchain installed in {venv}")


def _fmt(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def _pct(a: int, b: int | None) -> str:
    return "" if not b else f" ({100.0 * a / b:.0f} %)"


def _print_summary(rows: list[dict]) -> None:
    """The one table per network and resolution: mnv3c's tensor RAM (default schedule and layer by
    layer) beside TFLM's arena, and the ratios."""
    print("| network | mnv3c tensor RAM, default | mnv3c tensor RAM, layer by layer | TFLM tensor memory (arena head) "
          "| TFLM arena total (host, 64-bit) | default / TFLM head | default / TFLM total |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, t = r["mnv3c"], r.get("tflm")
        cells = [r["label"], _fmt(m["tensor_ram"]), _fmt(m["layer_by_layer"])]
        cells += ([_fmt(t["head"]), _fmt(t["total"]), f"{m['tensor_ram'] / t['head']:.2f}",
                   f"{m['tensor_ram'] / t['total']:.2f}"] if t else ["skipped"] * 4)
        print("| " + " | ".join(cells) + " |")
    print()


def _print_tables(rows: list[dict], tflm_note: str | None) -> None:
    _print_summary(rows)
    print("| network | mnv3c arena | mnv3c lower bound | arena / bound | mnv3c tensor RAM (input + output + activations + scratch) "
          "| TFLM tensor memory (arena head) | TFLM graph lower bound | TFLM arena total (host, 64-bit) "
          "| PEERS.md TFLM + CMSIS-NN arena (quoted, Cortex-M7) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, t = r["mnv3c"], r.get("tflm")
        peers = PEERS_TFLM.get(r["resolution"]) if r["family"] == "mobilenet_v3_small" and r["kind"] == "zoo" else None
        with_io = m["tensor_ram"]
        cells = [r["label"], _fmt(m["arena"]), _fmt(m["lower_bound"]), f"{m['arena'] / m['lower_bound']:.3f}",
                 _fmt(with_io)]
        if t:
            cells += [f"{_fmt(t['head'])}", _fmt(t["graph_lower_bound"]), _fmt(t["total"])]
        else:
            cells += ["skipped"] * 3
        cells.append(_fmt(peers))
        print("| " + " | ".join(cells) + " |")
    if tflm_note:
        print(f"\nTFLM columns skipped: {tflm_note}")
    measured = [r for r in rows if r.get("tflm")]
    if not measured:
        return
    print("\nRatios: mnv3c tensor RAM as a share of TFLM's figures")
    print("\n| network | vs TFLM tensor memory | vs TFLM arena total (host) | vs PEERS.md TFLM arena |")
    print("|---|---:|---:|---:|")
    for r in measured:
        m, t = r["mnv3c"], r["tflm"]
        with_io = m["tensor_ram"]
        peers = PEERS_TFLM.get(r["resolution"]) if r["family"] == "mobilenet_v3_small" and r["kind"] == "zoo" else None
        print(f"| {r['label']} | {with_io / t['head']:.2f} | {with_io / t['total']:.2f} | "
              f"{'' if not peers else f'{with_io / peers:.2f}'} |")
    print("\nTFLM model and run checks")
    print("\n| network | TFLM ops | torch vs onnxruntime max abs diff | TFLM vs TFLite reference kernels "
          "(max int8 diff) | TFLM int8 output: distinct values | cosine(TFLM dequantized, float) "
          "| runs in an arena of exactly the reported total |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in measured:
        t = r["tflm"]
        ops = ", ".join(f"{k} {v}" for k, v in sorted(t["ops"].items(), key=lambda kv: -kv[1]))
        print(f"| {r['label']} | {ops} | {t['torch_vs_onnx_max_abs']:.2e} | {t['tflm_vs_tflite_ref_max_diff']} | "
              f"{t['distinct_outputs']} | {t['cosine_vs_float']:.3f} | {'yes' if t['fits_reported_total'] else 'NO'} |")
    print("\nTFLM arena breakdown (print_allocations, host build: 64-bit pointers make the tail larger than on a "
          "Cortex-M)")
    print("\n| network | head | tail | " + " | ".join(measured[0]["tflm"]["breakdown"]) + " |")
    print("|---|---:|---:|" + "---:|" * len(measured[0]["tflm"]["breakdown"]))
    for r in measured:
        t = r["tflm"]
        print(f"| {r['label']} | {_fmt(t['head'])} | {_fmt(t['tail'])} | "
              + " | ".join(_fmt(t["breakdown"].get(k)) for k in measured[0]["tflm"]["breakdown"]) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v3_small",
                    help=f"comma-separated zoo families, of {', '.join(FAMILY_NAMES)} (default: %(default)s)")
    ap.add_argument("--resolutions", type=int, nargs="+", default=[224, 96])
    ap.add_argument("--no-mnist", action="store_true", help="leave out the bundled MNIST model")
    ap.add_argument("--skip-tflm", action="store_true", help="mnv3c columns only")
    ap.add_argument("--tflm-venv", type=Path, default=DEFAULT_VENV, help=f"venv with the TFLM toolchain ({DEFAULT_VENV})")
    ap.add_argument("--setup-tflm", action="store_true", help=f"create --tflm-venv with {' '.join(TFLM_PINS)}")
    ap.add_argument("--keep", type=Path, default=None, help="keep the ONNX, .tflite and C outputs in this folder; "
                    "a TFLM result already there (tflm.json) is reused: it does not depend on mnv3c")
    ap.add_argument("--worker", nargs=2, metavar=("JOB", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    if unknown := [m for m in models if m not in FAMILY_NAMES]:
        ap.error(f"unknown model(s) {', '.join(unknown)}; expected some of {', '.join(FAMILY_NAMES)}")
    if args.worker:
        return _worker(Path(args.worker[0]), Path(args.worker[1]))
    if args.setup_tflm:
        return _setup(args.tflm_venv)

    py, note = (None, "--skip-tflm given") if args.skip_tflm else _tflm_python(args.tflm_venv)
    if py is None:
        print(f"arena_vs_tflm: TFLM columns will be skipped: {note}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        for cfg in _configs(models, args.resolutions, not args.no_mnist):
            t0 = time.time()
            d = work / (f"{cfg['family']}_{cfg['resolution']}" if cfg["kind"] == "zoo" else "mnist")
            d.mkdir(exist_ok=True)
            onnx_path, calib, test = _model_and_data(cfg, d)
            row = dict(cfg, mnv3c=_mnv3c_side(onnx_path, calib, d / "mnv3c_out"))
            if args.keep and (d / "tflm.json").exists():
                row["tflm"] = json.loads((d / "tflm.json").read_text())
            elif py:
                _export_job(onnx_path, cfg["family"], calib, test, d / "job.npz")
                try:
                    row["tflm"] = _tflm_side(py, d / "job.npz", d / "tflm.json", d / "tflm.log")
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    print(f"arena_vs_tflm: {cfg['label']}: {e}", file=sys.stderr)
                    note = f"the TFLM worker failed for {cfg['label']} (see stderr)"
            print(f"arena_vs_tflm: {cfg['label']}: {time.time() - t0:.0f} s", file=sys.stderr)
            rows.append(row)
    command = " ".join(["python", f"benchmarks/{Path(__file__).name}", *sys.argv[1:]])
    print(f"Arena bytes, {datetime.date.today().isoformat()}, `{command}`\n")
    _print_tables(rows, None if all("tflm" in r for r in rows) else note)


# --------------------------------------------------------------------------- worker (TFLM venv only)
def _worker(job_path: Path, out_path: Path) -> None:
    import torch

    sys.path.insert(0, str(REPO))
    from mnv3c.zoo.models import build

    job = np.load(job_path)
    calib, test, ref = job["calib"], job["test"], job["ref"]
    weights = [job[f"w{i}"] for i in range(int(job["n_weights"]))]
    _, in_ch, res, _ = test.shape
    model = _folded_zoo_model(build(str(job["family"]), 1.0, ref.shape[1], in_ch), weights)
    with torch.no_grad():
        got = model(torch.from_numpy(test)).numpy()
    torch_vs_onnx = float(np.abs(got - ref).max())
    if torch_vs_onnx > 1e-3 * max(1.0, float(np.abs(ref).max())):
        raise SystemExit(f"torch module does not reproduce the ONNX model: max abs diff {torch_vs_onnx}")

    tmp = out_path.parent
    float_path, int8_path = tmp / "float.tflite", tmp / "int8.tflite"
    _convert(model, res, in_ch, float_path)
    raw = _quantize(float_path, calib.transpose(0, 2, 3, 1), int8_path)
    model_bytes = _inline_buffers(raw)
    int8_path.write_bytes(model_bytes)

    result = _run_tflm(model_bytes, test.transpose(0, 2, 3, 1), ref)
    result["torch_vs_onnx_max_abs"] = torch_vs_onnx
    result.update(_graph_stats(model_bytes))
    out_path.write_text(json.dumps(result, indent=1))


def _folded_zoo_model(model, weights: list[np.ndarray]):
    """The zoo module with every BatchNorm removed and the ONNX export's folded Conv/Gemm weights loaded."""
    import torch
    from torch import nn

    def strip(parent: nn.Module) -> None:
        for name, child in parent.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, nn.Identity())
            else:
                strip(child)

    strip(model)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if 2 * len(layers) != len(weights):
        raise SystemExit(f"ONNX has {len(weights) // 2} Conv/Gemm, the zoo module {len(layers)}: not the same network")
    with torch.no_grad():
        for layer, w, b in zip(layers, weights[0::2], weights[1::2]):
            if tuple(layer.weight.shape) != w.shape:
                raise SystemExit(f"weight shape {w.shape} does not fit {layer}")
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias = nn.Parameter(torch.from_numpy(b.copy()))
    return model.float().eval()


def _convert(model, res: int, in_ch: int, path: Path) -> None:
    import litert_torch
    import torch

    nhwc = litert_torch.to_channel_last_io(model, args=[0]).eval()
    litert_torch.convert(nhwc, (torch.zeros(1, res, res, in_ch),)).export(str(path))


def _quantize(float_path: Path, calib_nhwc: np.ndarray, int8_path: Path) -> bytes:
    """Full-integer int8 (weights per channel, activations per tensor, int8 I/O) with ai-edge-quantizer."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    sigs = Interpreter(model_path=str(float_path)).get_signature_list()
    (sig, io), = sigs.items()
    qt = quantizer.Quantizer(str(float_path))
    qt.load_quantization_recipe(recipe.static_wi8_ai8())
    data = {sig: [{io["inputs"][0]: calib_nhwc[i:i + 1].astype(np.float32)} for i in range(len(calib_nhwc))]}
    result = qt.quantize(qt.calibrate(data, num_threads=1))  # one thread: the ranges do not depend on scheduling
    result.export_model(str(int8_path), overwrite=True)
    return int8_path.read_bytes()


def _inline_buffers(raw: bytes) -> bytes:
    """Re-serialize with every buffer inside the flatbuffer: the quantizer stores large buffers after it
    (offset/size), which TFLM does not read: it would run with all-zero weights."""
    import flatbuffers
    from tflite_micro.python.tflite_micro import runtime

    model = runtime.convert_bytearray_to_object(raw)
    for b in model.buffers:
        if b.offset > 1:
            b.data = np.frombuffer(raw, np.uint8, b.size, b.offset).copy()
            b.offset, b.size = 0, 0
    builder = flatbuffers.Builder(len(raw) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = bytes(builder.Output())
    if any(b.offset > 1 for b in runtime.convert_bytearray_to_object(out).buffers):
        raise SystemExit("buffers still outside the flatbuffer after re-serialization")
    return out


def _run_tflm(model_bytes: bytes, test_nhwc: np.ndarray, ref: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tflite_micro.python.tflite_micro import runtime

    tflm = runtime.Interpreter.from_bytes(model_bytes, arena_size=TFLM_PROBE_ARENA)
    qin, qout = tflm.get_input_details(0)["quantization_parameters"], tflm.get_output_details(0)["quantization_parameters"]
    s_in, z_in = float(qin["scales"][0]), int(qin["zero_points"][0])
    s_out, z_out = float(qout["scales"][0]), int(qout["zero_points"][0])
    xq = np.clip(np.round(test_nhwc / s_in) + z_in, -128, 127).astype(np.int8)

    ys = []
    for i in range(len(xq)):
        tflm.set_input(xq[i:i + 1], 0)
        tflm.invoke()
        ys.append(np.array(tflm.get_output(0)).reshape(-1))
    alloc = _capture_stderr(tflm.print_allocations)
    y = np.stack(ys)

    lite = Interpreter(model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    lite.allocate_tensors()
    ys_ref = []
    for i in range(len(xq)):
        lite.set_tensor(lite.get_input_details()[0]["index"], xq[i:i + 1])
        lite.invoke()
        ys_ref.append(lite.get_tensor(lite.get_output_details()[0]["index"]).reshape(-1))
    y_ref = np.stack(ys_ref)

    deq = (y.astype(np.float64) - z_out) * s_out
    cos = [float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30)) for a, b in zip(deq, ref.astype(np.float64))]
    stats = _parse_allocations(alloc)

    fits = True
    try:  # the reported total must really be enough
        exact = runtime.Interpreter.from_bytes(model_bytes, arena_size=stats["total"])
        exact.set_input(xq[:1], 0)
        exact.invoke()
        fits = bool(np.array_equal(np.array(exact.get_output(0)).reshape(-1), y[0]))
    except Exception:  # noqa: BLE001 - any failure means "does not fit"
        fits = False
    return dict(stats, allocations_log=alloc, fits_reported_total=fits,
                tflm_vs_tflite_ref_max_diff=int(np.abs(y.astype(int) - y_ref.astype(int)).max()),
                distinct_outputs=int(len(np.unique(y))), cosine_vs_float=float(np.mean(cos)),
                argmax_agreement=float(np.mean(deq.argmax(1) == ref.argmax(1))))


def _capture_stderr(fn) -> str:
    """print_allocations writes with C++ stdio to fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            fn()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        return f.read().decode(errors="replace")


def _parse_allocations(text: str) -> dict:
    def grab(pattern: str) -> int:
        m = re.search(pattern, text)
        if not m:
            raise SystemExit(f"cannot find {pattern!r} in print_allocations output:\n{text}")
        return int(m.group(1))

    breakdown = {m.group(1): int(m.group(2)) for m in re.finditer(r"'([^']+)' used (\d+) bytes", text)}
    return {"total": grab(r"Arena allocation total (\d+)"), "head": grab(r"Arena allocation head (\d+)"),
            "tail": grab(r"Arena allocation tail (\d+)"), "breakdown": breakdown}


def _graph_stats(model_bytes: bytes) -> dict:
    """Op counts, and the TFLM graph's own lower bound: max over ops of the bytes of the non-constant
    tensors live there (inputs, outputs and intermediates, unaligned, no kernel scratch)."""
    from tflite_micro.python.tflite_micro import runtime
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = runtime.convert_bytearray_to_object(model_bytes)
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    itemsize = {fb.TensorType.INT8: 1, fb.TensorType.UINT8: 1, fb.TensorType.INT16: 2, fb.TensorType.INT32: 4,
                fb.TensorType.FLOAT32: 4, fb.TensorType.INT64: 8}
    sg = model.subgraphs[0]
    ops: dict[str, int] = {}
    for op in sg.operators:
        name = names[runtime.get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex])]
        ops[name] = ops.get(name, 0) + 1

    def constant(t: int) -> bool:
        b = model.buffers[sg.tensors[t].buffer]
        return b.data is not None and len(b.data) > 0

    last = len(sg.operators) - 1
    first_use = {t: -1 for t in sg.inputs}
    last_use = {t: last for t in sg.outputs}
    for i, op in enumerate(sg.operators):
        for t in op.outputs:
            first_use.setdefault(t, i)
        for t in op.inputs:
            if t >= 0 and not constant(t):
                last_use[t] = max(last_use.get(t, i), i)
    size = {t: int(np.prod(sg.tensors[t].shape)) * itemsize[sg.tensors[t].type] for t in first_use}
    bound = max(sum(size[t] for t in first_use if first_use[t] <= i <= last_use.get(t, first_use[t]))
                for i in range(len(sg.operators)))
    return {"ops": ops, "graph_lower_bound": bound}


if __name__ == "__main__":
    main()
