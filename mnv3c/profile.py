"""Per-layer instruction profile of one inference, from the emulator's layer marks.

The QEMU plugin (boards/plugin/insn_count.c) reports the instruction counts, relative to the
begin marker, at which mnv3c_model_run was entered and at which each of its kernel calls returned.
mnv3c_model_run does nothing but call one kernel per layer, in schedule order, so layer k owns
every instruction between the (k-1)-th and the k-th mark: its call set-up and its kernel. What
lies outside mnv3c_model_run's calls (the harness call, the prologue up to the first mark's
block, the epilogue, the markers themselves) is one more row, so the rows sum exactly to the total.
"""

from __future__ import annotations

from typing import Any, Sequence

OUTSIDE = "(outside layers)"  # the row for harness, markers and mnv3c_model_run's own return


def layer_profile(layers: Sequence[dict[str, Any]], marks: Sequence[int], total: int,
                  calls: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """[{"layer", "kernel", "instructions", "macs"}] in schedule order plus the OUTSIDE row.

    ``layers`` are report.json's layers (name, kernel, macs); ``calls`` (report.json
    schedule.calls) the layer of each kernel call in order, one per layer when omitted: a patched
    stage calls its layers once per band, and each layer's row sums its calls. ``marks`` has one
    entry more than there are calls. A different count means mnv3c_model_run called something that
    is not a layer (or the plugin saw no layer at all): that is an mnv3c defect, not a user error.
    """
    calls = list(range(len(layers))) if calls is None else list(calls)
    if len(marks) != len(calls) + 1:
        raise RuntimeError(f"instruction profile: {len(marks)} layer marks for {len(calls)} kernel calls "
                           f"(mnv3c_model_run must make exactly the calls report.json lists)")
    spent = [0] * len(layers)
    for k, layer in enumerate(calls):
        spent[layer] += int(marks[k + 1] - marks[k])
    rows = [
        {"layer": layer["name"], "kernel": layer["kernel"], "instructions": spent[i], "macs": int(layer["macs"])}
        for i, layer in enumerate(layers)
    ]
    outside = total - (marks[-1] - marks[0])
    rows.append({"layer": OUTSIDE, "kernel": "", "instructions": int(outside), "macs": 0})
    return rows


def profile_table(rows: Sequence[dict[str, Any]]) -> str:
    """The profile as an aligned text table, most expensive layer first, with shares and MAC/insn."""
    total = sum(r["instructions"] for r in rows)
    width = max([len(r["layer"]) for r in rows] + [5])
    kwidth = max([len(r["kernel"]) for r in rows] + [6])
    lines = [f"{'layer':<{width}}  {'kernel':<{kwidth}}  {'instructions':>13}  {'share':>6}  {'MACs':>11}  MAC/insn"]
    for r in sorted(rows, key=lambda r: (-r["instructions"], r["layer"])):
        share = 100.0 * r["instructions"] / total if total else 0.0
        rate = f"{r['macs'] / r['instructions']:.3f}" if r["macs"] and r["instructions"] else "-"
        lines.append(f"{r['layer']:<{width}}  {r['kernel']:<{kwidth}}  {r['instructions']:>13,}  {share:>5.1f}%  "
                     f"{r['macs']:>11,}  {rate:>8}")
    lines.append(f"{'total':<{width}}  {'':<{kwidth}}  {total:>13,}  {100.0:>5.1f}%  "
                 f"{sum(r['macs'] for r in rows):>11,}")
    return "\n".join(lines)
