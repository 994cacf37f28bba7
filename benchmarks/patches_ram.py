"""Tensor RAM and instructions of layer-by-layer vs patched early stages (issue 14), on Cortex-M7.

For each network and resolution: the int8 model (zoo seeded init, legacy ONNX export opset 17,
1000 classes, calibrated on 4 seeded N(0,1) images) is planned layer by layer, with the default
schedule and at three --ram-budgets (by default: the smallest reachable, halfway to layer by layer,
just below layer by layer; or --budgets). Tensor RAM is report.json's tensor_ram_bytes: input +
output + activations + scratch, one arena. The layer-by-layer lower bound is the planner's bound
(the most bytes live at one step, every tensor whole). Every schedule's simulator run (band by
band, plan/patches.py) is checked bit-exact against the layer-by-layer simulator.

Instructions: at resolutions up to --qemu-max the project is built for mps2-an500 (MobileNetV1 and
V3-Large, whose 1000-class weights exceed its 4 MiB flash: Cortex-M55 on mps3-an547) and run under
QEMU on one seeded image (its output checked bit-exact too); above, they are *estimated*: the
model's MACs plus the schedule's extra MACs, times the instructions per MAC QEMU measured for the
same network and schedule kind (layer by layer / patched) at the largest measured resolution.
TFLM's arena (which holds its input and output too) is quoted from ../shared/PEERS.md where it was
measured (MobileNetV3-Small 1.0 at 224 and 96; benchmarks/ARENA.md gives the method).

With --inplace, a second table instead: the RAM in-place depthwise layers save (plan/patches.py),
layer by layer and at the default schedule, each plan checked bit-exact in the simulator; where the
layer-by-layer plan has in-place layers and the resolution is at most --qemu-max, both layer-by-layer
plans also run under QEMU (the instructions the per-row calls cost).

    python benchmarks/patches_ram.py                                          # the full table
    python benchmarks/patches_ram.py --models mobilenet_v2:96 --budgets 60000,50000
    python benchmarks/patches_ram.py --inplace                                # in-place depthwise savings

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

from mnv3c.analysis import totals
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.plan.memory import ALIGNMENT
from mnv3c.plan.model_plan import planner
from mnv3c.plan.patch_search import RamBudgetError, choose_stages
from mnv3c.plan.patches import make_stage
from mnv3c.plan.schedule import schedule
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.simulate_patched import simulate_patched
from mnv3c.zoo.export import export

TARGET = "cortex-m7"
# 1000-class int8 weights over mps2-an500's 4 MiB flash (V1 4.2 MB, V3-Large 5.4 MB): mps3-an547's 8 MiB QSPI
TARGET_OF = {"mobilenet_v1": "cortex-m55", "mobilenet_v3_large": "cortex-m55"}
PEERS_TFLM = {("mobilenet_v3_small", 224): 570_116, ("mobilenet_v3_small", 96): 192_260}  # PEERS.md, CMSIS-NN
FAMILIES = ("mobilenet_v3_small", "mobilenet_v3_large", "mobilenet_v2", "mobilenet_v1")
DEFAULT_MODELS = ",".join(f"{f}:{r}" for f in FAMILIES for r in (96, 128, 160, 224))


def _budgets(qg, target: str, given: list[int]) -> list[int]:
    if given:
        return given
    p = planner(qg, target)
    layer_by_layer = p.memory([])[1].arena_bytes
    try:
        choose_stages(p, ALIGNMENT)
    except RamBudgetError as e:
        smallest = e.smallest
    return [smallest, (smallest + layer_by_layer) // 2, layer_by_layer - ALIGNMENT]


def _measure(qg, target: str, x_q: np.ndarray, tmp: Path, label: str, budget: int | None, patches: bool,
             qemu: bool, inplace: bool = False) -> dict | None:
    board = resolve_board(target, None)
    out = tmp / label
    try:
        report = write_project(qg, target, board, out, force=False, inputs_int8=nchw_to_nhwc(x_q)[:1], html=False,
                               ram_budget=budget, patches=patches, inplace=inplace or patches)
    except RamBudgetError as e:
        print(f"patches_ram: {label}: {e}", file=sys.stderr)
        return None
    sched = schedule(qg)
    stages = [make_stage(qg, sched, tuple(range(s["first_step"], s["last_step"] + 1)), s["band_rows"])
              for s in report["schedule"]["stages"]]
    ref = simulate(qg, x_q)
    exact = np.array_equal(simulate_patched(qg, x_q, sched, stages), ref)
    instructions = None
    if qemu:
        _, image = build_project(out)
        ran = run_project(out, image, nchw_to_nhwc(x_q))
        exact = exact and np.array_equal(ran.outputs.reshape(len(x_q), -1), ref.reshape(len(x_q), -1))
        instructions = ran.instructions
    return {"report": report, "instructions": instructions, "bit_exact": exact}


def _schedule_cell(schedule: dict) -> str:
    if not schedule["stages"]:
        return "every layer whole"
    stages = schedule["stages"]
    text = "; ".join(f"{s['first_step']}-{s['last_step']}/{s['band_rows']}" for s in stages[:4])
    return f"{len(stages)} stages: {text}{'; ...' if len(stages) > 4 else ''}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEFAULT_MODELS, help="FAMILY:RESOLUTION,... (default: every family at "
                    "224, 160, 128, 96)")
    ap.add_argument("--budgets", default="", help="--ram-budget values in bytes, comma-separated (default: the "
                    "smallest reachable, halfway to layer by layer, just below layer by layer)")
    ap.add_argument("--qemu-max", type=int, default=128, help="largest resolution run under QEMU; above, "
                    "instructions are estimated (default: %(default)s)")
    ap.add_argument("--inplace", action="store_true", help="the in-place depthwise table instead (RAM planned, "
                    "simulator checked; QEMU only for layer-by-layer plans with in-place layers)")
    args = ap.parse_args()
    if args.inplace:
        return _inplace_table(args)
    given = [int(b) for b in args.budgets.split(",") if b]
    commit = subprocess.run(["git", "log", "-1", "--format=%s"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()  # the subject: hashes change on rebase
    flags = "".join(f" --{k.replace('_', '-')} {v}" for k, v in (("models", args.models), ("budgets", args.budgets),
                                                                 ("qemu_max", args.qemu_max))
                    if v and v != ap.get_default(k))
    print(f"Measured {datetime.date.today()} at the commit \"{commit}\": `python benchmarks/patches_ram.py{flags}`, "
          f"{TARGET} (QEMU mps2-an500), one seeded image; instructions marked *est.* are estimated (see above).\n")
    print("| network | schedule | tensor RAM | vs layer by layer | layer-by-layer lower bound | TFLM arena (PEERS.md) "
          "| vs TFLM | instructions | extra instructions | extra MACs | bit-exact |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    per_mac: dict[tuple[str, bool], float] = {}  # (family, patched) -> instructions per MAC, largest measured
    specs = sorted((s.split(":")[0], int(s.split(":")[1])) for s in args.models.split(","))
    for family, r in specs:
        t0 = time.time()
        qemu = r <= args.qemu_max
        with tempfile.TemporaryDirectory(prefix="mnv3c-patches-") as tmp_name:
            tmp = Path(tmp_name)
            qg, x_q = _quantized(family, r, tmp)
            macs = totals(qg)["macs"]
            target = TARGET_OF.get(family, TARGET)
            runs = [("layer by layer", _measure(qg, target, x_q, tmp, "layers", None, False, qemu)),
                    ("default", _measure(qg, target, x_q, tmp, "default", None, True, qemu))]
            runs += [(f"--ram-budget {b:,}", _measure(qg, target, x_q, tmp, f"b{b}", b, True, qemu))
                     for b in _budgets(qg, target, given)]
        base = runs[0][1]
        tflm = PEERS_TFLM.get((family, r))
        for name, m in runs:
            if m is None:
                print(f"| {family} {r}x{r} | {name}: no schedule fits | | | | | | | | | |")
                continue
            ram, sched = m["report"]["tensor_ram_bytes"], m["report"]["schedule"]
            patched = bool(sched["stages"])
            work = macs + sched["extra_macs"]
            if m["instructions"] is not None:
                per_mac[(family, patched)] = m["instructions"] / work
                insn, label = m["instructions"], f"{m['instructions']:,}"
            else:
                insn = round(work * per_mac[(family, patched)])
                label = f"{insn:,} *est.*"
            base_insn = base["instructions"] or round(macs * per_mac[(family, False)])
            print(f"| {family} {r}x{r}{'' if target == TARGET else f' ({target})'} | {name}: {_schedule_cell(sched)} | {ram:,} B "
                  f"| {ram / base['report']['tensor_ram_bytes']:.2f}x | {base['report']['arena_lower_bound_bytes']:,} B "
                  f"| {f'{tflm:,} B' if tflm else 'n/a'} | {f'{ram / tflm:.2f}x' if tflm else ''} | {label} "
                  f"| {100.0 * (insn - base_insn) / base_insn:+.2f} % | {sched['extra_macs_percent']:.2f} % "
                  f"| {'yes' if m['bit_exact'] else 'NO'} |", flush=True)
        print(f"patches_ram: {family}:{r}: {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


def _quantized(family: str, r: int, tmp: Path):
    """The benchmark's int8 network and its one quantized image."""
    path = export(family, "legacy17", tmp / f"{family}_{r}.onnx", resolution=r, num_classes=1000, seed=0)
    rng = np.random.default_rng(0)
    q = quantize_model(str(path), None, rng.standard_normal((4, 3, r, r)).astype(np.float32), progress=False)
    return q.qgraph, quantize_input(q.qgraph, rng.standard_normal((1, 3, r, r)).astype(np.float32))


