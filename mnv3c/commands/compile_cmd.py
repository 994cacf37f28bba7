"""`mnv3c compile`: ONNX -> int8 C project for a target in OUTDIR, plus report.json."""

from __future__ import annotations

import argparse
from typing import Any

from mnv3c.arrays import parse_input_shape
from mnv3c.commands.common import precision_options, quant_options, schedule_text
from mnv3c.codegen.generate import check_name
from mnv3c.compiler import check_memory_fit, load_model, quantize_model, resolve_board, write_project
from mnv3c.outdir import check_replaceable


_SOFTMAX_NOTE = {"int8": "; the trailing Softmax runs as the int8 kernel (outputs are probabilities)",
                 "host": "; --no-softmax: the C model outputs logits"}


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The cheap checks (board, OUTDIR, the model's fit) come before calibration, the slow part."""
    board = resolve_board(args.target, args.board)
    inputs = (args.model, args.calib, args.search_data)
    check_replaceable(args.output, args.force, inputs)  # checked again just before the final rename
    check_name(args.name)
    loaded = load_model(args.model, parse_input_shape(args.input_shape))
    check_memory_fit(loaded[0], args.target, board, args.ram_budget)
    q = quantize_model(args.model, None, args.calib, loaded=loaded,
                       options=quant_options(args) | precision_options(args) | {"softmax": not args.no_softmax})
    report = write_project(q.qgraph, args.target, board, args.output, args.force, sqnr=q.layer_sqnr(),
                           input_files=inputs, name=args.name, ram_budget=args.ram_budget)
    human = (f"compiled {args.model} for {args.target} ({board.name}) into {args.output} "
             f"(library {args.output}/{args.name}, integration in its README.md): "
             f"{len(report['layers'])} layers, arena {report['arena_bytes']:,} B "
             f"(lower bound {report['arena_lower_bound_bytes']:,} B), weights {report['weights_bytes']:,} B, "
             f"{report['macs']:,} MACs; {q.calib_note}{_SOFTMAX_NOTE.get(report['softmax'], '')}\n"
             f"{schedule_text(report['schedule'])}")
    return report, human

