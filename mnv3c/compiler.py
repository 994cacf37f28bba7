"""The compile -> build -> run flow behind `mnv3c compile`, `build`, `run` and `demo`.

Each step is a plain function so the commands, the tests and the benchmarks share one path:
`quantize_model` (ONNX -> canonical float graph -> int8 graph), `write_project` (C into OUTDIR,
atomically, after the memory-fit check), `build_project` (host executable or board ELF, sizes into
report.json) and `run_project` (execute and return the int8 outputs and instruction counts).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mnv3c.arrays import load_images
from mnv3c.boards.esp_idf import write_esp_idf_project
from mnv3c.boards.fit import check_fit, check_stack
from mnv3c.boards.flash import ELF_NAME
from mnv3c.boards.harness import HARNESS_MAIN, parse_outputs, write_input_data
from mnv3c.boards.qemu import run_elf
from mnv3c.boards.registry import Board, get_board, resolve_board
from mnv3c.boards.stack import model_stack_bytes
from mnv3c.boards.toolchain import build as board_build
from mnv3c.boards.toolchain import check_tools, required_tools, size_report
from mnv3c.codegen import host
from mnv3c.codegen.generate import EXAMPLE_DIR, HARNESS_ADAPTER, generate, memory_needs
from mnv3c.codegen.names import DEFAULT_PREFIX
from mnv3c.errors import MnvError
from mnv3c.ir import Graph
from mnv3c.outdir import read_report, staged, write_report
from mnv3c.profile import layer_profile
from mnv3c.quant.evaluate import layer_sqnr, load_float_graph
from mnv3c.progress import stage
from mnv3c.report import HTML_NAME, write_report_html
from mnv3c.quant.mixed import precision_with_rounding_fallback, search_inputs
from mnv3c.quant.quantize import placeholder_int8, quantize_with_float

SYNTHETIC_CALIB_SAMPLES = 32
SQNR_SAMPLES = 16  # calibration samples report.html's per-layer SQNR is measured on
STACK_BYTES = 32 * 1024  # the boards' stack region (mnv3c/boards/c/sections.ld)
CODE_BYTES_ESTIMATE = 64 * 1024  # kernels + schedule + startup, before linking
RUN_TIMEOUT_S = 600.0


@dataclass
class Quantized:
    float_graph: Graph  # canonical float graph: the float reference of `run` and `inspect`
    qgraph: Graph  # the int8 graph the C code implements
    calib_note: str  # where calibration data came from
    reference: Graph  # the float graph qgraph mirrors tensor by tensor (per-layer errors)
    calib: np.ndarray | None  # the calibration samples, None for synthetic or recorded ranges

    def layer_sqnr(self) -> dict[str, float | None] | None:
        """Per-layer SQNR on (at most SQNR_SAMPLES of) the user's calibration data, else None."""
        if self.calib is None:
            return None
        with stage("sqnr", f"per-layer SQNR on {min(len(self.calib), SQNR_SAMPLES)} calibration samples"):
            return layer_sqnr(self.reference, self.qgraph, self.calib[:SQNR_SAMPLES])


def load_model(model: str, input_shape: tuple[int, ...] | None) -> tuple[Graph, dict]:
    """`load_float_graph` as the `import` stage."""
    with stage("import", Path(model).name):
        return load_float_graph(model, input_shape)


def check_memory_fit(graph: Graph, target: str, board: Board, ram_budget: int | None = None) -> None:
    """The board fit of canonical float ``graph``, before calibration: the memory plan and the
    weight bytes do not depend on the quantization ranges (see `placeholder_int8`). A
    ``ram_budget`` no schedule meets fails here too (plan/patch_search.RamBudgetError)."""
    if not board.regions and ram_budget is None:
        return
    with stage("plan", f"memory plan for {board.name}"):
        arena_bytes, weights_bytes = memory_needs(placeholder_int8(graph), target, ram_budget)
        _check_fit(board, arena_bytes, weights_bytes)


def _check_fit(board: Board, arena_bytes: int, weights_bytes: int) -> None:
    # the input, the output and every kernel's scratch are planned inside the arena (plan/), so they add nothing
    check_fit(board, arena_bytes, 0, STACK_BYTES, weights_bytes, CODE_BYTES_ESTIMATE)


