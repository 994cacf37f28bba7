"""Instructions, MAC/instruction and memory of mnv3c's int8 C on every emulated target, beside
the figures of what users would pick instead (../shared/PEERS.md: TFLM + CMSIS-NN, TFLM reference
kernels, onnx2c, all on Cortex-M7 under QEMU mps2-an500).

Models: the bundled MNIST MobileNetV3-Small (first test digit, calibrated on the shipped calib
split) and MobileNetV3-Small 1.0 with 1000 classes at 224x224 and 96x96 (the zoo's seeded init,
legacy ONNX export opset 17, calibrated on 8 seeded N(0,1) images, run on a seeded N(0,1) image).
Each model is quantized once, then for each target compiled, built, run under QEMU and checked
bit-exact against the integer simulator. Instruction counts are exact (QEMU TCG plugin between
markers) and deterministic, so the table is the same on every machine with the same toolchains.

    python benchmarks/targets.py [--quick]      # --quick: cortex-m7 only (the peers' target)
    python benchmarks/targets.py --targets esp8266,riscv32   # a subset of the targets

Prints markdown on stdout (progress on stderr): the per-target table, Cortex-M7 beside PEERS.md, and
per kernel class (from each run's per-layer instruction profile) the share of instructions and MAC/insn
beside TFLM + CMSIS-NN's per-op split.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.errors import MnvError
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.zoo.mnist import load_split

TARGETS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32", "esp8266", "esp32")  # esp32: sim-de233
BUNDLED = Path(__file__).resolve().parent.parent / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
CALIB_SAMPLES = 8

# ../shared/PEERS.md (MobileNetV3-Small 1.0, 1000 classes, legacy ONNX opset 17; Cortex-M7, QEMU 7.2 mps2-an500).
PEER_MACS = {224: 56.5e6, 96: 12.1e6}
PEERS = [  # system, arithmetic, insns {224, 96}, tensor RAM {224, 96}, code+rodata without weights
    ("TFLM + CMSIS-NN", "int8", {224: 336_027_498, 96: 67_127_851}, {224: "570,116 B", 96: "192,260 B"}, "98,784 B"),
    ("TFLM reference kernels", "int8", {224: 940_963_837, 96: 179_755_906}, {224: "570,020 B", 96: "192,164 B"},
     "53,156 B"),
    ("onnx2c", "fp32", {224: 527_904_511, 96: 105_803_343}, {224: "3,060,736 B", 96: "562,176 B"},
     "~12 KB + 10.1 MB fp32 weights"),
]  # fmt: skip


@dataclass
class Row:
    model: str
    target: str
    board: str
    macs: int = 0
    instructions: int | None = None
    arena: int = 0
    weights: int = 0
    flash: int = 0
    ram: int = 0
    bit_exact: bool | None = None
    error: str | None = None  # e.g. "does not fit ..."
    profile: list[dict] | None = None  # per layer (mnv3c.profile), with "op" from the report

    @property
    def code_bytes(self) -> int:
        """Flash without the weights (code, tables, rodata): the QEMU boards stream the input
        (semihost_input.c), so the benchmark's input image is not in flash."""
        return self.flash - self.weights


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def models(work: Path) -> list[tuple[str, Path, np.ndarray, np.ndarray]]:
    """(label, ONNX path, calibration images, one test image) per benchmarked model."""
    import torch

    from mnv3c.zoo.export import export

    torch.set_num_threads(1)  # as tests/conftest.py: 2 torch threads on a busy 2-core machine export ~10x slower
    calib, _ = load_split("calib")
    test, _ = load_split("test")
    out = [("bundled MNIST V3-Small 96x96x1, 10 classes", BUNDLED, calib, test[:1])]
    for res in (224, 96):
        t = time.time()
        path = export("mobilenet_v3_small", "legacy17", work / f"v3_small_{res}.onnx", resolution=res)
        log(f"exported V3-Small {res} in {time.time() - t:.0f} s")
        shape = (3, res, res)
        calib = np.random.default_rng(0).standard_normal((CALIB_SAMPLES, *shape)).astype(np.float32)
        x = np.random.default_rng(1).standard_normal((1, *shape)).astype(np.float32)
        out.append((f"V3-Small 1.0 {res}x{res}, 1000 classes", path, calib, x))
    return out


