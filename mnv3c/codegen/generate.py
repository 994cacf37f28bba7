"""C code generation: a quantized graph and its plan rendered through the Jinja templates.

`generate` writes OUTDIR as a drop-in library plus an example beside it:

    OUTDIR/NAME/       the model only: NAME_model.h/.c, NAME_weights.h/.c, NAME_arena.c, the kernels
                       it calls, CMakeLists.txt (static library NAME_model; an ESP-IDF component under
                       ESP-IDF), NAME.mk, NAME_sections.ld, zephyr/ (a Zephyr module),
                       library.properties (Arduino)
    OUTDIR/example/    host main.c, the board harness adapter, Makefile and CMakeLists.txt (test
                       vectors join it in compiler.write_project)
    OUTDIR/README.md   the integration in three lines;  OUTDIR/report.json

The library is written in the mnv3c namespace and renamed as a whole to the --name prefix
(names.prefixed). Everything written is a function of the graph and the name alone: names are
handed out in schedule order, floats are printed in shortest round-trip form and nothing records
time or paths, so compiling the same model twice gives byte-identical files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from mnv3c import __version__, strict_json
from mnv3c.analysis import layer_stats, totals
from mnv3c.boards.registry import default_board
from mnv3c.codegen.cformat import comment_text, float_literal, float_text, signed_macro
from mnv3c.codegen.layers import Fields, LayerCode, layer_code
from mnv3c.codegen.names import DEFAULT_PREFIX, CNames, check_prefix, prefixed
from mnv3c.codegen.stages import BandParams, band_fields, geometry_key, render, stage_calls
from mnv3c.errors import MnvError, UnsupportedModelError
from mnv3c.ir.graph import Graph
from mnv3c.plan.kernels import Kernel
from mnv3c.plan.model_plan import ModelPlan, plan_model, sample_bytes
from mnv3c.plan.patches import BandLayer, Stage, extra_macs, row_bytes
from mnv3c.quant.quantize import quant_report
from mnv3c.plan.schedule import Step

RUNTIME_C = Path(__file__).resolve().parent.parent / "runtime_c"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTIONS_LD = Path(__file__).resolve().parent.parent / "boards" / "c" / "mnv3c_sections.ld"
RUNTIME_HEADERS = ("mnv3c_kernels.h", "mnv3c_requant.h", "mnv3c_kernels_s16.h", "mnv3c_requant_s16.h")
MODEL_SOURCES = ("mnv3c_model.c", "mnv3c_weights.c", "mnv3c_arena.c")
EXAMPLE_DIR = "example"
HOST_MAIN = "main.c"  # in EXAMPLE_DIR
HARNESS_ADAPTER = "mnv3c_harness.c"  # in EXAMPLE_DIR: mnv3c_harness_run() for the boards' harness
_WRAP = 100


@dataclass
class _Layer:
    """What the templates need to print one step."""

    index: int
    title: str  # node name and op, comment-safe
    kernel: str  # C function
    params_type: str
    params: str  # C name of the params struct
    initializer: str
    comment: list[str]
    args: list[str]  # input pointers, the output pointer, the scratch pointer
    scratch_macro: str  # name of the scratch offset macro, "" when the kernel needs none
    scratch_offset: int
    scratch_bytes: int
    code: LayerCode
    band_params: list[BandParams] = field(default_factory=list)  # in a patched stage: one per band geometry

    @property
    def params_names(self) -> list[str]:
        return [b.name for b in self.band_params] or [self.params]

    @property
    def call(self) -> str:
        """The kernel call statement, one argument per line when it does not fit on one."""
        args = [f"&{self.params}", *self.args]
        one_line = f"    {self.kernel}({', '.join(args)});"
        if len(one_line) <= _WRAP:
            return one_line
        pad = " " * (5 + len(self.kernel))
        return f"    {self.kernel}(" + f",\n{pad}".join(args) + ");"


@dataclass
class _Buffer:
    macro: str
    offset: int
    comment: str


def generate(qgraph: Graph, outdir: str | Path, target: str = "host", board: str | None = None,
             name: str = DEFAULT_PREFIX, ram_budget: int | None = None, patches: bool = True,
             inplace: bool = True) -> dict[str, Any]:
    """Write the library and example for ``qgraph`` into ``outdir``; return the report (also
    outdir/report.json). ``name`` prefixes every exported symbol, macro and file of the library;
    ``ram_budget``/``patches``/``inplace``: the schedule's search (plan_model)."""
    check_name(name)
    outdir = Path(outdir)
    lib = outdir / name
    plan = plan_model(qgraph, target, ram_budget, patches, inplace)
    names = CNames(final=lambda ident: prefixed(ident, name))
    names.reserve(*_runtime_identifiers())
    buffers = _buffers(qgraph, plan, names)
    layers = [_layer(qgraph, plan, s, names, buffers) for s in plan.schedule.steps]
    body, calls = _body(qgraph, plan, layers, buffers)
    runtime_files = sorted({src for k in plan.kernels for src in (*k.sources, *k.headers)})
    kernel_sources = sorted({Path(src).name for k in plan.kernels for src in k.sources})
    kernel_headers = sorted({Path(h).name for k in plan.kernels for h in k.headers})
    arrays = [a for layer in layers for a in layer.code.arrays]
    context = {
        "version": __version__,
        "model": comment_text(qgraph.name),
        "plan": plan.memory,
        "layers": layers,
        "body": body,
        "band_loops": any(item["kind"] == "stage" and "for (band" in item["code"] for item in body),
        "buffers": list(buffers.values()),
        "arrays": arrays,
        "io": _io(qgraph, plan),
        "int16": any(t.dtype == "int16" for t in qgraph.tensors.values()),
        "weights_bytes": sum(a.nbytes for a in arrays),
        "kernel_headers": kernel_headers,
        "library_sources": [*MODEL_SOURCES, *kernel_sources],
        "name": name,
        "NAME": name.upper(),
        "library_dir": name,
        "host_main": HOST_MAIN,
        "example_exe": f"{name}_example",
        "softmax": qgraph.meta.get("quant", {}).get("softmax"),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    for template in sorted((TEMPLATES / "library").rglob("*.j2")):
        relative = template.relative_to(TEMPLATES / "library").with_suffix("").as_posix()  # zephyr/Kconfig, ...
        text = env.get_template(f"library/{relative}.j2").render(context)
        _write(lib / prefixed(relative, name), prefixed(text, name))
    # the variants' files from runtime_c/<variant>/ are flattened into the library folder
    copies = [(RUNTIME_C / f, Path(f).name) for f in (*RUNTIME_HEADERS, *runtime_files)]
    copies.append((SECTIONS_LD, SECTIONS_LD.name))
    for source, relative in copies:
        _write(lib / prefixed(relative, name), prefixed(source.read_text(), name))
    for template in sorted((TEMPLATES / "example").glob("*.j2")):
        _write(outdir / EXAMPLE_DIR / template.stem, env.get_template(f"example/{template.name}").render(context))
    _write(outdir / "README.md", env.get_template("README.md.j2").render(context))
    report = _report(qgraph, plan, target, board or default_board(target).name,
                     [sum(a.nbytes for a in layer.code.arrays) for layer in layers],
                     [f"{name}/{prefixed(s, name)}" for s in context["library_sources"]])
    report["name"] = name
    report["softmax"] = context["softmax"]
    report["schedule"] = _schedule_report(qgraph, plan, calls)
    _write(outdir / "report.json", strict_json.dumps(report, indent=2) + "\n")
    return report


def memory_needs(qgraph: Graph, target: str = "host", ram_budget: int | None = None,
                 patches: bool = True) -> tuple[int, int]:
    """(arena bytes, weight bytes) the C code for ``qgraph`` will have, as `generate` reports them,
    without writing anything: the plan and the arrays, not the text."""
    plan = plan_model(qgraph, target, ram_budget, patches)
    names = CNames()
    names.reserve(*_runtime_identifiers())
    arrays = [a for s in plan.schedule.steps
              for a in layer_code(plan.kernels[s.index].params_type, qgraph.node(s.node), qgraph, names,
                                  plan.kernels[s.index].layout, plan.kernels[s.index].out_stage).arrays]
    return plan.memory.arena_bytes, sum(a.nbytes for a in arrays)


def check_name(name: str) -> str:
    """``name`` if it can be the library's prefix and folder (--name); MnvError otherwise."""
    check_prefix(name)
    if name.lower() == EXAMPLE_DIR:
        raise MnvError(f"--name {name!r} would put the library in the example folder; pick another name")
    return name


def _runtime_identifiers() -> set[str]:
    """Every mnv3c_* name the runtime and the fixed templates define, so layers cannot shadow them."""
    texts = [p.read_text() for p in sorted(RUNTIME_C.rglob("*")) if p.suffix in (".c", ".h")]
    texts += [p.read_text() for p in sorted(TEMPLATES.rglob("*.j2"))]
    return {m for t in texts for m in re.findall(r"\bmnv3c_\w+", t)}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="ascii", newline="\n")


