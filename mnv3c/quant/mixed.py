"""Mixed int8/int16 precision: which layers to run in 16x8 (`quantize.build`'s ``precision``).

The automatic choice promotes layers greedily until the int8-input/int8-output network meets a
fidelity target against the float network on the calibration set (a logit SQNR in dB and/or an
argmax agreement), taking at each step the layer with the best estimated gain per cost:

- gain: the output noise energy the layer adds in int8 minus what it adds in 16x8, each measured
  in isolation (`isolated_sensitivity`: only that layer quantized); int8 weights stay, so a layer
  whose error is its weights gains little;
- cost: the share of the network's MACs that moves to the (slower) int16 kernels plus the elements
  the int8/int16 converters move, over the network's MACs, plus the extra tensor bytes over the
  int8 tensor bytes (int16 tensors are twice as large, a converter adds a tensor), both marginal:
  a neighbour of an int16 layer shares its converters.

Sorting by sensitivity alone promoted the high-resolution stem first: the largest tensors and the
slowest int16 kernel, for little gain. Every promotion is a rebuild from the same calibration (no new
statistics), reported with its cost (extra tensor bytes, int16 MACs, converters).

The order depends on the isolated gains and costs only, so it is fixed before anything is measured,
and the search measures only the prefixes it needs to find where the target is met (doubling, then
bisection): measuring every promotion cost one simulation of the search set per layer (MobileNetV2
at 96x96 on 32 inputs, target unreachable: 65 measurements, 8 now). When all-int8 already meets the
target, the sensitivity analysis (most of the rest) is skipped too.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from mnv3c.analysis import layer_stats
from mnv3c.arrays import load_images
from mnv3c.errors import MnvError
from mnv3c.ir.graph import Graph
from mnv3c.progress import stage
from mnv3c.quant.quantize import (ALIASING, build, has_int16_kernel, int8_output, prepare, raise_to_softmax_floor,
                                  tensor_precisions)
from mnv3c.quant.softmax import append_softmax
from mnv3c.quant.sensitivity import isolated_sensitivity, sqnr_db
from mnv3c.quant.simulate import dequantize_output, quantize_input, simulate
from mnv3c.reference.float_exec import run_float

SENSITIVITY_SAMPLES = 64
SEARCH_SAMPLES = 100  # each promotion is measured by simulating these: enough to rank, cheap per step
BATCH = 50
DEFAULT_AGREEMENT = 0.99  # the goals for mixed precision
DEFAULT_COSINE = 0.99


def all_int16(ref: Graph) -> dict[str, str]:
    """Every layer that has a 16x8 kernel; the others (e.g. resize, conv_transpose) stay int8."""
    return {n.name: "int16" for n in ref.nodes if n.op not in ALIASING and has_int16_kernel(n.op)}


def rebuild(ref: Graph, qg: Graph, precision: Mapping[str, str]) -> Graph:
    """``qg`` (an int8 graph of float graph ``ref``) with the given per-layer precision. A softmax
    at the end (quantize.append_softmax) is built again after the rest: its ranges are derived, not
    calibrated, and it takes the precision of the logits it reads."""
    ref_body, qg_body = without_softmax(ref), without_softmax(qg)
    q = _build_body(ref_body, qg_body, precision)
    return q if qg_body is qg else _with_softmax(q, ref_body, ref)


def without_softmax(g: Graph) -> Graph:
    """``g`` without its trailing softmax node (float, int8, or int16 with the int8 converter after
    it), ending at the logits the softmax reads; ``g`` itself when it ends in another op. The
    precision search compares logits: probabilities near 0 and 1 hide the errors it ranks."""
    tail = _softmax_tail(g)
    if not tail:
        return g
    body = g.copy()
    del body.nodes[-tail:]
    body.outputs = [g.nodes[-tail].inputs[0]]
    body.remove_unused_tensors()
    if tail == 2:  # int16 logits: end at their int8 converter, as `build` made the graph the search measured
        body.outputs = [int8_output(body, body.outputs[0])]
    return body


def _softmax_tail(g: Graph) -> int:
    """How many final nodes make ``g``'s trailing softmax: 1, 2 (an int16 softmax and its int8
    output converter, `append_softmax`), or 0."""
    if g.nodes and g.nodes[-1].op == "softmax":
        return 1
    if len(g.nodes) > 1 and g.nodes[-1].op == "requantize" and g.nodes[-2].op == "softmax" \
            and g.nodes[-1].inputs[0] == g.nodes[-2].outputs[0]:
        return 2
    return 0


def _build_body(ref_body: Graph, qg_body: Graph, precision: Mapping[str, str]) -> Graph:
    meta = qg_body.meta["quant"]
    q = build(ref_body, meta["params"], precision, meta["ranges"])
    q.meta["quant"] = {**meta, "precision": {n.name: q.tensors[n.outputs[0]].dtype for n in q.nodes}}
    return q


def _with_softmax(q: Graph, ref_body: Graph, ref: Graph) -> Graph:
    """The softmax on ``q``'s logits, int16 where they are (the output stays int8 either way)."""
    append_softmax(q, ref_body.copy(), ref)
    return q