def quantize_model(model: str, input_shape: tuple[int, ...] | None, calib: str | np.ndarray | None,
                   progress: bool = True, loaded: tuple[Graph, dict] | None = None,
                   options: Mapping[str, Any] | None = None) -> Quantized:
    """ONNX file -> (canonical float graph, int8 graph); ``calib`` is a --calib path or samples.
    Without either, calibrate on seeded synthetic inputs and say so: fine for checking
    bit-exactness, not for accuracy. ``loaded``: the model's `load_float_graph` result, when the
    caller already has it. ``options``: `quantize` options (the command line's calibration flags)
    and `apply_precision`'s precision/target_sqnr/target_agreement/target_cosine (a mixed search
    that misses its target is retried with adaptive rounding: `precision_with_rounding_fallback`),
    and search_data: the inputs that search measures on (a path or samples; default ``calib``)."""
    graph, recorded = loaded or load_model(model, input_shape)
    shape = tuple(graph.tensors[graph.inputs[0]].shape)
    given = calib is not None and (isinstance(calib, np.ndarray) or bool(calib))
    if isinstance(calib, np.ndarray):
        note = f"calibrated on {len(calib)} samples"
    elif calib:
        calib, note = load_images(calib, "--calib", shape), f"calibrated on {calib}"
    elif recorded:
        calib, note = None, "ranges recorded in the QDQ model"
    else:
        rng = np.random.default_rng(0)
        calib = rng.standard_normal((SYNTHETIC_CALIB_SAMPLES, *shape[1:])).astype(np.float32)
        note = "no --calib: calibrated on synthetic N(0,1) inputs (accuracy not representative)"
        print(f"mnv3c: warning: {note}", file=sys.stderr)
    options = dict(options or {})
    precision = {k: options.pop(k, None)
                 for k in ("precision", "target_sqnr", "target_agreement", "target_cosine", "search_data")}
    search, search_note = search_inputs(precision["search_data"], shape, calib)
    def quantized(**more: Any) -> tuple[Graph, Graph]:
        return quantize_with_float(graph, calib, activation_params=recorded or None, progress=progress,
                                   **{**options, **more})

    reference, qgraph = quantized()
    retry = None if options.get("adaptive_rounding") or calib is None else lambda: quantized(adaptive_rounding=True)
    reference, qgraph, steps = precision_with_rounding_fallback(
        reference, qgraph, search, precision["precision"] or "int8",
        (precision["target_sqnr"], precision["target_agreement"], precision["target_cosine"]), retry, progress,
        model=graph)
    qgraph.meta["quant"]["calibration"] = note
    qgraph.meta["quant"]["mixed_steps"] = steps
    qgraph.meta["quant"]["mixed_search"] = search_note if steps is not None else None
    return Quantized(graph, qgraph, note, reference, calib if given else None)


def write_project(qgraph: Graph, target: str, board: Board, outdir: str | Path, force: bool,
                  inputs_int8: np.ndarray | None = None,
                  sqnr: dict[str, float | None] | None = None, html: bool = True,
                  input_files: Sequence[str | Path | None] = (), name: str = DEFAULT_PREFIX,
                  ram_budget: int | None = None, patches: bool = True, inplace: bool = True) -> dict[str, Any]:
    """Generate the C project into ``outdir`` all at once (`mnv3c.outdir.staged`): a failure or
    an interrupt leaves nothing half-written, and --force never deletes ``input_files``.
    ``sqnr``: each layer's SQNR (`Quantized.layer_sqnr`) for report.json and report.html;
    ``html``: write report.html (`run`, whose OUTDIR is temporary, does not). ``inputs_int8`` (C
    layout) become the example's test vectors; ``name`` is the library's prefix (--name);
    ``ram_budget``/``patches``/``inplace``: the schedule (--ram-budget; patches=False: layer by
    layer, with in-place depthwise layers unless inplace=False too)."""
    with staged(outdir, force, input_files) as staging:
        with stage("codegen", f"{len(qgraph.nodes)} layers for {board.name}"):
            report = generate(qgraph, staging, target, board.name, name, ram_budget, patches, inplace)
        report["stack_bytes"] = model_stack_bytes(board, staging, report["sources"], name) if board.regions else None
        write_report(staging, report)
        check_stack(board, report["stack_bytes"], STACK_BYTES)
        _check_fit(board, report["arena_bytes"], report["weights_bytes"])
        if sqnr is not None:
            for layer in report["layers"]:
                layer["sqnr_db"] = sqnr.get(layer["name"])
            write_report(staging, report)
        if html:
            with stage("report", "report.html"):
                write_report_html(staging, report)
        if inputs_int8 is None:  # one sample of real-valued zeros, so `build` has an image to link
            shape = report["input"]["c_shape"]
            inputs_int8 = np.full((1, *shape[1:]), report["input"]["zero_point"], np.int8)
        write_input_data(staging / EXAMPLE_DIR, inputs_int8, int(np.prod(report["output"]["c_shape"][1:])))
    return report


