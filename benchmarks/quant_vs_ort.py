"""mnv3c int8 vs onnxruntime's own int8 (QDQ, per channel) on the bundled MNIST MobileNetV3-Small.

Same calibration split, same held-out test split. Prints a markdown table of top-1 and argmax
agreement with the float model (onnxruntime float32), for each mnv3c calibration method and
with/without bias correction and cross-layer equalization.

    python benchmarks/quant_vs_ort.py [--model PATH] [--limit N] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime import quantization as ortq

from mnv3c.quant.evaluate import load_float_graph, run_int8
from mnv3c.quant.quantize import quantize
from mnv3c.zoo.mnist import load_split

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "mnv3c" / "data" / "mnv3_small_mnist.onnx"


class _Reader(ortq.CalibrationDataReader):
    def __init__(self, name: str, x: np.ndarray) -> None:
        self._it = iter([{name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self._it, None)


def _ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    fixed_batch = sess.get_inputs()[0].shape[0] == 1
    if fixed_batch:
        return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])
    return sess.run(None, {name: x})[0]


def _ort_int8(model: Path, calib: np.ndarray, method: ortq.CalibrationMethod, out: Path) -> Path:
    name = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    ortq.quantize_static(str(model), str(out), _Reader(name, calib), quant_format=ortq.QuantFormat.QDQ,
                         per_channel=True, activation_type=ortq.QuantType.QInt8, weight_type=ortq.QuantType.QInt8,
                         calibrate_method=method)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--limit", type=int, default=None, help="evaluate on the first N test images only")
    ap.add_argument("--quick", action="store_true", help="only the default mnv3c configuration and ORT MinMax")
    args = ap.parse_args()

    calib, _ = load_split("calib")
    x, y = load_split("test")
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    ref = _ort_run(args.model, x).argmax(1)
    rows = [("float32 (onnxruntime)", float((ref == y).mean()), 1.0, "")]

    configs = [("auto", True, True)] if args.quick else [
        (m, True, True) for m in ("minmax", "percentile", "mse", "auto")] + [
        ("auto", False, False), ("auto", True, False), ("auto", False, True)]
    graph, _ = load_float_graph(args.model)
    for method, bc, cle in configs:
        t0 = time.time()
        qg = quantize(graph, calib, method, bias_correction=bc, equalize=cle, progress=False)
        pred = run_int8(qg, x)[1].argmax(1)
        label = f"mnv3c int8 {method}{' +BC' if bc else ''}{' +CLE' if cle else ''}"
        rows.append((label, float((pred == y).mean()), float((pred == ref).mean()), f"{time.time() - t0:.0f} s"))

    ort_methods = [ortq.CalibrationMethod.MinMax] if args.quick else [
        ortq.CalibrationMethod.MinMax, ortq.CalibrationMethod.Percentile, ortq.CalibrationMethod.Entropy]
    with tempfile.TemporaryDirectory() as tmp:
        for m in ort_methods:
            t0 = time.time()
            path = _ort_int8(args.model, calib, m, Path(tmp) / f"qdq_{m.name}.onnx")
            pred = _ort_run(path, x).argmax(1)
            rows.append((f"onnxruntime int8 QDQ per-channel {m.name}", float((pred == y).mean()),
                         float((pred == ref).mean()), f"{time.time() - t0:.0f} s"))

    print(f"model {args.model.name}, calibration {len(calib)} images, test {len(x)} images\n")
    print("| configuration | top-1 | agreement with float | time |")
    print("|---|---|---|---|")
    for label, top1, agree, t in rows:
        print(f"| {label} | {100 * top1:.2f} % | {100 * agree:.2f} % | {t} |")


if __name__ == "__main__":
    main()