# --- storage -------------------------------------------------------------------------------------
def _buffers(g: Graph, plan: ModelPlan, names: CNames) -> dict[str, _Buffer]:
    """One offset macro per arena root, in schedule order; a patched stage's intermediate holds one band."""
    spans = plan.schedule.lifetimes()
    planned = {b.name: b for b in plan.buffers}
    out: dict[str, _Buffer] = {}
    for root, _ in sorted(spans.items(), key=lambda kv: (kv[1], kv[0])):
        t, b = g.tensors[root], planned[root]
        whole = sample_bytes(g, root)
        size = f"{whole} bytes" if b.size == whole else f"one band: {b.size} of {whole} bytes"
        out[root] = _Buffer(
            names(f"OFFSET_{root}"),
            plan.memory.offsets[root],
            comment_text(f"{root}: {_shape_text(t.shape)}, {size}, steps {b.first_step}..{b.last_step}"),
        )
    return out


def _pointer(g: Graph, plan: ModelPlan, tensor: str, buffers: dict[str, _Buffer]) -> str:
    """The C expression of a tensor's storage: an int16 tensor (mixed precision) is cast from the
    arena, whose buffers are 16-byte aligned."""
    where = f"arena8 + {buffers[plan.schedule.root[tensor]].macro}"
    return f"(int16_t *)(void *)({where})" if g.tensors[tensor].dtype == "int16" else where