def fidelity(ref: Graph, qg: Graph, x: np.ndarray, reference: np.ndarray | None = None) -> dict[str, float | None]:
    """Logit SQNR (dB), argmax agreement and mean cosine of ``qg`` against ``ref`` (the float graph it
    mirrors) on float ``x``; a trailing softmax is left out of both (``reference``: ref's logits).
    Agreement and cosine are per output position (`output_rows`)."""
    ref, qg = without_softmax(ref), without_softmax(qg)
    f = reference if reference is not None else _float_outputs(ref, x, qg)
    q = np.concatenate([dequantize_output(qg, simulate(qg, quantize_input(qg, x[i:i + BATCH])))
                        for i in range(0, len(x), BATCH)]).reshape(len(x), -1).astype(np.float64)
    agree, cos = position_scores(f, q, tuple(ref.tensors[ref.outputs[0]].shape))
    return {"sqnr_db": sqnr_db(float((f ** 2).sum()), float(((f - q) ** 2).sum())), "agreement": agree, "cosine": cos}


def position_scores(f: np.ndarray, q: np.ndarray, shape: tuple[int, ...]) -> tuple[float, float]:
    """(argmax agreement, mean cosine) of flat outputs ``q`` with ``f`` [N, prod(shape[1:])] over the
    rows of `output_rows`; a one-class output (a probability map) has no argmax to disagree on
    (agreement 1) and its cosine is each sample's."""
    rf, rq = output_rows(f, shape), output_rows(q, shape)
    agree = float((rf.argmax(1) == rq.argmax(1)).mean()) if rf.shape[1] > 1 else 1.0
    if rf.shape[1] == 1:
        rf, rq = f, q
    norms = np.linalg.norm(rf, axis=1) * np.linalg.norm(rq, axis=1)
    cos = np.where(norms > 0, (rf * rq).sum(axis=1) / np.maximum(norms, 1e-30), 1.0)
    return agree, float(cos.mean())


