"""Tensor RAM and instructions of layer-by-layer vs patched early stages (issue 14), on Cortex-M7.

For each network and resolution: the int8 model (zoo seeded init, legacy ONNX export opset 17,
calibrated on 4 seeded N(0,1) images) is compiled layer by layer, with the default schedule and at
each --ram-budget given, built for mps2-an500 and run under QEMU on one seeded image; every run is
checked bit-exact against the integer simulator (layer by layer) and the simulator's own patched
run. Tensor RAM is report.json's tensor_ram_bytes: input + output + activations + scratch, one arena.
TFLM's arena (which holds its input and output too) is quoted from ../shared/PEERS.md where it was
measured (MobileNetV3-Small 1.0 at 224 and 96; benchmarks/ARENA.md gives the method).

    python benchmarks/patches_ram.py                                   # V3-Small at 224 and 96
    python benchmarks/patches_ram.py --models mobilenet_v3_small:224 --budgets 180000,160000

Prints a markdown table on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.errors import MnvError
from mnv3c.plan.patches import make_stage
from mnv3c.plan.schedule import schedule
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.simulate_patched import simulate_patched
from mnv3c.zoo.export import export

TARGET = "cortex-m7"
PEERS_TFLM = {("mobilenet_v3_small", 224): 570_116, ("mobilenet_v3_small", 96): 192_260}  # PEERS.md, CMSIS-NN
DEFAULT_MODELS = "mobilenet_v3_small:224,mobilenet_v3_small:96"


def _measure(qg, x_q: np.ndarray, tmp: Path, label: str, budget: int | None, patches: bool) -> dict | None:
    board = resolve_board(TARGET, None)
    out = tmp / label
    try:
        report = write_project(qg, TARGET, board, out, force=False, inputs_int8=nchw_to_nhwc(x_q)[:1], html=False,
                               ram_budget=budget, patches=patches)
    except MnvError as e:
        print(f"patches_ram: {label}: {e}", file=sys.stderr)
        return None
    _, image = build_project(out)
    ran = run_project(out, image, nchw_to_nhwc(x_q))
    sched = schedule(qg)
    stages = [make_stage(qg, sched, tuple(range(s["first_step"], s["last_step"] + 1)), s["band_rows"])
              for s in report["schedule"]["stages"]]
    ref = simulate(qg, x_q)
    exact = (np.array_equal(ran.outputs.reshape(len(x_q), -1), ref.reshape(len(x_q), -1))
             and np.array_equal(simulate_patched(qg, x_q, sched, stages), ref))
    return {"report": report, "instructions": ran.instructions, "bit_exact": exact}


def _schedule_cell(schedule: dict) -> str:
    if not schedule["stages"]:
        return "every layer whole"
    return "; ".join(f"steps {s['first_step']}-{s['last_step']} x{s['bands']} bands of {s['band_rows']} rows"
                     for s in schedule["stages"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEFAULT_MODELS, help="FAMILY:RESOLUTION,... (default: %(default)s)")
    ap.add_argument("--budgets", default="", help="extra --ram-budget values in bytes, comma-separated")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",") if b]
    commit = subprocess.run(["git", "log", "-1", "--format=%s"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()  # the subject: hashes change on rebase
    print(f"Measured {datetime.date.today()} at the commit \"{commit}\": `python benchmarks/patches_ram.py"
          f"{' --models ' + args.models if args.models != DEFAULT_MODELS else ''}"
          f"{' --budgets ' + args.budgets if budgets else ''}`, {TARGET} (QEMU mps2-an500), one seeded image.\n")
    print("| network | schedule | tensor RAM | vs layer by layer | TFLM arena (PEERS.md) | vs TFLM | instructions "
          "| extra instructions | extra MACs | bit-exact |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|---|")
    for spec in args.models.split(","):
        family, resolution = spec.split(":")
        r = int(resolution)
        t0 = time.time()
        with tempfile.TemporaryDirectory(prefix="mnv3c-patches-") as tmp_name:
            tmp = Path(tmp_name)
            path = export(family, "legacy17", tmp / f"{family}_{r}.onnx", resolution=r, num_classes=1000, seed=0)
            rng = np.random.default_rng(0)
            calib = rng.standard_normal((4, 3, r, r)).astype(np.float32)
            q = quantize_model(str(path), None, calib, progress=False)
            x_q = quantize_input(q.qgraph, rng.standard_normal((1, 3, r, r)).astype(np.float32))
            runs = [("layer by layer", _measure(q.qgraph, x_q, tmp, "layers", None, False)),
                    ("default", _measure(q.qgraph, x_q, tmp, "default", None, True))]
            runs += [(f"--ram-budget {b:,}", _measure(q.qgraph, x_q, tmp, f"b{b}", b, True)) for b in budgets]
        base = runs[0][1]
        tflm = PEERS_TFLM.get((family, r))
        for name, m in runs:
            if m is None:
                print(f"| {family} {r}x{r} | {name}: no schedule fits | | | | | | | | |")
                continue
            ram, sched = m["report"]["tensor_ram_bytes"], m["report"]["schedule"]
            extra_insn = 100.0 * (m["instructions"] - base["instructions"]) / base["instructions"]
            print(f"| {family} {r}x{r} | {name}: {_schedule_cell(sched)} | {ram:,} B "
                  f"| {ram / base['report']['tensor_ram_bytes']:.2f}x | {f'{tflm:,} B' if tflm else 'n/a'} "
                  f"| {f'{ram / tflm:.2f}x' if tflm else ''} | {m['instructions']:,} | {extra_insn:+.2f} % "
                  f"| {sched['extra_macs_percent']:.2f} % | {'yes' if m['bit_exact'] else 'NO'} |")
        print(f"patches_ram: {spec}: {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
