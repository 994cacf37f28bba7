"""`mnv3c compile`: ONNX -> int8 C project for a target in OUTDIR, plus report.json."""

from __future__ import annotations

import argparse
from typing import Any

from mnv3c.arrays import parse_input_shape
from mnv3c.commands.common import precision_options, quant_options
from mnv3c.compiler import check_memory_fit, load_model, quantize_model, resolve_board, write_project
from mnv3c.outdir import check_replaceable


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The cheap checks (board, OUTDIR, the model's fit) come before calibration, the slow part."""
    board = resolve_board(args.target, args.board)
    inputs = (args.model, args.calib)
    check_replaceable(args.output, args.force, inputs)  # checked again just before the final rename
    loaded = load_model(args.model, parse_input_shape(args.input_shape))
    check_memory_fit(loaded[0], args.target, board)
    q = quantize_model(args.model, None, args.calib, loaded=loaded,
                       options=quant_options(args) | precision_options(args))
    report = write_project(q.qgraph, args.target, board, args.output, args.force, sqnr=q.layer_sqnr(),
                           input_files=inputs)
    human = (f"compiled {args.model} for {args.target} ({board.name}) into {args.output}: "
             f"{len(report['layers'])} layers, arena {report['arena_bytes']:,} B "
             f"(lower bound {report['arena_lower_bound_bytes']:,} B), weights {report['weights_bytes']:,} B, "
             f"{report['macs']:,} MACs; {q.calib_note}")
    return report, human
