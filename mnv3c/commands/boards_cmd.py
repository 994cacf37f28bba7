"""`mnv3c boards`: every board, its target, how it runs here, and its memory."""

from __future__ import annotations

import argparse
from typing import Any

from mnv3c.boards.registry import Board, all_boards, default_board
from mnv3c.errors import MnvError
from mnv3c.tables import render_table


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    boards = [_board(b) for b in all_boards()]
    rows = [(b["name"] + (" *" if b["default"] else ""), b["target"], b["runs"], _kib(b["ram_bytes"]), _kib(b["flash_bytes"]), b["description"])
            for b in boards]
    human = render_table(("board", "target", "runs", "RAM", "flash", "description"), rows,
                         numeric=("RAM", "flash"))
    return {"boards": boards}, human + "\n(* = the target's default board; memory from mnv3c/boards/registry.py)"


def _board(b: Board) -> dict[str, Any]:
    return {
        "name": b.name,
        "target": b.target,
        "default": _is_default(b),
        "runs": "under QEMU" if b.emulated else "natively" if b.arch == "host" else "build only (real hardware)",
        "ram_bytes": b.ram_size,
        "flash_bytes": b.flash_size,
        "regions": [{"name": r.name, "kind": r.kind, "origin": r.origin, "length": r.length} for r in b.regions],
        "description": b.description,
    }


def _is_default(b: Board) -> bool:
    try:
        return default_board(b.target).name == b.name
    except MnvError:
        return False


def _kib(n: int) -> str:
    return f"{n // 1024:,} KiB" if n else "-"
