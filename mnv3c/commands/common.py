"""Steps shared by several commands: load and optimize a model, its input shape."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from mnv3c.arrays import parse_input_shape
from mnv3c.errors import MnvError
from mnv3c.ir import Graph
from mnv3c.quant.evaluate import load_float_graph


def load_optimized(model: str, input_shape: str | None,
                   trace: Callable[[str, Graph], None] | None = None) -> Graph:
    """ONNX file -> canonical, fused float graph (QDQ models: with their dequantized weights)."""
    return load_float_graph(model, parse_input_shape(input_shape), trace=trace)[0]


def input_shape_of(graph: Graph) -> tuple[int, ...]:
    return tuple(graph.tensors[graph.inputs[0]].shape)


def quant_options(args: argparse.Namespace) -> dict[str, Any]:
    """The --calib-method/--percentile/--no-equalize/--no-bias-correction/--adaptive-rounding flags as
    `quantize` options (None keeps quantize's default: on unless the model records its own ranges)."""
    return {
        "method": args.calib_method,
        "percentile": args.percentile,
        "equalize": False if args.no_equalize else None,
        "bias_correction": False if args.no_bias_correction else None,
        "adaptive_rounding": args.adaptive_rounding,
    }


def precision_options(args: argparse.Namespace) -> dict[str, Any]:
    """--precision and its --target-sqnr/--target-agreement/--target-cosine/--search-data
    (`mnv3c.quant.mixed.apply_precision`; the search data stays a path until the model's shape is known)."""
    targets = {"target_sqnr": args.target_sqnr, "target_agreement": args.target_agreement,
               "target_cosine": args.target_cosine}
    if args.precision != "mixed" and (any(v is not None for v in targets.values()) or args.search_data):
        raise MnvError(f"{args.command}: --target-sqnr/--target-agreement/--target-cosine/--search-data need "
                       "--precision mixed")
    return {"precision": args.precision, **targets, "search_data": args.search_data}


def schedule_text(schedule: dict[str, Any]) -> str:
    """The chosen schedule for people: each patched stage, the tensor RAM, the extra MACs."""
    ram = (f"tensor RAM {schedule['tensor_ram_bytes']:,} B (input, output, activations, scratch; "
           f"layer by layer {schedule['layer_by_layer_tensor_ram_bytes']:,} B)")
    if not schedule["stages"]:
        return f"schedule: layer by layer, {ram}"
    stages = "; ".join(f"steps {st['first_step']}..{st['last_step']} in {st['bands']} bands of {st['band_rows']} row{'s' if st['band_rows'] != 1 else ''}"
                       f"{_stage_notes(st)}" for st in schedule["stages"])
    return (f"schedule: patched ({stages}), {ram}, extra {schedule['extra_macs']:,} MACs "
            f"({schedule['extra_macs_percent']:.2f} %) for the recomputed band edges")


def _stage_notes(st: dict) -> str:
    notes = (["halo kept"] if st.get("halo") == "kept" else []) + (["output over its input"] if st["output_over_input"] else [])
    return f" ({', '.join(notes)})" if notes else ""