# --- layers --------------------------------------------------------------------------------------
def _layer(g: Graph, plan: ModelPlan, step: Step, names: CNames, buffers: dict[str, _Buffer]) -> _Layer:
    node = g.node(step.node)
    kernel = plan.kernels[step.index]
    code = layer_code(kernel.params_type, node, g, names, kernel.layout, kernel.out_stage)
    scratch_macro = names(f"SCRATCH_{node.name}") if step.index in plan.scratch else ""
    scratch = f"arena8 + {scratch_macro}" if scratch_macro else "NULL"
    stage = plan.stage_of(step.index)
    band_params: list[BandParams] = []
    if stage is not None:
        position = stage.steps.index(step.index)
        _, c, _, w = (int(d) for d in g.tensors[step.output].shape)
        seen: dict[tuple, BandLayer] = {}
        for band in stage.bands:
            if band[position].computes:
                seen.setdefault(geometry_key(band[position]), band[position])
        for k, (key, layer) in enumerate(seen.items()):
            band_params.append(BandParams(
                key, names(f"{node.name}_band{k}_params"), _initializer(band_fields(code.fields, layer, c * w), "    "),
                comment_text(f"bands of {key[1]} output rows from {key[0]} input rows, "
                             f"padding {key[2]} top, {key[3]} bottom")))
    return _Layer(
        index=step.index,
        title=comment_text(f"{node.name}: {node.op}"),
        kernel=kernel.function,
        params_type=kernel.params_type,
        params=names(f"{node.name}_params"),
        initializer=_initializer(code.fields, "    "),
        comment=_describe(g, plan, step, kernel.name, code),
        args=[*_input_args(g, plan, step, kernel, buffers), _pointer(g, plan, step.output, buffers), scratch],
        scratch_macro=scratch_macro,
        scratch_offset=plan.memory.scratch_offsets.get(step.index, 0),
        scratch_bytes=plan.scratch.get(step.index, 0),
        code=code,
        band_params=band_params,
    )


