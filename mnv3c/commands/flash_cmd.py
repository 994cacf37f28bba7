"""`mnv3c flash`: program a real board with OUTDIR's image (or print the commands)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mnv3c.boards.flash import flash


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    result = flash(Path(args.outdir), args.board, args.dry_run)
    return result, "\n".join(result["commands"])
