"""C code of a patched stage (plan/patches.py): the stage's kernels called band by band.

Each layer of a stage gets one params struct per distinct band geometry (the first and last bands
see the image border, the ones between are alike): the layer's own fields with in_h, out_h and
pad_top (a LUT: size) of the band. Consecutive bands of one geometry whose row offsets advance
evenly become one `for` loop; the others are written out. In a sliding stage a band first moves
each layer's kept rows to the front of its buffer (copy_bytes of mnv3c_model.c, before the layer's
call), and a layer that already holds every row it needs is not called.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnv3c.codegen.cformat import comment_text
from mnv3c.codegen.layers import Fields
from mnv3c.plan.patches import STAGE_INPUT, STAGE_OUTPUT, BandLayer, Stage, band_moves, band_operands


WRAP = 100


@dataclass
class BandParams:
    """One params struct of a stage layer, for the bands of one geometry."""

    key: tuple[int, int, int, int]  # geometry_key of those bands
    name: str
    initializer: str  # the designated initializer lines
    comment: str


@dataclass
class _Call:
    kernel: str
    params: str  # the params struct; for a move (kernel MOVE), the byte count
    pointers: list[tuple[str, int]]  # each input, then the output: C expression of a buffer's start, bytes into it
    scratch: str


MOVE = "copy_bytes"  # mnv3c_model.c's forward copy: a sliding band's kept rows (pointers: destination, source)


def band_fields(fields: Fields, layer: BandLayer, row_elems: int) -> Fields:
    """``fields`` of the whole layer with the band's rows: conv and depthwise take in_h, out_h and
    pad_top (the bottom padding follows from in_h); a LUT takes its element count."""
    rows_in = layer.in_rows[1] - layer.in_rows[0]
    rows_out = layer.out_rows[1] - layer.out_rows[0]
    changed = {"in_h": str(rows_in), "out_h": str(rows_out), "pad_top": str(layer.pad_top),
               "size": str(rows_out * row_elems)}
    return [(k, changed.get(k, v) if isinstance(v, str) else v) for k, v in fields]


def geometry_key(layer: BandLayer) -> tuple[int, int, int, int]:
    return (layer.in_rows[1] - layer.in_rows[0], layer.out_rows[1] - layer.out_rows[0], layer.pad_top,
            layer.pad_bottom)


def stage_calls(st: Stage, kernels: list[str], params: list[dict[tuple, str]], x_base: str, y_base: str,
                band_bases: list[str], rows: list[int], in_row: int, out_row: int, scratch: list[str]
                ) -> list[list[_Call]]:
    """Per band, the kernel calls of its layers in order, each after its kept rows' move in a sliding
    stage (a layer holding every row it needs is not called). ``params[i]`` maps a geometry key of
    layer i to its struct; ``band_bases[i]`` is layer i's band buffer (its output, i < last) and
    ``rows[i]`` its row bytes; the offsets are `band_operands`'."""
    bases = {STAGE_INPUT: x_base, STAGE_OUTPUT: y_base, **dict(enumerate(band_bases))}
    out = []
    for b, band in enumerate(st.bands):
        calls = []
        for i, layer in enumerate(band):
            move = band_moves(st, b, i)
            if move is not None:
                start, kept = move
                calls.append(_Call(MOVE, f"{kept * rows[i]}u", [(bases[i], 0), (bases[i], start * rows[i])], ""))
            if layer.computes:
                pointers = [(bases[buf], offset) for buf, offset in band_operands(st, band, i, rows, in_row, out_row)]
                calls.append(_Call(kernels[i], params[i][geometry_key(layer)], pointers, scratch[i]))
        out.append(calls)
    return out


def render(st: Stage, index: int, per_band: list[list[_Call]], titles: list[str]) -> str:
    """The C statements of the stage: a comment, then runs of bands (a loop where they repeat)."""
    n = len(per_band)
    halo = ", halo rows kept from band to band" if st.slides else ""
    lines = [f"    /* patched stage {index}: {comment_text(' -> '.join(titles))}, in {n} bands of "
             f"{st.band_rows} output rows{halo} */"]
    b = 0
    while b < n:
        run = 1
        while b + run < n and _continues(per_band, b, run):
            run += 1
        rows = [(band[-1].out_rows[0], band[-1].out_rows[1]) for band in st.bands[b:b + run]]
        if run == 1:
            lines.append(f"    /* band {b}: output rows {rows[0][0]}..{rows[0][1] - 1} */")
            lines += [_statement(c, "") for c in per_band[b]]
        else:
            lines.append(f"    /* bands {b}..{b + run - 1}: output rows {rows[0][0]}..{rows[-1][1] - 1} */")
            lines.append(f"    for (band = 0; band < {run}u; ++band) {{")
            nxt = per_band[b + 1]
            lines += ["    " + _statement(c, "band", d) for c, d in zip(per_band[b], _deltas(per_band[b], nxt))]
            lines.append("    }")
        b += run
    return "\n".join(lines)


def _deltas(a: list[_Call], b: list[_Call]) -> list[tuple[int, ...]]:
    return [tuple(pb[1] - pa[1] for pa, pb in zip(ca.pointers, cb.pointers)) for ca, cb in zip(a, b)]


def _continues(per_band: list[list[_Call]], start: int, run: int) -> bool:
    """Band start+run repeats band start's calls and structs with the same offset steps as the run so far."""
    first, cand = per_band[start], per_band[start + run]
    if [(a.kernel, a.params) for a in first] != [(c.kernel, c.params) for c in cand]:
        return False
    step = _deltas(first, per_band[start + 1])
    return _deltas(per_band[start + run - 1], cand) == step


def _statement(c: _Call, var: str, delta: tuple[int, ...] = ()) -> str:
    """The call, one argument per line when it does not fit in WRAP columns (inside a loop: 4 more)."""
    steps = delta or (0,) * len(c.pointers)
    pointers = [_at(base, offset, var, d) for (base, offset), d in zip(c.pointers, steps)]
    args = [*pointers, c.params] if c.kernel == MOVE else [f"&{c.params}", *pointers, c.scratch]
    indent = 8 if var else 4
    one_line = f"    {c.kernel}({', '.join(args)});"
    if len(one_line) + indent - 4 <= WRAP:
        return one_line
    pad = " " * (5 + len(c.kernel))
    return f"    {c.kernel}(" + f",\n{' ' * (indent - 4)}{pad}".join(args) + ");"


def _at(base: str, offset: int, var: str, step: int) -> str:
    terms = [base] + ([f"{offset}u"] if offset else []) + ([f"{step}u * {var}"] if var and step else [])
    return " + ".join(terms)
