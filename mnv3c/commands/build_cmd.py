"""`mnv3c build`: build OUTDIR with the target's toolchain; report flash and RAM of the image."""

from __future__ import annotations

import argparse
from typing import Any

from mnv3c.compiler import build_project


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    report, image = build_project(args.outdir)
    if report["flash_bytes"] is None:
        human = f"wrote the ESP-IDF project {image}: build it with `idf.py build` (see its README.md)"
    else:
        human = f"built {image}: flash {report['flash_bytes']:,} B, RAM {report['ram_bytes']:,} B"
    return report, human
