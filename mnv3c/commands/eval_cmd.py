"""`mnv3c eval`: float vs int8 accuracy on a labelled data set (SPEC's eval JSON)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from mnv3c.arrays import load_images, load_labels, parse_input_shape
from mnv3c.commands.common import input_shape_of, precision_options, quant_options
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
    options = quant_options(args) | {"softmax": not args.no_softmax}
    precision = precision_options(args)
    if precision["search_data"] is not None:
        precision["search_data"] = load_images(precision["search_data"], "--search-data", shape)
    if recorded:
        options["activation_params"] = recorded  # a QDQ model's own ranges
    result = evaluate(graph, calib, data, labels, per_layer=args.per_layer, sensitivity=args.sensitivity,
                      **precision, **options)
    human = (f"{result['samples']} samples: float top-1 {result['float_top1']:.2%}, "
             f"{args.precision} top-1 {result['int8_top1']:.2%}, agreement {result['agreement']:.2%}, "
             f"mean |err| {result['mean_abs_err']:.4g}, cosine {result['cosine']:.5f}")
    if args.per_layer or args.sensitivity:
        cols = [(k, t) for k, t, on in (("sqnr_db", "SQNR", args.per_layer),
                                        ("only_sqnr_db", "SQNR, only this layer", args.sensitivity)) if on]
        rows = [(r["name"], r["op"], r["precision"], *(_db_text(r[k]) for k, _ in cols)) for r in result["per_layer"]]
        human += "\n" + render_table(("layer", "op", "precision", *(t for _, t in cols)), rows,
                                     title="per layer, quantized vs float (only this layer: the network output's "
                                           "SQNR when only that layer is quantized)",
                                     numeric=tuple(t for _, t in cols))
    if "mixed" in result:
        rows = [(i, r["promoted"] or "(all int8)", _db_text(r["sqnr_db"]) if r["measured"] else "-",
                 f"{r['agreement']:.2%}" if r["measured"] else "-",
                 f"+{r['extra_tensor_bytes']:,} B", f"{r['int16_macs']:,}") for i, r in enumerate(result["mixed"])]
        human += "\n" + render_table(("step", "promoted to int16", "SQNR", "agreement", "tensor bytes", "int16 MACs"),
                                     rows, title=f"mixed precision: greedy promotions, measured on "
                                     f"{'--search-data' if args.search_data else '--calib'} (-: skipped by the search)",
                                     numeric=("step", "SQNR", "agreement", "tensor bytes", "int16 MACs"))
        if not result["mixed"][-1]["target_met"]:
            human += "\n" + unmet_message(result["mixed"][-1])
    return result, human


def unmet_message(last: dict) -> str:
    """One line for a mixed search whose target is unmet: what all-int16 reaches, what caps it (the
    int8 weights, and ops with no int16 kernel, which stay int8), and the flag that changes the int8
    weights; or that no layer could be promoted at all."""
    top = last.get("all_int16")
    if top is None:
        return "target not met: no layer of this model has an int16 kernel to promote"
    reach = f"agreement {top['agreement']:.2%}, cosine {top['cosine']:.4f}, SQNR {_db_text(top['sqnr_db'])}"
    auto = last.get("adaptive_rounding_auto")
    if auto is None:
        fix = "try --adaptive-rounding"
    else:
        rtn = auto["round_to_nearest"]
        fix = (f"adaptive rounding of the weights was tried ({'kept' if auto['kept'] else 'not kept'}: "
               f"round-to-nearest reached agreement {rtn['agreement']:.2%}, cosine {rtn['cosine']:.4f})")
    return (f"target not met: all-int16 reaches only {reach} (the int8 weights and any op with no int16 kernel "
            f"cap it), so the search stopped at the fewest promotions within tolerance of that; {fix}")


def _db_text(v: float | None) -> str:
    return "exact" if v is None else f"{v:.1f} dB"