def _body(g: Graph, plan: ModelPlan, layers: list[_Layer], buffers: dict[str, _Buffer]
          ) -> tuple[list[dict[str, Any]], list[int]]:
    """mnv3c_model_run's statements: a layer's call, or a patched stage's band calls; and the
    layer index of every kernel call in execution order (the profile's marks follow it)."""
    body: list[dict[str, Any]] = []
    calls: list[int] = []
    for layer in layers:
        stage = plan.stage_of(layer.index)
        if stage is None:
            body.append({"kind": "layer", "layer": layer})
            calls.append(layer.index)
        elif layer.index == stage.first:
            body.append({"kind": "stage", "code": _stage_code(g, plan, stage, layers, buffers)})
            calls += [bl.step for band in stage.bands for bl in band if bl.computes]
    return body, calls


def _stage_code(g: Graph, plan: ModelPlan, stage: Stage, layers: list[_Layer], buffers: dict[str, _Buffer]) -> str:
    sched = plan.schedule
    steps = [sched.steps[i] for i in stage.steps]
    mine = [layers[i] for i in stage.steps]
    params = [{b.key: b.name for b in lay.band_params} for lay in mine]
    x, y = steps[0].inputs[0], steps[-1].output
    per_band = stage_calls(
        stage, [lay.kernel for lay in mine], params, _pointer(g, plan, x, buffers), _pointer(g, plan, y, buffers),
        [_pointer(g, plan, s.output, buffers) for s in steps[:-1]], [row_bytes(g, s.output) for s in steps],
        row_bytes(g, x), row_bytes(g, y), [lay.args[-1] for lay in mine])
    return render(stage, plan.stages.index(stage), per_band, [f"[{s.index}] {s.op}" for s in steps])


def _input_args(g: Graph, plan: ModelPlan, step: Step, kernel: Kernel, buffers: dict[str, _Buffer]) -> list[str]:
    """One pointer per input, or for an ``input_array`` kernel one C99 compound literal array of them."""
    pointers = [_pointer(g, plan, t, buffers) for t in step.inputs]
    ctype = "int16_t" if g.tensors[step.inputs[0]].dtype == "int16" else "int8_t"  # concat_s16 or concat_s8
    return [f"(const {ctype} *const[]){{{', '.join(pointers)}}}"] if kernel.input_array else pointers


def _initializer(fields: Fields, indent: str) -> str:
    """Designated initializer lines: scalars packed up to the wrap width, nested structs indented."""
    lines: list[str] = []
    current = ""
    for name, value in fields:
        if isinstance(value, list):
            if current:
                lines.append(current)
                current = ""
            lines.append(f"{indent}.{name} = {{")
            lines.append(_initializer(value, indent + "    "))
            lines.append(f"{indent}}},")
            continue
        item = f".{name} = {value},"
        if current and len(current) + 1 + len(item) > _WRAP:
            lines.append(current)
            current = ""
        current = f"{current} {item}" if current else f"{indent}{item}"
    if current:
        lines.append(current)
    return "\n".join(lines)


