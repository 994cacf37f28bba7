"""One module per `mnv3c` command; `dispatch` routes parsed arguments to it.

Each command returns (result dict for --json, human-readable text).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from mnv3c.commands.prechecks import precheck

_MODULES = {
    "inspect": "inspect_cmd",
    "compile": "compile_cmd",
    "build": "build_cmd",
    "run": "run_cmd",
    "eval": "eval_cmd",
    "flash": "flash_cmd",
    "demo": "demo_cmd",
    "boards": "boards_cmd",
    "report": "report_cmd",
    "calib": "calib_cmd",
}


def dispatch(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    precheck(args)
    module = importlib.import_module(f"mnv3c.commands.{_MODULES[args.command]}")
    return module.run(args)
