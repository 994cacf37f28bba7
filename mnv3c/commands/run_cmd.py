"""`mnv3c run`: compile, build and run on the target; compare every output byte with the
integer simulator. A mismatch still prints the result, then exits 1."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mnv3c.arrays import load_images, parse_input_shape
from mnv3c.commands.common import input_shape_of, precision_options, quant_options, schedule_text
from mnv3c.codegen.generate import check_name
from mnv3c.compiler import (build_project, check_memory_fit, check_tools, load_model, quantize_model, resolve_board,
                            run_project, write_project)
from mnv3c.codegen.host import c_to_graph_layout, nchw_to_nhwc
from mnv3c.codegen.names import DEFAULT_PREFIX
from mnv3c.errors import CheckFailed, MnvError
from mnv3c.profile import profile_table
from mnv3c.plan.patches import make_stage
from mnv3c.plan.schedule import schedule
from mnv3c.quant.simulate import host_output, quantize_input, simulate
from mnv3c.quant.simulate_patched import simulate_patched
from mnv3c.reference.float_exec import run_float


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    result = run_model(args.model, args.target, args.board, args.calib, args.input, args.input_shape,
                       quant_options(args) | precision_options(args) | {"softmax": not args.no_softmax}, args.name,
                       args.ram_budget)
    human = _human(result)
    if args.profile:  # for people, beside whatever goes to stdout (the JSON always has it)
        print(profile_table(result["profile"]) if result["profile"] else "no instruction profile on the host",
              file=sys.stderr)
    if not result["bit_exact"]:
        raise CheckFailed(f"device output differs from the integer simulator on {args.target}", result, human)
    if not result["patched_sim_matches"]:
        raise CheckFailed("the integer simulator's patched schedule differs from its layer-by-layer run", result, human)
    return result, human


def run_model(model: str, target: str, board_name: str | None, calib: str | np.ndarray | None,
              inputs: str | np.ndarray | None, input_shape: str | None,
              options: dict[str, Any] | None = None, name: str = DEFAULT_PREFIX,
              ram_budget: int | None = None) -> dict[str, Any]:
    """Everything `mnv3c run` reports (SPEC's run JSON); ``calib``/``inputs`` are paths or samples,
    ``options`` the `quantize` options (``softmax=False``: the device model ends at the logits),
    ``name`` the generated library's prefix, ``ram_budget`` the schedule's (--ram-budget)."""
    board = resolve_board(target, board_name, run=True)
    check_name(name)
    if board.hardware:  # said before the slow part: nothing here can run a real board
        raise MnvError(f"{board.name} is real hardware and cannot be run here; use `mnv3c compile` + `mnv3c build`, "
                       f"then `mnv3c flash`, or run on an emulated board")
    check_tools(board)
    loaded = load_model(model, parse_input_shape(input_shape))
    shape = input_shape_of(loaded[0])
    input_file = inputs if isinstance(inputs, str) else None
    if isinstance(inputs, np.ndarray):
        x = inputs.astype(np.float32)
    elif inputs:  # checked before the slow quantization, so a bad --input fails at once
        x = load_images(inputs, "--input", shape)
    else:  # a seeded input, so `run` without data still proves bit-exactness
        x = np.random.default_rng(1).standard_normal((1, *shape[1:])).astype(np.float32)
    check_memory_fit(loaded[0], target, board, ram_budget)
    q = quantize_model(model, None, calib, loaded=loaded, options=options)
    x_q = quantize_input(q.qgraph, x)
    sim = simulate(q.qgraph, x_q).reshape(len(x), -1)
    float_out = run_float(q.float_graph, {q.float_graph.inputs[0]: x}, finite="input")[q.float_graph.outputs[0]]
    with tempfile.TemporaryDirectory(prefix="mnv3c-run-") as tmp:
        outdir = Path(tmp) / "out"
        x_c = nchw_to_nhwc(x_q)
        # the samples are streamed at run time; the example keeps the first as its test vector
        write_project(q.qgraph, target, board, outdir, force=False, inputs_int8=x_c[:1], html=False, name=name,
                      ram_budget=ram_budget)
        report, image = build_project(outdir)
        ran = run_project(outdir, image, x_c)
    device = c_to_graph_layout(ran.outputs, report["output"]["c_shape"]).reshape(len(ran.outputs), -1)
    sched = schedule(q.qgraph)  # the integer simulator runs the C's patched schedule too
    stages = [make_stage(q.qgraph, sched, tuple(range(st["first_step"], st["last_step"] + 1)), st["band_rows"])
              for st in report["schedule"]["stages"]]
    patched = simulate_patched(q.qgraph, x_q, sched, stages).reshape(len(x), -1)
    return {
        "target": target,
        "board": board.name,
        "input_file": input_file,
        "samples": int(len(x)),
        "output": host_output(q.qgraph, device.reshape(sim.shape)).reshape(len(x), -1).astype(float).tolist(),
        "output_int8": device.astype(int).tolist(),
        "sim_output_int8": sim.astype(int).tolist(),
        "float_output": float_out.reshape(len(x), -1).astype(float).tolist(),
        "bit_exact": bool(np.array_equal(device, sim)),
        "patched_sim_matches": bool(np.array_equal(patched, sim)),  # the patched schedule in the simulator
        "instructions": ran.instructions,
        "profile": ran.profile,
        "arena_bytes": report["arena_bytes"],
        "tensor_ram_bytes": report["tensor_ram_bytes"],
        "schedule": report["schedule"],
        "flash_bytes": report["flash_bytes"],
        "ram_bytes": report["ram_bytes"],
        "macs": report["macs"],
        "calibration": q.calib_note,
        "softmax": report["softmax"],
    }


def _human(r: dict[str, Any]) -> str:
    lines = []
    for i, (dev, ref) in enumerate(zip(r["output"], r["float_output"])):
        lines.append(f"sample {i}: device argmax {int(np.argmax(dev))}, float argmax {int(np.argmax(ref))}")
    insn = "n/a on host" if r["instructions"] is None else f"{r['instructions']:,} instructions/inference"
    if r["instructions"]:
        insn += f" ({r['macs'] / r['instructions']:.3f} MAC/insn)"
    lines.append(f"{r['target']} ({r['board']}): bit_exact={r['bit_exact']}, {insn}, arena {r['arena_bytes']:,} B, "
                 f"flash {r['flash_bytes']:,} B, RAM {r['ram_bytes']:,} B")
    lines.append(schedule_text(r["schedule"]))
    return "\n".join(lines)
