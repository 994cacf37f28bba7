"""OUTDIR/report.html: report.json as one self-contained page a person can read.

Per-layer table (op, kernel, shapes, MACs, weight bytes, arena offset, instructions when a profile
is there, SQNR when calibration data was given), the memory timeline (each arena buffer's lifetime
and offset across the schedule, the peak marked), per-layer cost and SQNR charts and the fit against
the board's memory. Plots are matplotlib SVG inlined in the page: no script, no network, no file
beside it. Everything comes from report.json (and a run's profile), so `mnv3c report OUTDIR` can
write the page again; the same report gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2

from mnv3c import __version__
from mnv3c.boards.registry import Board, get_board
from mnv3c.errors import MnvError
from mnv3c.plan.memory import union_bytes

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.html.j2"
HTML_NAME = "report.html"
_WIDTH_IN = 11.0


def write_report_html(outdir: Path, report: dict[str, Any], profile: list[dict[str, Any]] | None = None) -> Path:
    """Render ``report`` (OUTDIR/report.json's content) into OUTDIR/report.html."""
    path = Path(outdir) / HTML_NAME
    path.write_text(render_report_html(report, profile), encoding="utf-8", newline="\n")
    return path


def render_report_html(report: dict[str, Any], profile: list[dict[str, Any]] | None = None) -> str:
    profile = profile if profile is not None else report.get("profile")
    insns = {p["layer"]: int(p["instructions"]) for p in profile or []}
    layers = report["layers"]
    board = _board(report["board"])
    fit = _fit(report, board)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    has_sqnr = any("sqnr_db" in layer for layer in layers)
    return env.get_template(TEMPLATE.name).render(
        version=__version__,
        report=report,
        layers=layers,
        instructions=insns,
        has_sqnr=has_sqnr,
        fit=fit,
        plots={
            "memory-timeline": _memory_timeline(report),
            "layer-cost": _layer_cost(layers, insns),
            "layer-sqnr": _layer_sqnr(layers) if has_sqnr else None,
            "board-fit": _board_fit(fit) if fit else None,
        },
    )


def _board(name: str) -> Board | None:
    try:
        return get_board(name)
    except MnvError:  # a board of a newer mnv3c: the page still shows everything else
        return None


# --- the fit -------------------------------------------------------------------------------------
def _fit(report: dict[str, Any], board: Board | None) -> list[dict[str, Any]]:
    """One row per memory kind of the board: what the model needs (planned, and measured once
    built) against what the board has."""
    if board is None or not board.regions:
        return []
    from mnv3c.compiler import CODE_BYTES_ESTIMATE, STACK_BYTES

    rows = [
        {"kind": "RAM", "size": board.ram_size, "parts": [("tensor RAM", _tensor_ram(report)), ("stack", STACK_BYTES)],
         "measured": report.get("ram_bytes")},
        {"kind": "flash", "size": board.flash_size,
         "parts": [("weights", report["weights_bytes"]), ("code (estimate)", CODE_BYTES_ESTIMATE)],
         "measured": report.get("flash_bytes")},
    ]
    for row in rows:
        row["planned"] = sum(size for _, size in row["parts"])
        row["used"] = row["measured"] if row["measured"] is not None else row["planned"]
        row["percent"] = 100.0 * row["used"] / row["size"]
    return rows


def _tensor_ram(report: dict[str, Any]) -> int:
    """The model's whole tensor RAM; reports older than the input-in-the-arena plan lack the field
    and kept the input and output outside the arena."""
    return report.get("tensor_ram_bytes", report["arena_bytes"])


# --- plots ---------------------------------------------------------------------------------------
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "mnv3c", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False})
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any, gid: str) -> str:
    """The figure as an inline <svg> element with id ``gid`` (deterministic: no date, fixed ids)."""
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        if ax.get_xlabel().startswith(("layer", "schedule")):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    return svg.replace("<svg", f'<svg id="{gid}" role="img"', 1)


