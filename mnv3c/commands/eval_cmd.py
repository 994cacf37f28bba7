"""`mnv3c eval`: float vs int8 accuracy on a labelled data set (SPEC's eval JSON)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from mnv3c.arrays import load_images, load_labels, parse_input_shape
from mnv3c.commands.common import input_shape_of
from mnv3c.compiler import load_model
from mnv3c.quant.evaluate import evaluate
from mnv3c.tables import render_table


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    graph, recorded = load_model(args.model, parse_input_shape(args.input_shape))
    shape = input_shape_of(graph)
    calib = load_images(args.calib, "--calib", shape)
    data = load_images(args.data, "--data", shape)
    classes = int(np.prod(graph.tensors[graph.outputs[0]].shape[1:]))  # eval takes the argmax of each output row
    labels = load_labels(args.labels, len(data), classes)
    options = {"activation_params": recorded} if recorded else {}  # a QDQ model's own ranges
    result = evaluate(graph, calib, data, labels, per_layer=args.per_layer, **options)
    human = (f"{result['samples']} samples: float top-1 {result['float_top1']:.2%}, "
             f"int8 top-1 {result['int8_top1']:.2%}, agreement {result['agreement']:.2%}, "
             f"mean |err| {result['mean_abs_err']:.4g}, cosine {result['cosine']:.5f}")
    if args.per_layer:
        rows = [(r["name"], r["op"], "exact" if r["sqnr_db"] is None else f"{r['sqnr_db']:.1f} dB")
                for r in result["per_layer"]]
        human += "\n" + render_table(("layer", "op", "SQNR"), rows, title="per-layer SQNR (int8 vs float)",
                                     numeric=("SQNR",))
    return result, human