def output_rows(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Flat outputs ``a`` [N, prod(shape[1:])] of an output of ``shape`` as [positions, classes]: a
    sequence [N, T, C] gives one row per step and an NCHW map one per pixel (classes = channels), as
    the per-step CTC argmax and a segmentation read them; a [N, C] vector one row per sample.
    Flattening a sequence instead made one argmax over T*C, and of a map one over its pixels."""
    a = a.reshape(len(a), *shape[1:])
    if a.ndim == 3:
        return a.reshape(-1, shape[-1])
    if a.ndim == 4:
        return a.transpose(0, 2, 3, 1).reshape(-1, shape[1])
    return a.reshape(len(a), -1)


def _float_outputs(ref: Graph, x: np.ndarray, qg: Graph) -> np.ndarray:
    """``ref``'s logits on ``x``, raised to their softmax floor where ``qg``'s range has one
    (`quantize.raise_to_softmax_floor`): counting the clipped tail would cap the logit SQNR of every
    precision (the recogniser's at 23 dB)."""
    f = np.concatenate([run_float(ref, {ref.inputs[0]: x[i:i + BATCH]})[ref.outputs[0]]
                        for i in range(0, len(x), BATCH)]).reshape(len(x), -1).astype(np.float64)
    return raise_to_softmax_floor(qg, ref.outputs[0], f)


def tensor_bytes(qg: Graph) -> int:
    """Bytes of every activation tensor of one sample (before memory planning shares them)."""
    return sum(int(np.prod(t.shape[1:])) * np.dtype(t.dtype).itemsize for t in qg.tensors.values()
               if not t.is_const and t.dtype in ("int8", "int16"))


def _met(score: Mapping[str, float | None], target_sqnr: float | None, target_agreement: float | None,
         target_cosine: float | None = None) -> bool:
    sqnr = score["sqnr_db"]
    ok_sqnr = target_sqnr is None or sqnr is None or sqnr >= target_sqnr
    ok_agree = target_agreement is None or score["agreement"] >= target_agreement
    ok_cos = target_cosine is None or score["cosine"] >= target_cosine
    return ok_sqnr and ok_agree and ok_cos


def _converters(ref: Graph, tprec: Mapping[str, str]) -> set[tuple[str, str]]:
    """(tensor, dtype) of every requantize node `build` adds at ``tprec`` (the graph output stays int8)."""
    converters = {(i, tprec[n.outputs[0]]) for n in ref.nodes for i in n.inputs
                  if i in tprec and tprec[i] != tprec[n.outputs[0]]}
    if tprec[ref.outputs[0]] != "int8":
        converters.add((ref.outputs[0], "int8"))
    return converters


def precision_cost(ref: Graph, precision: Mapping[str, str], macs: Mapping[str, int]) -> tuple[int, int]:
    """(int16 work, tensor bytes) of float graph ``ref`` built at ``precision``, without building it:
    work = the MACs of its int16 layers + the elements its converters move; bytes = `tensor_bytes`."""
    tprec = tensor_precisions(ref, precision)

    def size(name: str, dtype: str) -> int:
        return int(np.prod(ref.tensors[name].shape[1:])) * (2 if dtype == "int16" else 1)

    converters = _converters(ref, tprec)
    work = sum(macs.get(n.name, 0) for n in ref.nodes if n.op not in ALIASING and tprec[n.outputs[0]] == "int16")
    work += sum(size(t, "int8") for t, _ in converters)
    return work, sum(size(t, p) for t, p in tprec.items()) + sum(size(t, p) for t, p in converters)


def _noise(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Layer -> isolated output noise energy relative to the signal (10^(-SQNR/10))."""
    return {r["name"]: 0.0 if r["output_sqnr_db"] is None else 10 ** (-r["output_sqnr_db"] / 10) for r in rows}


def _next_layer(ref: Graph, precision: Mapping[str, str], left: list[str], gain: Mapping[str, float],
                macs: Mapping[str, int], base: tuple[int, int]) -> str:
    """The layer of ``left`` with the best gain per marginal cost (a promotion that costs nothing
    comes first); layers without a gain come last, cheapest first."""
    now = precision_cost(ref, precision, macs)

    def key(name: str) -> tuple[int, float]:
        work, nbytes = precision_cost(ref, {**precision, name: "int16"}, macs)
        cost = (work - now[0]) / max(base[0], 1) + (nbytes - now[1]) / max(base[1], 1)
        if gain[name] <= 0:
            return 1, cost
        return 0, -gain[name] / cost if cost > 0 else -float("inf")

    return min(left, key=key)


def promotion_order(ref: Graph, left: list[str], gain: Mapping[str, float], macs: Mapping[str, int],
                    base: tuple[int, int]) -> list[str]:
    """Every layer of ``left`` in the greedy order (`_next_layer` after the ones before it): it
    depends on the isolated gains and the costs only, not on any measurement of the prefixes."""
    left, precision, order = list(left), {}, []
    while left:
        name = _next_layer(ref, precision, left, gain, macs, base)
        left.remove(name)
        precision[name] = "int16"
        order.append(name)
    return order


def first_meeting(met: Callable[[int], bool], n: int, near: Callable[[int], bool] | None = None) -> int:
    """The promotion count the search stops at: with ``met(0)`` false, try 1, 2, 4, ... (at most
    ``n``) until ``met`` holds, then bisect between the last miss and that hit: about 2·log2(k)
    measurements instead of k. Equal to the first k with ``met(k)`` when fidelity grows with k;
    where it does not, a k that meets the target whose predecessor does not.

    When even ``met(n)`` fails: ``n`` without ``near``; with it (``near(k)``: k's fidelity is within
    tolerance of n's, `near_all_int16`), the same bisection against ``near`` from the first doubling
    step it holds at, so the search stops at the fewest promotions that reach what all of them
    reach (MobileNetV2 224: int8 weights cap agreement at all-int16's 92.2 %, and all-int16 costs
    6.2x the instructions for nothing) instead of at every layer int16."""
    if n == 0:
        return 0
    lo, k, tried = 0, 1, []
    while k < n and not met(k):
        tried.append(k)
        lo, k = k, 2 * k
    hi = min(k, n)
    ok = met
    if hi == n and not met(n):
        if near is None:
            return n
        lo, hi, ok = 0, n, near
        for t in tried:  # the doubling steps, already measured
            if near(t):
                hi = t
                break
            lo = t
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


SQNR_TOLERANCE_DB = 0.5  # `near_all_int16`: what counts as reaching all-int16's fidelity
AGREEMENT_TOLERANCE = 0.005  # or one output position of the search set, if coarser
COSINE_TOLERANCE = 0.001


def near_all_int16(score: Mapping[str, float | None], ceiling: Mapping[str, float | None], positions: int,
                   target_sqnr: float | None, target_agreement: float | None, target_cosine: float | None) -> bool:
    """Whether ``score`` is within tolerance of ``ceiling`` (all-int16's fidelity) on every metric
    that has a target: SQNR within SQNR_TOLERANCE_DB, agreement within AGREEMENT_TOLERANCE or one
    of the ``positions`` output positions (whichever is larger), cosine within COSINE_TOLERANCE."""
    eps = 1e-12
    if target_sqnr is not None and ceiling["sqnr_db"] is not None:
        if score["sqnr_db"] is not None and score["sqnr_db"] < ceiling["sqnr_db"] - SQNR_TOLERANCE_DB - eps:
            return False
    agree_tol = max(AGREEMENT_TOLERANCE, 1.0 / max(positions, 1))
    if target_agreement is not None and score["agreement"] < ceiling["agreement"] - agree_tol - eps:
        return False
    return target_cosine is None or score["cosine"] >= ceiling["cosine"] - COSINE_TOLERANCE - eps


def choose_mixed(ref: Graph, qg: Graph, calib: np.ndarray, target_sqnr: float | None = None,
                 target_agreement: float | None = None, target_cosine: float | None = None,
                 float_graph: Graph | None = None) -> tuple[Graph, list[dict[str, Any]]]:
    """The mixed graph of the greedy promotion and its steps: [{"promoted", "op", "measured",
    "sqnr_db", "agreement", "cosine", "tensor_bytes", "extra_tensor_bytes", "int16_macs",
    "converters"}], step 0 being all-int8, one row per promotion up to where the search stopped.
    Fidelity is measured on the logits (before a trailing softmax) of the first SEARCH_SAMPLES of
    ``calib``, at the steps `first_meeting` visits ("measured"; the others' fidelity is None).
    All-int8 meeting the target costs no sensitivity analysis; otherwise the whole greedy order
    is fixed first (`promotion_order`) and the search measures prefixes of it. The last row is
    measured and says whether every given target was met ("target_met"); when not, its
    "all_int16" is the fidelity with every layer promoted (else None), and the search stopped at the
    fewest promotions within tolerance of it (`near_all_int16`), not at every layer int16.

    ``float_graph``: the model's float graph (`quantize.prepare`d, ending where ``ref`` ends), the
    network the targets are about; by default ``ref``. ``ref`` is equalized and bias-corrected:
    a precision chosen to match it matched the corrections, not the model (MobileNetV2 224: ``ref``
    agrees with the model on 87.5 % of photos, and the search stopped at 90.6 % against the model
    where 96.9 % was in reach)."""
    targets = (target_sqnr, target_agreement, target_cosine)
    if targets == (None, None, None):
        raise ValueError("choose_mixed needs --target-sqnr, --target-agreement and/or --target-cosine")
    full_ref, full_qg, with_softmax = ref, qg, _softmax_tail(qg) > 0
    ref, qg = without_softmax(ref), without_softmax(qg)
    calib = np.asarray(calib, np.float32)[:SEARCH_SAMPLES]
    reference = _float_outputs(without_softmax(float_graph) if float_graph is not None else ref, calib, qg)
    ops = {n.name: n.op for n in ref.nodes}
    macs = {r["name"]: r["macs"] for r in layer_stats(ref)}
    base = (max(sum(macs.values()), 1), tensor_bytes(qg))
    scores: dict[int, dict[str, float | None]] = {0: fidelity(ref, qg, calib, reference)}
    graphs = {0: qg}
    order: list[str] = []
    k = 0
    if not _met(scores[0], *targets):
        noise8 = _noise(isolated_sensitivity(ref, qg, calib[:SENSITIVITY_SAMPLES]))
        noise16 = _noise(isolated_sensitivity(ref, _build_body(ref, qg, all_int16(ref)), calib[:SENSITIVITY_SAMPLES]))
        gain = {name: noise8[name] - noise16.get(name, 0.0) for name in noise8}
        order = promotion_order(ref, [n.name for n in ref.nodes if n.name in gain and has_int16_kernel(n.op)],
                                gain, macs, base)

        def met(j: int) -> bool:
            if j not in scores:
                graphs[j] = _build_body(ref, qg, {name: "int16" for name in order[:j]})
                scores[j] = fidelity(ref, graphs[j], calib, reference)
            return _met(scores[j], *targets)

        positions = len(output_rows(reference, tuple(ref.tensors[ref.outputs[0]].shape)))

        def near(j: int) -> bool:
            return met(j) or near_all_int16(scores[j], scores[len(order)], positions, *targets)

        k = first_meeting(met, len(order), near)
    steps = [_step(ref, order, j, ops, macs, base[1], scores.get(j)) for j in range(k + 1)]
    steps[-1]["target_met"] = _met(scores[k], *targets)
    steps[-1]["all_int16"] = None if steps[-1]["target_met"] or not order else dict(scores[len(order)])
    steps[-1]["adaptive_rounding_auto"] = None  # `precision_with_rounding_fallback` fills it in when it retries
    if k == 0:
        return full_qg, steps
    return (_with_softmax(graphs[k], ref, full_ref) if with_softmax else graphs[k]), steps


def _step(ref: Graph, order: list[str], j: int, ops: Mapping[str, str], macs: Mapping[str, int], base_bytes: int,
          score: Mapping[str, float | None] | None) -> dict[str, Any]:
    """Row ``j`` of `choose_mixed`'s steps: the costs of the first ``j`` promotions of ``order``
    (priced as `precision_cost` does, equal to the built graph's), the fidelity where measured."""
    precision = {name: "int16" for name in order[:j]}
    nbytes = precision_cost(ref, precision, macs)[1]
    promoted = order[j - 1] if j else None
    fid = dict(score) if score is not None else {"sqnr_db": None, "agreement": None, "cosine": None}
    return {"promoted": promoted, "op": ops.get(promoted) if promoted else None, "measured": score is not None,
            **fid, "tensor_bytes": nbytes, "extra_tensor_bytes": nbytes - base_bytes,
            "int16_macs": int(sum(macs.get(name, 0) for name in precision)),
            "converters": len(_converters(ref, tensor_precisions(ref, precision)))}


def closer(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether search outcome ``a`` (a last `choose_mixed` step) is better than ``b``: a met target
    first; between two misses the higher ceiling (``all_int16``: what the weights let 16x8 reach,
    measured, where each search's stop is only within tolerance of its own ceiling), then the
    stop's own fidelity, then the fewer extra tensor bytes. Fidelity compares the logit SQNR first
    (an exact output counts as the best), then cosine, then agreement: on a few dozen inputs
    agreement moves by single near-ties (MobileNetV2 all-int16, adaptive vs round-to-nearest
    weights: 95.3 vs 90.6 % on 64 crops, 89.1 vs 92.2 % on 64 others; SQNR 28.6 vs 24.6 and
    28.5 vs 24.6 dB), so ranking by it first kept the weights that are further from float."""
    def fid(r: Mapping[str, Any] | None) -> tuple:
        if r is None:
            return ()
        return (float("inf") if r["sqnr_db"] is None else r["sqnr_db"], r["cosine"], r["agreement"])

    def key(r: Mapping[str, Any]) -> tuple:
        ceiling = None if r["target_met"] else r.get("all_int16")
        return (bool(r["target_met"]), fid(ceiling), fid(r), -r["extra_tensor_bytes"])
    return key(a) > key(b)


def precision_with_rounding_fallback(
        ref: Graph, qg: Graph, calib: np.ndarray | None, precision: str,
        targets: tuple[float | None, float | None, float | None],
        requantize: Callable[[], tuple[Graph, Graph]] | None,
        progress: bool = True, model: Graph | None = None) -> tuple[Graph, Graph, list[dict[str, Any]] | None]:
    """`apply_precision`, and for "mixed" whose target even all-int16 misses: the same search once
    more on ``requantize()``'s graphs (the caller's quantization with adaptive rounding; None when
    the caller already rounds adaptively), kept when `closer`. (reference, graph, steps); the kept
    search's last step says ``"adaptive_rounding_auto"``. ``model``: the canonical float graph the
    mixed search's targets are measured against (`choose_mixed`'s ``float_graph``, prepared here).

    Why: with 16x8 activations the int8 weights' rounding is what is left (MobileNetV2 at 224:
    round-to-nearest weights alone cap agreement at all-int16's 92.2 %, adaptive rounding at
    96.9 %); adaptive rounding costs a few seconds of calibration and nothing at run time, so the
    automatic choice tries it where round-to-nearest cannot reach the target."""
    float_graph = prepare(model) if model is not None and precision == "mixed" else None
    out, steps = apply_precision(ref, qg, calib, precision, *targets, float_graph=float_graph)
    if precision != "mixed" or requantize is None or steps[-1]["target_met"]:
        return ref, out, steps
    with stage("quantize", "target unmet with round-to-nearest weights: again with adaptive rounding",
               enabled=progress):
        ref2, qg2 = requantize()
    out2, steps2 = apply_precision(ref2, qg2, calib, precision, *targets, float_graph=float_graph)
    tried = closer(steps2[-1], steps[-1])
    kept_ref, kept, kept_steps = (ref2, out2, steps2) if tried else (ref, out, steps)
    kept_steps[-1]["adaptive_rounding_auto"] = {"tried": True, "kept": tried,
                                                 "round_to_nearest": _fidelity(steps[-1]),
                                                 "adaptive": _fidelity(steps2[-1])}
    return kept_ref, kept, kept_steps


def search_inputs(data: str | np.ndarray | None, shape: tuple[int, ...],
                  calib: np.ndarray | None) -> tuple[np.ndarray | None, str]:
    """The inputs a mixed search measures its targets on (--search-data, else the calibration
    inputs) and how report.json and eval name them."""
    if data is None:
        return calib, "calibration inputs"
    if isinstance(data, np.ndarray):
        return np.asarray(data, np.float32), f"{len(data)} search inputs"
    x = load_images(data, "--search-data", shape)
    return x, f"--search-data {data} ({len(x)} inputs)"


def _fidelity(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**{k: row[k] for k in ("sqnr_db", "agreement", "cosine", "target_met")}, "all_int16": row.get("all_int16")}


def apply_precision(ref: Graph, qg: Graph, calib: np.ndarray | None, precision: str = "int8",
                    target_sqnr: float | None = None, target_agreement: float | None = None,
                    target_cosine: float | None = None,
                    float_graph: Graph | None = None) -> tuple[Graph, list[dict[str, Any]] | None]:
    """``qg`` at ``precision`` ("int8", "int16": every layer 16x8, "mixed": `choose_mixed` on
    ``calib``, measured against ``float_graph``; without targets, agreement DEFAULT_AGREEMENT and
    cosine DEFAULT_COSINE, the issue's goals) and the promotion steps (mixed only)."""
    if precision == "int8":
        return qg, None
    if precision == "int16":
        return rebuild(ref, qg, all_int16(ref)), None
    if precision != "mixed":
        raise ValueError(f"unknown precision {precision!r} (expected int8, mixed or int16)")
    if calib is None:
        raise MnvError("--precision mixed needs calibration data (--calib) to measure the promotions on")
    if target_sqnr is None and target_agreement is None and target_cosine is None:
        target_agreement, target_cosine = DEFAULT_AGREEMENT, DEFAULT_COSINE
    return choose_mixed(ref, qg, calib, target_sqnr, target_agreement, target_cosine, float_graph)