def bench(label: str, path: Path, calib: np.ndarray, x: np.ndarray, targets: tuple[str, ...], work: Path) -> list[Row]:
    t = time.time()
    q = quantize_model(str(path), None, calib, progress=False)
    x_q = quantize_input(q.qgraph, x)
    sim = simulate(q.qgraph, x_q).reshape(len(x), -1)
    x_c = nchw_to_nhwc(x_q)
    log(f"{label}: quantized in {time.time() - t:.0f} s")
    rows = []
    for target in targets:
        board = resolve_board(target, None, run=True)  # esp32: the emulated board, not ESP-IDF
        row = Row(label, target, board.name)
        outdir = work / f"{path.stem}-{target}"
        t = time.time()
        try:
            report = write_project(q.qgraph, target, board, outdir, force=True, inputs_int8=x_c)
            report, image = build_project(outdir)
        except MnvError as exc:  # the fit check or the link: say so plainly in the table
            row.error = str(exc).split(";")[0]
            log(f"  {target}: {row.error}")
            rows.append(row)
            continue
        ran = run_project(outdir, image, x_c)
        row.instructions = ran.instructions
        ops = {layer["name"]: layer["op"] for layer in report["layers"]}
        row.profile = [{**r, "op": ops.get(r["layer"], "")} for r in ran.profile or []]
        row.bit_exact = bool(np.array_equal(ran.outputs.reshape(sim.shape), sim))
        row.macs, row.arena, row.weights = report["macs"], report["arena_bytes"], report["weights_bytes"]
        row.flash, row.ram = report["flash_bytes"], report["ram_bytes"]
        log(f"  {target}: {row.instructions:,} instructions, bit_exact={row.bit_exact} ({time.time() - t:.0f} s)")
        rows.append(row)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| model | target (QEMU board) | MACs | instructions/inference | MAC/insn | arena | flash (image) "
        "| RAM (image) | code+rodata w/o weights | bit-exact |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in rows:
        if r.error:
            lines.append(f"| {r.model} | {r.target} ({r.board}) | | **{r.error}** | | | | | | |")
            continue
        lines.append(
            f"| {r.model} | {r.target} ({r.board}) | {r.macs:,} | {r.instructions:,} | {r.macs / r.instructions:.3f} "
            f"| {r.arena:,} B | {r.flash:,} B | {r.ram:,} B | {r.code_bytes:,} B | {'yes' if r.bit_exact else 'NO'} |"
        )
    return "\n".join(lines)


# TFLM + CMSIS-NN's per-op split at 224 on Cortex-M7 (../shared/PEERS.md): share of instructions, MAC/insn
PEER_CLASSES = {
    "1x1 conv": "CONV_2D (all convs) 36.2 %, 0.389", "stem conv": "(in CONV_2D)", "depthwise": "19.0 %, 0.117",
    "squeeze-excite": "MEAN 12.1 % + MUL 4.4 %", "dense": "0.9 %", "add": "1.3 %", "pool": "(in MEAN)",
    "activation": "HARD_SWISH 25.9 %", "call overhead": "",
}


def layer_class(row: dict) -> str:
    """The kernel class of a profile row: what PEERS.md's per-op split can be set beside."""
    kernel, op = row["kernel"], row.get("op", "")
    if not kernel:
        return "call overhead"
    if op == "conv2d":
        return "1x1 conv" if kernel.startswith("conv1x1") else "stem conv"
    return {"depthwise_conv2d": "depthwise", "squeeze_excite": "squeeze-excite", "dense": "dense", "add": "add",
            "global_avg_pool": "pool", "avg_pool": "pool", "max_pool": "pool"}.get(op, "activation")


