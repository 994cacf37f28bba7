"""The real-model corpus (`mnv3c.corpus`) table: per model, float import vs onnxruntime, int8
fidelity of mnv3c beside onnxruntime's own `quantize_static` on the same calibration data,
bit-exactness of the C on the host and under QEMU Cortex-M7 with exact instructions and RAM; the
models that cannot compile, with their one-line error.

Per model: CALIB rendered/photo inputs (seed 0) calibrate both quantizers, EVAL other inputs
(seed 100) measure fidelity against onnxruntime float32 on the same inputs:

- classify: top-1 agreement with the float model, mean cosine of the output vectors (probabilities
  when the model ends in softmax, as the user sees them);
- sequence (CTC recogniser): agreement of the per-time-step argmax, mean cosine per step (its
  6625-class softmax is longer than the int8 kernel's rows: mnv3c's host applies it, --no-softmax);
- map (detector probability map): agreement of the binarised map (threshold 0.3, rapidocr's), cosine.

onnxruntime int8: `quantize_static` QDQ, per-channel symmetric int8 weights, int8 activations, MinMax
(and Entropy/Percentile unless --quick), run by onnxruntime with its default optimizations.
mnv3c int8 runs on its integer simulator (bit-exact with the generated C, checked below).
The Cortex-M7 columns: the C compiled for mps2-an500, run under QEMU on one EVAL input, compared
byte for byte with the simulator, at the package's resolution (`CorpusModel.shape`) unless it does
not fit the board's 4 MiB, then at the reduced one (`CorpusModel.small`).

    python benchmarks/corpus.py [--quick] [--calib N] [--eval N] [--model NAME ...] [--shape NAME=H,W ...]
                                [--precision int8|int16|mixed ...] [--target-agreement F] [--adaptive-rounding]
                                [--search N]

`--precision` measures mnv3c's 16x8 (every layer with a 16x8 kernel, or mixed: the automatic search,
to `--target-agreement` on the calibration set, 0.99 by default) instead of int8, as `compile --precision`
builds it; several precisions give one row each, calibrated once. `--search N`: the mixed search measures on
N other held-out inputs (seed 200), as `compile --search-data` does, instead of on the calibration inputs.

`--shape` measures a model at another input size than its package's (e.g. the detector, which
rapidocr runs at 736x736, at 320x320: numpy simulation of 64 pages at 736 takes hours).

Prints markdown on stdout (progress on stderr). Needs the corpus wheels (scripts/install.sh).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime import quantization as ortq

from mnv3c import corpus
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.errors import MnvError
from mnv3c.quant.evaluate import load_float_graph, run_int8
from mnv3c.quant.mixed import apply_precision
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.softmax import int8_softmax_fits
from mnv3c.reference.float_exec import run_float

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quant_vs_ort import _ort_int8, _ort_run  # noqa: E402  (sibling benchmark: same ORT set-up)

CACHE = Path(tempfile.gettempdir()) / "mnv3c-corpus-cache"
DET_THRESHOLD = 0.3


def _float_error(graph, path: Path, x: np.ndarray) -> float:
    got = np.concatenate([run_float(graph, {graph.inputs[0]: x[i:i + 1]})[graph.outputs[0]] for i in range(len(x))])
    want = _ort_run(path, x)
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def fidelity(m: corpus.CorpusModel, f: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """(agreement, mean cosine) of int8 outputs ``q`` with float outputs ``f`` (see the module doc)."""
    f64, q64 = f.astype(np.float64), q.astype(np.float64)
    if m.task == "map":
        flat_f, flat_q = f64.reshape(len(f), -1), q64.reshape(len(q), -1)
        agree = float(((flat_f > DET_THRESHOLD) == (flat_q > DET_THRESHOLD)).mean())
    else:
        flat_f, flat_q = f64.reshape(-1, f.shape[-1]), q64.reshape(-1, q.shape[-1])
        agree = float((flat_f.argmax(1) == flat_q.argmax(1)).mean())
    norms = np.linalg.norm(flat_f, axis=1) * np.linalg.norm(flat_q, axis=1)
    cos = float(np.mean((flat_f * flat_q).sum(1) / np.maximum(norms, 1e-30)))
    return agree, cos


def _cortex_m7(qg, x: np.ndarray, out: Path) -> dict:
    board = resolve_board("cortex-m7", None)
    x_q = quantize_input(qg, x)
    sim = simulate(qg, x_q).reshape(len(x), -1)
    x_c = nchw_to_nhwc(x_q)
    write_project(qg, "cortex-m7", board, out, force=True, inputs_int8=x_c)
    report, image = build_project(out)
    ran = run_project(out, image, x_c)
    device, instructions = ran.outputs, ran.instructions
    return {"bit_exact": bool(np.array_equal(device.reshape(sim.shape), sim)), "instructions": instructions,
            "arena": report["arena_bytes"], "ram": report["ram_bytes"], "flash": report["flash_bytes"]}


def _quantize(graph, path: Path, calib: np.ndarray, options: dict, precisions: list[str],
              search: np.ndarray | None = None) -> dict:
    """precision -> (mnv3c's quantized graph of ``graph``, the mixed search's steps or None), int8
    softmax where it fits: calibrated once, int16/mixed rebuilt from the int8 graph as `compile
    --precision` does; the mixed search measures on ``search`` (`--search-data`) when given."""
    opts = {**options, "softmax": int8_softmax_fits(graph)}
    target = opts.pop("target_agreement", None)
    q = quantize_model(str(path), None, calib, progress=False, loaded=(graph, {}), options=opts)
    out = {p: apply_precision(q.reference, q.qgraph, calib, p, None, target) for p in precisions if p != "mixed"}
    if "mixed" in precisions:  # through `compile`'s path: a missed target is retried with adaptive rounding
        m = quantize_model(str(path), None, calib, progress=False, loaded=(graph, {}),
                           options={**opts, "precision": "mixed", "target_agreement": target, "search_data": search})
        out["mixed"] = (m.qgraph, m.qgraph.meta["quant"]["mixed_steps"])
    return {p: out[p] for p in precisions}


def measure(m: corpus.CorpusModel, n_calib: int, n_eval: int, quick: bool, tmp: Path, options: dict,
            precisions: list[str], n_search: int = 0) -> dict:
    row: dict = {"model": m, "shape": m.shape}
    path = corpus.onnx_file(m, CACHE)
    t0 = time.time()
    calib, x = corpus.samples(m, n_calib, 0), corpus.samples(m, n_eval, 100)
    try:
        graph, _ = load_float_graph(str(path), m.shape)
    except MnvError as e:
        row["error"] = str(e)
        return row
    row["float_err"] = _float_error(graph, path, x[:4])
    ref = _ort_run(path, x)
    try:
        qgs = _quantize(graph, path, calib, options, precisions, corpus.samples(m, n_search, 200) if n_search else None)
    except MnvError as e:
        row["error"] = str(e)
        return row
    row["mnv3c"] = {p: fidelity(m, ref, run_int8(qg, x)[1]) for p, (qg, _) in qgs.items()}
    row["promotions"] = {p: _promotions(steps) for p, (_, steps) in qgs.items()}
    methods = [ortq.CalibrationMethod.MinMax] if quick else [
        ortq.CalibrationMethod.MinMax, ortq.CalibrationMethod.Entropy, ortq.CalibrationMethod.Percentile]
    row["ort"] = {}
    for method in methods:
        try:
            q_path = _ort_int8(path, calib, method, tmp / f"{m.name}_{method.name}.onnx")
            row["ort"][method.name] = fidelity(m, ref, _ort_run(q_path, x))
        except Exception as e:  # noqa: BLE001  (a calibrator failure is a row entry, not a crash)
            row["ort"][method.name] = f"failed: {type(e).__name__}"
    print(f"{m.name}: fidelity {time.time() - t0:.0f} s", file=sys.stderr)
    shape = m.shape
    try:
        row["m7"] = {p: _cortex_m7(qg, x[:1], tmp / f"{m.name}_{p}_m7") for p, (qg, _) in qgs.items()}
    except MnvError as e:  # does not fit: the reduced resolution, calibrated alike
        print(f"{m.name}: {e}; using {m.small}", file=sys.stderr)
        shape = m.small
        small_path = corpus.onnx_file(m, CACHE, shape[2])
        small_graph, _ = load_float_graph(str(small_path), shape)
        small = _quantize(small_graph, small_path, corpus.samples(m, n_calib, 0, shape), options, precisions,
                          corpus.samples(m, n_search, 200, shape) if n_search else None)
        row["m7"] = {p: _cortex_m7(qg, corpus.samples(m, 1, 100, shape), tmp / f"{m.name}_{p}_m7")
                     for p, (qg, _) in small.items()}
    row["m7_shape"] = shape
    print(f"{m.name}: done in {time.time() - t0:.0f} s", file=sys.stderr)
    return row


def _fid(v) -> str:
    return v if isinstance(v, str) else f"{100 * v[0]:.1f} % / {v[1]:.4f}"


def _promotions(steps: list | None) -> str:
    """With --precision mixed: how many layers the search made int16 and whether it met its target."""
    if not steps:
        return ""
    auto = steps[-1].get("adaptive_rounding_auto")
    rounding = ", adaptive rounding" if auto and auto["kept"] else (", adaptive rounding tried" if auto else "")
    return f" ({len(steps) - 1} layers int16{'' if steps[-1]['target_met'] else ', target unmet'}{rounding})"


def _row(r: dict, methods: list[str]) -> str:
    """One line per precision; the model's columns and onnxruntime's on the first only."""
    m, lines = r["model"], []
    shape = "x".join(map(str, r["m7_shape"][2:]))
    for i, p in enumerate(r["mnv3c"]):
        m7 = r["m7"][p]
        ort_cols = " | ".join(_fid(r["ort"].get(k, "")) if i == 0 else "" for k in methods)
        head = (f"| {m.name} | {m.dist}=={m.version} | {'x'.join(map(str, m.shape[1:]))} | {r['float_err']:.1e} "
                if i == 0 else "| | | | ")
        lines.append(f"{head}| {p} | {_fid(r['mnv3c'][p])}{r['promotions'][p]} | {ort_cols} | {shape} "
                     f"| {'yes' if m7['bit_exact'] else 'NO'} | {m7['instructions']:,} | {m7['arena']:,} B "
                     f"| {m7['ram']:,} B | {m7['flash']:,} B |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="onnxruntime MinMax only")
    ap.add_argument("--calib", type=int, default=32, help="calibration inputs per model")
    ap.add_argument("--eval", type=int, default=64, help="fidelity inputs per model")
    ap.add_argument("--model", nargs="*", choices=sorted(corpus.BY_NAME), help="only these models")
    ap.add_argument("--shape", nargs="*", default=[], metavar="NAME=H,W", help="measure NAME at H x W")
    ap.add_argument("--precision", nargs="+", choices=("int8", "int16", "mixed"), default=["int8"],
                    help="mnv3c's precisions, one row each (16x8: int16 activations, int8 weights)")
    ap.add_argument("--target-agreement", type=float, default=None, help="--precision mixed: the search's target")
    ap.add_argument("--adaptive-rounding", action="store_true", help="mnv3c: adaptive rounding of the weights")
    ap.add_argument("--search", type=int, default=0, metavar="N",
                    help="--precision mixed: the search measures on N other held-out inputs (seed 200; "
                         "`--search-data`) instead of the calibration inputs")
    args = ap.parse_args()
    options = {"target_agreement": args.target_agreement,
               "adaptive_rounding": args.adaptive_rounding}
    shapes = {}
    for item in args.shape:
        name, _, hw = item.partition("=")
        h, w = (int(v) for v in hw.split(","))
        shapes[name] = (1, corpus.BY_NAME[name].shape[1], h, w)
    methods = ["MinMax"] if args.quick else ["MinMax", "Entropy", "Percentile"]
    print(f"onnxruntime {ort.__version__}; {args.calib} calibration and {args.eval} fidelity inputs per model; "
          "fidelity = agreement with float / mean cosine\n")
    head = " | ".join(f"ORT int8 {k}" for k in methods)
    print(f"| model | wheel | input | float vs ORT (max rel err) | mnv3c precision | mnv3c | {head} | Cortex-M7 input "
          "| bit-exact | instructions | arena | RAM | flash |")
    print("|---|---|---|--:|---|--:|" + "--:|" * len(methods) + "---|---|--:|--:|--:|--:|", flush=True)
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in corpus.CORPUS:
            if args.model and m.name not in args.model:
                continue
            if m.name in shapes:
                m = dataclasses.replace(m, shape=shapes[m.name])
            r = measure(m, args.calib, args.eval, args.quick, Path(tmp), options, args.precision, args.search)
            if "error" in r:
                failed.append(r)
            else:
                print(_row(r, methods), flush=True)
    if failed:
        print("\nModels that cannot compile yet:\n")
        for r in failed:
            err = f", float vs ORT {r['float_err']:.1e}" if "float_err" in r else ""
            print(f"- {r['model'].name} ({r['model'].dist}=={r['model'].version}{err}): `{r['error']}`")


if __name__ == "__main__":
    main()
