"""`mnv3c inspect`: the optimized graph's layers, MACs and parameters, optionally its float output."""

from __future__ import annotations

import argparse
from typing import Any

from mnv3c.analysis import layer_stats, totals
from mnv3c.arrays import load_images
from mnv3c.commands.common import input_shape_of, load_optimized
from mnv3c.ir import Graph
from mnv3c.reference.float_exec import run_float
from mnv3c.tables import render_table


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    dumps: list[str] = []

    def trace(pass_name: str, graph: Graph) -> None:
        dumps.append(f"# after {pass_name}: {len(graph.nodes)} nodes\n{graph.dump()}")

    graph = load_optimized(args.model, args.input_shape, trace=trace if args.passes else None)
    layers = layer_stats(graph)
    result: dict[str, Any] = {
        "inputs": [_io(graph, n) for n in graph.inputs],
        "outputs": [_io(graph, n) for n in graph.outputs],
        "layers": layers,
        **totals(graph),
    }
    if args.input:
        x = load_images(args.input, "--input", input_shape_of(graph))[:1]
        out = run_float(graph, {graph.inputs[0]: x}, finite="--input")[graph.outputs[0]]
        result["float_output"] = out.reshape(-1).astype(float).tolist()
    if args.passes:
        result["passes"] = [d.split("\n", 1)[0][2:] for d in dumps]
    return result, _human(result, dumps)


def _io(graph: Graph, name: str) -> dict[str, Any]:
    return {"name": name, "shape": list(graph.tensors[name].shape)}


def _human(result: dict[str, Any], dumps: list[str]) -> str:
    lines = list(dumps)
    rows = [(layer["name"], layer["op"], "x".join(map(str, layer["output_shape"])), f"{layer['macs']:,d}",
             f"{layer['params']:,d}", "+".join(layer["fused"])) for layer in result["layers"]]
    lines.append(render_table(("layer", "op", "output", "MACs", "params", "fused"), rows,
                              numeric=("output", "MACs", "params")))
    lines.append(f"total: {result['macs']:,d} MACs, {result['params']:,d} parameters, {len(result['layers'])} layers")
    if "float_output" in result:
        out = result["float_output"]
        top = max(range(len(out)), key=out.__getitem__)
        lines.append(f"float output: argmax {top}, {len(out)} values")
    return "\n".join(lines)