def build_project(outdir: str | Path) -> tuple[dict[str, Any], Path]:
    """Build OUTDIR for the board in its report.json; add flash/ram bytes to the report.
    ESP boards get an ESP-IDF project in OUTDIR/esp-idf instead (no Xtensa toolchain here)."""
    outdir = Path(outdir)
    report = read_report(outdir)
    board = get_board(report["board"])
    library, example = outdir / report["name"], outdir / EXAMPLE_DIR
    sources = [outdir / s for s in report["sources"]] + [example / HARNESS_ADAPTER]
    embedded = [example / "input_data.c"]  # real boards' test vectors; emulators stream theirs
    if board.arch == "esp-idf":  # built by the user's ESP-IDF; no image here, so no sizes
        headers = sorted(library.glob("*.h")) + [example / "input_data.h"]
        write_esp_idf_project(outdir / "esp-idf", sources + embedded, headers, board.name)
        report["flash_bytes"] = report["ram_bytes"] = None
        write_report(outdir, report)
        _refresh_html(outdir, report)
        return report, outdir / "esp-idf"
    with stage("build", f"{board.name} with {required_tools(board)[0]}"):
        if board.arch == "host":
            image = host.build(outdir)
        else:
            sources += [HARNESS_MAIN, *([] if board.emulated else embedded)]
            image = board_build(board, sources, outdir / ELF_NAME, include_dirs=(library, example)).elf
    report["flash_bytes"], report["ram_bytes"] = size_report(board, image)
    write_report(outdir, report)
    _refresh_html(outdir, report)
    return report, image


@dataclass(frozen=True)
class ProjectRun:
    outputs: np.ndarray  # int8 [N, output bytes], C layout
    instructions: int | None  # first inference; None on the host
    profile: list[dict[str, Any]] | None  # first inference, per layer (mnv3c.profile); None on the host


def run_project(outdir: str | Path, image: Path, x_int8_nhwc: np.ndarray) -> ProjectRun:
    """Run a built project on int8 samples (C layout), streamed to the program so their number is
    not bounded by the board's flash: outputs, instruction count and profile."""
    report = read_report(outdir)
    board = get_board(report["board"])
    out_bytes = int(np.prod(report["output"]["c_shape"][1:]))
    where = "natively" if board.arch == "host" else f"under {board.qemu_binary}"
    with stage("run", f"{len(x_int8_nhwc)} sample(s) on {board.name} {where}"):
        if board.arch == "host":
            return ProjectRun(host.run(image, x_int8_nhwc, out_bytes), None, None)
        stream = np.ascontiguousarray(x_int8_nhwc, np.int8).tobytes()
        result = run_elf(board, image, timeout_s=RUN_TIMEOUT_S, input_bytes=stream,
                         model_run=f"{report['name']}_model_run")
    y = parse_outputs(result.stdout_lines, len(x_int8_nhwc), out_bytes)
    profile = layer_profile(report["layers"], result.marks_per_sample[0], result.instructions,
                            report.get("schedule", {}).get("calls"))
    return ProjectRun(y, result.instructions, profile)


def _refresh_html(outdir: Path, report: dict[str, Any]) -> None:
    """report.html with the linked sizes, where compile wrote one."""
    if (outdir / HTML_NAME).exists():
        with stage("report", "report.html with the image sizes"):
            write_report_html(outdir, report)