def _inplace_table(args) -> int:
    """Tensor RAM without and with in-place depthwise layers, layer by layer and at the default."""
    commit = subprocess.run(["git", "log", "-1", "--format=%s"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    print(f"Measured {datetime.date.today()} at the commit \"{commit}\": `python benchmarks/patches_ram.py "
          f"--inplace{'' if args.qemu_max == 128 else f' --qemu-max {args.qemu_max}'}`, planned for {TARGET} "
          f"(Cortex-M55 where marked); every plan bit-exact in the simulator.\n")
    print("| network | layer by layer | + in-place depthwise | saved | in-place layers | instructions (QEMU) "
          "| default | default, in-place allowed | saved | smallest reachable (with in-place) |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for family, r in sorted((s.split(":")[0], int(s.split(":")[1])) for s in args.models.split(",")):
        t0 = time.time()
        target = TARGET_OF.get(family, TARGET)
        with tempfile.TemporaryDirectory(prefix="mnv3c-inplace-") as tmp_name:
            qg, x_q = _quantized(family, r, Path(tmp_name))
            p = planner(qg, target)
            ref = simulate(qg, x_q)
            plans = {}
            for key, (inplace, patches) in {"lbl": (False, False), "lbl_ip": (True, False), "def": (False, True),
                                            "def_ip": (True, True)}.items():
                stages = choose_stages(p, None, inplace, patches) if inplace or patches else []
                if not np.array_equal(simulate_patched(qg, x_q, p.schedule, stages), ref):
                    raise SystemExit(f"patches_ram: {family}:{r} {key}: the simulator's run differs")
                plans[key] = (p.plan(stages), stages)
            try:
                choose_stages(p, ALIGNMENT)
            except RamBudgetError as e:
                smallest = e.smallest
            insn = ""
            singles = [st for st in plans["lbl_ip"][1] if len(st.steps) == 1]
            if singles and r <= args.qemu_max:
                runs = [_measure(qg, target, x_q, Path(tmp_name), k, None, False, True, inplace=ip)
                        for k, ip in (("lbl", False), ("lbl_ip", True))]
                if not all(m["bit_exact"] for m in runs):
                    raise SystemExit(f"patches_ram: {family}:{r}: not bit-exact under QEMU")
                a, b = (m["instructions"] for m in runs)
                insn = f"{a:,} -> {b:,} ({100.0 * (b - a) / a:+.2f} %)"
        ram = {k: plan.memory.arena_bytes for k, (plan, _) in plans.items()}
        print(f"| {family} {r}x{r}{'' if target == TARGET else f' ({target})'} | {ram['lbl']:,} B | {ram['lbl_ip']:,} B "
              f"| {ram['lbl'] - ram['lbl_ip']:,} B | {len(singles)} | {insn} | {ram['def']:,} B | {ram['def_ip']:,} B "
              f"| {ram['def'] - ram['def_ip']:,} B | {smallest:,} B |", flush=True)
        print(f"patches_ram: {family}:{r}: {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