def _describe(g: Graph, plan: ModelPlan, step: Step, kernel: str, code: LayerCode) -> list[str]:
    """The comment above a layer: name, op and attributes, fused ops, tensors with quantization."""
    node = g.node(step.node)
    a = node.attrs
    op = node.op
    if op in ("conv2d", "depthwise_conv2d", "avg_pool", "max_pool"):
        kh, kw = a.get("kernel") or g.tensors[node.inputs[1]].shape[2:]
        sh, sw = a.get("strides") or (1, 1)
        op += f" {kh}x{kw} stride {sh}x{sw} pads {tuple(int(p) for p in (a.get('pads') or (0, 0, 0, 0)))}"
    lines = [f"[{step.index}] {node.name}", f"{op} -> {kernel}"]
    if node.fused:
        lines.append("fused: " + ", ".join(node.fused))
    for label, t in [*(("in", i) for i in step.inputs), ("out", step.output)]:
        lines.append(f"{label:<4}{_tensor_text(g, t)}{_where(plan, t)}")
    if "pre_act_scale" in a:
        lines.append(f"pre-activation s={float_text(a['pre_act_scale'])} zp={int(a['pre_act_zero_point'])}, "
                     f"then {a.get('act', op)} table")
    lines += code.notes
    if plan.scratch.get(step.index):
        lines.append(f"scratch {plan.scratch[step.index]} bytes at arena +{plan.memory.scratch_offsets[step.index]}")
    stage = plan.stage_of(step.index)
    if stage is not None:
        lines.append(f"patched stage {plan.stages.index(stage)}: called once per band of {len(stage.bands)}, "
                     f"with the params of the band's rows below")
    return [comment_text(line) for line in lines]


def _tensor_text(g: Graph, name: str) -> str:
    t = g.tensors[name]
    q = t.quant
    quant = f" s={float_text(float(q.scale))} zp={int(q.zero_point)}" if q is not None else ""
    return f"{name} {_shape_text(t.shape)} {t.dtype}{quant}"


def _where(plan: ModelPlan, tensor: str) -> str:
    sched = plan.schedule
    role = {sched.root[sched.graph_input]: ", model input", sched.root[sched.graph_output]: ", model output"}
    return f" (arena +{plan.offset(tensor)}{role.get(sched.root[tensor], '')})"


def _shape_text(shape: tuple[int, ...]) -> str:
    """The per-sample shape as the C code stores it: HxWxC for images, [K] for vectors."""
    dims = [int(d) for d in shape[1:]]
    if len(dims) == 3:
        c, h, w = dims
        return f"{h}x{w}x{c}"
    return "x".join(str(d) for d in dims) or "1"


# --- interface and report ------------------------------------------------------------------------
def _io(g: Graph, plan: ModelPlan) -> dict[str, Any]:
    x, y = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    if len(x.shape) != 4:
        raise UnsupportedModelError(f"the model input must be an NCHW image, got shape {list(x.shape)}")
    _, c, h, w = (int(d) for d in x.shape)
    return {
        "input_size": sample_bytes(g, x.name),
        "input_offset": plan.offset(x.name),
        "output_offset": plan.offset(y.name),
        "input_h": h, "input_w": w, "input_c": c,
        "input_scale": float_literal(float(x.quant.scale)),
        "input_zero_point": signed_macro(int(x.quant.zero_point)),
        "output_size": sample_bytes(g, y.name),
        "output_shape": _shape_text(y.shape),
        "output_scale": float_literal(float(y.quant.scale)),
        "output_zero_point": signed_macro(int(y.quant.zero_point)),
    }