def class_table(rows: list[Row]) -> str:
    """Per target, V3-Small 1000 classes at 224 (96 when 224 is absent): share and MAC/insn per kernel class."""
    picked = [r for r in rows if r.profile and "224x224, 1000" in r.model] or [r for r in rows if r.profile]
    classes = list(PEER_CLASSES)
    head = "| class | " + " | ".join(f"{r.target} share | MAC/insn" for r in picked) + " | TFLM+CMSIS-NN M7 224 |"
    lines = [head, "|---|" + "--:|--:|" * len(picked) + "---|"]
    for cls in classes:
        cells = []
        for r in picked:
            mine = [p for p in r.profile if layer_class(p) == cls]
            insns, macs = sum(p["instructions"] for p in mine), sum(p["macs"] for p in mine)
            cells.append(f"{100 * insns / r.instructions:.1f} %" if insns else "-")
            cells.append(f"{macs / insns:.3f}" if macs and insns else "-")
        lines.append(f"| {cls} | {' | '.join(cells)} | {PEER_CLASSES[cls]} |")
    return f"model: {picked[0].model if picked else 'n/a'}\n\n" + "\n".join(lines)


def peers_table(rows: list[Row]) -> str:
    """mnv3c on Cortex-M7 beside PEERS.md, V3-Small 1000 classes at 224 and 96."""
    m7 = {res: next((r for r in rows if r.target == "cortex-m7" and f"{res}x{res}, 1000" in r.model), None)
          for res in (224, 96)}  # fmt: skip
    lines = [
        "| system (Cortex-M7, mps2-an500) | arithmetic | insns/inference 224 | 96 | MAC/insn 224 | 96 "
        "| tensor RAM 224 | 96 | code+rodata w/o weights | vs TFLM+CMSIS-NN 224 | 96 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    cmsis = PEERS[0][2]

    def cells(insns: dict, macs: dict) -> list[str]:
        c = [f"{insns[res]:,}" if insns.get(res) else "n/a" for res in (224, 96)]
        c += [f"{macs[res] / insns[res]:.3f}" if insns.get(res) else "n/a" for res in (224, 96)]
        return c

    def speedup(insns: dict) -> list[str]:
        return [f"{cmsis[res] / insns[res]:.2f}x" if insns.get(res) else "n/a" for res in (224, 96)]

    ours = {res: r.instructions for res, r in m7.items() if r and r.instructions}
    our_macs = {res: r.macs for res, r in m7.items() if r and r.instructions}
    arena = [f"{m7[res].arena:,} B arena" if m7[res] and not m7[res].error else "n/a" for res in (224, 96)]
    code = f"{m7[224].code_bytes:,} B" if m7[224] and not m7[224].error else "n/a"
    lines.append(f"| **mnv3c** | int8 | {' | '.join(cells(ours, our_macs))} | {' | '.join(arena)} | {code} "
                 f"| {' | '.join(speedup(ours))} |")
    for name, arith, insns, ram, peer_code in PEERS:
        lines.append(f"| {name} | {arith} | {' | '.join(cells(insns, PEER_MACS))} | {ram[224]} | {ram[96]} "
                     f"| {peer_code} | {' | '.join(speedup(insns))} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="cortex-m7 only")
    ap.add_argument("--targets", help=f"comma-separated subset of {','.join(TARGETS)}")
    args = ap.parse_args()
    targets = ("cortex-m7",) if args.quick else tuple(args.targets.split(",")) if args.targets else TARGETS
    if not set(targets) <= set(TARGETS):
        ap.error(f"--targets: unknown target(s) {', '.join(sorted(set(targets) - set(TARGETS)))}")
    started = time.time()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="mnv3c-bench-") as tmp:
        work = Path(tmp)
        for label, path, calib, x in models(work):
            rows += bench(label, path, calib, x, targets, work)
    command = "python benchmarks/targets.py" + (" --quick" if args.quick else "") + (
        f" --targets {args.targets}" if args.targets else "")
    print(f"<!-- {command}, {datetime.date.today().isoformat()}, {time.time() - started:.0f} s -->")
    print("### mnv3c per target\n")
    print(table(rows))
    print("\n### Cortex-M7: mnv3c beside the alternatives (../shared/PEERS.md)\n")
    print(peers_table(rows))
    print("\n### Where the instructions go, per kernel class (`mnv3c run --profile`)\n")
    print(class_table(rows))
    return 0 if all(r.bit_exact or r.error for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