def _memory_timeline(report: dict[str, Any]) -> str:
    """Each arena buffer as a rectangle: steps it lives across (x) by the bytes it holds (y)."""
    plt = _pyplot()
    buffers = report.get("memory_timeline", [])
    steps = len(report["layers"])
    fig, ax = plt.subplots(figsize=(_WIDTH_IN, 4.2))
    for b in buffers:
        scratch = b["kind"] == "scratch"
        ax.broken_barh([(b["first_step"] - 0.45, b["last_step"] - b["first_step"] + 0.9)], (b["offset"], b["bytes"]),
                       facecolors="#f4a259" if scratch else "#5b8e7d", edgecolors="white", linewidth=0.6)
    live = [occupied_bytes(buffers, s) for s in range(max(steps, 1))]
    peak_step = max(range(len(live)), key=live.__getitem__)
    arena = report["arena_bytes"]
    ax.axhline(arena, color="#bc4b51", linestyle="--", linewidth=1)
    ax.annotate(f"arena {arena:,} B", (steps - 0.5, arena), ha="right", va="bottom", color="#bc4b51")
    ax.axvline(peak_step, color="#8cb369", linestyle=":", linewidth=1.2)
    ax.annotate(f"peak: {live[peak_step]:,} B live at step {peak_step}", (peak_step, arena), ha="left",
                va="top", xytext=(4, -4), textcoords="offset points", color="#3d5a40")
    ax.set_xlim(-0.6, steps - 0.4)
    ax.set_ylim(0, max(arena, 1) * 1.08)
    ax.set_xlabel("schedule step (layer index in the table)")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title("Memory timeline: activation buffers (green) and kernel scratch (orange)", loc="left")
    return _svg(fig, "memory-timeline")


def occupied_bytes(blocks: list[dict[str, Any]], step: int) -> int:
    """Arena bytes in use at ``step`` (report.json memory_timeline blocks)."""
    return union_bytes((b["offset"], b["offset"] + b["bytes"]) for b in blocks if b["first_step"] <= step <= b["last_step"])


def _layer_cost(layers: list[dict[str, Any]], insns: dict[str, int]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(_WIDTH_IN, 3.4))
    x = list(range(len(layers)))
    if insns:
        ax.bar(x, [insns.get(layer["name"], 0) for layer in layers], color="#4f6d7a")
        ax.set_ylabel("guest instructions")
        ax.set_title("Per-layer cost: instructions per inference (run --profile)", loc="left")
    else:
        ax.bar(x, [layer["macs"] for layer in layers], color="#4f6d7a")
        ax.set_ylabel("MACs")
        ax.set_title("Per-layer cost: multiply-accumulates", loc="left")
    ax.set_xlabel("layer index")
    ax.set_xlim(-0.6, len(layers) - 0.4)
    return _svg(fig, "layer-cost")


def _layer_sqnr(layers: list[dict[str, Any]]) -> str:
    """SQNR in dB per layer; an exact layer (no noise) is drawn at the top, hollow."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(_WIDTH_IN, 3.0))
    finite = [(i, layer["sqnr_db"]) for i, layer in enumerate(layers) if layer.get("sqnr_db") is not None]
    exact = [i for i, layer in enumerate(layers) if "sqnr_db" in layer and layer["sqnr_db"] is None]
    if finite:
        ax.plot([i for i, _ in finite], [v for _, v in finite], marker="o", markersize=3, color="#6a4c93")
    top = max([v for _, v in finite], default=40.0) + 5
    if exact:
        ax.scatter(exact, [top] * len(exact), facecolors="none", edgecolors="#6a4c93", label="exact")
        ax.legend(loc="lower left", frameon=False)
    ax.set_xlabel("layer index")
    ax.set_ylabel("SQNR (dB)")
    ax.set_xlim(-0.6, len(layers) - 0.4)
    ax.set_title("Per-layer SQNR: int8 vs float on the calibration data (higher is better)", loc="left")
    return _svg(fig, "layer-sqnr")


def _board_fit(fit: list[dict[str, Any]]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(_WIDTH_IN, 1.6))
    colors = ["#5b8e7d", "#f4a259", "#4f6d7a", "#bc4b51"]
    for y, row in enumerate(fit):
        left = 0.0
        for k, (what, size) in enumerate(row["parts"]):
            width = 100.0 * size / row["size"]
            ax.barh(y, width, left=left, color=colors[(2 * y + k) % len(colors)], label=f"{row['kind']}: {what}")
            left += width
        if row["measured"] is not None:
            ax.plot([100.0 * row["measured"] / row["size"]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=1.5)
    ax.set_yticks(range(len(fit)), [f"{row['kind']} ({row['size']:,} B)" for row in fit])
    ax.set_xlim(0, max(100.0, *(row["percent"] for row in fit)) * 1.02)
    ax.axvline(100, color="#bc4b51", linewidth=1)
    ax.set_xlabel("% of the board's memory (black tick: measured in the linked image)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return _svg(fig, "board-fit")