def _report(g: Graph, plan: ModelPlan, target: str, board: str, layer_weights: list[int],
            sources: list[str]) -> dict[str, Any]:
    """report.json: SPEC's fields, and what report.html draws (shapes, weight bytes, buffer lifetimes)."""
    stats = {r["name"]: r for r in layer_stats(g)}
    layers = []
    for s, k, weights in zip(plan.schedule.steps, plan.kernels, layer_weights):
        root = plan.schedule.root[s.output]
        layers.append({
            "name": s.node,
            "op": s.op,
            "kernel": k.name,
            "fused": list(g.node(s.node).fused),
            "macs": stats[s.node]["macs"],
            "params": stats[s.node]["params"],
            "arena_offset": plan.memory.offsets.get(root),
            "out_bytes": sample_bytes(g, s.output),
            "scratch_bytes": plan.scratch.get(s.index, 0),
            "input_shapes": [[int(d) for d in g.tensors[t].shape] for t in s.inputs],
            "output_shape": [int(d) for d in g.tensors[s.output].shape],
            "weight_bytes": weights,
            "precision": g.tensors[s.output].dtype,
        })
    return {
        "model": g.name,
        "target": target,
        "board": board,
        "arena_bytes": plan.memory.arena_bytes,
        "arena_lower_bound_bytes": plan.memory.lower_bound_bytes,
        # the input, output, activations and kernel scratch all live in the arena (plan/schedule.py)
        "tensor_ram_bytes": plan.memory.arena_bytes,
        "weights_bytes": sum(layer_weights),
        **totals(g),
        "input": _io_report(g, plan, g.inputs[0]),
        "output": _io_report(g, plan, g.outputs[0]),
        "layers": layers,
        "quantization": quant_report(g),
        "memory_plan_order": plan.memory.order,
        "memory_timeline": _timeline(g, plan),
        "sources": sources,  # the library's C files, relative to OUTDIR
    }


def _schedule_report(g: Graph, plan: ModelPlan, calls: list[int]) -> dict[str, Any]:
    """report.json "schedule": the patched stages, the RAM they save and the MACs they add."""
    macs = {r["name"]: int(r["macs"]) for r in layer_stats(g)}
    total = max(sum(macs.values()), 1)
    stages = []
    for st in plan.stages:
        extra = extra_macs(g, plan.schedule, st, macs)
        stages.append({"layers": [plan.schedule.steps[i].node for i in st.steps], "first_step": st.first,
                       "last_step": st.last, "band_rows": st.band_rows, "bands": len(st.bands),
                       "output_over_input": st.shares_input, "extra_macs": extra,
                       "halo": "kept" if st.slides else "recomputed", "moved_bytes": st.moved_bytes(g, plan.schedule)})
    extra = sum(s["extra_macs"] for s in stages)
    return {
        "kind": "patched" if stages else "layer_by_layer",
        "stages": stages,
        "tensor_ram_bytes": plan.memory.arena_bytes,
        "layer_by_layer_tensor_ram_bytes": plan.layer_by_layer_bytes,
        "extra_macs": extra,
        "extra_macs_percent": round(100.0 * extra / total, 3),
        "calls": calls,  # the layer index of each kernel call of one inference, in order
    }


def _timeline(g: Graph, plan: ModelPlan) -> list[dict[str, Any]]:
    """Every arena block: a buffer (the steps it lives across; `over`: the buffer whose bytes it may
    share while both live, an in-place output or a patched stage's output over its input) or a
    step's kernel scratch."""
    spans = plan.schedule.lifetimes()
    planned = {b.name: b for b in plan.buffers}
    blocks = [{"name": root, "kind": "buffer", "offset": plan.memory.offsets[root], "bytes": planned[root].size,
               "first_step": planned[root].first_step, "last_step": planned[root].last_step,
               "over": planned[root].inplace_with}
              for root, _ in sorted(spans.items(), key=lambda kv: (kv[1], kv[0]))]
    blocks += [{"name": f"{plan.schedule.steps[step].node} scratch", "kind": "scratch",
                "offset": plan.memory.scratch_offsets[step], "bytes": size, "first_step": step, "last_step": step,
                "over": None}
               for step, size in sorted(plan.scratch.items())]
    return blocks


def _io_report(g: Graph, plan: ModelPlan, name: str) -> dict[str, Any]:
    t = g.tensors[name]
    return {
        "name": name,
        "arena_offset": plan.offset(name),
        "shape": [int(d) for d in t.shape],
        "c_shape": [int(t.shape[i]) for i in ((0, 2, 3, 1) if len(t.shape) == 4 else range(len(t.shape)))],
        "scale": float(np.float32(t.quant.scale)),
        "zero_point": int(t.quant.zero_point),
    }
