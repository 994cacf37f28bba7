"""Text tables of the human output (inspect, eval --per-layer, boards), rendered with rich.

Cells are never cut: on a terminal a long layer name wraps inside its column; elsewhere (pipes,
logs, files) the table is as wide as its content, so every name is printed whole.
"""

from __future__ import annotations

import io
import sys
from typing import Sequence

from rich.console import Console
from rich.table import Table

_NO_LIMIT = 10_000  # columns: wide enough for any content, the table takes only what it needs


def render_table(columns: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None,
                 numeric: Sequence[str] = ()) -> str:
    """The table as text, for stdout; ``numeric`` columns are right-aligned."""
    table = Table(title=title, box=None, pad_edge=False, header_style="bold", title_justify="left")
    for c in columns:
        table.add_column(c, justify="right" if c in numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    tty = sys.stdout.isatty()
    buffer = io.StringIO()
    console = Console(file=buffer, width=None if tty else _NO_LIMIT, force_terminal=tty,
                      color_system="auto" if tty else None, highlight=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
